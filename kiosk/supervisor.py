"""Decides what the kiosk shows: the waiting screen, the channel, or a reload of a frozen page.

Pure logic driven by a clock value and observations, so every rule is testable without Qt.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import Enum

from kiosk.status import PageStatus

# Smaller position changes than this are decoder jitter, not playback.
MIN_PROGRESS_S = 0.05


class Action(Enum):
    SHOW_WAITING = "show waiting screen"
    LOAD_CHANNEL = "load channel"
    RELOAD = "reload channel"
    NOW_PLAYING = "playing"  # informational: the page started advancing after a (re)load


class Backoff:
    """Growing, capped, jittered retry delays: many kiosks must not hit a recovering server in
    lockstep, and the cap keeps the screen from waiting long after the server is back."""

    def __init__(
        self,
        first: float = 0.5,
        factor: float = 1.6,
        cap: float = 4.0,
        jitter: float = 0.2,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.first, self.factor, self.cap = first, factor, cap
        self.jitter, self._rand = jitter, rand
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.cap, self.first * self.factor**self.attempt)
        self.attempt += 1
        return delay * (1 + self.jitter * (2 * self._rand() - 1))

    def reset(self) -> None:
        self.attempt = 0


class Supervisor:
    def __init__(
        self,
        *,
        freeze_after: float = 5.0,
        load_grace: float = 20.0,
        probe_every: float = 2.0,
        lost_after: int = 2,
        backoff: Backoff | None = None,
    ) -> None:
        self.freeze_after = freeze_after
        self.load_grace = load_grace
        self.probe_every = probe_every
        self.lost_after = lost_after
        self.backoff = backoff or Backoff()
        self.on_channel = False
        self.waiting_shown = False
        self.server_ok: bool | None = None
        self.failures = 0
        self.next_probe_at = 0.0
        self._progress_at = 0.0
        self._last: tuple[str, float] | None = None
        self._advanced = False
        # Reloads that did not lead to playback; each one lengthens the next grace period so a
        # page that can never play (say, a codec the engine lacks) is not reloaded in a tight loop.
        self.failed_reloads = 0

    def probe_due(self, now: float) -> bool:
        return now >= self.next_probe_at

    def on_probe(self, now: float, ok: bool) -> Action | None:
        self.server_ok = ok
        if ok:
            self.failures = 0
            self.backoff.reset()
            self.next_probe_at = now + self.probe_every
            if not self.on_channel:
                self.on_channel = True
                self.waiting_shown = False
                self._start_load(now)
                return Action.LOAD_CHANNEL
            return None
        self.failures += 1
        if not self.on_channel:
            self.next_probe_at = now + self.backoff.next()
            if not self.waiting_shown:
                self.waiting_shown = True
                return Action.SHOW_WAITING
            return None
        self.next_probe_at = now + min(self.probe_every, 1.0)
        # A page still playing what it buffered is better than a waiting screen: only give up
        # on the channel once the server is gone *and* the picture has stopped.
        if self.failures >= self.lost_after and not self._advancing(now):
            return self._to_waiting(now)
        return None

    def on_status(self, now: float, status: PageStatus | None) -> Action | None:
        if not self.on_channel:
            return None
        if status is None or not status.ready:
            return self._recover(now) if now - self._progress_at > self._limit() else None
        if status.video_id is None:
            # Nothing scheduled (an empty channel) is idle, not frozen.
            self._progress_at, self._last = now, None
            return None
        sample = (status.video_id, status.position)
        moved = self._last is not None and (
            sample[0] != self._last[0] or abs(sample[1] - self._last[1]) >= MIN_PROGRESS_S
        )
        if self._last is None or moved:
            self._last = sample
        if moved:
            self._progress_at = now
            if not self._advanced:
                self._advanced = True
                self.failed_reloads = 0
                return Action.NOW_PLAYING
            return None
        if now - self._progress_at > self._limit():
            return self._recover(now)
        return None

    def _limit(self) -> float:
        if self._advanced:
            return self.freeze_after
        return self.load_grace * min(2**self.failed_reloads, 8)

    def _advancing(self, now: float) -> bool:
        return self._advanced and now - self._progress_at < 2.5

    def _recover(self, now: float) -> Action:
        if self.server_ok is False:
            return self._to_waiting(now)
        if not self._advanced:
            self.failed_reloads += 1
        self._start_load(now)
        return Action.RELOAD

    def _start_load(self, now: float) -> None:
        self._progress_at = now
        self._last = None
        self._advanced = False

    def _to_waiting(self, now: float) -> Action:
        self.on_channel = False
        self.waiting_shown = True
        self.backoff.reset()
        self.next_probe_at = now + self.backoff.next()
        return Action.SHOW_WAITING
