"""`simulcast backup` while the server runs, `backup --verify`, and `restore` onto a new data
dir: the restored server shows the same videos and votes, and serves the same files."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import httpx

from .live import LiveServer
from .mediafiles import make_webm
from .test_migrations import run_cli

ADMIN = {"ADMIN_TOKEN": "backup-test-admin-token"}
AUTH = {"Authorization": f"Bearer {ADMIN['ADMIN_TOKEN']}"}


def dirs(live: LiveServer) -> dict[str, str]:
    return {"DATA_DIR": str(live.data_dir), "UPLOAD_DIR": str(live.upload_dir)}


def channel(live: LiveServer) -> list[tuple[object, ...]]:
    videos = httpx.get(live.url + "/videos").json()["videos"]
    keys = ("id", "title", "storage", "duration", "status", "index", "likes", "dislikes")
    return [tuple(v[k] for k in keys) for v in videos]


def screens(live: LiveServer) -> list[tuple[object, ...]]:
    listed = httpx.get(live.url + "/screens", headers=AUTH).json()["screens"]
    return [(s["id"], s["name"]) for s in listed]


def test_backup_while_serving_then_restore_on_a_new_data_dir(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "old", ADMIN) as old:
        # A screen that reported in: the screens store (fleet.db) is backed up too.
        report = {"id": "lobby-screen-01", "page": "/ambient", "name": "Lobby"}
        assert httpx.post(old.url + "/screens/report", json=report).status_code == 200
        clip = make_webm(tmp_path / "party.webm", seconds=2.0)
        with clip.open("rb") as handle:
            uploaded = httpx.post(
                old.url + "/uploads", files={"video": ("party.webm", handle)}, timeout=60
            ).json()["video"]
        vote = {"id": uploaded["id"]}
        for verdict in ("like", "like", "dislike"):  # three viewers: no cookies kept
            assert httpx.post(f"{old.url}/{verdict}/0", json=vote).status_code == 200
        before = channel(old)
        screens_before = screens(old)
        assert ("lobby-screen-01", "Lobby") in screens_before
        assert (uploaded["id"], 2, 1) in [(v[0], v[6], v[7]) for v in before]

        # Votes keep landing while the backup runs: the copy is still consistent.
        stop = threading.Event()

        def keep_voting() -> None:
            while not stop.is_set():
                httpx.post(f"{old.url}/like/0", json={"id": before[0][0]})

        voter = threading.Thread(target=keep_voting)
        voter.start()
        try:
            made = run_cli(["backup", str(tmp_path / "backup")], dirs(old))
        finally:
            stop.set()
            voter.join()
        assert made.returncode == 0, made.stderr
        after_votes = channel(old)
    assert "Backed up the store (4 videos, schema" in made.stdout
    assert "the screens and the play log" in made.stdout
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    names = {f["path"] for f in manifest["files"]}
    assert {"simulcast.db", "fleet.db", f"uploads/{uploaded['id']}.webm"} <= names
    assert f"posters/{uploaded['id']}.jpg" in names

    verified = run_cli(["backup", "--verify", str(tmp_path / "backup")], {})
    assert verified.returncode == 0 and "every file matches its checksum" in verified.stdout

    # A damaged copy is caught, and named.
    shutil.copytree(tmp_path / "backup", tmp_path / "damaged")
    damaged = tmp_path / "damaged" / "uploads" / f"{uploaded['id']}.webm"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    broken = run_cli(["backup", "--verify", str(tmp_path / "damaged")], {})
    assert broken.returncode == 1
    assert f"FAIL  uploads/{uploaded['id']}.webm is damaged" in broken.stdout
    refused = run_cli(["restore", str(tmp_path / "damaged")], dirs(LiveServer(tmp_path / "x")))
    assert refused.returncode == 1 and "does not verify" in refused.stderr

    # A damaged screens store is caught too.
    shutil.copytree(tmp_path / "backup", tmp_path / "bad-fleet")
    (tmp_path / "bad-fleet" / "fleet.db").write_bytes(b"not a database")
    bad = run_cli(["backup", "--verify", str(tmp_path / "bad-fleet")], {})
    assert bad.returncode == 1 and "FAIL  fleet.db has" in bad.stdout

    new = LiveServer(tmp_path / "new", ADMIN)
    restored = run_cli(["restore", str(tmp_path / "backup")], dirs(new))
    assert restored.returncode == 0, restored.stderr
    with new:
        after = channel(new)
        screens_after = screens(new)
        served = httpx.get(new.url + uploaded["url"])
        poster = httpx.get(new.url + f"/media/v/{uploaded['id']}/poster.jpg")
    # The same channel; likes on the first video are those of the moment of the backup.
    assert [v[:6] for v in after] == [v[:6] for v in before]
    assert after[1:] == before[1:]
    assert before[0][6] <= after[0][6] <= after_votes[0][6]
    assert served.status_code == 200 and served.content == clip.read_bytes()
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert screens_after == screens_before

    # Restoring over a store is refused without --force, and keeps the store with it.
    again = run_cli(["restore", str(tmp_path / "backup")], dirs(new))
    assert again.returncode == 1 and "already exists" in again.stderr
    forced = run_cli(["restore", "--force", str(tmp_path / "backup")], dirs(new))
    assert forced.returncode == 0, forced.stderr
    assert sorted(p.name[:24] for p in (new.data_dir / "backups").iterdir()) == [
        "fleet-before-restore-202",
        "simulcast-before-restore",
    ]


def test_backup_into_a_folder_that_holds_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "other.txt").write_text("keep me")
    env = {"DATA_DIR": str(tmp_path / "data"), "UPLOAD_DIR": str(tmp_path / "uploads")}
    result = run_cli(["backup", str(tmp_path / "busy")], env)
    assert result.returncode == 1
    assert "already holds files" in result.stderr
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["other.txt"]


async def test_the_other_channels_stores_are_backed_up_and_restored(tmp_path: Path) -> None:
    from server.backup import create, restore
    from server.catalog import Video
    from server.clock import Anchor
    from server.config import load_settings
    from server.store.sqlite import SqliteStore

    def settings(root: Path):  # type: ignore[no-untyped-def]
        env = {"DATA_DIR": str(root / "data"), "UPLOAD_DIR": str(root / "uploads")}
        return load_settings(env=env, env_file=None)

    old = settings(tmp_path / "old")
    main = SqliteStore.open(old.data_dir / "simulcast.db")
    lobby = SqliteStore.open(old.data_dir / "channels" / "lobby.db")
    video = Video("v1", "Lobby loop", "local", "v1.webm", 10.0)
    assert await lobby.commit(0, Anchor("v1", 1.0), upsert=[video])
    manifest = create(old, tmp_path / "backup")
    await main.close()
    await lobby.close()
    assert "channels/lobby.db" in {f["path"] for f in manifest["files"]}

    new = settings(tmp_path / "new")
    restore(new, tmp_path / "backup")
    restored = SqliteStore.open(new.data_dir / "channels" / "lobby.db")
    snapshot = await restored.load()
    await restored.close()
    assert [v.id for v in snapshot.videos] == ["v1"] and snapshot.state.anchor.video_id == "v1"
