"""The channel as the kiosk knows it: the playlist and its anchor, and the state the server would
send at any time, worked out here while the server is away.

Pure functions of a plan and a time (server seconds), tested without sleeping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.schedule import locate

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

    def to_json(self) -> dict[str, Any]:
        return {
            "playlist": [dict(c.item) for c in self.clips],
            "anchor": {"id": self.anchor_id, "start_time": self.anchor_start},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        clips = tuple(
            Clip(str(i["id"]), float(i["duration"]), i) for i in data["playlist"]
        )
        anchor = data["anchor"]
        return cls(clips, anchor["id"], float(anchor["start_time"]))


def playlist_from_listing(videos: Sequence[Mapping[str, Any]]) -> tuple[Clip, ...]:
    """The rotation out of a `/videos` answer: the videos with a place in it, in order."""
    listed = [v for v in videos if v.get("index") is not None and float(v.get("duration") or 0) > 0]
    return tuple(Clip.from_listing(v) for v in sorted(listed, key=lambda v: int(v["index"])))


def plan_from_state(state: Mapping[str, Any], clips: tuple[Clip, ...]) -> Plan:
    """A server state's current item is an anchor: it started at its start_time."""
    return Plan(clips, state.get("id") or None, float(state["start_time"]))


def state_at(plan: Plan, now: float, reason: str = "switch") -> dict[str, Any]:
    """The state the server would send at `now`: the current item, where it is in the
    playlist, and the next one with the time it starts."""
    found = locate(plan.clips, plan.anchor_id, plan.anchor_start, now)
    if found is None:
        return {"id": "", "title": "", "video_url": "", "sources": [], "duration": 0.0,
                "start_time": now, "reason": reason, "index": -1, "total": 0, "next": None,
                "server_time": now}
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


def ends_at(state: Mapping[str, Any]) -> float:
    return float(state["start_time"]) + float(state.get("duration") or 0.0)


def same_item(a: Mapping[str, Any], b: Mapping[str, Any], tolerance: float = 0.5) -> bool:
    """The same video started at (about) the same time: a page playing one plays the other."""
    return a.get("id") == b.get("id") and abs(
        float(a["start_time"]) - float(b["start_time"])
    ) <= tolerance


def media_urls(plan: Plan, now: float) -> list[str]:
    """Every poster and video of the playlist, in the order they will play from `now`."""
    found = locate(plan.clips, plan.anchor_id, plan.anchor_start, now)
    first = found[0] if found else 0
    ordered = plan.clips[first:] + plan.clips[:first]
    urls: list[str] = []
    for clip in ordered:
        for key in ("poster", "video_url"):
            url = clip.item.get(key)
            if isinstance(url, str) and url.startswith("/") and url not in urls:
                urls.append(url)
    return urls
