"""Real servers for tests: the app under Hypercorn in its own process (or, for a test that
traces the server's memory, in a thread of the test's), on a free port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from hypercorn.asyncio import serve

from server.app import create_app
from server.config import load_settings
from server.serving import hypercorn_config

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


@contextmanager
def serving_here(workdir: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """The app under Hypercorn, configured as `main.py` serves it, in a thread of this process
    (whose memory the test can trace); its port."""
    port = free_port()
    settings_env = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATA_DIR": str(workdir / "data"),
        "UPLOAD_DIR": str(workdir / "uploads"),
        "SAMPLES": "off",  # no posters or switches meanwhile: a quiet server
        **(env or {}),
    }
    settings = load_settings(settings_env, env_file=None)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    running = serve(create_app(settings), hypercorn_config(settings), shutdown_trigger=stop.wait)
    thread = threading.Thread(target=loop.run_until_complete, args=(running,), daemon=True)
    thread.start()
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", 30)
        yield port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


# What Chromium sends with a page's EventSource: a browser's request carries ~15 headers where a
# bench's raw socket sends one.
CHROMIUM_HEADERS = (
    b"Connection: keep-alive\r\n"
    b'sec-ch-ua: "Chromium";v="131", "Not_A Brand";v="24"\r\n'
    b"Accept: text/event-stream\r\n"
    b"Cache-Control: no-cache\r\n"
    b"sec-ch-ua-mobile: ?0\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/131.0.0.0 Safari/537.36\r\n"
    b'sec-ch-ua-platform: "Linux"\r\n'
    b"Sec-Fetch-Site: same-origin\r\n"
    b"Sec-Fetch-Mode: cors\r\n"
    b"Sec-Fetch-Dest: empty\r\n"
    b"Referer: http://simulcast/\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\n"
    b"Cookie: simulcast_viewer=4f1c2e8a9b7d4c3e8f6a5b4c3d2e1f0a\r\n"
)


def sse_viewers(port: int, count: int, headers: bytes = b"") -> list[socket.socket]:
    """`count` viewers of `/video-updates` on raw sockets, each once its first event is in; their
    requests have Host and `headers`."""
    viewers = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /video-updates HTTP/1.1\r\nHost: simulcast\r\n" + headers + b"\r\n")
        received = b""
        while b"\n\n" not in received.partition(b"\r\n\r\n")[2]:
            received += sock.recv(65536)
        viewers.append(sock)
    return viewers


def close_viewers(port: int, viewers: list[socket.socket]) -> None:
    """Close the viewers' sockets and wait until the server has let go of every viewer."""
    for sock in viewers:
        sock.close()
    url = f"http://127.0.0.1:{port}/healthz"
    poll(lambda: httpx.get(url).json()["connections"] == 0, 10, "every viewer gone")
