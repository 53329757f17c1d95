"""Real servers for tests: the app under Hypercorn in its own process, on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


# A device whose wall clock is wrong: Date and performance.timeOrigin are shifted by SKEW ms.
SKEW = r"""
(() => {
  const skew = %r;
  const RealDate = Date;
  const origin = performance.timeOrigin;
  class SkewedDate extends RealDate {
    constructor(...args) { if (args.length) super(...args); else super(RealDate.now() + skew); }
    static now() { return RealDate.now() + skew; }
  }
  window.Date = SkewedDate;
  Object.defineProperty(Performance.prototype, "timeOrigin", { get: () => origin + skew });
})();
"""


def skew_script(skew_ms: float) -> str:
    """An init script for a page whose device clock is `skew_ms` off."""
    return SKEW % skew_ms


def stop_process(process: subprocess.Popen[bytes] | None, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not gone after `grace` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    url: str, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class LiveServer:
    """`python main.py` with its own data and upload folders, started and stopped by tests."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None, port: int = 0) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = workdir / "data"
        self.upload_dir = workdir / "uploads"
        self.log_path = workdir / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(self.data_dir),
            "UPLOAD_DIR": str(self.upload_dir),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> LiveServer:
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        wait_for(self.url + "/healthz", timeout, self.process)
        return self

    def posters_made(self, timeout: float = 60.0) -> LiveServer:
        """Wait for the posters made in the background after a start: each lands in the store
        as a catalog change, which a test counting writes or events must not take for its own."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            videos = httpx.get(self.url + "/videos").json()["videos"]
            if all(video["poster"] for video in videos):
                return self
            time.sleep(0.2)
        raise TimeoutError(f"posters not made within {timeout} s")

    def stop(self) -> None:
        stop_process(self.process)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def poll(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """check() until it gives something true (returned), or fail saying `what` is missing."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what} within {timeout} s; last: {last!r}")
