"""The streaming response that hands a viewer's connection to the fan-out.

Quart would pull a body generator per viewer, one task wake-up per viewer per event. Instead
the route returns a `Subscription`; Quart still runs the request hooks and sends the headers,
then `SubscribingConnection` gives the connection's ASGI `send` to the fan-out, which writes to
all viewers in one pass (see `local.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypercorn.typing import ASGISendCallable
from quart import Response
from quart.utils import encode_headers

from ..flow import FlowConnection
from .local import LocalFanout


class Subscription(Response):
    def __init__(self, fanout: LocalFanout, first: Callable[[], bytes], **kwargs: Any) -> None:
        super().__init__(b"", **kwargs)
        del self.headers["Content-Length"]  # an endless body: chunked
        self.fanout = fanout
        self.first = first
        self.timeout = None


class SubscribingConnection(FlowConnection):
    async def _send_response(self, send: ASGISendCallable, response: Any) -> None:
        if not isinstance(response, Subscription):
            await super()._send_response(send, response)
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": encode_headers(response.headers),
            }
        )
        await response.fanout.serve(send, response.first)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
