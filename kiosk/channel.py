"""The channel as this kiosk serves it to its page: the server's own states while it is there,
states worked out from the last known plan while it is away, and the resync when it returns.

Thread-safe: the server follower writes, the local server's request threads read and wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from kiosk.plan import Plan, ends_at, same_item, state_at
from kiosk.status import PageStatus

KEEPALIVE_S = 10.0
CARRIED = ("banner",)


@dataclass(frozen=True)
class Saved:
    """The last good state, kept on disk so a kiosk restarted while the server is away resumes."""

    server: str
    plan: Plan
    clock_offset: float  # server clock - this machine's wall clock, seconds
    last_contact: float  # wall time the server was last heard from

    def to_json(self) -> dict[str, Any]:
        return {"server": self.server, **self.plan.to_json(), "clock_offset": self.clock_offset,
                "last_contact": self.last_contact}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Saved:
        return cls(str(data["server"]), Plan.from_json(data), float(data["clock_offset"]),
                   float(data["last_contact"]))


class LocalChannel:
    def __init__(self, server: str, saved: Saved | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.server = server
        self._clock = clock
        self._changed = threading.Condition()
        self._seq = 0
        self.plan: Plan | None = saved.plan if saved else None
        self.offset: float | None = saved.clock_offset if saved else None
        self.last_contact: float | None = saved.last_contact if saved else None
        self.online = False
        self.upstream: dict[str, Any] | None = None  # the server's latest state, as sent
        self._resynced = False  # a state came since the last (re)connection
        self._held: Plan | None = None  # the plan played offline, kept until its video ends
        self._moved = False  # to another channel: its first state is taken at once
        self._held_until = 0.0
        self._extras: dict[str, Any] = {}
        self.page: PageStatus | None = None
        self.page_at = 0.0

    # --- time ---------------------------------------------------------------------------------
    def server_now(self) -> float | None:
        return None if self.offset is None else self._clock() + self.offset

    def set_offset(self, offset: float) -> None:
        self.offset = offset

    # --- the server's side --------------------------------------------------------------------
    def connected(self) -> None:
        with self._changed:
            self.online = True
            self._resynced = False
            self.last_contact = self._clock()

    def heard(self) -> None:
        self.last_contact = self._clock()

    def disconnected(self) -> None:
        with self._changed:
            if self.online:
                self.online = False
                self.upstream = None
                self._bump()

    def retarget(self, server: str) -> None:
        """The console moved this screen to the channel at `server`: its states are followed
        from the first one, without finishing the video on screen (another channel's). Until
        then the old channel's plan plays on, so the screen never goes blank."""
        with self._changed:
            self.server = server
            self._moved = True
            self._held = None

    def on_server_state(self, state: dict[str, Any], plan: Plan,
                        source: str | None = None) -> None:
        """A state of the channel at `source` (None: the one followed now); one from a channel
        the kiosk has just been moved away from is dropped."""
        with self._changed:
            if source is not None and source != self.server:
                return
            now = self.server_now()
            if self._moved:
                self._moved = False
            elif not self._resynced and self.plan is not None and now is not None:
                playing = state_at(self._held or self.plan, now)
                if not same_item(playing, state):
                    # The channel moved on while we were away (a skip, a new playlist):
                    # finish the video on screen and join the server's schedule at the switch
                    # rather than jump in the middle of it.
                    self._held = self._held or self.plan
                    self._held_until = ends_at(playing)
            self._resynced = True
            self.plan = plan
            self.upstream = state
            # What the server says beside the schedule (a banner) stays up while it is away.
            self._extras = {k: state[k] for k in CARRIED if k in state}
            self.last_contact = self._clock()
            self._bump()

    # --- the page's side ----------------------------------------------------------------------
    def ready(self) -> bool:
        return self.plan is not None and self.offset is not None

    def page_state(self) -> tuple[Hashable, dict[str, Any] | None, float]:
        """(what identifies it, the state the page should have, seconds until it changes by
        itself): the server's own while it is there, else the last plan's."""
        with self._changed:
            now = self.server_now()
            if now is None or self.plan is None:
                return None, None, KEEPALIVE_S
            if self._held is not None:
                if now < self._held_until:
                    held = state_at(self._held, now)
                    return ("held", held["id"], held["start_time"]), held, self._held_until - now
                self._held = None
            if self.online and self.upstream is not None:
                return ("server", self._seq), self.upstream, KEEPALIVE_S
            state = {**state_at(self.plan, now), **self._extras}
            return ("plan", state["id"], state["start_time"]), state, ends_at(state) - now

    def wait(self, seen: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self._seq != seen, max(0.0, timeout))
            return self._seq

    @property
    def seq(self) -> int:
        return self._seq

    def set_page(self, status: PageStatus | None) -> None:
        self.page, self.page_at = status, self._clock()

    def offline_seconds(self) -> float | None:
        """0 while the server is there; since when it was last heard from otherwise; None if
        it never was."""
        if self.online:
            return 0.0
        return None if self.last_contact is None else max(0.0, self._clock() - self.last_contact)

    def in_sync(self) -> bool:
        """The server is there, and the page plays its current video within 100 ms."""
        page, upstream = self.page, self.upstream
        if not self.online or upstream is None or page is None or self._clock() - self.page_at > 2:
            return False
        return page.playing and page.video_id == upstream.get("id") and abs(page.offset_ms) < 100

    def saved(self) -> Saved | None:
        if self.plan is None or self.offset is None or self.last_contact is None or self._moved:
            return None  # (moved: the plan is still the old channel's)
        return Saved(self.server, self.plan, self.offset, self.last_contact)

    def _bump(self) -> None:
        self._seq += 1
        self._changed.notify_all()
