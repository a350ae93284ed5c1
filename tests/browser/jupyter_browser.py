"""Drive JupyterLab and Voila in Debian's headless Chromium.

Used by the browser tests and by ``benchmarks/explorers.py``. Servers bind
to 127.0.0.1 on a free port, JupyterLab with a random token; each runs on a
temporary copy of the notebooks so the stored ones are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("SOFTSAMPLE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Text that means a widget was shown as its Python repr, not rendered.
WIDGET_REPR_MARKERS = (
    "VBox(children=",
    "HBox(children=",
    "FloatSlider(value=",
    "IntSlider(value=",
    "Explorer(categories=",
    "Error displaying widget",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Poll ``url`` until it answers, failing early if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers, even if not with 200
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"no answer from {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """Stop a server we started (its own process group) and wait for it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def copy_notebooks(destination: Path) -> Path:
    """Copy ``notebooks/`` so that running them cannot change the stored files."""
    target = destination / "notebooks"
    shutil.copytree(
        NOTEBOOKS, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
    )
    return target


def _lab_settings(settings_dir: Path) -> None:
    """Settings for a test run of JupyterLab.

    No news or update pop-ups that could cover what the tests click, and
    every cell rendered all the time: by default JupyterLab skips rendering
    cells outside the window, and their widgets count as invisible.
    """
    settings = {
        "apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        "notebook-extension/tracker": {"windowingMode": "none"},
    }
    for name, values in settings.items():
        path = settings_dir / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    log: Path

    def notebook_url(self, relative: str) -> str:
        # reset: open only this notebook, not the tabs of the previous test
        return f"{self.url}/lab/tree/{relative}?token={self.token}&reset"

    def _api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """End every session, so that kernels of earlier tests use no CPU."""
        sessions = self._api("sessions")
        assert isinstance(sessions, list)
        for session in sessions:
            self._api(f"sessions/{session['id']}", method="DELETE")


@contextlib.contextmanager
def lab_server(root: Path, log_dir: Path) -> Iterator[LabServer]:
    """Run JupyterLab on ``root`` until the block ends."""
    port, token = free_port(), secrets.token_hex(16)
    home = Path(tempfile.mkdtemp(prefix="softsample-lab-home-"))
    _lab_settings(home / "settings")
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # no extension look-ups on PyPI
        "--ServerApp.terminals_enabled=False",
    ]  # fmt: skip
    if os.geteuid() == 0:  # CI containers often run as root
        command.append("--allow-root")
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/api/status?token={token}", process, timeout=90)
        yield LabServer(url=url, token=token, root=root, log=log)
    finally:
        stop(process)
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def voila_server(notebook: Path, log_dir: Path) -> Iterator[str]:
    """Serve one notebook with Voila (code hidden) until the block ends."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "voila.log"
    voila = Path(sys.executable).with_name("voila")
    command = [
        str(voila), "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
        str(notebook),
    ]  # fmt: skip
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=notebook.parent, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, process, timeout=90)
        yield url
    finally:
        stop(process)


# In the page ----------------------------------------------------------------

#: True once every code cell has run (or one failed, which stops "run all")
#: and the kernel is idle again.
_ALL_CELLS_DONE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  const cells = Array.from(panel.content.model.cells).filter(c => c.type === 'code');
  const failed = cells.some(
    c => c.outputs.toJSON().some(o => o.output_type === 'error'));
  return failed || cells.every(c => c.executionCount !== null);
}"""

#: Every output of every code cell, as saved in an .ipynb file.
_OUTPUTS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return Array.from(panel.content.model.cells)
    .filter(c => c.type === 'code')
    .map(c => c.outputs.toJSON());
}"""


def open_and_run(page, server: LabServer, relative: str, timeout_s: float) -> None:
    """Open a notebook, wait for its kernel, run all cells, wait until done."""
    page.goto(server.notebook_url(relative))
    page.wait_for_function(
        """() => { const a = window.jupyterapp; const p = a && a.shell.currentWidget;
          return p && p.sessionContext && p.sessionContext.session
            && p.sessionContext.session.kernel
            && p.sessionContext.session.kernel.status === 'idle'; }""",
        timeout=120_000,
    )
    # Clearing first resets the execution counts the stored notebook has, so
    # "every cell has a count" means "every cell has run now".
    page.evaluate(
        """async () => {
          const commands = window.jupyterapp.commands;
          await commands.execute('notebook:clear-all-cell-outputs');
          commands.execute('notebook:run-all-cells');
        }"""
    )
    page.wait_for_timeout(500)
    page.wait_for_function(_ALL_CELLS_DONE, timeout=timeout_s * 1000, polling=250)
    page.wait_for_timeout(1000)  # widget views render after the kernel is idle


def cell_outputs(page) -> list[list[dict]]:
    return page.evaluate(_OUTPUTS)


#: Press a key on a slider handle; resolve with the ms until its figure changed
#: and the new image was decoded and painted.
_INSTALL_LATENCY_PROBE = """(handle) => {
  const area = handle.closest('.jp-OutputArea-output, .jp-OutputArea-child, body');
  const img = area.querySelector('img');
  if (!img) return false;
  const old = img.src;
  window.__figureLatency = new Promise((resolve, reject) => {
    let start = null;
    const onKey = () => { start = performance.now(); };
    handle.addEventListener('keydown', onKey, {capture: true, once: true});
    const observer = new MutationObserver(async () => {
      if (img.src === old || start === null) return;
      observer.disconnect();
      try { await img.decode(); } catch (e) { /* a revoked blob: next one */ }
      requestAnimationFrame(() => resolve(performance.now() - start));
    });
    observer.observe(img, {attributes: true, attributeFilter: ['src']});
    setTimeout(() => reject(new Error('figure did not change within 5 s')), 5000);
  });
  return true;
}"""


def press_and_time(page, handle, key: str) -> float:
    """Press ``key`` on a slider handle; ms from the key to the new figure."""
    if not page.evaluate(_INSTALL_LATENCY_PROBE, handle):
        raise AssertionError("the slider's output has no figure (img) to watch")
    handle.press(key)
    return float(page.evaluate("() => window.__figureLatency"))


#: The text a widget shows outside its sliders (HTML readouts, printed output).
_SHOWN_TEXT = """(view) => Array.from(view.querySelectorAll(
    '.widget-html-content, .jp-RenderedText, .widget-textarea, .widget-text input'))
  .map(e => e.innerText || e.value).join('\\n')"""


def press_and_see_change(page, view, handle) -> str:
    """Press an arrow on a slider and wait until its widget shows something new.

    With a figure (an ``img``) in the widget, that is a new figure; without
    one, new text. Right arrow first; if that changes nothing (the slider
    may sit at its maximum), left arrow. Returns what changed.
    """
    has_figure = view.locator("img").count() > 0
    for key in ("ArrowRight", "ArrowLeft"):
        if has_figure:
            try:
                press_and_time(page, handle, key)
                return "figure"
            except Exception as error:  # playwright wraps the page's rejection
                if "did not change" not in str(error):
                    raise
                continue
        before = view.evaluate(_SHOWN_TEXT)
        handle.press(key)
        try:
            page.wait_for_function(
                f"([view, before]) => ({_SHOWN_TEXT})(view) !== before",
                arg=[view.element_handle(), before],
                timeout=5000,
            )
            return "text"
        except Exception as error:
            if "Timeout" not in str(error):
                raise
    raise AssertionError("moving the slider either way changed nothing shown")


def keypress_latencies(page, handle, presses: int = 20) -> list[float]:
    """Alternate right and left arrows so the slider stays where it was."""
    times = []
    for i in range(presses):
        times.append(
            press_and_time(page, handle, "ArrowRight" if i % 2 == 0 else "ArrowLeft")
        )
        page.wait_for_timeout(50)
    return times


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )


def summarise(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms "
        f"over {len(times)} key presses"
    )


# The latency probe: the three explorers, sampling at 10,000 samples ------------

PROBE_CELLS = (
    "from softsample_helpers import softmax_explorer\nsoftmax_explorer()",
    "from softsample_helpers import extreme_logits_explorer\nextreme_logits_explorer()",
    "from softsample_helpers import sampling_explorer\n"
    "sampling_explorer(num_samples=10_000)",
)
PROBE_NAMES = ("softmax_explorer", "extreme_logits_explorer", "sampling_explorer")


def write_latency_probe(root: Path) -> Path:
    """A notebook showing each explorer once, written into the served folder."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source,
        }
        for source in PROBE_CELLS
    ]
    kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": kernelspec},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = root / "_latency_probe.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def measure_latencies(page, server: LabServer, presses: int = 20) -> dict:
    """Key press to new figure on screen, in ms, for each explorer."""
    probe = write_latency_probe(server.root)
    open_and_run(page, server, probe.name, timeout_s=120)
    explorers = page.locator(".softsample-explorer")
    if explorers.count() != len(PROBE_NAMES):
        raise AssertionError(
            f"expected {len(PROBE_NAMES)} explorers on the probe page, "
            f"found {explorers.count()}"
        )
    results = {}
    for i, name in enumerate(PROBE_NAMES):
        handle = explorers.nth(i).locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        press_and_time(page, handle.element_handle(), "ArrowRight")  # warm-up
        results[name] = keypress_latencies(page, handle.element_handle(), presses)
    return results
