"""Signing in and out of the console, and `GET /session`: what this caller may do."""

from __future__ import annotations

from quart import Response, jsonify, request

from ..access import ADMIN, COOKIE, Actor
from ..services import services
from ._access import caller, requires
from ._errors import error


async def who() -> Response:
    state = services()
    actor = caller()
    return jsonify(
        {
            "role": actor.role,
            "via": actor.via,
            "admin_enabled": state.access.admin_enabled,
            "upload_access": state.access.upload_access,
            "may_upload": state.access.may_upload(actor),
            "approval": state.settings.upload_approval == "on",
        }
    )


async def sign_in() -> Response:
    """Anyone may call it; only the admin token opens a session."""
    state = services()
    if not state.access.admin_enabled:
        return error(403, "Admin calls are disabled: set ADMIN_TOKEN on the server.")
    body = await request.get_json(silent=True)
    if body is None:
        body = dict(await request.form)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip():
        return error(400, 'Send the admin token: {"token": "..."}.')
    opened = state.access.sign_in(token.strip())
    if opened is None:
        await state.audit.record(caller(), "sign-in refused")
        return error(401, "Wrong token.")
    sid, cookie = opened
    actor = caller()
    await state.audit.record(Actor(ADMIN, f"session:{sid}", actor.ip), "sign in")
    response = jsonify({"success": True, "role": ADMIN})
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=state.access.session_seconds,
        httponly=True,
        samesite="Strict",
        # Behind a TLS-terminating proxy the scheme arrives in X-Forwarded-Proto. Trusting it
        # can only make the cookie stricter.
        secure=request.scheme == "https" or request.headers.get("X-Forwarded-Proto") == "https",
        path="/",
    )
    return response


async def sign_out() -> Response:
    """Anyone may call it: it only forgets this browser's session."""
    actor = caller()
    if actor.via.startswith("session:"):
        await services().audit.record(actor, "sign out")
    response = jsonify({"success": True})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return response


@requires(ADMIN)
async def audit() -> Response:
    try:
        limit = int(request.args.get("limit", "200"))
    except ValueError:
        return error(400, "limit must be a whole number.")
    return jsonify({"entries": await services().audit.recent(limit)})
