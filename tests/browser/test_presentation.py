"""Classroom mode: Voila serves the explorers as one page, code hidden."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import jupyter_browser as lab
import pytest

PRESENTATION = "presentation/explorers.ipynb"


@pytest.fixture(scope="module")
def voila_url(notebook_copy: Path, artifacts: Path):
    with lab.voila_server(notebook_copy / PRESENTATION, artifacts) as url:
        yield url


def test_voila_page_shows_the_explorers_without_code(voila_url):
    with urllib.request.urlopen(voila_url, timeout=120) as response:
        assert response.status == 200
        page = response.read().decode("utf-8")

    assert "Softmax and sampling, live" in page  # the markdown is there
    assert page.count("application/vnd.jupyter.widget-view+json") == 3
    sources = ("from softsample_helpers", "softmax_explorer(", "sampling_explorer(")
    for source in sources:
        assert source not in page, f"code is shown: {source!r}"
    for trouble in ("Traceback", "application/vnd.jupyter.stderr"):
        assert trouble not in page


def test_voila_page_renders_live_widgets(voila_url, browser, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(voila_url, timeout=120_000)
        explorers = page.locator(".softsample-explorer")
        explorers.nth(2).wait_for(timeout=120_000)
        assert explorers.count() == 3
        shown = page.inner_text("body")
        for marker in lab.WIDGET_REPR_MARKERS:
            assert marker not in shown
        assert "softmax_explorer(" not in shown  # code stays hidden
        assert page.locator(".jp-CodeMirrorEditor, .cm-editor").count() == 0

        for i in range(3):
            handle = explorers.nth(i).locator(".noUi-handle").first
            handle.scroll_into_view_if_needed()
            milliseconds = lab.press_and_time(
                page, handle.element_handle(), "ArrowRight"
            )
            assert milliseconds > 0
        shot = artifacts / "screenshots" / "presentation-voila.png"
        page.screenshot(path=shot, full_page=True)
    finally:
        context.close()
