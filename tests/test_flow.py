"""Upload bodies are read no faster than the handler consumes them."""

from __future__ import annotations

import asyncio
from typing import Any

from quart import Quart, request

from server.flow import HIGH_WATER, FlowConnection, FlowRequest

CHUNK = 64 * 1024
CHUNKS = 200  # 12.5 MiB offered at once by a fast client


def app_with(flow: bool) -> tuple[Quart, dict[str, int]]:
    app = Quart(__name__)
    if flow:
        app.request_class = FlowRequest
        app.asgi_http_class = FlowConnection
    seen = {"peak": 0, "total": 0}

    @app.post("/up")
    async def up() -> str:
        await asyncio.sleep(0.3)  # a slow start: a fast client has offered everything by now
        async for chunk in request.body:
            # Each read returns everything buffered so far: its size is the backlog.
            seen["peak"] = max(seen["peak"], len(chunk))
            seen["total"] += len(chunk)
            await asyncio.sleep(0.002)  # a slow disk
        return "ok"

    return app, seen


async def upload(app: Quart) -> list[dict[str, Any]]:
    offered = 0

    async def receive() -> dict[str, Any]:
        nonlocal offered
        await asyncio.sleep(0)  # a socket read: other tasks run meanwhile
        if offered < CHUNKS:
            offered += 1
            return {"type": "http.request", "body": b"x" * CHUNK, "more_body": offered < CHUNKS}
        await asyncio.Event().wait()  # the client waits for the answer
        raise AssertionError("unreachable")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/up", "raw_path": b"/up", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"content-length", str(CHUNK * CHUNKS).encode())],
    }  # fmt: skip
    await asyncio.wait_for(app(scope, receive, send), 30)  # type: ignore[arg-type]
    return sent


async def test_a_slow_reader_holds_back_the_client() -> None:
    app, seen = app_with(flow=True)
    sent = await upload(app)
    assert sent[0]["status"] == 200
    assert seen["total"] == CHUNK * CHUNKS
    assert seen["peak"] <= HIGH_WATER + CHUNK


async def test_without_it_quart_buffers_what_the_client_sends() -> None:
    # The reason server/flow.py exists: plain Quart lets the backlog grow with the upload.
    app, seen = app_with(flow=False)
    await upload(app)
    assert seen["total"] == CHUNK * CHUNKS
    assert seen["peak"] > 4 * HIGH_WATER


async def test_bodies_awaited_whole_still_arrive_whole() -> None:
    app = Quart(__name__)
    app.request_class = FlowRequest
    app.asgi_http_class = FlowConnection

    @app.post("/up")
    async def up() -> str:
        return str(len(await request.get_data()))

    sent = await upload(app)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == str(CHUNK * CHUNKS).encode()
