"""Fixtures of the browser tests: Chromium, a JupyterLab server, a page.

Without Chromium the tests are skipped with the reason; in CI (``CI=true``)
a missing Chromium fails them instead, so a skip cannot pass for a success.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import jupyter_browser as lab
import pytest


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None if they can."""
    if not lab.CHROMIUM.exists():
        return (
            f"Chromium not found at {lab.CHROMIUM}; install it with "
            f"'apt-get install chromium' (or set SOFTSAMPLE_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed; run make test to install the pinned set"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    reason = _missing_browser()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot be skipped in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    (lab.ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    return lab.ARTIFACTS


@pytest.fixture(scope="session")
def notebook_copy() -> Path:
    with tempfile.TemporaryDirectory(prefix="softsample-notebooks-") as tmp:
        yield lab.copy_notebooks(Path(tmp))


@pytest.fixture(scope="session")
def lab_server(notebook_copy: Path, artifacts: Path):
    with lab.lab_server(notebook_copy, artifacts) as server:
        yield server


@pytest.fixture(scope="session")
def browser(_browser_available):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = lab.launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, lab_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()
    lab_server.shut_down_kernels()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print the key-press latency measured in this run, if it was."""
    results = getattr(config, "_softsample_latency", None)
    if not results:
        return
    terminalreporter.section("key press to new figure in JupyterLab")
    for name, times in results.items():
        terminalreporter.write_line(f"{name}: {lab.summarise(times)}")
