"""The kiosk's media cache: least-recently-played eviction under its size cap, and downloads
that resume where an interrupted one stopped (checked by size and ETag), against a real local
HTTP server (the kiosk's own, serving from another cache)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.cache import MediaCache
from kiosk.channel import LocalChannel
from kiosk.download import DownloadError, Interrupted, download, probe_remote
from kiosk.origin import Origin
from kiosk.pages import PageFiles

URL = "/media/v/clip"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def put(cache: MediaCache, url: str, data: bytes, etag: str = '"v1"') -> None:
    cache.part(url).write_bytes(data)
    cache.add(url, len(data), etag, "video/webm")


def test_least_recently_played_goes_first(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path, limit=300, clock=Clock())
    for name in ("a", "b", "c"):
        put(cache, f"/{name}", b"x" * 100)
    cache.played("/a")  # b is now the one played longest ago, then c

    assert cache.make_room(100)
    assert sorted(cache.urls()) == ["/a", "/c"]
    assert not cache.file("/b").exists()
    assert cache.make_room(150)
    assert cache.urls() == ["/a"]


def test_files_still_wanted_are_kept_and_what_cannot_fit_is_refused(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path, limit=300, clock=Clock())
    for name in ("a", "b", "c"):
        put(cache, f"/{name}", b"x" * 100)
    assert cache.make_room(100, keep={"/a", "/b"})
    assert sorted(cache.urls()) == ["/a", "/b"]  # only c was not wanted any more
    assert not cache.make_room(150, keep={"/a", "/b"})
    assert sorted(cache.urls()) == ["/a", "/b"]  # refusing evicts nothing


def test_a_lowered_limit_evicts_at_start_and_damaged_files_are_dropped(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path, limit=1000, clock=Clock())
    for name in ("a", "b", "c"):
        put(cache, f"/{name}", b"x" * 100)
    cache.played("/a")
    (tmp_path / "stray").write_bytes(b"left by something else")
    with cache.file("/c").open("ab") as damaged:
        damaged.write(b"!")

    again = MediaCache(tmp_path, limit=150, clock=Clock())
    assert sorted(again.urls()) == ["/a", "/b"]  # c no longer matches its size
    assert not (tmp_path / "stray").exists()
    again.enforce_limit()
    assert again.urls() == ["/a"] and again.total == 100


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[MediaCache, str]]:
    """A real HTTP server with byte ranges and ETags: the kiosk's local server, whose cache
    holds the file to download."""
    source = MediaCache(tmp_path / "source", limit=10**9)
    channel = LocalChannel("http://127.0.0.1:9")  # its own server is never asked here
    origin = Origin(channel, source, PageFiles(tmp_path / "pages")).start()
    yield source, origin.url + URL
    origin.stop()


def interrupt_after(cache: MediaCache, size: int, stop: threading.Event) -> threading.Thread:
    def watch() -> None:
        while not stop.is_set():
            part = cache.part(URL)
            if part.exists() and part.stat().st_size >= size:
                stop.set()
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_interrupted_download_resumes_where_it_stopped(
    tmp_path: Path, served: tuple[MediaCache, str], caplog: pytest.LogCaptureFixture
) -> None:
    source, url = served
    data = os.urandom(600_000)
    put(source, URL, data)
    cache = MediaCache(tmp_path / "kiosk", limit=10**9)

    stop = threading.Event()
    interrupt_after(cache, 100_000, stop)
    with pytest.raises(Interrupted):
        download(url, cache, URL, bytes_per_s=1_000_000, stop=stop)
    have = cache.part(URL).stat().st_size
    assert 100_000 <= have < len(data) and not cache.has(URL)

    # Mark what is already here: a resumed download must not fetch these bytes again.
    with cache.part(URL).open("r+b") as part:
        part.write(b"ALREADY-HERE")
    caplog.set_level(logging.INFO, "kiosk")
    remote = download(url, cache, URL)

    assert f"resuming {URL} at {have} of {len(data)} bytes" in caplog.text
    stored = cache.file(URL).read_bytes()
    assert stored[:12] == b"ALREADY-HERE" and stored[12:] == data[12:]
    assert (remote.size, remote.etag) == (len(data), '"v1"')
    assert cache.get(URL) is not None and cache.get(URL).content_type == "video/webm"  # type: ignore[union-attr]
    assert not cache.part(URL).exists() and not cache.part_info(URL).exists()


def test_resume_of_a_file_changed_on_the_server_starts_over(
    tmp_path: Path, served: tuple[MediaCache, str]
) -> None:
    source, url = served
    put(source, URL, os.urandom(400_000), etag='"v1"')
    cache = MediaCache(tmp_path / "kiosk", limit=10**9)
    stop = threading.Event()
    interrupt_after(cache, 50_000, stop)
    with pytest.raises(Interrupted):
        download(url, cache, URL, bytes_per_s=1_000_000, stop=stop)

    replaced = os.urandom(300_000)
    put(source, URL, replaced, etag='"v2"')  # If-Range no longer holds: the whole new file
    remote = download(url, cache, URL)

    assert cache.file(URL).read_bytes() == replaced
    assert (remote.size, remote.etag) == (300_000, '"v2"')


def test_probe_reports_size_and_etag_and_missing_files_fail_clearly(
    served: tuple[MediaCache, str], tmp_path: Path
) -> None:
    source, url = served
    put(source, URL, b"y" * 1234, etag='"abc"')
    remote = probe_remote(url)
    assert (remote.size, remote.etag) == (1234, '"abc"')
    with pytest.raises(DownloadError, match="HTTP 503"):
        # Not cached there, and that server's own server is away: a 503 with a reason.
        download(url + "-other", MediaCache(tmp_path / "k", 10**9), URL)
