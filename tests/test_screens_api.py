"""Screens, metrics, proof of play and readiness: the rules, both fleet stores, the HTTP contract.

The browser side (pages and the kiosk reporting, the console) is in e2e/test_screens.py.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.plays import PlayQueryError, parse_time, to_csv, with_ends
from server.screens import (
    BAD_OFFSET_MS,
    MAX_REPORT_BYTES,
    OFFLINE_AFTER,
    Limiter,
    ReportError,
    health,
    merge,
    parse_report,
    present,
)
from server.store.fleet import Fleet
from server.store.fleet_redis import RedisFleet
from server.store.fleet_sqlite import SqliteFleet

from .live import LiveServer, poll
from .mediafiles import make_channel
from .redisserver import RedisServer
from .sse import stream

ADMIN = "screens-api-admin"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def report(**fields: Any) -> dict[str, Any]:
    return {"id": "screen-0001", "page": "/ambient", **fields}


# -- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ([], "JSON object"),
        ({"page": "/"}, "id must be"),
        (report(id="short"), "id must be"),
        (report(id="../../etc/passwd"), "id must be"),
        (report(page="/upload"), "page must be one of"),
        (report(offset_ms="12"), "offset_ms must be a number"),
        (report(offset_ms=float("nan")), "offset_ms must be a number"),
        (report(sound="yes"), "sound must be true or false"),
        (report(name=12), "name must be text"),
    ],
)
def test_a_bad_report_says_which_field(payload: Any, why: str) -> None:
    with pytest.raises(ReportError, match=why):
        parse_report(payload)


def test_a_report_is_bounded() -> None:
    parsed = parse_report(report(name="x" * 500, offset_ms=1e12, rate=-3, stalls=-4, extra="y"))
    assert len(parsed["reported_name"]) == 80
    assert parsed["offset_ms"] == 1e7 and parsed["rate"] == 0 and parsed["stalls"] == 0
    assert "extra" not in parsed


def test_the_latest_name_wins_between_the_screen_and_the_console() -> None:
    first = merge(None, parse_report(report(name="Lobby")), 100.0, "10.0.0.9")
    assert first["name"] == "Lobby" and first["first_seen"] == 100.0
    renamed = {**first, "name": "Lobby left"}  # the console renamed it
    again = merge(renamed, parse_report(report(name="Lobby", stalls=2)), 105.0, None)
    assert again["name"] == "Lobby left"  # the screen still says what it said: the rename stands
    assert again["stalls_total"] == 2 and again["first_seen"] == 100.0
    moved = merge(again, parse_report(report(name="Bar", stalls=1)), 110.0, None)
    assert moved["name"] == "Bar" and moved["stalls_total"] == 3  # changed on the screen: wins


def test_health_offline_after_three_missed_reports_or_a_goodbye() -> None:
    seen = merge(None, parse_report(report(video_id="v", offset_ms=5.0, playing=True)), 0.0, None)
    assert health(seen, OFFLINE_AFTER) == "ok"
    assert health(seen, OFFLINE_AFTER + 0.1) == "offline"
    bye = merge(seen, parse_report(report(video_id="v", bye=True)), 1.0, None)
    assert health(bye, 1.0) == "offline"
    assert health({**seen, "offset_ms": 40.0}, 1.0) == "off"  # more than a frame
    assert health({**seen, "offset_ms": -BAD_OFFSET_MS - 1}, 1.0) == "bad"
    assert health({**seen, "playing": False}, 1.0) == "bad"


def test_the_list_is_worst_first() -> None:
    def screen(i: str, offset: float | None, seen: float) -> dict[str, Any]:
        rec = merge(
            None,
            parse_report(report(id=f"screen-{i}", video_id="v", playing=True, offset_ms=offset)),
            seen,
            None,
        )
        return rec

    records = [
        screen("good", 2.0, 100),
        screen("gone", 0.0, 10),
        screen("off", -50.0, 100),
        screen("bad", 300.0, 100),
        screen("fine", -8.0, 100),
    ]
    listed = present(records, 100.0, lambda video_id: "Title")
    assert [s["id"] for s in listed] == [
        "screen-gone",
        "screen-bad",
        "screen-off",
        "screen-fine",
        "screen-good",
    ]
    assert listed[0]["online"] is False and listed[-1]["title"] == "Title"


def test_a_screen_may_burst_then_one_report_a_second() -> None:
    limiter = Limiter()
    assert [limiter.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", 0.0)  # each screen has its own allowance
    assert not limiter.allow("a", 0.5) and limiter.allow("a", 1.6)


def test_a_play_ends_at_the_next_or_at_its_duration() -> None:
    plays = [
        {"video_id": "a", "start": 0.0, "duration": 10.0},
        {"video_id": "b", "start": 4.0, "duration": 10.0},  # a was skipped at 4 s
        {"video_id": "c", "start": 30.0, "duration": 5.0},  # nothing played from 14 to 30
    ]
    assert [p["end"] for p in with_ends(plays)] == [4.0, 14.0, 35.0]
    assert with_ends([]) == []


def test_times_are_unix_seconds_or_iso_8601() -> None:
    assert parse_time("1700000000.5", 0, "from") == 1700000000.5
    assert parse_time("2026-12-01T09:00:00Z", 0, "from") == 1796115600.0
    assert parse_time("2026-12-01T10:00:00+01:00", 0, "from") == 1796115600.0
    assert parse_time(None, 42.0, "from") == 42.0
    with pytest.raises(PlayQueryError, match="to must be"):
        parse_time("yesterday", 0, "to")


# -- both fleet stores ----------------------------------------------------------------------


async def test_screens_actions_and_names_in_the_store(fleet: Fleet) -> None:
    def first(_: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": "s-000001", "name": "A", "last_seen": 1.0}

    assert await fleet.command("s-000001", "identify", 1.0) is False  # unknown yet
    assert await fleet.save_screen("s-000001", first, since=0.0, max_screens=1) is not None
    # A second screen is refused past the limit; the known one still reports.
    assert await fleet.save_screen("s-000002", first, since=0.0, max_screens=1) is None
    assert await fleet.command("s-000001", "identify", 10.0)
    assert await fleet.command("s-000001", "reload", 100.0)
    saved = await fleet.save_screen(
        "s-000001", lambda r: {**(r or {}), "x": 1}, since=50.0, max_screens=1
    )
    assert saved is not None
    record, actions = saved
    assert actions == ["reload"]  # the stale identify is dropped, the fresh reload delivered
    assert record == {"id": "s-000001", "name": "A", "last_seen": 1.0, "x": 1}
    again = await fleet.save_screen("s-000001", lambda r: r or {}, since=0.0, max_screens=1)
    assert again is not None and again[1] == []  # delivered once
    renamed = await fleet.update_screen("s-000001", lambda r: {**r, "name": "B"})
    assert renamed is not None and renamed["name"] == "B"
    assert await fleet.update_screen("nope-0001", lambda r: r) is None
    assert [s["name"] for s in await fleet.screens()] == ["B"]
    assert await fleet.forget_screen("s-000001") and not await fleet.forget_screen("s-000001")
    assert await fleet.screens() == []


async def test_plays_and_workers_in_the_store(fleet: Fleet) -> None:
    await fleet.record_play("main", "old", 100.0, "Old", 10.0, keep_after=0.0)
    await fleet.record_play("main", "a", 1000.0, "A", 30.0, keep_after=0.0)
    await fleet.record_play("main", "a", 1000.0, "A", 30.0, keep_after=0.0)  # a second worker
    await fleet.add_play_screens("main", "a", 1000.0, ["s2", "s1"])
    await fleet.add_play_screens("main", "a", 1000.0, ["s1"])
    await fleet.record_play("main", "b", 1030.0, "B", 30.0, keep_after=500.0)  # "old" ages out
    plays = await fleet.plays(0.0, 2000.0)
    assert [(p["video_id"], p["screens"]) for p in plays] == [("a", ["s1", "s2"]), ("b", [])]
    assert await fleet.plays(1030.0, 1031.0) == [
        {
            "channel": "main",
            "video_id": "b",
            "start": 1030.0,
            "title": "B",
            "duration": 30.0,
            "screens": [],
        }
    ]
    now = time.time()
    await fleet.put_figures("w1", {"events": 3}, now)
    await fleet.put_figures("w2", {"events": 4}, now - 60)  # long gone
    live = await fleet.figures(now)
    assert live.get("w1") == {"events": 3} and ("w2" not in live or isinstance(fleet, RedisFleet))


async def test_each_channel_has_its_own_plays_in_the_store(fleet: Fleet) -> None:
    """The same video starting at the same instant on two channels is two plays, each with
    its own screens; a channel's plays age out like the default channel's."""
    await fleet.record_play("lobby", "old", 100.0, "Old", 10.0, keep_after=0.0)
    await fleet.record_play("main", "a", 1000.0, "A", 30.0, keep_after=0.0)
    await fleet.record_play("lobby", "a", 1000.0, "A", 30.0, keep_after=500.0)
    await fleet.add_play_screens("lobby", "a", 1000.0, ["lobby-screen"])
    await fleet.add_play_screens("main", "a", 1000.0, ["main-screen"])
    await fleet.record_play("cafe", "c", 1010.0, "C", 30.0, keep_after=500.0)

    def shown(plays: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
        return [(p["channel"], p["video_id"], p["screens"]) for p in plays]

    assert shown(await fleet.plays(0.0, 2000.0, "lobby")) == [("lobby", "a", ["lobby-screen"])]
    assert shown(await fleet.plays(0.0, 2000.0, "main")) == [("main", "a", ["main-screen"])]
    assert shown(await fleet.plays(0.0, 2000.0)) == [
        ("lobby", "a", ["lobby-screen"]),
        ("main", "a", ["main-screen"]),
        ("cafe", "c", []),
    ]
    assert await fleet.plays(0.0, 2000.0, "nowhere") == []


async def test_a_play_log_from_before_channels_is_the_default_channels(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "fleet.db")
    old.executescript(
        "CREATE TABLE plays (video_id TEXT NOT NULL, start REAL NOT NULL, title TEXT NOT NULL,"
        " duration REAL NOT NULL, PRIMARY KEY (video_id, start));"
        "CREATE TABLE play_screens (video_id TEXT NOT NULL, start REAL NOT NULL,"
        " screen_id TEXT NOT NULL, PRIMARY KEY (video_id, start, screen_id));"
        "INSERT INTO plays VALUES ('a', 1000.0, 'A', 30.0);"
        "INSERT INTO play_screens VALUES ('a', 1000.0, 'old-screen');"
    )
    old.commit()
    old.close()
    for _ in range(2):  # moved once; the second start finds nothing left to move
        store = SqliteFleet.open(tmp_path / "fleet.db")
        try:
            (play,) = await store.plays(0.0, 2000.0, "main")
            assert (play["video_id"], play["screens"]) == ("a", ["old-screen"])
        finally:
            await store.close()


def test_plays_end_within_their_channel() -> None:
    plays = [
        {"channel": "main", "start": 0.0, "duration": 10.0},
        {"channel": "lobby", "start": 2.0, "duration": 10.0},  # another channel: no cut
        {"channel": "main", "start": 6.0, "duration": 10.0},
    ]
    assert [p["end"] for p in with_ends(plays)] == [6.0, 12.0, 16.0]


# -- over HTTP --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("screens-api")
    samples = make_channel(workdir / "samples", ("one", 4.0), ("two", 4.0))
    with LiveServer(workdir, {"STATIC_DIR": str(samples), "ADMIN_TOKEN": ADMIN}) as server:
        yield server


def post_report(live: LiveServer, **fields: Any) -> httpx.Response:
    return httpx.post(live.url + "/screens/report", json=report(**fields))


def test_report_errors_are_clear_json(live: LiveServer) -> None:
    bad = httpx.post(live.url + "/screens/report", content=b"{nope")
    assert bad.status_code == 400 and bad.json() == {
        "success": False,
        "error": "The report is not JSON.",
    }
    wrong = httpx.post(live.url + "/screens/report", json={"id": "x", "page": "/"})
    assert wrong.status_code == 400 and "id must be" in wrong.json()["error"]
    huge = httpx.post(live.url + "/screens/report", json=report(name="x" * MAX_REPORT_BYTES))
    assert huge.status_code == 413 and "4096 bytes" in huge.json()["error"]
    assert httpx.get(live.url + "/screens").status_code == 401  # admin only


def test_a_flooding_screen_gets_429(live: LiveServer) -> None:
    codes = [post_report(live, id="flooder-01").status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and 429 in codes
    limited = post_report(live, id="flooder-01")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"


def test_rename_identify_forget_over_http(live: LiveServer) -> None:
    assert post_report(live, id="console-01", name="Hall").json()["name"] == "Hall"
    url = f"{live.url}/screens/console-01"
    assert (
        httpx.patch(url, json={"name": "  Main   hall "}, headers=AUTH).json()["name"]
        == "Main hall"
    )
    assert httpx.patch(url, json={"name": 5}, headers=AUTH).status_code == 400
    assert httpx.patch(url, json={"name": "x"}).status_code == 401
    assert httpx.post(url + "/identify", headers=AUTH).json()["success"] is True
    assert httpx.post(url + "/dance", headers=AUTH).status_code in (404, 405)
    answer = post_report(live, id="console-01", name="Hall").json()
    assert answer["name"] == "Main hall" and answer["commands"] == ["identify"]
    listed = {s["id"]: s for s in httpx.get(live.url + "/screens", headers=AUTH).json()["screens"]}
    assert listed["console-01"]["name"] == "Main hall" and listed["console-01"]["online"]
    assert httpx.delete(url, headers=AUTH).json()["success"] is True
    assert httpx.delete(url, headers=AUTH).status_code == 404
    assert httpx.post(url + "/reload", headers=AUTH).status_code == 404


def test_proof_of_play_as_json_and_csv(live: LiveServer) -> None:
    deadline = time.monotonic() + 20
    while True:  # two videos of 4 s: wait until two plays are logged
        plays = httpx.get(live.url + "/admin/plays", headers=AUTH).json()["plays"]
        if len(plays) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(plays) >= 2
    first = plays[0]
    assert {"video_id", "title", "start", "end", "screens"} <= first.keys()
    assert first["end"] == pytest.approx(plays[1]["start"]) and first["title"] in ("One", "Two")
    # A screen that reports what it shows is in the play's list.
    current = plays[-1]
    post_report(
        live,
        id="prover-001",
        name="Proof",
        video_id=current["video_id"],
        start_time=current["start"],
    )
    listed = httpx.get(live.url + "/admin/plays", headers=AUTH).json()["plays"]
    shown = next(p for p in listed if p["start"] == current["start"])
    assert {"id": "prover-001", "name": "Proof"} in shown["screens"]
    text = httpx.get(live.url + "/admin/plays?format=csv", headers=AUTH)
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert rows and rows[-1]["start_utc"].endswith("Z") and "Proof" in rows[-1]["screen_names"]
    assert to_csv([]).startswith("video_id,title,start,end")
    by_accept = httpx.get(live.url + "/admin/plays", headers={**AUTH, "Accept": "text/csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")
    window = httpx.get(live.url + "/admin/plays?from=0&to=1", headers=AUTH).json()
    assert window["plays"] == []
    bad = httpx.get(live.url + "/admin/plays?from=soon", headers=AUTH)
    assert bad.status_code == 400 and "from must be" in bad.json()["error"]
    assert httpx.get(live.url + "/admin/plays?from=10&to=5", headers=AUTH).status_code == 400
    assert httpx.get(live.url + "/admin/plays").status_code == 401


@pytest.fixture(scope="module")
def lobby(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with a second channel, "lobby", that plays one of the default channel's two
    videos (the same file)."""
    workdir = tmp_path_factory.mktemp("screens-channels")
    samples = make_channel(workdir / "samples", ("one", 4.0), ("two", 4.0))
    with LiveServer(workdir, {"STATIC_DIR": str(samples), "ADMIN_TOKEN": ADMIN}) as server:
        made = httpx.post(
            server.url + "/channels", json={"slug": "lobby", "title": "Lobby"}, headers=AUTH
        )
        assert made.status_code == 201
        videos = httpx.get(server.url + "/videos").json()["videos"]
        two = next(v["id"] for v in videos if v["title"] == "Two")
        added = httpx.post(server.url + "/channels/lobby/videos", json={"id": two}, headers=AUTH)
        assert added.status_code == 200
        yield server


def test_metrics_have_every_channels_series(lobby: LiveServer) -> None:
    video = httpx.get(lobby.url + "/c/lobby/videos").json()["videos"][0]["id"]
    httpx.post(lobby.url + "/c/lobby/like/0", json={"id": video}).raise_for_status()

    def lobby_viewer() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        samples = metric_samples(httpx.get(lobby.url + "/metrics").text)
        return samples if samples.get(("simulcast_viewers", (("channel", "lobby"),))) else None

    with stream(lobby.url + "/c/lobby") as events:
        events.next()
        samples = poll(lobby_viewer, 10, "the lobby's viewer in /metrics")
    (worker,) = {
        dict(labels)["worker"] for name, labels in samples if name == "simulcast_votes_total"
    }
    in_lobby = (("channel", "lobby"), ("worker", worker))
    assert samples[("simulcast_viewers", (("channel", "lobby"),))] == 1
    assert samples[("simulcast_connections", in_lobby)] == 1
    assert samples[("simulcast_votes_total", in_lobby)] == 1
    assert samples[("simulcast_events_published_total", in_lobby)] >= 1
    assert samples[("simulcast_videos_in_rotation", (("channel", "lobby"),))] == 1
    assert samples[("simulcast_store_up", (("channel", "lobby"), ("store", "sqlite")))] == 1
    assert ("simulcast_conversions", (("channel", "lobby"), ("state", "queued"))) in samples
    # The default channel's series are the ones it always had, without a channel label, and
    # count only its own viewers and votes.
    assert samples[("simulcast_viewers", ())] == 0
    assert samples[("simulcast_connections", (("worker", worker),))] == 0
    assert samples[("simulcast_votes_total", (("worker", worker),))] == 0
    assert samples[("simulcast_videos_in_rotation", ())] == 2
    assert samples[("simulcast_store_up", (("store", "sqlite"),))] == 1


def test_proof_of_play_for_every_channel(lobby: LiveServer) -> None:
    def lobby_plays() -> list[dict[str, Any]] | None:
        answer = httpx.get(lobby.url + "/admin/plays?channel=lobby", headers=AUTH).json()
        return answer["plays"] if len(answer["plays"]) >= 2 else None

    plays = poll(lobby_plays, 20, "two plays on the lobby")
    two = httpx.get(lobby.url + "/c/lobby/videos").json()["videos"][0]["id"]
    assert {(p["channel"], p["video_id"]) for p in plays} == {("lobby", two)}
    assert plays[0]["end"] == pytest.approx(plays[1]["start"])
    # A screen showing the lobby's current play is on that play, not on the default channel's.
    current = plays[-1]
    shown = {"video_id": two, "start_time": current["start"]}
    post_report(lobby, id="lobby-screen-1", name="Lobby left", **shown).raise_for_status()
    listed = httpx.get(lobby.url + "/admin/plays?channel=lobby", headers=AUTH).json()["plays"]
    play = next(p for p in listed if p["start"] == current["start"])
    assert play["screens"] == [{"id": "lobby-screen-1", "name": "Lobby left"}]
    default = httpx.get(lobby.url + "/admin/plays", headers=AUTH).json()["plays"]
    assert default and {p["channel"] for p in default} == {"main"}
    assert all(p["screens"] == [] for p in default)
    every = httpx.get(lobby.url + "/admin/plays?channel=*", headers=AUTH).json()["plays"]
    assert {p["channel"] for p in every} == {"main", "lobby"}
    assert [p["start"] for p in every] == sorted(p["start"] for p in every)
    text = httpx.get(lobby.url + "/admin/plays?channel=lobby&format=csv", headers=AUTH).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["channel"] for r in rows} == {"lobby"} and "Lobby left" in rows[-1]["screen_names"]
    bad = httpx.get(lobby.url + "/admin/plays?channel=Not A Slug", headers=AUTH)
    assert bad.status_code == 400 and "channel must be" in bad.json()["error"]


def test_readyz_and_healthz_are_separate(live: LiveServer) -> None:
    ready = httpx.get(live.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert ready.json()["store"]["ok"] and ready.json()["fleet"]["ok"]
    assert set(ready.json()["storages"]) == {"static", "local"}
    assert httpx.get(live.url + "/healthz").json()["status"] == "ok"


def test_readyz_fails_when_local_storage_goes_away(start_server: Any, tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    server = start_server({"UPLOAD_DIR": str(uploads)})
    assert httpx.get(server.url + "/readyz").status_code == 200
    uploads.rmdir()  # the volume is gone (unmounted, deleted)
    uploads.write_text("a file where the upload folder was")
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 503 and ready.json()["ready"] is False
    assert ready.json()["storages"]["local"]["ok"] is False
    assert httpx.get(server.url + "/healthz").status_code == 200  # alive all the same


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_parse_and_count(live: LiveServer) -> None:
    vid = httpx.get(live.url + "/videos").json()["videos"][0]["id"]
    httpx.post(live.url + "/like/0", json={"id": vid}).raise_for_status()
    httpx.post(live.url + "/uploads", files={"video": ("x.txt", b"not a video")})
    response = httpx.get(live.url + "/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = metric_samples(response.text)
    (worker,) = {
        dict(labels)["worker"] for name, labels in samples if name == "simulcast_votes_total"
    }
    assert samples[("simulcast_votes_total", (("worker", worker),))] >= 1
    assert (
        samples[("simulcast_uploads_total", (("outcome", "unsupported"), ("worker", worker)))] >= 1
    )
    assert samples[("simulcast_events_published_total", (("worker", worker),))] >= 1
    assert samples[("simulcast_store_up", (("store", "sqlite"),))] == 1
    assert samples[("simulcast_storage_up", (("storage", "local"),))] == 1
    assert samples[("simulcast_videos_in_rotation", ())] == 2
    assert ("simulcast_conversions", (("state", "queued"),)) in samples
    assert ("simulcast_screen_offset_abs_ms_bucket", (("le", "+Inf"),)) in samples


def test_metrics_token(start_server: Any) -> None:
    server = start_server({"METRICS_TOKEN": "scrape-me"})
    assert httpx.get(server.url + "/metrics").status_code == 401
    wrong = httpx.get(server.url + "/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "METRICS_TOKEN" not in wrong.text
    good = httpx.get(server.url + "/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert good.status_code == 200 and "simulcast_viewers" in good.text


def test_two_processes_on_redis_share_screens_actions_and_metrics(
    redis_server: RedisServer, tmp_path: Path, start_server: Any
) -> None:
    samples = make_channel(tmp_path / "samples", ("one", 30.0))
    env = {"REDIS_URL": redis_server.url, "ADMIN_TOKEN": ADMIN, "STATIC_DIR": str(samples)}
    a, b = start_server(env), start_server(env)
    httpx.post(
        a.url + "/screens/report", json=report(id="shared-01", name="Shared")
    ).raise_for_status()
    listed = httpx.get(b.url + "/screens", headers=AUTH).json()["screens"]
    assert [s["name"] for s in listed if s["id"] == "shared-01"] == ["Shared"]
    httpx.post(b.url + "/screens/shared-01/reload", headers=AUTH).raise_for_status()
    answer = httpx.post(a.url + "/screens/report", json=report(id="shared-01", name="Shared"))
    assert answer.json()["commands"] == ["reload"]  # queued on b, delivered through a
    deadline = time.monotonic() + 15
    while True:  # each worker publishes its figures every 5 s
        samples_a = metric_samples(httpx.get(a.url + "/metrics").text)
        workers = {
            dict(labels)["worker"]
            for name, labels in samples_a
            if name == "simulcast_events_published_total"
        }
        if len(workers) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(workers) == 2
    assert samples_a[("simulcast_store_up", (("store", "redis"),))] == 1
