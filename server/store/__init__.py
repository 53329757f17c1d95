"""The channel's single source of truth, behind a small interface.

The embedded SQLite store is the default; `REDIS_URL` switches to Redis for several workers or
machines. The channel logic, the clock and the routes never know which one they talk to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.slots import Schedule

from ..catalog import Counts, Video
from ..clock import Anchor, ChannelState
from ..config import Settings


@dataclass(frozen=True)
class Snapshot:
    videos: list[Video]  # every video in catalog order, playable or not
    state: ChannelState

    @property
    def playlist(self) -> list[Video]:
        """The videos in rotation, in order: what the clock walks."""
        return [v for v in self.videos if v.playable]


@dataclass(frozen=True)
class Change:
    """What another process changed: the catalog or the anchor (reload the snapshot), or only
    the votes of some videos (reload their counts). A vote is by far the most frequent change,
    and the cheapest to follow."""

    catalog: bool = False
    votes: frozenset[str] = frozenset()

    def __or__(self, other: Change) -> Change:
        return Change(self.catalog or other.catalog, self.votes | other.votes)

    def __bool__(self) -> bool:
        return self.catalog or bool(self.votes)


# Anything may have changed (a first read, a feed that was lost for a while): reload it all.
EVERYTHING = Change(catalog=True)


@dataclass(frozen=True)
class Vote:
    counts: Counts  # the video's counts after the vote
    mine: int  # this viewer's vote now: +1, -1 or 0 (none)


DEFAULT_CHANNEL = "main"  # the default channel's slug (its pages stay at /); no other's


@dataclass(frozen=True)
class ChannelInfo:
    """A channel besides the default one, as the default channel's store lists them."""

    slug: str
    title: str
    created: float


class Store(Protocol):
    name: str

    async def load(self) -> Snapshot: ...

    async def commit(
        self,
        expected_version: int,
        anchor: Anchor,
        *,
        upsert: Sequence[Video] = (),
        remove: str | None = None,
        order: Sequence[str] | None = None,
        schedule: Schedule | None = None,
    ) -> bool:
        """Atomically, only if the state is still at `expected_version`: apply the catalog change
        (`upsert`: videos added at the end or updated in place; `order`: every video's id in its
        new order), replace the schedule if one is given, set the anchor and bump the version.
        False means another writer got there first."""
        ...

    async def set_banner(self, text: str) -> None:
        """Show `text` on every screen ("" clears it); bumps the version like a commit."""
        ...

    async def toggle_vote(self, video_id: str, viewer_id: str, value: int) -> Vote:
        """Atomically: the viewer's vote on the video becomes `value` (+1 or -1), or none when
        it already was that (pressing the same button again withdraws it)."""
        ...

    async def counts(self, video_ids: Collection[str] | None = None) -> dict[str, Counts]:
        """The counts of these videos (all videos with votes when None); a video without
        votes may be missing."""
        ...

    async def viewer_votes(self, viewer_id: str) -> dict[str, int]: ...

    async def report_viewers(self, worker_id: str, viewers: int, now: float) -> int:
        """Record this worker's viewer count; return the total across live workers."""
        ...

    def changes(self) -> AsyncIterator[Change]:
        """Yields what another process changed, as it happens; EVERYTHING first, and again
        after any gap in following."""
        ...

    async def add_audit(self, entry: dict[str, Any], keep: int) -> None:
        """Append to the audit log, keeping only the newest `keep` entries."""
        ...

    async def audit(self, limit: int) -> list[dict[str, Any]]:
        """The newest audit entries first."""
        ...

    # The list of channels besides the default one (kept by the default channel's store).
    async def channels(self) -> list[ChannelInfo]: ...

    async def add_channel(self, channel: ChannelInfo) -> bool:
        """False when the slug is taken."""
        ...

    async def rename_channel(self, slug: str, title: str) -> bool: ...

    async def remove_channel(self, slug: str) -> bool: ...

    async def health(self) -> dict[str, object]: ...

    async def close(self) -> None: ...

    async def drop(self) -> None:
        """Close, and delete everything this store holds (its channel was deleted)."""
        ...


STORE_FILE = "simulcast.db"  # the default channel's SQLite store, in DATA_DIR


async def open_store(settings: Settings, slug: str | None = None) -> Store:
    """The store of the default channel, or of the channel `slug`: the same kind of store,
    in a file of its own (SQLite) or under keys of its own (Redis)."""
    if settings.redis_url:
        from .redis import PREFIX, RedisStore

        prefix = PREFIX if slug is None else f"{PREFIX}c:{slug}:"
        return await RedisStore.connect(settings.redis_url, prefix)
    from .sqlite import SqliteStore

    if slug is None:
        return SqliteStore.open(settings.data_dir / STORE_FILE)
    return SqliteStore.open(settings.data_dir / "channels" / f"{slug}.db")
