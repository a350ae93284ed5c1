"""Every notebook, run in JupyterLab in Chromium, as a learner would see it."""

from __future__ import annotations

import json
import re
import statistics

import jupyter_browser as lab
import pytest

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

NOTEBOOK_PATHS = sorted(
    path.relative_to(lab.NOTEBOOKS).as_posix()
    for path in lab.NOTEBOOKS.rglob("*.ipynb")
    if ".ipynb_checkpoints" not in path.parts
)


def uses_widgets(outputs: list[list[dict]]) -> int:
    return sum(
        WIDGET_VIEW in output.get("data", {}) for cell in outputs for output in cell
    )


def problems_in(outputs: list[list[dict]]) -> list[str]:
    """Error and stderr outputs, described cell by cell."""
    found = []
    for index, cell in enumerate(outputs):
        for output in cell:
            if output["output_type"] == "error":
                found.append(
                    f"code cell {index}: {output['ename']}: {output['evalue']}"
                )
            elif output["output_type"] == "stream" and output["name"] == "stderr":
                text = "".join(output["text"])
                found.append(f"code cell {index} wrote to stderr: {text[:300]}")
    return found


def screenshot_name(relative: str, suffix: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", relative.removesuffix(".ipynb")) + suffix


@pytest.mark.parametrize("relative", NOTEBOOK_PATHS)
def test_notebook_runs_and_its_widgets_work(relative, lab_server, page, artifacts):
    shots = artifacts / "screenshots"
    lab.open_and_run(page, lab_server, relative, timeout_s=300)
    page.screenshot(path=shots / screenshot_name(relative, ".png"), full_page=True)

    outputs = lab.cell_outputs(page)
    assert problems_in(outputs) == []
    stderr_nodes = page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    )
    assert stderr_nodes.count() == 0, stderr_nodes.first.inner_text()

    shown_text = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    for marker in lab.WIDGET_REPR_MARKERS:
        assert marker not in shown_text, f"a widget was shown as text: {marker}"

    widget_outputs = uses_widgets(outputs)
    if not widget_outputs:
        return
    # A widget view is a panel holding the widget's DOM (no mime-type mark);
    # Output widgets nest output areas, hence "at least".
    views = page.locator(".jp-OutputArea-output:has(.jupyter-widgets)")
    assert views.count() >= widget_outputs, "a widget output did not render"
    assert page.locator(".jp-OutputArea-output .noUi-handle").count() > 0

    # Moving a slider must change what its widget shows: the figure if it
    # has one, otherwise its text.
    with_sliders = [
        views.nth(i)
        for i in range(views.count())
        if views.nth(i).locator(".noUi-handle").count()
    ]
    assert with_sliders, "widgets are shown but none has a slider to move"
    changed = []
    for number, view in enumerate(with_sliders):
        handle = view.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        changed.append(lab.press_and_see_change(page, view, handle.element_handle()))
        # The notebook scrolls inside the page, so each widget gets its own shot.
        view.screenshot(path=shots / screenshot_name(relative, f"-widget-{number}.png"))
    explorers = page.locator(".softsample-explorer").count()
    assert changed.count("figure") >= explorers, "an explorer's figure did not change"
    page.screenshot(
        path=shots / screenshot_name(relative, "-after-slider.png"), full_page=True
    )


def test_key_press_to_new_figure_latency(lab_server, page, artifacts, pytestconfig):
    """Record (not assert) how long a key press takes to show a new figure."""
    results = lab.measure_latencies(page, lab_server, presses=20)
    pytestconfig._softsample_latency = results  # printed in the summary
    shot = artifacts / "screenshots" / "latency-probe.png"
    page.screenshot(path=shot, full_page=True)
    for times in results.values():
        assert all(t > 0 for t in times)
    everything = [t for times in results.values() for t in times]
    summary = {**results, "all_median_ms": statistics.median(everything)}
    (artifacts / "browser-latency.json").write_text(json.dumps(summary, indent=1))
