"""Qt-level kiosk behaviour pywebview does not offer. Everything here runs on the GUI thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtGui import QColor, QCursor, QKeySequence, QShortcut
from qtpy.QtWebEngineCore import QWebEngineSettings
from qtpy.QtWidgets import QApplication, QWidget

log = logging.getLogger("kiosk")

ESC_HOLD_S = 1.5
ESC_REPEAT_GAP_S = 0.7


class GuiCaller(QObject):
    """Runs callables on the thread that created it (the GUI thread): Qt objects must not be
    touched from the kiosk's worker thread, and a queued signal is the portable way across."""

    _requested = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._requested.connect(self._run)

    def submit(self, fn: Callable[[], Any]) -> None:
        self._requested.emit(fn)

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception:
            log.exception("GUI call failed")


def prepare_page(view: Any) -> None:
    page = view.page()
    # Reading the attribute back says False while unmuted autoplay is still blocked, so it is set
    # explicitly on both the page and its profile.
    for settings in (page.settings(), page.profile().settings()):
        settings.setAttribute(QWebEngineSettings.WebAttribute.PlaybackRequiresUserGesture, False)
        settings.setAttribute(QWebEngineSettings.WebAttribute.ShowScrollBars, False)
        # Chromium's "site can't be reached" page would flash up on a wall display; the
        # kiosk shows its own waiting screen instead.
        settings.setAttribute(QWebEngineSettings.WebAttribute.ErrorPageEnabled, False)
    page.setBackgroundColor(QColor(Qt.GlobalColor.black))


def hide_cursor() -> None:
    # CSS cursor:none is not enough in Qt; an application override cursor is.
    QApplication.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))


def fill_screen(window: Any, index: int) -> None:
    """Cover screen `index` without relying on a window manager: with none, a fullscreen
    request does nothing, so the geometry is set to the screen's as well."""
    screens = QApplication.screens()
    if index >= len(screens):
        log.warning("screen %d requested but only %d screen(s) found: using the first",
                    index, len(screens))
        index = 0
    geometry = screens[index].geometry()
    window.setGeometry(geometry)
    window.setWindowState(Qt.WindowState.WindowFullScreen)
    log.debug("window geometry %s on screen %d (%s)", window.geometry().getRect(), index,
              screens[index].name())


class QuitKeys(QObject):
    """Ctrl+Q, or Esc held down, quits: a stray single key press on a wall display must not.

    Shortcuts rather than an application event filter: a Python event filter on the
    QApplication crashes PySide6 6.12 once QtWebEngine runs.
    """

    def __init__(self, window: QWidget, quit: Callable[[], None]) -> None:
        super().__init__(window)
        self._quit = quit
        self._esc_first: float | None = None
        self._esc_last = 0.0
        context = Qt.ShortcutContext.ApplicationShortcut
        self._ctrl_q = QShortcut(QKeySequence("Ctrl+Q"), window, context=context)
        self._ctrl_q.activated.connect(self._quit)
        # A held key repeats, firing the shortcut again and again; a chain of activations
        # without a pause longer than the keyboard's repeat delay is one long press.
        self._esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), window, context=context)
        self._esc.setAutoRepeat(True)
        self._esc.activated.connect(self._on_escape)

    def _on_escape(self) -> None:
        now = time.monotonic()
        if self._esc_first is None or now - self._esc_last > ESC_REPEAT_GAP_S:
            self._esc_first = now
        self._esc_last = now
        if now - self._esc_first >= ESC_HOLD_S:
            self._esc_first = None
            self._quit()
