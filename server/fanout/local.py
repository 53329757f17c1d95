"""The in-process fan-out: one encoded event written to every viewer's connection in one pass.

Profiled with py-spy at 10,000 viewers (docs/scaling.md): a body generator per viewer meant a
task wake-up per viewer per event, then Quart's and Hypercorn's send path (ASGI message, h11
framing, a send lock, a drain) for each. Here publishing does the work for everybody in one
loop, with the HTTP/1.1 chunk framed once per event:

- Under Hypercorn's HTTP/1.1 protocol (what `main.py` and `hypercorn` run) the viewer's socket
  transport is found under its ASGI `send` once, when it subscribes, and each event is one
  `transport.write` of the ready-made chunk: no coroutine, no task, no per-viewer framing. h11
  stays in its body-sending state meanwhile; the stream's end still goes through `send`.
- Under anything else (HTTP/2, another server) each viewer's ASGI `send` is called from the
  publishing loop and its coroutine stepped once: with room in the socket buffer it finishes
  without ever suspending. Only a send that has to wait is finished in a task of its own, with
  later events queued behind it.

A viewer that falls too far behind (32 events queued, or as many bytes unsent in its socket's
buffer) is dropped: its response is ended, it reconnects and gets the full state, which costs
less than buffering for it without bound.

A viewer's stream holds nothing but its `Viewer` and the server's own connection state: no task,
timer or queue of ours (see `response.py` for how Quart lets go of it). ASGI's `receive()` tells
the stream's end, whoever ended it: the client leaving, or the fan-out completing the response.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, cast

import h11
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent

from ..events import KEEPALIVE, frame

QUEUE_LIMIT = 32  # events a viewer may have waiting before it is dropped
BUFFER_LIMIT = QUEUE_LIMIT * 2048  # the same, in unsent bytes, for a direct transport


def _body(message: bytes) -> ASGISendEvent:
    return {"type": "http.response.body", "body": message, "more_body": True}


_END: ASGISendEvent = {"type": "http.response.body", "body": b"", "more_body": False}


def _chunk(message: bytes) -> bytes:
    """The message as one HTTP/1.1 chunk, framed as h11 frames it."""
    return b"%x\r\n%b\r\n" % (len(message), message)


def hypercorn_transport(send: ASGISendCallable) -> asyncio.WriteTransport | None:
    """The socket under a Hypercorn HTTP/1.1 stream's ASGI `send` (HTTPStream.app_send, whose
    `send` is H11Protocol.stream_send, whose `send` is TCPServer.protocol_send), or None for
    anything else, which then goes through `send` itself."""
    try:
        stream = send.__self__  # type: ignore[attr-defined]
        protocol = stream.send.__self__
        server = protocol.send.__self__
        transport = server.writer.transport
    except AttributeError:
        return None
    if not isinstance(protocol, H11Protocol) or protocol.connection.our_state is not h11.SEND_BODY:
        return None
    if not isinstance(transport, asyncio.WriteTransport):
        return None
    return transport


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
    __slots__ = ("send", "transport", "hub", "backlog", "writer", "ending")

    def __init__(self, send: ASGISendCallable, hub: LocalFanout) -> None:
        self.send = send
        self.transport = hypercorn_transport(send)
        self.hub = hub
        self.backlog: deque[ASGISendEvent] | None = None  # made when a send first has to wait
        self.writer: asyncio.Task[None] | None = None  # set while a send waits for the socket
        self.ending = False

    def deliver(self, event: ASGISendEvent, chunk: bytes) -> None:
        transport = self.transport
        if transport is None:
            self._send(event)
        elif transport.is_closing():
            self.hub.forget(self)  # the connection is gone; Hypercorn ends the stream
        elif transport.get_write_buffer_size() > BUFFER_LIMIT:
            self.hub.drop(self)
        else:
            transport.write(chunk)

    def end(self) -> None:
        """Complete the response, after what is still queued for it."""
        if not self.ending:
            self.ending = True
            self.transport = None  # the end goes through `send`: h11 frames it, and then
            self._send(_END)  # Hypercorn keeps the connection for the client's next request

    def _send(self, event: ASGISendEvent) -> None:
        if self.writer is not None:
            if self.backlog is None:
                self.backlog = deque()
            if len(self.backlog) >= QUEUE_LIMIT:
                self.hub.drop(self)
            else:
                self.backlog.append(event)
            return
        # Hypercorn's (and every ASGI server's) send is an async function: a coroutine to step.
        coro = cast(Coroutine[Any, Any, None], self.send(event))
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:
            self.hub.forget(self)  # the connection is gone; the server ends the stream
            return
        self.writer = asyncio.ensure_future(self._finish(coro, waiting))

    async def _finish(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        try:
            await _Resume(coro, waiting)
            while self.backlog:
                await self.send(self.backlog.popleft())
        except Exception:
            self.hub.forget(self)
        finally:
            self.writer = None


class LocalFanout:
    """This process's viewers, and the events published to them."""

    def __init__(self) -> None:
        self._viewers: set[Viewer] = set()
        self.dropped = 0
        self.departed = 0

    def __len__(self) -> int:
        return len(self._viewers)

    def publish(self, payload: bytes, event_id: int) -> None:
        self.broadcast(frame(payload, event_id=event_id))

    def ping(self) -> None:
        self.broadcast(KEEPALIVE)

    def broadcast(self, message: bytes) -> None:
        # Encoded and framed once for everybody; nobody changes either.
        event, chunk = _body(message), _chunk(message)
        for viewer in tuple(self._viewers):
            viewer.deliver(event, chunk)

    def join(self, send: ASGISendCallable, first: Callable[[], bytes]) -> Viewer:
        """A viewer whose response headers are sent, registered, then sent `first()` with no
        await in between, so that nothing published meanwhile can be missed."""
        viewer = Viewer(send, self)
        self._viewers.add(viewer)
        message = first()
        viewer.deliver(_body(message), _chunk(message))
        return viewer

    async def stay(self, viewer: Viewer, receive: ASGIReceiveCallable) -> None:
        """The joined viewer's stream, until the client leaves or the fan-out has ended the
        response: either way ASGI's `receive()` then says `http.disconnect`."""
        try:
            while (await receive())["type"] != "http.disconnect":
                pass  # a body sent with the GET: nothing to do with it
        finally:
            self.forget(viewer)

    def forget(self, viewer: Viewer) -> None:
        """The viewer gets nothing more (its response may still be ending)."""
        if viewer in self._viewers:
            self._viewers.discard(viewer)
            self.departed += 1

    def remove(self, viewer: Viewer) -> None:
        """End the viewer's response; the client reconnects for the state."""
        self.forget(viewer)
        viewer.end()

    def drop(self, viewer: Viewer) -> None:
        self.dropped += 1
        if viewer.backlog is not None:
            viewer.backlog.clear()
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

    async def end(self) -> None:
        await self.close()  # every viewer of this process; the others' workers end theirs
