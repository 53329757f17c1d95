"""The conversion queue: finds the videos that need a rendition in the catalog and converts them,
one or two at a time, each in a child process.

The catalog is the job table. An upload lands as "processing" in whichever worker received it;
the one process holding DATA_DIR/transcode/lock picks it up at its next scan, and after a restart
the same scan finds what was left unfinished.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import socket
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog import WEBM, Status, Video, VideoMeta, rendition_of
from ..config import ROOT, Settings
from ..logs import event
from ..posters import discard_poster, make_poster, poster_path
from ..storage import NoStorageError, StorageError, Storages
from . import rendition_key
from .convert import ConversionError, Options
from .pool import ConversionPool

if TYPE_CHECKING:
    from ..channel import Channel

log = logging.getLogger(__name__)

HOST = socket.gethostname()

SCAN_INTERVAL = 2.0  # seconds between catalog scans: uploads to other workers show up there
SAVE_INTERVAL = 1.0  # seconds between progress writes to the store
MAX_ATTEMPTS = 3  # starts of one conversion that may be cut short (restarts, OOM kills)
ORPHAN_AGE = 3600.0  # a held source this old with no job is an upload that never finished


class CutShortError(Exception):
    """The conversion stopped without failing (server stopping, child killed): retry it later."""


class VideoGoneError(Exception):
    """The video left the catalog (deleted) while it was being converted."""


class Transcoder:
    def __init__(
        self,
        settings: Settings,
        channel: Channel,
        storages: Storages,
        work_dir: Path | None = None,
        pool: ConversionPool | None = None,
    ) -> None:
        self.settings = settings
        self.channel = channel
        self.storages = storages
        self.options = Options.from_settings(settings)
        # One per channel (each its own queue and work files): DATA_DIR/transcode for the
        # default. All of them share the server's pool: one TRANSCODE_WORKERS limit, one lock.
        self.work_dir: Path = work_dir or settings.data_dir / "transcode"
        top = settings.data_dir / "transcode"
        self._own_pool = pool is None
        self.pool = pool or ConversionPool(top, settings.transcode_workers)
        self.running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._tidied = False
        self._task: asyncio.Task[None] | None = None
        self._saved: dict[str, float] = {}
        self._postered: set[str] = set()  # poster tried in this run: never retried in a loop
        self.converted_seconds = 0.0  # seconds of video converted by this process (metrics)
        self.converting_seconds = 0.0  # and the wall-clock seconds that took

    # -- for the routes ------------------------------------------------------------------------

    def refusal(self) -> str | None:
        """Why a new upload needing conversion cannot be queued now, if it cannot."""
        waiting = sum(1 for v in self.channel.videos if v.status == Status.PROCESSING)
        if waiting >= self.settings.transcode_queue:
            return f"{waiting} videos are waiting to be converted; try again in a few minutes."
        return None

    async def accept(self, work_file: Path, video_id: str, meta: VideoMeta) -> VideoMeta:
        """Queue a new upload; returns the meta its catalog entry starts with.

        The upload's bytes are kept for the conversion: storing takes the work file over (S3
        ships it away), while converting from this copy needs no download and survives a restart.
        """
        self.work_dir.mkdir(parents=True, exist_ok=True)
        held = self._held(video_id)
        try:
            os.link(work_file, held)  # same disk as the work file: costs nothing
        except OSError:
            await asyncio.to_thread(shutil.copyfile, work_file, held)
        return replace(meta, progress=0.0, host=HOST)

    def release(self, video_id: str) -> None:
        self._held(video_id).unlink(missing_ok=True)

    def wake(self) -> None:
        self._wake.set()

    async def forget(self, video: Video) -> None:
        """A deleted video: stop its conversion and drop its rendition, poster and held source."""
        if (task := self.running.get(video.id)) is not None:
            task.cancel()
        self.release(video.id)
        discard_poster(self.settings.data_dir, video.id)
        if (where := rendition_of(video)) is not None:
            try:
                await self.storages.delete(*where)
            except StorageError as error:
                log.warning("could not delete the rendition of %s: %s", video.id, error)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self.pool.join(self)
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self.running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.pool.leave(self)
        if self._own_pool:
            self.pool.close()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                # One converting process per DATA_DIR, whatever the number of workers: the
                # others retry at every scan, so one takes over if the holder dies.
                if self.pool.held():
                    if not self._tidied:
                        self._tidy()
                        self._tidied = True
                    self._schedule()
                    await self._posters()
            except Exception:
                log.exception("the conversion queue hit an error; it carries on")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), SCAN_INTERVAL)

    def _tidy(self) -> None:
        """Leftovers of a process that died converting: partial files are never reused."""
        waiting = {v.id for v in self.channel.videos if v.status == Status.PROCESSING}
        self.work_dir.mkdir(parents=True, exist_ok=True)
        for path in self.work_dir.iterdir():
            if path.name.endswith((".part", ".webm")):
                path.unlink(missing_ok=True)
            elif path.suffix == ".source" and path.stem not in waiting:
                if time.time() - path.stat().st_mtime > ORPHAN_AGE:
                    path.unlink(missing_ok=True)

    # -- choosing work --------------------------------------------------------------------------

    def _schedule(self) -> None:
        for video in self._due():
            if not self.pool.free():
                return
            self.running[video.id] = asyncio.create_task(self._run(video.id))

    def _due(self) -> list[Video]:
        waiting = [
            v for v in self.channel.videos if v.status == Status.PROCESSING and self._mine(v)
        ]
        # Files found in storage (not uploaded through us) that only some screens can play:
        # converted in the background, and in the rotation meanwhile.
        stale = [
            v
            for v in self.channel.videos
            if v.status == Status.READY
            and v.content_type != WEBM
            and rendition_of(v) is None
            and v.meta.error is None
            and self._reachable(v)
        ]
        return [v for v in waiting + stale if v.id not in self.running]

    def _source(self, video: Video) -> Path | None:
        held = self._held(video.id)
        if held.is_file():
            return held
        storage = self.storages.get(video.storage)
        path = storage.local_path(video.key) if storage is not None else None
        return path if path is not None and path.is_file() else None

    def _mine(self, video: Video) -> bool:
        """Machines sharing a catalog (Redis) each run a queue: an upload is converted where its
        bytes are kept, not failed by a machine that never had them."""
        return video.meta.host in (None, HOST) or self._source(video) is not None

    def _reachable(self, video: Video) -> bool:
        """A copy is here, or its storage can hand one over (a bucket)."""
        if self._source(video) is not None:
            return True
        storage = self.storages.get(video.storage)
        return storage is not None and storage.local_path(video.key) is None

    async def _fetch(self, video: Video) -> Path:
        """The original on this machine, downloaded first when only a bucket has it."""
        if (source := self._source(video)) is not None:
            return source
        storage = self.storages.get(video.storage)
        url = await storage.url(video.key) if storage is not None else None
        if url is None:
            raise ConversionError("The original file is no longer here to convert.")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            await asyncio.to_thread(_download, url, self._held(video.id))
        except OSError as error:
            raise ConversionError(
                f"Could not fetch the original from {video.storage} ({error})."
            ) from error
        return self._held(video.id)

    def _held(self, video_id: str) -> Path:
        return self.work_dir / f"{video_id}.source"

    def _current(self, video_id: str) -> Video:
        video = self.channel.find(video_id)
        if video is None:
            raise VideoGoneError(video_id)
        return video

    async def _posters(self) -> None:
        for video in list(self.channel.videos):
            if video.id in self._postered:
                continue
            self._postered.add(video.id)
            if video.meta.poster and poster_path(self.settings.data_dir, video.id).exists():
                continue
            source = self._source(video)
            if source is None or not await self._poster(source, video.id):
                continue
            await self.channel.patch(video.id, _with_poster)

    async def _poster(self, source: Path, video_id: str) -> bool:
        return await make_poster(
            self.settings.data_dir, source, video_id, self.settings.transcode_memory_limit
        )

    # -- one job --------------------------------------------------------------------------------

    async def _run(self, video_id: str) -> None:
        try:
            await self._convert(video_id)
        except VideoGoneError:
            log.info("%s was deleted during its conversion", video_id)
        except CutShortError as why:
            log.info("conversion of %s interrupted (%s); it will start again", video_id, why)
        except ConversionError as error:
            event(
                "conversion.failed",
                f"conversion of {video_id} failed: {error}",
                logging.WARNING,
                video_id=video_id,
                error=str(error),
            )
            await self._fail(video_id, str(error))
        except Exception:
            log.exception("conversion of %s failed", video_id)
            await self._fail(video_id, "The conversion failed unexpectedly; see the server log.")
        finally:
            self.running.pop(video_id, None)
            self._saved.pop(video_id, None)
            self.pool.wake_all(finished=self)

    async def _convert(self, video_id: str) -> None:
        video = self._current(video_id)
        attempts = (video.meta.attempts or 0) + 1
        if attempts > MAX_ATTEMPTS:
            raise ConversionError(
                f"The conversion was cut short {MAX_ATTEMPTS} times (out of memory?)."
            )
        source = await self._fetch(video)
        await self._patch(video_id, lambda meta: replace(meta, attempts=attempts, progress=0.0))
        target = self.work_dir / f"{video_id}.webm"
        started = time.monotonic()
        try:
            # Against the catalog's duration: a header may lack one (a live-written MKV).
            duration = await self._in_process(
                source, target, lambda done: self._progress(video_id, done / video.duration)
            )
            took = time.monotonic() - started
            event(
                "conversion.done",
                f"converted {video_id}: {duration:.1f} s of video in {took:.1f} s",
                video_id=video_id,
                duration=round(duration, 3),
                seconds=round(took, 3),
            )
            self.converted_seconds += duration
            self.converting_seconds += took
            where = await self._store(self._current(video_id), target, duration)
        finally:
            target.unlink(missing_ok=True)
        # A bucket's video: this may be its first copy on this machine.
        postered = video.meta.poster or await self._poster(source, video_id)

        def converted(stored: Video) -> Video:
            meta = replace(
                stored.meta.without_job(),
                error=None,
                rendition=rendition_key(video_id),
                rendition_storage=where,
                poster=stored.meta.poster or postered,
            )
            if stored.status == Status.PROCESSING:
                # Joining the rotation with the rendition's own duration: what screens load.
                return replace(stored, status=Status.READY, duration=duration, meta=meta)
            return replace(stored, meta=meta)

        if await self.channel.patch(video_id, converted) is None:
            gone = VideoMeta(rendition=rendition_key(video_id), rendition_storage=where)
            await self.forget(replace(video, meta=gone))
            raise VideoGoneError(video_id)
        self.release(video_id)

    async def _progress(self, video_id: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self._saved.get(video_id, 0.0) < SAVE_INTERVAL:
            return
        self._saved[video_id] = now
        progress = round(min(max(fraction, 0.0), 0.99), 3)  # done means stored, not encoded
        # Deleted meanwhile: VideoGoneError stops the child.
        await self._patch(video_id, lambda meta: replace(meta, progress=progress))

    async def _store(self, video: Video, target: Path, duration: float) -> str:
        """Put the rendition beside its original; local storage when that one cannot take it."""
        metadata = {"title": video.title, "rendition-of": video.id, "duration": f"{duration:.3f}"}
        key = rendition_key(video.id)
        try:
            placed = await self.storages.put(target, key, WEBM, metadata, beside=video.storage)
        except NoStorageError as error:
            raise ConversionError("The converted video could not be stored.") from error
        return placed.storage.name

    async def _fail(self, video_id: str, reason: str) -> None:
        def failed(stored: Video) -> Video:
            status = Status.FAILED if stored.status == Status.PROCESSING else stored.status
            return replace(
                stored, status=status, meta=replace(stored.meta.without_job(), error=reason)
            )

        if await self.channel.patch(video_id, failed) is not None:
            self.release(video_id)

    async def _patch(self, video_id: str, change: Callable[[VideoMeta], VideoMeta]) -> None:
        """Change the job's fields of the video's metadata as the store holds it now (an admin
        may have renamed or hidden it meanwhile); VideoGoneError when it was deleted."""
        patched = await self.channel.patch(
            video_id, lambda stored: replace(stored, meta=change(stored.meta))
        )
        if patched is None:
            raise VideoGoneError(video_id)

    async def _in_process(
        self, source: Path, target: Path, progress: Callable[[float], Awaitable[None]]
    ) -> float:
        """Run `convert` in a child process; relay its progress; return the rendition's duration.

        A child per job rather than a pool: stopping the server or deleting the video can end
        a conversion at once, and a crash (out of memory) takes down only that child.
        """
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server.transcode.worker",
            str(source),
            str(target),
            json.dumps(asdict(self.options)),
            str(os.getpid()),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,  # its answers; its stderr joins the server's log
        )
        assert child.stdout is not None
        answered = False
        try:
            async for line in child.stdout:
                message = json.loads(line)
                if "progress" in message:
                    await progress(float(message["progress"]))
                    continue
                answered = True
                if "done" in message:
                    return float(message["done"])
                raise ConversionError(str(message["failed"]))
            code = await child.wait()
            if code < 0:
                raise CutShortError(f"the converter got signal {-code}")
            raise ConversionError(f"The converter stopped unexpectedly (exit code {code}).")
        finally:
            await _end(child, grace=2.0 if answered else 0.0)


async def _end(child: asyncio.subprocess.Process, grace: float) -> None:
    """Let a child that answered exit on its own; stop one still converting (SIGTERM: it
    removes its partial file), then kill it if it does not listen."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(child.wait(), grace)
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(child.wait(), 5)
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()


def _with_poster(video: Video) -> Video:
    return replace(video, meta=replace(video.meta, poster=True))


def _download(url: str, target: Path) -> None:
    partial = target.with_name(f"{target.name}.part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
