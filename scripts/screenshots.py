"""Screenshots for the README at phone and TV size: `.venv/bin/python scripts/screenshots.py`.

Starts two servers on free ports (the shipped samples, and an empty channel), opens each page
in Debian's Chromium and writes docs/img/{phone,tv}-*.png. Look at them before committing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.pagecheck import SIZES, wait_until  # noqa: E402
from tests.live import CHROMIUM, CHROMIUM_ARGS, LiveServer, skew_script  # noqa: E402

PLAYING = "window.simulcastStatus && simulcastStatus().playing"
CAPTIONS = (
    b"WEBVTT\n\n00:00.000 --> 00:12.000\n"
    b"Captions show on every screen, in step with the picture\n"
)
CUE_SHOWN = (
    "window.simulcastStatus && simulcastStatus().title === 'Red sample' && "
    "document.querySelector('video.front').textTracks[0]?.activeCues?.length"
)
SHOTS = [  # (size, server, path, ready when, file)
    ("phone", "samples", "/", PLAYING, "phone-index"),
    ("phone", "samples", "/upload", "document.querySelector('#videos tr')", "phone-upload"),
    ("tv", "samples", "/", PLAYING, "tv-index"),
    ("tv", "empty", "/ambient", "!document.querySelector('#empty').hidden", "tv-ambient-empty"),
    ("tv", "samples", "/ambient", CUE_SHOWN, "tv-ambient-captions"),
]

ADMIN = "screenshot-admin"
# The Screens tab is shown once these pages report (one a device whose clock is an hour off).
SCREENS = [("/?screen=Lobby%20left", 0.0), ("/ambient?screen=Bar", 0.0), ("/ambient", 3_600_000.0)]
OFFSETS_SHOWN = """[...document.querySelectorAll('#panel-screens tbody tr[data-id]')].filter(
  (row) => row.querySelector('.offset')).length === 3"""


def screens_tab(browser: Any, live: LiveServer, out: Path) -> None:
    contexts = []
    for path, skew in SCREENS:
        context = browser.new_context(viewport={"width": 640, "height": 360})
        if skew:
            context.add_init_script(skew_script(skew))
        contexts.append(context)
        context.new_page().goto(live.url + path)
    admin = browser.new_context(**{**SIZES["tv"], "device_scale_factor": 1})
    contexts.append(admin)
    page = admin.new_page()
    page.goto(live.url + "/admin#screens")
    page.fill("#token", ADMIN)
    page.press("#token", "Enter")
    wait_until(page, OFFSETS_SHOWN, timeout=60)
    page.screenshot(path=str(out / "tv-admin-screens.png"))
    print(out / "tv-admin-screens.png")
    for context in contexts:
        context.close()


def main() -> None:
    out = ROOT / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp:
        servers = {
            "samples": LiveServer(Path(tmp) / "samples", {"ADMIN_TOKEN": ADMIN}).start(),
            "empty": LiveServer(Path(tmp) / "empty", {"SAMPLES": "off"}).start(),
            "admin": LiveServer(Path(tmp) / "a", {"ADMIN_TOKEN": ADMIN}).start(),
        }
        try:
            red = httpx.get(servers["samples"].url + "/videos").json()["videos"][0]
            httpx.post(
                f"{servers['samples'].url}/videos/{red['id']}/captions",
                files={"captions": ("red.vtt", CAPTIONS, "text/vtt")},
                headers={"Authorization": f"Bearer {ADMIN}"},
            ).raise_for_status()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for size, server, path, ready, name in SHOTS:
                    context = browser.new_context(**{**SIZES[size], "device_scale_factor": 1})
                    page = context.new_page()
                    page.goto(servers[server].url + path)
                    wait_until(page, ready, timeout=60)
                    time.sleep(1.5)  # past the first frames and the poster
                    page.screenshot(path=str(out / f"{name}.png"))
                    print(out / f"{name}.png")
                    context.close()
                screens_tab(browser, servers["admin"], out)
                browser.close()
        finally:
            for live in servers.values():
                live.stop()


if __name__ == "__main__":
    main()
