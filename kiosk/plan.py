"""The channel as the kiosk knows it: the playlist and its anchor, the schedule's slots and the
videos they play, and the state the server would send at any time, worked out here while the
server is away (with the server's own function, shared/programme.py, when there are slots).

Pure functions of a plan and a time (server seconds), tested without sleeping.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shared.programme import OnAir, Tuning, on_air, zone
from shared.schedule import locate
from shared.slots import Schedule, parse

# The fields of an item the page needs; the rest of what /videos lists stays on the server.
ITEM_FIELDS = ("id", "title", "video_url", "sources", "duration", "poster")


@dataclass(frozen=True)
class Clip:
    id: str
    duration: float
    item: Mapping[str, Any] = field(compare=False)  # as in a state, without start_time

    @classmethod
    def from_listing(cls, video: Mapping[str, Any]) -> Clip:
        """A video as `/videos` lists it."""
        item = {"video_url": video["url"], **video}
        kept = {k: item[k] for k in ITEM_FIELDS if item.get(k) is not None}
        return cls(str(video["id"]), float(video["duration"]), kept)


@dataclass(frozen=True)
class Plan:
    clips: tuple[Clip, ...]
    anchor_id: str | None
    anchor_start: float
    # The schedule (GET /programme): its slots, their time zone, the videos they play, and
    # which slot's turn the anchor is in ("": the default playlist) with the video that
    # resumes after it. No slots: the default playlist loops from the anchor, as it always did.
    schedule: Schedule = field(default_factory=Schedule)
    zone: str = "UTC"
    slot_clips: tuple[Clip, ...] = ()
    slot: str = ""
    back_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "playlist": [dict(c.item) for c in self.clips],
            "anchor": {"id": self.anchor_id, "start_time": self.anchor_start, "slot": self.slot,
                       "back_id": self.back_id},
            "schedule": {"timezone": self.zone, **self.schedule.to_json(),
                         "videos": [dict(c.item) for c in self.slot_clips]},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        anchor = data["anchor"]
        # A state saved before schedules were kept has none.
        kept = data.get("schedule") or {"timezone": "UTC", "slots": [], "videos": []}
        return cls(_clips(data["playlist"]), anchor["id"], float(anchor["start_time"]),
                   parse({"slots": kept["slots"]}), str(kept["timezone"]),
                   _clips(kept["videos"]), str(anchor.get("slot") or ""), anchor.get("back_id"))

    @property
    def scheduled(self) -> bool:
        """Slots to follow, in a time zone this machine knows."""
        return bool(self.schedule.slots) and known_zone(self.zone) is not None


def _clips(items: Sequence[Mapping[str, Any]]) -> tuple[Clip, ...]:
    return tuple(Clip(str(i["id"]), float(i["duration"]), i) for i in items)


@functools.cache
def known_zone(name: str) -> ZoneInfo | None:
    """The IANA time zone, or None where this machine has no time zone database for it (a
    kiosk then plays the default playlist through an outage, as before schedules)."""
    try:
        return zone(name)
    except ValueError:
        return None


def playlist_from_listing(videos: Sequence[Mapping[str, Any]]) -> tuple[Clip, ...]:
    """The rotation out of a `/videos` answer: the videos with a place in it, in order."""
    listed = [v for v in videos if v.get("index") is not None and float(v.get("duration") or 0) > 0]
    return tuple(Clip.from_listing(v) for v in sorted(listed, key=lambda v: int(v["index"])))


def plan_from_state(state: Mapping[str, Any], clips: tuple[Clip, ...],
                    programme: Mapping[str, Any] | None = None) -> Plan:
    """A server state's current item is an anchor: it started at its start_time. With the
    channel's `programme` (GET /programme) and slots in it, its anchor is the one to walk the
    schedule from: it also says which slot's turn plays."""
    if programme is None or not programme.get("slots"):
        return Plan(clips, state.get("id") or None, float(state["start_time"]))
    anchor = programme["anchor"]
    videos = [v for v in programme["videos"] if float(v.get("duration") or 0) > 0]
    return Plan(clips, anchor["id"], float(anchor["start_time"]),
                parse({"slots": programme["slots"]}), str(programme["timezone"]),
                tuple(Clip.from_listing(v) for v in videos), str(anchor.get("slot") or ""),
                anchor.get("back_id"))


def state_at(plan: Plan, now: float, reason: str = "switch") -> dict[str, Any]:
    """The state the server would send at `now`: the current item, where it is in the
    playlist, and the next one with the time it starts."""
    if plan.scheduled:
        return _scheduled(plan, _on_air(plan, now), now, reason)
    found = locate(plan.clips, plan.anchor_id, plan.anchor_start, now)
    if found is None:
        return _nothing(now, reason, None)
    index, start = found
    current = plan.clips[index]
    following = plan.clips[(index + 1) % len(plan.clips)]
    return {
        **current.item,
        "start_time": start,
        "reason": reason,
        "index": index,
        "total": len(plan.clips),
        "next": {**following.item, "start_time": start + current.duration},
        "server_time": now,
    }


def _on_air(plan: Plan, now: float) -> OnAir[Clip]:
    tuning = Tuning(plan.anchor_id, plan.anchor_start, plan.slot, plan.back_id)
    catalog = {c.id: c for c in plan.slot_clips}
    return on_air(plan.clips, catalog, plan.schedule, known_zone(plan.zone) or ZoneInfo("UTC"),
                  tuning, now)


def _scheduled(plan: Plan, air: OnAir[Clip], now: float, reason: str) -> dict[str, Any]:
    """The state the server's channel sends for what `on_air` says (server/channel.py)."""
    if air.video is None:
        coming = None if air.next is None else {**air.next.item, "start_time": air.ends_at}
        return _nothing(now, reason, coming)
    following = air.next if air.next is not None else air.video
    return {
        **air.video.item,
        "start_time": air.started_at,
        "reason": reason,
        "index": air.index,
        "total": air.total if air.window is not None else len(plan.clips),
        "next": {**following.item, "start_time": air.ends_at},
        "server_time": now,
    }


def _nothing(now: float, reason: str, coming: dict[str, Any] | None) -> dict[str, Any]:
    return {"id": "", "title": "", "video_url": "", "sources": [], "duration": 0.0,
            "start_time": now, "reason": reason, "index": -1, "total": 0, "next": coming,
            "server_time": now}


def ends_at(state: Mapping[str, Any]) -> float:
    """When what the state shows gives way: the next item's start (a slot's boundary may cut
    the video short), else the end of the video."""
    following = state.get("next")
    if following:
        return float(following["start_time"])
    return float(state["start_time"]) + float(state.get("duration") or 0.0)


def same_item(a: Mapping[str, Any], b: Mapping[str, Any], tolerance: float = 0.5) -> bool:
    """The same video started at (about) the same time: a page playing one plays the other."""
    return a.get("id") == b.get("id") and abs(
        float(a["start_time"]) - float(b["start_time"])
    ) <= tolerance


def media_urls(plan: Plan, now: float) -> list[str]:
    """Every poster and video the plan can play, in the order they will play from `now`."""
    urls: list[str] = []
    for clip in play_order(plan, now):
        for key in ("poster", "video_url"):
            url = clip.item.get(key)
            if isinstance(url, str) and url.startswith("/") and url not in urls:
                urls.append(url)
    return urls


def play_order(plan: Plan, now: float) -> list[Clip]:
    """The plan's videos, each once: as they come from `now` (through the schedule's
    boundaries as far as a few turns of it), then the rest of the playlist and the slots'."""
    found = locate(plan.clips, plan.anchor_id, plan.anchor_start, now)
    first = found[0] if found else 0
    rest = plan.clips[first:] + plan.clips[:first] + plan.slot_clips
    coming = list(_upcoming(plan, now)) if plan.scheduled else []
    ordered: dict[str, Clip] = {}
    for clip in coming + list(rest):
        ordered.setdefault(clip.id, clip)
    return list(ordered.values())


def _upcoming(plan: Plan, now: float) -> Iterator[Clip]:
    """What plays from `now`, item by item, as long as it takes to see every video once (or
    a bounded number of steps: a slot a day away stays behind a long playlist's loops)."""
    every = {c.id for c in (*plan.clips, *plan.slot_clips)}
    steps = 2 * (len(plan.clips) + len(plan.slot_clips) + len(plan.schedule.slots))
    seen: set[str] = set()
    when = now
    for _ in range(min(steps, MAX_STEPS)):
        air = _on_air(plan, when)
        shown = air.video if air.video is not None else air.next
        if shown is not None and shown.id not in seen:
            seen.add(shown.id)
            yield shown
        if seen >= every or not when < air.ends_at < math.inf:
            return
        when = air.ends_at


MAX_STEPS = 400
