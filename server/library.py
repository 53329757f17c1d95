"""Keeps the catalog in step with what the storages hold (samples, local files, the bucket,
which is listed again periodically since others may write to it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import replace

from .catalog import Status, Video
from .channel import Channel
from .ingest import Ingest
from .storage import Storage, StorageError

log = logging.getLogger(__name__)


async def sync_storage(
    ingest: Ingest, storage: Storage, elsewhere: Collection[str] = frozenset()
) -> None:
    """Add files the catalog does not know (but for those another channel holds:
    `elsewhere`); drop entries whose file is gone."""
    channel = ingest.channel
    known = {v.key: v for v in channel.videos if v.storage == storage.name}
    present: set[str] = set()
    async for stored in storage.list():
        present.add(stored.key)
        if stored.key not in known and stored.key not in elsewhere:
            await ingest.adopt(storage, stored)
    for key, video in known.items():
        if key not in present and video.playable:
            log.info("%s/%s is gone; removing %s from the rotation", storage.name, key, video.id)
            await channel.remove(video.id)


async def forget_storage(channel: Channel, name: str) -> None:
    """Take every video of a storage that is switched off (SAMPLES=off) out of the catalog."""
    for video in [v for v in channel.videos if v.storage == name]:
        await channel.remove(video.id)


async def watch_bucket(
    ingest: Ingest, bucket: Storage, elsewhere: Callable[[str], Collection[str]]
) -> None:
    """List the bucket now and every `relist_interval` seconds, so startup never waits on S3,
    new objects join, and an S3 that was down (or misconfigured) at startup joins when it is
    back."""
    while True:
        try:
            await _sync_bucket(ingest, bucket, elsewhere(bucket.name))
        except Exception:
            log.exception("keeping the catalog in step with the bucket failed")
        await asyncio.sleep(bucket.relist_interval or 0.0)


async def _sync_bucket(ingest: Ingest, bucket: Storage, elsewhere: Collection[str]) -> None:
    channel = ingest.channel
    mine = [v for v in channel.videos if v.storage == bucket.name]
    try:
        await sync_storage(ingest, bucket, elsewhere)
    except StorageError:  # already logged by the bucket, with the reason
        # Screens would only show an error; the videos keep their ids and likes meanwhile.
        for video in mine:
            if video.status == Status.READY:
                await channel.patch(video.id, _moved(Status.READY, Status.OFFLINE))
        return
    back = [v for v in mine if v.status == Status.OFFLINE]
    for video in back:
        await channel.patch(video.id, _moved(Status.OFFLINE, Status.READY))
    if back:
        await sync_storage(ingest, bucket, elsewhere)  # drops any whose object went away meanwhile


def _moved(before: Status, after: Status) -> Callable[[Video], Video]:
    """A status change that applies only while the stored video still has the first status
    (a conversion may have failed it meanwhile)."""
    return lambda video: replace(video, status=after) if video.status == before else video
