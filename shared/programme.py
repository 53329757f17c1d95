"""What a channel plays at time t: its default playlist, its schedule's slots, and the anchor of
what played last, as one pure function (unit-tested without sleeping; the server and the kiosk
both run it).

The stored anchor (a `Tuning`) says "video X started at T", and also which slot's turn it
belongs to (none: the default playlist). From there, time runs forward through the boundaries
of the schedule:

- At a slot's start its playlist starts from its first video; at its end the default playlist
  resumes with the video the slot interrupted (from its start), or the one after it if that
  video was allowed to finish.
- At each boundary the slot coming on air decides (the one going off air, when the default
  playlist comes back) whether the playing video is cut at the boundary or finishes first;
  a slot whose start is pushed past its end by a finishing video is skipped.
- A slot with nothing playable has no turn (`shared.slots.windows`).

Whoever records the anchor at a boundary (the channel, by compare-and-set) only saves time: the
answer is the same from an older anchor, so a restart mid-slot resumes in the slot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from .schedule import Timed, locate
from .slots import Schedule, Window, windows

T = TypeVar("T", bound=Timed)

LOOKBACK = 2 * 86400.0  # a turn may have started up to a day before its anchor's video
LOOKAHEAD = 8 * 86400.0  # the next boundary of a weekly schedule is at most a week away


@dataclass(frozen=True)
class Tuning:
    """The stored anchor: `video_id` started at `started_at`, in the slot's turn named `slot`
    (`Window.key`; "" for the default playlist). `back_id`: during a slot, the default
    playlist's video that resumes after it."""

    video_id: str | None
    started_at: float
    slot: str = ""
    back_id: str | None = None


@dataclass(frozen=True)
class OnAir(Generic[T]):
    video: T | None  # None: nothing to play (then `next` is what a coming slot starts with)
    index: int  # in its playlist, -1 for none
    total: int  # videos in its playlist
    started_at: float
    ends_at: float  # when what follows starts: the video's end, or a boundary that cuts it
    next: T | None
    tuning: Tuning  # the anchor of what plays now: what a worker records at a switch
    window: Window | None = field(default=None)  # the slot's turn on air, None for the default


@dataclass(frozen=True)
class _Period(Generic[T]):
    window: Window | None
    playlist: Sequence[T]
    tuning: Tuning


def _video_at(period: _Period[T], when: float) -> tuple[int, float] | None:
    tuning = period.tuning
    return locate(period.playlist, tuning.video_id, tuning.started_at, when)


def _back(period: _Period[T], when: float, cut: bool) -> str | None:
    """The default playlist's video to resume with after a slot starting at `when`."""
    if period.window is not None:
        return period.tuning.back_id
    found = _video_at(period, when)
    if found is None:
        return None
    index, start = found
    finished = not cut and start < when
    return period.playlist[(index + 1) % len(period.playlist) if finished else index].id


class _Walk(Generic[T]):
    """Runs a channel's time forward from its anchor, boundary by boundary."""

    def __init__(
        self,
        default: Sequence[T],
        catalog: Mapping[str, T],
        schedule: Schedule,
        zone: ZoneInfo,
        tuning: Tuning,
        until: float,
    ) -> None:
        self.default = default
        self.playable = playable = playable_slots(schedule, catalog)
        self.turns = windows(
            schedule, zone, tuning.started_at - LOOKBACK,
            max(until, tuning.started_at) + LOOKAHEAD, playable,
        )
        self.start = self._period_of(tuning)

    def _period_of(self, tuning: Tuning) -> _Period[T]:
        if tuning.slot:
            turn = next((w for w in self.turns if w.key == tuning.slot), None)
            if turn is not None:
                return _Period(turn, self.playable[turn.slot.id], tuning)
            # Its slot is gone from the schedule: back to the default playlist.
            tuning = Tuning(tuning.back_id, tuning.started_at)
        return _Period(None, self.default, tuning)

    def _boundary(
        self, period: _Period[T], cursor: float, skipped: set[str]
    ) -> tuple[float, Window | None] | None:
        """The next nominal boundary after `cursor`, and the slot's turn it starts (None: the
        default playlist comes back)."""
        best: tuple[float, Window | None] | None = None
        if period.window is not None:
            best = (period.window.end, None)
        for turn in self.turns:
            if turn is period.window or turn.key in skipped or turn.end <= cursor:
                continue
            at = max(turn.start, cursor)
            if best is None or at <= best[0]:  # at a tie the slot wins over the default
                best = (at, turn)
            break  # the turns are in order and never overlap
        return best

    def at(self, when: float) -> tuple[_Period[T], float | None]:
        """The period `when` falls in, and when it gives way (None: not within the horizon)."""
        period = self.start
        cursor = period.tuning.started_at
        skipped: set[str] = set()
        while True:
            found = self._boundary(period, cursor, skipped)
            if found is None:
                return period, None
            nominal, turn = found
            cut = turn.slot.cut if turn is not None else period.window is None or \
                period.window.slot.cut
            # Never before the anchor: an override that ran past a boundary hands over at its end.
            effective = max(nominal, cursor)
            playing = _video_at(period, nominal)
            if not cut and playing is not None and playing[1] < nominal:
                index, start = playing
                effective = start + period.playlist[index].duration
            if turn is not None and effective >= turn.end:
                skipped.add(turn.key)  # a finishing video outlasts the whole turn
                if period.window is None or period.window.end > nominal:
                    continue
                turn = None  # the slot on air ended meanwhile: the default playlist is next
            if when < effective:
                return period, effective
            if turn is not None:
                playlist = self.playable[turn.slot.id]
                back = _back(period, nominal, cut)
                period = _Period(turn, playlist, Tuning(playlist[0].id, effective, turn.key, back))
            else:
                period = _Period(None, self.default, Tuning(period.tuning.back_id, effective))
            cursor = effective


def playable_slots(schedule: Schedule, catalog: Mapping[str, T]) -> dict[str, list[T]]:
    """Each slot's videos that can play, in order (slot id -> videos)."""
    return {s.id: [catalog[v] for v in s.playlist if v in catalog] for s in schedule.slots}


def next_turn(
    schedule: Schedule, zone: ZoneInfo, catalog: Mapping[str, T], now: float
) -> float | None:
    """When the next slot with something to play starts after `now` (within a week)."""
    turns = windows(schedule, zone, now, now + LOOKAHEAD, playable_slots(schedule, catalog))
    return next((turn.start for turn in turns if turn.start > now), None)


def on_air(
    default: Sequence[T],
    catalog: Mapping[str, T],
    schedule: Schedule,
    zone: ZoneInfo,
    tuning: Tuning,
    now: float,
) -> OnAir[T]:
    """What plays at `now`. `default`: the channel's rotation; `catalog`: the videos a slot's
    playlist may name, by id, playable ones only (a slot left with none has no turn)."""
    walk = _Walk(default, catalog, schedule, zone, tuning, now)
    period, boundary = walk.at(now)
    found = _video_at(period, now)
    if found is None:
        ends = boundary if boundary is not None else math.inf
        coming = walk.at(ends)[0] if boundary is not None else None
        upcoming = _video_at(coming, ends) if coming is not None else None
        first = coming.playlist[upcoming[0]] if coming and upcoming else None
        return OnAir(None, -1, 0, now, ends, first, period.tuning, period.window)
    index, started = found
    playlist = period.playlist
    video = playlist[index]
    ends = started + video.duration
    if boundary is not None and boundary <= ends:
        ends = boundary
        after = walk.at(boundary)[0]
        nxt = _video_at(after, boundary)
        following = after.playlist[nxt[0]] if nxt is not None else None
    else:
        following = playlist[(index + 1) % len(playlist)]
    tuning = Tuning(video.id, started, period.tuning.slot, period.tuning.back_id)
    return OnAir(video, index, len(playlist), started, ends, following, tuning, period.window)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (ValueError with a clear message if there is none)."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin, UTC)") from None

