"""SSE encoding and the fan-out, without HTTP."""

from __future__ import annotations

import asyncio
import json

from server.events import KEEPALIVE, Broker, encode


def test_encode_is_one_compact_event() -> None:
    raw = encode({"a": "x\ny", "b": 1}, event_id=7, retry_ms=2000)
    assert raw == b'retry: 2000\nid: 7\ndata: {"a":"x\\ny","b":1}\n\n'
    assert json.loads(raw.split(b"data: ")[1]) == {"a": "x\ny", "b": 1}


async def test_every_subscriber_gets_first_then_each_event() -> None:
    broker = Broker()
    first = [encode({"n": 0})]

    async def take(count: int) -> list[bytes]:
        got = []
        async for message in broker.subscribe(lambda: first[0]):
            got.append(message)
            if len(got) == count:
                break
        return got

    readers = [asyncio.create_task(take(3)) for _ in range(3)]
    while len(broker) < 3:
        await asyncio.sleep(0)
    broker.publish(KEEPALIVE)
    broker.publish(b"data: 2\n\n")
    results = await asyncio.gather(*readers)
    assert results == [[first[0], KEEPALIVE, b"data: 2\n\n"]] * 3
    assert len(broker) == 0  # each left, and was forgotten


async def test_a_client_that_falls_behind_is_dropped_not_buffered() -> None:
    broker = Broker(queue_size=4)
    slow = broker.subscribe(lambda: b"first")
    assert await anext(slow) == b"first"
    for n in range(10):  # the slow client reads nothing meanwhile
        broker.publish(f"data: {n}\n\n".encode())
    assert len(broker) == 0 and broker.dropped == 1
    # It sees the end of its stream (and reconnects for the full state).
    assert [m async for m in slow] == []
