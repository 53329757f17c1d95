"""The last good state on disk: written at every change the server announces, read at start."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from kiosk.cache import write_atomically
from kiosk.channel import Saved

log = logging.getLogger("kiosk")

STATE_FILE = "state.json"


def load_saved(folder: Path, server: str) -> Saved | None:
    """The saved state for `server`; None if there is none, or it belongs to another server
    (the kiosk was pointed elsewhere: that channel's schedule is not this one's)."""
    path = folder / STATE_FILE
    try:
        saved = Saved.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the saved state %s: %s", path, exc)
        return None
    return saved if saved.server == server else None


def save(folder: Path, saved: Saved) -> None:
    write_atomically(folder / STATE_FILE, json.dumps(saved.to_json()))
