"""The channel: the store's state turned into what plays now, and its verbs.

All state lives in the store; this object caches the last read, changes the state through the
store (votes, uploads, removals, order, overrides, switches) and publishes one encoded event per
change to this process's SSE clients. What keeps it current over time (the switch timer,
following other workers, presence, coalescing, keep-alives) runs in channel_loops.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from shared.programme import next_turn
from shared.protocol import RETRY_MS, Reason, State
from shared.slots import Schedule

from . import catalog, clock
from .catalog import Counts, Status, Video
from .clock import Anchor, NowPlaying, Programme
from .events import data, encode
from .fanout import Fanout
from .fanout.local import LocalFanout
from .logs import event
from .store import Change, Snapshot, Store, Vote

log = logging.getLogger(__name__)

# Changes a background loop notices, possibly after another event already carried them. A change
# made here (a vote, a reorder) is always announced under its own reason, even when the follow or
# presence loop won the race and already sent the same state as "sync" or "viewers".
NOTICED: frozenset[Reason] = frozenset({"sync", "switch", "viewers"})

# A change of the schedule: from the current playlist, anchor, time, override video (the video
# an overriding anchor names) and programme (the schedule), the new anchor.
Reanchor = Callable[[Sequence[Video], Anchor, float, Video | None, Programme], Anchor]

UTC = ZoneInfo("UTC")
T = TypeVar("T")


class ChannelError(Exception):
    """A change the channel refuses, with the reason for whoever asked."""


async def found_or_reread(
    find: Callable[[], T | None], reread: Callable[[], Awaitable[None]]
) -> T | None:
    """What `find` finds, else what it finds once the store was read again: with several
    workers, another one may have just written it, before its change reached this one."""
    found = find()
    if found is None:
        await reread()
        found = find()
    return found


def worth_announcing(shown: int, counted: int) -> bool:
    """Whether a new viewer count is worth an event to everybody: any change while fewer than
    100 watch, then a change of more than 1 %. With 100,000 viewers the count moves at every
    poll, and an exact count every 2 s would be most of the events all of them receive."""
    return abs(counted - shown) > shown // 100


class Channel:
    def __init__(
        self,
        store: Store,
        broker: Fanout | None = None,
        now: Callable[[], float] = time.time,
        zone: ZoneInfo = UTC,
        slug: str | None = None,
    ) -> None:
        self.store = store
        self.zone = zone  # the schedule's wall-clock times are in this time zone
        self.slug = slug  # None: the default channel
        self.broker: Fanout = LocalFanout() if broker is None else broker  # len() may be 0
        self.now = now
        self.worker_id = uuid.uuid4().hex
        self.videos: list[Video] = []
        self.anchor = Anchor(None, 0.0)
        self.banner = ""
        self.schedule = Schedule()
        self.version = -1
        self._current: tuple[tuple[int, int, int], NowPlaying] | None = None
        self.counts: dict[str, Counts] = {}
        self.viewers = 0
        self.switches = 0  # switches this process won the race to record
        self._event_id = 0
        self._last_published: dict[str, Any] | None = None
        # Set whenever the playlist or anchor changed: the switch timer recomputes.
        self.changed = asyncio.Event()
        # A publication asked for "soon" (a vote): the coalescing loop sends it.
        self.pending: Reason | None = None
        self.publish_wanted = asyncio.Event()

    # -- reading ---------------------------------------------------------------------------

    @property
    def playlist(self) -> list[Video]:
        return [v for v in self.videos if v.playable]

    def find(self, video_id: str) -> Video | None:
        """A video of the catalog (a deleted sample's marker is not one)."""
        return next((v for v in self.videos if v.id == video_id and not v.gone), None)

    async def lookup(self, video_id: str) -> Video | None:
        """`find`, reading the store again on a miss: another worker may have added the video
        a moment ago, before its change reached this one (an admin approving a fresh upload)."""
        return await found_or_reread(lambda: self.find(video_id), self.refresh)

    def position(self, video_id: str) -> int | None:
        """The video's index in the rotation; None when it is out of it."""
        return next((i for i, v in enumerate(self.playlist) if v.id == video_id), None)

    @property
    def programme(self) -> Programme:
        return _programme(self.videos, self.schedule, self.zone)

    def current(self, now: float | None = None) -> NowPlaying | None:
        now = self.now() if now is None else now
        # Every viewer connecting asks; with a schedule the answer costs ~1 ms, and it stays
        # the same while the video plays and the state has not moved.
        key = (self.version, id(self.videos), id(self.schedule))
        if self._current is not None and self._current[0] == key:
            cached = self._current[1]
            if cached.started_at <= now < cached.ends_at:
                return cached
        override = _override(self.videos, self.anchor)
        playing = clock.now_playing(self.playlist, self.anchor, now, override, self.programme)
        self._current = (key, playing) if playing is not None else None
        return playing

    def programme_view(self, now: float | None = None) -> dict[str, Any]:
        """GET /programme: the slots, their time zone, the videos they can play (each once, in
        the order first named; hidden ones too, which no viewer's listing has) and the anchor of
        what plays now with the slot's turn it is in: all a kiosk needs to work out what plays
        at any time with shared/programme.py, as the server does, while the server is away."""
        now = self.now() if now is None else now
        current = self.current(now)
        anchor = current.anchor if current is not None else self.anchor
        eligible = self.programme.catalog
        named = dict.fromkeys(v for slot in self.schedule.slots for v in slot.playlist)
        return {
            "timezone": self.zone.key,
            **self.schedule.to_json(),
            "videos": [
                catalog.listing(eligible[v], self.position(v), self.counts.get(v, Counts()))
                for v in named
                if v in eligible
            ],
            "anchor": {
                "id": anchor.video_id,
                "start_time": anchor.started_at,
                "slot": anchor.slot,
                "back_id": anchor.back_id,
            },
            "server_time": now,
        }

    def wake_at(self, now: float) -> float | None:
        """When what plays changes by itself: the current video's end (or the slot boundary
        that cuts it), or with nothing playing, the start of the next slot's turn."""
        current = self.current(now)
        if current is not None:
            return current.ends_at
        programme = self.programme
        return next_turn(self.schedule, self.zone, programme.catalog, now)

    async def _load(self) -> Snapshot:
        """The store's state, first restored from this process's copy if the store is blank
        (never written: version 0) while this process knows a catalog. Every read that may lead
        to a write goes through here: a write on a blank store (a switch, an upload) would make
        it look used and so lose the catalog for good."""
        snapshot = await self.store.load()
        if snapshot.state.version == 0 and not snapshot.videos and self.videos:
            snapshot = await self._restore()
        return snapshot

    async def refresh(self) -> None:
        snapshot = await self._load()
        self.videos = snapshot.videos
        self.anchor = snapshot.state.anchor
        self.banner = snapshot.state.banner
        self.schedule = snapshot.state.schedule
        self.version = snapshot.state.version
        self.counts = await self.store.counts()

    async def follow(self, change: Change) -> None:
        """Take in what another process changed, reloading only that, and announce it."""
        if change.catalog:
            await self.refresh()
            self.changed.set()
            self.publish("sync")
            return
        fresh = await self.store.counts(change.votes)
        for video_id in change.votes:
            self.counts[video_id] = fresh.get(video_id, Counts())
        self.publish_soon("vote")

    async def _restore(self) -> Snapshot:
        """The store is new while this process knows a catalog: Redis restarted without
        persistence. Write back what this process holds, so the channel goes on where it
        was instead of going blank (the votes are gone; only Redis persistence keeps them)."""
        log.warning("the store came back empty; restoring %d videos", len(self.videos))
        # One write of the whole catalog with the anchor: a partial catalog in the store would
        # let any worker's clock re-anchor on it and shift the schedule. Another worker
        # restoring at the same moment wins or loses the version check as a whole.
        await self.store.commit(0, self.anchor, upsert=self.videos)
        return await self.store.load()

    # -- the state clients see -------------------------------------------------------------

    def state(self, reason: Reason, now: float | None = None) -> State:
        now = self.now() if now is None else now
        current = self.current(now)
        base: dict[str, Any] = {
            "reason": reason,
            "viewers": self.viewers,
            "total": 0,
            "banner": self.banner,
            "override": None,
        }
        if current is None:
            empty = {"id": "", "title": "", "video_url": "", "sources": [], "duration": 0.0}
            return cast(State, {**empty, **base, "start_time": now, "index": -1, "next": None})
        counts = self.counts.get(current.video.id, Counts())
        if current.override:
            base["override"] = {
                "id": current.video.id,
                "title": current.video.title,
                "ends_at": current.ends_at,
            }
        state = {
            **catalog.item(current.video, current.started_at),
            **base,
            "index": current.index,
            "total": current.total if current.total is not None else len(self.playlist),
            "likes": counts.likes,
            "dislikes": counts.dislikes,
            "next": catalog.item(current.next, current.ends_at),
        }
        # An Item widened into a State: mypy's strict mode cannot check that merge itself.
        return cast(State, state)

    @property
    def last_event_id(self) -> int:
        return self._event_id

    def publish(self, reason: Reason) -> None:
        state = self.state(reason)
        material = {k: v for k, v in state.items() if k != "reason"}
        if reason in NOTICED and material == self._last_published:
            return  # e.g. another worker recorded a switch this process already announced
        self._last_published = material
        self._event_id += 1
        self.broker.publish(data({**state, "server_time": self.now()}), self._event_id)

    def publish_soon(self, reason: Reason) -> None:
        """Coalesce bursts (200 votes in a second) into a few events (20 a second at most)."""
        self.pending = reason
        self.publish_wanted.set()

    def keepalive(self) -> None:
        self.broker.ping()

    @property
    def local_fanout(self) -> LocalFanout | None:
        """The viewers' streams when they connect to this process; None when nginx's nchan
        holds them (the app only publishes to it)."""
        return self.broker if isinstance(self.broker, LocalFanout) else None

    def first_event(self, my_votes: dict[str, int]) -> bytes:
        """What a viewer connecting to this process's stream gets first: always the full
        state, so a reconnecting client (Last-Event-ID) is simply current."""
        state = {**self.state("connect"), "server_time": self.now(), "my_votes": my_votes}
        return encode(state, event_id=self.last_event_id, retry_ms=RETRY_MS)

    # -- changing ---------------------------------------------------------------------------

    async def _mutate(
        self,
        change: Reanchor,
        *,
        upsert: Sequence[Video] = (),
        remove: str | None = None,
        order: Callable[[Snapshot], list[str]] | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        """Optimistic concurrency: recompute from fresh state until our write wins."""
        while True:
            snapshot = await self._load()
            ids = order(snapshot) if order is not None else None
            if await self._commit(
                snapshot, change, upsert=upsert, remove=remove, order=ids, schedule=schedule
            ):
                break
        await self.refresh()
        self.changed.set()

    async def _commit(
        self,
        snapshot: Snapshot,
        change: Reanchor,
        *,
        upsert: Sequence[Video] = (),
        remove: str | None = None,
        order: Sequence[str] | None = None,
        schedule: Schedule | None = None,
    ) -> bool:
        """One attempt at a write on the state `snapshot` holds; False when another writer got
        there first."""
        state = snapshot.state
        override = _override(snapshot.videos, state.anchor)
        programme = _programme(snapshot.videos, state.schedule, self.zone)
        anchor = change(snapshot.playlist, state.anchor, self.now(), override, programme)
        return await self.store.commit(
            state.version, anchor, upsert=upsert, remove=remove, order=order, schedule=schedule
        )

    async def upsert(self, video: Video) -> None:
        """Write a video whole: a new one (an upload, a file a listing found). A known video
        is changed with `patch`, which cannot undo a concurrent change."""
        known = self.find(video.id)
        if known is not None and known.playable and not video.playable:
            # Leaving the rotation (hidden, say): if it is playing, the next one starts now.
            await self._mutate(_leaving(video.id), upsert=[video])
        else:
            await self._mutate(clock.reanchor, upsert=[video])
        self.publish("playlist")

    async def patch(self, video_id: str, change: Callable[[Video], Video]) -> Video | None:
        """Change a video as the store holds it now, not as this process last saw it: `change`
        gets the stored entry, within the write's version check, and returns it changed. So a
        writer changes only its own fields (a poster made, a conversion done, a new title) and
        never undoes what another writer did meanwhile (an admin hiding it, a conversion
        finishing). Returns the video as written; None when it is gone (nothing is written)."""
        while True:
            snapshot = await self._load()
            stored = next((v for v in snapshot.videos if v.id == video_id and not v.gone), None)
            if stored is None:
                return None
            patched = change(stored)
            if patched == stored and patched.meta == stored.meta:
                return stored  # already so: no write, no event
            # Leaving the rotation (hidden, say): if it is playing, the next one starts now.
            leaving = stored.playable and not patched.playable
            reanchor = _leaving(video_id) if leaving else clock.reanchor
            if await self._commit(snapshot, reanchor, upsert=[patched]):
                break
        await self.refresh()
        self.changed.set()
        self.publish("playlist")
        return patched

    async def remove(self, video_id: str) -> None:
        await self._mutate(_leaving(video_id), remove=video_id)
        self.publish("playlist")

    async def skip(self) -> None:
        await self._mutate(clock.skip)
        self.publish("switch")
        self._log_switch("skip")

    async def reorder(self, ids: Sequence[str]) -> None:
        """The rotation in this order (every video in it, once; others may be included).
        The playing video plays on; the next switch follows the new order."""
        known = {v.id for v in self.videos if not v.gone}
        if len(set(ids)) != len(ids):
            raise ChannelError("Each id may appear only once.")
        if unknown := [i for i in ids if i not in known]:
            raise ChannelError(f"Unknown video ids: {', '.join(unknown)}.")
        if missing := [v.id for v in self.playlist if v.id not in ids]:
            raise ChannelError(
                f"Missing from the new order: {', '.join(missing)} "
                "(every video in the rotation must be listed; reload the list)."
            )
        await self._mutate(clock.reanchor, order=lambda snapshot: _ordered(snapshot, ids))
        self.publish("playlist")

    async def play_next(self, video_id: str) -> None:
        """Move a video of the rotation to right after the one playing now."""

        def order(snapshot: Snapshot) -> list[str]:
            anchor = snapshot.state.anchor
            override = _override(snapshot.videos, anchor)
            programme = _programme(snapshot.videos, snapshot.state.schedule, self.zone)
            current = clock.now_playing(snapshot.playlist, anchor, self.now(), override, programme)
            ids = [v.id for v in snapshot.playlist if v.id != video_id]
            after = None  # during an override, after the video the rotation resumes with
            if current is not None:
                after = anchor.resume_id if current.override else current.video.id
            ids.insert(ids.index(after) + 1 if after in ids else 0, video_id)
            return _ordered(snapshot, ids)

        if video_id not in {v.id for v in self.playlist}:
            raise ChannelError("Only a video in the rotation can play next.")
        playing = self.current()
        if playing is not None and not playing.override and playing.video.id == video_id:
            raise ChannelError("That video is playing now.")
        await self._mutate(clock.reanchor, order=order)
        self.publish("playlist")

    async def start_override(self, video_id: str) -> None:
        video = self.find(video_id)
        if video is None or video.status != Status.READY or video.duration <= 0:
            raise ChannelError("Only a stored, ready video can play on every screen.")
        await self._mutate(
            lambda playlist, anchor, now, override, programme: clock.start_override(
                playlist, anchor, now, video_id, override, programme
            )
        )
        self.publish("switch")

    async def end_override(self) -> bool:
        """End the override now (the rotation resumes); False if none was playing."""
        current = self.current()
        if current is None or not current.override:
            return False
        await self._mutate(clock.end_override)
        self.publish("switch")
        return True

    async def set_schedule(self, schedule: Schedule) -> None:
        """Replace the schedule. What plays now plays on unless the new schedule changes what
        plays at this moment (a slot added or removed around now): then that starts now."""

        def change(
            playlist: Sequence[Video],
            anchor: Anchor,
            now: float,
            override: Video | None,
            programme: Programme,
        ) -> Anchor:
            new = Programme(schedule, programme.zone, programme.catalog)
            return clock.retune(playlist, anchor, now, override, programme, new)

        await self._mutate(change, schedule=schedule)
        self.publish("playlist")

    async def set_banner(self, text: str) -> None:
        await self.store.set_banner(text)
        await self.refresh()
        self.publish("banner")

    async def toggle_vote(self, video_id: str, viewer_id: str, value: int) -> Vote:
        """The viewer presses like (+1) or dislike (-1): the vote is set, changed, or
        withdrawn when it already was that, atomically in the store."""
        vote = await self.store.toggle_vote(video_id, viewer_id, value)
        self.counts[video_id] = vote.counts
        self.publish_soon("vote")
        return vote

    async def my_votes(self, viewer_id: str) -> dict[str, int]:
        """The viewer's votes by video id (+1 or -1)."""
        return await self.store.viewer_votes(viewer_id)

    async def advance(self) -> bool:
        """Record the switch the clock already implies. Every worker may race to do it; the
        store's version check lets exactly one write win and the others just reload."""
        snapshot = await self._load()
        anchor = snapshot.state.anchor
        programme = _programme(snapshot.videos, snapshot.state.schedule, self.zone)
        anchor = clock.reanchor(
            snapshot.playlist, anchor, self.now(), _override(snapshot.videos, anchor), programme
        )
        won = anchor != snapshot.state.anchor and await self.store.commit(
            snapshot.state.version, anchor
        )
        if won:
            self.switches += 1
        await self.refresh()
        if won:
            self._log_switch("clock")
        return won

    def _log_switch(self, reason: str) -> None:
        if (playing := self.current()) is not None:
            video = playing.video
            event(
                "switch",
                f"switch to {video.title}",
                video_id=video.id,
                title=video.title,
                reason=reason,
            )

    async def count_viewers(self) -> bool:
        """Report this process's viewers and learn the channel's total; True when the change
        is worth announcing (see worth_announcing)."""
        total = await self.broker.viewers(
            lambda mine: self.store.report_viewers(self.worker_id, mine, self.now())
        )
        if not worth_announcing(self.viewers, total):
            return False
        self.viewers = total
        return True

    # -- health ----------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return {
            "store": await self.store.health(),
            "videos": len(self.playlist),
            "viewers": self.viewers,
            "connections": len(self.broker),
            # Per process: with several workers, which one answered and how many of the
            # channel's switches it recorded (the race lets exactly one worker record each).
            "worker": self.worker_id,
            "switches": self.switches,
            "dropped": self.broker.dropped,
        }


def _override(videos: Sequence[Video], anchor: Anchor) -> Video | None:
    """The video an overriding anchor names (it may be out of the rotation)."""
    if not anchor.overriding:
        return None
    return next((v for v in videos if v.id == anchor.video_id), None)


def _programme(videos: Sequence[Video], schedule: Schedule, zone: ZoneInfo) -> Programme:
    """A slot may play any ready video of the channel: hidden ones too (hiding keeps a video
    out of the default playlist, e.g. a lunch menu that plays only in its slot)."""
    eligible = {
        v.id: v
        for v in videos
        if v.status == Status.READY and v.duration > 0 and v.approved and not v.gone
    }
    return Programme(schedule, zone, eligible)


def _leaving(video_id: str) -> Reanchor:
    def change(
        playlist: Sequence[Video],
        anchor: Anchor,
        now: float,
        override: Video | None,
        programme: Programme,
    ) -> Anchor:
        return clock.after_removal(playlist, anchor, video_id, now, override, programme)

    return change


def _ordered(snapshot: Snapshot, ids: Sequence[str]) -> list[str]:
    """Every video's id: `ids` first in that order, then the others as they were."""
    first = [i for i in ids if any(v.id == i for v in snapshot.videos)]
    return first + [v.id for v in snapshot.videos if v.id not in set(first)]
