"""server/storage/local.py and the `Storages` policy over real folders: where files go, what
falls back to what, what is read-only, and how a stored file is reached."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from server.config import load_settings
from server.storage import NoStorageError, StorageError, Storages
from server.storage.local import LocalStorage


def work_file(tmp_path: Path, name: str = "work.part", data: bytes = b"video bytes") -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


async def listed(storage: LocalStorage) -> dict[str, str]:
    return {f.key: f.content_type async for f in storage.list()}


async def test_put_moves_the_file_in_and_list_finds_only_videos(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = LocalStorage("local", tmp_path / "uploads")
    source = work_file(tmp_path)
    await storage.put(source, "abc.mp4", "video/mp4", {"title": "x"})
    assert not source.exists()  # taken over, never copied
    path = storage.local_path("abc.mp4")
    assert path is not None and path.read_bytes() == b"video bytes"
    for name in ("abc.rendition", ".abc.mp4.part", "notes.txt", "b.MKV"):
        (tmp_path / "uploads" / name).write_bytes(b"x")
    with caplog.at_level(logging.WARNING):
        assert await listed(storage) == {"abc.mp4": "video/mp4", "b.MKV": "video/x-matroska"}
    assert "notes.txt is not named as a video" in caplog.text
    assert await storage.url("abc.mp4") is None  # served from this machine
    await storage.delete("abc.mp4")
    assert not path.exists()
    assert (await storage.health())["ok"] is True


async def test_a_key_never_leaves_the_folder(tmp_path: Path) -> None:
    storage = LocalStorage("local", tmp_path / "uploads")
    for key in ("../escape.mp4", "/etc/passwd", "", "."):
        assert storage.local_path(key) is None
    with pytest.raises(StorageError, match="invalid key"):
        await storage.put(work_file(tmp_path), "../escape.mp4", "video/mp4", {})
    assert not (tmp_path / "escape.mp4").exists()


async def test_read_only_storage_refuses_writes_and_keeps_its_files(tmp_path: Path) -> None:
    samples = tmp_path / "static"
    samples.mkdir()
    (samples / "01-red.webm").write_bytes(b"sample")
    storage = LocalStorage("static", samples, writable=False)
    with pytest.raises(StorageError, match="read-only"):
        await storage.put(work_file(tmp_path), "new.webm", "video/webm", {})
    await storage.delete("01-red.webm")
    assert (samples / "01-red.webm").exists()
    missing = LocalStorage("local", tmp_path / "nowhere")
    assert await listed(missing) == {}
    assert (await missing.health())["ok"] is False


def storages(tmp_path: Path, **env: str) -> Storages:
    settings = load_settings(
        env={"STATIC_DIR": str(tmp_path / "static"), "UPLOAD_DIR": str(tmp_path / "up"), **env},
        env_file=None,
    )
    return Storages.from_settings(settings)


async def test_uploads_go_local_by_default_and_renditions_beside_their_video(
    tmp_path: Path,
) -> None:
    every = storages(tmp_path)
    assert [s.name for s in every] == ["static", "local"]
    assert [s.name for s in every.listed_once()] == ["static", "local"] and not every.watched()
    assert every.writable("local") and not every.writable("static")
    assert not every.writable("s3")  # not configured here
    placed = await every.put(work_file(tmp_path), "v.webm", "video/webm", {})
    assert (placed.storage.name, placed.notes) == ("local", [])
    # A sample's rendition cannot go beside it (read-only): local storage takes it.
    beside = await every.put(work_file(tmp_path), "s.rendition", "video/webm", {}, beside="static")
    assert beside.storage.name == "local" and beside.notes == []
    located = await every.locate("local", "v.webm")
    assert located is not None and located.url is None
    assert located.path == (tmp_path / "up" / "v.webm").resolve()
    gone = await every.locate("local", "missing.webm")
    assert gone is not None and gone.path is None and gone.url is None
    assert await every.locate("s3", "v.webm") is None
    assert every.warnings() == []
    assert set(await every.health()) == {"static", "local"}


async def test_a_storage_that_refuses_falls_back_to_local_and_says_so(tmp_path: Path) -> None:
    # The upload folder is a file: local storage cannot write there, and says why.
    (tmp_path / "blocked").write_bytes(b"")
    refusing = LocalStorage("local", tmp_path / "blocked" / "inside")
    every = Storages([refusing])
    source = work_file(tmp_path)
    with pytest.raises(NoStorageError, match="Could not store it in local storage"):
        await every.put(source, "v.webm", "video/webm", {})
    fallback = LocalStorage("local", tmp_path / "up")
    bucket = LocalStorage("bucket", tmp_path / "blocked" / "bucket")
    preferring = Storages([bucket, fallback], preferred="bucket")
    placed = await preferring.put(source, "v.webm", "video/webm", {})
    assert placed.storage is fallback
    assert placed.notes and placed.notes[0].startswith("Could not store it in bucket storage")
    assert (tmp_path / "up" / "v.webm").read_bytes() == b"video bytes"
    await preferring.delete("bucket", "v.webm")  # nothing there: no error
