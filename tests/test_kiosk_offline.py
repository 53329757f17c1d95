"""The built kiosk against a server that goes away: it fills its cache, plays on through a 90 s
outage across switches, comes back into the schedule after a restart with the server still away,
and follows the server again when it returns. The page is read through Qt WebEngine's DevTools
port; the truth is this machine's clock, which the server's clock is (same machine).

~3 minutes (90 s of them the outage the issue asks for); shares the build with
test_kiosk_build.py. Skipped with SIMULCAST_KIOSK_BUILD=skip.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.schedule import locate

from .devtools import DevToolsPage
from .kiosk_process import KioskProcess, built_kiosk
from .live import LiveServer, free_port
from .mediafiles import make_channel
from .test_kiosk_live import run_check

pytestmark = [
    pytest.mark.skipif(os.environ.get("SIMULCAST_KIOSK_BUILD") == "skip",
                       reason="SIMULCAST_KIOSK_BUILD=skip"),
    pytest.mark.slow,
]

CLIPS = (("one", 20.0), ("two", 20.0), ("three", 20.0))
OUTAGE_S = 90.0
# Far coarser than what is measured (tens of ms on a busy machine, printed; docs/kiosk.md): a
# wrong schedule is off by whole videos or seconds, while this shared 2-core machine, at load
# averages of 30-45, has shown a switch 352 ms late. Half a second is also where the page's own
# controller stops steering and seeks.
TOLERANCE_S = 0.5

# Watches the page as it is shown: each new item's first frame on the front deck (when it was
# shown, by this machine's wall clock, and which media time it was), and at every animation frame
# whether the front deck has a picture at all (a black frame if not).
RECORDER = """(() => {
  if (window.__rec) return true;
  const rec = window.__rec = { switches: [], frames: 0, black: 0, last: null };
  const player = window.simulcast.player;
  for (const deck of player.decks) {
    const onFrame = (now, meta) => {
      const item = deck.item;
      if (item && deck.el.classList.contains("front")) {
        const key = item.id + "@" + item.start_time;
        if (key !== rec.last) {
          rec.last = key;
          rec.switches.push({ id: item.id, start: item.start_time, media: meta.mediaTime,
            shown: (performance.timeOrigin + (meta.expectedDisplayTime || now)) / 1000 });
        }
      }
      deck.el.requestVideoFrameCallback(onFrame);
    };
    deck.el.requestVideoFrameCallback(onFrame);
  }
  // No picture: no front deck, or one with nothing decoded (emptied, or never loaded). A seek
  // lowers readyState too, but the element keeps showing its last frame meanwhile.
  rec.blanks = [];
  const look = () => {
    const front = document.querySelector("video.front");
    rec.frames += 1;
    if (!front || front.readyState === 0 || !front.videoWidth) {
      rec.black += 1;
      if (rec.blanks.length < 20) rec.blanks.push({ at: Date.now() / 1000, rs: front?.readyState,
        width: front?.videoWidth, seeking: front?.seeking, src: front?.currentSrc });
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
  return true;
})()"""

WHERE = """(() => { const s = simulcastStatus(); return { id: s.videoId, position: s.position,
  playing: s.playing, wall: Date.now() / 1000, title: document.title, url: location.href,
  dot: !!document.getElementById("simulcast-offline") }; })()"""


class Video:
    def __init__(self, listed: dict[str, Any]) -> None:
        self.id, self.duration = str(listed["id"]), float(listed["duration"])


def first_state(server: str) -> dict[str, Any]:
    with httpx.stream("GET", server + "/video-updates", timeout=10) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                return dict(json.loads(line[5:]))
    raise AssertionError("no state from the server")


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            last = None
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout} s (last: {last})")


def kiosk_settings(cache: Path, devtools_port: int) -> dict[str, str]:
    return {"SIMULCAST_CACHE_DIR": str(cache), "QTWEBENGINE_REMOTE_DEBUGGING": str(devtools_port)}


def status(local: str) -> dict[str, Any]:
    return dict(httpx.get(local + "/kiosk/status", timeout=2).json())


def test_kiosk_plays_from_cache_through_an_outage_and_a_restart(tmp_path: Path) -> None:
    exe, _ = built_kiosk()
    samples = make_channel(tmp_path / "samples", *CLIPS)
    # Posters are made in the background after a start: all in before the kiosk caches.
    live = LiveServer(tmp_path / "server", {"STATIC_DIR": str(samples)}).start().posters_made()
    cache = tmp_path / "cache"
    command = [str(exe), "--server", live.url]
    port = free_port()
    kiosk = KioskProcess(command, env=kiosk_settings(cache, port))
    try:
        # 1. It plays, and fills its cache with every video of the playlist, whole.
        local = kiosk.local_url(60)
        wait_until(lambda: (s := status(local))["videos_cached"] == 3 and s["in_sync"], 90,
                   "all videos cached and playing in sync")
        listed = [v for v in httpx.get(live.url + "/videos").json()["videos"]
                  if v["index"] is not None]
        index = json.loads((cache / "media" / "index.json").read_text())["entries"]
        cached = {e["url"]: e["size"] for e in index}
        for video in listed:
            served = httpx.get(live.url + video["url"], headers={"Range": "bytes=0-0"})
            assert cached[video["url"]] == int(served.headers["Content-Range"].split("/")[1])
        playlist = [Video(v) for v in sorted(listed, key=lambda v: v["index"])]
        state = first_state(live.url)
        anchor = (state["id"], float(state["start_time"]))

        def expected(at: float) -> tuple[str, float]:
            found = locate(playlist, anchor[0], anchor[1], at)
            assert found is not None
            return playlist[found[0]].id, found[1]

        def near(where: dict[str, Any]) -> tuple[str, float]:
            """The scheduled video at the page's instant; within TOLERANCE_S of a switch, the
            side of it the page is on (the position check then says how far off it is)."""
            wall = where["wall"]
            sides = [expected(wall), expected(wall + TOLERANCE_S), expected(wall - TOLERANCE_S)]
            return next((side for side in sides if side[0] == where["id"]), sides[0])

        page = DevToolsPage(port, "/ambient")
        page.evaluate(RECORDER)
        # The empty-channel card names the server, not the kiosk's own local address.
        shown = page.evaluate('document.querySelector(".upload-url").textContent')
        assert shown == live.url.removeprefix("http://") + "/upload"

        # 2. The server is killed for 90 s: the kiosk plays on, switching on time from cache.
        live.kill()
        killed = time.time()
        seen: list[dict[str, Any]] = []
        while time.time() - killed < OUTAGE_S:
            seen.append(page.evaluate(WHERE))
            time.sleep(1.0)
        record = page.evaluate("window.__rec")
        offline = status(local)
        page.close()
        assert offline["online"] is False and offline["offline_s"] >= OUTAGE_S - 2

        switches = [s for s in record["switches"] if s["shown"] > killed]
        late_ms = []
        for switch in switches:
            video_id, start = expected(switch["shown"])
            assert (switch["id"], switch["start"]) == (video_id, pytest.approx(start, abs=0.01))
            # When the frame was shown against when the schedule said it was due.
            late_ms.append((switch["shown"] - (start + switch["media"])) * 1000)
        print(f"switches while offline: {len(switches)}, frame due vs shown (ms): "
              f"{[round(x, 1) for x in late_ms]}, black frames: {record['black']} of "
              f"{record['frames']}, load average {os.getloadavg()[0]:.1f}")
        # Never another page (the kiosk's page names its screen in the query).
        assert len({s["url"] for s in seen}) == 1 and seen[0]["url"].startswith(local + "/ambient")
        assert {s["title"] for s in seen} == {"Simulcast · Ambient"}
        # The picture moves on all along: a second later, further into the video or the next.
        # A starved machine may hold a frame for a moment; the kiosk's watchdog would reload a
        # page frozen for 5 s, so anything near that is a failure.
        held, longest = 0, 0
        for a, b in zip(seen, seen[1:], strict=False):
            held = held + 1 if a["id"] == b["id"] and b["position"] - a["position"] < 0.5 else 0
            longest = max(longest, held)
        print(f"longest hold while offline: {longest} s")
        assert longest <= 3, seen
        *_, last = seen
        video_id, start = near(last)
        assert last["id"] == video_id and last["playing"], last
        assert abs(last["position"] - (last["wall"] - start)) < TOLERANCE_S, last
        assert all(s["dot"] for s in seen[3:]), "no offline dot"
        assert "waiting screen" not in kiosk.log()
        assert record["black"] == 0, record["blanks"]
        assert len(switches) >= 4, record  # a 90 s outage crosses several 20 s videos
        assert max(abs(x) for x in late_ms) < TOLERANCE_S * 1000, late_ms

        # 3. Restarted with the server still away: back into the schedule from the cache.
        kiosk.stop()
        port = free_port()
        restarted = time.monotonic()
        kiosk = KioskProcess(command, env=kiosk_settings(cache, port))
        local = kiosk.local_url(60)
        kiosk.wait_for_line("playing video", 60)
        print(f"restart to playing from cache: {time.monotonic() - restarted:.1f} s")
        page = DevToolsPage(port, "/ambient")
        time.sleep(2)  # let it settle after its join
        errors = []
        for _ in range(7):
            where = page.evaluate(WHERE)
            video_id, start = near(where)
            assert where["id"] == video_id, where
            if where["playing"]:  # not in the instant of a starved machine's stall
                errors.append((where["position"] - (where["wall"] - start)) * 1000)
            time.sleep(0.5)
        page.close()
        assert len(errors) >= 5, errors
        print(f"after a restart offline, position vs schedule (ms): "
              f"{[round(e, 1) for e in errors]}")
        assert abs(statistics.median(errors)) < TOLERANCE_S * 1000, errors
        assert "waiting screen" not in kiosk.log()

        # --check beside it, on the same cache: plays from it, and says how long it has been.
        check = run_check([str(exe)], live.url, cache_dir=cache)
        assert check["ok"] is True and check["online"] is False, check
        assert check["offline_s"] > OUTAGE_S and check["videos_cached"] == 3, check
        assert check["cache_bytes"] == sum(cached.values()), check

        # 4. The server returns: the kiosk follows it again and says it is in sync.
        live.start()
        back = time.monotonic()
        wait_until(lambda: (s := status(local))["online"] and s["in_sync"], 15, "in sync")
        took = time.monotonic() - back
        print(f"server back -> kiosk reports in sync: {took:.2f} s")
        assert took < 5, kiosk.log()
    finally:
        kiosk.stop()
        live.stop()
