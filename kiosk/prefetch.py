"""Downloads the channel's videos and posters into the cache in the background, in the order
they will play, one at a time and under the bandwidth cap."""

from __future__ import annotations

import logging
import threading

from kiosk.cache import MediaCache
from kiosk.channel import LocalChannel
from kiosk.download import DownloadError, Interrupted, download, probe_remote
from kiosk.plan import media_urls

log = logging.getLogger("kiosk")

RECHECK_S = 30.0  # look at the playlist again this often even when nothing announced a change
RETRY_S = 5.0


class Prefetcher:
    def __init__(self, channel: LocalChannel, cache: MediaCache, stop: threading.Event,
                 bytes_per_s: float | None = None) -> None:
        self.channel = channel
        self.cache = cache
        self.stop = stop
        self.bytes_per_s = bytes_per_s
        self.checked: set[str] = set()  # cached files found unchanged on the server this run
        self._full: set[str] = set()  # files that do not fit, said once each

    def run(self) -> None:
        self.cache.enforce_limit()
        while not self.stop.is_set():
            seen = self.channel.seq
            try:
                failed = self.pass_once()
            except Interrupted:
                return
            self.channel.wait(seen, RETRY_S if failed else RECHECK_S)

    def pass_once(self) -> bool:
        """Bring every wanted file into the cache; True if some failed (retry soon)."""
        plan, now = self.channel.plan, self.channel.server_now()
        if plan is None or now is None:
            return False
        wanted = media_urls(plan, now)
        failed = False
        for url in wanted:
            if self.stop.is_set():
                raise Interrupted
            if not self.channel.online:
                return True
            if url in self.checked:
                continue
            try:
                self._fetch(url, wanted)
            except DownloadError as exc:
                log.warning("cache: %s", exc)
                failed = True
        return failed

    def _fetch(self, url: str, wanted: list[str]) -> None:
        source = self.channel.server + url
        remote = probe_remote(source)
        entry = self.cache.get(url)
        if entry is not None:
            if (entry.size, entry.etag) == (remote.size, remote.etag):
                self.checked.add(url)
                return
            log.info("cache: %s changed on the server; fetching it again", url)
            self.cache.remove(url)
        if not self.cache.make_room(remote.size, keep=set(wanted) - {url}):
            if url not in self._full:
                self._full.add(url)
                log.warning("cache: %s (%d bytes) does not fit in the %d-byte cache; it will "
                            "play from the server", url, remote.size, self.cache.limit)
            return
        download(source, self.cache, url, bytes_per_s=self.bytes_per_s, stop=self.stop)
        self.checked.add(url)
        log.info("cache: stored %s (%d bytes; %d files, %d bytes in the cache)", url,
                 remote.size, len(self.cache.urls()), self.cache.total)
