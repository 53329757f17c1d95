"""The streaming response that hands a viewer's connection to the fan-out.

Quart runs a viewer's request like any other (the request hooks, the view, the security headers
added after it) and sends the response headers. The view returns a `Subscription`, so the
headers are followed by no body from Quart: the viewer joins the fan-out, which writes to all
viewers in one pass (see `local.py`), and Quart's part of the request ends there. The stream then
lives on in the server's call of the app alone: Quart's request, its context, its two tasks per
request and its response object are gone, which took the heap an idle viewer costs from ~29 to
~18 KiB (docs/scaling.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, HTTPResponseStartEvent
from quart import Request, Response
from quart.utils import encode_headers

from ..flow import FlowConnection
from .local import LocalFanout, Viewer


class Subscription(Response):
    def __init__(self, fanout: LocalFanout, first: Callable[[], bytes], **kwargs: Any) -> None:
        super().__init__(b"", **kwargs)
        del self.headers["Content-Length"]  # an endless body: chunked
        self.fanout = fanout
        self.first = first
        self.timeout = None


class SubscribingConnection(FlowConnection):
    # Every viewer's response starts the same, and Hypercorn keeps the start message (headers
    # included) for its access log: one shared message instead of one per viewer.
    _starts: dict[tuple[int, tuple[tuple[bytes, bytes], ...]], HTTPResponseStartEvent] = {}

    viewer: Viewer | None = None  # joined the fan-out: its stream follows Quart's part
    left = False  # the client left while Quart still had the request

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await super().__call__(receive, send)
        viewer, self.viewer = self.viewer, None
        if viewer is None:
            return
        if self.left:  # its disconnect went to Quart: nothing will come through receive()
            viewer.hub.forget(viewer)
            return
        # The server keeps the request's scope for its access log, which writes no header but the
        # User-Agent: a browser's ~15 headers would cost ~2 KiB a viewer for the stream's life.
        headers = self.scope["headers"]
        self.scope["headers"] = [(name, value) for name, value in headers if name == b"user-agent"]
        del headers
        await viewer.hub.stay(viewer, receive)

    async def handle_messages(self, request: Request, receive: ASGIReceiveCallable) -> None:
        await super().handle_messages(request, receive)
        self.left = True  # it returns on http.disconnect only

    async def _send_response(self, send: ASGISendCallable, response: Any) -> None:
        if not isinstance(response, Subscription):
            await super()._send_response(send, response)
            return
        headers = encode_headers(response.headers)
        key = (response.status_code, tuple(headers))
        if (start := self._starts.get(key)) is None:
            if len(self._starts) >= 64:  # not expected to vary; never grow without bound
                self._starts.clear()
            start = {"type": "http.response.start", "status": key[0], "headers": headers}
            self._starts[key] = start
        await send(start)
        if self.scope["method"] == "HEAD":  # the headers alone (no stream to keep open)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            self.viewer = response.fanout.join(send, response.first)
