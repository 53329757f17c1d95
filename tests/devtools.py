"""Evaluate JavaScript in the kiosk's Qt WebEngine page over the DevTools protocol.

Playwright cannot attach to Qt WebEngine (it refuses browser-context management), so this
speaks to the page's own DevTools websocket: the kiosk opens one when started with
QTWEBENGINE_REMOTE_DEBUGGING=<port>.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import httpx
import websocket


class DevToolsPage:
    def __init__(self, port: int, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        url = None
        while url is None:
            try:
                pages = httpx.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
                url = next(
                    (p["webSocketDebuggerUrl"] for p in pages if path in p.get("url", "")), None
                )
            except (httpx.HTTPError, ValueError):
                pass
            if url is None:
                assert time.monotonic() < deadline, f"no DevTools page at {path} on :{port}"
                time.sleep(0.25)
        # DevTools refuses websockets that carry an Origin it was not told to allow.
        self._socket = websocket.create_connection(url, timeout=10, suppress_origin=True)
        self._ids = itertools.count(1)

    def evaluate(self, expression: str) -> Any:
        call = next(self._ids)
        self._socket.send(
            json.dumps(
                {
                    "id": call,
                    "method": "Runtime.evaluate",
                    "params": {"expression": expression, "returnByValue": True},
                }
            )
        )
        while True:
            answer = json.loads(self._socket.recv())
            if answer.get("id") == call:
                return answer["result"]["result"].get("value")

    def close(self) -> None:
        self._socket.close()
