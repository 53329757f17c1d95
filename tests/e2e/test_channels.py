"""Two channels in real Chromium: different videos, likes kept apart, and a slot that starts 20 s
after the pages play switching every page of its channel at its start while the other plays on.

The switch instant is judged by the test from each page's media clock (read over CDP with the
page's performance.now(), mapped to the test's clock, which is the server's: same machine)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from ..live import LiveServer
from .pagecheck import open_console, wait_until
from .test_sync import Viewer

TOKEN = "e2e-channels"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
ZONE = "Europe/Berlin"
BOUND = 0.1  # s: the switch on every page within this of the slot's start (busy CI machine)
LEAD = 20.0  # s from the pages playing to the slot's start


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, long_channel: Any) -> Iterator[LiveServer]:
    """A default channel playing one 5-minute video: nothing switches by itself meanwhile."""
    workdir = tmp_path_factory.mktemp("e2e-channels")
    env = {
        "ADMIN_TOKEN": TOKEN,
        "TIMEZONE": ZONE,
        "STATIC_DIR": str(long_channel(workdir / "samples", 1)),
    }
    with LiveServer(workdir, env) as server:
        yield server


def upload(url: str, clip: Path, title: str) -> str:
    with clip.open("rb") as file:
        answer = httpx.post(
            url + "/uploads", data={"title": title},
            files={"video": ("clip.webm", file, "video/webm")}, timeout=60,
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["video"]["id"])


def playing(viewer: Viewer, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = viewer.page.evaluate("window.simulcastStatus ? simulcastStatus() : null")
        if status and status["playing"] and status["videoId"]:
            return str(status["videoId"])
        time.sleep(0.2)
    raise AssertionError("the page never played")


def clock(when: float) -> str:
    return dt.datetime.fromtimestamp(when, ZoneInfo(ZONE)).strftime("%H:%M:%S")


def test_two_channels_a_slot_switches_one_at_its_start(
    live: LiveServer, browser: Any, long_clip: Path
) -> None:
    created = httpx.post(live.url + "/channels", json={"slug": "lobby", "title": "Lobby"},
                         headers=ADMIN)
    assert created.status_code == 201
    lobby = live.url + "/c/lobby"
    loop = upload(lobby, long_clip, "Lobby loop")
    lunch = upload(lobby, long_clip, "Lunch menu")
    hide = httpx.patch(f"{lobby}/videos/{lunch}", json={"hidden": True}, headers=ADMIN)
    assert hide.status_code == 200
    default_video = httpx.get(live.url + "/videos").json()["videos"][0]["id"]

    context = browser.new_context(viewport={"width": 480, "height": 270})
    errors: list[str] = []
    try:
        pages = [Viewer(context, lobby + "/"), Viewer(context, lobby + "/"),
                 Viewer(context, live.url + "/")]
        for page in pages:
            page.page.on("pageerror", lambda error: errors.append(str(error)))
        assert [playing(p) for p in pages] == [loop, loop, default_video]

        # Likes are the channel's own: a like in the lobby leaves the default channel's at 0.
        pages[0].page.click("#like")
        wait_until(pages[1].page, "document.querySelector('#likes').textContent === '1'")
        time.sleep(0.5)  # time for a wrongly shared count to arrive
        assert pages[2].page.text_content("#likes") == "0"
        assert httpx.get(live.url + "/videos").json()["videos"][0]["likes"] == 0

        # A lunch slot starting LEAD seconds from now (every page playing), to the second.
        start = float(int(time.time() + LEAD) + 1)
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        slot = {"days": days, "start": clock(start), "end": clock(start + 120),
                "playlist": [lunch]}
        put = httpx.put(live.url + "/channels/lobby/schedule", json={"slots": [slot]},
                        headers=ADMIN)
        assert put.status_code == 200, put.text
        assert time.time() < start - 3, "the set-up took too long to see the slot coming"

        readings: dict[int, list[tuple[float, float, float, str, bool]]] = {0: [], 1: [], 2: []}
        while time.time() < start + 2.5:
            for number, page in enumerate(pages):
                if (reading := page.reading()) is not None:
                    readings[number].append(reading)
            time.sleep(0.02)
    finally:
        context.close()

    for number in (0, 1):
        seen = readings[number]
        before = [r for r in seen if r[3] == loop]
        # The lunch deck's own clock (< 5 s in: at the very switch a reading may pair the new id
        # with the old deck's position, which is far longer in).
        after = [r for r in seen if r[3] == lunch and r[4] and 0.2 < r[1] < 5.0]
        assert before and after, f"page {number}: {[(r[0] - start, r[3]) for r in seen][-20:]}"
        assert before[-1][0] > start - 0.5  # it played the loop up to the slot
        # Where the lunch video's own clock says it started: the slot's start.
        starts = sorted(r[0] - r[1] / r[2] for r in after)
        started = starts[len(starts) // 2]
        assert abs(started - start) < BOUND, f"page {number} switched {started - start:+.3f} s off"
    assert {r[3] for r in readings[2]} == {default_video}  # the other channel: untouched
    assert not errors


def test_the_console_creates_a_channel_and_edits_its_week(live: LiveServer, browser: Any) -> None:
    """Keyboard and pointer as an operator would, checked at phone and TV sizes with axe."""
    from .pagecheck import SIZES, axe_violations, sideways_overflow

    videos = httpx.get(live.url + "/videos").json()["videos"]
    context = browser.new_context(**SIZES["tv"])
    try:
        page = context.new_page()
        open_console(page, live.url, "channels", TOKEN)
        page.wait_for_selector("#channels-rows tr")
        page.fill("#channel-title", "Cafeteria")
        assert page.input_value("#channel-slug") == "cafeteria"  # proposed from the title
        page.press("#channel-slug", "Enter")
        page.wait_for_selector('#channels-rows tr[data-slug="cafeteria"]')
        assert "created" in page.text_content("#channels-message")
        # The cafeteria's schedule: a weekday lunch slot playing the sample, by keyboard.
        page.click('tr[data-slug="cafeteria"] button[data-action="schedule"]')
        title = "document.querySelector('#schedule-title')?.textContent.includes('Cafeteria')"
        wait_until(page, title)
        add = httpx.post(live.url + "/channels/cafeteria/videos", json={"id": videos[0]["id"]},
                         headers=ADMIN)
        assert add.status_code == 200
        page.click('tr[data-slug="cafeteria"] button[data-action="schedule"]')  # sees the video
        page.wait_for_selector("#slot-add:not([disabled])")
        page.fill("#slot-title", "Lunch")
        for day in ("mon", "tue", "wed", "thu", "fri"):
            page.check(f'#slot-days input[value="{day}"]')
        page.fill("#slot-start", "11:30")
        page.fill("#slot-end", "14:00")
        page.focus("#slot-add")
        page.keyboard.press("Enter")
        page.wait_for_selector("#slot-playlist button[data-remove]")
        page.click("#slot-save")
        page.wait_for_selector(".slot-block button")
        saved = httpx.get(live.url + "/channels/cafeteria/schedule").json()["slots"]
        assert [(s["title"], s["days"], s["start"], s["end"], s["playlist"]) for s in saved] == [
            ("Lunch", ["mon", "tue", "wed", "thu", "fri"], "11:30", "14:00", [videos[0]["id"]])
        ]
        assert page.locator(".slot-block").count() == 5  # one block per weekday
        # A refused slot says why and where, and changes nothing.
        page.click(".slot-block button >> nth=0")
        page.fill("#slot-end", "11:30")
        page.click("#slot-save")
        wait_until(page, "document.querySelector('#channels-message').textContent.includes('ends')")
        assert httpx.get(live.url + "/channels/cafeteria/schedule").json()["slots"] == saved
        page.click("#slot-cancel")
        for size in ("tv", "phone"):
            page.set_viewport_size(SIZES[size]["viewport"])
            assert sideways_overflow(page) == 0, size
            assert axe_violations(page) == [], size
    finally:
        context.close()


def test_a_screen_moved_to_another_channel_follows_without_reloading(
    live: LiveServer, browser: Any, long_clip: Path
) -> None:
    if httpx.get(live.url + "/c/hall/videos").status_code == 404:
        made = httpx.post(live.url + "/channels", json={"slug": "hall", "title": "Hall"},
                          headers=ADMIN)
        assert made.status_code == 201
    hall = upload(live.url + "/c/hall", long_clip, "Hall loop")
    context = browser.new_context(viewport={"width": 480, "height": 270})
    try:
        page = context.new_page()
        page.goto(live.url + "/ambient?screen=Moved")
        first = wait_until_playing(page)
        assert first != hall
        page.evaluate("window.__notReloaded = true")
        screen = reported(live, "Moved")
        bad = httpx.put(f"{live.url}/screens/{screen['id']}/channel", json={"channel": "nope"},
                        headers=ADMIN)
        assert bad.status_code == 400 and bad.json()["field"] == "channel"
        moved = httpx.put(f"{live.url}/screens/{screen['id']}/channel", json={"channel": "hall"},
                          headers=ADMIN)
        assert moved.status_code == 200
        wait_until(page, f"simulcastStatus().videoId === '{hall}'")
        assert wait_until_playing(page) == hall
        assert page.evaluate("window.__notReloaded === true")
        back = httpx.put(f"{live.url}/screens/{screen['id']}/channel", json={"channel": None},
                         headers=ADMIN)
        assert back.status_code == 200
        wait_until(page, f"simulcastStatus().videoId === '{first}'")
    finally:
        context.close()


def wait_until_playing(page: Any, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = page.evaluate("window.simulcastStatus ? simulcastStatus() : null")
        if status and status["playing"] and status["videoId"]:
            return str(status["videoId"])
        time.sleep(0.2)
    raise AssertionError("the page never played")


def reported(live: LiveServer, name: str, timeout: float = 15.0) -> dict[str, Any]:
    """The screen of that name, once it has reported."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screens = httpx.get(live.url + "/screens", headers=ADMIN).json()["screens"]
        if found := [s for s in screens if s.get("name") == name]:
            return dict(found[0])
        time.sleep(0.3)
    raise AssertionError(f"no screen {name!r} reported")
