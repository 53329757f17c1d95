"""Pages as people see them: device sizes, sideways scrolling, axe-core, waiting on a page."""

from __future__ import annotations

import time
from typing import Any

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


def wait_until(page: Any, script: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(script)


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
