"""The pages and their assets, served from `browser/`."""

from __future__ import annotations

from quart import Response, send_from_directory

from ..config import ROOT
from ._viewer import remember, viewer_id

BROWSER = ROOT / "browser"


async def _page(name: str) -> Response:
    response = await send_from_directory(BROWSER, name)
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
    response = await send_from_directory(BROWSER, path)
    response.headers["Cache-Control"] = "no-cache"
    return response
