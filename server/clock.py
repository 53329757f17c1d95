"""The server-side iterator: what plays at a given time, as a pure function.

The channel's whole timing is an anchor — "video X started at server time T" — plus the ordered
playlist. Everything else (the current video, its offset, the next switch) is computed from that
and the time, so every worker and machine that reads the same state agrees without talking, and
the position never drifts the way an accumulated counter does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .catalog import Video


@dataclass(frozen=True)
class Anchor:
    video_id: str | None
    started_at: float


@dataclass(frozen=True)
class ChannelState:
    anchor: Anchor
    version: int = 0


@dataclass(frozen=True)
class NowPlaying:
    index: int
    video: Video
    started_at: float
    next: Video

    @property
    def ends_at(self) -> float:
        return self.started_at + self.video.duration

    def offset(self, now: float) -> float:
        return now - self.started_at


def now_playing(playlist: Sequence[Video], anchor: Anchor, now: float) -> NowPlaying | None:
    """The video playing at `now` in a looping playlist that started `anchor.video_id` at
    `anchor.started_at`. An anchor no longer in the playlist restarts from its first video."""
    if not playlist:
        return None
    ids = [v.id for v in playlist]
    first = ids.index(anchor.video_id) if anchor.video_id in ids else 0
    count = len(playlist)
    cycle = math.fsum(v.duration for v in playlist)
    start = anchor.started_at
    elapsed = now - start
    if elapsed > cycle:
        # Skip whole loops at once: a channel idle for a week costs no more than one loop.
        loops = math.floor(elapsed / cycle)
        start += loops * cycle
        elapsed -= loops * cycle
    index = first
    while elapsed >= playlist[index].duration:
        elapsed -= playlist[index].duration
        start += playlist[index].duration
        index = (index + 1) % count
    return NowPlaying(index, playlist[index], start, playlist[(index + 1) % count])


def reanchor(playlist: Sequence[Video], anchor: Anchor, now: float) -> Anchor:
    """An equivalent anchor on the video playing at `now`.

    Re-anchoring before every playlist change is what keeps the current video from jumping when
    another one is added or removed: only the future changes.
    """
    current = now_playing(playlist, anchor, now)
    if current is None:
        return Anchor(None, now)
    return Anchor(current.video.id, current.started_at)


def after_removal(playlist: Sequence[Video], anchor: Anchor, removed_id: str, now: float) -> Anchor:
    """The anchor once `removed_id` leaves: unchanged for others, the next video now for it."""
    current = now_playing(playlist, anchor, now)
    if current is None:
        return Anchor(None, now)
    if current.video.id != removed_id:
        return Anchor(current.video.id, current.started_at)
    following = current.next.id if current.next.id != removed_id else None
    return Anchor(following, now)


def skip(playlist: Sequence[Video], anchor: Anchor, now: float) -> Anchor:
    """Start the next video now."""
    current = now_playing(playlist, anchor, now)
    if current is None:
        return Anchor(None, now)
    return Anchor(current.next.id, now)
