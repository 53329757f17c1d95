"""Fetching one media file into the cache: resumable with Range, checked by size and ETag, and
paced under a bandwidth cap so the kiosk's own playback and the building's network come first.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.cache import MediaCache, write_atomically

log = logging.getLogger("kiosk")

CHUNK = 64 * 1024
TIMEOUT_S = 15.0
USER_AGENT = "simulcast-kiosk"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class DownloadError(Exception):
    """The file could not be fetched or did not check out; the message says why."""


class Interrupted(Exception):  # noqa: N818 - a stop, not an error
    """Stopped on request; the `.part` file is kept for a later resume."""


@dataclass(frozen=True)
class Remote:
    size: int
    etag: str | None
    content_type: str = field(default="application/octet-stream", compare=False)


class Pacer:
    """Sleeps enough after each chunk to keep the average under `bytes_per_s` (None: no cap)."""

    def __init__(self, bytes_per_s: float | None, stop: threading.Event) -> None:
        self.rate = bytes_per_s
        self.stop = stop
        self.started = time.monotonic()
        self.sent = 0

    def took(self, count: int) -> None:
        self.sent += count
        if self.rate:
            ahead = self.sent / self.rate - (time.monotonic() - self.started)
            if ahead > 0 and self.stop.wait(ahead):
                raise Interrupted


def _request(url: str, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    try:
        # Redirects (a presigned S3 URL) are followed with the same Range and If-Range.
        return urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"{url}: {exc}") from None


def probe_remote(url: str) -> Remote:
    """Size and ETag of the remote file from a one-byte range request (a HEAD would not do:
    a URL presigned for GET refuses HEAD)."""
    with _request(url, {"Range": "bytes=0-0"}) as response:
        etag = response.headers.get("ETag")
        kind = response.headers.get("Content-Type") or "application/octet-stream"
        if response.status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if match:
                return Remote(int(match.group(3)), etag, kind)
        length = response.headers.get("Content-Length")
        if length is None:
            raise DownloadError(f"{url}: no size given")
        return Remote(int(length), etag, kind)


def download(
    url: str,
    cache: MediaCache,
    key: str,
    *,
    bytes_per_s: float | None = None,
    stop: threading.Event | None = None,
) -> Remote:
    """Fetch `url` into the cache under `key`, resuming a `.part` file left by an earlier
    attempt when the server still has the same file (If-Range on its ETag); returns what was
    stored. Raises Interrupted (part kept) or DownloadError (part kept unless it was wrong)."""
    stop = stop or threading.Event()
    part, info_path = cache.part(key), cache.part_info(key)
    have = part.stat().st_size if part.is_file() else 0
    info = _read_info(info_path) if have else None
    if info and have == info.size:
        return _take_in(url, cache, key, info)  # all there already: stopped just before the check
    headers: dict[str, str] = {}
    if have and info and info.etag:
        headers = {"Range": f"bytes={have}-", "If-Range": info.etag}
    with _request(url, headers) as response:
        etag = response.headers.get("ETag")
        if response.status == 206 and headers:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != have:
                raise DownloadError(f"{url}: the server resumed at the wrong place")
            total = int(match.group(3))
            mode = "ab"
            log.info("cache: resuming %s at %d of %d bytes", key, have, total)
        else:
            # A full answer: nothing to resume, or the file changed (its ETag moved on).
            length = response.headers.get("Content-Length")
            total = int(length) if length is not None else -1
            mode = "wb"
            have = 0
        remote = Remote(total, etag)
        write_atomically(info_path, json.dumps({"size": total, "etag": etag}))
        pacer = Pacer(bytes_per_s, stop)
        with part.open(mode) as out:
            while True:
                if stop.is_set():
                    raise Interrupted
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                pacer.took(len(chunk))
    size = part.stat().st_size
    if total >= 0 and size != total:
        raise DownloadError(f"{url}: got {size} of {total} bytes")
    return _take_in(url, cache, key, Remote(size, etag) if total < 0 else remote)


def _take_in(url: str, cache: MediaCache, key: str, remote: Remote) -> Remote:
    checked = probe_remote(url)
    if (checked.size, checked.etag) != (remote.size, remote.etag):
        # The file changed on the server while it came down: what we have is a mixture.
        cache.part(key).unlink(missing_ok=True)
        raise DownloadError(f"{url}: the file changed while downloading; starting again")
    cache.add(key, remote.size, remote.etag, checked.content_type)
    return checked


def _read_info(path: Path) -> Remote | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Remote(int(data["size"]), data.get("etag"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
