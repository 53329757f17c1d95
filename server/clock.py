"""The server-side iterator: what plays at a given time, as a pure function.

The channel's whole timing is an anchor — "video X started at server time T" — plus the ordered
playlist. Everything else (the current video, its offset, the next switch) is computed from that
and the time, so every worker and machine that reads the same state agrees without talking, and
the position never drifts the way an accumulated counter does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from shared.programme import Tuning, on_air
from shared.schedule import locate
from shared.slots import Schedule

from .catalog import Video


@dataclass(frozen=True)
class Anchor:
    video_id: str | None
    started_at: float
    # Set while `video_id` plays as an override ("play this now on every screen"): the rotation
    # resumes with this video when the override ends.
    resume_id: str | None = None
    # The slot's turn this anchor is in (shared.slots.Window.key; "" for the default playlist),
    # and during one the default playlist's video that resumes after it (shared/programme.py).
    slot: str = ""
    back_id: str | None = None

    @property
    def overriding(self) -> bool:
        return self.resume_id is not None

    def moved(
        self, video_id: str | None, started_at: float, resume_id: str | None = None
    ) -> Anchor:
        """Another video or time in the same slot's turn."""
        return Anchor(video_id, started_at, resume_id, self.slot, self.back_id)


@dataclass(frozen=True)
class ChannelState:
    anchor: Anchor
    version: int = 0
    banner: str = ""  # the operator's announcement on every screen; empty for none
    schedule: Schedule = field(default_factory=Schedule)


@dataclass(frozen=True)
class Programme:
    """What a schedule needs besides the anchor: its slots, the time zone they are in, and the
    videos a slot may play by id (ready ones; hidden ones too: out of the default playlist,
    a video can still play in a slot)."""

    schedule: Schedule
    zone: ZoneInfo
    catalog: Mapping[str, Video]


@dataclass(frozen=True)
class NowPlaying:
    index: int  # in its playlist; -1 for an override of a video out of the rotation
    video: Video
    started_at: float
    next: Video
    override: bool = False
    until: float | None = None  # when a slot's boundary cuts it short
    slot: str = ""  # the slot's turn it plays in ("" for the default playlist)
    back_id: str | None = None
    total: int | None = None  # videos in the slot's playlist (None: the channel's own)

    @property
    def ends_at(self) -> float:
        """When the next video starts."""
        return self.until if self.until is not None else self.started_at + self.video.duration

    @property
    def anchor(self) -> Anchor:
        return Anchor(self.video.id, self.started_at, slot=self.slot, back_id=self.back_id)


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
    return anchor.moved(anchor.resume_id, ends)


def now_playing(
    playlist: Sequence[Video],
    anchor: Anchor,
    now: float,
    override: Video | None = None,
    programme: Programme | None = None,
) -> NowPlaying | None:
    """The video playing at `now` in a looping playlist that started `anchor.video_id` at
    `anchor.started_at`. An anchor no longer in the playlist restarts from its first video.
    `override` is the video an overriding anchor names (it may be out of the rotation);
    `programme`, the channel's schedule, whose slots take turns with the playlist."""
    if (overriding := _overriding(playlist, anchor, now, override)) is not None:
        if programme is not None and programme.schedule.slots:
            # What follows may be a slot's video: ask the schedule at the override's end.
            after = now_playing(
                playlist, rotation(anchor, override), overriding.ends_at, None, programme
            )
            if after is not None:
                return replace(overriding, next=after.video)
        return overriding
    anchor = rotation(anchor, override)
    if programme is not None and programme.schedule.slots:
        tuning = Tuning(anchor.video_id, anchor.started_at, anchor.slot, anchor.back_id)
        air = on_air(
            playlist, programme.catalog, programme.schedule, programme.zone, tuning, now
        )
        if air.video is None:
            return None
        following = air.next if air.next is not None else air.video
        return NowPlaying(
            air.index, air.video, air.started_at, following,
            until=air.ends_at, slot=air.tuning.slot, back_id=air.tuning.back_id,
            total=air.total if air.window is not None else None,
        )
    found = locate(playlist, anchor.video_id, anchor.started_at, now)
    if found is None:
        return None
    index, started_at = found
    return NowPlaying(index, playlist[index], started_at, playlist[(index + 1) % len(playlist)])


def reanchor(
    playlist: Sequence[Video],
    anchor: Anchor,
    now: float,
    override: Video | None = None,
    programme: Programme | None = None,
) -> Anchor:
    """An equivalent anchor on the video playing at `now`.

    Re-anchoring before every playlist change is what keeps the current video from jumping when
    another one is added, removed or moved: only the future changes. It is also how a slot's
    boundary is recorded: the anchor then names the slot's turn.
    """
    current = now_playing(playlist, anchor, now, override, programme)
    if current is None:
        return Anchor(None, now)
    if current.override:
        return anchor
    return current.anchor


def after_removal(
    playlist: Sequence[Video],
    anchor: Anchor,
    removed_id: str,
    now: float,
    override: Video | None = None,
    programme: Programme | None = None,
) -> Anchor:
    """The anchor once `removed_id` leaves the rotation (deleted or hidden): unchanged for
    others, the next video now for it. An override of it ends; one that was to resume with it
    resumes with the video after it."""
    current = now_playing(playlist, anchor, now, override, programme)
    if current is None:
        return Anchor(None, now)
    following = current.next.id if current.next.id != removed_id else None
    if current.override:
        if current.video.id == removed_id:
            return anchor.moved(anchor.resume_id, now)
        if anchor.resume_id == removed_id:
            return anchor.moved(anchor.video_id, anchor.started_at, following or "")
        return anchor
    if current.video.id != removed_id:
        return current.anchor
    return current.anchor.moved(following, now)


def skip(
    playlist: Sequence[Video],
    anchor: Anchor,
    now: float,
    override: Video | None = None,
    programme: Programme | None = None,
) -> Anchor:
    """Start the next video now (during an override: end it, the rotation resumes); at the
    end of a slot's turn, what comes after it starts now."""
    current = now_playing(playlist, anchor, now, override, programme)
    if current is None:
        return Anchor(None, now)
    if current.override:
        return anchor.moved(current.next.id, now)
    if current.until is None:
        return current.anchor.moved(current.next.id, now)
    # A slot's boundary comes next: what follows it, in its turn, starts now. (The boundary is
    # the schedule's own figure, so asking at it lands exactly past it.)
    after = now_playing(playlist, anchor, current.until, override, programme)
    if after is None:
        return Anchor(current.next.id, now)
    return after.anchor.moved(after.video.id, now)


def start_override(
    playlist: Sequence[Video],
    anchor: Anchor,
    now: float,
    video_id: str,
    override: Video | None = None,
    programme: Programme | None = None,
) -> Anchor:
    """Play `video_id` now, then resume with the video it interrupted (from its start); an
    override of an override resumes where the first one would have."""
    current = now_playing(playlist, anchor, now, override, programme)
    if current is not None and current.override:
        return anchor.moved(video_id, now, anchor.resume_id)
    if current is None:
        return Anchor(video_id, now, "")
    return current.anchor.moved(video_id, now, current.video.id)


def end_override(
    playlist: Sequence[Video],
    anchor: Anchor,
    now: float,
    override: Video | None = None,
    programme: Programme | None = None,
) -> Anchor:
    """Stop an override now: the video it interrupted starts (from its beginning)."""
    current = now_playing(playlist, anchor, now, override, programme)
    if current is not None and current.override:
        return anchor.moved(anchor.resume_id, now)
    return reanchor(playlist, anchor, now, override, programme)


def retune(
    playlist: Sequence[Video],
    anchor: Anchor,
    now: float,
    override: Video | None,
    old: Programme,
    new: Programme,
) -> Anchor:
    """The anchor under a new schedule. What plays now plays on when the new schedule plays it
    too (a slot added for tomorrow); otherwise (a slot added or removed around now) what the new
    schedule plays now starts now. An override plays on either way."""
    before = now_playing(playlist, anchor, now, override, old)
    if before is not None and before.override:
        return anchor
    if before is not None:
        after = now_playing(playlist, before.anchor, now, None, new)
        if after is not None and after.anchor == before.anchor:
            return before.anchor
    # The default playlist from now, restarting the video a slot interrupted (or the one that
    # was playing); a slot that covers `now` in the new schedule takes over at once.
    resume = None if before is None else before.back_id if before.slot else before.video.id
    fresh = Anchor(resume, now)
    started = now_playing(playlist, fresh, now, None, new)
    return started.anchor if started is not None else fresh
