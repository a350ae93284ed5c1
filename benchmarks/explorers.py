"""How fast the explorers answer a slider, in a real kernel and in the browser.

Two figures, the sampling explorer drawing 10,000 samples per move:

1. Kernel: from sending a slider's new value to an IPython kernel (a
   ``comm_msg``, exactly what JupyterLab sends) until the kernel reports
   idle for that message, which it does after sending the new PNG of the
   figure. Sliders are moved in small steps across a good part of their
   range, so the occasional full redraw (the y axis rescaling) is counted.
   Goal: median at most 50 ms, 95th percentile at most 100 ms.
2. Browser: JupyterLab in headless Chromium, from a key press on a slider to
   the new figure decoded and painted. Goal: median at most 100 ms. Skipped
   with a note when Chromium is missing (``--no-browser`` skips it on
   purpose).

Run it with ``make bench`` or ``.venv/bin/python benchmarks/explorers.py``.
It exits with status 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import KernelManager

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import jupyter_browser  # noqa: E402

KERNEL_GOAL_MEDIAN_MS, KERNEL_GOAL_P95_MS = 50.0, 100.0
BROWSER_GOAL_MEDIAN_MS = 100.0

SETUP = """
import json
from softsample_helpers import (
    decoding_explorer, extreme_logits_explorer, sampling_explorer, softmax_explorer)
bench = {
    "softmax_explorer": softmax_explorer(),
    "extreme_logits_explorer": extreme_logits_explorer(),
    "sampling_explorer": sampling_explorer(num_samples=10_000),
    "decoding_explorer": decoding_explorer(),
}
"""
#: For each explorer: the two sliders moved, as Python expressions.
SLIDERS = {
    "softmax_explorer": ("logit_sliders[0]", "temperature_slider"),
    "extreme_logits_explorer": ("logit_slider", "shift_slider"),
    "sampling_explorer": ("logit_sliders[0]", "temperature_slider"),
    "decoding_explorer": ("temperature_slider", "top_p_slider"),
}


def slider_path(start: float, stop: float, steps: int) -> list[float]:
    """A drag from ``start`` to ``stop`` and back, in equal steps."""
    forward = [start + (stop - start) * i / steps for i in range(steps + 1)]
    return forward + forward[-2::-1]


#: The values each slider takes: small steps, like arrow keys or a drag,
#: across enough of the range to make the y axis rescale now and then.
PATHS = {
    "logit_sliders[0]": slider_path(2.0, 8.0, 15),
    "temperature_slider": [10**e for e in slider_path(0.0, -1.0, 15)],
    "logit_slider": slider_path(3.0, 1000.0, 15),
    "shift_slider": slider_path(0.0, -1000.0, 15),
    "top_p_slider": slider_path(1.0, 0.5, 15),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


class KernelBench:
    """One IPython kernel holding the three explorers."""

    def __init__(self) -> None:
        self._sockets = tempfile.TemporaryDirectory(prefix="softsample-kernel-")
        # Local IPC sockets: what a kernel beside JupyterLab could use, and
        # no warning about unencrypted TCP.
        self.manager = KernelManager(
            kernel_name="python3", transport="ipc",
            ip=str(Path(self._sockets.name) / "kernel"),
        )  # fmt: skip
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self._execute(SETUP)
        self._execute(
            "ids = {name: {path: eval(f'bench[{name!r}].{path}').model_id "
            "for path in paths} for name, paths in " + repr(SLIDERS) + ".items()}"
        )
        self.ids = json.loads(ast.literal_eval(self._evaluate("json.dumps(ids)")))

    def _execute(self, code: str, expressions: dict | None = None) -> dict:
        reply = self.client.execute_interactive(
            code, user_expressions=expressions or {}, timeout=120,
            output_hook=lambda message: None,
        )  # fmt: skip
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel error: {reply['content']}")
        return reply["content"]

    def _evaluate(self, expression: str) -> str:
        content = self._execute("", {"value": expression})
        result = content["user_expressions"]["value"]
        if result["status"] != "ok":
            raise RuntimeError(f"kernel error: {result}")
        return result["data"]["text/plain"]

    def move(self, slider_id: str, value: float) -> float:
        """Send a slider value; ms until the kernel has sent the new figure.

        The kernel reports "idle" for a message after every reply to it, so
        that moment includes the image update. (When a tiny move leaves the
        picture pixel for pixel the same, no image is sent at all.)
        """
        message = self.client.session.msg(
            "comm_msg",
            {
                "comm_id": slider_id,
                "data": {
                    "method": "update",
                    "state": {"value": value},
                    "buffer_paths": [],
                },
            },
        )
        start = time.perf_counter()
        self.client.shell_channel.send(message)
        while True:
            reply = self.client.get_iopub_msg(timeout=30)
            if (
                reply["msg_type"] == "status"
                and reply["parent_header"].get("msg_id") == message["header"]["msg_id"]
                and reply["content"]["execution_state"] == "idle"
            ):
                return (time.perf_counter() - start) * 1000

    def error_shown(self, name: str) -> str:
        return ast.literal_eval(self._evaluate(f"bench[{name!r}].message.value"))

    def measure(self, name: str) -> list[float]:
        ids = self.ids[name]
        times = []
        for path in SLIDERS[name]:
            values = PATHS[path]
            self.move(ids[path], values[1])  # warm-up
            for value in values:
                times.append(self.move(ids[path], value))
        if self.error_shown(name):
            raise RuntimeError(f"{name} showed an error: {self.error_shown(name)}")
        return times

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self._sockets.cleanup()


def kernel_figures() -> bool:
    print("Kernel: slider value in (comm_msg) -> new figure sent out")
    bench = KernelBench()
    ok = True
    try:
        for name in SLIDERS:
            times = bench.measure(name)
            median, p95 = statistics.median(times), percentile(times, 0.95)
            passed = median <= KERNEL_GOAL_MEDIAN_MS and p95 <= KERNEL_GOAL_P95_MS
            ok &= passed
            print(
                f"  {name:24s} median {median:5.1f} ms  p95 {p95:5.1f} ms  "
                f"({len(times)} moves) {'ok' if passed else 'MISSED'}"
            )
    finally:
        bench.close()
    print(
        f"  goal: median <= {KERNEL_GOAL_MEDIAN_MS:.0f} ms, "
        f"p95 <= {KERNEL_GOAL_P95_MS:.0f} ms"
    )
    return ok


def browser_figures() -> bool | None:
    print("Browser: key press on a slider -> new figure on screen (JupyterLab)")
    if not jupyter_browser.CHROMIUM.exists():
        print(f"  skipped: no Chromium at {jupyter_browser.CHROMIUM}")
        return None
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="softsample-bench-") as tmp:
        root = Path(tmp)
        logs = jupyter_browser.ARTIFACTS
        with jupyter_browser.lab_server(root, logs) as server, sync_playwright() as p:
            browser = jupyter_browser.launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            results = jupyter_browser.measure_latencies(page, server, presses=20)
            browser.close()
    ok = True
    for name, times in results.items():
        median = statistics.median(times)
        passed = median <= BROWSER_GOAL_MEDIAN_MS
        ok &= passed
        print(
            f"  {name:24s} {jupyter_browser.summarise(times)} "
            f"{'ok' if passed else 'MISSED'}"
        )
    print(f"  goal: median <= {BROWSER_GOAL_MEDIAN_MS:.0f} ms")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--no-browser", action="store_true", help="measure in the kernel only"
    )
    args = parser.parse_args()
    ok = kernel_figures()
    if not args.no_browser:
        ok &= browser_figures() is not False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
