"""JSON endpoints: the catalog, votes, the time source, health and admin calls."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from quart import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..access import ADMIN
from ..catalog import Counts, listing
from ..config import OPENAPI_FILE
from ..ingest import NotFoundError, RemovalError
from ..services import services
from ._access import caller, requires
from ._errors import error
from ._viewer import remember, viewer_id

log = logging.getLogger(__name__)


async def not_found(_: Exception) -> Response:
    return error(404, "Not found.")


async def method_not_allowed(failure: Exception) -> Response:
    response = error(405, "Method not allowed.")
    if allowed := getattr(failure, "valid_methods", None):
        response.headers["Allow"] = ", ".join(allowed)  # RFC 9110 requires it on a 405
    return response


async def openapi() -> Response:
    """The API's description, maintained by hand beside the code (tests hold the two together)."""
    response = Response(OPENAPI_FILE.read_bytes(), content_type="application/json")
    response.headers["Cache-Control"] = "no-cache"
    return response


async def too_large(_: Exception) -> Response:
    limit = services().settings.max_request_body
    return error(413, f"This request's body is larger than {limit} bytes.")


async def unexpected(failure: Exception) -> Response | HTTPException:
    """Anything unforeseen (the shared store away, say) answers JSON a page can show, not a
    bare 500 page; the traceback goes to the log."""
    if isinstance(failure, HTTPException):
        return failure
    log.error("%s %s failed", request.method, request.path, exc_info=failure)
    return error(503, "The server cannot do that right now; please try again in a moment.")


async def server_time() -> Response:
    # The clients' clock reference: keep it tiny and never cached.
    response = jsonify({"server_time": time.time()})
    response.headers["Cache-Control"] = "no-store"
    return response


async def videos() -> Response:
    state = services()
    channel = state.ch
    playlist = channel.playlist
    positions = {v.id: i for i, v in enumerate(playlist)}
    current = channel.current()
    admin = caller().role == ADMIN
    listed = [
        listing(v, positions.get(v.id), channel.counts.get(v.id, Counts()))
        for v in channel.videos
        if not v.gone and (admin or v.listed)
    ]
    return jsonify(
        {
            "videos": [item for item in listed if item["index"] is not None]
            + [item for item in listed if item["index"] is None],
            "current_index": current.index if current else -1,
            # A storage in trouble (S3 down or misconfigured), said plainly; empty when all is well.
            "storage_warnings": state.storages.warnings(),
        }
    )


async def _vote(index: int, value: int) -> Response:
    channel = services().ch
    playlist = channel.playlist
    payload: Any = {}
    if request.is_json and (raw := await request.get_data()).strip():
        try:
            payload = json.loads(raw)
        except ValueError:  # bad JSON or bytes that are no text at all
            payload = None
        if not isinstance(payload, dict):
            return error(400, 'Send a JSON object, e.g. {"id": "<video id>"}.')
    form = await request.form
    video_id = payload.get("id")
    if video_id is None:
        video_id = form.get("id") or request.args.get("id") or ""
    if not isinstance(video_id, str):
        return error(400, "The video id must be a string.")
    if video_id:
        # The id the client was shown wins over a position that may have shifted since.
        video = channel.find(video_id)
        if video is None:
            return error(404, "That video is no longer in the channel.", id=video_id)
    elif 0 <= index < len(playlist):
        video = playlist[index]
    else:
        return error(409, f"No video at index {index}; reload the list.", total=len(playlist))
    viewer, new = viewer_id()
    # Pressing the same button again withdraws the vote; the other button changes it.
    vote = await channel.toggle_vote(video.id, viewer, value)
    response = jsonify(
        {
            "success": True,
            "id": video.id,
            "index": channel.position(video.id),
            "likes": vote.counts.likes,
            "dislikes": vote.counts.dislikes,
            "my_vote": vote.mine,
        }
    )
    return remember(response, viewer) if new else response


async def like(index: int) -> Response:
    return await _vote(index, 1)


async def dislike(index: int) -> Response:
    return await _vote(index, -1)


@requires(ADMIN)
async def skip() -> Response:
    state = services()
    playing = state.ch.current()
    await state.ch.skip()
    await state.audit.record(caller(), "skip", playing.video.id if playing else "")
    return jsonify({"success": True})


@requires(ADMIN)
async def delete_video(video_id: str) -> Response:
    state = services()
    try:
        video = await state.ingest.remove(video_id)
    except NotFoundError as failure:
        return error(404, str(failure), id=video_id)
    except RemovalError as failure:
        return error(502, str(failure))
    await state.audit.record(caller(), "delete", video_id, title=video.title)
    return jsonify({"success": True, "id": video_id})


async def health() -> Response:
    state = services()
    channel = await state.ch.health()
    storages = await state.storages.health()
    ok = channel["store"].get("ok") and all(s.get("ok") for s in storages.values())
    return jsonify({"status": "ok" if ok else "degraded", **channel, "storages": storages})
