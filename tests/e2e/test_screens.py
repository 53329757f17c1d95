"""Screens in real Chromium and the built kiosk: they report, the console lists and drives them.

One server, one browser and one set of screens for the module: three pages (one whose device
clock is an hour off) and the built kiosk. The test that kills a page runs last.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from prometheus_client.parser import text_string_to_metric_families

from ..kiosk_process import KioskProcess, built_kiosk
from ..live import CHROMIUM, CHROMIUM_ARGS, LiveServer, free_port, poll, skew_script, wait_for
from .pagecheck import PHONE, TV, axe_violations, open_console, sideways_overflow, wait_until

ADMIN = "screens-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
PAGES = {
    "Lobby left": "/?screen=Lobby%20left",
    "Bar": "/ambient?screen=Bar",
    "Skewed": "/ambient?screen=Skewed",
}
KIOSK_NAME = "Kiosk test"
SIZES = {"phone": PHONE, "desktop": TV}
KIOSK = os.environ.get("SIMULCAST_KIOSK_BUILD") != "skip"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The shipped samples: the kiosk's Qt WebEngine plays them (it did not get going on a
    # five-minute PyAV-made WebM here).
    with LiveServer(tmp_path_factory.mktemp("screens"), {"ADMIN_TOKEN": ADMIN}) as server:
        yield server


class DoomedChromium:
    """A Chromium process of its own (Playwright attaches over CDP), killed with SIGKILL by
    the test: a screen that dies without a word, as on a power cut or a crash."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                *CHROMIUM_ARGS,
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={workdir}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(f"http://127.0.0.1:{self.port}/json/version", 30, self.process)

    def connect(self, browser: Any) -> Any:
        return browser.browser_type.connect_over_cdp(f"http://127.0.0.1:{self.port}")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def screens(live: LiveServer) -> list[dict[str, Any]]:
    response = httpx.get(live.url + "/screens", headers=AUTH)
    response.raise_for_status()
    return list(response.json()["screens"])


def by_name(live: LiveServer) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in screens(live)}


@pytest.fixture(scope="module")
def fleet(
    live: LiveServer, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The three pages by name (each its own browser context: its own device), and the kiosk's
    config folder."""
    pages: dict[str, Any] = {}
    contexts = []
    # "Bar" runs in a Chromium of its own, so that a test can kill it outright.
    doomed = DoomedChromium(tmp_path_factory.mktemp("doomed"))
    for name, path in PAGES.items():
        host = doomed.connect(browser) if name == "Bar" else browser
        context = host.new_context(viewport={"width": 960, "height": 540})
        if name == "Skewed":
            context.add_init_script(skew_script(3_600_000))
        contexts.append(context)
        page = context.new_page()
        page.goto(live.url + path)
        pages[name] = page
    config = tmp_path_factory.mktemp("kiosk-config")
    kiosk = None
    if KIOSK:
        exe, _ = built_kiosk()
        kiosk = KioskProcess(
            [str(exe)],
            "--server",
            live.url,
            "--windowed",
            "--name",
            KIOSK_NAME,
            env={"XDG_CONFIG_HOME": str(config)},
        )
    yield {"pages": pages, "config": config, "kiosk": kiosk, "doomed": doomed}
    if kiosk is not None:
        kiosk.stop()
    for context in contexts:
        with contextlib.suppress(Exception):  # the killed one is gone already
            context.close()
    doomed.kill()


class Waiting(dict[str, Any]):
    """Falsy: what poll() shows when it gives up."""

    def __bool__(self) -> bool:
        return False


def reporting(live: LiveServer, names: list[str]) -> dict[str, dict[str, Any]]:
    """The screens by name once all of `names` report playing within 100 ms of the schedule
    (a report taken during a switch may say more: poll again)."""
    listed = by_name(live)
    ready = all(
        name in listed
        and listed[name]["online"]
        and listed[name]["offset_ms"] is not None
        and abs(listed[name]["offset_ms"]) < 100
        for name in names
    )
    return listed if ready else Waiting(listed)


def test_pages_and_the_kiosk_report_their_measured_sync(
    live: LiveServer, fleet: dict[str, Any]
) -> None:
    names = [*PAGES, *([KIOSK_NAME] if KIOSK else [])]
    poll(lambda: reporting(live, list(PAGES)), 60, "every page reporting an offset")
    # The kiosk's Qt WebEngine starts slower, the more so on a busy machine.
    listed = poll(lambda: reporting(live, names), 90, "the kiosk reporting an offset")
    titles = {v["id"]: v["title"] for v in httpx.get(live.url + "/videos").json()["videos"]}
    for name in names:
        screen = listed[name]
        assert {
            "id",
            "name",
            "page",
            "online",
            "last_seen",
            "video_id",
            "offset_ms",
            "rate",
            "buffer_s",
            "stalls",
        } <= screen.keys()
        assert screen["video_id"] in titles and screen["title"] == titles[screen["video_id"]]
        assert abs(screen["offset_ms"]) < 100, screen
        assert 0.9 < screen["rate"] < 1.1 and screen["buffer_s"] > 0
        assert screen["sound"] is True and screen["playing"] is True
    assert listed["Lobby left"]["page"] == "/" and listed["Bar"]["page"] == "/ambient"
    assert listed["Lobby left"]["engine"] == "Chromium"
    # An hour off on the device, still on the frame: the page measures the server's clock.
    skewed = fleet["pages"]["Skewed"]
    assert abs(skewed.evaluate("Date.now()") / 1000 - time.time() - 3600) < 60
    assert abs(listed["Skewed"]["offset_ms"]) < 100
    assert len({s["id"] for s in listed.values()}) == len(names)
    if KIOSK:
        kiosk = listed[KIOSK_NAME]
        assert kiosk["page"] == "kiosk" and kiosk["engine"] == "Qt WebEngine"
        kept = (fleet["config"] / "simulcast" / "screen-id").read_text().strip()
        assert kiosk["id"] == kept  # the id survives restarts: it lives in the config folder


def test_metrics_count_the_screens_and_their_offsets(
    live: LiveServer, fleet: dict[str, Any]
) -> None:
    names = [*PAGES, *([KIOSK_NAME] if KIOSK else [])]
    poll(lambda: reporting(live, names), 90, "every screen reporting an offset")

    def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = httpx.get(live.url + "/metrics").text
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def all_counted() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        # A report sent during a switch carries no offset: scrape again.
        samples = scrape()
        counted = (
            samples[("simulcast_screens", (("state", "online"),))],
            samples[("simulcast_screen_offset_abs_ms_count", ())],
            samples[("simulcast_screen_offset_abs_ms_bucket", (("le", "100.0"),))],
        )
        return samples if counted == (len(names),) * 3 else None

    samples = poll(all_counted, 30, "every screen and its offset counted")
    workers = [labels for name, labels in samples if name == "simulcast_connections"]
    assert workers and all(dict(labels).get("worker") for labels in workers)
    assert samples[("simulcast_store_up", (("store", "sqlite"),))] == 1


def reloaded(page: Any) -> bool:
    try:
        return bool(page.evaluate("window.__before_reload === undefined"))
    except PlaywrightError:  # in the middle of reloading
        return False


def test_identify_and_reload_reach_only_their_screen(
    live: LiveServer, fleet: dict[str, Any]
) -> None:
    pages = fleet["pages"]
    poll(lambda: reporting(live, list(PAGES)), 60, "the pages reporting")
    ids = {name: s["id"] for name, s in by_name(live).items()}
    for page in pages.values():
        page.evaluate("window.__before_reload = true")
    httpx.post(f"{live.url}/screens/{ids['Bar']}/identify", headers=AUTH).raise_for_status()
    httpx.post(f"{live.url}/screens/{ids['Lobby left']}/reload", headers=AUTH).raise_for_status()
    banner = "document.getElementById('screen-identify')?.textContent ?? null"
    assert (
        poll(lambda: pages["Bar"].evaluate(banner), 8, "the name on the identified screen") == "Bar"
    )
    poll(
        lambda: reloaded(pages["Lobby left"]),
        8,
        "the reloaded page reloading",
    )
    assert pages["Skewed"].evaluate(banner) is None
    assert pages["Lobby left"].evaluate(banner) is None
    assert pages["Bar"].evaluate("window.__before_reload") is True
    assert pages["Skewed"].evaluate("window.__before_reload") is True
    # The reloaded page is the same screen, playing again.
    poll(lambda: reporting(live, ["Lobby left"]), 30, "the reloaded page reporting again")
    assert by_name(live)["Lobby left"]["id"] == ids["Lobby left"]
    # The banner goes away after 10 s.
    poll(lambda: pages["Bar"].evaluate(banner) is None, 12, "the name banner going away")


@pytest.mark.parametrize("size", SIZES)
def test_the_screens_tab_lists_them_with_offsets(
    live: LiveServer, fleet: dict[str, Any], browser: Any, size: str
) -> None:
    names = [*PAGES, *([KIOSK_NAME] if KIOSK else [])]
    poll(lambda: reporting(live, names), 90, "every screen reporting an offset")
    context = browser.new_context(**SIZES[size])
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        open_console(page, live.url, "screens", ADMIN)
        page.wait_for_selector("#panel-screens tbody tr[data-id]")
        # The tab redraws every 2 s; a screen between two videos shows no offset for a moment.
        shown = poll(
            lambda: offsets_shown(page, len(names)), 30, "every screen's offset in the tab"
        )
        assert set(shown) == set(names), shown
        assert axe_violations(page) == []
        assert sideways_overflow(page) == 0
        page.screenshot(path=str(live.log_path.with_suffix(f".screens-{size}.png")), full_page=True)
        if size != "desktop":
            return
        # From the keyboard: identify one screen, rename another.
        skewed = page.locator("#panel-screens tr", has_text="Skewed")
        skewed.locator('[data-action="identify"]').focus()
        # The table redraws every 2 s: the keyboard's place in it survives a redraw.
        page.evaluate("window.__before = document.activeElement")
        wait_until(page, "!window.__before.isConnected", 10)
        focused = "[document.activeElement.closest('tr')?.dataset.id,"
        focused += " document.activeElement.dataset.action]"
        assert page.evaluate(focused) == [by_name(live)["Skewed"]["id"], "identify"]
        page.keyboard.press("Enter")
        page.wait_for_selector("#screens-message.ok")
        assert "Skewed shows its name" in page.inner_text("#screens-message")
        banner = "document.getElementById('screen-identify')?.textContent ?? null"
        skewed_page = fleet["pages"]["Skewed"]
        assert poll(lambda: skewed_page.evaluate(banner), 8, "the name on the screen") == "Skewed"
        skewed.locator('[data-action="rename"]').focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "rename-input"
        page.keyboard.type("Skewed corner")
        page.keyboard.press("Enter")
        page.wait_for_selector("#panel-screens .screen-name:text('Skewed corner')")
        assert "Skewed corner" in by_name(live)
        assert errors == []
    finally:
        context.close()
        # Back to the name the other tests know it by.
        ids = {s["name"]: s["id"] for s in screens(live)}
        if "Skewed corner" in ids:
            url = f"{live.url}/screens/{ids['Skewed corner']}"
            httpx.patch(url, json={"name": "Skewed"}, headers=AUTH).raise_for_status()


ROWS = """[...document.querySelectorAll('#panel-screens tbody tr[data-id]')].map((row) => [
  row.querySelector('.screen-name').textContent, row.querySelector('.offset')?.textContent ?? null,
])"""


def offsets_shown(page: Any, count: int) -> dict[str, str] | None:
    rows = dict(page.evaluate(ROWS))
    every = len(rows) == count and all(text and text.endswith(" ms") for text in rows.values())
    return rows if every else None


def test_a_killed_page_is_offline_within_20_s(live: LiveServer, fleet: dict[str, Any]) -> None:
    poll(lambda: reporting(live, list(PAGES)), 60, "the pages reporting")
    fleet["doomed"].kill()  # no goodbye: the reports just stop
    killed = time.monotonic()
    poll(lambda: not by_name(live)["Bar"]["online"], 20, "the killed page offline")
    assert time.monotonic() - killed <= 20
    listed = by_name(live)
    assert listed["Bar"]["status"] == "offline"
    assert listed["Skewed"]["online"] and listed["Lobby left"]["online"]
    assert screens(live)[0]["name"] == "Bar"  # worst first
