"""A small, strict Server-Sent Events reader for tests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Event:
    data: dict[str, Any]
    id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)


class Stream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self, timeout: float = 10.0) -> Event:
        """The next event (comments before it are kept on it)."""
        deadline = time.monotonic() + timeout
        event: dict[str, Any] = {"comments": []}
        data: list[str] = []
        for line in self.lines:
            if time.monotonic() > deadline:
                break
            if line == "":
                if data:
                    return Event(json.loads("\n".join(data)), **event)
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                event["comments"].append(value)
            elif name == "data":
                data.append(value)
            elif name == "id":
                event["id"] = value
            elif name == "retry":
                event["retry"] = int(value)
        raise TimeoutError("no event in time")

    def until(self, predicate: Any, timeout: float = 15.0) -> Event:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.next(timeout=deadline - time.monotonic())
            if predicate(event.data):
                return event
        raise TimeoutError("no matching event in time")


@contextmanager
def stream(
    url: str, headers: dict[str, str] | None = None, cookies: Any = None
) -> Iterator[Stream]:
    timeout = httpx.Timeout(5.0, read=30.0)
    with httpx.Client(timeout=timeout, cookies=cookies) as client:
        with client.stream("GET", url + "/video-updates", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            yield Stream(response)
