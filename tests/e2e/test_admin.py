"""The operator console in real Chromium: sign in, run the channel, at phone and desktop sizes,
with axe-core and from the keyboard alone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..devtools import DevToolsPage
from ..kiosk_process import KioskProcess, source_command
from ..live import LiveServer, free_port
from ..mediafiles import make_webm
from .pagecheck import axe_violations, sideways_overflow

TOKEN = "console-secret"
PASSCODE = "lobby-2026"
SIZES = {"phone": (390, 844), "desktop": (1920, 1080)}


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, long_channel: Callable[[Path, int], Path]
) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("admin-e2e")
    env = {
        "STATIC_DIR": str(long_channel(workdir / "samples", 3)),
        "ADMIN_TOKEN": TOKEN,
        "UPLOAD_ACCESS": "token",
        "UPLOAD_TOKEN": PASSCODE,
        "UPLOAD_APPROVAL": "on",
    }
    with LiveServer(workdir, env) as server:
        yield server


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []
    errors: list[str] = []

    def open_page(url: str, size: str = "desktop") -> Any:
        width, height = SIZES[size]
        # wait_for_function evaluates with eval, which the pages' CSP forbids
        # (tests/test_security.py checks the pages under their policy).
        context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], errors


def sign_in(page: Any) -> None:
    page.fill("#token", TOKEN)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#playlist li", state="attached")


@pytest.mark.parametrize("size", SIZES)
def test_sign_in_and_every_tab_pass_axe_without_sideways_overflow(
    live: LiveServer, open_page: Callable[..., Any], size: str
) -> None:
    page = open_page(live.url + "/admin", size)
    page.wait_for_selector("#sign-in-form")
    assert axe_violations(page) == []
    page.fill("#token", "wrong")
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#sign-in-message.error")
    assert "Wrong token" in page.inner_text("#sign-in-message")
    sign_in(page)
    titles = page.locator("#playlist .title").all_inner_texts()
    assert titles == ["Video 1", "Video 2", "Video 3"]
    for tab in page.locator('[role="tab"]').all():
        tab.click()
        panel = page.locator("#" + tab.get_attribute("aria-controls"))
        assert panel.is_visible()
        assert axe_violations(page) == [], tab.inner_text()
        assert sideways_overflow(page) == 0, tab.inner_text()
    assert page.locator("#audit tr").count() >= 1  # this sign-in, at least
    page.screenshot(path=str(Path(live.log_path).with_suffix(f".{size}.png")), full_page=True)


def test_the_console_works_from_the_keyboard(
    live: LiveServer, open_page: Callable[..., Any]
) -> None:
    page = open_page(live.url + "/admin")
    page.wait_for_selector("#sign-in-form")
    page.keyboard.press("Tab")  # the brand link, then the page links ...
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "token":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_selector("#playlist li")
    page.focus("#tab-playlist")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-moderation"
    assert page.is_visible("#panel-moderation") and not page.is_visible("#panel-playlist")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tab-audit"
    page.keyboard.press("Home")
    assert page.is_visible("#panel-playlist")


def test_signing_out_ends_the_session(live: LiveServer, open_page: Callable[..., Any]) -> None:
    page = open_page(live.url + "/admin")
    sign_in(page)
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["simulcast_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    page.click("#sign-out")
    page.wait_for_selector("#sign-in-form")
    assert "simulcast_session" not in {c["name"] for c in page.context.cookies()}
    page.reload()
    page.wait_for_selector("#sign-in-form")
    assert not page.is_visible("#console")
    assert httpx.get(live.url + "/admin/audit").status_code == 401


def titles(page: Any) -> list[str]:
    return page.locator("#playlist .title").all_inner_texts()


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


def test_drag_to_reorder_reaches_a_viewer_and_the_keyboard_can_do_it_too(
    live: LiveServer, open_page: Callable[..., Any]
) -> None:
    viewer = open_page(live.url + "/")
    viewer.wait_for_function("document.getElementById('next').textContent === 'Video 2'")
    playing = viewer.inner_text("#title")
    admin = open_page(live.url + "/admin")
    sign_in(admin)
    assert titles(admin) == ["Video 1", "Video 2", "Video 3"]
    admin.drag_and_drop("#playlist li:nth-child(3)", "#playlist li:nth-child(2)")
    admin.wait_for_function("document.getElementById('message').textContent.includes('Moved')")
    assert titles(admin) == ["Video 1", "Video 3", "Video 2"]
    assert "position 2" in admin.inner_text("#message")
    # Every screen learns the new order at once; the video playing stays.
    viewer.wait_for_function("document.getElementById('next').textContent === 'Video 3'")
    assert viewer.inner_text("#title") == playing
    # From the keyboard: the Up button of Video 2 (third) moves it back, focus stays with it.
    admin.focus('#playlist li:nth-child(3) [data-action="up"]')
    admin.keyboard.press("Enter")
    admin.wait_for_function(
        "[...document.querySelectorAll('#playlist .title')].map(t => t.textContent).join()"
        " === 'Video 1,Video 2,Video 3'"
    )
    focused = admin.evaluate(
        "document.activeElement.closest('li').querySelector('.title').textContent"
    )
    assert focused == "Video 2"
    viewer.wait_for_function("document.getElementById('next').textContent === 'Video 2'")
    # Rename in place: the viewer's "Up next" follows.
    admin.click('#playlist li:nth-child(2) [data-action="rename"]')
    admin.fill("#playlist form.rename input", "Lobby loop")
    admin.keyboard.press("Enter")
    viewer.wait_for_function("document.getElementById('next').textContent === 'Lobby loop'")
    assert wait_for(lambda: titles(admin) == ["Video 1", "Lobby loop", "Video 3"])
    audit = httpx.get(live.url + "/admin/audit", headers={"Authorization": f"Bearer {TOKEN}"})
    actions = [e["action"] for e in audit.json()["entries"][:3]]
    assert actions == ["update", "reorder", "reorder"]


def test_an_upload_waits_for_approval_then_joins(
    live: LiveServer, open_page: Callable[..., Any], tmp_path: Path
) -> None:
    clip = make_webm(tmp_path / "Visitor clip.webm", seconds=2.0)
    uploader = open_page(live.url + "/upload", "phone")
    uploader.wait_for_selector("#passcode-form")
    assert not uploader.is_visible("#form")
    uploader.fill("#passcode", "guess")
    uploader.click("#passcode-form button")
    uploader.wait_for_function("document.getElementById('passcode-message').textContent")
    uploader.fill("#passcode", PASSCODE)
    uploader.click("#passcode-form button")
    uploader.wait_for_selector("#form")
    uploader.reload()  # asked once: this browser remembers it
    uploader.wait_for_selector("#form")
    assert not uploader.is_visible("#passcode-form")
    uploader.set_input_files("#file", str(clip))
    uploader.click("#send")
    uploader.wait_for_selector("#result.ok")
    assert "waiting for approval" in uploader.inner_text("#result")
    assert axe_violations(uploader) == []  # (its width at 390 px is issue 18's: the list table)

    admin = open_page(live.url + "/admin#moderation")
    sign_in(admin)
    assert admin.is_visible("#panel-moderation")
    admin.wait_for_selector("#waiting li")
    assert admin.inner_text("#waiting-count") == "(1)"
    assert admin.locator("#waiting .title").all_inner_texts() == ["Visitor clip"]
    assert "Visitor clip" not in titles(admin)
    admin.click("#waiting li button[data-action=approve]")
    admin.wait_for_selector("#waiting-empty", state="visible")
    assert wait_for(lambda: "Visitor clip" in titles(admin))
    assert axe_violations(admin) == []


def test_a_banner_shows_on_a_second_page_on_ambient_and_in_the_kiosk(
    live: LiveServer, open_page: Callable[..., Any]
) -> None:
    port = free_port()
    kiosk = KioskProcess(
        source_command(),
        "--server",
        live.url,
        env={"QTWEBENGINE_REMOTE_DEBUGGING": str(port), "QTWEBENGINE_DISABLE_SANDBOX": "1"},
    )
    try:
        kiosk.wait_for_line("playing video", timeout=90)
        screen = DevToolsPage(port, "/ambient")
        viewer = open_page(live.url + "/", "phone")
        ambient = open_page(live.url + "/ambient")
        admin = open_page(live.url + "/admin#live")
        sign_in(admin)
        admin.fill("#banner-text", "Fire drill at 3 pm: please leave by the east stairs")
        admin.click("#banner-form button[type=submit]")
        for page in (viewer, ambient, admin):
            page.wait_for_selector("#banner p:text('Fire drill at 3 pm')")
        shown = "document.getElementById('banner')?.hidden === false && banner.textContent"
        assert "Fire drill" in wait_for(lambda: screen.evaluate(shown) or "")
        assert axe_violations(viewer) == []
        admin.click("#banner-clear")
        for page in (viewer, ambient):
            page.wait_for_selector("#banner", state="hidden")
        wait_for(lambda: screen.evaluate("document.getElementById('banner').hidden"))
        screen.close()
    finally:
        kiosk.stop()


def test_a_cross_site_page_cannot_use_the_session(
    live: LiveServer, open_page: Callable[..., Any]
) -> None:
    """The session cookie is SameSite=Strict: a form another site submits to an admin call
    arrives without it, and is refused like any anonymous call."""
    admin = open_page(live.url + "/admin")
    sign_in(admin)
    before = httpx.get(live.url + "/admin/audit", headers={"Authorization": f"Bearer {TOKEN}"})
    elsewhere = admin.context.new_page()  # same browser, same cookies
    elsewhere.goto(live.url.replace("127.0.0.1", "localhost") + "/upload")  # another site
    elsewhere.evaluate(
        """(target) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = target + "/skip";
            document.body.append(form);
            form.submit();
        }""",
        live.url,
    )
    elsewhere.wait_for_url(live.url + "/skip")
    # Refused twice over: the cross-site check (server/security.py) and the missing cookie.
    assert "Cross-site request refused" in elsewhere.content()
    # The same call from the console's own origin works: the cookie was there all along.
    assert admin.evaluate("fetch('/admin/audit').then(r => r.status)") == 200
    after = httpx.get(live.url + "/admin/audit", headers={"Authorization": f"Bearer {TOKEN}"})
    assert after.json()["entries"][0] == before.json()["entries"][0]
