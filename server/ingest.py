"""Videos entering and leaving the catalog with their files.

`Ingest.add` is the one way new bytes become a video, whoever brings them (the upload route
today, an admin import tomorrow): probe, queue a conversion when not every screen can play it,
make a poster, store it (with fallback), record it in the catalog. A failure at any step undoes
the steps before it, so nothing is left half added. `adopt` records a file a storage already
holds (a listing found it); `remove` takes a video out with its files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .captions import CaptionsError, extract_quietly, to_webvtt, with_captions
from .catalog import Status, Video, VideoMeta
from .channel import Channel
from .config import Settings
from .formats import stored_as
from .posters import discard_poster, make_poster
from .probe import Limits, ProbeError, is_universally_playable, probe
from .receive import MAX_TITLE
from .storage import Storage, StorageError, Storages, StoredFile
from .transcode.jobs import Transcoder

log = logging.getLogger(__name__)


class IngestError(Exception):
    """The video was not added; the message is meant for the person who brought it."""


class NotPlayableError(IngestError):
    """The file is no video this server can play."""


class BadCaptionsError(IngestError):
    """The captions sent with the video are no WebVTT or SubRip we can use."""


class BusyError(IngestError):
    """Too many videos wait for conversion: try again later."""


class NoStorageError(IngestError):
    """No storage took the file."""


class NotFoundError(IngestError):
    """No video with that id."""


class RemovalError(IngestError):
    """The file could not be deleted; the video stays."""


@dataclass(frozen=True)
class NewFile:
    """Bytes on this machine to add as a video. `add` takes the file over: it is moved into a
    storage, or deleted when the video is refused."""

    path: Path
    size: int
    filename: str = ""  # the name it came with: the title when none is given
    title: str = ""
    captions: bytes | None = None  # a WebVTT or SubRip file sent with it
    sha256: str = ""  # of the content, when the caller knows it (an import does)


@dataclass(frozen=True)
class Added:
    video: Video
    index: int | None  # its place in the rotation; None while it is being converted
    message: str  # what happened, in words (a storage that refused, then the one that took it)


def webvtt_of(captions: bytes) -> str:
    """Captions as sent (WebVTT or SubRip), as the WebVTT text a video keeps."""
    try:
        return to_webvtt(captions)
    except CaptionsError as failure:
        raise BadCaptionsError(str(failure)) from failure


def title_from_name(name: str) -> str:
    """'01-red-sample.webm' -> 'Red sample'; a client's 'C:\\clips\\x.mp4' -> 'X'."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not name:
        return ""
    stem = Path(name).stem
    words = re.sub(r"[-_.]+", " ", re.sub(r"^\d+[-_. ]*", "", stem)).strip() or stem
    return (words[:1].upper() + words[1:])[:MAX_TITLE]


def scanned_id(storage: str, key: str) -> str:
    # Deterministic, so workers scanning at the same time upsert the same row, not two.
    return f"{storage}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


class Ingest:
    def __init__(
        self, settings: Settings, channel: Channel, storages: Storages, conversions: Transcoder
    ) -> None:
        self.data_dir = settings.data_dir
        self.limits = Limits(settings.max_video_pixels, settings.max_video_duration)
        self.max_height = settings.transcode_max_height  # a taller picture is converted down
        self.memory_limit = settings.transcode_memory_limit  # of the child making the poster
        self.approval = settings.upload_approval == "on"  # new uploads wait for an admin
        self.channel = channel
        self.storages = storages
        self.conversions = conversions
        # Whether another channel plays the same file (then removing it here keeps the file).
        self.shared: Callable[[Video], bool] = lambda video: False

    async def add(self, new: NewFile) -> Added:
        try:
            async with contextlib.AsyncExitStack() as undo:
                added = await self._add(new, undo)
                undo.pop_all()
            return added
        finally:
            # Stored means moved away; on any other way out (refused, failed, the caller gone
            # and this call cancelled) the work file must not stay behind either.
            with contextlib.suppress(OSError):
                new.path.unlink(missing_ok=True)

    async def _add(self, new: NewFile, undo: contextlib.AsyncExitStack) -> Added:
        try:
            info = await asyncio.to_thread(probe, new.path, self.limits)
        except ProbeError as failure:
            raise NotPlayableError(str(failure)) from failure
        # Captions sent with the video, else the subtitles the file carries (MKV, MP4).
        if new.captions is not None:
            captions: str | None = webvtt_of(new.captions)
        else:
            captions = await asyncio.to_thread(extract_quietly, new.path)
        video_id = uuid.uuid4().hex[:16]
        # Not playable on every screen as it is (the kiosk plays no H.264): queue a rendition.
        # Nor is a picture far above the renditions' size: every screen would have to decode it.
        convert = not is_universally_playable(info, self.max_height)
        if convert and (busy := self.conversions.refusal()) is not None:
            raise BusyError(busy)
        # From the work file, which is still here whatever storage takes it next.
        poster = await make_poster(self.data_dir, new.path, video_id, self.memory_limit)
        meta = VideoMeta(poster=poster, captions=captions or None, sha256=new.sha256 or None)
        undo.callback(discard_poster, self.data_dir, video_id)
        if convert:
            meta = await self.conversions.accept(new.path, video_id, meta)
            undo.callback(self.conversions.release, video_id)
        # The stored name is ours, never the client's: no path tricks, no clashes. Suffix and
        # type come from the probed container, never from the client: a type it chose
        # (text/html) would be served back from our origin.
        suffix, content_type = stored_as(info.container)
        key = f"{video_id}{suffix}"
        title = new.title[:MAX_TITLE] or title_from_name(new.filename) or "Untitled video"
        metadata = {"title": title, "duration": f"{info.duration:.3f}", "id": video_id}
        try:
            placed = await self.storages.put(new.path, key, content_type, metadata)
        except StorageError as failure:
            raise NoStorageError(str(failure)) from failure
        undo.push_async_callback(self._discard, placed.storage, key)
        video = Video(
            id=video_id,
            title=title,
            storage=placed.storage.name,
            key=key,
            duration=info.duration,
            size=new.size,
            content_type=content_type,
            added_at=time.time(),
            status=Status.PROCESSING if convert else Status.READY,
            approved=not self.approval,
            meta=meta,
        )
        await self.channel.upsert(video)
        if convert:
            self.conversions.wake()
        then = "it joins the rotation"
        if convert:
            then = "it is being converted for every screen and joins the rotation when ready"
        if not video.approved:
            then = "it is waiting for approval: it joins the rotation once an admin approves it"
            if convert:
                then = "it is being converted for every screen and " + then.removeprefix("it ")
        message = " ".join([*placed.notes, f"Saved to {placed.storage.place}; {then}."])
        return Added(video, self.channel.position(video_id), message)

    async def set_captions(self, video_id: str, webvtt: str | None) -> Video:
        """Give a video captions (WebVTT text, see `webvtt_of`), replace them, or take them
        away (None)."""
        captioned = await self.channel.patch(video_id, lambda v: with_captions(v, webvtt))
        if captioned is None:
            raise NotFoundError("No such video.")
        return captioned

    @staticmethod
    async def _discard(storage: Storage, key: str) -> None:
        with contextlib.suppress(StorageError):
            await storage.delete(key)

    async def adopt(self, storage: Storage, found: StoredFile) -> Video | None:
        """Record a file a storage holds but the catalog does not know; None when it cannot
        be played. Conversions and posters follow in the background (the conversion queue
        finds such videos itself)."""
        duration = found.duration or await self._duration(storage, found.key)
        if duration is None:
            return None
        video = Video(
            id=scanned_id(storage.name, found.key),
            title=found.title or title_from_name(found.key),
            storage=storage.name,
            key=found.key,
            duration=duration,
            size=found.size,
            content_type=found.content_type,
            added_at=time.time(),
        )
        await self.channel.upsert(video)
        return video

    @staticmethod
    async def _duration(storage: Storage, key: str) -> float | None:
        path = storage.local_path(key)
        if path is None:
            return None
        try:
            return (await asyncio.to_thread(probe, path)).duration
        except ProbeError as error:
            log.warning("skipping %s/%s: %s", storage.name, key, error)
            return None

    async def remove(self, video_id: str) -> Video:
        """Take a video out of the channel with its file, rendition and poster."""
        video = self.channel.find(video_id)
        if video is None:
            raise NotFoundError("No such video.")
        if self.shared(video):
            await self.channel.remove(video_id)
            return video
        storage = self.storages.get(video.storage)
        if storage is not None and not storage.writable:
            # A shipped sample's file is read-only: a marker keeps it out after restarts.
            await self.channel.patch(video_id, lambda v: replace(v, status=Status.DELETED))
            return video
        try:
            # File first: a bucket object left behind would rejoin at the next listing.
            await self.storages.delete(video.storage, video.key)
        except StorageError as failure:
            raise RemovalError(
                f"Could not delete the file from {video.storage}: {failure}"
            ) from failure
        await self.channel.remove(video_id)
        await self.conversions.forget(video)
        return video
