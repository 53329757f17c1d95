"""The sync engine's maths: browser/js/timing.js (run in Chromium) and its Python twin,
shared/timing.py, against the same vectors (tests/timing_vectors.json), plus a few properties
of the controller checked over a grid of inputs."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from shared import timing as t

VECTORS: dict[str, list[dict[str, Any]]] = json.loads(
    (Path(__file__).parent / "timing_vectors.json").read_text()
)
CASES = [(name, case) for name, cases in VECTORS.items() for case in cases]
IDS = [f"{name}: {case['note']}" for name, case in CASES]


def python_call(name: str, args: list[Any]) -> Any:
    """Call the Python twin with the JS-shaped arguments and return a JS-shaped result."""
    if name == "clockSample":
        return {k: v for k, v in asdict(t.clock_sample(*args)).items() if v is not None}
    if name == "boundedSample":
        return asdict(t.bounded_sample(*args))
    if name == "presentationLag":
        return t.presentation_lag(*args)
    if name == "rateChangeCost":
        return t.rate_change_cost(*args)
    if name == "stillStep":
        error, band = args
        return asdict(t.still_step(math.nan if error is None else error, band))
    if name == "estimateOffset":
        samples, keep = args
        return t.estimate_offset([t.Sample(**s) for s in samples], keep)
    if name == "frameError":
        frames, *rest = args
        return t.frame_error([t.Frame(**f) for f in frames], *rest)
    if name == "controlStep":
        error, prev, seek_above = args
        error = math.nan if error is None else error
        step = t.Step(False, prev["rate"], prev["resting"])
        return asdict(t.control_step(error, step, seek_above))
    if name == "frameDuration":
        return t.frame_duration([t.Frame(**f) for f in args[0]])
    if name == "framePhase":
        return t.frame_phase(*args)
    if name == "learnLatency":
        return t.learn_latency(*args)
    if name == "nextSeekLead":
        return t.next_seek_lead(*args)
    if name == "itemAt":
        items, now = args
        return t.item_at(items, now)
    raise AssertionError(f"no Python twin for {name}")


def same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[k], v) for k, v in expected.items())
        )
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return actual == expected
    return isinstance(actual, int | float) and math.isclose(actual, expected, abs_tol=1e-9)


@pytest.mark.parametrize(("name", "case"), CASES, ids=IDS)
def test_python_twin(name: str, case: dict[str, Any]) -> None:
    assert same(python_call(name, case["args"]), case["expected"])


RUN_IN_PAGE = """async (cases) => {
  const timing = await import("/assets/js/timing.js");
  return cases.map(([name, args]) => timing[name](...args));
}"""


def test_javascript(server, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    try:
        page.goto(server.url + "/time")  # any page of the server's origin can import the module
        results = page.evaluate(RUN_IN_PAGE, [[name, case["args"]] for name, case in CASES])
    finally:
        page.close()
    failures = [
        f"{name}: {case['note']}: got {result!r}, want {case['expected']!r}"
        for (name, case), result in zip(CASES, results, strict=True)
        if not same(result, case["expected"])
    ]
    assert not failures, "\n".join(failures)


def test_constants_match() -> None:
    """Same tuning on both sides (the JS ones are read from the source)."""
    source = (Path(__file__).parent.parent / "browser/js/timing.js").read_text()
    for line in source.splitlines():
        if line.startswith("export const ") and "Object.freeze" not in line:
            name, value = line.removeprefix("export const ").split(";")[0].split(" = ")
            assert getattr(t, name) == pytest.approx(float(value)), name


@pytest.mark.parametrize("resting", [False, True])
def test_rate_stays_off_one_within_bounds_and_smooth(resting: bool) -> None:
    for prev_rate in (0.95, 0.99, 0.997, 1.003, 1.01, 1.05):
        prev = t.Step(False, prev_rate, resting)
        for i in range(-200, 201):
            error = i / 1000  # -200..200 ms
            step = t.control_step(error, prev)
            assert not step.seek
            assert abs(step.rate - 1) >= t.REST_OFFSET - 1e-12
            assert abs(step.rate - 1) <= t.MAX_RATE_DELTA + 1e-12
            # one step at most, bar the hop across the band around 1
            assert abs(step.rate - prev.rate) <= t.RATE_STEP + 2 * t.REST_OFFSET + 1e-9


def test_controller_converges_without_hunting() -> None:
    """A simulated deck 80 ms behind: caught up within a few seconds, then at rest for good."""
    error, step, changes = -0.08, t.Step(False, 1 + t.REST_OFFSET, False), 0
    history = []
    for _ in range(160):  # 40 s of 250 ms steps
        new = t.control_step(error, step)
        changes += new.rate != step.rate
        step = new
        error += (step.rate - 1) * 0.25
        history.append(error)
    assert all(abs(e) < 0.006 for e in history[40:])  # within 6 ms after 10 s
    assert max(abs(e) for e in history[16:]) < 0.02  # within 20 ms after 4 s
    assert step.resting
