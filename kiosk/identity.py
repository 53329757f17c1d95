"""This kiosk as a screen of the server's fleet: a stable id kept in the user's config folder,
and a name (--name, else the computer's name), both passed to the page it shows."""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path

from kiosk.config import KioskConfig, user_config_dir
from kiosk.urls import ambient_url

log = logging.getLogger("kiosk")

ID_FILE = "screen-id"
_VALID = re.compile(r"^[0-9a-f]{32}$")


def screen_id(folder: Path) -> str:
    """The id kept in `folder`, made on first use. A folder that cannot be written costs only
    stability: the kiosk then shows up as a new screen at each start."""
    path = folder / ID_FILE
    try:
        kept = path.read_text(encoding="ascii").strip()
        if _VALID.match(kept):
            return kept
    except (OSError, UnicodeDecodeError):
        pass
    made = uuid.uuid4().hex
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(made + "\n", encoding="ascii")
    except OSError as error:
        log.warning("cannot keep the screen id in %s (%s); it changes at each start", path, error)
    return made


def screen_identity(
    config: KioskConfig, env: Mapping[str, str] = os.environ, base: str | None = None
) -> str:
    """The page URL that makes the kiosk's page report as this screen; `base` is where the page
    comes from (the kiosk's local server), the server itself by default."""
    folder = user_config_dir(env) / "simulcast"
    name = config.name or socket.gethostname()
    return ambient_url(base or config.server, screen_id(folder), name, config.wall, config.tile)
