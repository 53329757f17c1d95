"""Python twin of `browser/js/timing.js`: the same maths, checked against the same vectors.

Units as in the JS: local times in ms, server and media times in seconds, errors in seconds
(+ ahead of the schedule). What it is for: tests/test_timing.py runs both against
tests/timing_vectors.json, so a change to one that the other does not make fails, and sweeps the
controller over a grid of inputs here, where that is quick. Nothing at run time imports it (the
pages run timing.js; the kiosk shows those pages).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SEEK_THRESHOLD = 1.0
STALL_SEEK_THRESHOLD = 0.25
DEADBAND_ENTER = 0.006
DEADBAND_EXIT = 0.018
MAX_RATE_DELTA = 0.05
GAIN = 0.8
RATE_STEP = 0.01
REST_OFFSET = 0.003
REST_SWING = 0.0015
KEEP_SAMPLES = 3
BOUND_SAMPLES = 8
BOUND_SLACK = 1
FRAME_WINDOW = 300
LATENCY_GAIN = 0.5
LATENCY_STEP = 0.03
MAX_LATENCY = 0.4
MIN_LEAD = 0.12
MAX_LEAD = 3.0
PRESENTATION_MIN = 8
PRESENTATION_MAX = 0.05
RATE_COST_MIN = 3
RATE_COST_LIMIT = 0.01
STILL_BAND = 0.035
MAX_FRAME = 0.2


@dataclass(frozen=True)
class Sample:
    rtt: float
    offset: float
    lo: float | None = None  # bounds the script's own timing puts on the offset (ms)
    hi: float | None = None


@dataclass(frozen=True)
class Frame:
    media: float  # s
    display: float  # local ms


@dataclass(frozen=True)
class Step:
    seek: bool
    rate: float
    resting: bool


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def clock_sample(t0: float, server_time: float, t1: float) -> Sample:
    return Sample(rtt=t1 - t0, offset=server_time * 1000 - (t0 + t1) / 2)


def bounded_sample(
    request_start: float, server_time: float, response_start: float, t0: float, t1: float
) -> Sample:
    sample = clock_sample(request_start, server_time, response_start)
    server = server_time * 1000
    return Sample(sample.rtt, sample.offset, server - t1 - BOUND_SLACK, server - t0 + BOUND_SLACK)


def estimate_offset(samples: Sequence[Sample], keep: int = KEEP_SAMPLES) -> float | None:
    """See estimateOffset in timing.js: why script-timed brackets bound network-stack samples."""
    if not samples:
        return None
    brackets = [
        (s.lo, s.hi) for s in samples[-BOUND_SAMPLES:] if s.lo is not None and s.hi is not None
    ]
    lo = max((b[0] for b in brackets), default=-math.inf)
    hi = min((b[1] for b in brackets), default=math.inf)
    bounded = bool(brackets) and lo <= hi
    fits = [s for s in samples if not bounded or lo <= s.offset <= hi]
    if not fits:
        return (lo + hi) / 2
    best = sorted(fits, key=lambda s: s.rtt)[:keep]
    return _median([s.offset for s in best])


def frame_error(
    frames: Sequence[Frame],
    now_ms: float,
    offset_ms: float,
    start_time: float,
    rate: float = 1.0,
    min_frames: int = 1,
) -> float | None:
    errors = [
        f.media
        - ((f.display + offset_ms) / 1000 - start_time)
        + (rate - 1) * (now_ms - f.display) / 1000
        for f in frames
        if now_ms - f.display <= FRAME_WINDOW
    ]
    return _median(errors) if len(errors) >= max(1, min_frames) else None


def frame_duration(frames: Sequence[Frame]) -> float | None:
    steps = [b.media - a.media for a, b in zip(frames, frames[1:], strict=False)]
    steps = [step for step in steps if 0 < step <= MAX_FRAME]
    return _median(steps) if len(steps) >= 2 else None


def frame_phase(error: float, frame: float | None) -> float:
    """See framePhase in timing.js: why a page holds the refresh phase its frames landed on."""
    if frame is None or not frame > 0:
        return 0.0
    return error - frame * math.ceil(error / frame - 0.5)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def control_step(
    error: float, prev: Step = Step(False, 1.0, False), seek_above: float = SEEK_THRESHOLD
) -> Step:
    """See controlStep in timing.js, including why the rate never sits near 1."""
    if not math.isfinite(error) or abs(error) > seek_above:
        return Step(seek=True, rate=1 + REST_OFFSET, resting=False)
    magnitude = abs(error)
    resting = magnitude <= (DEADBAND_EXIT if prev.resting else DEADBAND_ENTER)
    toward = -1 if error > 0 else 1
    if resting:
        drift = (_sign(prev.rate - 1) or toward) if prev.resting else toward
        if magnitude > REST_SWING:
            drift = toward
        target = 1 + drift * REST_OFFSET
    else:
        target = 1 - _clamp(GAIN * error, -MAX_RATE_DELTA, MAX_RATE_DELTA)
    rate = _clamp(target, prev.rate - RATE_STEP, prev.rate + RATE_STEP)
    if abs(rate - 1) < REST_OFFSET:
        rate = 1 + (_sign(rate - 1) or toward) * REST_OFFSET
    # Round half away from zero like JS Math.round on positives (rates are always positive).
    return Step(seek=False, rate=math.floor(rate * 10000 + 0.5) / 10000, resting=resting)


def learn_latency(latency: float, lead_used: float, observed_error: float) -> float:
    seen = lead_used - observed_error
    step = _clamp(LATENCY_GAIN * (seen - latency), -LATENCY_STEP, LATENCY_STEP)
    return _clamp(latency + step, 0.0, MAX_LATENCY)


def next_seek_lead(lead: float, took_seconds: float) -> float:
    wanted = took_seconds * 1.5 + 0.08
    return _clamp(wanted if wanted > lead else (lead + wanted) / 2, MIN_LEAD, MAX_LEAD)


def presentation_lag(differences: Sequence[float]) -> float | None:
    usable = [d for d in differences if abs(d) <= PRESENTATION_MAX]
    return sum(usable) / len(usable) if len(usable) >= PRESENTATION_MIN else None


def rate_change_cost(residuals: Sequence[float]) -> float | None:
    return _median(residuals) if len(residuals) >= RATE_COST_MIN else None


def still_step(error: float, seek_above: float = STILL_BAND) -> Step:
    seek = not math.isfinite(error) or abs(error) > seek_above
    return Step(seek=seek, rate=1.0, resting=not seek)


Item = Mapping[str, Any]


def item_at(items: Sequence[Item | None], server_now: float) -> Item | None:
    found: Item | None = None
    for item in items:
        if (
            item
            and item["start_time"] <= server_now
            and (found is None or item["start_time"] >= found["start_time"])
        ):
            found = item
    if found is not None:
        return found
    return next((item for item in items if item), None)
