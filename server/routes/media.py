"""`/media/v/<id>`: one stable URL per video, whatever storage holds it."""

from __future__ import annotations

from urllib.parse import quote

from quart import Response, redirect

from ..app import services
from ..catalog import Video
from ..media import CACHE_CONTROL, send_media
from ..posters import poster_path
from ..transcode import WEBM, rendition_of
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
    if prefix := state.settings.media_accel_redirect:
        return accel_redirect(prefix, storage.name, found)
    return await send_media(path, found.content_type)


async def rendition(video_id: str) -> Response:
    """The WebM (VP9 + Opus) every screen can play. A URL of its own rather than swapping what
    /media/v/<id> serves: a cached copy of one URL is never the other file."""
    state = services()
    found = state.ch.find(video_id)
    where = rendition_of(found) if found else None
    storage = state.storages.get(where[0]) if where else None
    if where is None or storage is None:
        return error(404, "This video has no WebM rendition (yet).", id=video_id)
    url = await storage.url(where[1])
    if url is not None:
        response = redirect(url, 302)
        response.headers["Cache-Control"] = "no-store"
        return response
    path = storage.local_path(where[1])
    if path is None or not path.is_file():
        return error(404, "This video's rendition is missing.", id=video_id)
    return await send_media(path, WEBM)


async def poster(video_id: str) -> Response:
    state = services()
    path = poster_path(state.settings.data_dir, video_id)
    if state.ch.find(video_id) is None or not path.is_file():
        return error(404, "No poster for this video.", id=video_id)
    return await send_media(path, "image/jpeg")


def accel_redirect(prefix: str, storage: str, video: Video) -> Response:
    """Hand the file to nginx: it sends the bytes (sendfile, ranges, validators) far faster
    than Python can, after this process decided that the video exists and may be played."""
    # A local key is the file's path inside its storage folder, which nginx maps by name.
    location = f"/{prefix.strip('/')}/{storage}/{quote(video.key)}"
    response = Response(b"", content_type=video.content_type)
    response.headers["X-Accel-Redirect"] = location
    # nginx keeps these from the app's answer and adds ETag, Last-Modified and ranges itself.
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
