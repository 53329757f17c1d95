"""`--check`: watch the kiosk's own page until it plays in sync, then report in one JSON line."""

from __future__ import annotations

import json
from typing import Any

from kiosk.status import PageStatus


class SyncCheck:
    """Done when the video has played, with sound, within `max_offset_ms` of the server clock
    for `stable_samples` samples in a row: one lucky sample right after a seek proves little.
    A page that fell back to muted playback fails: a kiosk is meant to autoplay with sound."""

    def __init__(self, server: str, max_offset_ms: float = 100.0, stable_samples: int = 3) -> None:
        self.server = server
        self.max_offset_ms = max_offset_ms
        self.stable_samples = stable_samples
        self.server_reachable = False
        self.page_loaded = False
        self.last: PageStatus | None = None
        self._good = 0
        self._positions: list[float] = []

    def observe(self, reachable: bool | None, status: PageStatus | None) -> bool:
        if reachable:
            self.server_reachable = True
        if status is None:
            return False
        self.page_loaded = True
        self.last = status
        advancing = bool(self._positions) and status.position != self._positions[-1]
        self._positions.append(status.position)
        in_sync = abs(status.offset_ms) < self.max_offset_ms
        audible = status.muted is not True
        self._good = self._good + 1 if status.playing and advancing and in_sync and audible else 0
        return self.ok

    @property
    def ok(self) -> bool:
        return self._good >= self.stable_samples

    def report(self, elapsed_s: float) -> dict[str, Any]:
        last = self.last
        playing = bool(last and last.playing and len(set(self._positions[-3:])) > 1)
        report: dict[str, Any] = {
            "ok": self.ok,
            "server": self.server,
            "server_reachable": self.server_reachable,
            "page_loaded": self.page_loaded,
            "video_playing": playing,
            "offset_ms": None if last is None else round(last.offset_ms, 1),
            "max_offset_ms": self.max_offset_ms,
            "video_id": None if last is None else last.video_id,
            "position_s": None if last is None else round(last.position, 3),
            "expected_s": None if last is None else round(last.expected, 3),
            "connected": None if last is None else last.connected,
            "muted": None if last is None else last.muted,
            "elapsed_s": round(elapsed_s, 2),
        }
        if not self.ok:
            report["error"] = self._reason(playing)
        return report

    def _reason(self, playing: bool) -> str:
        if not self.server_reachable:
            return "server not reachable"
        if not self.page_loaded:
            return "ambient page did not load or has no simulcastStatus()"
        if not playing:
            return "video not playing"
        if self.last is not None and self.last.muted:
            return "video playing muted: autoplay with sound was blocked"
        return f"video playing but not within {self.max_offset_ms:g} ms of the server clock"


def format_report(report: dict[str, Any]) -> str:
    return json.dumps(report, separators=(",", ":"))
