"""`make lab`, the first command of the README, serves JupyterLab on loopback."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=[0-9a-f]+")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, until: float) -> str:
    """GET ``url``, retrying while the server is still starting."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.status == 200
                return response.read().decode()
        except urllib.error.URLError as error:
            # The URL is printed a moment before the port accepts connections.
            if not isinstance(error.reason, ConnectionRefusedError):
                raise
            if time.monotonic() > until:
                raise
            time.sleep(0.5)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_jupyterlab_on_loopback():
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"BROWSER": "true"},  # no browser window in a test
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        url = None
        seen = []
        assert process.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = URL.search(line)
            url = match.group(0) if match else None
        assert url, "make lab printed no URL:\n" + "".join(seen[-20:])
        assert f":{port}/" in url

        page = fetch(url, until=deadline)
        assert "<title>JupyterLab" in page

        # The lesson it opens on exists.
        assert "notebooks/00_start_here.ipynb" in "".join(seen)
        assert (ROOT / "notebooks" / "00_start_here.ipynb").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
