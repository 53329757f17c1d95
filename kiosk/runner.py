"""The kiosk's control loop: probe the server, read the page, act on what the supervisor says.

Runs in pywebview's worker thread; everything it does to the window goes through `Browser`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from kiosk.status import PageStatus
from kiosk.supervisor import Action, Supervisor
from kiosk.urls import ambient_url, health_url

log = logging.getLogger("kiosk")

POLL_INTERVAL = 0.5


class Browser(Protocol):
    def show_waiting(self, server: str) -> None: ...
    def update_waiting(self, attempt: int, retry_in: float) -> None: ...
    def load(self, url: str) -> None: ...
    def page_status(self) -> Any: ...


# Called once per loop with the latest probe (None when none was due) and page status;
# returning True ends the loop.
Observer = Callable[[bool | None, PageStatus | None], bool]


def run(
    browser: Browser,
    server: str,
    supervisor: Supervisor,
    stop: threading.Event,
    *,
    observer: Observer | None = None,
    probe: Callable[[str], bool],
    page: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    poll: float = POLL_INTERVAL,
    shown_as: str | None = None,
) -> None:
    """Drive the window for the channel at `server` (whose /healthz says whether it can be
    shown); `page` is the channel page to show (default the server's /ambient), `shown_as` the
    address people know the server by, for the waiting screen and the log."""
    page = page or ambient_url(server)
    name = shown_as or server
    while not stop.is_set():
        now = clock()
        reachable: bool | None = None
        if supervisor.probe_due(now):
            reachable = probe(health_url(server))
            _act(browser, server, name, page, supervisor.on_probe(now, reachable), None)
            if not supervisor.on_channel:
                browser.update_waiting(supervisor.failures, supervisor.next_probe_at - now)
        status = None
        if supervisor.on_channel:
            status = PageStatus.from_page(browser.page_status())
            _act(browser, server, name, page, supervisor.on_status(clock(), status), status)
        if observer is not None and observer(reachable, status):
            return
        stop.wait(poll)


def _act(
    browser: Browser,
    server: str,
    name: str,
    page: str,
    action: Action | None,
    status: PageStatus | None,
) -> None:
    if action is None:
        return
    if action is Action.NOW_PLAYING and status is not None:
        log.info("playing video %s (offset %+.0f ms)", status.video_id, status.offset_ms)
        return
    if action is Action.SHOW_WAITING:
        log.warning("server %s not reachable: showing the waiting screen", name)
        browser.show_waiting(name)
    elif action is Action.LOAD_CHANNEL:
        log.info("channel ready (%s): loading %s", name, page)
        browser.load(page)
    elif action is Action.RELOAD:
        log.warning("playback frozen or page not ready: reloading %s", page)
        browser.load(page)
