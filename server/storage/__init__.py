"""Where video files live. Each backend holds files under keys and says how to reach them;
`Storages` holds them all and the policy: where a new file goes, what it falls back to, which
storages may be written, listed once or watched, and what health reports about them.

`static` (shipped samples, read-only) and `local` (uploads) are always there; `s3` joins when
configured and then takes uploads, with local storage as the last resort.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

FALLBACK = "local"  # always writable, always there: where a file goes when nothing else takes it
SAMPLES = "static"  # the shipped samples, read-only; absent with SAMPLES=off


class StorageError(Exception):
    """A backend could not do what was asked; the message is safe to show to users."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    content_type: str
    title: str | None = None
    duration: float | None = None


class Storage(Protocol):
    name: str
    place: str  # how people are told where a file went: "local storage", "the S3 bucket"
    writable: bool
    # None: listed once at startup. A number: listed in the background every that many seconds,
    # since others write to it too (a bucket) and startup must not wait on it.
    relist_interval: float | None

    @property
    def warning(self) -> str | None:
        """A problem people looking at the catalog should know about, or None."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file on this machine, when the backend keeps files locally."""
        ...

    async def url(self, key: str) -> str | None:
        """A URL a browser can fetch the file from directly, or None to serve `local_path`."""
        ...

    async def put(
        self, source: Path, key: str, content_type: str, metadata: dict[str, str]
    ) -> None:
        """Store a finished file under `key`, taking it over: the source is moved, not copied,
        so an upload never sits on disk twice."""
        ...

    async def delete(self, key: str) -> None: ...

    def list(self) -> AsyncIterator[StoredFile]: ...

    async def health(self) -> dict[str, object]: ...


class NoStorageError(StorageError):
    """No storage took the file; the message says what each one answered."""


@dataclass(frozen=True)
class Placed:
    storage: Storage
    notes: list[str]  # what went wrong on the way (a bucket that refused, then local took it)


@dataclass(frozen=True)
class Located:
    """How a stored file is reached: a URL to send the browser to, or a file on this machine
    (absent when it is missing)."""

    url: str | None = None
    path: Path | None = None


class Storages:
    def __init__(self, storages: list[Storage], preferred: str = FALLBACK) -> None:
        self._by_name = {s.name: s for s in storages}
        self.preferred = preferred if preferred in self._by_name else FALLBACK

    @classmethod
    def from_settings(cls, settings: Settings) -> Storages:
        from .local import LocalStorage
        from .signed import SecureLinks

        links = None
        if settings.media_secure_link:
            links = SecureLinks(
                settings.media_secure_link,
                settings.media_secure_link_secret,
                settings.media_secure_link_expiry,
            )
        storages: list[Storage] = [LocalStorage(FALLBACK, settings.upload_dir, links=links)]
        if settings.samples == "on":
            storages.insert(0, LocalStorage(SAMPLES, settings.static_dir, False, links))
        if settings.s3_bucket_name:
            from .s3 import S3Storage

            storages.append(S3Storage(settings))
            return cls(storages, preferred="s3")
        return cls(storages)

    def __iter__(self) -> Iterator[Storage]:
        return iter(self._by_name.values())

    def get(self, name: str) -> Storage | None:
        return self._by_name.get(name)

    def writable(self, name: str) -> bool:
        storage = self._by_name.get(name)
        return storage is not None and storage.writable

    def listed_once(self) -> list[Storage]:
        return [s for s in self if s.relist_interval is None]

    def watched(self) -> list[Storage]:
        return [s for s in self if s.relist_interval is not None]

    def optional(self) -> set[str]:
        """Storages whose trouble leaves the server ready: a bucket (uploads fall back to local
        storage and every other video plays); the folders on this machine are not."""
        return {s.name for s in self.watched()}

    async def put(
        self,
        source: Path,
        key: str,
        content_type: str,
        metadata: dict[str, str],
        *,
        beside: str | None = None,
    ) -> Placed:
        """Store a file: beside another one (a rendition next to its video) or where uploads go,
        falling back to local storage. Raises NoStorageError when none takes it."""
        first = beside if beside is not None else self.preferred
        notes: list[str] = []
        for name in dict.fromkeys([first, FALLBACK]):
            storage = self._by_name.get(name)
            if storage is None or not storage.writable:
                continue
            try:
                await storage.put(source, key, content_type, metadata)
            except StorageError as failure:
                log.warning("storing %s to %s failed: %s", key, storage.name, failure)
                notes.append(f"Could not store it in {storage.place} ({failure}).")
                continue
            return Placed(storage, notes)
        raise NoStorageError(" ".join(notes) or "No storage is available.")

    async def delete(self, name: str, key: str) -> None:
        """Delete a stored file; files of a read-only storage (the samples) stay."""
        storage = self._by_name.get(name)
        if storage is not None and storage.writable:
            await storage.delete(key)

    async def locate(self, name: str, key: str) -> Located | None:
        """None when no storage of that name is configured on this machine."""
        storage = self._by_name.get(name)
        if storage is None:
            return None
        url = await storage.url(key)
        if url is not None:
            return Located(url=url)
        path = storage.local_path(key)
        return Located(path=path if path is not None and path.is_file() else None)

    def warnings(self) -> list[str]:
        return [warning for s in self if (warning := s.warning)]

    async def health(self) -> dict[str, dict[str, object]]:
        return {s.name: await s.health() for s in self}
