"""Keeps the catalog in step with what the storages hold (samples, local files, the bucket,
which is listed again periodically since others may write to it)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from dataclasses import replace
from pathlib import Path

from .catalog import READY, Video
from .channel import Channel
from .probe import ProbeError, probe
from .storage import Storage, StorageError, StoredFile

log = logging.getLogger(__name__)


def title_from_name(name: str) -> str:
    """'01-red-sample.webm' -> 'Red sample'."""
    stem = Path(name).stem
    words = re.sub(r"[-_.]+", " ", re.sub(r"^\d+[-_. ]*", "", stem)).strip() or stem
    return words[:1].upper() + words[1:]


def scanned_id(storage: str, key: str) -> str:
    # Deterministic, so workers scanning at the same time upsert the same row, not two.
    return f"{storage}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


async def duration_of(storage: Storage, stored: StoredFile) -> float | None:
    if stored.duration:
        return stored.duration
    path = storage.local_path(stored.key)
    if path is None:
        return None
    try:
        return (await asyncio.to_thread(probe, path)).duration
    except ProbeError as error:
        log.warning("skipping %s/%s: %s", storage.name, stored.key, error)
        return None


async def sync_storage(channel: Channel, storage: Storage) -> None:
    """Add files the catalog does not know; drop entries whose file is gone."""
    known = {v.key: v for v in channel.videos if v.storage == storage.name}
    present: set[str] = set()
    async for stored in storage.list():
        present.add(stored.key)
        if stored.key in known:
            continue
        duration = await duration_of(storage, stored)
        if duration is None:
            continue
        await channel.upsert(
            Video(
                id=scanned_id(storage.name, stored.key),
                title=stored.title or title_from_name(stored.key),
                storage=storage.name,
                key=stored.key,
                duration=duration,
                size=stored.size,
                content_type=stored.content_type,
                added_at=time.time(),
            )
        )
    for key, video in known.items():
        if key not in present and video.playable:
            log.info("%s/%s is gone; removing %s from the rotation", storage.name, key, video.id)
            await channel.remove(video.id)


async def forget_storage(channel: Channel, name: str) -> None:
    """Take every video of a storage that is switched off (SAMPLES=off) out of the catalog."""
    for video in [v for v in channel.videos if v.storage == name]:
        await channel.remove(video.id)


OFFLINE = "offline"  # in the catalog, out of the rotation: its storage cannot serve it now


async def watch_bucket(channel: Channel, bucket: Storage, interval: float) -> None:
    """List the bucket now and every `interval` seconds, so startup never waits on S3, new
    objects join, and an S3 that was down (or misconfigured) at startup joins when it is back."""
    while True:
        try:
            await _sync_bucket(channel, bucket)
        except Exception:
            log.exception("keeping the catalog in step with the bucket failed")
        await asyncio.sleep(interval)


async def _sync_bucket(channel: Channel, bucket: Storage) -> None:
    mine = [v for v in channel.videos if v.storage == bucket.name]
    try:
        await sync_storage(channel, bucket)
    except StorageError:  # already logged by the bucket, with the reason
        # Screens would only show an error; the videos keep their ids and likes meanwhile.
        for video in mine:
            if video.status == READY:
                await channel.upsert(replace(video, status=OFFLINE))
        return
    back = [v for v in mine if v.status == OFFLINE]
    for video in back:
        await channel.upsert(replace(video, status=READY))
    if back:
        await sync_storage(channel, bucket)  # drops any whose object went away meanwhile
