"""`/videos/<id>/captions`: an admin adds, replaces or removes a video's captions."""

from __future__ import annotations

from quart import Response, jsonify, request

from ..access import ADMIN
from ..catalog import captions_url
from ..ingest import BadCaptionsError, NotFoundError, webvtt_of
from ..receive import CAPTIONS_FIELD
from ..services import services
from ._access import caller, requires
from ._errors import error


@requires(ADMIN)
async def put(video_id: str) -> Response:
    """Who may call it: admins. Multipart form with the WebVTT or SubRip file in `captions`."""
    sent = (await request.files).get(CAPTIONS_FIELD)
    if sent is None:
        return error(400, f"Send the captions file in a form field named {CAPTIONS_FIELD!r}.")
    try:
        webvtt = webvtt_of(sent.read())
    except BadCaptionsError as failure:
        return error(400, str(failure), field=CAPTIONS_FIELD, id=video_id)
    return await _set(video_id, webvtt, "captions")


@requires(ADMIN)
async def delete(video_id: str) -> Response:
    """Who may call it: admins."""
    return await _set(video_id, None, "captions removed")


async def _set(video_id: str, webvtt: str | None, action: str) -> Response:
    state = services()
    try:
        video = await state.ingest.set_captions(video_id, webvtt)
    except NotFoundError as failure:
        return error(404, str(failure), id=video_id)
    await state.audit.record(caller(), action, video_id, title=video.title)
    return jsonify({"success": True, "id": video_id, "captions": captions_url(video)})
