"""Keep a wall display from blanking, where the platform lets a program ask."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess

log = logging.getLogger("kiosk")


def disable_blanking() -> None:
    """Best effort: on X11 turn off the screen saver and DPMS; elsewhere say what to do."""
    xset = shutil.which("xset")
    if os.environ.get("DISPLAY") and xset:
        try:
            for args in (["s", "off"], ["s", "noblank"], ["-dpms"]):
                subprocess.run([xset, *args], check=True, timeout=5, capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("could not disable screen blanking with xset: %s", exc)
        else:
            log.info("screen saver and DPMS disabled (xset)")
        return
    log.info("screen blanking left to the system settings (no X11 xset); see docs/kiosk.md")
