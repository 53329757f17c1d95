"""Uploading through POST /uploads against a real server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from .live import LiveServer
from .mediafiles import make_empty, make_text_as_mp4, make_webm, make_webm_without_duration
from .sse import stream


@pytest.fixture
def live(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server({"MAX_UPLOAD_SIZE": "300M"}).posters_made()


def leftovers(live: LiveServer) -> list[Path]:
    """Every file an upload may have written: uploads and work files."""
    found = [p for p in live.upload_dir.rglob("*") if p.is_file()]
    return found + [p for p in (live.data_dir / "incoming").rglob("*") if p.is_file()]


def post(live: LiveServer, path: Path, name: str | None = None, **fields: str) -> httpx.Response:
    with path.open("rb") as handle:
        return httpx.post(
            live.url + "/uploads",
            files={"video": (name or path.name, handle, "video/webm")},
            data=fields,
            timeout=120,
        )


def test_upload_joins_the_rotation_and_is_announced(live: LiveServer, tmp_path: Path) -> None:
    clip = make_webm(tmp_path / "holiday.webm", seconds=2.0)
    with stream(live.url) as events:
        before = events.next().data["total"]
        response = post(live, clip, title="Our holiday")
        update = events.until(lambda s: s["reason"] == "playlist")
    assert response.status_code == 201
    answer = response.json()
    assert answer["success"] is True and answer["storage"] == "local"
    assert "local storage" in answer["message"]
    video = answer["video"]
    assert video["title"] == "Our holiday"
    assert video["duration"] == pytest.approx(2.0, abs=0.1)
    assert update.data["total"] == before + 1
    listed = httpx.get(live.url + "/videos").json()["videos"]
    assert video["id"] in [v["id"] for v in listed if v["index"] is not None]
    served = httpx.get(live.url + video["url"])
    assert served.status_code == 200 and served.content == clip.read_bytes()
    assert [p.name for p in live.upload_dir.iterdir()] == [f"{video['id']}.webm"]


def test_duration_comes_from_the_file_even_without_a_header(
    live: LiveServer, tmp_path: Path
) -> None:
    clip = make_webm_without_duration(tmp_path / "recorded.webm", seconds=3.0)
    answer = post(live, clip).json()
    assert answer["video"]["duration"] == pytest.approx(3.0, abs=0.15)
    assert answer["video"]["title"] == "Recorded"  # from the file name


@pytest.mark.parametrize(
    ("make", "status", "words"),
    [
        (make_text_as_mp4, 415, "not a video"),
        (make_empty, 400, "empty"),
    ],
)
def test_bad_files_get_a_clear_error_and_leave_nothing(
    live: LiveServer, tmp_path: Path, make: Callable[[Path], Path], status: int, words: str
) -> None:
    bad = make(tmp_path / "bad.mp4")
    response = post(live, bad)
    assert response.status_code == status
    assert words in response.json()["error"].lower()
    assert leftovers(live) == []


def test_missing_field_and_wrong_encoding_are_explained(live: LiveServer) -> None:
    no_file = httpx.post(live.url + "/uploads", files={"other": ("x.webm", b"abc")})
    assert no_file.status_code == 400 and "'video'" in no_file.json()["error"]
    not_multipart = httpx.post(live.url + "/uploads", content=b"abc")
    assert not_multipart.status_code == 400
    assert "multipart/form-data" in not_multipart.json()["error"]


def test_over_the_limit_is_refused_and_nothing_is_kept(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    live = start_server({"MAX_UPLOAD_SIZE": "1M"})
    big = tmp_path / "big.webm"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    response = post(live, big)
    assert response.status_code == 413
    assert "1 MB upload limit" in response.json()["error"]
    assert leftovers(live) == []


def test_the_limit_holds_without_a_content_length(
    start_server: Callable[..., LiveServer],
) -> None:
    live = start_server({"MAX_UPLOAD_SIZE": "1M"})
    boundary = "xyz"

    def body() -> Iterator[bytes]:  # chunked: the server only learns the size as it reads
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="video"; '
            f'filename="a.webm"\r\n\r\n'
        ).encode()
        for _ in range(40):
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = httpx.post(
        live.url + "/uploads",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert leftovers(live) == []


@pytest.mark.parametrize(
    "name", ["../../../../tmp/evil.webm", "/etc/passwd.webm", "..\\..\\x.webm", "\u202egpj.webm"]
)
def test_filenames_can_never_write_outside_uploads(
    live: LiveServer, tmp_path: Path, name: str
) -> None:
    clip = make_webm(tmp_path / "clip.webm", seconds=1.0)
    response = post(live, clip, name=name)
    assert response.status_code == 201
    video = response.json()["video"]
    stored = [p for p in live.upload_dir.rglob("*") if p.is_file()]
    assert stored == [live.upload_dir / f"{video['id']}.webm"]
    assert not Path("/tmp/evil.webm").exists()


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_uploads_stream_to_disk_not_memory(live: LiveServer, tmp_path: Path) -> None:
    assert live.process is not None
    size = 200 * 1024 * 1024
    junk = tmp_path / "junk.webm"
    with junk.open("wb") as handle:
        for _ in range(size // (8 * 1024 * 1024)):
            handle.write(os.urandom(8 * 1024 * 1024))
    before = _peak_rss_kb(live.process.pid)
    response = post(live, junk)
    after = _peak_rss_kb(live.process.pid)
    assert response.status_code == 415  # random bytes are not a video...
    assert leftovers(live) == []  # ...so nothing stays
    # ...but all 200 MB went through, and the server's peak memory barely moved.
    assert (after - before) * 1024 < size / 4, f"peak RSS grew {after - before} KB"
