"""Screenshots for the README at phone and TV size: `.venv/bin/python scripts/screenshots.py`.

Starts two servers on free ports (the shipped samples, and an empty channel), opens each page
in Debian's Chromium and writes docs/img/{phone,tv}-*.png. Look at them before committing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.pagecheck import SIZES, wait_until  # noqa: E402
from tests.live import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402

PLAYING = "window.simulcastStatus && simulcastStatus().playing"
SHOTS = [  # (size, server, path, ready when, file)
    ("phone", "samples", "/", PLAYING, "phone-index"),
    ("phone", "samples", "/upload", "document.querySelector('#videos tr')", "phone-upload"),
    ("tv", "samples", "/", PLAYING, "tv-index"),
    ("tv", "empty", "/ambient", "!document.querySelector('#empty').hidden", "tv-ambient-empty"),
]


def main() -> None:
    out = ROOT / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        servers = {
            "samples": LiveServer(Path(tmp) / "samples").start(),
            "empty": LiveServer(Path(tmp) / "e", {"STATIC_DIR": str(empty)}).start(),
        }
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for size, server, path, ready, name in SHOTS:
                    context = browser.new_context(**{**SIZES[size], "device_scale_factor": 1})
                    page = context.new_page()
                    page.goto(servers[server].url + path)
                    wait_until(page, ready, timeout=30)
                    time.sleep(1.5)  # past the first frames and the poster
                    page.screenshot(path=str(out / f"{name}.png"))
                    print(out / f"{name}.png")
                    context.close()
                browser.close()
        finally:
            for live in servers.values():
                live.stop()


if __name__ == "__main__":
    main()
