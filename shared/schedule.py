"""Where a looping playlist is at a given time: the one piece of schedule maths the server and
the kiosk share (the kiosk runs it on its own while the server is away).

The channel's timing is an anchor, "video X started at time T", plus the ordered playlist; the
position at any time is a pure function of those, so copies that hold the same anchor agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol


class Timed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def duration(self) -> float: ...


def locate(
    playlist: Sequence[Timed], anchor_id: str | None, anchor_start: float, now: float
) -> tuple[int, float] | None:
    """(index, start time) of what plays at `now` in a looping `playlist` that started
    `anchor_id` at `anchor_start`; an anchor no longer in the playlist restarts from its first
    video. None for an empty playlist."""
    if not playlist:
        return None
    ids = [v.id for v in playlist]
    index = ids.index(anchor_id) if anchor_id in ids else 0
    cycle = math.fsum(v.duration for v in playlist)
    start = anchor_start
    elapsed = now - start
    if cycle <= 0:
        return index, start
    if elapsed > cycle:
        # Skip whole loops at once: a channel idle for a week costs no more than one loop.
        loops = math.floor(elapsed / cycle)
        start += loops * cycle
        elapsed -= loops * cycle
    while elapsed >= playlist[index].duration:
        elapsed -= playlist[index].duration
        start += playlist[index].duration
        index = (index + 1) % len(playlist)
    return index, start
