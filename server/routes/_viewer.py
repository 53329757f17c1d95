"""The anonymous viewer id: one vote per viewer per video without accounts."""

from __future__ import annotations

import re
import uuid

from quart import Response, request

COOKIE = "simulcast_viewer"
_VALID = re.compile(r"^[0-9a-f]{32}$")


def valid_viewer(value: str) -> bool:
    return _VALID.match(value) is not None


def viewer_id() -> tuple[str, bool]:
    """The caller's viewer id, and whether it is new (and so must be set as a cookie)."""
    current = request.cookies.get(COOKIE, "")
    if valid_viewer(current):
        return current, False
    return uuid.uuid4().hex, True


def remember(response: Response, viewer: str) -> Response:
    response.set_cookie(
        COOKIE, viewer, max_age=365 * 24 * 3600, httponly=True, samesite="Lax", path="/"
    )
    return response
