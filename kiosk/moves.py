"""Which channel the kiosk shows: its own (--channel, else the server's default channel) until
the console moves its screen to another one, as browser pages follow such a move.

The console's word comes back in the answer to each of the page's screen reports, which pass
through the kiosk's local server; the kiosk then follows the new channel's stream, caches its
videos and keeps its schedule. The move is kept on disk beside the last known state, so a kiosk
restarted while the server is away still shows the channel the console gave it. While the
server knows the move, the console wins over --channel: a screen moved in the console stays
there until the console moves it again ("its own channel" brings back --channel).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.cache import write_atomically

log = logging.getLogger("kiosk")

MOVE_FILE = "channel.json"
DEFAULT = "main"  # the default channel's name in the server's GET /channels


def channel_base(root: str, slug: str | None) -> str:
    """Where a channel's pages and endpoints are: the server's own addresses for the default
    channel, /c/<slug> under them for another."""
    return root if not slug or slug == DEFAULT else f"{root}/c/{slug}"


def remembered(folder: Path, root: str) -> str | None:
    """The channel the console last moved this kiosk to on the server at `root`; None if it
    never did (or moved it back), or did so on another server."""
    try:
        kept = json.loads((folder / MOVE_FILE).read_text(encoding="utf-8"))
        channel = kept["channel"] if kept["server"] == root else None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the kept channel move %s: %s", folder / MOVE_FILE, exc)
        return None
    return channel if isinstance(channel, str) and channel else None


def remember(folder: Path, root: str, channel: str | None) -> None:
    write_atomically(folder / MOVE_FILE, json.dumps({"server": root, "channel": channel}))


class Mover:
    """Takes the console's word on this screen's channel from each report's answer and, when it
    names another channel than the one shown, moves the kiosk there (`follow(base)`)."""

    def __init__(self, root: str, own: str, folder: Path, follow: Callable[[str], None],
                 *, keep: bool = True) -> None:
        self.root, self.own, self.folder, self.keep = root, own, folder, keep  # keep: not --check
        self._follow = follow
        self._lock = threading.Lock()
        self.moved = remembered(folder, root)
        self.base = channel_base(root, self.moved or own)
        if self.moved:
            log.info("showing channel %r, where the console moved this screen (until it moves "
                     "it again; --channel names its own)", self.moved)

    def told(self, answer: dict[str, Any]) -> None:
        """A report's answer: "channel" is the channel the console moved the screen to, null
        for its own; absent (a server older than channels) changes nothing."""
        if "channel" not in answer:
            return
        moved = answer["channel"] if isinstance(answer["channel"], str) else None
        with self._lock:
            if moved == self.moved:
                return
            self.moved = moved
            if self.keep:
                try:
                    remember(self.folder, self.root, moved)
                except OSError as exc:
                    log.warning("could not keep the channel move: %s", exc)
            base = channel_base(self.root, moved or self.own)
            if base == self.base:
                return
            self.base = base
        log.info("the console moved this screen to %s: following %s",
                 f"channel {moved!r}" if moved else "its own channel", base)
        self._follow(base)
