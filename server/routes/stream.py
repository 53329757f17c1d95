"""`/video-updates`: the channel state as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator

from quart import Response

from shared.protocol import RETRY_MS

from ..app import services
from ..events import encode
from ._viewer import viewer_id


async def updates() -> Response:
    channel = services().ch
    viewer, _ = viewer_id()
    my_votes = await channel.store.viewer_votes(viewer)

    def first() -> bytes:
        # Always the full state first: a reconnecting client (Last-Event-ID) is simply current.
        state = {**channel.state("connect"), "server_time": channel.now(), "my_votes": my_votes}
        return encode(state, event_id=channel.last_event_id, retry_ms=RETRY_MS)

    async def body() -> AsyncIterator[bytes]:
        async for message in channel.broker.subscribe(first):
            yield message

    response = Response(
        body(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    response.timeout = None
    return response
