"""Video walls in real Chromium: two pages as the tiles of a 2x1 wall show the two halves of one
picture (frozen on the same frame, their screenshots side by side equal a plain page twice as
wide), on the default channel's `/ambient` and on a channel's `/c/{slug}/ambient`, only one tile
has sound, and a tile assigned from the console's Screens tab reaches its
screen without a reload (the test pattern too). The console's walls pass axe at phone and TV
size.

One server, one browser for the module; the pages are small (480x270) to spare the CPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..devtools import DevToolsPage
from ..kiosk_process import KioskProcess, source_command
from ..live import ROOT, LiveServer, free_port, poll
from .pagecheck import (
    FREEZE_FRAME,
    PHONE,
    TV,
    axe_violations,
    open_console,
    pixels,
    sideways_overflow,
    wait_until,
)

ADMIN = "walls-e2e-admin"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
TILE = {"width": 480, "height": 270}
PLAIN = {"width": 960, "height": 270}
PLAYING = "window.simulcastStatus && simulcastStatus().playing"


def side_by_side(left: bytes, right: bytes, width: int, height: int) -> bytes:
    row = width * 3
    return b"".join(
        left[y * row : (y + 1) * row] + right[y * row : (y + 1) * row] for y in range(height)
    )


def difference(a: bytes, b: bytes) -> float:
    """Mean absolute difference of two RGB images of one size, 0-255."""
    assert len(a) == len(b)
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("walls"), {"ADMIN_TOKEN": ADMIN}) as server:
        yield server


def open_wall(browser: Any, base: str, named: bool = False) -> tuple[dict[str, Any], list[Any]]:
    """Two tiles of a 2x1 wall from their addresses under `base` (a channel's ambient page),
    and a plain page as wide as both, all playing; and their browser contexts. `named`: the
    pages report as screens Left, Right and Plain."""
    pages: dict[str, Any] = {}
    contexts = []
    for name, query, viewport in (
        ("left", f"?wall=2x1&tile=0,0{named * '&screen=Left'}", TILE),
        ("right", f"?wall=2x1&tile=1,0{named * '&screen=Right'}", TILE),
        ("plain", f"{named * '?screen=Plain'}", PLAIN),
    ):
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        contexts.append(context)
        page = context.new_page()
        page.goto(base + query)
        pages[name] = page
    for page in pages.values():
        wait_until(page, PLAYING, 60)
    return pages, contexts


@pytest.fixture(scope="module")
def wall(live: LiveServer, browser: Any) -> Iterator[dict[str, Any]]:
    pages, contexts = open_wall(browser, live.url + "/ambient", named=True)
    yield pages
    for context in contexts:
        context.close()


def assert_halves_of_one_frame(left: Any, right: Any, plain: Any) -> None:
    """Frozen on the same frame, the two tiles side by side are the plain page."""
    src = left.evaluate(FREEZE_FRAME, [None, 1.5])
    for page in (right, plain):
        page.evaluate(FREEZE_FRAME, [src, 1.5])
    width, height, a = pixels(left.screenshot())
    _, _, b = pixels(right.screenshot())
    _, _, whole = pixels(plain.screenshot())
    assert (width, height) == (TILE["width"], TILE["height"])
    joined = side_by_side(a, b, width, height)
    swapped = side_by_side(b, a, width, height)
    # The right edge of the left tile runs on into the left edge of the right tile: the two
    # tiles together are the plain page, pixel for pixel (bar scaling noise), while the same
    # halves the wrong way round are far from it (the frame is not uniform).
    assert difference(joined, whole) < 2.0
    assert difference(swapped, whole) > 10.0


def test_two_tiles_show_the_two_halves_of_one_frame(wall: dict[str, Any]) -> None:
    left, right, plain = wall["left"], wall["right"], wall["plain"]
    # Each tile knows its place; only the first plays sound: the other plays at -80 dB (not
    # muted, so on the same media clock), whatever is clicked.
    sound = (
        "[simulcast.wall.col, simulcast.wall.silent, "
        "simulcast.player.decks.map((d) => d.el.volume)]"
    )
    assert left.evaluate(sound) == [0, False, [1, 1]]
    assert right.evaluate(sound) == [1, True, [1e-4, 1e-4]]  # -80 dB
    right.mouse.click(200, 100)
    assert right.evaluate(sound) == [1, True, [1e-4, 1e-4]]
    assert plain.evaluate("simulcast.wall") is None
    assert_halves_of_one_frame(left, right, plain)


def test_a_channels_ambient_page_is_a_tile_too(live: LiveServer, browser: Any) -> None:
    made = httpx.post(
        live.url + "/channels", json={"slug": "atrium", "title": "Atrium"}, headers=AUTH
    )
    assert made.status_code == 201, made.text
    with (ROOT / "static" / "02-green-sample.webm").open("rb") as file:
        added = httpx.post(
            live.url + "/c/atrium/uploads",
            data={"title": "Atrium loop"},
            files={"video": ("atrium.webm", file, "video/webm")},
            timeout=60,
        )
    assert added.status_code == 201, added.text
    video = added.json()["video"]["id"]
    pages, contexts = open_wall(browser, live.url + "/c/atrium/ambient")
    try:
        for page in pages.values():  # the channel's video, not the default channel's
            assert page.evaluate("simulcastStatus().videoId") == video
        assert pages["right"].evaluate("[simulcast.wall.col, simulcast.wall.silent]") == [1, True]
        assert_halves_of_one_frame(pages["left"], pages["right"], pages["plain"])
    finally:
        for context in contexts:
            context.close()


def test_a_tile_assigned_in_the_console_reaches_its_screen(
    live: LiveServer, wall: dict[str, Any], browser: Any
) -> None:
    plain = wall["plain"]
    plain.evaluate("window.notReloaded = true")
    context = browser.new_context(**TV)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        open_console(page, live.url, "screens", ADMIN)
        page.wait_for_selector("#panel-screens tbody tr[data-id]")
        # Make a wall with the form, from the keyboard.
        page.focus("#wall-new-name")
        page.keyboard.type("Lobby wall")
        page.fill("#wall-new-layout", "2x1")
        page.fill("#wall-new-bezel", "0")
        page.press("#wall-new-height", "Enter")
        page.wait_for_selector("#walls-list [data-wall]")
        assert "Wall “Lobby wall” made" in page.inner_text("#screens-message")
        walls = httpx.get(live.url + "/walls", headers=AUTH).json()["walls"]
        assert [(w["name"], w["layout"]) for w in walls] == [("Lobby wall", "2x1")]
        wall_id = walls[0]["id"]
        # Put the plain screen on the wall's second tile.
        page.get_by_label("Wall tile of Plain").select_option(f"{wall_id}:1,0")
        page.wait_for_selector("#screens-message.ok")
        # Within a report (5 s) the plain page is the right half of the wall: its picture is
        # as large as the wall's, moved half a wall to the left. No reload.
        placed = poll(
            lambda: plain.evaluate("simulcast.wall && [simulcast.wall.id, simulcast.wall.col]"),
            12,
            "the tile reaching the screen",
        )
        assert placed == [wall_id, 1]
        box = plain.evaluate(
            "(({ left, width, height, objectViewBox }) => [left, width, height, objectViewBox])"
            "(simulcast.player.front.el.style)"
        )
        # A 2x1 wall of 960x270 screens is 1920x270; a 16:9 picture 480 wide, centred at 720:
        # this screen shows its right half (240 px at its left edge), cropped in place from the
        # 640x360 video's own pixels.
        assert box == ["0px", "240px", "270px", "inset(0px 0px 0px 320px)"]
        assert plain.evaluate("window.notReloaded") is True
        # The test pattern, switched on in the console, covers the screen within seconds.
        page.locator(f"#wall-{wall_id}-pattern").check()
        poll(lambda: plain.evaluate("!!document.getElementById('wall-pattern')"), 8, "the pattern")
        # Live adjustment: the bezel typed in the console reaches the screen.
        page.fill(f"#wall-{wall_id}-bezel_mm", "4")
        page.locator(f"#wall-{wall_id}-bezel_mm").blur()
        poll(lambda: plain.evaluate("simulcast.wall.bezel_mm") == 4, 8, "the new bezel")
        assert axe_violations(page) == []
        assert errors == []
        # Off the wall again: the whole picture comes back.
        page.get_by_label("Wall tile of Plain").select_option("")
        poll(lambda: plain.evaluate("simulcast.wall === null"), 12, "the screen leaving the wall")
        assert plain.evaluate("simulcast.player.front.el.style.cssText") == ""
        assert plain.evaluate("!!document.getElementById('wall-pattern')") is False
    finally:
        context.close()


def test_the_walls_console_fits_a_phone(
    live: LiveServer, wall: dict[str, Any], browser: Any
) -> None:
    if not httpx.get(live.url + "/walls", headers=AUTH).json()["walls"]:
        httpx.post(
            live.url + "/walls", json={"name": "Phone wall", "layout": "2x2"}, headers=AUTH
        ).raise_for_status()
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        open_console(page, live.url, "screens", ADMIN)
        page.wait_for_selector("#walls-list [data-wall]")
        page.wait_for_selector("#panel-screens tbody select.wall-select")
        assert axe_violations(page) == []
        assert sideways_overflow(page) == 0
    finally:
        context.close()


def test_the_kiosk_with_wall_and_tile_shows_its_tile(live: LiveServer) -> None:
    port = free_port()
    kiosk = KioskProcess(
        source_command(),
        "--server",
        live.url,
        "--windowed",
        "--wall",
        "2x1",
        "--tile",
        "1,0",
        env={"QTWEBENGINE_REMOTE_DEBUGGING": str(port), "QTWEBENGINE_DISABLE_SANDBOX": "1"},
    )
    try:
        kiosk.wait_for_line("playing video", timeout=90)
        screen = DevToolsPage(port, "/ambient")
        try:
            tile = poll(
                lambda: screen.evaluate(
                    "window.simulcast?.wall && simulcast.player.front.el.videoWidth > 0 && "
                    "[simulcast.wall.cols, simulcast.wall.col, "
                    "simulcast.wall.silent, innerWidth, innerHeight, "
                    "simulcast.player.front.el.videoWidth, "
                    "getComputedStyle(simulcast.player.front.el).left, "
                    "getComputedStyle(simulcast.player.front.el).width]"
                ),
                30,
                "the kiosk's page as a tile",
            )
        finally:
            screen.close()
    finally:
        kiosk.stop()
    cols, col, silent, width, height, video_width, left, shown = tile
    assert (cols, col, silent) == (2, 1, True)
    # The picture spans the 2x1 wall's height (16:9, centred on the wall, as wide as the wall
    # at most): this screen shows its right half, from its left edge.
    picture = min(height * 16 / 9, 2 * width)
    assert video_width > 0 and left == "0px", tile
    assert abs(float(shown.removesuffix("px")) - min(width, picture / 2)) < 1, tile
