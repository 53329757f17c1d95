"""Channels and schedules through the HTTP API of a real server: /channels, /c/<slug>/...,
uploads to a channel, votes kept apart, schedules checked and followed, a restart mid-slot."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.live import LiveServer
from tests.sse import stream

TOKEN = "channels-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
ZONE = "Europe/Berlin"
SAMPLE = Path(__file__).resolve().parent.parent / "static" / "02-green-sample.webm"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("channels")
    with LiveServer(workdir, {"ADMIN_TOKEN": TOKEN, "TIMEZONE": ZONE}) as server:
        yield server


def create(url: str, slug: str, title: str) -> httpx.Response:
    return httpx.post(url + "/channels", json={"slug": slug, "title": title}, headers=ADMIN)


def upload(url: str, path: str = "/uploads", **fields: str) -> httpx.Response:
    with SAMPLE.open("rb") as file:
        return httpx.post(
            url + path, data=fields, files={"video": (SAMPLE.name, file, "video/webm")},
            timeout=30,
        )


def ids(url: str) -> list[str]:
    return [v["id"] for v in httpx.get(url + "/videos").json()["videos"]]


def clock(when: float, offset: float = 0) -> str:
    return dt.datetime.fromtimestamp(when + offset, ZoneInfo(ZONE)).strftime("%H:%M:%S")


def slot(start: float, end: float, playlist: list[str], **extra: Any) -> dict[str, Any]:
    """A slot every day from `start` to `end` (server times, to the second)."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return {"days": days, "start": clock(start), "end": clock(end), "playlist": playlist, **extra}


def test_channels_are_created_renamed_and_deleted_by_admins_only(live: LiveServer) -> None:
    listed = httpx.get(live.url + "/channels").json()
    assert listed["timezone"] == ZONE
    assert [(c["slug"], c["default"], c["path"]) for c in listed["channels"]] == [
        ("main", True, "/")
    ]
    assert httpx.post(live.url + "/channels", json={"slug": "x", "title": "X"}).status_code == 401
    bad = create(live.url, "Lobby Left", "Lobby")
    assert bad.status_code == 400 and bad.json()["field"] == "slug"
    assert create(live.url, "lobby", "").json()["field"] == "title"
    made = create(live.url, "cafe", "Cafeteria")
    assert made.status_code == 201 and made.json()["channel"]["path"] == "/c/cafe/"
    assert create(live.url, "cafe", "Again").status_code == 409
    for page in ("/", "/ambient", "/upload"):
        answer = httpx.get(live.url + "/c/cafe" + page)
        assert answer.status_code == 200 and "<html" in answer.text
    bare = httpx.get(live.url + "/c/cafe")
    assert bare.status_code == 308 and bare.headers["location"].endswith("/c/cafe/")
    assert httpx.get(live.url + "/c/cafe/channels").status_code == 404  # not a channel's
    assert httpx.get(live.url + "/c/cafe/videos").json()["videos"] == []  # a channel of its own
    renamed = httpx.patch(live.url + "/channels/cafe", json={"title": "Canteen"}, headers=ADMIN)
    assert renamed.json()["channel"]["title"] == "Canteen"
    assert httpx.patch(live.url + "/channels/main", json={"title": "X"}, headers=ADMIN).is_error
    assert httpx.delete(live.url + "/channels/main", headers=ADMIN).status_code == 409
    assert httpx.delete(live.url + "/channels/cafe").status_code == 401
    assert httpx.delete(live.url + "/channels/cafe", headers=ADMIN).status_code == 200
    gone = httpx.get(live.url + "/c/cafe/videos")
    assert gone.status_code == 404 and gone.json()["success"] is False
    assert httpx.delete(live.url + "/channels/cafe", headers=ADMIN).status_code == 404
    # The default channel's own URLs are as they were.
    assert len(ids(live.url)) == 3
    assert ids(live.url + "/c/main") == ids(live.url)  # "main" names the default channel


def test_two_channels_keep_their_own_videos_and_votes(live: LiveServer) -> None:
    assert create(live.url, "lobby", "Lobby").status_code == 201
    lobby = live.url + "/c/lobby"
    unknown = upload(live.url, channel="nope")
    assert unknown.status_code == 400 and unknown.json()["field"] == "channel"
    added = upload(live.url, channel="lobby", title="Lobby loop")
    assert added.status_code == 201
    mine = added.json()["video"]["id"]
    also = upload(live.url, "/c/lobby/uploads", title="Lobby second")  # the URL names it
    assert also.status_code == 201
    assert ids(lobby) == [mine, also.json()["video"]["id"]]
    assert mine not in ids(live.url)
    # A sample of the default channel joins the lobby: the same file, votes of its own.
    sample = ids(live.url)[0]
    shared = httpx.post(f"{live.url}/channels/lobby/videos", json={"id": sample}, headers=ADMIN)
    assert shared.status_code == 200 and shared.json()["index"] == 2
    like = httpx.post(f"{lobby}/like/2", json={"id": sample})
    assert like.json()["likes"] == 1
    votes = {v["id"]: v["likes"] for v in httpx.get(live.url + "/videos").json()["videos"]}
    assert votes[sample] == 0  # the default channel's count did not move
    with stream(lobby) as events:
        first = events.next().data
    with stream(live.url) as events:
        default = events.next().data
    assert first["total"] == 3 and default["total"] == 3 and first["id"] in ids(lobby)
    # Deleting it from the lobby keeps the file the default channel plays.
    removed = httpx.delete(f"{lobby}/videos/{sample}", headers=ADMIN)
    assert removed.status_code == 200
    assert httpx.get(f"{live.url}/media/v/{sample}").status_code == 200
    assert sample in ids(live.url) and sample not in ids(lobby)


def test_a_schedule_is_checked_and_followed_at_once(live: LiveServer) -> None:
    if create(live.url, "sched", "Scheduled").status_code != 201:
        pytest.fail("could not create the channel")
    url = live.url + "/c/sched"
    first = upload(url, "/uploads", title="Default").json()["video"]["id"]
    lunch = upload(url, "/uploads", title="Lunch menu").json()["video"]["id"]
    # Out of the default playlist, but still playable in a slot.
    hidden = httpx.patch(f"{url}/videos/{lunch}", json={"hidden": True}, headers=ADMIN)
    assert hidden.status_code == 200
    empty = httpx.get(live.url + "/channels/sched/schedule").json()
    assert (empty["slots"], empty["timezone"]) == ([], ZONE)
    target = live.url + "/channels/sched/schedule"
    now = time.time()
    refused = {
        "slots[0].start": slot(now, now + 60, [lunch]) | {"start": "24:30"},
        "slots[0].playlist": slot(now, now + 60, ["no-such-video"]),
        "slots[1]": None,
    }
    for field, body in refused.items():
        slots = [body] if body else [slot(now, now + 60, [lunch]), slot(now + 30, now + 90, [])]
        answer = httpx.put(target, json={"slots": slots}, headers=ADMIN)
        assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
    assert httpx.put(target, json={"slots": []}).status_code == 401
    with stream(url) as events:
        assert events.next().data["id"] == first
        put = httpx.put(target, json={"slots": [slot(now - 5, now + 600, [lunch])]}, headers=ADMIN)
        assert put.status_code == 200 and put.json()["slots"][0]["playlist"] == [lunch]
        switched = events.until(lambda s: s["id"] == lunch).data
    assert abs(switched["start_time"] - time.time()) < 5  # the slot starts now, not back then
    assert httpx.get(target).json()["slots"][0]["start"] == clock(now - 5)


def test_the_programme_gives_anyone_the_slots_with_their_hidden_videos(live: LiveServer) -> None:
    if create(live.url, "prog", "Programme").status_code != 201:
        pytest.fail("could not create the channel")
    url = live.url + "/c/prog"
    upload(url, "/uploads", title="Default")
    lunch = upload(url, "/uploads", title="Lunch menu").json()["video"]["id"]
    assert httpx.patch(f"{url}/videos/{lunch}", json={"hidden": True}, headers=ADMIN).is_success
    assert lunch not in ids(url)  # a viewer's listing leaves it out
    now = time.time()
    target = live.url + "/channels/prog/schedule"
    put = httpx.put(target, json={"slots": [slot(now - 5, now + 600, [lunch])]}, headers=ADMIN)
    assert put.status_code == 200
    programme = httpx.get(url + "/programme").json()  # no sign-in: a kiosk asks
    assert programme["timezone"] == ZONE and programme["slots"] == put.json()["slots"]
    assert [(v["id"], v["hidden"]) for v in programme["videos"]] == [(lunch, True)]
    anchor = programme["anchor"]
    assert anchor["id"] == lunch and anchor["slot"].startswith("slot-1@")
    assert abs(anchor["start_time"] - now) < 30 and anchor["back_id"] in ids(url)
    default = httpx.get(live.url + "/programme").json()
    assert (default["slots"], default["videos"], default["timezone"]) == ([], [], ZONE)


def test_a_restart_mid_slot_resumes_in_the_slot(start_server: Callable[..., LiveServer]) -> None:
    server = start_server({"ADMIN_TOKEN": TOKEN, "TIMEZONE": ZONE})
    workdir = server.data_dir.parent
    lunch = upload(server.url, title="Lunch menu").json()["video"]["id"]
    now = time.time()
    put = httpx.put(
        server.url + "/channels/main/schedule",
        json={"slots": [slot(now - 2, now + 600, [lunch])]},
        headers=ADMIN,
    )
    assert put.status_code == 200
    with stream(server.url) as events:
        before = events.until(lambda s: s["id"] == lunch).data
    server.stop()
    again = start_server({"ADMIN_TOKEN": TOKEN, "TIMEZONE": ZONE}, workdir=workdir)
    with stream(again.url) as events:
        after = events.next().data
    # The same slot's video on the same timeline (it loops: a later turn of it is the same plan).
    assert after["id"] == lunch
    loops = (after["start_time"] - before["start_time"]) / before["duration"]
    assert abs(loops - round(loops)) < 1e-6


def test_channels_share_redis_between_workers(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """Two servers on one Redis (two machines): a channel made on one plays on the other, its
    votes and schedule are shared, and deleting it leaves none of its keys behind."""
    import redis

    from tests.redisserver import RedisServer

    with RedisServer(tmp_path / "redis") as server:
        env = {"ADMIN_TOKEN": TOKEN, "TIMEZONE": ZONE, "REDIS_URL": server.url}
        one, two = start_server(env), start_server(env)
        assert create(one.url, "lobby", "Lobby").status_code == 201
        video = upload(one.url, "/c/lobby/uploads", title="Lobby loop").json()["video"]["id"]
        deadline = time.monotonic() + 10
        while httpx.get(two.url + "/c/lobby/videos").status_code != 200:
            assert time.monotonic() < deadline, "the other worker never started the channel"
            time.sleep(0.2)
        assert ids(two.url + "/c/lobby") == [video]
        assert httpx.post(f"{two.url}/c/lobby/like/0", json={"id": video}).json()["likes"] == 1
        likes = httpx.get(one.url + "/c/lobby/videos").json()["videos"][0]["likes"]
        assert likes == 1
        now = time.time()
        put = httpx.put(one.url + "/channels/lobby/schedule", headers=ADMIN,
                        json={"slots": [slot(now + 3600, now + 7200, [video])]})
        assert put.status_code == 200
        shared = httpx.get(two.url + "/channels/lobby/schedule").json()["slots"]
        assert shared == put.json()["slots"]
        keys = redis.Redis.from_url(server.url)
        assert keys.keys("simulcast:c:lobby:*")
        assert httpx.delete(one.url + "/channels/lobby", headers=ADMIN).status_code == 200
        assert keys.keys("simulcast:c:lobby:*") == []
        deadline = time.monotonic() + 10
        while httpx.get(two.url + "/c/lobby/videos").status_code != 404:
            assert time.monotonic() < deadline, "the other worker still serves a deleted channel"
            time.sleep(0.2)
        keys.close()


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_a_new_channel_answers_at_once_on_every_worker(
    start_server: Callable[..., LiveServer],
    tmp_path: Path,
    store: str,
    request: pytest.FixtureRequest,
) -> None:
    """Two workers on one store (the SQLite file `hypercorn --workers 2` shares, or Redis): a
    channel created through one answers through the other straight away, not after that
    worker's next look at the list of channels (once a second)."""
    if store == "redis":
        shared = {"ADMIN_TOKEN": TOKEN, "REDIS_URL": request.getfixturevalue("redis_server").url}
    else:
        shared = {"ADMIN_TOKEN": TOKEN, "DATA_DIR": str(tmp_path / "shared-data")}
    one, two = start_server(shared), start_server(shared)
    # Several rounds: each one a fresh race against the other worker's once-a-second look.
    for turn in range(3):
        assert create(one.url, f"new{turn}", "New").status_code == 201
        videos = httpx.get(f"{two.url}/c/new{turn}/videos")
        assert videos.status_code == 200 and videos.json()["videos"] == []
        assert create(one.url, f"live{turn}", "Live").status_code == 201
        with stream(f"{two.url}/c/live{turn}") as events:
            assert events.next().data["total"] == 0
        assert create(one.url, f"plan{turn}", "Planned").status_code == 201
        schedule = httpx.get(f"{two.url}/channels/plan{turn}/schedule")
        assert schedule.status_code == 200 and schedule.json()["slots"] == []
    # A made-up slug is still a 404, on either worker.
    assert httpx.get(two.url + "/c/nothing-here/videos").status_code == 404
