"""`POST /uploads`: receive, check, store and announce a new video."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from quart import Response, jsonify, request

from ..app import services
from ..captions import CaptionsError, extract_quietly, to_webvtt
from ..catalog import READY, Video
from ..formats import BY_CONTAINER, stored_as
from ..library import title_from_name
from ..posters import discard_poster, make_poster
from ..probe import Limits, ProbeError, is_universally_playable, probe
from ..receive import Received, UploadError, cleanup, receive_upload
from ..storage import StorageError
from ..store import Counts
from ..transcode import PROCESSING
from ._access import caller, refusal
from ._errors import error
from .api import describe

log = logging.getLogger(__name__)

_PLACES = {"s3": "the S3 bucket", "local": "local storage"}


async def upload() -> Response:
    """Who may call it: anyone, the passcode holders or admins (UPLOAD_ACCESS)."""
    state = services()
    settings = state.settings
    # Before a byte of the body is read: a refused upload costs nothing.
    if (refused := refusal(state.access.upload_role())) is not None:
        return refused
    try:
        received = await receive_upload(
            request.body,
            request.headers.get("Content-Type", ""),
            request.content_length,
            settings.data_dir / "incoming",
            settings.max_upload_size,
            settings.upload_idle_timeout,
        )
    except UploadError as failure:
        return error(failure.status, failure.message)
    try:
        return await _accept(received)
    finally:
        # Stored means moved away; on any other way out (refused, failed, the client gone and
        # this handler cancelled) the work file must not stay behind.
        cleanup(received)


async def _accept(received: Received) -> Response:
    state = services()
    settings = state.settings
    try:
        limits = Limits(settings.max_video_pixels, settings.max_video_duration)
        info = await asyncio.to_thread(probe, received.path, limits)
    except ProbeError as failure:
        return error(415, str(failure), filename=received.filename)
    try:
        # Captions sent with the video, else the subtitles the file carries (MKV, MP4).
        if received.captions is not None:
            captions: str | None = to_webvtt(received.captions)
        else:
            captions = await asyncio.to_thread(extract_quietly, received.path)
    except CaptionsError as failure:
        cleanup(received)
        return error(400, str(failure), field="captions", filename=received.filename)
    video_id = uuid.uuid4().hex[:16]
    # Not playable on every screen as it is (the kiosk plays no H.264): queue a WebM rendition.
    # Nor is a picture far above the renditions' size: every screen would have to decode it.
    convert = not is_universally_playable(info, settings.transcode_max_height)
    conversions = state.conversions
    if convert and (busy := conversions.refusal()) is not None:
        return error(503, busy, filename=received.filename)
    # From the work file, which is still here whatever storage takes it next.
    poster = await make_poster(
        settings.data_dir, received.path, video_id, settings.transcode_memory_limit
    )
    meta: dict[str, Any] = {"poster": True} if poster else {}
    if convert:
        meta |= await conversions.accept(received.path, video_id)
    if captions:
        meta["captions"] = captions
    # The stored name is ours, never the client's: no path tricks, no clashes.
    # Suffix and type from the probed container, never from the client: a type it chose
    # (text/html) would be served back from our origin.
    suffix, content_type = stored_as(info.container)
    key = f"{video_id}{suffix}"
    title = received.title or _title_from_filename(received.filename) or "Untitled video"
    metadata = {"title": title, "duration": f"{info.duration:.3f}", "id": video_id}
    notes: list[str] = []
    for storage in state.upload_targets():
        try:
            await storage.put(received.path, key, content_type, metadata)
        except StorageError as failure:
            place = _PLACES.get(storage.name, storage.name)
            log.warning("upload %s to %s failed: %s", video_id, storage.name, failure)
            notes.append(f"Could not store it in {place} ({failure}).")
            continue
        break
    else:
        conversions.release(video_id)
        discard_poster(settings.data_dir, video_id)
        return error(507, " ".join(notes) or "No storage is available.")
    video = Video(
        id=video_id,
        title=title,
        storage=storage.name,
        key=key,
        duration=info.duration,
        size=received.size,
        content_type=content_type,
        added_at=time.time(),
        status=PROCESSING if convert else READY,
        approved=settings.upload_approval != "on",
        meta=meta,
    )
    await state.ch.upsert(video)
    if convert:
        conversions.wake()
    index = next((i for i, v in enumerate(state.ch.playlist) if v.id == video.id), None)
    where = _PLACES.get(storage.name, storage.name)
    then = "it joins the rotation"
    if convert:
        then = "it is being converted for every screen and joins the rotation when ready"
    if not video.approved:
        then = "it is waiting for approval: it joins the rotation once an admin approves it"
        if convert:
            then = "it is being converted for every screen and " + then.removeprefix("it ")
    message = " ".join([*notes, f"Saved to {where}; {then}."])
    await state.audit.record(caller(), "upload", video.id, title=title, waiting=not video.approved)
    response = jsonify(
        {
            "success": True,
            "message": message,
            "storage": storage.name,
            "video": describe(video, index, Counts()),
        }
    )
    response.status_code = 201
    return response


def _title_from_filename(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return title_from_name(name)[:200] if name else ""


async def rules() -> Response:
    """`GET /uploads`: what `POST /uploads` takes, for the page to say before and after."""
    return jsonify(
        {
            "max_size": services().settings.max_upload_size,
            "formats": [suffix.lstrip(".") for suffix, _ in BY_CONTAINER.values()],
        }
    )
