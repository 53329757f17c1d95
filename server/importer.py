"""`simulcast import`: bring videos already on this machine into the channel, each through the
very path an upload takes (`Ingest.add`: probe, the same refusal reasons, poster, a WebM
rendition queued when not every screen can play it, storage with its fallback).

Files are copied, never moved: the operator's folders stay as they were. Each imported file's
SHA-256 is kept with its video, so running the import again skips what is already in, whatever
the file is called now. Conversions are queued in the catalog like an upload's: the server
converts them (now if it runs, else when it starts) and they join the rotation when ready.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import shutil
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import av

from .access import ADMIN, Actor
from .audit import AuditLog
from .catalog import Status, Video
from .channel import Channel
from .channels import DEFAULT, conversions_dir
from .config import Settings
from .formats import VIDEO_SUFFIXES
from .ingest import Ingest, IngestError, NewFile, NotPlayableError
from .storage import Storages
from .store import STORE_FILE, open_store
from .transcode.jobs import Transcoder


class UnknownChannelError(LookupError):
    """--channel names no channel of this server."""

DEFAULT_CHANNEL = DEFAULT  # the default channel's name, as GET /channels lists it
CHUNK = 1024 * 1024
OPERATOR = Actor(ADMIN, "command line", "local")

READY, CONVERTING, REFUSED, SKIPPED, FAILED = "ready", "converting", "refused", "skipped", "failed"
FINE = (READY, CONVERTING, SKIPPED)  # the file is in the channel


@dataclass(frozen=True)
class Outcome:
    path: Path
    kind: str  # READY, CONVERTING, REFUSED, SKIPPED or FAILED
    detail: str  # the title it got, or why not
    video_id: str | None = None

    def line(self, shown: str) -> str:
        added = self.kind in (READY, CONVERTING)
        return f"{self.kind:<11} {shown}" + (
            f" -> {self.detail!r}" if added else f": {self.detail}"
        )


def summary(outcomes: list[Outcome], others: list[str]) -> str:
    count = Counter(outcome.kind for outcome in outcomes)
    parts = [
        f"{count[READY]} ready",
        f"{count[CONVERTING]} converting (the server converts them)",
        f"{count[REFUSED]} refused",
        f"{count[SKIPPED]} already imported",
    ] + ([f"{count[FAILED]} failed"] if count[FAILED] else [])
    said = f"{len(outcomes)} files: {', '.join(parts)}"
    if others:
        named = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        plural = "s" * (len(others) > 1)
        said += f"; {len(others)} other file{plural} not named as a video ({named})"
    return said


def find(paths: Iterable[Path]) -> tuple[dict[Path, str], list[str]]:
    """The files under `paths` named as videos, in order, each with the name to show (its
    path within the folder given), and the names of the other files (reported, never probed:
    a folder of videos often holds covers and notes too). Hidden ones are left out."""
    videos: dict[Path, str] = {}
    others: list[str] = []
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            shown = file.name if file == path else str(file.relative_to(path))
            if any(part.startswith(".") for part in Path(shown).parts):
                continue
            if file.suffix.lower() in VIDEO_SUFFIXES:
                videos.setdefault(file, shown)
            else:
                others.append(shown)
    return videos, others


async def import_files(
    settings: Settings,
    files: list[Path],
    report: Callable[[Outcome], None],
    titles_from_names: bool = False,
    channel_slug: str = DEFAULT_CHANNEL,
) -> list[Outcome]:
    """Add each file as an upload would be added, to the channel `channel_slug`; `report`
    hears each outcome as it comes. UnknownChannelError when there is no such channel."""
    # The operator is no anonymous uploader: nothing waits for approval, and every video that
    # needs converting is queued (the server works through them TRANSCODE_WORKERS at a time).
    settings = dataclasses.replace(settings, upload_approval="off", transcode_queue=sys.maxsize)
    storages = Storages.from_settings(settings)
    slug = None if channel_slug == DEFAULT_CHANNEL else channel_slug
    if slug is not None and not (settings.redis_url or (settings.data_dir / STORE_FILE).exists()):
        raise UnknownChannelError(channel_slug)  # no store yet: only the default channel
    store = await open_store(settings)
    target = store
    try:
        if slug is not None:
            if slug not in {info.slug for info in await store.channels()}:
                raise UnknownChannelError(channel_slug)
            target = await open_store(settings, slug)
        channel = Channel(target, zone=settings.timezone, slug=slug)
        await channel.refresh()
        conversions = Transcoder(
            settings, channel, storages, conversions_dir(settings.data_dir, slug)
        )
        ingest = Ingest(settings, channel, storages, conversions)
        audit = AuditLog(store)
        known = {v.meta.sha256: v for v in channel.videos if v.meta.sha256}
        outcomes = []
        for file in files:
            outcome = await _one(settings.data_dir, ingest, known, file, titles_from_names)
            if outcome.kind in (READY, CONVERTING):
                await audit.record(OPERATOR, "import", outcome.video_id or "", title=outcome.detail)
            outcomes.append(outcome)
            report(outcome)
        return outcomes
    finally:
        if target is not store:
            await target.close()
        await store.close()


async def _one(
    data_dir: Path, ingest: Ingest, known: dict[str, Video], file: Path, titles_from_names: bool
) -> Outcome:
    try:
        digest = await asyncio.to_thread(sha256, file)
    except OSError as error:
        return Outcome(file, FAILED, f"cannot read it: {error.strerror or error}")
    if (video := known.get(digest)) is not None:
        return Outcome(file, SKIPPED, f"already imported as {video.title!r}", video.id)
    title = "" if titles_from_names else await asyncio.to_thread(embedded_title, file)
    incoming = data_dir / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    copy = incoming / f"import-{uuid.uuid4().hex}{file.suffix.lower()}"
    try:
        await asyncio.to_thread(shutil.copyfile, file, copy)
        new = NewFile(copy, copy.stat().st_size, file.name, title, sha256=digest)
        added = await ingest.add(new)  # takes the copy over, or deletes it
    except NotPlayableError as refusal:
        return Outcome(file, REFUSED, str(refusal))
    except (IngestError, OSError) as failure:
        copy.unlink(missing_ok=True)
        return Outcome(file, FAILED, str(failure))
    known[digest] = added.video
    kind = CONVERTING if added.video.status == Status.PROCESSING else READY
    return Outcome(file, kind, added.video.title, added.video.id)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def embedded_title(path: Path) -> str:
    """The title tag the file carries, or '' (also for a file PyAV cannot open: the probe
    that follows says why)."""
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            tags = {k.lower(): v for k, v in container.metadata.items()}
    except (av.FFmpegError, OSError, ValueError):
        return ""
    return str(tags.get("title", "")).strip()
