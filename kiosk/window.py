"""The pywebview window, made into a kiosk screen, and the thread-safe handle the runner drives."""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import webview
from qtpy.QtCore import QUrl

from kiosk import native
from kiosk.config import KioskConfig
from kiosk.status import STATUS_SCRIPT, offline_dot_script
from kiosk.waiting import waiting_page, waiting_update_script

log = logging.getLogger("kiosk")

BLANK_PAGE = "<!doctype html><html><body style='background:#000'></body></html>"
JS_TIMEOUT_S = 2.0


class KioskWindow:
    """Owns one pywebview window; its methods may be called from any thread."""

    def __init__(self, config: KioskConfig) -> None:
        self.config = config
        self.ready = threading.Event()
        self._gui: native.GuiCaller | None = None
        self._quit_keys: native.QuitKeys | None = None
        self.window = webview.create_window(
            "Simulcast",
            html=BLANK_PAGE,
            width=1280,
            height=720,
            background_color="#000000",
            frameless=not config.windowed,
            easy_drag=False,
        )
        self.window.events.before_show += self._before_show
        self.window.events.shown += self._shown

    # --- GUI thread -------------------------------------------------------------------------
    def _before_show(self, window: Any) -> None:
        # pywebview runs before_show handlers synchronously on the GUI thread, the one place
        # to create Qt objects that must live there.
        browser_view = window.native
        self._gui = native.GuiCaller()
        native.prepare_page(browser_view.webview)
        self._quit_keys = native.QuitKeys(browser_view, self.quit)
        if not self.config.windowed:
            native.hide_cursor()
            native.fill_screen(browser_view, self.config.screen)

    def _shown(self) -> None:
        if not self.config.windowed:
            # Some window managers place a new window themselves; claim the screen again.
            self._call(lambda: native.fill_screen(self.window.native, self.config.screen))
        self.ready.set()

    # --- any thread -------------------------------------------------------------------------
    def _call(self, fn: Any) -> None:
        if self._gui is not None:
            self._gui.submit(fn)

    def _view(self) -> Any:
        return self.window.native.webview

    def load(self, url: str) -> None:
        self._call(lambda: self._view().setUrl(QUrl(url)))

    def show_waiting(self, server: str) -> None:
        page = waiting_page(server)
        self._call(lambda: self._view().setHtml(page, QUrl("about:blank")))

    def update_waiting(self, attempt: int, retry_in: float) -> None:
        script = waiting_update_script(attempt, retry_in)
        self._call(lambda: self._view().page().runJavaScript(script, 0))

    def show_offline(self, offline: bool) -> None:
        script = offline_dot_script(offline)
        self._call(lambda: self._view().page().runJavaScript(script, 0))

    def page_status(self) -> Any:
        """The page's simulcastStatus() as a dict, or None when it has none or does not answer
        in time (navigating, hung renderer)."""
        answer: Future[Any] = Future()

        def ask() -> None:
            self._view().page().runJavaScript(STATUS_SCRIPT, 0, answer.set_result)

        self._call(ask)
        try:
            text = answer.result(timeout=JS_TIMEOUT_S)
        except FutureTimeout:
            return None
        if not isinstance(text, str):
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    def quit(self) -> None:
        log.info("quit requested")
        self.window.destroy()
