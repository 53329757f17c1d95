"""Screens: their reports in (anyone's page may report), the list and remote actions (admin);
video walls and which screen shows which tile (admin)."""

from __future__ import annotations

import json

from quart import Response, jsonify, request

from ..access import ADMIN
from ..screens import (
    FRAME_MS,
    MAX_REPORT_BYTES,
    OFFLINE_AFTER,
    REPORT_INTERVAL,
    ReportError,
    TooManyScreensError,
    UnknownScreenError,
    clean_name,
    parse_report,
)
from ..services import services
from ..walls import TooManyWallsError, UnknownWallError, WallError
from ._access import caller, requires
from ._errors import error


async def _small_body(limit: int) -> bytes | None:
    """The request body, or None as soon as it is longer than `limit` (never read whole)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    data = b""
    async for chunk in request.body:
        data += chunk
        if len(data) > limit:
            return None
    return data


def _title_of(video_id: str) -> str | None:
    channels = services().channels
    video = channels.find_video(video_id) if channels else services().ch.find(video_id)
    return video.title if video else None


async def report() -> Response:
    """Who may call: any page or kiosk showing the channel (same-origin; sendBeacon too).
    Bounded per screen: a few at once, then one a second (429); 4 KiB at most (413)."""
    watch = services().watch
    body = await _small_body(MAX_REPORT_BYTES)
    if body is None:
        return error(413, f"A screen report is {MAX_REPORT_BYTES} bytes at most.")
    try:
        parsed = parse_report(json.loads(body or b"null"))
    except ValueError as failure:  # bad JSON or a bad field (ReportError)
        why = str(failure) if isinstance(failure, ReportError) else "The report is not JSON."
        return error(400, why)
    if not watch.screens.limiter.allow(parsed["id"], watch.screens.now()):
        response = error(429, "Too many reports from this screen; one a second at most.")
        response.headers["Retry-After"] = "1"
        return response
    try:
        answer = await watch.screens.report(parsed, request.remote_addr)
    except TooManyScreensError as failure:
        return error(503, str(failure))
    return jsonify({"success": True, **answer})


@requires(ADMIN)
async def listed() -> Response:
    """Admin: every screen, worst first."""
    screens = await services().watch.screens.listed(_title_of)
    return jsonify(
        {
            "screens": screens,
            "online": sum(1 for s in screens if s["online"]),
            "total": len(screens),
            "frame_ms": FRAME_MS,
            "report_interval": REPORT_INTERVAL,
            "offline_after": OFFLINE_AFTER,
            "server_time": services().ch.now(),
        }
    )


@requires(ADMIN)
async def act(screen_id: str, action: str) -> Response:
    """Admin: identify (its name in large type for 10 s) or reload one screen. It gets the
    action with its next report, within REPORT_INTERVAL seconds."""
    state = services()
    try:
        await state.watch.screens.act(screen_id, action)
    except UnknownScreenError:
        return error(404, "No such screen.", id=screen_id)
    await state.audit.record(caller(), f"screen {action}", screen_id)
    return jsonify(
        {"success": True, "id": screen_id, "action": action, "within_s": REPORT_INTERVAL}
    )


@requires(ADMIN)
async def rename(screen_id: str) -> Response:
    """Admin: {"name": "Lobby left"}; an empty name clears it."""
    payload = await request.get_json(silent=True)
    if not isinstance(payload, dict) or "name" not in payload:
        return error(400, 'Send JSON {"name": "..."}.')
    try:
        name = clean_name(payload["name"])
        await services().watch.screens.rename(screen_id, name)
    except ReportError as failure:
        return error(400, str(failure))
    except UnknownScreenError:
        return error(404, "No such screen.", id=screen_id)
    await services().audit.record(caller(), "screen rename", screen_id, name=name)
    return jsonify({"success": True, "id": screen_id, "name": name})


@requires(ADMIN)
async def forget(screen_id: str) -> Response:
    """Admin: drop a screen from the list (it comes back if it reports again)."""
    try:
        await services().watch.screens.forget(screen_id)
    except UnknownScreenError:
        return error(404, "No such screen.", id=screen_id)
    await services().audit.record(caller(), "screen forget", screen_id)
    return jsonify({"success": True, "id": screen_id})


@requires(ADMIN)
async def walls() -> Response:
    """Admin: every wall, each with its tiles and the screen on each."""
    return jsonify({"walls": await services().watch.screens.walls.listed()})


@requires(ADMIN)
async def create_wall() -> Response:
    """Admin: {"name", "layout": "3x2", "bezel_mm"?, "gap_mm"?, "screen_w_mm"?, "screen_h_mm"?,
    "sound_tile"?, "pattern"?}."""
    try:
        wall = await services().watch.screens.walls.create(await request.get_json(silent=True))
    except WallError as failure:
        return error(400, str(failure))
    except TooManyWallsError as failure:
        return error(409, str(failure))
    await services().audit.record(caller(), "wall create", wall["id"], name=wall["name"])
    response = jsonify({"success": True, "wall": wall})
    response.status_code = 201
    return response


@requires(ADMIN)
async def update_wall(wall_id: str) -> Response:
    """Admin: change any of a wall's fields; its screens follow within a report or two."""
    payload = await request.get_json(silent=True)
    try:
        wall = await services().watch.screens.walls.update(wall_id, payload)
    except WallError as failure:
        return error(400, str(failure))
    except UnknownWallError:
        return error(404, "No such wall.", id=wall_id)
    await services().audit.record(caller(), "wall change", wall_id, **payload)
    return jsonify({"success": True, "wall": wall})


@requires(ADMIN)
async def delete_wall(wall_id: str) -> Response:
    """Admin: remove a wall; its screens show the whole picture again."""
    try:
        await services().watch.screens.walls.delete(wall_id)
    except UnknownWallError:
        return error(404, "No such wall.", id=wall_id)
    await services().audit.record(caller(), "wall delete", wall_id)
    return jsonify({"success": True, "id": wall_id})


@requires(ADMIN)
async def assign(screen_id: str) -> Response:
    """Admin: {"wall": id, "tile": [col, row]} puts a screen on a tile (the screen there before
    leaves it), {"wall": null} takes it off; the screen follows with its next report."""
    payload = await request.get_json(silent=True)
    try:
        record = await services().watch.screens.walls.assign(screen_id, payload)
    except WallError as failure:
        return error(400, str(failure))
    except UnknownWallError:
        return error(404, "No such wall.", id=payload["wall"])
    if record is None:
        return error(404, "No such screen.", id=screen_id)
    await services().audit.record(caller(), "screen wall", screen_id, wall=record["wall"])
    return jsonify(
        {"success": True, "id": screen_id, "wall": record["wall"], "within_s": REPORT_INTERVAL}
    )


@requires(ADMIN)
async def move(screen_id: str) -> Response:
    """Admin: {"channel": "lobby"} shows that channel on the screen from its next report (within
    REPORT_INTERVAL seconds, no reload); {"channel": null} the one its address names again."""
    state = services()
    payload = await request.get_json(silent=True)
    if not isinstance(payload, dict) or set(payload) != {"channel"}:
        return error(400, 'Send JSON {"channel": "<slug>"} or {"channel": null}.')
    slug = payload["channel"]
    if slug is not None and (
        not isinstance(slug, str)
        or state.channels is None
        or await state.channels.lookup(slug) is None
    ):
        return error(400, f"No channel {slug!r}: see GET /channels.", field="channel")
    try:
        await state.watch.screens.move(screen_id, slug)
    except UnknownScreenError:
        return error(404, "No such screen.", id=screen_id)
    await state.audit.record(caller(), "screen channel", screen_id, channel=slug)
    return jsonify(
        {"success": True, "id": screen_id, "channel": slug, "within_s": REPORT_INTERVAL}
    )
