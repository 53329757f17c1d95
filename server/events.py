"""Server-Sent Events: encoding, and the fan-out of one encoded event to every client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

KEEPALIVE = b": ping\n\n"


def encode(data: Any, *, event_id: int | None = None, retry_ms: int | None = None) -> bytes:
    lines = []
    if retry_ms is not None:
        lines.append(f"retry: {retry_ms}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    # Compact JSON has no newlines, so one data: line is always enough.
    lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


class Broker:
    """Each client has a small bounded queue of already-encoded events. A client that falls
    that far behind is dropped: it reconnects and gets the full state, which costs less than
    buffering for it without bound."""

    def __init__(self, queue_size: int = 32) -> None:
        self._queues: set[asyncio.Queue[bytes | None]] = set()
        self._queue_size = queue_size
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._queues)

    def publish(self, message: bytes) -> None:
        for queue in tuple(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._drop(queue)

    def _drop(self, queue: asyncio.Queue[bytes | None]) -> None:
        self._queues.discard(queue)
        self.dropped += 1
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)

    async def subscribe(self, first: Callable[[], bytes]) -> AsyncIterator[bytes]:
        """Yields `first()`, then every published event (keep-alive comments included: the
        channel publishes one to everybody at once, far cheaper than a timer per client).
        `first` is called once subscribed, so nothing published in between can be missed."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(self._queue_size)
        self._queues.add(queue)
        try:
            yield first()
            while True:
                message = await queue.get()
                if message is None:
                    return
                yield message
        finally:
            self._queues.discard(queue)
