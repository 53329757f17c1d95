"""Environment Qt and QtWebEngine read at import time, so it is set before anything imports Qt."""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

AUTOPLAY_FLAG = "--autoplay-policy=no-user-gesture-required"


def prepare_environment(check: bool, env: MutableMapping[str, str] = os.environ) -> str | None:
    """Set up the Qt environment; return a message for the operator if the kiosk cannot start."""
    # qtpy picks PyQt before PySide when both are installed; the kiosk ships the LGPL binding.
    env.setdefault("QT_API", "pyside6")
    env.setdefault("PYWEBVIEW_GUI", "qt")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium's sandbox refuses to run as root (typical on a bare display box or in CI).
        env.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    flags = env.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if AUTOPLAY_FLAG not in flags:
        env["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} {AUTOPLAY_FLAG}".strip()
    if sys.platform.startswith("linux") and not _has_display(env):
        if check:
            # A health check over SSH has no screen; what it checks does not need one.
            env["QT_QPA_PLATFORM"] = "offscreen"
        else:
            return (
                "no display: DISPLAY and WAYLAND_DISPLAY are unset. Start the kiosk inside the "
                "graphical session (see docs/kiosk.md: autostart), or set QT_QPA_PLATFORM "
                "(e.g. eglfs on a machine without X or Wayland)."
            )
    return None


def _has_display(env: MutableMapping[str, str]) -> bool:
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
