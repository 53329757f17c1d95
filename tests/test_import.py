"""`simulcast import` against a running server: good files join, convertible ones are queued
and converted by the server, bad ones are refused with the upload's reasons, and a second run
imports nothing new."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx

from .live import LiveServer
from .mediafiles import make_corrupt, make_empty, make_in_container, make_mp4_h264, make_webm
from .test_migrations import run_cli


def folder_of_videos(root: Path) -> Path:
    root.mkdir()
    make_webm(root / "01-opening-night.webm", seconds=2.0)
    shutil.copy(root / "01-opening-night.webm", root / "opening-copy.webm")  # same bytes
    (root / "clips").mkdir()
    make_mp4_h264(root / "clips" / "team_meeting.mp4", seconds=2.0)
    make_in_container(root / "clips" / "tagged.webm", "webm", 1.0, {"title": "Board meeting"})
    make_empty(root / "empty.webm")
    make_corrupt(root / "broken.mp4")
    (root / "notes.txt").write_text("not a video")
    make_webm(root / ".hidden.webm", seconds=1.0)
    return root


def videos(live: LiveServer) -> dict[str, dict[str, object]]:
    return {v["title"]: v for v in httpx.get(live.url + "/videos").json()["videos"]}


def test_import_a_folder_twice(tmp_path: Path) -> None:
    folder = folder_of_videos(tmp_path / "library")
    with LiveServer(tmp_path / "server") as live:
        env = {"DATA_DIR": str(live.data_dir), "UPLOAD_DIR": str(live.upload_dir)}
        first = run_cli(["import", str(folder)], env)
        lines = first.stdout.splitlines()
        # Refused files make the exit status 1, so a script notices.
        assert first.returncode == 1, first.stderr
        assert "ready       01-opening-night.webm -> 'Opening night'" in lines
        assert "ready       clips/tagged.webm -> 'Board meeting'" in lines  # its title tag
        assert "converting  clips/team_meeting.mp4 -> 'Team meeting'" in lines
        assert "skipped     opening-copy.webm: already imported as 'Opening night'" in lines
        assert "refused     empty.webm: This file is empty." in lines
        assert any(line.startswith("refused     broken.mp4: This is not a video") for line in lines)
        assert (
            "6 files: 2 ready, 1 converting (the server converts them), 2 refused, "
            "1 already imported; 1 other file not named as a video (notes.txt)"
        ) in lines
        assert "hidden" not in first.stdout
        # The folder is untouched: files are copied, not moved.
        assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == sorted(
            [
                ".hidden.webm",
                "01-opening-night.webm",
                "opening-copy.webm",
                "team_meeting.mp4",
                "tagged.webm",
                "empty.webm",
                "broken.mp4",
                "notes.txt",
            ]
        )

        # The running server has them, and converts the MP4 as it would an upload.
        deadline = time.monotonic() + 120
        # (It learns of the import from the store's change feed: not there at once.)
        def status() -> str | None:
            return videos(live).get("Team meeting", {}).get("status")

        while status() != "ready" and time.monotonic() < deadline:
            time.sleep(0.5)
        channel = videos(live)
        assert channel["Team meeting"]["status"] == "ready"
        assert channel["Team meeting"]["sources"][0]["type"] == "video/webm"
        assert channel["Opening night"]["index"] is not None
        served = httpx.get(live.url + str(channel["Opening night"]["url"]))
        assert served.content == (folder / "01-opening-night.webm").read_bytes()

        second = run_cli(["import", str(folder)], env)
        assert "4 already imported" in second.stdout and "0 ready" in second.stdout
        assert "converting  " not in second.stdout and "ready       " not in second.stdout
        assert videos(live).keys() == channel.keys()

        # --title-from-name: the file name wins over the tag.
        tagged = tmp_path / "quarterly_review.webm"
        make_in_container(tagged, "webm", 1.5, {"title": "Some tag"})
        named = run_cli(["import", "--title-from-name", str(tagged)], env)
        assert named.returncode == 0, named.stdout + named.stderr
        assert "ready       quarterly_review.webm -> 'Quarterly review'" in named.stdout


def test_import_names_the_channel_it_can_use(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "data"), "UPLOAD_DIR": str(tmp_path / "uploads")}
    clip = make_webm(tmp_path / "clip.webm", seconds=1.0)
    other = run_cli(["import", "--channel", "lobby", str(clip)], env)
    assert other.returncode == 2
    assert "no channel 'lobby'" in other.stderr
    assert not (tmp_path / "data" / "simulcast.db").exists()
    default = run_cli(["import", "--channel", "main", str(clip)], env)
    assert default.returncode == 0, default.stderr
    missing = run_cli(["import", str(tmp_path / "nowhere")], env)
    assert missing.returncode == 2 and "nowhere: no such file or folder" in missing.stderr


async def test_import_into_a_channel_by_its_slug(tmp_path: Path) -> None:
    from server.store import ChannelInfo
    from server.store.sqlite import SqliteStore

    env = {"DATA_DIR": str(tmp_path / "data"), "UPLOAD_DIR": str(tmp_path / "uploads")}
    registry = SqliteStore.open(tmp_path / "data" / "simulcast.db")
    assert await registry.add_channel(ChannelInfo("lobby", "Lobby", 0.0))
    await registry.close()
    clip = make_webm(tmp_path / "welcome.webm", seconds=1.0)
    done = run_cli(["import", "--channel", "lobby", str(clip)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    lobby = SqliteStore.open(tmp_path / "data" / "channels" / "lobby.db")
    main = SqliteStore.open(tmp_path / "data" / "simulcast.db")
    try:
        assert [v.title for v in (await lobby.load()).videos] == ["Welcome"]
        assert "Welcome" not in [v.title for v in (await main.load()).videos]
    finally:
        await lobby.close()
        await main.close()
