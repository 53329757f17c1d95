"""What the ambient page reports about its player through `window.simulcastStatus()`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Asks the page for its status as JSON text, so the answer crosses the Qt bridge as a plain
# string whatever the binding does with JS objects; null while the page's player is not there.
STATUS_SCRIPT = (
    "(function () { try { return typeof window.simulcastStatus === 'function'"
    " ? JSON.stringify(window.simulcastStatus()) : null; } catch (e) { return null; } })()"
)


@dataclass(frozen=True)
class PageStatus:
    ready: bool
    playing: bool
    video_id: str | None
    position: float
    expected: float
    offset_ms: float
    connected: bool
    muted: bool | None = None  # None when the page does not say

    @classmethod
    def from_page(cls, data: Any) -> PageStatus | None:
        """Parse the page's answer; anything malformed counts as "no status" rather than an
        error, because a half-loaded or foreign page must not crash the kiosk."""
        if not isinstance(data, dict):
            return None
        try:
            video_id = data.get("videoId")
            return cls(
                ready=bool(data.get("ready")),
                playing=bool(data.get("playing")),
                video_id=None if video_id is None else str(video_id),
                position=float(data.get("position") or 0.0),
                expected=float(data.get("expected") or 0.0),
                offset_ms=float(data.get("offsetMs") or 0.0),
                connected=bool(data.get("connected")),
                muted=None if data.get("muted") is None else bool(data.get("muted")),
            )
        except (TypeError, ValueError):
            return None


# A small dot in the bottom-right corner while the kiosk plays without its server; added to
# whatever page is loaded and removed again, so a reload never leaves a stale one.
_OFFLINE_DOT = """(function (offline) {
  var dot = document.getElementById("simulcast-offline");
  if (!offline) { if (dot) dot.remove(); return; }
  if (dot || !document.body) return;
  dot = document.createElement("div");
  dot.id = "simulcast-offline";
  dot.setAttribute("role", "img");
  dot.setAttribute("aria-label", "Offline: playing from the kiosk's cache");
  dot.title = "Offline: playing from the kiosk's cache";
  dot.style.cssText = "position:fixed;right:14px;bottom:14px;width:10px;height:10px;" +
    "border-radius:50%;background:#d98e04;opacity:.7;z-index:2147483647;pointer-events:none";
  document.body.appendChild(dot);
})(OFFLINE)"""


def offline_dot_script(offline: bool) -> str:
    return _OFFLINE_DOT.replace("(OFFLINE)", "(true)" if offline else "(false)")
