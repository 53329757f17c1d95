"""What keeps a channel current while the server runs: five background loops.

The switch timer records each switch the clock implies; the follower takes in other processes'
changes; presence reports viewers; the publisher coalesces bursts (votes) into a few events; and
one keep-alive comment goes to every client at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

from .channel import Channel

log = logging.getLogger(__name__)

PRESENCE_INTERVAL = 2.0
COALESCE = 0.05  # at most one vote event per this many seconds: bursts gather meanwhile
FOLLOW_RETRY = 1.0  # seconds between attempts to follow a store that failed
# One keep-alive comment broadcast to every client, rather than a timer per client: with
# 10,000 idle viewers per-client timers fired ~670 times a second, each a cancelled task and
# two exceptions (cyclic garbage); a broadcast is a single loop over the queues.
KEEPALIVE_INTERVAL = 10.0
GC_YOUNG = 200_000
# Each stream that ends leaves ~10 KiB of cyclic garbage, which the young generation above lets
# wait (2,000 abandoned streams took RSS from 99 to 165 MB): a full collection after this many
# departures bounds it (to ~5 MB), at most once per keep-alive interval.
GC_AFTER_DEPARTURES = 500


def tune_gc_for_many_streams() -> None:
    """10,000 idle viewers are ~1.5 million long-lived objects. With CPython's default young
    generation (700 allocations) the objects alive during one broadcast to all of them (some
    50,000 at its peak) get promoted, and the old-generation scans this triggers paused the loop
    for about a second each (measured with bench/fanout.py). A young generation larger than a
    broadcast's peak means no collection runs in the middle of one, and those objects die
    young; the price is up to that many objects of cyclic garbage waiting a little longer."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG), max(middle, 20), old)


class ChannelLoops:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        tune_gc_for_many_streams()
        await self.channel.refresh()
        self.channel.publish("sync")  # a fan-out that keeps the last event (nchan) has one now
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
        channel = self.channel
        while True:
            # Clear before reading, so a change landing in between still wakes the wait.
            channel.changed.clear()
            wake = channel.wake_at(channel.now())
            timeout = None if wake is None else max(0.0, wake - channel.now())
            try:
                await asyncio.wait_for(channel.changed.wait(), timeout)
                continue  # the playlist changed: recompute the next switch
            except TimeoutError:
                pass
            if wake is not None and channel.now() < wake:
                continue  # woke a hair early
            try:
                await channel.advance()
            except Exception as error:
                log.warning("recording the switch failed (%s); clients follow the clock", error)
            channel.publish("switch")

    async def _follow_loop(self) -> None:
        while True:
            try:
                async for change in self.channel.store.changes():
                    await self.channel.follow(change)
            except Exception as error:
                # Store away: keep serving the cached state (the clock needs nothing else).
                # A fresh changes() yields everything as soon as it can, so nothing is lost.
                log.warning("following the store failed (%s); retrying", error)
            await asyncio.sleep(FOLLOW_RETRY)

    async def _presence_loop(self) -> None:
        while True:
            try:
                moved = await self.channel.count_viewers()
            except Exception as error:
                log.warning("reporting viewers failed (%s)", error)
            else:
                if moved:
                    self.channel.publish("viewers")
            await asyncio.sleep(PRESENCE_INTERVAL)

    async def _keepalive_loop(self) -> None:
        broker = self.channel.broker
        collected_at = broker.departed
        while True:
            await asyncio.sleep(KEEPALIVE_INTERVAL)
            self.channel.keepalive()
            if broker.departed - collected_at >= GC_AFTER_DEPARTURES:
                collected_at = broker.departed
                gc.collect()

    async def _publisher(self) -> None:
        # The first vote after a quiet spell goes out at once (waiting first cost every lone
        # like 50 ms); the votes that arrive in the pause after it go out together.
        channel = self.channel
        while True:
            await channel.publish_wanted.wait()
            channel.publish_wanted.clear()
            if channel.pending is not None:
                reason, channel.pending = channel.pending, None
                channel.publish(reason)
            await asyncio.sleep(COALESCE)
