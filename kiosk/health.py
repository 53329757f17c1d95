"""Is the server up? One GET of its health endpoint."""

from __future__ import annotations

import urllib.error
import urllib.request

PROBE_TIMEOUT = 2.0


def probe_server(url: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when the health URL answers 2xx; any failure (refused, timeout, 5xx from a proxy
    whose backend is down) is simply "not reachable"."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False
