"""The server address an operator types, checked once and turned into the URLs the kiosk uses."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

AMBIENT_PATH = "/ambient"
HEALTH_PATH = "/healthz"


class ServerURLError(ValueError):
    """A server address the kiosk cannot use; the message says why in an operator's words."""


def validate_server_url(raw: str) -> str:
    """Return the server's base URL (no trailing slash) or raise ServerURLError.

    A path prefix is kept so a server behind a reverse proxy at `/simulcast` works; a pasted
    `.../ambient` page address is accepted and trimmed to the server it belongs to.
    """
    text = raw.strip()
    if not text:
        raise ServerURLError("the server address is empty; expected e.g. http://host:8000")
    if any(ch.isspace() for ch in text):
        raise ServerURLError(f"{raw!r} contains spaces; expected e.g. http://host:8000")
    if "://" not in text:
        raise ServerURLError(
            f"{raw!r} has no scheme; did you mean http://{text} ?"
        )
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ServerURLError(
            f"{raw!r} uses {parts.scheme!r}; the server address must start with http:// or https://"
        )
    if not parts.hostname:
        raise ServerURLError(f"{raw!r} has no host name; expected e.g. http://host:8000")
    try:
        parts.port  # noqa: B018 - urlsplit only validates the port when it is read
    except ValueError:
        raise ServerURLError(
            f"{raw!r} has an invalid port; use a number from 1 to 65535"
        ) from None
    if parts.query or parts.fragment:
        raise ServerURLError(
            f"{raw!r} has a query or fragment; give only the server address, e.g. http://host:8000"
        )
    path = parts.path.rstrip("/")
    if path.endswith(AMBIENT_PATH):
        path = path[: -len(AMBIENT_PATH)]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def ambient_url(
    base: str,
    screen_id: str | None = None,
    name: str | None = None,
    wall: str | None = None,
    tile: str | None = None,
) -> str:
    """The page the kiosk shows; with its screen id and name, so the page reports to the
    server's Screens list as this kiosk, and its wall tile (`3x2`, `2,1`) if it is one."""
    given = (("kiosk", screen_id), ("screen", name), ("wall", wall), ("tile", tile))
    identity = {k: v for k, v in given if v}
    return base + AMBIENT_PATH + ("?" + urlencode(identity) if identity else "")


def health_url(base: str) -> str:
    return base + HEALTH_PATH
