"""Browser protections and abuse limits, applied to every route of the app in one place, so
routes added later inherit them without doing anything.

- Security headers on every response: a Content-Security-Policy that lets pages load only our
  own scripts and styles and never be framed, `nosniff`, and a Referrer-Policy. Media keeps the
  stricter `sandbox` policy its route sets.
- Cross-site state changes are refused: a POST, PUT, PATCH or DELETE that a browser sends from
  another site (`Sec-Fetch-Site`, else `Origin`) gets 403. Scripts and tools send neither
  header and are not affected (admin calls authenticate with their bearer token).
- Rate limits on votes and uploads, per viewer (the viewer cookie) and per client address, as
  settings; over a limit the answer is 429 with `Retry-After`. The counters live in each
  process (`limits`' moving window in memory).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from hypercorn.middleware import ProxyFixMiddleware
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from quart import Quart, Response, request

from .config import Settings
from .routes._errors import error
from .routes._viewer import COOKIE, valid_viewer

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a browser says of a request made by a page of this very origin, or typed by the user.
_OWN = frozenset({"same-origin", "none"})

# Endpoint -> the family of limits that applies to it (a family is one setting pair).
LIMITED = {
    "api.like": "vote",
    "api.dislike": "vote",
    "uploads.upload": "upload",
    "session.sign_in": "sign_in",
}
_NAMES = {"vote": "votes", "upload": "uploads", "sign_in": "sign-in attempts"}


def content_security_policy(settings: Settings) -> str:
    # Videos may come from a bucket or a CDN through a redirect: media (only) may be elsewhere.
    media = " ".join(["'self'", "blob:", "https:", *_http_origins(settings)])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            f"media-src {media}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _http_origins(settings: Settings) -> list[str]:
    """A plain-http S3 endpoint (a LAN MinIO) must be named; https: already covers the rest."""
    found = []
    for url in (settings.s3_endpoint_url, settings.s3_public_base_url):
        parts = urlsplit(url or "")
        if parts.scheme == "http" and parts.netloc:
            found.append(f"http://{parts.netloc}")
    return found


class Limits:
    """Per-key moving windows for the limited endpoints."""

    def __init__(self, settings: Settings) -> None:
        self.rules: dict[str, list[tuple[str, RateLimitItem]]] = {}
        for family in set(LIMITED.values()):
            # A family has a per-viewer setting, a per-address one, or both.
            self.rules[family] = [
                (scope, item)
                for scope in ("viewer", "ip")
                for item in settings.rate_limits(family, scope)
            ]
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        # Checking every rule, then counting the hit in every rule, is one step: requests in
        # flight together could otherwise all pass the check before any hit was counted.
        self._one_at_a_time = asyncio.Lock()

    async def retry_after(self, family: str, viewer: str | None, address: str) -> int | None:
        """Seconds to wait when any limit of the family is spent; else count this hit."""
        keys = {"viewer": viewer, "ip": address}
        rules = [(item, scope, key) for scope, item in self.rules[family] if (key := keys[scope])]
        async with self._one_at_a_time:
            for item, scope, key in rules:
                if not await self.limiter.test(item, family, scope, key):
                    stats = await self.limiter.get_window_stats(item, family, scope, key)
                    return max(1, math.ceil(stats.reset_time - time.time()))
            for item, scope, key in rules:
                await self.limiter.hit(item, family, scope, key)
        return None


def cross_site_refusal(allowed_origins: frozenset[str]) -> str | None:
    """Why this state-changing request looks sent by another site's page, if it does."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") in allowed_origins:
        return None
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return None if fetch_site in _OWN else f"it came from another site ({fetch_site})"
    if origin is None:
        return None  # not a browser page: a script, curl, the kiosk's checks
    if urlsplit(origin).netloc.lower() == request.host.lower():
        return None
    return f"it came from {origin}"


def install(app: Quart, settings: Settings) -> None:
    policy = content_security_policy(settings)
    allowed = frozenset(o.strip().rstrip("/") for o in settings.allowed_origins.split(",") if o)
    limits = Limits(settings)

    @app.before_request
    async def guard() -> Response | None:
        """Cross-site state changes first (refused whoever sends them), then the rate limits."""
        if request.method in STATE_CHANGING and (why := cross_site_refusal(allowed)) is not None:
            return error(403, f"Cross-site request refused: {why}.")
        family = LIMITED.get(request.endpoint or "")
        if family is None:
            return None
        viewer = request.cookies.get(COOKIE, "")
        wait = await limits.retry_after(
            family, viewer if valid_viewer(viewer) else None, request.remote_addr or "?"
        )
        if wait is None:
            return None
        response = error(429, f"Too many {_NAMES[family]}; try again in {wait} s.")
        response.headers["Retry-After"] = str(wait)
        return response

    @app.after_request
    async def protect(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response

    if settings.trusted_proxy_hops > 0:
        # Behind nginx every client would share nginx's address: take the one it forwards.
        asgi: Callable[..., Awaitable[None]] = ProxyFixMiddleware(
            app.asgi_app, mode="legacy", trusted_hops=settings.trusted_proxy_hops
        )
        app.asgi_app = asgi  # type: ignore[method-assign, assignment]
