"""The kiosk's decisions (waiting screen, channel, watchdog reloads) and --check, without Qt."""

from __future__ import annotations

import threading
from typing import Any

from kiosk.check import SyncCheck
from kiosk.runner import run
from kiosk.status import PageStatus
from kiosk.supervisor import Action, Backoff, Supervisor

SERVER = "http://tv:8000"


def status(position: float, video: str | None = "v1", offset_ms: float = 10.0,
           playing: bool = True, ready: bool = True) -> PageStatus:
    return PageStatus(ready, playing, video, position, position - offset_ms / 1000,
                      offset_ms, True)


def no_jitter() -> Backoff:
    return Backoff(rand=lambda: 0.5)


def test_backoff_grows_to_its_cap_and_resets() -> None:
    backoff = no_jitter()
    delays = [backoff.next() for _ in range(8)]
    assert delays[0] == 0.5
    assert delays == sorted(delays)
    assert max(delays) == 4.0
    backoff.reset()
    assert backoff.next() == 0.5


def test_backoff_jitter_stays_within_bounds() -> None:
    low, high = Backoff(rand=lambda: 0.0), Backoff(rand=lambda: 0.999)
    assert low.next() == 0.4 and 0.599 < high.next() <= 0.6


def test_server_down_at_start_shows_waiting_once_then_loads_channel() -> None:
    sup = Supervisor(backoff=no_jitter())
    assert sup.on_probe(0.0, False) is Action.SHOW_WAITING
    assert sup.next_probe_at == 0.5
    assert sup.on_probe(0.5, False) is None  # already showing it
    assert sup.on_probe(1.3, True) is Action.LOAD_CHANNEL
    assert sup.on_channel and sup.next_probe_at == 1.3 + sup.probe_every


def test_playing_page_is_reported_once() -> None:
    sup = Supervisor()
    sup.on_probe(0.0, True)
    assert sup.on_status(0.5, None) is None  # still loading
    assert sup.on_status(1.0, status(3.0)) is None  # first sample: no movement seen yet
    assert sup.on_status(1.5, status(3.5)) is Action.NOW_PLAYING
    assert sup.on_status(2.0, status(4.0)) is None


def test_frozen_playback_is_reloaded_after_freeze_window() -> None:
    sup = Supervisor(freeze_after=5.0)
    sup.on_probe(0.0, True)
    sup.on_status(1.0, status(3.0))
    sup.on_status(2.0, status(4.0))
    sup.on_probe(2.0, True)
    for t in (3.0, 5.0, 7.0):
        assert sup.on_status(t, status(4.01)) is None  # jitter below MIN_PROGRESS_S
    assert sup.on_status(7.1, status(4.01)) is Action.RELOAD


def test_frozen_playback_with_server_down_goes_to_waiting() -> None:
    sup = Supervisor(freeze_after=5.0, backoff=no_jitter())
    sup.on_probe(0.0, True)
    sup.on_status(1.0, status(3.0))
    sup.on_status(2.0, status(4.0))
    assert sup.on_probe(3.0, False) is None  # one failed probe while playing: keep playing
    assert sup.on_status(7.1, status(4.0)) is Action.SHOW_WAITING
    assert not sup.on_channel


def test_server_lost_while_video_still_plays_keeps_the_picture() -> None:
    sup = Supervisor()
    sup.on_probe(0.0, True)
    sup.on_status(1.0, status(1.0))
    sup.on_status(1.5, status(1.5))
    assert sup.on_probe(2.0, False) is None
    sup.on_status(2.5, status(2.5))
    assert sup.on_probe(3.0, False) is None  # picture still moving
    assert sup.on_probe(6.0, False) is Action.SHOW_WAITING  # stopped for > 2.5 s


def test_page_that_never_gets_ready_is_reloaded_with_growing_grace() -> None:
    sup = Supervisor(load_grace=10.0)
    sup.on_probe(0.0, True)
    assert sup.on_status(9.0, None) is None
    assert sup.on_status(10.5, None) is Action.RELOAD
    assert sup.on_status(25.0, None) is None  # second grace is 20 s
    assert sup.on_status(31.0, None) is Action.RELOAD
    assert sup.failed_reloads == 2


def test_empty_channel_is_idle_not_frozen() -> None:
    sup = Supervisor(load_grace=10.0, freeze_after=5.0)
    sup.on_probe(0.0, True)
    for t in range(1, 60):
        assert sup.on_status(float(t), status(0.0, video=None)) is None


def test_video_change_counts_as_progress() -> None:
    sup = Supervisor(freeze_after=5.0)
    sup.on_probe(0.0, True)
    sup.on_status(1.0, status(9.9))
    assert sup.on_status(2.0, status(9.9, video="v2")) is Action.NOW_PLAYING


class FakeBrowser:
    def __init__(self, statuses: list[Any]) -> None:
        self.statuses = statuses
        self.calls: list[tuple[str, Any]] = []

    def show_waiting(self, server: str) -> None:
        self.calls.append(("waiting", server))

    def update_waiting(self, attempt: int, retry_in: float) -> None:
        self.calls.append(("update", attempt))

    def load(self, url: str) -> None:
        self.calls.append(("load", url))

    def page_status(self) -> Any:
        return self.statuses.pop(0) if self.statuses else None


def test_runner_waits_for_server_then_loads_ambient_page_and_check_passes() -> None:
    now = [0.0]
    probes = iter([False, False, True, True, True, True])
    page = [{"ready": True, "playing": True, "videoId": "a", "position": p, "expected": p,
             "offsetMs": 5, "connected": True} for p in (1.0, 1.5, 2.0, 2.5, 3.0)]
    browser = FakeBrowser(page)
    check = SyncCheck(SERVER, stable_samples=3)
    stop = threading.Event()

    def tick() -> float:
        now[0] += 0.5
        return now[0]

    def probe(url: str) -> bool:
        assert url == SERVER + "/healthz"
        return next(probes)

    run(browser, SERVER, Supervisor(backoff=no_jitter()), stop, observer=check.observe,
        probe=probe, clock=tick, poll=0)

    assert browser.calls[0] == ("waiting", SERVER)
    assert ("load", SERVER + "/ambient") in browser.calls
    report = check.report(3.0)
    assert report["ok"] and report["video_playing"] and report["server_reachable"]
    assert report["offset_ms"] == 5 and report["video_id"] == "a" and report["muted"] is None


def test_check_rejects_out_of_sync_or_still_video() -> None:
    out_of_sync = SyncCheck(SERVER, max_offset_ms=100)
    for p in (1.0, 1.5, 2.0, 2.5):
        out_of_sync.observe(True, status(p, offset_ms=250))
    report = out_of_sync.report(20.0)
    assert not report["ok"] and report["video_playing"]
    assert "not within 100 ms" in report["error"]

    still = SyncCheck(SERVER)
    for _ in range(5):
        still.observe(True, status(1.0))
    assert still.report(20.0)["error"] == "video not playing"

    muted = SyncCheck(SERVER)
    for p in (1.0, 1.5, 2.0, 2.5):
        muted.observe(True, PageStatus(True, True, "v", p, p, 0.0, True, muted=True))
    assert not muted.ok
    assert muted.report(20.0)["error"] == "video playing muted: autoplay with sound was blocked"


def test_check_reports_unreachable_server() -> None:
    check = SyncCheck(SERVER)
    check.observe(False, None)
    report = check.report(20.0)
    assert report["ok"] is False and report["server_reachable"] is False
    assert report["error"] == "server not reachable" and report["offset_ms"] is None


def test_page_status_parsing_tolerates_foreign_pages() -> None:
    assert PageStatus.from_page(None) is None
    assert PageStatus.from_page("text") is None
    assert PageStatus.from_page({"position": "soon"}) is None
    parsed = PageStatus.from_page({"ready": True, "videoId": 7, "position": None})
    assert parsed is not None and parsed.video_id == "7" and parsed.position == 0.0
