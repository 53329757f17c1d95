"""A channel's weekly schedule: slots, the JSON they travel as, and the instants they cover.

A slot names days of the week (or one date), a start and an end in wall-clock time of the
server's `TIMEZONE`, the playlist that plays then, and what happens to the video playing at its
boundaries (`cut` it, or let it `finish`). Wall-clock times become instants through the IANA
time zone database, so a slot at 09:00 stays at 09:00 across daylight-saving changes, and a
night slot on the day the clocks change lasts an hour more or less. A one-off date slot
overrides the weekly pattern for as long as it lasts; outside every slot the channel's default
playlist plays.

Pure: no server import, so the kiosk can read a schedule the same way (see shared/programme.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BOUNDARIES = ("cut", "finish")
DAY_SECONDS = 24 * 3600
WEEK_SECONDS = 7 * DAY_SECONDS
MAX_SLOTS = 200
MAX_PLAYLIST = 500
MAX_TITLE = 80
SLOT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
CLOCK_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")


class ScheduleError(ValueError):
    """A schedule we refuse, with the field at fault (`slots[2].start`) for the answer."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


@dataclass(frozen=True)
class Slot:
    id: str
    start: int  # seconds after midnight, wall-clock time
    end: int  # seconds after midnight, up to 24:00; at or before `start`: the next day
    playlist: tuple[str, ...]  # video ids, in play order
    days: frozenset[int] = frozenset()  # weekly: 0 Monday .. 6 Sunday
    date: dt.date | None = None  # one-off: this date only (overrides the weekly slots)
    cut: bool = True  # at its boundaries the playing video is cut (else it finishes first)
    title: str = ""

    @property
    def length(self) -> int:
        """Seconds of wall-clock time it covers."""
        return (self.end - self.start) % DAY_SECONDS or DAY_SECONDS

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "title": self.title}
        if self.date is not None:
            data["date"] = self.date.isoformat()
        else:
            data["days"] = [DAYS[d] for d in sorted(self.days)]
        data.update(
            start=_clock(self.start),
            end=_clock(self.end),
            playlist=list(self.playlist),
            boundary="cut" if self.cut else "finish",
        )
        return data


@dataclass(frozen=True)
class Schedule:
    slots: tuple[Slot, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"slots": [s.to_json() for s in self.slots]}

    def find(self, slot_id: str) -> Slot | None:
        return next((s for s in self.slots if s.id == slot_id), None)


@dataclass(frozen=True)
class Window:
    """One slot's turn on air: from `start` to `end`, server (Unix) seconds."""

    slot: Slot
    start: float
    end: float

    @property
    def key(self) -> str:
        """Names this turn (stored with the anchor while it plays)."""
        return f"{self.slot.id}@{self.start:.0f}"


def _clock(seconds: int) -> str:
    clock = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return clock + (f":{seconds % 60:02d}" if seconds % 60 else "")


def _seconds(value: Any, field: str, *, end: bool) -> int:
    """'HH:MM' or 'HH:MM:SS' (a slot to the second: a test, a countdown)."""
    match = CLOCK_TIME.match(value) if isinstance(value, str) else None
    hours, mins, secs = (int(match[1]), int(match[2]), int(match[3] or 0)) if match else (99,) * 3
    total = hours * 3600 + mins * 60 + secs
    if mins > 59 or secs > 59 or total > DAY_SECONDS or (total == DAY_SECONDS and not end):
        allowed = "00:00 to 24:00" if end else "00:00 to 23:59"
        raise ScheduleError(field, f"{value!r} is not a time of day (HH:MM, {allowed})")
    return total


def _text(slot: Mapping[str, Any], key: str, field: str, default: str = "") -> str:
    value = slot.get(key, default)
    if not isinstance(value, str):
        raise ScheduleError(f"{field}.{key}", "must be a string")
    return value


def _slot(raw: Any, field: str, index: int) -> Slot:
    if not isinstance(raw, Mapping):
        raise ScheduleError(field, "must be an object with days or date, start, end, playlist")
    unknown = sorted(set(raw) - {"id", "title", "days", "date", "start", "end", "playlist",
                                 "boundary"})
    if unknown:
        raise ScheduleError(f"{field}.{unknown[0]}", "is not a field of a slot")
    slot_id = _text(raw, "id", field, f"slot-{index + 1}")
    if not SLOT_ID.match(slot_id):
        raise ScheduleError(
            f"{field}.id", f"{slot_id!r}: lower-case letters, digits, - and _, at most 40"
        )
    title = _text(raw, "title", field).strip()
    if len(title) > MAX_TITLE:
        raise ScheduleError(f"{field}.title", f"at most {MAX_TITLE} characters")
    if ("days" in raw) == ("date" in raw):
        raise ScheduleError(field, "needs either days (weekly) or date (one-off), not both")
    days: frozenset[int] = frozenset()
    date = None
    if "days" in raw:
        names = raw["days"]
        if not isinstance(names, list) or not names or any(d not in DAYS for d in names):
            raise ScheduleError(f"{field}.days", f"a non-empty list of {', '.join(DAYS)}")
        days = frozenset(DAYS.index(d) for d in names)
    else:
        try:
            date = dt.date.fromisoformat(_text(raw, "date", field))
        except ValueError:
            raise ScheduleError(f"{field}.date", "a date as YYYY-MM-DD") from None
    for key in ("start", "end"):
        if key not in raw:
            raise ScheduleError(f"{field}.{key}", "is missing (HH:MM)")
    start = _seconds(raw["start"], f"{field}.start", end=False)
    end = _seconds(raw["end"], f"{field}.end", end=True)
    if start == end:
        raise ScheduleError(f"{field}.end", "the slot ends when it starts")
    playlist = raw.get("playlist", [])
    if not isinstance(playlist, list) or any(not isinstance(v, str) or not v for v in playlist):
        raise ScheduleError(f"{field}.playlist", "a list of video ids")
    if len(playlist) > MAX_PLAYLIST:
        raise ScheduleError(f"{field}.playlist", f"at most {MAX_PLAYLIST} videos")
    boundary = raw.get("boundary", "cut")
    if boundary not in BOUNDARIES:
        raise ScheduleError(f"{field}.boundary", "either \"cut\" or \"finish\"")
    return Slot(slot_id, start, end, tuple(playlist), days, date, boundary == "cut", title)


def _spans(slot: Slot) -> Iterator[tuple[int, int]]:
    """Its wall-clock seconds of the week (weekly) or since 1 Jan 1 (one-off)."""
    if slot.date is not None:
        first = slot.date.toordinal() * DAY_SECONDS + slot.start
        yield first, first + slot.length
        return
    for day in slot.days:
        first = day * DAY_SECONDS + slot.start
        yield first, first + slot.length


def _overlap(a: Slot, b: Slot) -> bool:
    period = WEEK_SECONDS if a.date is None else 0
    for a0, a1 in _spans(a):
        for b0, b1 in _spans(b):
            shifts = (-period, 0, period) if period else (0,)
            if any(a0 < b1 + s and b0 + s < a1 for s in shifts):
                return True
    return False


def _describe(slot: Slot) -> str:
    when = slot.date.isoformat() if slot.date else " ".join(DAYS[d] for d in sorted(slot.days))
    return f"{slot.id!r} ({when} {_clock(slot.start)}-{_clock(slot.end)})"


def parse(data: Any, known: Sequence[str] | None = None) -> Schedule:
    """A schedule from its JSON, or ScheduleError saying what is wrong and where. `known`: the
    ids of the channel's videos (a playlist may name only those)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("slots"), list):
        raise ScheduleError("slots", "send {\"slots\": [...]} (an empty list clears the schedule)")
    unknown = sorted(set(data) - {"slots", "timezone"})
    if unknown:
        raise ScheduleError(unknown[0], "is not a field of a schedule")
    raws = data["slots"]
    if len(raws) > MAX_SLOTS:
        raise ScheduleError("slots", f"at most {MAX_SLOTS} slots")
    slots: list[Slot] = []
    for index, raw in enumerate(raws):
        slot = _slot(raw, f"slots[{index}]", index)
        field = f"slots[{index}]"
        if any(s.id == slot.id for s in slots):
            raise ScheduleError(f"{field}.id", f"{slot.id!r} is used by another slot")
        if known is not None:
            missing = [v for v in slot.playlist if v not in known]
            if missing:
                raise ScheduleError(f"{field}.playlist", f"no video {missing[0]!r} in this channel")
        for other in slots:
            if (other.date is None) == (slot.date is None) and _overlap(other, slot):
                raise ScheduleError(field, f"{_describe(slot)} overlaps {_describe(other)}")
        slots.append(slot)
    return Schedule(tuple(slots))


def instant(day: dt.date, seconds: int, zone: ZoneInfo) -> float:
    """Unix time of a wall-clock time in `zone`. A time the clocks skip (02:30 when they jump
    from 02:00 to 03:00) is read with the offset before the change, so it falls an hour later
    (03:30); a time they repeat is its first occurrence."""
    day = day + dt.timedelta(days=seconds // DAY_SECONDS)
    wall = dt.time(seconds % DAY_SECONDS // 3600, seconds % 3600 // 60, seconds % 60)
    return dt.datetime.combine(day, wall, tzinfo=zone).timestamp()


def _raw_windows(
    slots: Sequence[Slot], zone: ZoneInfo, first: dt.date, last: dt.date
) -> Iterator[Window]:
    day = first
    while day <= last:
        for slot in slots:
            if slot.date == day or (slot.date is None and day.weekday() in slot.days):
                yield Window(slot, instant(day, slot.start, zone),
                             instant(day, slot.start + slot.length, zone))
        day += dt.timedelta(days=1)


def _minus(window: Window, cuts: Sequence[Window]) -> Iterator[Window]:
    """What is left of a weekly slot's turn around one-off slots."""
    start = window.start
    for cut in sorted(cuts, key=lambda w: w.start):
        if cut.end <= start or cut.start >= window.end:
            continue
        if cut.start > start:
            yield Window(window.slot, start, cut.start)
        start = max(start, cut.end)
    if start < window.end:
        yield Window(window.slot, start, window.end)


def windows(
    schedule: Schedule,
    zone: ZoneInfo,
    start: float,
    end: float,
    playable: Mapping[str, Sequence[Any]] | None = None,
) -> list[Window]:
    """The slots' turns that overlap [start, end), in order, never overlapping: one-off slots
    cut the weekly ones they cover. With `playable` (slot id -> its playable videos), a slot
    with nothing to play has no turn: the default playlist goes on through it."""
    slots = [s for s in schedule.slots if playable is None or playable.get(s.id)]
    if not slots or end <= start:
        return []
    # A slot may run past midnight, so the day before `start` may reach into the range.
    first = dt.datetime.fromtimestamp(start, zone).date() - dt.timedelta(days=1)
    last = dt.datetime.fromtimestamp(end, zone).date()
    found = [w for w in _raw_windows(slots, zone, first, last) if w.end > w.start]
    once = [w for w in found if w.slot.date is not None]
    weekly = [piece for w in found if w.slot.date is None for piece in _minus(w, once)]
    return sorted(
        (w for w in once + weekly if w.end > start and w.start < end), key=lambda w: w.start
    )
