"""The wire contract between the server and its clients (browser pages and the kiosk)."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

# Why a state event was sent. Every event carries the full state, so a client that missed some
# can always apply the latest one alone.
Reason = Literal["connect", "switch", "vote", "playlist", "viewers", "sync", "banner"]

RETRY_MS = 2000  # the EventSource reconnect delay we ask browsers for


class Source(TypedDict):
    url: str
    type: str


class Item(TypedDict):
    id: str
    title: str
    video_url: str
    sources: list[Source]
    duration: float
    start_time: float  # server time (Unix seconds) at which this item starts or started
    poster: NotRequired[str]  # a still of the video, shown while it loads
    captions: NotRequired[str]  # URL of the video's WebVTT captions, when it has some


class Override(TypedDict):
    id: str
    title: str
    ends_at: float  # server time: the rotation resumes then


class State(Item, total=False):
    reason: Reason
    server_time: float
    index: int
    total: int
    likes: int
    dislikes: int
    viewers: int
    next: Item | None
    my_votes: dict[str, int]
    banner: str  # the operator's announcement, shown on every page; "" for none
    override: Override | None  # an admin's "play this now on every screen", while it plays
