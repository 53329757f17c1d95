"""Screenshots for the README at phone and TV size: `.venv/bin/python scripts/screenshots.py`.

Starts two servers on free ports (the shipped samples, and an empty channel), opens each page
in Debian's Chromium and writes docs/img/{phone,tv}-*.png and the video wall composites
(`scripts/screenshots.py walls`: only those). Look at them before committing.
"""

from __future__ import annotations

import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.pagecheck import FREEZE_FRAME, SIZES, pixels, wait_until  # noqa: E402
from tests.live import CHROMIUM, CHROMIUM_ARGS, LiveServer, skew_script  # noqa: E402

PLAYING = "window.simulcastStatus && simulcastStatus().playing"
CAPTIONS = (
    b"WEBVTT\n\n00:00.000 --> 00:12.000\nCaptions show on every screen, in step with the picture\n"
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


def screens_console(browser: Any, live: LiveServer, contexts: list[Any]) -> Any:
    """The console's Screens tab at TV size, signed in (its context joins `contexts`)."""
    admin = browser.new_context(**{**SIZES["tv"], "device_scale_factor": 1})
    contexts.append(admin)
    page = admin.new_page()
    page.goto(live.url + "/admin#screens")
    page.fill("#token", ADMIN)
    page.press("#token", "Enter")
    return page


def screens_tab(browser: Any, live: LiveServer, out: Path) -> None:
    contexts = []
    for path, skew in SCREENS:
        context = browser.new_context(viewport={"width": 640, "height": 360})
        if skew:
            context.add_init_script(skew_script(skew))
        contexts.append(context)
        context.new_page().goto(live.url + path)
    page = screens_console(browser, live, contexts)
    wait_until(page, OFFSETS_SHOWN, timeout=60)
    page.screenshot(path=str(out / "tv-admin-screens.png"))
    print(out / "tv-admin-screens.png")
    for context in contexts:
        context.close()


# The 2x2 wall: screens of 640 x 360 (1 mm a pixel in the picture) in 16 mm bezels, 6 mm apart,
# told so (bezel compensation), then drawn as they hang on a wall.
WALL = {"bezel": 16, "gap": 6, "w": 640, "h": 360, "margin": 40}
WALL_QUERY = "wall=2x2&bezel={bezel}&gap={gap}&size={w}x{h}".format(**WALL)
BACKGROUND, BEZEL = (58, 60, 66), (12, 12, 14)


def png(width: int, height: int, rgb: bytes) -> bytes:
    """RGB rows as a PNG file (no image library needed for one composite)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + rgb[y * width * 3 : (y + 1) * width * 3] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def hang(tiles: dict[tuple[int, int], bytes]) -> tuple[int, int, bytes]:
    """Four screenshots as screens on a wall: bezels around each, the gap between them."""
    b, g, w, h, m = (WALL[k] for k in ("bezel", "gap", "w", "h", "margin"))
    pitch_x, pitch_y = w + 2 * b + g, h + 2 * b + g
    width, height = 2 * m + 2 * pitch_x - g, 2 * m + 2 * pitch_y - g
    canvas = bytearray(bytes(BACKGROUND) * width * height)
    for (col, row), shot in tiles.items():
        x0, y0 = m + col * pitch_x, m + row * pitch_y
        for y in range(h + 2 * b):
            start = ((y0 + y) * width + x0) * 3
            canvas[start : start + (w + 2 * b) * 3] = bytes(BEZEL) * (w + 2 * b)
        for y in range(h):
            start = ((y0 + b + y) * width + x0 + b) * 3
            canvas[start : start + w * 3] = shot[y * w * 3 : (y + 1) * w * 3]
    return width, height, bytes(canvas)


def wall_shots(browser: Any, live: LiveServer, out: Path) -> None:
    """docs/img/wall-2x2.png (one frame across four screens) and wall-2x2-pattern.png (the test
    pattern at one instant), each a composite of four pages' screenshots."""
    for name, extra in (("wall-2x2", ""), ("wall-2x2-pattern", "&pattern=1")):
        pages, contexts = {}, []
        for col, row in ((0, 0), (1, 0), (0, 1), (1, 1)):
            context = browser.new_context(
                viewport={"width": WALL["w"], "height": WALL["h"]}, device_scale_factor=1
            )
            contexts.append(context)
            page = context.new_page()
            page.goto(f"{live.url}/ambient?{WALL_QUERY}&tile={col},{row}{extra}")
            pages[(col, row)] = page
        for page in pages.values():
            wait_until(page, PLAYING, timeout=60)
        time.sleep(2)
        src = None
        for page in pages.values():
            src = page.evaluate(FREEZE_FRAME, [src, 2.2])
            page.evaluate("simulcast.clock.now = () => 1004.2")  # the diagonal, held mid-wall
        time.sleep(0.5)
        shots = {place: pixels(page.screenshot())[2] for place, page in pages.items()}
        width, height, rgb = hang(shots)
        (out / f"{name}.png").write_bytes(png(width, height, rgb))
        print(out / f"{name}.png")
        for context in contexts:
            context.close()


def walls_tab(browser: Any, live: LiveServer, out: Path) -> None:
    """The Screens tab with a wall: docs/img/tv-admin-walls.png."""
    headers = {"Authorization": f"Bearer {ADMIN}"}
    wall = httpx.post(
        live.url + "/walls",
        json={"name": "Lobby wall", "layout": "2x2", "bezel_mm": 16, "gap_mm": 6,
              "screen_w_mm": 1210, "screen_h_mm": 680},
        headers=headers,
    ).json()["wall"]  # fmt: skip
    contexts = []
    for place in ("0,0", "1,0", "0,1"):
        context = browser.new_context(viewport={"width": 480, "height": 270})
        contexts.append(context)
        context.new_page().goto(f"{live.url}/ambient?screen=Lobby%20{place.replace(',', '-')}")
    page = screens_console(browser, live, contexts)
    named = "[...document.querySelectorAll('.screen-name')].map((n) => n.textContent)"
    wait_until(page, f"{named}.filter((n) => n.startsWith('Lobby ')).length === 3", timeout=60)
    for screen in httpx.get(live.url + "/screens", headers=headers).json()["screens"]:
        if not (screen["name"] or "").startswith("Lobby "):  # pages of earlier pictures, closed
            httpx.delete(f"{live.url}/screens/{screen['id']}", headers=headers)
            continue
        col, row = screen["name"].split()[-1].split("-")
        httpx.put(
            f"{live.url}/screens/{screen['id']}/wall",
            json={"wall": wall["id"], "tile": [int(col), int(row)]},
            headers=headers,
        ).raise_for_status()
    wait_until(page, "document.querySelectorAll('.wall-grid li[data-empty=no]').length === 3", 30)
    sound = "[...document.querySelectorAll('#screens-rows td[data-label=Sound]')]"
    wait_until(page, f"{sound}.filter((td) => td.textContent === 'muted').length === 2", 30)
    page.evaluate("document.querySelector('#panel-screens').scrollIntoView()")
    page.screenshot(path=str(out / "tv-admin-walls.png"))
    print(out / "tv-admin-walls.png")
    for context in contexts:
        context.close()


def walls_only() -> None:
    """`scripts/screenshots.py walls`: only the video wall pictures."""
    out = ROOT / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp:
        live = LiveServer(Path(tmp) / "walls", {"ADMIN_TOKEN": ADMIN}).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                wall_shots(browser, live, out)
                walls_tab(browser, live, out)
                browser.close()
        finally:
            live.stop()


# The week view of a cafeteria's schedule (README: channels and schedules).
CAFETERIA_WEEK = [
    {"title": "Lunch menu", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "11:30",
     "end": "14:00"},
    {"title": "Breakfast", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00",
     "end": "09:30", "boundary": "finish"},
    {"title": "Late opening", "days": ["fri", "sat"], "start": "21:00", "end": "01:00"},
    {"title": "Christmas party", "date": "2026-12-24", "start": "18:00", "end": "22:00"},
]


def schedule_tab(browser: Any, live: LiveServer, out: Path) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    httpx.post(live.url + "/channels", json={"slug": "cafeteria", "title": "Cafeteria"},
               headers=admin).raise_for_status()
    samples = [v["id"] for v in httpx.get(live.url + "/videos").json()["videos"]]
    for video in samples:
        httpx.post(live.url + "/channels/cafeteria/videos", json={"id": video},
                   headers=admin).raise_for_status()
    slots = [{**slot, "playlist": samples[: 1 + n % 3]} for n, slot in enumerate(CAFETERIA_WEEK)]
    httpx.put(live.url + "/channels/cafeteria/schedule", json={"slots": slots},
              headers=admin).raise_for_status()
    for size in ("tv", "phone"):
        context = browser.new_context(**{**SIZES[size], "device_scale_factor": 1})
        page = context.new_page()
        page.goto(live.url + "/admin#channels")
        page.fill("#token", ADMIN)
        page.press("#token", "Enter")
        page.click('tr[data-slug="cafeteria"] button[data-action="schedule"]')
        wait_until(page, "document.querySelectorAll('.slot-block').length >= 12")
        page.locator("#schedule").screenshot(path=str(out / f"{size}-admin-schedule.png"))
        print(out / f"{size}-admin-schedule.png")
        context.close()


def main() -> None:
    if sys.argv[1:] == ["walls"]:
        walls_only()
        return
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
                wall_shots(browser, servers["samples"], out)
                walls_tab(browser, servers["admin"], out)
                schedule_tab(browser, servers["admin"], out)
                browser.close()
        finally:
            for live in servers.values():
                live.stop()


if __name__ == "__main__":
    main()
