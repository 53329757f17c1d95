"""Follows the server: its event stream, its clock and its playlist, into the LocalChannel.

One thread. While the server answers it feeds the channel and saves the last good state; when
it goes (connection refused, reset, or silent past a few keep-alives) the channel carries on
from that state, and this retries with a growing, jittered delay.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from kiosk.channel import LocalChannel, Saved
from kiosk.plan import Clip, plan_from_state, playlist_from_listing
from kiosk.supervisor import Backoff
from shared.timing import Sample, clock_sample, estimate_offset

log = logging.getLogger("kiosk")

# The server sends a keep-alive every 10 s: three missed mean the path is gone.
READ_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 5.0
CLOCK_EVERY_S = 10.0
RETRY_CAP_S = 2.0
MAX_SAMPLES = 24
SAVE_EVERY_S = 30.0
# Reasons whose states may carry a new playlist; votes and viewer counts do not.
PLAYLIST_REASONS = {"connect", "switch", "playlist", "sync"}


def sse_events(lines: Iterator[bytes]) -> Iterator[str | None]:
    """The data of each Server-Sent Event; None for a comment (the server's keep-alive)."""
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith(":"):
            yield None
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


def end_stream(response: Any) -> None:
    """End a response another thread is reading: closing it would not wake that read, shutting
    its connection down does (the read sees the stream end)."""
    try:
        with socket.fromfd(response.fileno(), socket.AF_INET, socket.SOCK_STREAM) as connection:
            connection.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError, AttributeError):
        pass  # closed already (a closed response has no file: AttributeError)


class Upstream:
    def __init__(self, channel: LocalChannel, stop: threading.Event,
                 save: Callable[[Saved], None] | None = None) -> None:
        self.channel = channel
        self.server = channel.server  # the channel followed by the current connection
        self.stop = stop
        self.save = save
        self.samples: list[Sample] = []
        self.clips: tuple[Clip, ...] = channel.plan.clips if channel.plan else ()
        self.programme: dict[str, Any] | None = None
        self._clock_at = 0.0
        self._saved_at = 0.0
        self._delivered = False
        self._stream: Any = None  # the open event stream, for move() to end
        self._stream_lock = threading.Lock()
        self._moving = threading.Event()

    def run(self) -> None:
        # Capped at 2 s so a returning server is followed within a few seconds; jittered so a
        # building's kiosks do not all call at once.
        backoff = Backoff(cap=RETRY_CAP_S)
        while not self.stop.is_set():
            self._delivered = False
            try:
                self._follow()
                reason = "its event stream ended"
            except (OSError, ValueError, KeyError, TypeError) as exc:
                reason = str(exc) or type(exc).__name__
            moving = self._moving.is_set()
            self._moving.clear()
            if self.channel.online and not moving:
                log.warning("server %s gone (%s): playing on from the last known schedule",
                            self.server, reason)
            self.channel.disconnected()
            if self._delivered:
                backoff.reset()
            if not moving:  # another channel's stream: at once
                self.stop.wait(backoff.next())

    def move(self) -> None:
        """The kiosk was moved to another channel (channel.server): end the old channel's stream
        now, so the new one is followed within a moment rather than at the next keep-alive."""
        self._moving.set()
        with self._stream_lock:
            if self._stream is not None:
                end_stream(self._stream)

    def _get(self, path: str, timeout: float = REQUEST_TIMEOUT_S) -> Any:
        request = urllib.request.Request(self.server + path,
                                         headers={"User-Agent": "simulcast-kiosk"})
        return urllib.request.urlopen(request, timeout=timeout)

    def _follow(self) -> None:
        """One connection to the event stream, until it ends."""
        self.samples = []  # the server that answers may be another machine, with another clock
        self.server = server = self.channel.server
        self._sample_clock(5)
        stream = self._get("/video-updates", READ_TIMEOUT_S)
        with self._stream_lock:
            self._stream = stream
        try:
            if self.channel.server != server:
                return  # moved while connecting
            self.channel.connected()
            for data in sse_events(iter(stream.readline, b"")):
                if self.stop.is_set() or self.channel.server != server:
                    break
                self.channel.heard()
                if time.monotonic() - self._clock_at > CLOCK_EVERY_S:
                    self._sample_clock(3)
                if data is not None:
                    self._on_state(json.loads(data))
                    self._delivered = True
                self._save(force=False)
        finally:
            with self._stream_lock:  # move() never shuts a socket that is no longer this one
                self._stream = None
                stream.close()

    def _on_state(self, state: dict[str, Any]) -> None:
        if state.get("reason") in PLAYLIST_REASONS or not self.clips:
            with self._get("/videos") as response:
                self.clips = playlist_from_listing(json.load(response)["videos"])
            self.programme = self._programme()
        was_online = self.channel.upstream is not None
        plan = plan_from_state(state, self.clips, self.programme)
        self.channel.on_server_state(state, plan, self.server)
        if not was_online:
            log.info("server %s reachable: following its schedule", self.server)
        self._save(force=True)

    def _programme(self) -> dict[str, Any] | None:
        """The channel's schedule, its slots' videos and the anchor in it; None from a server
        older than schedules (the default playlist is then all there is)."""
        try:
            with self._get("/programme") as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def _sample_clock(self, count: int) -> None:
        for _ in range(count):
            t0 = time.time() * 1000
            with self._get("/time") as response:
                server_time = float(json.load(response)["server_time"])
            t1 = time.time() * 1000
            self.samples = [*self.samples, clock_sample(t0, server_time, t1)][-MAX_SAMPLES:]
        offset = estimate_offset(self.samples)
        if offset is not None:
            self.channel.set_offset(offset / 1000)
        self._clock_at = time.monotonic()

    def _save(self, force: bool) -> None:
        if self.save is None or not (force or time.monotonic() - self._saved_at > SAVE_EVERY_S):
            return
        saved = self.channel.saved()
        if saved is not None:
            try:
                self.save(saved)
            except OSError as exc:
                log.warning("could not save the channel state: %s", exc)
            self._saved_at = time.monotonic()
