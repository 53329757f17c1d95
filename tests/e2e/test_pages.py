"""The three pages in real Chromium against a real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ..live import LiveServer
from ..mediafiles import make_channel, make_webm
from .pagecheck import wait_until


@pytest.fixture
def page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def test_standard_page_plays_with_title_progress_votes_and_next(
    steady_server: LiveServer, page: Any
) -> None:
    page.goto(steady_server.url + "/")
    status = wait_until(
        page, "window.simulcastStatus && simulcastStatus().playing && simulcastStatus()"
    )
    state = httpx.get(steady_server.url + "/videos").json()
    titles = {v["id"]: v["title"] for v in state["videos"]}
    assert page.inner_text("#title") == titles[status["videoId"]]
    assert page.inner_text("#next") in titles.values()
    assert wait_until(page, "document.querySelector('#connection').dataset.state === 'live'")
    width = page.evaluate("parseFloat(document.querySelector('#progress-fill').style.width)")
    assert 0 <= width <= 100
    assert page.inner_text("#elapsed").count(":") == 1
    likes = int(page.inner_text("#likes"))
    page.click("#like")
    wait_until(page, f"document.querySelector('#likes').textContent === '{likes + 1}'")
    assert page.get_attribute("#like", "aria-pressed") == "true"
    page.click("#like")  # pressing again withdraws the vote
    wait_until(page, f"document.querySelector('#likes').textContent === '{likes}'")
    assert page.get_attribute("#like", "aria-pressed") == "false"


def test_ambient_has_no_controls_and_the_title_fades(steady_server: LiveServer, page: Any) -> None:
    # One long video: no switch brings the title back while the test waits for it to fade.
    page.goto(steady_server.url + "/ambient")
    wait_until(page, "window.simulcastStatus && simulcastStatus().playing")
    assert page.locator("button, input, a, [controls]").count() == 0
    caption = page.locator("#title-card")
    assert caption.inner_text().strip() != ""
    assert float(caption.evaluate("e => getComputedStyle(e).opacity")) > 0.5
    # The title hides after a few seconds (4 s plus the fade).
    page.wait_for_function(
        "parseFloat(getComputedStyle(document.querySelector('#title-card')).opacity) < 0.05",
        timeout=9000,
    )
    video = page.locator("video.front")
    box = video.bounding_box()
    assert box is not None and box["width"] == 1280 and box["height"] == 800


def test_ambient_title_returns_at_the_next_video(
    start_server: Any, page: Any, tmp_path: Path
) -> None:
    samples = make_channel(tmp_path / "samples", ("first", 6.0), ("second", 6.0))
    live = start_server({"STATIC_DIR": str(samples)})
    page.goto(live.url + "/ambient")
    first = wait_until(
        page, "window.simulcastStatus && simulcastStatus().playing && simulcastStatus().title"
    )
    page.wait_for_function(
        f"simulcastStatus().title !== {first!r} && "
        "parseFloat(getComputedStyle(document.querySelector('#title-card')).opacity) > 0.5",
        timeout=12000,
    )
    assert page.inner_text("#title-card") in {"First", "Second"} - {first}


def test_upload_page_shows_progress_and_the_video_joins(
    start_server: Any, page: Any, tmp_path: Path
) -> None:
    live = start_server()
    clip = make_webm(tmp_path / "new-clip.webm", seconds=2.0)
    page.goto(live.url + "/upload")
    assert page.is_disabled("#send")
    page.set_input_files("#file", str(clip))
    assert "new-clip.webm" in page.inner_text("#chosen")
    page.fill("#title", "Fresh upload")
    page.click("#send")
    page.wait_for_selector("#result.ok", timeout=15000)
    assert page.is_visible("#progress")  # the bar stays, full, beside the message
    assert "Fresh upload" in page.inner_text("#result")
    assert "rotation" in page.inner_text("#result")
    assert (
        page.evaluate("document.querySelector('#progress').getAttribute('aria-valuenow')") == "100"
    )
    page.wait_for_function(
        "[...document.querySelectorAll('#videos td')]"
        ".some(td => td.textContent === 'Fresh upload')",
        timeout=10000,
    )
    listed = httpx.get(live.url + "/videos").json()["videos"]
    assert any(v["title"] == "Fresh upload" and v["index"] is not None for v in listed)


def test_upload_page_explains_a_rejected_file(start_server: Any, page: Any, tmp_path: Path) -> None:
    live = start_server()
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all")
    page.goto(live.url + "/upload")
    page.set_input_files("#file", str(notes))
    page.click("#send")
    page.wait_for_selector("#result.error", timeout=10000)
    result = page.inner_text("#result")
    assert "not a video" in result.lower()
    assert "WebM" in result and "MP4" in result and "up to 2 GB" in result  # what would be accepted
    assert page.is_disabled("#send")  # the same file would be refused again
    assert not page.is_visible("#progress")
    page.set_input_files("#file", str(make_webm(tmp_path / "good.webm", seconds=1.0)))
    assert not page.is_disabled("#send")  # another file: they can try again
    assert page.inner_text("#result") == ""
