"""The operator's verbs on both stores, with two worker processes sharing each: what one worker
is told, the other's viewers see; the video playing never jumps."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from .live import LiveServer
from .mediafiles import make_webm
from .redisserver import RedisServer
from .sse import stream

ADMIN = {"Authorization": "Bearer playlist-secret"}


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def workers(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    long_channel: Callable[[Path, int], Path],
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Workers A and B on one store (as `hypercorn --workers 2` or two machines)."""
    workdir = tmp_path_factory.mktemp(f"playlist-{request.param}")
    env = {
        "STATIC_DIR": str(long_channel(workdir / "samples", 4)),
        "UPLOAD_DIR": str(workdir / "uploads"),
        "ADMIN_TOKEN": "playlist-secret",
        "UPLOAD_APPROVAL": "on",
    }
    redis = None
    if request.param == "redis":
        redis = RedisServer(workdir / "redis").start()
        env["REDIS_URL"] = redis.url
    else:
        env["DATA_DIR"] = str(workdir / "shared-data")
    (workdir / "uploads").mkdir()
    pair = (LiveServer(workdir / "a", env), LiveServer(workdir / "b", env))
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(LiveServer.start, pair))
    for server in pair:
        server.posters_made()
    yield pair
    for server in pair:
        server.stop()
    if redis is not None:
        redis.stop()


def rotation(live: LiveServer) -> list[str]:
    videos = httpx.get(live.url + "/videos", headers=ADMIN).json()["videos"]
    return [v["id"] for v in videos if v["index"] is not None]


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Another worker follows a change within moments (SQLite is polled every 0.25 s)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the other worker did not follow in time"
        time.sleep(0.05)


def call(live: LiveServer, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(method, live.url + path, json=body, headers=ADMIN, timeout=30)


def test_a_reorder_on_one_worker_is_what_the_others_viewers_see(
    workers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = workers
    with stream(b.url) as events:
        before = events.next().data
        order = rotation(a)
        playing = order.index(before["id"])
        # Everything after the playing video reversed: the next one is a different video.
        new = order[: playing + 1] + order[playing + 1 :][::-1]
        if new == order:  # the last video plays: move the first one to the end instead
            new = order[1:] + order[:1]
        answer = call(a, "PUT", "/playlist", {"ids": new})
        assert answer.status_code == 200, answer.text
        after = events.until(lambda s: s["next"]["id"] == new[(new.index(s["id"]) + 1) % 4]).data
    assert (after["id"], after["start_time"]) == (before["id"], before["start_time"])
    assert rotation(b) == new == answer.json()["ids"]


@pytest.mark.parametrize(
    ("ids", "reason"),
    [
        (lambda order: order + ["nope"], "Unknown video ids: nope"),
        (lambda order: order[1:], "Missing from the new order"),
        (lambda order: order + order[:1], "only once"),
        (lambda order: "not a list", "ids"),
    ],
)
def test_a_bad_order_is_refused_with_the_reason_and_changes_nothing(
    workers: tuple[LiveServer, LiveServer], ids: Callable[[list[str]], Any], reason: str
) -> None:
    a, b = workers
    order = rotation(a)
    answer = call(a, "PUT", "/playlist", {"ids": ids(order)})
    assert answer.status_code == 400 and reason in answer.json()["error"]
    assert rotation(b) == order


def test_play_next_hide_rename_without_the_picture_jumping(
    workers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = workers
    with stream(b.url) as events:
        before = events.next().data
        order = rotation(a)
        last = order[order.index(before["id"]) - 1]  # the one that would play last
        assert call(a, "POST", f"/videos/{last}/next").status_code == 200
        state = events.until(lambda s: s["next"]["id"] == last).data
        assert (state["id"], state["start_time"]) == (before["id"], before["start_time"])
        assert call(a, "POST", f"/videos/{before['id']}/next").status_code == 409
        renamed = call(a, "PATCH", f"/videos/{last}", {"title": "  Lobby loop  ", "hidden": True})
        assert renamed.status_code == 200 and renamed.json()["title"] == "Lobby loop"
        state = events.until(lambda s: s["next"]["id"] != last).data
        assert (state["id"], state["start_time"]) == (before["id"], before["start_time"])
    eventually(lambda: last not in [v["id"] for v in httpx.get(b.url + "/videos").json()["videos"]])
    listed = {v["id"]: v for v in httpx.get(b.url + "/videos", headers=ADMIN).json()["videos"]}
    assert listed[last]["hidden"] is True and listed[last]["index"] is None
    assert listed[last]["title"] == "Lobby loop"
    for body in ({}, {"hidden": "yes"}, {"title": ""}, {"colour": "red"}, ["x"]):
        assert call(a, "PATCH", f"/videos/{last}", body).status_code == 400
    assert call(a, "PATCH", "/videos/nope", {"hidden": False}).status_code == 404
    assert call(a, "PATCH", f"/videos/{last}", {"hidden": False}).status_code == 200
    eventually(lambda: last in rotation(b))


def test_hiding_the_playing_video_starts_the_next_now(
    workers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = workers
    with stream(b.url) as events:
        before = events.next().data
        assert call(a, "PATCH", f"/videos/{before['id']}", {"hidden": True}).status_code == 200
        state = events.until(lambda s: s["id"] != before["id"]).data
    assert state["id"] == before["next"]["id"]
    assert call(a, "PATCH", f"/videos/{before['id']}", {"hidden": False}).status_code == 200


def test_uploads_wait_for_approval(workers: tuple[LiveServer, LiveServer], tmp_path: Path) -> None:
    a, b = workers
    clip = make_webm(tmp_path / "visitor.webm", seconds=1.0)
    with clip.open("rb") as handle:
        answer = httpx.post(a.url + "/uploads", files={"video": handle}, timeout=60)
    assert answer.status_code == 201, answer.text
    assert "waiting for approval" in answer.json()["message"]
    video = answer.json()["video"]
    assert video["waiting"] is True and video["index"] is None
    assert video["id"] not in [v["id"] for v in httpx.get(b.url + "/videos").json()["videos"]]
    with stream(b.url) as events:
        total = events.next().data["total"]
        assert call(b, "POST", f"/videos/{video['id']}/approve").status_code == 200
        events.until(lambda s: s["total"] == total + 1)
    eventually(lambda: video["id"] in rotation(a))
    assert call(a, "DELETE", f"/videos/{video['id']}").status_code == 200


def test_an_override_interrupts_every_screen_then_the_rotation_resumes(
    workers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = workers
    with stream(b.url) as events:
        before = events.next().data
        chosen = next(i for i in rotation(a) if i not in (before["id"], before["next"]["id"]))
        answer = call(a, "POST", "/override", {"id": chosen})
        assert answer.status_code == 200, answer.text
        state = events.until(lambda s: s["override"] is not None).data
        assert state["id"] == chosen and state["override"]["id"] == chosen
        assert state["start_time"] > before["start_time"]
        assert state["next"]["id"] == before["id"]  # the interrupted video comes back
        assert state["next"]["start_time"] == pytest.approx(state["override"]["ends_at"])
        ended = call(a, "DELETE", "/override")
        assert ended.json() == {"success": True, "ended": True}
        resumed = events.until(lambda s: s["override"] is None).data
    assert resumed["id"] == before["id"] and resumed["start_time"] > state["start_time"]
    assert call(a, "DELETE", "/override").json()["ended"] is False
    assert call(a, "POST", "/override", {"id": "nope"}).status_code == 404
    assert call(a, "POST", "/override", {}).status_code == 400


def test_a_banner_reaches_every_worker_until_cleared(
    workers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = workers
    with stream(b.url) as events:
        assert events.next().data["banner"] == ""
        answer = call(a, "PUT", "/banner", {"text": "Fire drill\nat 3 pm"})
        assert answer.json()["text"] == "Fire drill at 3 pm"
        assert events.until(lambda s: s["banner"] != "").data["banner"] == "Fire drill at 3 pm"
        assert call(a, "DELETE", "/banner").status_code == 200
        events.until(lambda s: s["banner"] == "")
    assert call(a, "PUT", "/banner", {"text": "x" * 281}).status_code == 400
    assert call(a, "PUT", "/banner", {"text": " "}).status_code == 400
    entries = call(b, "GET", "/admin/audit").json()["entries"]
    assert [e["action"] for e in entries[:2]] == ["clear banner", "banner"]
