"""Server-Sent Events: the wire encoding (the fan-out is in `fanout/`)."""

from __future__ import annotations

import json
from typing import Any

KEEPALIVE = b": ping\n\n"


def data(value: Any) -> bytes:
    """An event's payload: compact JSON has no newlines, so one data: line is always enough."""
    return json.dumps(value, separators=(",", ":")).encode()


def frame(payload: bytes, *, event_id: int | None = None, retry_ms: int | None = None) -> bytes:
    head = b""
    if retry_ms is not None:
        head += b"retry: %d\n" % retry_ms
    if event_id is not None:
        head += b"id: %d\n" % event_id
    return head + b"data: " + payload + b"\n\n"


def encode(value: Any, *, event_id: int | None = None, retry_ms: int | None = None) -> bytes:
    return frame(data(value), event_id=event_id, retry_ms=retry_ms)
