"""The bundled "waiting for server" screen shown while the server cannot be reached."""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path


def _assets_dir() -> Path:
    # In a PyInstaller build the data files are unpacked under sys._MEIPASS, not beside this
    # module's (absent) source file.
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) / "kiosk" / "assets" if bundle else Path(__file__).parent / "assets"


def waiting_page(server: str) -> str:
    template = (_assets_dir() / "waiting.html").read_text(encoding="utf-8")
    return template.replace("{{SERVER}}", html.escape(server))


def waiting_update_script(attempt: int, retry_in: float) -> str:
    return (
        "window.simulcastWaiting && window.simulcastWaiting("
        f"{json.dumps(attempt)}, {json.dumps(round(max(retry_in, 0.0), 1))})"
    )
