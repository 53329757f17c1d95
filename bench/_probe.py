"""What the benchmark puts into each page, and how it reads the page's clock.

The recorder is an init script, independent of the sync engine: it watches every <video> with
`requestVideoFrameCallback` and logs each presented frame (media time, expected display time on the
page's `performance.now()` timeline), plus seeks, rate changes and which deck is in front. In an
engine without `requestVideoFrameCallback` it logs the media clock instead (`currentTime` read at
each animation frame): rows marked as such, and the report labels that page's truth "media clock".
The bench maps the page's `performance.now()` to the server's clock itself (`PageClock`, round
trips timed by the bench), so the truth never depends on the page's own clock estimate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Frame rows: [deck, video id, mediaTime s, expectedDisplayTime ms, presentedFrames, paused, front]
# (presentedFrames is -1 on rows read from the media clock, in engines without the callback)
# Event rows: [performance.now() ms, deck, name, currentTime s, playbackRate, video id, paused]
# Events named blank/shown mark when the front deck starts/stops showing no video frame;
# connected/disconnected (deck -1) when the page's event stream comes and goes.
RECORDER = r"""
(() => {
  if (window.__benchLog) return; // injected twice (after load, where init scripts are missing)
  const log = { frames: [], events: [] };
  Object.defineProperty(window, "__benchLog", { value: log });
  const framesKnown = "requestVideoFrameCallback" in HTMLVideoElement.prototype;
  const idOf = (v) => (v.currentSrc || v.src || "").split("/").pop();
  const decks = [];
  let blank = null; // is the front deck showing no video frame? (black, or a poster)
  const note = (deck, name) => {
    const v = decks[deck].el;
    log.events.push([performance.now(), deck, name, v.currentTime, v.playbackRate, idOf(v),
      v.paused ? 1 : 0]);
  };
  const checkBlank = () => {
    const front = decks.find((d) => d.el.classList.contains("front"));
    const now = !front || !front.hasFrame;
    if (now !== blank) {
      blank = now;
      note(front ? front.index : 0, now ? "blank" : "shown");
    }
  };
  const watch = (v) => {
    if (decks.some((d) => d.el === v)) return;
    const deck = { el: v, index: decks.length, hasFrame: false };
    decks.push(deck);
    const onFrame = (_now, m) => {
      log.frames.push([deck.index, idOf(v), m.mediaTime, m.expectedDisplayTime,
        m.presentedFrames, v.paused ? 1 : 0, v.classList.contains("front") ? 1 : 0]);
      if (!deck.hasFrame) {
        deck.hasFrame = true;
        checkBlank();
      }
      v.requestVideoFrameCallback(onFrame);
    };
    const onAnimationFrame = (now) => {
      const before = performance.now();
      const media = v.currentTime;
      if (performance.now() - before < 2 && v.readyState >= 2) {
        log.frames.push([deck.index, idOf(v), media, before, -1, v.paused ? 1 : 0,
          v.classList.contains("front") ? 1 : 0]);
        deck.hasFrame = true;
      }
      requestAnimationFrame(onAnimationFrame);
    };
    if (framesKnown) v.requestVideoFrameCallback(onFrame);
    else requestAnimationFrame(onAnimationFrame);
    for (const name of ["seeking", "seeked", "ratechange", "playing", "pause", "waiting",
      "emptied", "error"]) {
      v.addEventListener(name, () => {
        if (name === "emptied") deck.hasFrame = false;
        note(deck.index, name);
        checkBlank();
      });
    }
    new MutationObserver(() => {
      note(deck.index, v.classList.contains("front") ? "front" : "back");
      checkBlank();
    }).observe(v, { attributes: true, attributeFilter: ["class"] });
    checkBlank();
  };
  let connected = null; // the page's stream, as it reports it
  setInterval(() => {
    const now = !!(window.simulcast && window.simulcast.connected);
    if (now !== connected) {
      connected = now;
      log.events.push([performance.now(), -1, now ? "connected" : "disconnected", 0, 1, "", 0]);
    }
  }, 50);
  const scan = () => document.querySelectorAll("video").forEach(watch);
  document.addEventListener("DOMContentLoaded", scan);
  new MutationObserver(scan).observe(document, { childList: true, subtree: true });
  scan();
})();
"""

DRAIN = """() => {
  const log = window.__benchLog;
  if (!log) return null;
  const out = { frames: log.frames.splice(0), events: log.events.splice(0) };
  return JSON.stringify(out);
}"""


@dataclass
class PageClock:
    """Maps a page's `performance.now()` to server seconds, measured by the bench.

    Each sample is one `performance.now()` read in the page (CDP in Chromium, WebDriver BiDi in
    Firefox, WebDriver in WebKit) bracketed by the bench's
    `time.time()` (the server runs on this machine, so that is the server's clock). The reading
    is assumed to sit mid-way between; the samples with the shortest round trips bound the error
    by half their round trip. performance.now() is monotonic, so one offset holds for the run.
    """

    samples: list[tuple[float, float]] = field(default_factory=list)  # (rtt ms, offset ms)

    async def measure(self, timed_now: Any, count: int = 5) -> None:
        """timed_now(): an awaitable (t0 s, t1 s, page ms): one performance.now() read between
        two time.time() reads of the bench (over CDP, BiDi or WebDriver)."""
        for _ in range(count):
            t0, t1, page_ms = await timed_now()
            self.samples.append(((t1 - t0) * 1000, (t0 + t1) / 2 * 1000 - page_ms))

    def best(self, keep: int = 5) -> list[tuple[float, float]]:
        return sorted(self.samples)[:keep]

    @property
    def offset_ms(self) -> float:
        best = sorted(o for _, o in self.best())
        return best[len(best) // 2]

    @property
    def uncertainty_ms(self) -> float:
        return self.best()[0][0] / 2

    def server_time(self, page_ms: float) -> float:
        return (page_ms + self.offset_ms) / 1000


def parse_drain(raw: str | None) -> tuple[list[list[Any]], list[list[Any]]]:
    if not raw:
        return [], []
    data = json.loads(raw)
    return data["frames"], data["events"]
