"""`/video-updates`: the channel state as Server-Sent Events; `/my-votes`: the caller's part."""

from __future__ import annotations

from quart import Response, jsonify

from ..fanout.response import Subscription
from ..services import services
from ._errors import error
from ._viewer import viewer_id


async def updates() -> Response:
    channel = services().ch
    if (fanout := channel.local_fanout) is None:
        return error(404, "Live updates come from nginx here (FANOUT=nchan): connect through it.")
    viewer, _ = viewer_id()
    my_votes = await channel.my_votes(viewer)
    return Subscription(
        fanout,
        lambda: channel.first_event(my_votes),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def my_votes() -> Response:
    """The caller's votes by video id: the one per-viewer part of the state, asked for apart
    from the stream so the stream can be the same bytes for everybody (and served by nginx)."""
    viewer, _ = viewer_id()
    response = jsonify({"my_votes": await services().ch.my_votes(viewer)})
    response.headers["Cache-Control"] = "no-store"
    return response
