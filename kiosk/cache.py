"""The kiosk's media cache: one file per media URL path, with its size and ETag, and the time it
was last played for least-recently-played eviction over a byte limit.

A download goes to a `.part` file beside its final name and is moved in only once complete and
checked, so a file the cache lists is always whole. The index is a small JSON file rewritten
atomically; it is the cache's only bookkeeping, and files it does not list are removed at start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("kiosk")

INDEX = "index.json"


@dataclass
class Entry:
    url: str  # the path the page asks for, e.g. /media/v/<id>/webm
    size: int
    etag: str | None
    used: float  # wall time it was last played (or stored)
    content_type: str = "application/octet-stream"


class MediaCache:
    """Thread-safe: the local server, the downloader and --check read it at once."""

    def __init__(self, folder: Path, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.limit = limit
        self._clock = clock
        self._lock = threading.RLock()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, Entry] = self._load()

    # --- reading ------------------------------------------------------------------------------
    def file(self, url: str) -> Path:
        return self.folder / hashlib.sha256(url.encode()).hexdigest()[:32]

    def part(self, url: str) -> Path:
        return self.file(url).with_suffix(".part")

    def part_info(self, url: str) -> Path:
        """What a `.part` file was downloaded from (size, ETag), so a resume can check it."""
        return self.file(url).with_suffix(".partinfo")

    def get(self, url: str) -> Entry | None:
        with self._lock:
            return self._entries.get(url)

    def has(self, url: str) -> bool:
        return self.get(url) is not None

    @property
    def total(self) -> int:
        with self._lock:
            return sum(e.size for e in self._entries.values())

    def urls(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    # --- writing ------------------------------------------------------------------------------
    def played(self, url: str) -> None:
        with self._lock:
            entry = self._entries.get(url)
            if entry is not None:
                entry.used = self._clock()
                self._save()

    def add(self, url: str, size: int, etag: str | None,
            content_type: str = "application/octet-stream") -> None:
        """Take a complete, checked `.part` file in under its final name."""
        with self._lock:
            os.replace(self.part(url), self.file(url))
            self.part_info(url).unlink(missing_ok=True)
            self._entries[url] = Entry(url, size, etag, self._clock(), content_type)
            self._save()

    def remove(self, url: str) -> None:
        with self._lock:
            self._entries.pop(url, None)
            self.file(url).unlink(missing_ok=True)
            self._save()

    def make_room(self, size: int, keep: Iterable[str] = ()) -> bool:
        """Evict the least recently played entries not in `keep` until `size` more bytes fit
        under the limit; False (evicting nothing) when they cannot fit even so."""
        kept = set(keep)
        with self._lock:
            candidates = sorted(
                (e for e in self._entries.values() if e.url not in kept), key=lambda e: e.used
            )
            room = self.limit - self.total
            if room + sum(e.size for e in candidates) < size:
                return False
            for entry in candidates:
                if room >= size:
                    break
                log.info("cache: evicting %s (%d bytes, least recently played)", entry.url,
                         entry.size)
                self.remove(entry.url)
                room += entry.size
            return True

    def enforce_limit(self) -> None:
        """Back under the limit (it may have been lowered since the last run)."""
        self.make_room(0)

    # --- index --------------------------------------------------------------------------------
    def _load(self) -> dict[str, Entry]:
        entries: dict[str, Entry] = {}
        try:
            raw = json.loads((self.folder / INDEX).read_text(encoding="utf-8"))
            for item in raw.get("entries", []):
                entry = Entry(str(item["url"]), int(item["size"]), item.get("etag"),
                              float(item["used"]), str(item.get("content_type") or ""))
                path = self.file(entry.url)
                # A file whose size disagrees with the index was damaged outside the kiosk.
                if path.is_file() and path.stat().st_size == entry.size:
                    entries[entry.url] = entry
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # no index yet, or unreadable: start empty, the downloader fills it again
        listed = {self.file(url).name for url in entries} | {INDEX}
        done = {p(url).name for url in entries for p in (self.part, self.part_info)}
        for path in self.folder.iterdir():
            resumable = path.suffix in (".part", ".partinfo") and path.name not in done
            if path.is_file() and path.name not in listed and not resumable:
                path.unlink(missing_ok=True)
        return entries

    def _save(self) -> None:
        data = {"entries": [asdict(e) for e in self._entries.values()]}
        write_atomically(self.folder / INDEX, json.dumps(data))


def write_atomically(path: Path, content: str | bytes) -> None:
    """A power cut mid-write leaves the old file, never half of the new one."""
    # Named per thread: two writers of one file must not share a temporary file.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(content.encode() if isinstance(content, str) else content)
    os.replace(tmp, path)
