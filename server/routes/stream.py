"""`/video-updates`: the channel state as Server-Sent Events; `/my-votes`: the caller's part."""

from __future__ import annotations

from quart import Response, jsonify

from shared.protocol import RETRY_MS

from ..app import services
from ..events import encode
from ..fanout.local import LocalFanout
from ..fanout.response import Subscription
from ._viewer import viewer_id
from .api import error


async def updates() -> Response:
    channel = services().ch
    if not isinstance(channel.broker, LocalFanout):
        return error(404, "Live updates come from nginx here (FANOUT=nchan): connect through it.")
    viewer, _ = viewer_id()
    my_votes = await channel.store.viewer_votes(viewer)

    def first() -> bytes:
        # Always the full state first: a reconnecting client (Last-Event-ID) is simply current.
        state = {**channel.state("connect"), "server_time": channel.now(), "my_votes": my_votes}
        return encode(state, event_id=channel.last_event_id, retry_ms=RETRY_MS)

    return Subscription(
        channel.broker,
        first,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def my_votes() -> Response:
    """The caller's votes by video id: the one per-viewer part of the state, asked for apart
    from the stream so the stream can be the same bytes for everybody (and served by nginx)."""
    viewer, _ = viewer_id()
    response = jsonify({"my_votes": await services().ch.store.viewer_votes(viewer)})
    response.headers["Cache-Control"] = "no-store"
    return response
