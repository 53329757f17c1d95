"""The server-side iterator: what plays at a given time, as a pure function.

The channel's whole timing is an anchor — "video X started at server time T" — plus the ordered
playlist. Everything else (the current video, its offset, the next switch) is computed from that
and the time, so every worker and machine that reads the same state agrees without talking, and
the position never drifts the way an accumulated counter does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.schedule import locate

from .catalog import Video


@dataclass(frozen=True)
class Anchor:
    video_id: str | None
    started_at: float
    # Set while `video_id` plays as an override ("play this now on every screen"): the rotation
    # resumes with this video when the override ends.
    resume_id: str | None = None

    @property
    def overriding(self) -> bool:
        return self.resume_id is not None


@dataclass(frozen=True)
class ChannelState:
    anchor: Anchor
    version: int = 0
    banner: str = ""  # the operator's announcement on every screen; empty for none


@dataclass(frozen=True)
class NowPlaying:
    index: int  # in the playlist; -1 for an override of a video out of the rotation
    video: Video
    started_at: float
    next: Video
    override: bool = False

    @property
    def ends_at(self) -> float:
        return self.started_at + self.video.duration


def _overriding(
    playlist: Sequence[Video], anchor: Anchor, now: float, override: Video | None
) -> NowPlaying | None:
    """The override, while it plays."""
    if override is None or not anchor.overriding or override.id != anchor.video_id:
        return None
    if now >= anchor.started_at + override.duration:
        return None
    ids = [v.id for v in playlist]
    index = ids.index(override.id) if override.id in ids else -1
    resume = next((v for v in playlist if v.id == anchor.resume_id), None)
    following = resume or (playlist[0] if playlist else override)
    return NowPlaying(index, override, anchor.started_at, following, override=True)


def rotation(anchor: Anchor, override: Video | None) -> Anchor:
    """The rotation's own anchor: once an override ends, its resume video starts."""
    if not anchor.overriding:
        return anchor
    ends = anchor.started_at + (override.duration if override is not None else 0.0)
    return Anchor(anchor.resume_id, ends)


def now_playing(
    playlist: Sequence[Video], anchor: Anchor, now: float, override: Video | None = None
) -> NowPlaying | None:
    """The video playing at `now` in a looping playlist that started `anchor.video_id` at
    `anchor.started_at`. An anchor no longer in the playlist restarts from its first video.
    `override` is the video an overriding anchor names (it may be out of the rotation)."""
    if (overriding := _overriding(playlist, anchor, now, override)) is not None:
        return overriding
    anchor = rotation(anchor, override)
    found = locate(playlist, anchor.video_id, anchor.started_at, now)
    if found is None:
        return None
    index, started_at = found
    return NowPlaying(index, playlist[index], started_at, playlist[(index + 1) % len(playlist)])


def reanchor(
    playlist: Sequence[Video], anchor: Anchor, now: float, override: Video | None = None
) -> Anchor:
    """An equivalent anchor on the video playing at `now`.

    Re-anchoring before every playlist change is what keeps the current video from jumping when
    another one is added, removed or moved: only the future changes.
    """
    current = now_playing(playlist, anchor, now, override)
    if current is None:
        return Anchor(None, now)
    if current.override:
        return anchor
    return Anchor(current.video.id, current.started_at)


def after_removal(
    playlist: Sequence[Video],
    anchor: Anchor,
    removed_id: str,
    now: float,
    override: Video | None = None,
) -> Anchor:
    """The anchor once `removed_id` leaves the rotation (deleted or hidden): unchanged for
    others, the next video now for it. An override of it ends; one that was to resume with it
    resumes with the video after it."""
    current = now_playing(playlist, anchor, now, override)
    if current is None:
        return Anchor(None, now)
    following = current.next.id if current.next.id != removed_id else None
    if current.override:
        if current.video.id == removed_id:
            return Anchor(anchor.resume_id, now)
        if anchor.resume_id == removed_id:
            return Anchor(anchor.video_id, anchor.started_at, following or "")
        return anchor
    if current.video.id != removed_id:
        return Anchor(current.video.id, current.started_at)
    return Anchor(following, now)


def skip(
    playlist: Sequence[Video], anchor: Anchor, now: float, override: Video | None = None
) -> Anchor:
    """Start the next video now (during an override: end it, the rotation resumes)."""
    current = now_playing(playlist, anchor, now, override)
    if current is None:
        return Anchor(None, now)
    return Anchor(current.next.id, now)


def start_override(
    playlist: Sequence[Video],
    anchor: Anchor,
    now: float,
    video_id: str,
    override: Video | None = None,
) -> Anchor:
    """Play `video_id` now, then resume with the video it interrupted (from its start); an
    override of an override resumes where the first one would have."""
    current = now_playing(playlist, anchor, now, override)
    if current is not None and current.override:
        resume = anchor.resume_id
    else:
        resume = current.video.id if current is not None else ""
    return Anchor(video_id, now, resume or "")


def end_override(
    playlist: Sequence[Video], anchor: Anchor, now: float, override: Video | None = None
) -> Anchor:
    """Stop an override now: the video it interrupted starts (from its beginning)."""
    current = now_playing(playlist, anchor, now, override)
    if current is not None and current.override:
        return Anchor(anchor.resume_id, now)
    return reanchor(playlist, anchor, now, override)
