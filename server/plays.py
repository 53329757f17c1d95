"""Proof of play: what the channel played when, and which screens showed it.

Each worker notes the channel's current video once a second and writes a play when it changes
(the store keeps one per video and start, however many workers race); the screens come from
their own reports, which say which play they were showing. A play ends when the next begins or
its duration runs out, whichever is first (a skip cuts it short).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .channel import Channel
from .screens import Screens
from .store.fleet import Fleet

log = logging.getLogger(__name__)

WATCH_INTERVAL = 1.0  # s between looks at what the channel plays
FLUSH_EVERY = 5  # looks between writes of the screens seen on each play
DAY = 86_400.0
CSV_FIELDS = (
    "video_id",
    "title",
    "start",
    "end",
    "start_utc",
    "end_utc",
    "screens",
    "screen_names",
)


class PlayQueryError(ValueError):
    pass


def parse_time(raw: str | None, default: float, name: str) -> float:
    """Unix seconds, or an ISO 8601 date/time (UTC unless it says otherwise)."""
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise PlayQueryError(
                f"{name} must be Unix seconds or an ISO 8601 time (2026-12-01T09:00:00Z)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(value):
        raise PlayQueryError(f"{name} must be a finite number of seconds")
    return value


def with_ends(plays: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each play gets its end: the next play's start or its own duration, whichever is first."""
    ended = []
    for play, following in zip(plays, [*plays[1:], None], strict=False):
        end = play["start"] + play["duration"]
        if following is not None:
            end = min(end, following["start"])
        ended.append({**play, "end": end})
    return ended


def utc(seconds: float) -> str:
    return (
        datetime.fromtimestamp(seconds, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def to_csv(plays: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for play in plays:
        writer.writerow(
            [
                play["video_id"],
                play["title"],
                f"{play['start']:.3f}",
                f"{play['end']:.3f}",
                utc(play["start"]),
                utc(play["end"]),
                " ".join(s["id"] for s in play["screens"]),
                "; ".join(s["name"] or s["id"] for s in play["screens"]),
            ]
        )
    return out.getvalue()


class PlayLog:
    def __init__(self, fleet: Fleet, channel: Channel, screens: Screens, keep_days: float) -> None:
        self.fleet = fleet
        self.channel = channel
        self.screens = screens
        self.keep_days = keep_days
        self._last: tuple[str, float] | None = None

    async def run(self) -> None:
        looks = 0
        while True:
            try:
                await self._note_current()
                looks += 1
                if looks % FLUSH_EVERY == 0:
                    await self.flush()
            except Exception as error:  # the store away: plays resume when it is back
                log.warning("recording plays failed (%s)", error)
                self._last = None
            await asyncio.sleep(WATCH_INTERVAL)

    async def _note_current(self) -> None:
        playing = self.channel.current()
        if playing is None:
            return
        key = (playing.video.id, playing.started_at)
        if key != self._last:
            keep_after = self.channel.now() - self.keep_days * DAY
            video = playing.video
            await self.fleet.record_play(
                video.id, playing.started_at, video.title, video.duration, keep_after
            )
            self._last = key

    async def flush(self) -> None:
        for (video_id, start), screens in self.screens.take_seen().items():
            await self.fleet.add_play_screens(video_id, start, screens)

    async def between(
        self, start: float, end: float, name_of: Callable[[str], str | None]
    ) -> list[dict[str, Any]]:
        await self.flush()  # what screens reported up to now counts
        # One more day is read so that the last play in range is cut by the one after it.
        plays = with_ends(await self.fleet.plays(start, end + DAY))
        return [
            {**play, "screens": [{"id": s, "name": name_of(s)} for s in play["screens"]]}
            for play in plays
            if play["start"] < end
        ]
