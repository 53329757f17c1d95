"""Everything behind the kiosk's page: the cache, the channel followed from the server, the
background downloads and the local server the page is loaded from."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial

from kiosk.cache import MediaCache
from kiosk.channel import LocalChannel
from kiosk.config import KioskConfig, default_cache_dir
from kiosk.laststate import load_saved, save
from kiosk.moves import Mover
from kiosk.origin import Origin
from kiosk.pages import PageFiles
from kiosk.prefetch import Prefetcher
from kiosk.upstream import Upstream


@dataclass
class Local:
    channel: LocalChannel
    cache: MediaCache
    origin: Origin


def start_local(config: KioskConfig, stop: threading.Event, *, read_only: bool = False) -> Local:
    """Start the local side. `read_only` (for --check, which may run beside a running kiosk on
    the same folder) plays from the cache and the saved state but neither downloads nor saves."""
    folder = config.cache_dir or default_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)

    def follow(base: str) -> None:
        channel.retarget(base)
        upstream.move()

    # The channel the console last gave this screen, else its own.
    mover = Mover(config.root, config.channel, folder, follow, keep=not read_only)
    channel = LocalChannel(mover.base, load_saved(folder, mover.base))
    cache = MediaCache(folder / "media", config.cache_size)
    upstream = Upstream(channel, stop, None if read_only else partial(save, folder))
    origin = Origin(channel, cache, PageFiles(folder / "pages"), told=mover.told).start()
    threading.Thread(target=upstream.run, name="upstream", daemon=True).start()
    if not read_only:
        rate = config.cache_bandwidth * 1e6 / 8 if config.cache_bandwidth > 0 else None
        prefetcher = Prefetcher(channel, cache, stop, rate)
        threading.Thread(target=prefetcher.run, name="prefetch", daemon=True).start()
    return Local(channel, cache, origin)
