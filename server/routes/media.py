"""`/media/v/<id>`: one stable URL per video, whatever storage holds it."""

from __future__ import annotations

from typing import cast
from urllib.parse import quote

from quart import Response, redirect

from ..captions import captions_of
from ..catalog import WEBM, Video, rendition_of
from ..formats import safe_type
from ..media import CACHE_CONTROL, send_media
from ..posters import poster_path
from ..services import services
from ._errors import error


def _find(video_id: str) -> Video | None:
    """The video in whichever channel holds it: its URL names the video, not the channel."""
    state = services()
    if state.channels is None:
        return state.ch.find(video_id)
    return state.channels.find_video(video_id)


async def video(video_id: str) -> Response:
    found = _find(video_id)
    if found is None:
        return error(404, "No such video.", id=video_id)
    return await _serve(found.storage, found.key, safe_type(found.content_type), video_id, "file")


async def rendition(video_id: str) -> Response:
    """The WebM (VP9 + Opus) every screen can play. A URL of its own rather than swapping what
    /media/v/<id> serves: a cached copy of one URL is never the other file."""
    found = _find(video_id)
    where = rendition_of(found) if found else None
    if where is None:
        return error(404, "This video has no WebM rendition (yet).", id=video_id)
    return await _serve(where[0], where[1], WEBM, video_id, "rendition")


async def _serve(
    storage_name: str, key: str, content_type: str, video_id: str, what: str
) -> Response:
    """A stored file, whichever storage holds it: a redirect to a fresh presigned/CDN URL, a
    hand-off to nginx, or the bytes themselves."""
    state = services()
    located = await state.storages.locate(storage_name, key)
    if located is None:
        return error(404, f"This video's {what} is not reachable here.", id=video_id)
    if located.url is not None:
        # Signed at every request, so a long session never holds a stale one.
        # Quart answers with its own response class, typed as Werkzeug's.
        response = cast(Response, redirect(located.url, 302))
        response.headers["Cache-Control"] = "no-store"
        return response
    if located.path is None:
        return error(404, f"This video's {what} is missing.", id=video_id)
    if prefix := state.settings.media_accel_redirect:
        return sandboxed(accel_redirect(prefix, storage_name, key, content_type))
    return sandboxed(await send_media(located.path, content_type))


async def poster(video_id: str) -> Response:
    state = services()
    path = poster_path(state.settings.data_dir, video_id)
    if _find(video_id) is None or not path.is_file():
        return error(404, "No poster for this video.", id=video_id)
    return sandboxed(await send_media(path, "image/jpeg"))


async def captions(video_id: str) -> Response:
    found = _find(video_id)
    text = captions_of(found) if found else None
    if text is None:
        return error(404, "No captions for this video.", id=video_id)
    response = Response(text, content_type="text/vtt; charset=utf-8")
    # Captions can be replaced under the same URL: always revalidate.
    response.headers["Cache-Control"] = "no-cache"
    return sandboxed(response)


def sandboxed(response: Response) -> Response:
    """Uploaded bytes are never a document of our origin: opened as a page, whatever they
    hold, no script runs and nothing is sniffed into HTML."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def accel_redirect(prefix: str, storage: str, key: str, content_type: str) -> Response:
    """Hand the file to nginx: it sends the bytes (sendfile, ranges, validators) far faster
    than Python can, after this process decided that the video exists and may be played."""
    # A local key is the file's path inside its storage folder, which nginx maps by name.
    location = f"/{prefix.strip('/')}/{storage}/{quote(key)}"
    response = Response(b"", content_type=content_type)
    response.headers["X-Accel-Redirect"] = location
    # nginx keeps these from the app's answer and adds ETag, Last-Modified and ranges itself.
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
