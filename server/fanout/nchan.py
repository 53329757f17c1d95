"""Fan-out through nginx's nchan module: the app publishes each event once, nginx holds the
viewers' streams and writes to them (in C, across worker processes, and across nginx machines
when nchan keeps its channels in Redis).

nchan keeps the last messages of the channel: a viewer who connects gets the newest one at once
(`nchan_subscriber_first_message -1`), and one who reconnects with `Last-Event-ID` gets what it
missed. Every event is the whole state, so only the newest unsent one matters: a slow or failed
publish is retried with whatever is newest by then, never with a stale backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import httpx

log = logging.getLogger(__name__)

RETRY = 1.0  # seconds between attempts while nginx is away


def channel_url(publish_url: str, slug: str | None) -> str:
    """A channel's nchan publisher location: NCHAN_PUBLISH_URL itself for the default channel;
    for another, the same with `_<slug>` after its last path segment, the nchan channel id
    (.../nchan/pub/simulcast → .../nchan/pub/simulcast_lobby), which examples/nchan.conf
    serves at /c/lobby/video-updates."""
    if slug is None:
        return publish_url
    parts = urlsplit(publish_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{slug}"))


class NchanFanout:
    def __init__(self, publish_url: str) -> None:
        self.publish_url = publish_url
        self.dropped = 0  # nchan drops nobody on the app's behalf
        self.departed = 0  # nor holds any stream here
        self.published = 0
        self._latest: bytes | None = None
        self._sent: bytes | None = None
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return 0  # the viewers are nginx's

    def publish(self, payload: bytes, event_id: int) -> None:
        self._latest = payload  # nchan numbers its messages itself
        self._wake.set()

    def ping(self) -> None:
        pass  # nginx pings (nchan_eventsource_ping_interval): a ping is no message to keep

    async def viewers(self, report: Callable[[int], Awaitable[int]]) -> int:
        """nchan's subscriber count for the channel (all nginx workers; with Redis, all nginx
        machines). A channel nginx lost (restarted without Redis) gets the state again, so
        viewers who connect next still get a first event."""
        info = await self.info()
        if info.get("messages", 0) == 0 and self._latest is not None:
            self._sent = None
            self._wake.set()
        return int(info.get("subscribers", 0))

    async def info(self) -> dict[str, int | str]:
        """The channel's info: messages kept, subscribers, last message id ({} if none yet)."""
        response = await self._http().get(self.publish_url, headers={"Accept": "application/json"})
        if response.status_code == 404:
            return {}
        response.raise_for_status()
        return dict(response.json())

    async def end(self) -> None:
        """Delete the nchan channel: nginx closes its viewers' streams, and its last state is
        no first event for anybody any more."""
        await self.close()
        async with httpx.AsyncClient(timeout=10) as client:
            try:
                (await client.delete(self.publish_url)).raise_for_status()
            except httpx.HTTPError as error:
                log.warning("deleting the nchan channel failed (%s)", error)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10)
        return self._client

    async def start(self) -> None:
        self._task = asyncio.create_task(self._publisher())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    async def _publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            payload = self._latest
            if payload is None or payload is self._sent:
                continue
            try:
                response = await self._http().post(
                    self.publish_url,
                    content=payload,
                    headers={"Content-Type": "application/json", "Accept": "application/json"},
                )
                response.raise_for_status()
            except httpx.HTTPError as error:
                log.warning("publishing to nchan failed (%s); retrying", error)
                self._wake.set()
                await asyncio.sleep(RETRY)
                continue
            self._sent = payload
            self.published += 1
