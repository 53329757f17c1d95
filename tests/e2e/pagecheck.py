"""Pages as people see them: device sizes, sideways scrolling, axe-core, waiting on a page."""

from __future__ import annotations

import io
import time
from typing import Any

import av

from ..live import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
TV: dict[str, Any] = {"viewport": {"width": 1920, "height": 1080}}
SIZES = {"phone": PHONE, "tv": TV}

# Stop the page's engine and hold one frame: `t` s into `src` (this page's own video if none),
# with nothing drawn over it (title, captions, hints).
FREEZE_FRAME = """async ([src, t]) => {
  const player = window.simulcast.player;
  player.tick = () => {};
  player.startNext = async () => {};
  player.clearSwitch();
  for (const deck of player.decks) deck.el.pause();
  const el = player.front.el;
  for (const hide of ["title-card", "sound-hint", "screen-identify"]) {
    const node = document.getElementById(hide);
    if (node) node.hidden = true;
  }
  for (const deck of player.decks) for (const track of deck.el.textTracks) track.mode = "disabled";
  if (src && el.src !== src) {
    el.src = src;
    await new Promise((resolve) => el.addEventListener("loadeddata", resolve, { once: true }));
  }
  el.pause();
  await new Promise((resolve) => {
    el.addEventListener("seeked", resolve, { once: true });
    el.currentTime = t;
  });
  await Promise.race([
    new Promise((resolve) => el.requestVideoFrameCallback(() => resolve())),
    new Promise((resolve) => setTimeout(resolve, 1000)),
  ]);
  return el.src;
}"""


def wait_until(page: Any, script: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(script)


def open_console(page: Any, url: str, tab: str, token: str) -> None:
    """`/admin` at a tab, signed in from the keyboard as an operator would (Enter in the field)."""
    page.goto(f"{url}/admin#{tab}")
    page.fill("#token", token)
    page.press("#token", "Enter")


def sideways_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the device (0 = no sideways scroll).

    With is_mobile, Chromium widens the layout viewport to fit wide content, so innerWidth
    hides the problem: compare the document's width with the device's."""
    device = page.viewport_size["width"]
    return max(0, int(page.evaluate("document.documentElement.scrollWidth")) - device)


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page as it is now, one readable line each."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run ./scripts/install.sh --test (npm ci)")
    # Evaluated over DevTools, not added as a <script>: the pages' Content-Security-Policy
    # (script-src 'self') refuses a script tag of foreign content.
    page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in result["violations"]
    ]


def pixels(png: bytes) -> tuple[int, int, bytes]:
    """A screenshot as width, height and packed RGB rows (PyAV decodes the PNG)."""
    with av.open(io.BytesIO(png), format="png_pipe") as container:
        frame = next(container.decode(video=0)).to_rgb()
    plane, row = frame.planes[0], frame.width * 3
    data = bytes(plane)
    packed = b"".join(
        data[y * plane.line_size : y * plane.line_size + row] for y in range(frame.height)
    )
    return frame.width, frame.height, packed
