"""Where video files live. Each backend holds files under keys and says how to reach them.

`static` (shipped samples) and `local` (uploads) are always there; `s3` joins when configured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


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
