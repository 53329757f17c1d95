"""The one shape of every error answer: `{"success": false, "error": "<why>", ...}`."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify


def error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"success": False, "error": message, **extra})
    response.status_code = status
    return response
