"""`/videos/<id>/captions`: an admin adds, replaces or removes a video's captions."""

from __future__ import annotations

from quart import Response, jsonify, request

from ..access import ADMIN
from ..captions import CaptionsError, to_webvtt, with_captions
from ..catalog import captions_url
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
        webvtt = to_webvtt(sent.read())
    except CaptionsError as failure:
        return error(400, str(failure), field=CAPTIONS_FIELD, id=video_id)
    return await _store(video_id, webvtt, "captions")


@requires(ADMIN)
async def delete(video_id: str) -> Response:
    """Who may call it: admins."""
    return await _store(video_id, None, "captions removed")


async def _store(video_id: str, webvtt: str | None, action: str) -> Response:
    state = services()
    video = state.ch.find(video_id)
    if video is None:
        return error(404, "No such video.", id=video_id)
    captioned = with_captions(video, webvtt)
    await state.ch.upsert(captioned)
    await state.audit.record(caller(), action, video_id, title=video.title)
    return jsonify({"success": True, "id": video_id, "captions": captions_url(captioned)})
