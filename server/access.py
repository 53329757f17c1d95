"""Who is calling, and what they may do.

Two roles: `admin` (everything) and `uploader` (may upload). Scripts send
`Authorization: Bearer $ADMIN_TOKEN` (or the uploaders' passcode, `UPLOAD_TOKEN`); people sign
in at /admin with the admin token and get a signed session cookie. The cookie needs no server
state, so every worker on every machine accepts it; its key is derived from ADMIN_TOKEN, so
changing the token signs everybody out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from .config import Settings

ADMIN = "admin"
UPLOADER = "uploader"
COOKIE = "simulcast_session"


@dataclass(frozen=True)
class Actor:
    role: str | None  # ADMIN, UPLOADER, or None for anonymous callers
    via: str  # "token", "passcode", "session:<id>" or "anonymous"
    ip: str
    rejected: bool = False  # credentials were sent but matched nothing

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "via": self.via, "ip": self.ip}


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


class Access:
    def __init__(self, settings: Settings) -> None:
        self.admin_token: str = settings.admin_token
        self.upload_token: str = settings.upload_token
        self.upload_access: str = settings.upload_access
        self.session_seconds = int(settings.session_hours * 3600)
        key = hashlib.sha256(b"simulcast admin session\0" + self.admin_token.encode()).digest()
        self._sessions = URLSafeTimedSerializer(key, salt="admin-session")

    @property
    def admin_enabled(self) -> bool:
        return bool(self.admin_token)

    def identify(self, authorization: str, cookie: str, ip: str) -> Actor:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            token = token.strip()
            if _same(token, self.admin_token):
                return Actor(ADMIN, "token", ip)
            if self.upload_access == "token" and _same(token, self.upload_token):
                return Actor(UPLOADER, "passcode", ip)
            return Actor(None, "anonymous", ip, rejected=True)
        if cookie and self.admin_enabled:
            session = self._session(cookie)
            if session is not None:
                return Actor(ADMIN, f"session:{session}", ip)
        return Actor(None, "anonymous", ip)

    def _session(self, cookie: str) -> str | None:
        try:
            data = self._sessions.loads(cookie, max_age=self.session_seconds)
        except BadSignature:  # includes an expired signature
            return None
        return str(data["sid"]) if isinstance(data, dict) and "sid" in data else None

    def sign_in(self, token: str) -> tuple[str, str] | None:
        """A new session (its id and the cookie value) for the right admin token."""
        if not _same(token, self.admin_token):
            return None
        sid = secrets.token_hex(6)  # short: it names the session in the audit log
        return sid, self._sessions.dumps({"sid": sid})

    def may_upload(self, actor: Actor) -> bool:
        if actor.role == ADMIN or self.upload_access == "open":
            return True
        return self.upload_access == "token" and actor.role == UPLOADER

    def upload_role(self) -> str | None:
        """The role uploading needs, or None when anyone may."""
        return {"open": None, "token": UPLOADER, "admin": ADMIN}[self.upload_access]
