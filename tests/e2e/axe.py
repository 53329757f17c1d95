"""axe-core in the page, as the pages engineer checks them: no violations at all."""

from __future__ import annotations

from typing import Any

from ..live import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def violations(page: Any) -> list[str]:
    """Each violation as "rule: first offending element", empty when the page passes."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run()).violations")
    return [f"{v['id']}: {v['nodes'][0]['html'] if v['nodes'] else ''}" for v in found]


def sideways_scroll(page: Any) -> int:
    """How far the page scrolls sideways (0 when it fits its width)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
