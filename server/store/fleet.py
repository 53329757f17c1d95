"""The fleet store: screens, their pending actions, video walls, workers' figures, the play log.

Kept apart from the channel's store (its own SQLite file, its own Redis keys) because it is
written often (a report from every screen every few seconds): those writes must never look like
channel changes that make every worker reload the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..config import Settings

Record = dict[str, Any]
Merge = Callable[[Record | None], Record]
FIGURES_TTL = 15.0  # s a worker's figures count without a refresh (workers publish every 5 s)


class Fleet(Protocol):
    name: str

    async def save_screen(
        self, screen_id: str, merge: Merge, *, since: float, max_screens: int
    ) -> tuple[Record, list[str]] | None:
        """Store merge(previous record) and take the actions queued for the screen since
        `since`. None (nothing stored) when the screen is new and max_screens are known."""
        ...

    async def screens(self) -> list[Record]: ...

    async def update_screen(
        self, screen_id: str, change: Callable[[Record], Record]
    ) -> Record | None: ...

    async def forget_screen(self, screen_id: str) -> bool: ...

    async def command(self, screen_id: str, action: str, now: float) -> bool:
        """Queue an action for a known screen; False if there is no such screen."""
        ...

    async def walls(self) -> list[Record]: ...

    async def wall(self, wall_id: str) -> Record | None: ...

    async def save_wall(self, wall_id: str, wall: Record) -> None: ...

    async def delete_wall(self, wall_id: str) -> bool: ...

    async def put_figures(self, worker_id: str, figures: Record, now: float) -> None: ...

    async def figures(self, now: float) -> dict[str, Record]:
        """Every live worker's latest figures, by worker id."""
        ...

    async def record_play(
        self,
        channel: str,
        video_id: str,
        start: float,
        title: str,
        duration: float,
        keep_after: float,
    ) -> None:
        """Log that a channel (its slug) started a video (once however many workers say so)
        and drop every channel's plays that started before `keep_after`."""
        ...

    async def add_play_screens(
        self, channel: str, video_id: str, start: float, screens: Iterable[str]
    ) -> None: ...

    async def plays(self, start: float, end: float, channel: str | None = None) -> list[Record]:
        """A channel's plays (None: every channel's) started in [start, end), oldest first,
        each with its channel and the screens that showed it."""
        ...

    async def health(self) -> dict[str, object]: ...

    async def close(self) -> None: ...


async def open_fleet(settings: Settings) -> Fleet:
    if settings.redis_url:
        from .fleet_redis import RedisFleet

        return RedisFleet(settings.redis_url)
    from .fleet_sqlite import SqliteFleet

    return SqliteFleet.open(settings.data_dir / "fleet.db")
