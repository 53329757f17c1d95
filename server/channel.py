"""The channel: the store's state turned into what plays now, kept current and announced.

All state lives in the store; this object only caches the last read, runs the switch timer and
publishes one encoded event per change to this process's SSE clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from shared.protocol import Item, Reason, State

from . import clock
from .captions import captions_url
from .catalog import READY, Video
from .clock import Anchor, NowPlaying
from .events import data
from .fanout import Fanout
from .fanout.local import LocalFanout
from .logs import event
from .posters import poster_url
from .store import Counts, Snapshot, Store
from .transcode import sources

log = logging.getLogger(__name__)

PRESENCE_INTERVAL = 2.0
COALESCE = 0.05  # at most one vote event per this many seconds: bursts gather meanwhile
FOLLOW_RETRY = 1.0  # seconds between attempts to follow a store that failed
# Changes a background loop notices, possibly after another event already carried them. A change
# made here (a vote, a reorder) is always announced under its own reason, even when the follow or
# presence loop won the race and already sent the same state as "sync" or "viewers".
NOTICED: frozenset[Reason] = frozenset({"sync", "switch", "viewers"})
# One keep-alive comment broadcast to every client, rather than a timer per client: with
# 10,000 idle viewers per-client timers fired ~670 times a second, each a cancelled task and
# two exceptions (cyclic garbage); a broadcast is a single loop over the queues.
KEEPALIVE_INTERVAL = 10.0
GC_YOUNG = 200_000
# Each stream that ends leaves ~10 KiB of cyclic garbage, which the young generation above lets
# wait (2,000 abandoned streams took RSS from 99 to 165 MB): a full collection after this many
# departures bounds it (to ~5 MB), at most once per keep-alive interval.
GC_AFTER_DEPARTURES = 500

# A change of the schedule: from the current playlist, anchor, time and override video (the
# video an overriding anchor names), the new anchor.
Change = Callable[[Sequence[Video], Anchor, float, Video | None], Anchor]


class ChannelError(Exception):
    """A change the channel refuses, with the reason for whoever asked."""


def tune_gc_for_many_streams() -> None:
    """10,000 idle viewers are ~1.5 million long-lived objects. With CPython's default young
    generation (700 allocations) the objects alive during one broadcast to all of them (some
    50,000 at its peak) get promoted, and the old-generation scans this triggers paused the loop
    for about a second each (measured with bench/fanout.py). A young generation larger than a
    broadcast's peak means no collection runs in the middle of one, and those objects die
    young; the price is up to that many objects of cyclic garbage waiting a little longer."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG), max(middle, 20), old)


def worth_announcing(shown: int, counted: int) -> bool:
    """Whether a new viewer count is worth an event to everybody: any change while fewer than
    100 watch, then a change of more than 1 %. With 100,000 viewers the count moves at every
    poll, and an exact count every 2 s would be most of the events all of them receive."""
    return abs(counted - shown) > shown // 100


class Channel:
    def __init__(
        self, store: Store, broker: Fanout | None = None, now: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.broker: Fanout = LocalFanout() if broker is None else broker  # len() may be 0
        self.now = now
        self.worker_id = uuid.uuid4().hex
        self.videos: list[Video] = []
        self.anchor = Anchor(None, 0.0)
        self.banner = ""
        self.version = -1
        self.counts: dict[str, Counts] = {}
        self.viewers = 0
        self.switches = 0  # switches this process won the race to record
        self._event_id = 0
        self._last_published: dict[str, Any] | None = None
        self._changed = asyncio.Event()
        self._pending: Reason | None = None
        self._wake_publisher = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # -- reading ---------------------------------------------------------------------------

    @property
    def playlist(self) -> list[Video]:
        return [v for v in self.videos if v.playable]

    def find(self, video_id: str) -> Video | None:
        """A video of the catalog (a deleted sample's marker is not one)."""
        return next((v for v in self.videos if v.id == video_id and not v.gone), None)

    def current(self, now: float | None = None) -> NowPlaying | None:
        now = self.now() if now is None else now
        override = _override(self.videos, self.anchor)
        return clock.now_playing(self.playlist, self.anchor, now, override)

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
        self.version = snapshot.state.version
        self.counts = await self.store.counts()

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

    def item(self, video: Video, start_time: float) -> Item:
        listed = sources(video)  # the WebM rendition first, which every screen can play
        item: Item = {
            "id": video.id,
            "title": video.title,
            "video_url": listed[0]["url"],
            "sources": listed,
            "duration": video.duration,
            "start_time": start_time,
        }
        if (poster := poster_url(video)) is not None:
            item["poster"] = poster
        if (captions := captions_url(video)) is not None:
            item["captions"] = captions
        return item

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
            return {**empty, **base, "start_time": now, "index": -1, "next": None}
        counts = self.counts.get(current.video.id, Counts())
        if current.override:
            base["override"] = {
                "id": current.video.id,
                "title": current.video.title,
                "ends_at": current.ends_at,
            }
        state: State = {
            **self.item(current.video, current.started_at),
            **base,
            "index": current.index,
            "total": len(self.playlist),
            "likes": counts.likes,
            "dislikes": counts.dislikes,
            "next": self.item(current.next, current.ends_at),
        }
        return state

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
        self._pending = reason
        self._wake_publisher.set()

    # -- changing ---------------------------------------------------------------------------

    async def _mutate(
        self,
        change: Change,
        *,
        upsert: Sequence[Video] = (),
        remove: str | None = None,
        order: Callable[[Snapshot], list[str]] | None = None,
    ) -> None:
        """Optimistic concurrency: recompute from fresh state until our write wins."""
        while True:
            snapshot = await self._load()
            state = snapshot.state
            override = _override(snapshot.videos, state.anchor)
            anchor = change(snapshot.playlist, state.anchor, self.now(), override)
            ids = order(snapshot) if order is not None else None
            if await self.store.commit(
                state.version, anchor, upsert=upsert, remove=remove, order=ids
            ):
                break
        await self.refresh()
        self._changed.set()

    async def upsert(self, video: Video) -> None:
        known = self.find(video.id)
        if known is not None and known.playable and not video.playable:
            # Leaving the rotation (hidden, say): if it is playing, the next one starts now.
            await self._mutate(_leaving(video.id), upsert=[video])
        else:
            await self._mutate(clock.reanchor, upsert=[video])
        self.publish("playlist")

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
            current = clock.now_playing(snapshot.playlist, anchor, self.now(), override)
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
        if video is None or video.status != READY or video.duration <= 0:
            raise ChannelError("Only a stored, ready video can play on every screen.")
        await self._mutate(
            lambda playlist, anchor, now, override: clock.start_override(
                playlist, anchor, now, video_id, override
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

    async def set_banner(self, text: str) -> None:
        await self.store.set_banner(text)
        await self.refresh()
        self.publish("banner")

    async def vote(self, video_id: str, viewer_id: str, value: int) -> Counts:
        counts = await self.store.vote(video_id, viewer_id, value)
        self.counts[video_id] = counts
        self.publish_soon("vote")
        return counts

    async def advance(self) -> bool:
        """Record the switch the clock already implies. Every worker may race to do it; the
        store's version check lets exactly one write win and the others just reload."""
        snapshot = await self._load()
        anchor = snapshot.state.anchor
        anchor = clock.reanchor(
            snapshot.playlist, anchor, self.now(), _override(snapshot.videos, anchor)
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

    # -- background work ---------------------------------------------------------------------

    async def start(self) -> None:
        tune_gc_for_many_streams()
        await self.refresh()
        self.publish("sync")  # a fan-out that keeps the last event (nchan) has one from now on
        self._tasks = [
            asyncio.create_task(loop())
            for loop in (
                self._switch_loop,
                self._follow_loop,
                self._presence_loop,
                self._publisher,
                self._keepalive_loop,
            )
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _switch_loop(self) -> None:
        while True:
            # Clear before reading, so a change landing in between still wakes the wait.
            self._changed.clear()
            current = self.current()
            timeout = None if current is None else max(0.0, current.ends_at - self.now())
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
                continue  # the playlist changed: recompute the next switch
            except TimeoutError:
                pass
            if current is not None and self.now() < current.ends_at:
                continue  # woke a hair early
            try:
                await self.advance()
            except Exception as error:
                log.warning("recording the switch failed (%s); clients follow the clock", error)
            self.publish("switch")

    async def _follow_loop(self) -> None:
        while True:
            try:
                async for _ in self.store.changes():
                    await self.refresh()
                    self._changed.set()
                    self.publish("sync")
            except Exception as error:
                # Store away: keep serving the cached state (the clock needs nothing else).
                # A fresh changes() yields as soon as it can, so the reload is not lost.
                log.warning("following the store failed (%s); retrying", error)
            await asyncio.sleep(FOLLOW_RETRY)

    async def _presence_loop(self) -> None:
        while True:
            try:
                total = await self.broker.viewers(
                    lambda mine: self.store.report_viewers(self.worker_id, mine, self.now())
                )
            except Exception as error:
                log.warning("reporting viewers failed (%s)", error)
            else:
                if worth_announcing(self.viewers, total):
                    self.viewers = total
                    self.publish("viewers")
            await asyncio.sleep(PRESENCE_INTERVAL)

    async def _keepalive_loop(self) -> None:
        collected_at = self.broker.departed
        while True:
            await asyncio.sleep(KEEPALIVE_INTERVAL)
            self.broker.ping()
            if self.broker.departed - collected_at >= GC_AFTER_DEPARTURES:
                collected_at = self.broker.departed
                gc.collect()

    async def _publisher(self) -> None:
        # The first vote after a quiet spell goes out at once (waiting first cost every lone
        # like 50 ms); the votes that arrive in the pause after it go out together.
        while True:
            await self._wake_publisher.wait()
            self._wake_publisher.clear()
            if self._pending is not None:
                reason, self._pending = self._pending, None
                self.publish(reason)
            await asyncio.sleep(COALESCE)



def _override(videos: Sequence[Video], anchor: Anchor) -> Video | None:
    """The video an overriding anchor names (it may be out of the rotation)."""
    if not anchor.overriding:
        return None
    return next((v for v in videos if v.id == anchor.video_id), None)


def _leaving(video_id: str) -> Change:
    def change(
        playlist: Sequence[Video], anchor: Anchor, now: float, override: Video | None
    ) -> Anchor:
        return clock.after_removal(playlist, anchor, video_id, now, override)

    return change


def _ordered(snapshot: Snapshot, ids: Sequence[str]) -> list[str]:
    """Every video's id: `ids` first in that order, then the others as they were."""
    first = [i for i in ids if any(v.id == i for v in snapshot.videos)]
    return first + [v.id for v in snapshot.videos if v.id not in set(first)]
