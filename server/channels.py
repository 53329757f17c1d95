"""Every channel this server plays: the default one, at the site's own URLs, and the channels
admins create, at /c/<slug>/. Each has its own store (SQLite file or Redis keys), clock anchor,
schedule, votes, viewers, event stream and conversion queue; a video file can be in several of
them without being stored twice.

The list of channels lives in the default channel's store, so every worker and machine serves
the same ones: each process checks it every second and starts or stops its copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .catalog import Video
from .channel import Channel, ChannelError, found_or_reread
from .channel_loops import ChannelLoops
from .ingest import Ingest
from .storage import StorageError
from .store import DEFAULT_CHANNEL, ChannelInfo, Store
from .transcode.jobs import Transcoder

log = logging.getLogger(__name__)

DEFAULT = DEFAULT_CHANNEL  # the default channel's name in GET /channels (its pages stay at /)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_TITLE = 80
FOLLOW_INTERVAL = 1.0  # seconds between looks at the list of channels (another worker's change)


@dataclass
class Running:
    """One channel's parts in this process."""

    info: ChannelInfo
    channel: Channel
    transcoder: Transcoder
    ingest: Ingest
    loops: ChannelLoops

    @property
    def slug(self) -> str:
        return self.info.slug

    @property
    def default(self) -> bool:
        return self.channel.slug is None

    async def stop(self) -> None:
        await self.transcoder.stop()
        await self.loops.stop()
        await self.channel.broker.close()

    async def retire(self) -> None:
        """The channel was deleted: stop it here, and end its viewers' streams (with nchan,
        every worker that learns of it deletes the nchan channel after its own last publish,
        so none is left with a stale first event)."""
        await self.stop()
        await self.channel.broker.end()


# Builds a channel's parts (store, fan-out, channel, conversions): app.py knows how.
Opener = Callable[[ChannelInfo], Awaitable[Running]]


def conversions_dir(data_dir: Path, slug: str | None) -> Path:
    """Where a channel's conversion queue keeps its work files and lock (the default channel's
    is DATA_DIR/transcode, as it always was)."""
    base = data_dir / "transcode"
    return base if slug is None else base / "channels" / slug


def check_slug(slug: object) -> str:
    if not isinstance(slug, str) or not SLUG.match(slug) or slug == DEFAULT:
        raise ChannelError(
            "slug: lower-case letters, digits and -, 1 to 40, starting with a letter or digit "
            f"(not {DEFAULT!r}, the default channel's name)"
        )
    return slug


def check_title(title: object) -> str:
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > MAX_TITLE:
        raise ChannelError(f"title: 1 to {MAX_TITLE} characters")
    return title.strip()


class Channels:
    def __init__(self, default: Running, registry: Store, opener: Opener) -> None:
        self.default = default
        self._registry = registry  # the default channel's store keeps the list
        self._opener = opener
        self._others: dict[str, Running] = {}
        self._lock = asyncio.Lock()  # one start or stop at a time in this process
        self._task: asyncio.Task[None] | None = None

    def __iter__(self) -> Iterator[Running]:
        yield self.default
        yield from self._others.values()

    def get(self, slug: str | None) -> Running | None:
        if slug is None or slug == DEFAULT:
            return self.default
        return self._others.get(slug)

    async def lookup(self, slug: str) -> Running | None:
        """`get`, reading the list again on a miss: another worker may have created the
        channel a moment ago, before this one's next look at the list (FOLLOW_INTERVAL)."""
        if not SLUG.match(slug):
            return None  # no such channel can exist: no read
        return await found_or_reread(lambda: self.get(slug), self.sync)

    def find_video(self, video_id: str) -> Video | None:
        """A video of any channel (media URLs name the video, not the channel)."""
        for running in self:
            if (video := running.channel.find(video_id)) is not None:
                return video
        return None

    def holders(self, video: Video, besides: Channel) -> bool:
        """Whether a channel other than `besides` plays the same file."""
        return any(
            v.storage == video.storage and v.key == video.key and not v.gone
            for running in self
            if running.channel is not besides
            for v in running.channel.videos
        )

    def keys_elsewhere(self, storage: str, besides: Channel) -> set[str]:
        """The keys of a storage that channels other than `besides` hold."""
        return {
            v.key
            for running in self
            if running.channel is not besides
            for v in running.channel.videos
            if v.storage == storage
        }

    # -- the list ------------------------------------------------------------------------------

    async def sync(self) -> None:
        """Start the channels the store lists and this process does not run; stop the gone.
        The list is read under the lock: a read older than another sync's must not undo it."""
        async with self._lock:
            listed = {info.slug: info for info in await self._registry.channels()}
            for slug, info in listed.items():
                if slug not in self._others:
                    self._others[slug] = await self._opener(info)
                elif self._others[slug].info != info:
                    self._others[slug].info = info  # renamed
            for slug in [s for s in self._others if s not in listed]:
                await self._others.pop(slug).retire()

    async def start(self) -> None:
        await self.sync()
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for running in list(self._others.values()):
            await running.stop()
            await running.channel.store.close()
        self._others.clear()

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(FOLLOW_INTERVAL)
            try:
                await self.sync()
            except Exception as error:
                log.warning("following the list of channels failed (%s)", error)

    # -- changes (admins) ----------------------------------------------------------------------

    async def create(self, slug: object, title: object) -> Running:
        info = ChannelInfo(check_slug(slug), check_title(title), time.time())
        if not await self._registry.add_channel(info):
            raise ChannelError(f"slug: a channel {info.slug!r} exists already")
        await self.sync()
        running = self.get(info.slug)
        assert running is not None, "a channel just listed is started by sync"
        return running

    async def rename(self, slug: str, title: object) -> Running:
        running = await self.lookup(slug)
        if running is None:
            raise LookupError(slug)
        if running.default:
            raise ChannelError("The default channel's title is the site's; it is not renamed.")
        await self._registry.rename_channel(slug, check_title(title))
        await self.sync()
        return running

    async def delete(self, slug: str) -> None:
        """The channel, its state and the files only it held. Its pages answer 404 from now."""
        running = await self.lookup(slug)
        if running is None:
            raise LookupError(slug)
        if running.default:
            raise ChannelError("The default channel cannot be deleted.")
        await self._registry.remove_channel(slug)
        async with self._lock:
            self._others.pop(slug, None)
            await running.retire()
        for video in running.channel.videos:
            if self.holders(video, running.channel):
                continue
            with contextlib.suppress(StorageError):
                await running.ingest.storages.delete(video.storage, video.key)
            await running.transcoder.forget(video)
        await running.channel.store.drop()


def listing(running: Running, default_title: str = "Main channel") -> dict[str, object]:
    """A channel as GET /channels lists it."""
    prefix = "" if running.default else f"/c/{running.slug}"
    return {
        "slug": DEFAULT if running.default else running.slug,
        "title": default_title if running.default else running.info.title,
        "default": running.default,
        "path": f"{prefix}/",
        "videos": len(running.channel.playlist),
        "slots": len(running.channel.schedule.slots),
        "viewers": running.channel.viewers,
    }

