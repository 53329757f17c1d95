"""JSON endpoints: the catalog, votes, the time source, health and admin calls."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from typing import Any

from quart import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..access import ADMIN
from ..app import services
from ..captions import captions_url
from ..catalog import DELETED, Video
from ..config import ROOT
from ..posters import poster_url
from ..storage import StorageError
from ..store import Counts
from ..transcode import sources
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


OPENAPI = ROOT / "docs" / "openapi.json"


async def openapi() -> Response:
    """The API's description, maintained by hand beside the code (tests hold the two together)."""
    response = Response(OPENAPI.read_bytes(), content_type="application/json")
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


def describe(video: Video, index: int | None, counts: Counts) -> dict[str, Any]:
    listed = sources(video)  # the WebM rendition first once there is one
    return {
        "id": video.id,
        "url": listed[0]["url"],
        "sources": listed,
        "poster": poster_url(video),
        "captions": captions_url(video),
        # While converting: progress from 0 to 1; a failed conversion says why in `error`.
        "progress": video.meta.get("progress"),
        "error": video.meta.get("error"),
        "title": video.title,
        "duration": video.duration,
        "likes": counts.likes,
        "dislikes": counts.dislikes,
        "index": index,
        "storage": video.storage,
        "status": video.status,
        "hidden": video.hidden,
        "waiting": not video.approved,  # for an admin's approval (UPLOAD_APPROVAL=on)
        "size": video.size,
        "content_type": video.content_type,
        "added_at": video.added_at,
    }


async def videos() -> Response:
    state = services()
    channel = state.ch
    playlist = channel.playlist
    positions = {v.id: i for i, v in enumerate(playlist)}
    current = channel.current()
    admin = caller().role == ADMIN
    listed = [
        describe(v, positions.get(v.id), channel.counts.get(v.id, Counts()))
        for v in channel.videos
        if not v.gone and (admin or v.listed)
    ]
    return jsonify(
        {
            "videos": [item for item in listed if item["index"] is not None]
            + [item for item in listed if item["index"] is None],
            "current_index": current.index if current else -1,
            # A storage in trouble (S3 down or misconfigured), said plainly; empty when all is well.
            "storage_warnings": [
                warning
                for storage in state.storages.values()
                if (warning := getattr(storage, "warning", None))
            ],
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
    mine = (await channel.store.viewer_votes(viewer)).get(video.id, 0)
    # Pressing the same button again withdraws the vote; the other button changes it.
    chosen = 0 if mine == value else value
    counts = await channel.vote(video.id, viewer, chosen)
    positions = [v.id for v in channel.playlist]
    response = jsonify(
        {
            "success": True,
            "id": video.id,
            "index": positions.index(video.id) if video.id in positions else None,
            "likes": counts.likes,
            "dislikes": counts.dislikes,
            "my_vote": chosen,
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
    video = state.ch.find(video_id)
    if video is None:
        return error(404, "No such video.", id=video_id)
    storage = state.storages.get(video.storage)
    if video.storage == "static":
        # A shipped sample's file is read-only: a marker keeps it out after restarts.
        await state.ch.upsert(replace(video, status=DELETED))
        await state.audit.record(caller(), "delete", video_id, title=video.title)
        return jsonify({"success": True, "id": video_id})
    if storage is not None:
        try:
            # File first: a bucket object left behind would rejoin at the next listing.
            await storage.delete(video.key)
        except StorageError as failure:
            return error(502, f"Could not delete the file from {video.storage}: {failure}")
    await state.ch.remove(video_id)
    await state.conversions.forget(video)
    await state.audit.record(caller(), "delete", video_id, title=video.title)
    return jsonify({"success": True, "id": video_id})


async def health() -> Response:
    state = services()
    checks: dict[str, Any] = {"store": await state.ch.store.health()}
    checks["storages"] = {name: await s.health() for name, s in state.storages.items()}
    ok = checks["store"].get("ok") and all(s.get("ok") for s in checks["storages"].values())
    return jsonify(
        {
            "status": "ok" if ok else "degraded",
            "videos": len(state.ch.playlist),
            "viewers": state.ch.viewers,
            "connections": len(state.ch.broker),
            # Per process: with several workers, which one answered and how many of the
            # channel's switches it recorded (the race lets exactly one worker record each).
            "worker": state.ch.worker_id,
            "switches": state.ch.switches,
            "dropped": state.ch.broker.dropped,
            **checks,
        }
    )
