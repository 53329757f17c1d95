"""Python twin of `browser/js/timing.js`: the same maths, checked against the same vectors.

The kiosk's health check and the benchmarks use it to judge positions the way the pages do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SEEK_THRESHOLD = 1.0
DEADBAND_ENTER = 0.008
DEADBAND_EXIT = 0.02
MAX_RATE_DELTA = 0.05
GAIN = 0.5
RATE_STEP = 0.01
KEEP_SAMPLES = 3


@dataclass(frozen=True)
class Sample:
    rtt: float
    offset: float


@dataclass(frozen=True)
class Step:
    seek: bool
    rate: float
    resting: bool


def clock_sample(t0: float, server_time: float, t1: float) -> Sample:
    return Sample(rtt=t1 - t0, offset=server_time * 1000 - (t0 + t1) / 2)


def estimate_offset(samples: Sequence[Sample], keep: int = KEEP_SAMPLES) -> float | None:
    if not samples:
        return None
    best = sorted(samples, key=lambda s: s.rtt)[:keep]
    offsets = sorted(s.offset for s in best)
    mid = len(offsets) // 2
    return offsets[mid] if len(offsets) % 2 else (offsets[mid - 1] + offsets[mid]) / 2


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def control_step(error: float, prev: Step = Step(False, 1.0, False)) -> Step:
    if not math.isfinite(error) or abs(error) > SEEK_THRESHOLD:
        return Step(seek=True, rate=1.0, resting=False)
    magnitude = abs(error)
    resting = magnitude <= (DEADBAND_EXIT if prev.resting else DEADBAND_ENTER)
    target = 1.0 if resting else 1 - _clamp(GAIN * error, -MAX_RATE_DELTA, MAX_RATE_DELTA)
    rate = _clamp(target, prev.rate - RATE_STEP, prev.rate + RATE_STEP)
    # Round half away from zero like JS Math.round on positives (rates are always positive).
    return Step(seek=False, rate=math.floor(rate * 10000 + 0.5) / 10000, resting=resting)
