"""SSE encoding, the in-process fan-out (each viewer an ASGI send and receive) and what is worth
an event."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from server.channel import worth_announcing
from server.events import KEEPALIVE, encode
from server.fanout.local import QUEUE_LIMIT, LocalFanout


def test_encode_is_one_compact_event() -> None:
    raw = encode({"a": "x\ny", "b": 1}, event_id=7, retry_ms=2000)
    assert raw == b'retry: 2000\nid: 7\ndata: {"a":"x\\ny","b":1}\n\n'
    assert json.loads(raw.split(b"data: ")[1]) == {"a": "x\ny", "b": 1}


class Connection:
    """A viewer's side of ASGI: `send` records bodies (`blocked` makes every send wait, like a
    full socket); `receive` says http.disconnect once the response is complete or the client
    has left."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.blocked: asyncio.Event | None = None
        self.closed = asyncio.Event()

    async def send(self, event: Any) -> None:
        if self.blocked is not None:
            await self.blocked.wait()
        self.bodies.append(event["body"])
        if not event["more_body"]:
            self.closed.set()

    async def receive(self) -> dict[str, Any]:
        await self.closed.wait()
        return {"type": "http.disconnect"}

    def leave(self) -> None:
        self.closed.set()


def subscribed(fanout: LocalFanout, count: int) -> tuple[list[Connection], list[Any]]:
    connections = [Connection() for _ in range(count)]
    viewers = [fanout.join(c.send, lambda: b"first") for c in connections]
    streams = [fanout.stay(v, c.receive) for v, c in zip(viewers, connections, strict=True)]
    return connections, [asyncio.create_task(stream) for stream in streams]


async def test_every_viewer_gets_first_then_each_event_written_in_the_publish_call() -> None:
    fanout = LocalFanout()
    connections, streams = subscribed(fanout, 3)
    fanout.ping()
    fanout.publish(b'{"n":2}', 5)
    # Written during publish() itself: no task had to wake up for any viewer.
    expected = [b"first", KEEPALIVE, b'id: 5\ndata: {"n":2}\n\n']
    assert [c.bodies for c in connections] == [expected] * 3
    for connection in connections:
        connection.leave()
    await asyncio.wait_for(asyncio.gather(*streams), 5)
    assert len(fanout) == 0  # each left, and was forgotten
    assert fanout.departed == 3  # counted once each: the channel collects garbage by it
    assert [c.bodies for c in connections] == [expected] * 3  # nothing sent after they left


async def test_a_waiting_send_keeps_order_and_a_viewer_too_far_behind_is_dropped() -> None:
    fanout = LocalFanout()
    (fast, slow), streams = subscribed(fanout, 2)
    slow.blocked = asyncio.Event()
    fanout.broadcast(b"data: 1\n\n")
    fanout.broadcast(b"data: 2\n\n")
    slow.blocked.set()  # the socket drains: the waiting send and the queued one go out in order
    while len(slow.bodies) < 3:
        await asyncio.sleep(0)
    assert slow.bodies == fast.bodies == [b"first", b"data: 1\n\n", b"data: 2\n\n"]

    slow.blocked = asyncio.Event()  # now it reads nothing at all
    for n in range(QUEUE_LIMIT + 2):
        fanout.broadcast(f"data: {n}\n\n".encode())
    assert len(fanout) == 1 and fanout.dropped == 1
    assert len(fast.bodies) == 3 + QUEUE_LIMIT + 2
    slow.blocked.set()
    # Its response ends after the send that was under way; what was queued is not sent (the
    # client reconnects for the state). Then its stream is over.
    await asyncio.wait_for(streams[1], 5)
    assert slow.bodies[3:] == [b"data: 0\n\n", b""]
    fast.leave()
    await asyncio.wait_for(streams[0], 5)


async def test_closing_the_fanout_ends_every_response() -> None:
    fanout = LocalFanout()
    connections, streams = subscribed(fanout, 2)
    await fanout.close()
    await asyncio.wait_for(asyncio.gather(*streams), 5)
    assert [c.bodies for c in connections] == [[b"first", b""]] * 2
    assert len(fanout) == 0 and fanout.departed == 2


def test_viewer_counts_are_announced_exactly_when_small_and_by_the_percent_when_large() -> None:
    assert worth_announcing(0, 1) and worth_announcing(2, 1) and worth_announcing(99, 98)
    assert not worth_announcing(5, 5)
    assert not worth_announcing(100_000, 100_900) and not worth_announcing(100_000, 99_000)
    assert worth_announcing(100_000, 101_001) and worth_announcing(100_000, 98_999)
