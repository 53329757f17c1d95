"""Screens: every page and kiosk that shows the channel, as its own reports describe it.

A screen reports every REPORT_INTERVAL seconds and on change; what it measured (its offset to the
schedule, buffer, stalls) is kept in the fleet store, so every worker and machine sees the same
list. A screen is online until it misses MISSED_REPORTS reports in a row, or says goodbye.
Remote actions (identify, reload) wait in the store and ride back on the screen's next report,
so they reach that one screen whichever worker it talks to.

Everything here but `Screens` is pure: parsing a report, merging it into the record, ranking.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .store.fleet import Fleet
from .walls import PATTERN_INTERVAL, Walls

REPORT_INTERVAL = 5.0  # s between a screen's routine reports (the page's timer)
MISSED_REPORTS = 3  # a screen that missed this many reports in a row is offline
OFFLINE_AFTER = REPORT_INTERVAL * MISSED_REPORTS
FRAME_MS = 1000 / 30  # one frame of the channel's videos (30 fps): above it a screen is visibly off
BAD_OFFSET_MS = 100.0
COMMAND_TTL = 60.0  # s an identify/reload waits for its screen; a screen back later ignores it
ACTIONS = ("identify", "reload")
PAGES = ("/", "/ambient", "kiosk")
MAX_REPORT_BYTES = 4096
MAX_NAME = 80
MAX_SCREENS = 10_000  # new screens beyond this are refused: a flood of made-up ids stops here
BURST = 3  # reports a screen may send at once (a change right after a routine report, a goodbye)
REFILL = 1.0  # s to earn one more

_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class ReportError(ValueError):
    """A report the server cannot use; the message says which field and why."""


def valid_id(screen_id: str) -> bool:
    return bool(_ID.match(screen_id))


def _text(payload: Mapping[str, Any], key: str, limit: int = 80) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ReportError(f"{key} must be text")
    return " ".join(value.split())[:limit] or None


def _number(
    payload: Mapping[str, Any], key: str, low: float = -math.inf, high: float = math.inf
) -> float | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReportError(f"{key} must be a number")
    return float(min(max(value, low), high))


def _count(payload: Mapping[str, Any], key: str) -> int:
    value = _number(payload, key, 0, 1e9)
    return 0 if value is None else int(value)


def _flag(payload: Mapping[str, Any], key: str) -> bool | None:
    value = payload.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ReportError(f"{key} must be true or false")


def parse_report(payload: Any) -> dict[str, Any]:
    """A screen's report, checked and bounded; raises ReportError with a reason."""
    if not isinstance(payload, dict):
        raise ReportError("The report must be a JSON object.")
    screen_id = payload.get("id")
    if not isinstance(screen_id, str) or not valid_id(screen_id):
        raise ReportError("id must be 8-64 letters, digits, '-' or '_'.")
    page = _text(payload, "page")
    if page not in PAGES:
        raise ReportError(f"page must be one of {', '.join(PAGES)}.")
    return {
        "id": screen_id,
        "reported_name": _text(payload, "name", MAX_NAME),
        "page": page,
        "engine": _text(payload, "engine", 40),
        "version": _text(payload, "version", 40),
        "video_id": _text(payload, "video_id", 64),
        "start_time": _number(payload, "start_time", 0),
        "position": _number(payload, "position", 0),
        "offset_ms": _number(payload, "offset_ms", -1e7, 1e7),
        "rate": _number(payload, "rate", 0, 16),
        "buffer_s": _number(payload, "buffer_s", 0, 86_400),
        "stalls": _count(payload, "stalls"),
        "seeks": _count(payload, "seeks"),
        "dropped_frames": _count(payload, "dropped_frames"),
        "sound": _flag(payload, "sound"),
        "playing": _flag(payload, "playing"),
        "bye": bool(_flag(payload, "bye")),
    }


def merge(
    previous: Mapping[str, Any] | None, report: Mapping[str, Any], now: float, address: str | None
) -> dict[str, Any]:
    """The screen's record after this report. A name given on the screen (`?screen=`,
    `--name`) wins when it changes there; otherwise a rename from the console stands."""
    before = dict(previous or {})
    record = {**before, **{k: v for k, v in report.items() if k != "bye"}}
    if report["reported_name"] != before.get("reported_name") or "name" not in before:
        record["name"] = report["reported_name"]
    record["first_seen"] = before.get("first_seen", now)
    record["last_seen"] = now
    record["gone"] = bool(report["bye"])
    record["address"] = address
    record["stalls_total"] = int(before.get("stalls_total", 0)) + report["stalls"]
    record["seeks_total"] = int(before.get("seeks_total", 0)) + report["seeks"]
    return record


def online(record: Mapping[str, Any], now: float) -> bool:
    return not record.get("gone") and now - float(record.get("last_seen", 0)) <= OFFLINE_AFTER


def health(record: Mapping[str, Any], now: float) -> str:
    """offline, ok, off (more than a frame out) or bad (more than 100 ms out, or not playing)."""
    if not online(record, now):
        return "offline"
    offset = record.get("offset_ms")
    if offset is None or record.get("playing") is False:
        return "bad" if record.get("video_id") else "ok"
    if abs(offset) > BAD_OFFSET_MS:
        return "bad"
    return "off" if abs(offset) > FRAME_MS else "ok"


_RANK = {"offline": 0, "bad": 1, "off": 2, "ok": 3}


def present(
    records: list[dict[str, Any]], now: float, title_of: Callable[[str], str | None]
) -> list[dict[str, Any]]:
    """The list the console and GET /screens show: worst first (offline, then far out of sync,
    then a frame out), each with its status and the title of what it plays."""
    listed = []
    for record in records:
        shown = {k: v for k, v in record.items() if k not in ("gone", "bye")}
        shown["online"] = online(record, now)
        shown["status"] = health(record, now)
        shown["title"] = title_of(record["video_id"]) if record.get("video_id") else None
        listed.append(shown)
    listed.sort(key=lambda s: (_RANK[s["status"]], -abs(s.get("offset_ms") or 0), -s["last_seen"]))
    return listed


@dataclass
class Bucket:
    tokens: float
    at: float


@dataclass
class Limiter:
    """Per screen, at most BURST reports at once and one a second after that. In memory, per
    worker: a screen talks to one worker at a time, and a flood only needs stopping where it is."""

    buckets: dict[str, Bucket] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> bool:
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) > 4 * MAX_SCREENS:  # forget screens idle for a minute
                self.buckets = {k: b for k, b in self.buckets.items() if now - b.at < 60}
            bucket = self.buckets[key] = Bucket(BURST, now)
        bucket.tokens = min(BURST, bucket.tokens + (now - bucket.at) / REFILL)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True


class UnknownScreenError(LookupError):
    pass


class TooManyScreensError(RuntimeError):
    pass


class Screens:
    """The registry: reports in, the list and remote actions out."""

    def __init__(self, fleet: Fleet, now: Callable[[], float] = time.time) -> None:
        self.fleet = fleet
        self.now = now
        self.limiter = Limiter()
        self.walls = Walls(fleet)
        self.seen: dict[tuple[str, float], set[str]] = {}  # play -> screens, for proof of play

    async def report(self, report: dict[str, Any], address: str | None) -> dict[str, Any]:
        """Record a report; returns the screen's name, the actions waiting for it and its wall
        tile (null when in none); a screen showing the test pattern reports more often, so
        the console's adjustments reach it within a second or two."""
        now = self.now()
        saved = await self.fleet.save_screen(
            report["id"],
            lambda previous: merge(previous, report, now, address),
            since=now - COMMAND_TTL,
            max_screens=MAX_SCREENS,
        )
        if saved is None:
            raise TooManyScreensError(f"This server already knows {MAX_SCREENS} screens.")
        record, commands = saved
        if report["video_id"] and report["start_time"] and not report["bye"]:
            play = (report["video_id"], report["start_time"])
            self.seen.setdefault(play, set()).add(report["id"])
        wall = await self.walls.view_for(record)
        interval = PATTERN_INTERVAL if wall and wall["pattern"] else REPORT_INTERVAL
        return {
            "name": record.get("name"),
            "commands": commands,
            "interval": interval,
            "wall": wall,
            # The channel the console moved it to (None: the one its address names).
            "channel": record.get("channel"),
        }

    async def listed(self, title_of: Callable[[str], str | None]) -> list[dict[str, Any]]:
        return present(await self.fleet.screens(), self.now(), title_of)

    async def act(self, screen_id: str, action: str) -> None:
        if not await self.fleet.command(screen_id, action, self.now()):
            raise UnknownScreenError(screen_id)

    async def rename(self, screen_id: str, name: str | None) -> dict[str, Any]:
        def renamed(record: dict[str, Any]) -> dict[str, Any]:
            return {**record, "name": name}

        record = await self.fleet.update_screen(screen_id, renamed)
        if record is None:
            raise UnknownScreenError(screen_id)
        return record

    async def move(self, screen_id: str, channel: str | None) -> dict[str, Any]:
        """Show `channel` on the screen from its next report (None: the one its address
        names)."""

        def moved(record: dict[str, Any]) -> dict[str, Any]:
            return {**record, "channel": channel}

        record = await self.fleet.update_screen(screen_id, moved)
        if record is None:
            raise UnknownScreenError(screen_id)
        return record

    async def forget(self, screen_id: str) -> None:
        if not await self.fleet.forget_screen(screen_id):
            raise UnknownScreenError(screen_id)

    def take_seen(self) -> dict[tuple[str, float], set[str]]:
        """The screens seen on each play since the last call (proof of play collects them)."""
        seen, self.seen = self.seen, {}
        return seen


def clean_name(raw: Any) -> str | None:
    """A console rename: text, trimmed; empty clears the name."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ReportError("name must be text")
    name = " ".join(raw.split())
    if len(name) > MAX_NAME:
        raise ReportError(f"name is longer than {MAX_NAME} characters")
    return name or None
