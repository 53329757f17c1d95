"""What an upload may be: no longer than MAX_VIDEO_DURATION (measured from its packets), no
bigger a picture than MAX_VIDEO_PIXELS (refused before decoding), a WebM above the renditions'
size converted like any other, and decoding a big picture costs a capped child, not the server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from .live import LiveServer
from .mediafiles import make_sized, make_webm_spanning


def post(live: LiveServer, path: Path) -> httpx.Response:
    with path.open("rb") as handle:
        return httpx.post(
            live.url + "/uploads", files={"video": (path.name, handle, "video/webm")}, timeout=120
        )


def peak_rss_mb(live: LiveServer) -> float:
    assert live.process is not None
    for line in Path(f"/proc/{live.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"TRANSCODE_MAX_HEIGHT": "360"}
    with LiveServer(tmp_path_factory.mktemp("limits"), env) as server:
        yield server


def stored(live: LiveServer) -> list[Path]:
    return [p for p in live.upload_dir.iterdir() if p.is_file()]


def test_a_tiny_file_claiming_eleven_days_is_refused(live: LiveServer, tmp_path: Path) -> None:
    clip = make_webm_spanning(tmp_path / "forever.webm", 1_000_001)
    assert clip.stat().st_size < 1024
    answer = post(live, clip)
    assert answer.status_code == 415, answer.text
    assert "longest accepted is 4 h" in answer.json()["error"]
    assert stored(live) == []


def test_a_resolution_bomb_is_refused_before_decoding(live: LiveServer, tmp_path: Path) -> None:
    bomb = make_sized(tmp_path / "bomb.mp4", 16384, 8192)
    before = peak_rss_mb(live)
    answer = post(live, bomb)
    assert answer.status_code == 415, answer.text
    assert "16384x8192" in answer.json()["error"]
    assert peak_rss_mb(live) - before < 100  # decoding it took 300 MB here
    assert stored(live) == []


def test_a_vp9_bomb_is_refused_too(live: LiveServer, tmp_path: Path) -> None:
    bomb = make_sized(tmp_path / "bomb.webm", 8192, 8192, frames=1)
    answer = post(live, bomb)
    assert answer.status_code == 415, answer.text
    assert "pixels" in answer.json()["error"]


def test_a_webm_above_the_rendition_size_is_converted(live: LiveServer, tmp_path: Path) -> None:
    big = make_sized(tmp_path / "big.webm", 1280, 720, frames=30)
    answer = post(live, big)
    assert answer.status_code == 201, answer.text
    assert answer.json()["video"]["status"] == "processing"


def test_an_allowed_big_picture_costs_a_child_not_the_server(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    # Allowed by the probe, which then decodes it in the server: only the poster and the
    # conversion are watched here, so the server's own share is measured from after the upload.
    env = {"MAX_VIDEO_PIXELS": "16384x8192", "TRANSCODE_MEMORY_LIMIT": "1G"}
    live = start_server(env)
    answer = post(live, make_sized(tmp_path / "huge.mp4", 16384, 8192))
    before = peak_rss_mb(live)
    assert answer.status_code == 201, answer.text
    video_id = answer.json()["video"]["id"]
    # The poster was tried in a child; the conversion runs in one and fails inside its cap.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        listed = {v["id"]: v for v in httpx.get(live.url + "/videos").json()["videos"]}
        if listed[video_id]["status"] == "failed":
            break
        time.sleep(0.5)
    assert listed[video_id]["status"] == "failed", listed[video_id]
    assert listed[video_id]["error"]
    assert peak_rss_mb(live) - before < 100, "the server decoded the picture itself"
    assert httpx.get(live.url + "/healthz").status_code == 200
