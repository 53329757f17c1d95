"""Proof of play: what each channel played when, and which screens showed it.

Each worker notes every channel's current video once a second and writes a play when it changes
(the store keeps one per channel, video and start, however many workers race); the screens come
from their own reports, which say which play they were showing (a video and its start: the
channel is the one this worker saw start that play). A play ends when the channel's next begins
or its duration runs out, whichever is first (a skip cuts it short).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import math
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from .channel import Channel
from .channels import SLUG
from .screens import Screens
from .store import DEFAULT_CHANNEL
from .store.fleet import Fleet

log = logging.getLogger(__name__)

WATCH_INTERVAL = 1.0  # s between looks at what the channel plays
FLUSH_EVERY = 5  # looks between writes of the screens seen on each play
DAY = 86_400.0
EVERY_CHANNEL = "*"
RECENT = 4  # plays per channel whose screens' reports may still come in
CSV_FIELDS = (
    "video_id",
    "title",
    "start",
    "end",
    "start_utc",
    "end_utc",
    "screens",
    "screen_names",
    "channel",  # last: the columns before it are where they always were
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


def parse_channel(raw: str | None) -> str | None:
    """The channel a query asks for: a slug, None for every channel (*), the default
    channel's when not given."""
    if raw is None or raw == "":
        return DEFAULT_CHANNEL
    if raw == EVERY_CHANNEL:
        return None
    if not SLUG.match(raw):
        raise PlayQueryError(f"channel must be a channel's slug, or {EVERY_CHANNEL} for all")
    return raw


def with_ends(plays: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each play gets its end: the next play's start on its channel or its own duration,
    whichever is first."""
    following: dict[str | None, dict[str, Any]] = {}
    ended = []
    for play in reversed(plays):
        end = play["start"] + play["duration"]
        if (after := following.get(play.get("channel"))) is not None:
            end = min(end, after["start"])
        following[play.get("channel")] = play
        ended.append({**play, "end": end})
    return ended[::-1]


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
                play["channel"],
            ]
        )
    return out.getvalue()


class PlayLog:
    def __init__(
        self,
        fleet: Fleet,
        channels: Callable[[], Iterable[tuple[str, Channel]]],
        screens: Screens,
        keep_days: float,
    ) -> None:
        self.fleet = fleet
        self.channels = channels  # every channel this process plays, by slug
        self.screens = screens
        self.keep_days = keep_days
        self._recent: dict[str, deque[tuple[str, float]]] = {}  # the last plays noted, by slug

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
                self._recent.clear()
            await asyncio.sleep(WATCH_INTERVAL)

    async def _note_current(self) -> None:
        for slug, channel in self.channels():
            playing = channel.current()
            if playing is None:
                continue
            key = (playing.video.id, playing.started_at)
            recent = self._recent.setdefault(slug, deque(maxlen=RECENT))
            if not recent or recent[-1] != key:
                keep_after = channel.now() - self.keep_days * DAY
                video = playing.video
                await self.fleet.record_play(
                    slug, video.id, playing.started_at, video.title, video.duration, keep_after
                )
                recent.append(key)

    def channel_of(self, play: tuple[str, float]) -> str:
        """The channel this worker saw start a play a screen reported (the default channel's
        for one it did not see: what a screen reported before channels)."""
        return next(
            (slug for slug, recent in self._recent.items() if play in recent), DEFAULT_CHANNEL
        )

    async def flush(self) -> None:
        for (video_id, start), screens in self.screens.take_seen().items():
            channel = self.channel_of((video_id, start))
            await self.fleet.add_play_screens(channel, video_id, start, screens)

    async def between(
        self,
        start: float,
        end: float,
        name_of: Callable[[str], str | None],
        channel: str | None = DEFAULT_CHANNEL,
    ) -> list[dict[str, Any]]:
        """A channel's plays (None: every channel's) that started in [start, end)."""
        await self.flush()  # what screens reported up to now counts
        # One more day is read so that the last play in range is cut by the one after it.
        plays = with_ends(await self.fleet.plays(start, end + DAY, channel))
        return [
            {**play, "screens": [{"id": s, "name": name_of(s)} for s in play["screens"]]}
            for play in plays
            if play["start"] < end
        ]
