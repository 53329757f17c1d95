"""The pages, their assets, and the QR code the empty screens show."""

from __future__ import annotations

import io

import segno
from quart import Response, abort, request, send_from_directory

from ..config import BROWSER_DIR
from ..services import services
from ._viewer import remember, viewer_id


async def _page(name: str) -> Response:
    response = await send_from_directory(BROWSER_DIR, name)
    # Pages are tiny and change with deployments; always revalidate.
    response.headers["Cache-Control"] = "no-cache"
    viewer, new = viewer_id()
    return remember(response, viewer) if new else response


async def index() -> Response:
    return await _page("index.html")


async def ambient() -> Response:
    return await _page("ambient.html")


async def upload() -> Response:
    return await _page("upload.html")


async def admin() -> Response:
    return await _page("admin.html")


async def asset(path: str) -> Response:
    try:
        response = await send_from_directory(BROWSER_DIR, path)
    except OSError:  # a name no file can have (too long, say): as missing as any other
        abort(404)
    response.headers["Cache-Control"] = "no-cache"
    return response


def upload_url() -> str:
    """The upload page as the person who asked reached this server (a TV and a phone in the
    same room use the same address)."""
    running = services().running
    prefix = "" if running.default else f"/c/{running.slug}"
    return request.host_url.rstrip("/") + prefix + "/upload"


async def upload_qr() -> Response:
    """`GET /qr/upload.svg`: a QR code of the upload page's URL, for a phone held up to a TV."""
    url = upload_url()
    svg = io.BytesIO()
    # viewBox only (no width/height): the page sizes it. Its own white ground and a 4-module
    # quiet zone, so any reader finds it on any background.
    code = segno.make(url, error="m")
    code.save(svg, kind="svg", border=4, light="#fff", omitsize=True, xmldecl=False, title=url)
    response = Response(svg.getvalue(), content_type="image/svg+xml")
    # The URL depends on the Host the request came with.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Host"
    return response
