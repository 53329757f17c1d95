"""server/library.py and server/ingest.py without HTTP: folders listed into the catalog, new files
added (probed, postered, stored, queued for conversion), refused or undone without leftovers,
and videos removed with their files."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from server.catalog import Status
from server.channel import Channel
from server.config import Settings, load_settings
from server.ingest import Ingest, NewFile, NotFoundError, NotPlayableError, scanned_id
from server.library import sync_storage
from server.storage import Storages
from server.store.sqlite import SqliteStore
from server.transcode.jobs import Transcoder

from .mediafiles import BLUE, GREEN, RED, make_corrupt, make_mp4_h264, make_webm


@dataclass
class Library:
    settings: Settings
    channel: Channel
    storages: Storages
    ingest: Ingest

    def files(self, folder: str) -> list[str]:
        path = self.settings.data_dir.parent / folder
        return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


@pytest.fixture
async def library(tmp_path: Path) -> AsyncIterator[Library]:
    samples = tmp_path / "static"
    samples.mkdir()
    make_webm(samples / "01-red-sample.webm", 1.0, RED, with_audio=False)
    make_webm(samples / "02-green.webm", 1.5, GREEN, with_audio=False)
    (samples / "README.md").write_text("not a video")
    settings = load_settings(
        env={
            "DATA_DIR": str(tmp_path / "data"),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "STATIC_DIR": str(samples),
        },
        env_file=None,
    )
    store = SqliteStore.open(settings.data_dir / "simulcast.db")
    channel = Channel(store)
    await channel.refresh()
    storages = Storages.from_settings(settings)
    ingest = Ingest(settings, channel, storages, Transcoder(settings, channel, storages))
    yield Library(settings, channel, storages, ingest)
    await store.close()


def work_file(tmp_path: Path, make: object, name: str) -> Path:
    folder = tmp_path / "data" / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    return make(folder / name)  # type: ignore[operator, no-any-return]


async def test_a_folder_is_listed_into_the_catalog_once(library: Library) -> None:
    static = library.storages.get("static")
    assert static is not None
    await sync_storage(library.ingest, static)
    videos = library.channel.videos
    assert [(v.title, v.storage, v.status) for v in videos] == [
        ("Red sample", "static", Status.READY),
        ("Green", "static", Status.READY),
    ]
    assert videos[0].id == scanned_id("static", "01-red-sample.webm")
    assert videos[1].duration == pytest.approx(1.5, abs=0.05)
    await sync_storage(library.ingest, static)  # another worker's start, or a restart
    assert len(library.channel.videos) == 2
    (library.settings.static_dir / "02-green.webm").unlink()
    await sync_storage(library.ingest, static)
    assert [v.title for v in library.channel.playlist] == ["Red sample"]


async def test_a_playable_file_is_stored_postered_and_joins_the_rotation(
    library: Library, tmp_path: Path
) -> None:
    path = work_file(tmp_path, lambda p: make_webm(p, 2.0, BLUE), "abc.part")
    added = await library.ingest.add(
        NewFile(path, path.stat().st_size, "C:\\clips\\03-my_holiday.webm")
    )
    video = added.video
    assert added.message == "Saved to local storage; it joins the rotation."
    assert (video.title, video.storage, video.status) == ("My holiday", "local", Status.READY)
    assert video.key == f"{video.id}.webm" and video.content_type == "video/webm"
    assert added.index == library.channel.position(video.id) == 0
    assert library.files("uploads") == [video.key] and not path.exists()
    assert video.meta.poster and library.files("data/posters") == [f"{video.id}.jpg"]


async def test_a_file_only_browsers_play_is_queued_for_conversion(
    library: Library, tmp_path: Path
) -> None:
    path = work_file(tmp_path, lambda p: make_mp4_h264(p, 1.0), "h264.part")
    added = await library.ingest.add(NewFile(path, path.stat().st_size, title="Phone clip"))
    video = added.video
    assert video.status == Status.PROCESSING and added.index is None
    assert "being converted for every screen" in added.message
    assert video.meta.progress == 0.0 and video.meta.host
    assert library.files("data/transcode") == [f"{video.id}.source"]  # held for the job
    assert video.key.endswith(".mp4") and video.content_type == "video/mp4"


async def test_a_refused_file_leaves_nothing_behind(library: Library, tmp_path: Path) -> None:
    path = work_file(tmp_path, make_corrupt, "junk.part")
    with pytest.raises(NotPlayableError, match="not a video file we can read"):
        await library.ingest.add(NewFile(path, path.stat().st_size, "junk.mp4"))
    assert not path.exists()
    assert library.files("uploads") == [] and library.files("data/posters") == []
    assert library.channel.videos == []


async def test_a_failure_after_storing_undoes_every_step(library: Library, tmp_path: Path) -> None:
    path = work_file(tmp_path, lambda p: make_mp4_h264(p, 1.0), "late.part")
    await library.channel.store.close()  # the store goes away between storing and recording
    with pytest.raises(sqlite3.ProgrammingError):
        await library.ingest.add(NewFile(path, path.stat().st_size, "late.mp4"))
    assert not path.exists()
    assert library.files("uploads") == []
    assert library.files("data/posters") == []
    assert library.files("data/transcode") == []
    library.channel.store = SqliteStore.open(library.settings.data_dir / "simulcast.db")


async def test_removing_takes_the_file_but_never_a_sample(library: Library, tmp_path: Path) -> None:
    static = library.storages.get("static")
    assert static is not None
    await sync_storage(library.ingest, static)
    path = work_file(tmp_path, lambda p: make_webm(p, 1.0, BLUE), "x.part")
    added = await library.ingest.add(NewFile(path, path.stat().st_size, "x.webm"))
    await library.ingest.remove(added.video.id)
    assert library.files("uploads") == [] and library.files("data/posters") == []
    sample = library.channel.videos[0]
    await library.ingest.remove(sample.id)
    assert (library.settings.static_dir / sample.key).exists()
    assert [v.title for v in library.channel.playlist] == ["Green"]
    static = library.storages.get("static")
    assert static is not None
    await sync_storage(library.ingest, static)  # a restart: the deleted sample stays out
    assert [v.title for v in library.channel.playlist] == ["Green"]
    with pytest.raises(NotFoundError):
        await library.ingest.remove(sample.id)


async def test_a_poster_made_meanwhile_keeps_what_an_admin_changed(library: Library) -> None:
    """Posters are made in the background from the catalog this worker last read. Writing one
    must change only the poster of the video as stored now: an admin who renamed and hid it
    meanwhile (in another worker) keeps the change (it was a lost update)."""
    static = library.storages.get("static")
    assert static is not None
    await sync_storage(library.ingest, static)
    red = scanned_id("static", "01-red-sample.webm")
    admin = Channel(SqliteStore.open(library.settings.data_dir / "simulcast.db"))
    try:
        await admin.refresh()
        await admin.patch(red, lambda v: replace(v, title="Renamed", hidden=True))
        stale = library.channel.find(red)
        assert stale is not None and not stale.hidden and not stale.meta.poster
        transcoder = library.ingest.conversions
        await transcoder.start()
        try:
            for _ in range(300):
                await admin.refresh()
                stored = admin.find(red)
                if stored is not None and stored.meta.poster:
                    break
                await asyncio.sleep(0.1)
        finally:
            await transcoder.stop()
        assert stored is not None and stored.meta.poster, "no poster within 30 s"
        assert (stored.title, stored.hidden) == ("Renamed", True)
        assert [v.title for v in library.channel.playlist] == ["Green"]
    finally:
        await admin.store.close()
