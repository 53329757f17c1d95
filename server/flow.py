"""Backpressure for streamed request bodies.

Quart reads a request body from the socket as fast as it arrives and buffers it until the
handler asks for it. For an upload that means a fast client and a slow disk (or a busy CPU) can
pile up gigabytes in memory. Here the reading side waits whenever more than HIGH_WATER bytes are
buffered and the handler is reading the body in chunks (`async for chunk in request.body`), so
TCP flow control slows the client down instead. A handler that awaits the body whole
(`await request.get_json()`) lifts the limit, as it must, to get it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Generator
from typing import Any

from hypercorn.typing import ASGIReceiveCallable
from quart import Request
from quart.asgi import ASGIHTTPConnection
from quart.wrappers.request import Body
from werkzeug.exceptions import BadRequest

HIGH_WATER = 1 << 20


class FlowBody(Body):
    def __init__(self, expected_content_length: int | None, max_content_length: int | None) -> None:
        super().__init__(expected_content_length, max_content_length)
        self.whole = False
        # Made only once a body piles up: most requests (every viewer's stream among them)
        # never need one, and an Event costs each of them most of a KiB.
        self.drained: asyncio.Event | None = None

    def append(self, data: bytes) -> None:
        super().append(data)
        if len(self._data) >= HIGH_WATER and not self.whole:
            if self.drained is None:
                self.drained = asyncio.Event()
            self.drained.clear()

    async def __anext__(self) -> bytes:
        data = await super().__anext__()
        if self.drained is not None:
            self.drained.set()
        return data

    def __await__(self) -> Generator[Any, None, Any]:
        self.whole = True
        if self.drained is not None:
            self.drained.set()
        return super().__await__()


class FlowRequest(Request):
    """Bodies are small (MAX_CONTENT_LENGTH, 413 beyond) except on the streamed paths, whose
    handlers read the body in chunks and enforce their own limit while receiving."""

    body_class = FlowBody
    streamed_paths = frozenset({"/uploads"})
    # ... and a channel's own upload address, /c/<slug>/uploads.
    streamed_pattern = re.compile(r"^/c/[a-z0-9][a-z0-9-]*/uploads$")

    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        if path in self.streamed_paths or self.streamed_pattern.match(path):
            kwargs["max_content_length"] = None
        super().__init__(method, scheme, path, *args, **kwargs)

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        # Quart decodes the body as UTF-8 before parsing it: bytes that are no text escaped
        # `silent` and became 503s. They are bad JSON like any other.
        try:
            return await super().get_json(force, silent, cache)
        except UnicodeDecodeError:
            if silent:
                return None
            raise BadRequest("The body is not UTF-8 text.") from None


class FlowConnection(ASGIHTTPConnection):
    async def handle_messages(self, request: Request, receive: ASGIReceiveCallable) -> None:
        body = request.body
        while True:
            if isinstance(body, FlowBody) and body.drained is not None:
                await body.drained.wait()
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body.set_complete()
            elif message["type"] == "http.disconnect":
                return
