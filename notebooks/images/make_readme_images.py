"""Make the README's two screenshots: an explorer in JupyterLab, a histogram.

Run from the course folder, in the pinned environment, with Chromium at
/usr/bin/chromium (Debian's package; Playwright drives it):

    .venv/bin/python notebooks/images/make_readme_images.py

JupyterLab is started on 127.0.0.1 in a temporary folder, with no token,
and stopped at the end.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import matplotlib
import nbformat
import torch

matplotlib.use("Agg")

from playwright.sync_api import Locator, Page, sync_playwright  # noqa: E402

from softsample_helpers import empirical_frequencies  # noqa: E402
from softsample_helpers.plots import plot_frequencies, use_course_style  # noqa: E402

HERE = Path(__file__).resolve().parent
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LABELS = ["mat", "sofa", "roof", "moon", "tree"]
LOGITS = [3.0, 2.0, 0.5, -1.0, 1.0]


def histogram(path: Path) -> None:
    """Frequencies of 500 draws against the probabilities, with intervals."""
    use_course_style()
    probs = torch.softmax(torch.tensor(LOGITS), dim=-1)
    generator = torch.Generator().manual_seed(0)
    samples = torch.multinomial(probs, 500, replacement=True, generator=generator)
    frequencies = empirical_frequencies(samples, len(LABELS))
    ax = plot_frequencies(
        probs,
        frequencies,
        num_samples=500,
        labels=LABELS,
        title="500 samples against the probabilities",
    )
    figure = ax.get_figure(root=True)
    assert figure is not None
    figure.savefig(path, dpi=80, bbox_inches="tight")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def save_png(page: Page, element: Locator, path: Path) -> None:
    """Save a PNG of ``element`` as it is on screen.

    Through the DevTools protocol: Playwright's own element screenshot
    waits for web fonts, which never settle in JupyterLab under Debian's
    headless Chromium.
    """
    box = element.bounding_box()
    assert box is not None, "the element to capture is not visible"
    session = page.context.new_cdp_session(page)
    shot = session.send(
        "Page.captureScreenshot",
        {"format": "png", "clip": {**box, "scale": 1}},
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def explorer(path: Path) -> None:
    """Screenshot the sampling explorer's cell in a running JupyterLab."""
    with tempfile.TemporaryDirectory() as folder:
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [
            nbformat.v4.new_code_cell(
                "from softsample_helpers import sampling_explorer\n\n"
                f"labels = {LABELS}\n"
                f"sampling_explorer({LOGITS}, labels=labels)"
            )
        ]
        # Without a kernelspec JupyterLab asks which kernel to start.
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nbformat.write(notebook, Path(folder) / "explorer.ipynb")

        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--IdentityProvider.token=",
                "--allow-root",
                "--LabApp.expose_app_in_browser=True",
                f"--ServerApp.root_dir={folder}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/lab/tree/explorer.ipynb"
            for _ in range(120):
                if server.poll() is not None:
                    raise RuntimeError("JupyterLab exited; run it by hand to see why")
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS
                )
                page = browser.new_page(viewport={"width": 1000, "height": 1000})
                page.goto(url)
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
                # Run only once the notebook's kernel has started.
                page.wait_for_function(
                    "() => window.jupyterapp.shell.currentWidget?.sessionContext"
                    "?.session?.kernel?.status === 'idle'",
                    timeout=60_000,
                )
                # The file browser would narrow the notebook.
                page.evaluate("window.jupyterapp.shell.collapseLeft()")
                page.evaluate(
                    "window.jupyterapp.commands.execute('notebook:run-all-cells')"
                )
                page.locator(".jp-OutputArea-output .widget-image").first.wait_for(
                    timeout=60_000
                )
                # JupyterLab's "notified about news?" toast would cover the figure.
                page.add_style_tag(content=".Toastify { display: none !important; }")
                page.wait_for_timeout(1500)
                save_png(page, page.locator(".jp-Cell").first, path)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    histogram(HERE / "readme_histogram.png")
    explorer(HERE / "readme_explorer.png")


if __name__ == "__main__":
    main()
