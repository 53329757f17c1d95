"""The in-process fan-out: one encoded event written to every viewer's connection in one pass.

Each viewer's stream is its ASGI `send` callable, held here rather than behind a task of its own.
Publishing calls every viewer's `send` from the publishing task and steps the returned coroutine
once: with room in the socket buffer Hypercorn frames the chunk, writes it and finishes without
ever suspending, so an event costs one function call chain per viewer and no task wake-up. Only a
send that has to wait (a full socket buffer, a closing connection) is finished in a task of its
own; events for that viewer queue behind it, and a viewer that falls too far behind is dropped
(it reconnects and gets the full state, which costs less than buffering for it without bound).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from hypercorn.typing import ASGISendCallable, ASGISendEvent

from ..events import KEEPALIVE, frame

QUEUE_LIMIT = 32  # events a viewer may have waiting before it is dropped


def _body(message: bytes) -> ASGISendEvent:
    return {"type": "http.response.body", "body": message, "more_body": True}


class _Resume:
    """Awaitable that finishes a coroutine already stepped once outside any task: it hands the
    future the coroutine is waiting on to the task that awaits this, and keeps stepping."""

    __slots__ = ("_coro", "_waiting")

    def __init__(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        self._coro, self._waiting = coro, waiting

    def __await__(self) -> Generator[Any, Any, None]:
        waiting = self._waiting
        while True:
            try:
                try:
                    value = yield waiting
                except BaseException as error:  # cancellation included: pass it on
                    waiting = self._coro.throw(error)
                else:
                    waiting = self._coro.send(value)
            except StopIteration:
                return


class Viewer:
    __slots__ = ("send", "hub", "backlog", "writer", "ended")

    def __init__(self, send: ASGISendCallable, hub: LocalFanout) -> None:
        self.send = send
        self.hub = hub
        self.backlog: deque[ASGISendEvent] = deque()
        self.writer: asyncio.Task[None] | None = None  # set while a send waits for the socket
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def deliver(self, event: ASGISendEvent) -> None:
        if self.writer is not None:
            if len(self.backlog) >= QUEUE_LIMIT:
                self.hub.drop(self)
            else:
                self.backlog.append(event)
            return
        coro = self.send(event)
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:
            self.hub.remove(self)  # the connection is gone; Hypercorn closes it
            return
        self.writer = asyncio.ensure_future(self._finish(coro, waiting))

    async def _finish(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        try:
            await _Resume(coro, waiting)
            while self.backlog:
                await self.send(self.backlog.popleft())
        except Exception:
            self.hub.remove(self)
        finally:
            self.writer = None

    def end(self) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


class LocalFanout:
    """This process's viewers, and the events published to them."""

    def __init__(self) -> None:
        self._viewers: set[Viewer] = set()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._viewers)

    def publish(self, payload: bytes, event_id: int) -> None:
        self.broadcast(frame(payload, event_id=event_id))

    def ping(self) -> None:
        self.broadcast(KEEPALIVE)

    def broadcast(self, message: bytes) -> None:
        event = _body(message)  # one event object for everybody; nobody changes it
        for viewer in tuple(self._viewers):
            viewer.deliver(event)

    async def serve(self, send: ASGISendCallable, first: Callable[[], bytes]) -> None:
        """Stream to one viewer (its response headers already sent) until it leaves or is
        dropped. `first()` is called once the viewer is registered, with no await in between,
        so nothing published meanwhile can be missed."""
        viewer = Viewer(send, self)
        self._viewers.add(viewer)
        try:
            viewer.deliver(_body(first()))
            await viewer.ended
            if viewer.writer is not None:  # end the body after what is being sent
                await asyncio.wait([viewer.writer])
        finally:
            self.remove(viewer)

    def remove(self, viewer: Viewer) -> None:
        self._viewers.discard(viewer)
        viewer.end()

    def drop(self, viewer: Viewer) -> None:
        self.dropped += 1
        viewer.backlog.clear()
        if viewer.writer is not None:
            viewer.writer.cancel()
        self.remove(viewer)

    async def viewers(self, report: Callable[[int], Awaitable[int]]) -> int:
        """The audience: this process's viewers, added up with the other processes' by
        `report` (the shared store)."""
        return await report(len(self))

    async def start(self) -> None:
        pass  # nothing runs in the background: publishing is a plain call

    async def close(self) -> None:
        for viewer in tuple(self._viewers):
            self.remove(viewer)
