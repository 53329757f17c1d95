"""`/media/v/<id>`: one stable URL per video, whatever storage holds it."""

from __future__ import annotations

from quart import Response, redirect

from ..app import services
from ..media import send_media
from .api import error


async def video(video_id: str) -> Response:
    state = services()
    found = state.ch.find(video_id)
    storage = state.storages.get(found.storage) if found else None
    if found is None or storage is None:
        return error(404, "No such video.", id=video_id)
    url = await storage.url(found.key)
    if url is not None:
        # A fresh presigned/CDN URL at every request, so a long session never holds a stale one.
        response = redirect(url, 302)
        response.headers["Cache-Control"] = "no-store"
        return response
    path = storage.local_path(found.key)
    if path is None or not path.is_file():
        return error(404, "This video's file is missing.", id=video_id)
    return await send_media(path, found.content_type)
