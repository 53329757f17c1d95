"""The role check every state-changing route goes through, and the caller for the audit log."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec

from quart import Response, g, request

from ..access import ADMIN, COOKIE, Actor
from ..services import services
from ._errors import error

P = ParamSpec("P")
View = Callable[P, Awaitable[Response]]


def caller() -> Actor:
    """Who sent this request (worked out once per request)."""
    actor = getattr(g, "actor", None)
    if actor is None:
        actor = services().access.identify(
            request.headers.get("Authorization", ""),
            request.cookies.get(COOKIE, ""),
            request.remote_addr or "",
        )
        g.actor = actor
    return actor


def refusal(role: str | None) -> Response | None:
    """None if the caller may act with `role`; else the JSON 401/403 that says why."""
    access = services().access
    if role is None:
        return None
    actor = caller()
    if role == ADMIN and not access.admin_enabled:
        return error(403, "Admin calls are disabled: set ADMIN_TOKEN on the server.")
    if actor.role == ADMIN or actor.role == role:
        return None
    if actor.role is None:
        why = (
            "Wrong token."
            if actor.rejected
            else "Sign in at /admin, or send Authorization: Bearer <token>."
        )
        needed = "an admin" if role == ADMIN else "an uploader (the upload passcode) or an admin"
        response = error(401, f"{why} This needs {needed}.", needs=role)
        response.headers["WWW-Authenticate"] = 'Bearer realm="simulcast"'
        return response
    return error(403, f"This needs the {role} role; you are {actor.role}.", needs=role)


def requires(role: str) -> Callable[[View[P]], View[P]]:
    """Refuse the call (JSON 401/403, nothing changed) unless the caller has `role`."""

    def wrap(view: View[P]) -> View[P]:
        @functools.wraps(view)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> Response:
            if (refused := refusal(role)) is not None:
                return refused
            return await view(*args, **kwargs)

        guarded.role = role  # type: ignore[attr-defined]  # read by the API description
        return guarded

    return wrap
