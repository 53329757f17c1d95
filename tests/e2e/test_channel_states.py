"""A channel's life as people meet it, on one server, in order: empty (a TV that says where to
add videos, with a QR code a phone can read), its first upload made with the keyboard alone,
then the server going away and coming back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp

from ..live import LiveServer
from ..mediafiles import make_webm
from .pagecheck import PHONE, SIZES, TV, axe_violations, sideways_overflow, wait_until

PLAYING = "window.simulcastStatus && simulcastStatus().playing"
CLIP_SECONDS = 3.0

# The QR code as drawn on the page, in grey levels, at the size it is shown.
QR_PIXELS = """async () => {
  const img = document.querySelector('#empty .qr');
  await img.decode();
  const size = Math.round(img.getBoundingClientRect().width);
  const canvas = Object.assign(document.createElement('canvas'), { width: size, height: size });
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0, size, size);
  const rgba = context.getImageData(0, 0, size, size).data;
  return { size, grey: Array.from({ length: size * size }, (_, i) => rgba[i * 4]) };
}"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("states"), {"SAMPLES": "off"}) as server:
        yield server


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**TV)
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    yield context
    context.close()
    assert errors == []


def read_qr(page: Any) -> str:
    drawn = page.evaluate(QR_PIXELS)
    size = drawn["size"]
    image = memoryview(bytes(drawn["grey"])).cast("B", (size, size))
    codes = zxingcpp.read_barcodes(image)
    assert len(codes) == 1, codes
    return str(codes[0].text)


def test_an_empty_channel_says_what_to_do(live: LiveServer, browser: Any) -> None:
    problems: dict[str, Any] = {}
    for size, settings in SIZES.items():
        context = browser.new_context(**settings)
        for path in ("/", "/ambient", "/upload"):
            page = context.new_page()
            page.goto(live.url + path)
            if path == "/ambient":
                page.wait_for_selector("#empty", state="visible", timeout=15000)
                host = live.url.removeprefix("http://")
                assert page.inner_text("#empty").count(f"{host}/upload") == 1
                assert read_qr(page) == live.url + "/upload"  # what a phone would open
                box = page.locator("#empty .qr").bounding_box()
                assert box is not None and box["width"] >= (120 if settings is PHONE else 200)
            elif path == "/":
                page.wait_for_selector("#empty", state="visible", timeout=15000)
                assert page.is_disabled("#like") and page.is_disabled("#dislike")
                assert page.inner_text("#title") == "Nothing to play yet"
            else:
                page.wait_for_selector("#no-videos", state="visible", timeout=15000)
                assert not page.is_visible("#video-table")
            overflow = sideways_overflow(page)
            violations = axe_violations(page)
            if overflow or violations:
                problems[f"{size} {path}"] = {"overflow": overflow, "axe": violations}
            page.close()
        context.close()
    assert problems == {}


def test_the_first_upload_with_the_keyboard_alone(
    live: LiveServer, context: Any, tmp_path: Path
) -> None:
    clip = make_webm(tmp_path / "keyboard-clip.webm", seconds=CLIP_SECONDS)
    tv = context.new_page()
    tv.goto(live.url + "/ambient")
    tv.wait_for_selector("#empty", state="visible", timeout=15000)

    page = context.new_page()
    page.goto(live.url + "/upload")
    for _ in range(8):  # Tab from the top of the page to the file control
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "file":
            break
    assert page.evaluate("document.activeElement.id") == "file"
    # Where the focus is shows: the drop zone around the control is outlined.
    assert page.evaluate("getComputedStyle(document.querySelector('#drop')).outlineStyle") != "none"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(clip))
    assert "keyboard-clip.webm" in page.inner_text("#chosen")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "title"
    page.keyboard.type("Typed title")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "captions"  # optional: passed by
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "send"
    page.keyboard.press("Enter")
    page.wait_for_selector("#result.ok", timeout=20000)
    assert "Typed title" in page.inner_text("#result")
    assert page.get_attribute("#progress", "aria-valuenow") == "100"
    page.wait_for_selector("#videos .badge", timeout=10000)
    assert page.inner_text("#videos .pos") == "1"  # positions count from 1
    assert page.inner_text("#videos .badge") == "Now playing"

    # The TV leaves its empty screen and plays the new video by itself.
    tv.wait_for_selector("#empty", state="hidden", timeout=10000)
    assert wait_until(tv, PLAYING, timeout=20)


def test_the_server_going_away_and_coming_back(live: LiveServer, context: Any) -> None:
    viewer = context.new_page()
    viewer.goto(live.url + "/")
    tv = context.new_page()
    tv.goto(live.url + "/ambient")
    for page in (viewer, tv):
        wait_until(page, PLAYING, timeout=20)
    wait_until(viewer, "document.querySelector('#connection').dataset.state === 'live'")
    buttons = viewer.locator(".votes").bounding_box()

    live.kill()
    wait_until(viewer, "document.querySelector('#connection').dataset.state === 'offline'")
    # The known schedule keeps the TV playing for now: no card yet.
    assert tv.is_hidden("#reconnecting")
    assert wait_until(tv, PLAYING, timeout=3)

    viewer.click("#like")
    message = viewer.locator("#message")
    assert "wasn't counted" in message.inner_text()
    assert "fetch" not in message.inner_text().lower()
    assert viewer.locator(".votes").bounding_box() == buttons  # said in place, nothing moves

    # Once the schedule in hand has run out: a calm card, not a frozen frame, and no stale
    # "up next" (the video that was next is the one that played).
    tv.wait_for_selector(
        "#reconnecting", state="visible", timeout=(2 * CLIP_SECONDS + 8) * 1000
    )
    assert "Reconnecting" in tv.inner_text("#reconnecting")
    wait_until(viewer, "document.querySelector('#next').textContent === '—'", timeout=10)

    live.start()
    tv.wait_for_selector("#reconnecting", state="hidden", timeout=15000)
    assert wait_until(tv, PLAYING, timeout=15)
    wait_until(viewer, "document.querySelector('#connection').dataset.state === 'live'")
    assert message.inner_text() == ""  # the problem has passed
    wait_until(viewer, "document.querySelector('#next').textContent === 'Typed title'")
