"""Uploaded bytes as they are kept and served: the type comes from the probed container (never
from the client), media is never a document of our origin, and every accepted container
survives a restart with its votes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .live import LiveServer
from .mediafiles import CONTAINERS, make_in_container

SCRIPT = "<script>alert(document.domain)</script>"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("stored")) as server:
        yield server


def upload(live: LiveServer, path: Path, client_type: str = "video/webm") -> httpx.Response:
    with path.open("rb") as handle:
        return httpx.post(
            live.url + "/uploads", files={"video": (path.name, handle, client_type)}, timeout=60
        )


def test_a_client_chosen_html_type_never_runs_script_on_our_origin(
    live: LiveServer, tmp_path: Path, browser
) -> None:  # type: ignore[no-untyped-def]
    clip = make_in_container(tmp_path / "x.ts", "ts", metadata={"service_name": SCRIPT})
    assert SCRIPT.encode() in clip.read_bytes()
    answer = upload(live, clip, client_type="text/html")
    assert answer.status_code == 201, answer.text
    video = answer.json()["video"]
    assert video["content_type"] == "video/mp2t"
    url = f"{live.url}/media/v/{video['id']}"
    served = httpx.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == "video/mp2t"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]

    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(url)
    except Exception:  # noqa: BLE001 - Chromium downloads it instead: that is the point
        pass
    page.wait_for_timeout(500)
    page.close()
    assert dialogs == []


def test_every_accepted_container_survives_a_restart_with_its_votes(
    tmp_path: Path, start_server
) -> None:  # type: ignore[no-untyped-def]
    workdir = tmp_path / "server"
    first = start_server({"TRANSCODE_WORKERS": "1"}, workdir)
    ids: dict[str, str] = {}
    for kind in CONTAINERS:
        answer = upload(first, make_in_container(tmp_path / f"clip.{kind}", kind))
        assert answer.status_code == 201, (kind, answer.text)
        ids[kind] = answer.json()["video"]["id"]
    liked = ids["flv"]
    vote = httpx.post(f"{first.url}/like/0", json={"id": liked})
    assert vote.status_code == 200 and vote.json()["likes"] == 1
    first.stop()
    stored = sorted(p.suffix for p in first.upload_dir.iterdir() if p.suffix != ".rendition")
    assert ".bin" not in stored

    again = start_server({"TRANSCODE_WORKERS": "1"}, workdir)
    listed = {v["id"]: v for v in httpx.get(again.url + "/videos").json()["videos"]}
    missing = {kind: video_id for kind, video_id in ids.items() if video_id not in listed}
    assert missing == {}, f"lost at restart: {missing}"
    assert listed[liked]["likes"] == 1
    assert listed[ids["ts"]]["content_type"] == "video/mp2t"


def test_a_file_the_catalog_does_not_know_is_named_in_the_log_or_joins(
    tmp_path: Path, start_server
) -> None:  # type: ignore[no-untyped-def]
    uploads = tmp_path / "server" / "uploads"
    uploads.mkdir(parents=True)
    make_in_container(uploads / "dropped-in.ts", "ts")
    (uploads / "notes.txt").write_text("not a video")
    live = start_server({}, tmp_path / "server")
    titles = [v["title"] for v in httpx.get(live.url + "/videos").json()["videos"]]
    assert "Dropped in" in titles
    assert "notes.txt" in live.log()
