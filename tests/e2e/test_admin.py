"""The operator console in real Chromium: sign in, run the channel, at phone and desktop sizes,
with axe-core and from the keyboard alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..live import LiveServer
from .pagecheck import axe_violations, sideways_overflow

TOKEN = "console-secret"
SIZES = {"phone": (390, 844), "desktop": (1920, 1080)}


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, long_channel: Callable[[Path, int], Path]
) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("admin-e2e")
    env = {"STATIC_DIR": str(long_channel(workdir / "samples", 3)), "ADMIN_TOKEN": TOKEN}
    with LiveServer(workdir, env) as server:
        yield server


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []
    errors: list[str] = []

    def open_page(url: str, size: str = "desktop") -> Any:
        width, height = SIZES[size]
        context = browser.new_context(viewport={"width": width, "height": height})
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
    page.wait_for_selector("#playlist li")


@pytest.mark.parametrize("size", SIZES)
def test_sign_in_and_every_tab_pass_axe_without_sideways_scroll(
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
