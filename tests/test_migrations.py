"""Store schema versions: an older release's store is upgraded in place (after a copy is
saved), a newer one is refused with a clear message. tests/fixtures/store-0.1.0.db was written
by release 0.1.0 (commit c681183): the three samples, 3 likes on Red, 1 dislike on Green,
2 likes on Blue."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from server.store import Counts
from server.store.migrations import SCHEMA_VERSION, StoreVersionError
from server.store.sqlite import SqliteStore

from .live import ROOT, LiveServer

FIXTURE = ROOT / "tests" / "fixtures" / "store-0.1.0.db"
RED, GREEN, BLUE = "static-174884c60e09", "static-471cfb0e4bc5", "static-b00af151a133"
VOTES = {RED: Counts(3, 0), GREEN: Counts(0, 1), BLUE: Counts(2, 0)}


def version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return list(db.iterdump())


def old_store(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True)
    return Path(shutil.copy(FIXTURE, data_dir / "simulcast.db"))


async def test_a_store_from_release_0_1_0_is_upgraded_in_place_after_a_copy(
    tmp_path: Path,
) -> None:
    path = old_store(tmp_path / "data")
    assert version(path) == 0
    store = SqliteStore.open(path)
    try:
        snapshot = await store.load()
        assert [v.id for v in snapshot.videos] == [RED, GREEN, BLUE]
        assert snapshot.state.anchor.video_id == RED
        assert await store.counts() == VOTES
        assert await store.viewer_votes("nobody") == {}
    finally:
        await store.close()
    assert version(path) == SCHEMA_VERSION
    (saved,) = (tmp_path / "data" / "backups").iterdir()
    assert saved.name.startswith("simulcast-schema0-")
    assert version(saved) == 0 and dump(saved) == dump(FIXTURE)
    with closing(sqlite3.connect(path)) as db:
        indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "votes_by_viewer" in indexes
    # Opening it again changes nothing and saves no second copy.
    await SqliteStore.open(path).close()
    assert len(list((tmp_path / "data" / "backups").iterdir())) == 1


async def test_a_new_store_starts_at_the_current_version_without_a_copy(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "data" / "simulcast.db")
    await store.close()
    assert version(tmp_path / "data" / "simulcast.db") == SCHEMA_VERSION
    assert not (tmp_path / "data" / "backups").exists()


def test_a_store_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    path = old_store(tmp_path / "data")
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.commit()
    before = path.read_bytes()
    with pytest.raises(StoreVersionError, match="newer Simulcast"):
        SqliteStore.open(path)
    env = {"DATA_DIR": str(tmp_path / "data"), "UPLOAD_DIR": str(tmp_path / "uploads")}
    serve = run_cli(["serve", "--port", "1"], env)
    assert serve.returncode == 1
    assert serve.stderr.strip().splitlines() == [
        f"simulcast: cannot start: {path} was written by a newer Simulcast (store schema "
        f"{SCHEMA_VERSION + 1}; this one knows up to {SCHEMA_VERSION}). Install that release "
        "again, or restore a backup made by this one (simulcast restore)."
    ]
    check = run_cli(["check"], env)
    assert check.returncode == 1
    assert f"FAIL  store      {path} has schema {SCHEMA_VERSION + 1}" in check.stdout
    assert path.read_bytes() == before


def test_the_server_serves_an_upgraded_store_with_its_votes(tmp_path: Path) -> None:
    old_store(tmp_path / "data")
    with LiveServer(tmp_path) as live:
        videos = httpx.get(live.url + "/videos").json()["videos"]
    assert {v["id"]: Counts(v["likes"], v["dislikes"]) for v in videos} == VOTES
    assert "upgrading the store to schema" in live.log()


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
