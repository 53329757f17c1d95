"""From recorded frames to figures: pure functions, no browser, no clock.

Truth is what each page presented: every frame logged by the recorder carries its media time and
the moment the compositor expected to show it, on the page's `performance.now()` timeline, which
the bench maps to server time itself. A frame's *error* is how far the picture was from the
schedule when it was shown: `mediaTime - (shownAt - start_time)`; positive means ahead. Two pages
on the same frame at the same moment have the same error, so the inter-client offset at an instant
is the difference of the errors of the frames they show at that instant.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

STALE = 0.1  # s without a new frame after which a page counts as frozen on its last frame


@dataclass(frozen=True)
class Instance:
    """One play of a video on the schedule."""

    id: str
    start: float
    duration: float

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class Shown:
    """One presented frame of a playing deck, on the server's clock."""

    at: float  # server time it was (expected to be) on screen
    error: float  # s, positive = ahead of the schedule
    media: float
    instance: Instance


@dataclass
class Track:
    """One page's presented frames, in display order, with lookups by instant."""

    frames: list[Shown] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.frames.sort(key=lambda f: f.at)
        self._times = [f.at for f in self.frames]

    def error_at(self, t: float) -> float | None:
        """Error of what is on screen at t. A page whose last frame is older than STALE is
        frozen: its error grows as the schedule moves on."""
        i = bisect.bisect_right(self._times, t) - 1
        if i < 0:
            return None
        frame = self.frames[i]
        if t - frame.at <= STALE:
            return frame.error
        if t > frame.instance.end + STALE:
            return None  # between items: the switch gap measures this
        return frame.media - (t - frame.instance.start)

    def between(self, t0: float, t1: float) -> list[Shown]:
        lo = bisect.bisect_left(self._times, t0)
        hi = bisect.bisect_right(self._times, t1)
        return self.frames[lo:hi]


def schedule_from_states(states: Iterable[dict[str, Any]]) -> list[Instance]:
    seen: dict[tuple[str, float], Instance] = {}
    for state in states:
        for item in (state, state.get("next")):
            if item and item.get("id"):
                key = (item["id"], round(float(item["start_time"]), 3))
                seen[key] = Instance(item["id"], float(item["start_time"]), float(item["duration"]))
    return sorted(seen.values(), key=lambda i: i.start)


def find_instance(schedule: Sequence[Instance], video_id: str, at: float) -> Instance | None:
    for instance in schedule:
        if instance.id == video_id and instance.start - 0.5 <= at <= instance.end + 0.5:
            return instance
    return None


def track(frames: Iterable[Sequence[Any]], offset_ms: float, schedule: Sequence[Instance]) -> Track:
    """Recorder frame rows -> a Track of the frames shown while their deck was playing."""
    shown = []
    for _deck, video_id, media, display_ms, _count, paused, _front in frames:
        if paused:
            continue  # a preloaded first frame waiting for its start, or a paused deck
        at = (display_ms + offset_ms) / 1000
        instance = find_instance(schedule, video_id, at)
        if instance is not None:
            shown.append(Shown(at, media - (at - instance.start), media, instance))
    return Track(shown)


def quantiles(values: Sequence[float], qs: Sequence[float] = (0.5, 0.95)) -> list[float]:
    ordered = sorted(values)
    if not ordered:
        return [math.nan for _ in qs]
    return [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in qs]


def grid(t0: float, t1: float, step: float = 0.05) -> list[float]:
    return [t0 + i * step for i in range(int((t1 - t0) / step) + 1)]


def pairwise(
    tracks: dict[str, Track], times: Sequence[float]
) -> dict[tuple[str, str], list[float]]:
    """|error_a - error_b| at each instant both pages show a frame, per pair of pages."""
    names = sorted(tracks)
    errors = {name: [tracks[name].error_at(t) for t in times] for name in names}
    out: dict[tuple[str, str], list[float]] = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            out[(a, b)] = [
                abs(x - y)
                for x, y in zip(errors[a], errors[b], strict=True)
                if x is not None and y is not None
            ]
    return out


def join_time(tr: Track, nav_start: float, tolerance: float = 0.05, hold: float = 1.0) -> float:
    """Seconds from navigation start to the first frame after which every frame for `hold`
    seconds is within `tolerance` of the schedule."""
    for frame in tr.frames:
        if frame.at < nav_start or abs(frame.error) > tolerance:
            continue
        window = tr.between(frame.at, frame.at + hold)
        if window[-1].at - frame.at >= hold * 0.9 and all(
            abs(f.error) <= tolerance for f in window
        ):
            return frame.at - nav_start
    return math.nan


@dataclass(frozen=True)
class Switch:
    at: float  # scheduled switch time
    gap: float  # s from the old video's last frame to the new one's first on screen (1/30 = none)
    start_error: float  # error of the new video's first playing frame


def switches(
    tr: Track,
    schedule: Sequence[Instance],
    t0: float,
    t1: float,
    fronts: Sequence[tuple[float, str]] = (),
) -> list[Switch]:
    """One Switch per scheduled change in [t0, t1] that the page showed. The new video is on
    screen from its first playing frame, or earlier if its deck came to the front already
    holding its (paused, preloaded) first frame: `fronts` are (time, video id) of those moves."""
    out = []
    for before, after in zip(schedule, schedule[1:], strict=False):
        if not t0 <= after.start <= t1:
            continue
        old = [f for f in tr.between(after.start - 2, after.start + 2) if f.instance == before]
        new = [f for f in tr.between(after.start - 1, after.start + 3) if f.instance == after]
        if old and new:
            shown = min(
                [new[0].at]
                + [at for at, vid in fronts if vid == after.id and old[-1].at <= at <= new[0].at]
            )
            out.append(Switch(after.start, shown - old[-1].at, new[0].error))
    return out


def events_between(
    events: Iterable[Sequence[Any]], offset_ms: float, t0: float, t1: float, name: str
) -> list[Sequence[Any]]:
    return [e for e in events if e[2] == name and t0 <= (e[0] + offset_ms) / 1000 <= t1]


def rate_range(events: Sequence[Sequence[Any]], offset_ms: float, t0: float, t1: float) -> dict:
    """Min/max playbackRate of playing decks in [t0, t1], with the number of changes and the
    largest single change."""
    changes = [e for e in events if e[2] == "ratechange" and not e[6]]
    rates = [1.0]
    for e in changes:
        at = (e[0] + offset_ms) / 1000
        if at < t0:
            rates = [e[4]]
    inside = [e for e in changes if t0 <= (e[0] + offset_ms) / 1000 <= t1]
    rates += [e[4] for e in inside]
    steps = [abs(b[4] - a[4]) for a, b in zip(inside, inside[1:], strict=False) if a[1] == b[1]]
    return {
        "min": min(rates),
        "max": max(rates),
        "changes": len(inside),
        "max_step": max(steps, default=0.0),
    }


def blank_spells(events: Sequence[Sequence[Any]], offset_ms: float, t0: float, t1: float) -> list:
    """(start, length) of each spell in [t0, t1] with no video frame in front (black)."""
    spells = []
    started = None
    for e in sorted(events, key=lambda e: e[0]):
        at = (e[0] + offset_ms) / 1000
        if e[2] == "blank":
            started = at
        elif e[2] == "shown" and started is not None:
            if t0 <= started <= t1:
                spells.append((started, at - started))
            started = None
    return spells


def recovery(
    tr: Track, back: float, limit: float, hold: float = 1.0, until: float | None = None
) -> float:
    """Seconds after `back` until the page stays within `limit` of the schedule for `hold` s."""
    times = grid(back, until if until is not None else back + 20, 0.05)
    run_start = None
    for t in times:
        error = tr.error_at(t)
        if error is not None and abs(error) <= limit:
            run_start = t if run_start is None else run_start
            if t - run_start >= hold:
                return run_start - back
        else:
            run_start = None
    return math.nan
