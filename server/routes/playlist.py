"""The operator's verbs on the channel: order, play next, hide, rename, approve, override and
banner. Admin only; each is recorded in the audit log."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from quart import Response, jsonify, request

from ..access import ADMIN
from ..catalog import Video
from ..channel import ChannelError
from ..services import services
from ._access import caller, requires
from ._errors import error

BANNER_MAX = 280
TITLE_MAX = 200


async def _body(*allowed: str) -> dict[str, Any] | Response:
    """The JSON object sent, or the 400 that says what is wrong with it."""
    body = await request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "Send a JSON object (Content-Type: application/json).")
    if unknown := sorted(set(body) - set(allowed)):
        return error(400, f"Unknown fields: {', '.join(unknown)}; allowed: {', '.join(allowed)}.")
    return body


async def _video(video_id: str) -> Video | Response:
    video = await services().ch.lookup(video_id)
    return video if video is not None else error(404, "No such video.", id=video_id)


def _rotation() -> list[str]:
    return [v.id for v in services().ch.playlist]


@requires(ADMIN)
async def reorder() -> Response:
    body = await _body("ids")
    if isinstance(body, Response):
        return body
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return error(400, 'Send {"ids": ["<video id>", ...]}: the rotation in its new order.')
    try:
        await services().ch.reorder(ids)
    except ChannelError as refused:
        return error(400, str(refused))
    await services().audit.record(caller(), "reorder", order=_rotation())
    return jsonify({"success": True, "ids": _rotation()})


@requires(ADMIN)
async def play_next(video_id: str) -> Response:
    video = await _video(video_id)
    if isinstance(video, Response):
        return video
    try:
        await services().ch.play_next(video_id)
    except ChannelError as refused:
        return error(409, str(refused), id=video_id)
    await services().audit.record(caller(), "play next", video_id, title=video.title)
    return jsonify({"success": True, "ids": _rotation()})


@requires(ADMIN)
async def update_video(video_id: str) -> Response:
    body = await _body("title", "hidden")
    if isinstance(body, Response):
        return body
    video = await _video(video_id)
    if isinstance(video, Response):
        return video
    if not body:
        return error(400, 'Send "title" and/or "hidden".')
    changes: dict[str, Any] = {}
    if "title" in body:
        title = body["title"]
        if not isinstance(title, str) or not title.strip() or len(title.strip()) > TITLE_MAX:
            return error(400, f"A title is text of 1 to {TITLE_MAX} characters.")
        changes["title"] = title.strip()
    if "hidden" in body:
        if not isinstance(body["hidden"], bool):
            return error(400, '"hidden" is true or false.')
        changes["hidden"] = body["hidden"]
    updated = await services().ch.patch(video_id, lambda stored: replace(stored, **changes))
    if updated is None:
        return error(404, "No such video.", id=video_id)
    await services().audit.record(
        caller(), "update", video_id, title=updated.title, was=video.title, hidden=updated.hidden
    )
    return jsonify({"success": True, "id": video_id, **changes})


@requires(ADMIN)
async def approve(video_id: str) -> Response:
    video = await _video(video_id)
    if isinstance(video, Response):
        return video
    if not video.approved:
        await services().ch.patch(video_id, lambda stored: replace(stored, approved=True))
        await services().audit.record(caller(), "approve", video_id, title=video.title)
    return jsonify({"success": True, "id": video_id})


@requires(ADMIN)
async def start_override() -> Response:
    body = await _body("id")
    if isinstance(body, Response):
        return body
    video_id = body.get("id")
    if not isinstance(video_id, str):
        return error(400, 'Send {"id": "<video id>"}: the video to play now on every screen.')
    video = await _video(video_id)
    if isinstance(video, Response):
        return video
    try:
        await services().ch.start_override(video_id)
    except ChannelError as refused:
        return error(409, str(refused), id=video_id)
    await services().audit.record(caller(), "override", video_id, title=video.title)
    playing = services().ch.current()
    ends = playing.ends_at if playing is not None else None
    return jsonify({"success": True, "id": video_id, "ends_at": ends})


@requires(ADMIN)
async def end_override() -> Response:
    ended = await services().ch.end_override()
    if ended:
        await services().audit.record(caller(), "end override")
    return jsonify({"success": True, "ended": ended})


@requires(ADMIN)
async def set_banner() -> Response:
    body = await _body("text")
    if isinstance(body, Response):
        return body
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return error(400, 'Send {"text": "..."}; DELETE /banner clears it.')
    text = " ".join(text.split())  # one line on every screen
    if len(text) > BANNER_MAX:
        return error(400, f"A banner is at most {BANNER_MAX} characters ({len(text)} sent).")
    await services().ch.set_banner(text)
    await services().audit.record(caller(), "banner", text=text)
    return jsonify({"success": True, "text": text})


@requires(ADMIN)
async def clear_banner() -> Response:
    if services().ch.banner:
        await services().ch.set_banner("")
        await services().audit.record(caller(), "clear banner")
    return jsonify({"success": True})
