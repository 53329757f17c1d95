"""Uploads that go wrong on purpose or by bad luck leave nothing on disk: a client that resets
the connection, closes early, promises more than it sends and stalls; parts left by a killed
process are swept; a full disk is a 507. Raw sockets, so the server sees exactly that."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from .live import LiveServer

BOUNDARY = "b0undary"


def parts(live: LiveServer) -> list[Path]:
    incoming = live.data_dir / "incoming"
    return sorted(incoming.glob("*.part")) if incoming.is_dir() else []


def until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def open_upload(live: LiveServer, declared: int, sent: int) -> socket.socket:
    """An upload that declares `declared` bytes of body and has sent `sent` of its file."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="video"; filename="a.webm"\r\n'
        "Content-Type: video/webm\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", live.port))
    sock.sendall(
        (
            "POST /uploads HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        ).encode()
        + head
    )
    chunk = os.urandom(64 * 1024)
    for _ in range(sent // len(chunk)):
        sock.sendall(chunk)
    return sock


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("abuse"), {"UPLOAD_IDLE_TIMEOUT": "2"}) as server:
        yield server


def test_a_reset_connection_leaves_nothing(live: LiveServer) -> None:
    socks = [open_upload(live, 50 << 20, 1 << 20) for _ in range(5)]
    assert until(lambda: len(parts(live)) == 5, 10), "the uploads never started"
    for sock in socks:  # RST instead of FIN: SO_LINGER with a zero timeout
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert until(lambda: parts(live) == [], 1.5), parts(live)


def test_an_early_close_leaves_nothing(live: LiveServer) -> None:
    sock = open_upload(live, 50 << 20, 1 << 20)
    assert until(lambda: len(parts(live)) == 1, 10)
    sock.shutdown(socket.SHUT_WR)
    sock.close()
    assert until(lambda: parts(live) == [], 1.5), parts(live)


def test_a_stalled_upload_times_out_with_a_clear_answer(live: LiveServer) -> None:
    sock = open_upload(live, 50 << 20, 1 << 20)  # promises 50 MB, sends 1 and waits
    try:
        assert until(lambda: len(parts(live)) == 1, 10)
        sock.settimeout(15)
        received = b""
        while b'"}' not in received:  # headers and the JSON body may come in separate reads
            if not (more := sock.recv(65536)):
                break
            received += more
        answer = received.decode(errors="replace")
    finally:
        sock.close()
    assert answer.startswith("HTTP/1.1 408"), answer[:200]
    assert "stalled" in answer
    assert parts(live) == []


def test_parts_left_by_a_killed_server_are_swept(tmp_path: Path) -> None:
    workdir = tmp_path / "killed"
    first = LiveServer(workdir, {"UPLOAD_IDLE_TIMEOUT": "1"}).start()
    sock = open_upload(first, 50 << 20, 1 << 20)
    try:
        assert until(lambda: len(parts(first)) == 1, 10)
        first.kill()  # SIGKILL: no cleanup runs
    finally:
        sock.close()
    assert len(parts(first)) == 1
    with LiveServer(workdir, {"UPLOAD_IDLE_TIMEOUT": "1"}) as again:
        assert until(lambda: parts(again) == [], 10), parts(again)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_a_507_and_frees_what_it_took(small_disk: Path, tmp_path: Path) -> None:
    env = {"DATA_DIR": str(small_disk / "data")}
    with LiveServer(tmp_path / "full", env) as live:
        live.data_dir = small_disk / "data"
        files = {"video": ("big.webm", os.urandom(8 << 20), "video/webm")}
        answer = httpx.post(live.url + "/uploads", files=files, timeout=60)
        assert answer.status_code == 507, answer.text
        assert "disk is full" in answer.json()["error"]
        assert parts(live) == []
        assert httpx.get(live.url + "/healthz").status_code == 200


def test_sigterm_ends_streams_and_cleans_uploads_in_flight_in_bounded_time(
    tmp_path: Path,
) -> None:
    live = LiveServer(tmp_path / "stopping").start()
    assert live.process is not None
    viewer = socket.create_connection(("127.0.0.1", live.port))
    viewer.sendall(b"GET /video-updates HTTP/1.1\r\nHost: x\r\n\r\n")
    viewer.settimeout(10)
    assert b"data: " in viewer.recv(65536)
    upload = open_upload(live, 50 << 20, 1 << 20)
    try:
        assert until(lambda: len(parts(live)) == 1, 10)
        started = time.monotonic()
        live.process.send_signal(signal.SIGTERM)
        ended = b""
        while chunk := viewer.recv(65536):  # the stream ends: the page reconnects elsewhere
            ended += chunk
        live.process.wait(15)
        took = time.monotonic() - started
    finally:
        viewer.close()
        upload.close()
        live.kill()
    assert took < 10, f"took {took:.1f} s to stop"
    assert live.process.returncode == 0
    assert parts(live) == []  # the upload in flight was cleaned, not left behind
