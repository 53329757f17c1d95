"""`POST /uploads`: receive the file, hand it to ingest, answer what happened."""

from __future__ import annotations

from quart import Response, jsonify, request

from ..catalog import Counts, listing
from ..formats import BY_CONTAINER
from ..ingest import (
    BadCaptionsError,
    BusyError,
    IngestError,
    NewFile,
    NoStorageError,
    NotPlayableError,
)
from ..logs import event
from ..receive import UploadError, receive_upload
from ..services import services
from ._access import caller, refusal
from ._errors import error

REFUSALS: dict[type[IngestError], int] = {
    NotPlayableError: 415,
    BadCaptionsError: 400,
    BusyError: 503,
    NoStorageError: 507,
}


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
        return _refused(failure.status, failure.message)
    ingest = state.ingest  # the channel the URL names (/c/<slug>/uploads), else the default
    if received.channel and state.channels is not None:
        chosen = await state.channels.lookup(received.channel)
        if chosen is None:
            received.path.unlink(missing_ok=True)
            reason = f"No channel {received.channel!r}: see GET /channels."
            return _refused(400, reason, field="channel")
        ingest = chosen.ingest
    new = NewFile(
        received.path, received.size, received.filename, received.title, received.captions
    )
    try:
        added = await ingest.add(new)
    except IngestError as failure:
        extra: dict[str, str] = {"filename": received.filename}
        if isinstance(failure, NoStorageError):
            extra = {}
        elif isinstance(failure, BadCaptionsError):
            extra["field"] = "captions"
        return _refused(REFUSALS.get(type(failure), 400), str(failure), **extra)
    video = added.video
    event(
        "upload.accepted",
        f"upload accepted: {video.id} {video.title!r}",
        video_id=video.id,
        title=video.title,
        size=video.size,
        storage=video.storage,
        status=str(video.status),
    )
    await state.audit.record(
        caller(), "upload", video.id, title=video.title, waiting=not video.approved
    )
    response = jsonify(
        {
            "success": True,
            "message": added.message,
            "storage": video.storage,
            "video": listing(video, added.index, Counts()),
        }
    )
    response.status_code = 201
    return response


def _refused(status: int, reason: str, **extra: str) -> Response:
    event("upload.refused", f"upload refused ({status}): {reason}", status=status, reason=reason)
    return error(status, reason, **extra)


async def rules() -> Response:
    """`GET /uploads`: what `POST /uploads` takes, for the page to say before and after."""
    return jsonify(
        {
            "max_size": services().settings.max_upload_size,
            "formats": [suffix.lstrip(".") for suffix, _ in BY_CONTAINER.values()],
        }
    )
