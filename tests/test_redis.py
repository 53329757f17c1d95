"""Several app processes on one store, as `hypercorn -w N` or several machines run them.

Every test starts real processes on a real `redis-server` (or the shared SQLite file) with
one-to-two-second videos, so switches happen all the time while the tests watch.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from server import clock
from server.catalog import Video
from server.clock import Anchor

from .live import ROOT, LiveServer, free_port, wait_for
from .mediafiles import BLUE, GREEN, RED, make_webm
from .redisserver import RedisServer

ADMIN = "test-admin-token"
TIMEOUT = httpx.Timeout(10.0, read=30.0)
State = dict[str, Any]


@pytest.fixture(scope="module")
def videos_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("videos")
    for name, seconds, color in (
        ("01-red", 1.2, RED),
        ("02-green", 1.6, GREEN),
        ("03-blue", 2.0, BLUE),
    ):
        make_webm(folder / f"{name}.webm", seconds, color, with_audio=False)
    return folder


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis.Redis.from_url(redis_server.url).flushall()
    return redis_server.url


@pytest.fixture
def cluster(tmp_path: Path, videos_dir: Path) -> Iterator[Callable[..., list[LiveServer]]]:
    """Start n app processes at once (as a multi-worker start does) sharing the upload folder,
    like machines sharing a volume; all are stopped after the test."""
    started: list[LiveServer] = []
    (tmp_path / "uploads").mkdir()

    def start(n: int, env: dict[str, str]) -> list[LiveServer]:
        base = {
            "STATIC_DIR": str(videos_dir),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "ADMIN_TOKEN": ADMIN,
            **env,
        }
        servers = [LiveServer(tmp_path / f"p{len(started) + i}", base) for i in range(n)]
        started.extend(servers)
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(LiveServer.start, servers))
        for server in servers:
            server.posters_made()
        return servers

    yield start
    for server in started:
        server.stop()



@pytest.fixture(params=["redis", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The settings that put processes on one shared store."""
    if request.param == "redis":
        return {"REDIS_URL": request.getfixturevalue("redis_url")}
    return {"DATA_DIR": str(tmp_path / "shared-data")}


# -- helpers -------------------------------------------------------------------------------


class Stream:
    """One SSE client, collecting every event in the background."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.events: list[State] = []
        self.closed = False
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._read(client, url))

    async def _read(self, client: httpx.AsyncClient, url: str) -> None:
        try:
            async with client.stream("GET", url + "/video-updates") as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        self.events.append(json.loads(line[6:]))
                        self._arrived.set()
        finally:
            self.closed = True
            self._arrived.set()

    async def wait(self, predicate: Callable[[State], bool], timeout: float = 5.0) -> State:
        """The first event (already received or coming) that satisfies `predicate`."""
        seen = 0
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                if self.closed:
                    raise AssertionError("the stream closed")
                self._arrived.clear()
                await self._arrived.wait()

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@asynccontextmanager
async def streams(*urls: str) -> AsyncIterator[list[Stream]]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        opened = [Stream(client, url) for url in urls]
        try:
            yield opened
        finally:
            for stream in opened:
                await stream.close()


def playlist(server: LiveServer) -> list[Video]:
    listed = httpx.get(server.url + "/videos").json()["videos"]
    return [
        Video(v["id"], v["title"], v["storage"], v["id"], v["duration"])
        for v in listed
        if v["index"] is not None
    ]


def on_schedule(videos: list[Video], reference: State, other: State) -> bool:
    """True when `other` (current video and its start) lies on the schedule `reference`
    implies: the two agree even if a switch happened between the two reads."""
    anchor = Anchor(reference["id"], reference["start_time"])
    middle = other["start_time"] + other["duration"] / 2
    playing = clock.now_playing(videos, anchor, middle)
    assert playing is not None
    return playing.video.id == other["id"] and abs(playing.started_at - other["start_time"]) < 1e-6


def boundaries(videos: list[Video], anchor: Anchor, start: float, end: float) -> int:
    """How many video ends the schedule passes between two instants."""
    count, now = 0, start
    while (playing := clock.now_playing(videos, anchor, now)) and playing.ends_at <= end:
        count, now = count + 1, playing.ends_at + 1e-3
    return count


def health(server: LiveServer) -> State:
    return httpx.get(server.url + "/healthz", timeout=10.0).json()


def store_version(env: dict[str, str]) -> int:
    if "REDIS_URL" in env:
        return int(redis.Redis.from_url(env["REDIS_URL"]).hget("simulcast:channel", "version"))
    with sqlite3.connect(Path(env["DATA_DIR"]) / "simulcast.db") as db:
        return int(db.execute("SELECT version FROM channel").fetchone()[0])


def viewer_cookie(viewer: str) -> dict[str, str]:
    # A header, not httpx's per-request cookies (deprecated): each vote is a different viewer.
    return {"Cookie": f"simulcast_viewer={viewer}"}


async def vote(
    client: httpx.AsyncClient, server: LiveServer, viewer: str, kind: str, vid: str
) -> None:
    response = await client.post(
        f"{server.url}/{kind}/0", json={"id": vid}, headers=viewer_cookie(viewer)
    )
    assert response.status_code == 200, response.text


def likes(server: LiveServer, vid: str) -> int:
    listed = httpx.get(server.url + "/videos").json()["videos"]
    return int(next(v["likes"] for v in listed if v["id"] == vid))


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def next_videos(stream: Stream, after: float, n: int) -> list[State]:
    """The next `n` events that start a new video later than `after`."""
    found: list[State] = []
    for _ in range(n):
        found.append(await stream.wait(lambda e, t=after: e["start_time"] > t))
        after = found[-1]["start_time"]
    return found


async def mid_video(stream: Stream, margin: float = 0.4) -> tuple[float, State]:
    """Sleep until the middle of a video, where no worker is busy switching; return the time
    and the state describing that video."""
    state = stream.events[-1]
    for item in (state, state["next"]):
        middle = item["start_time"] + item["duration"] / 2
        if middle - time.time() > margin:
            await asyncio.sleep(middle - time.time())
            return middle, item
    await asyncio.sleep(state["next"]["duration"] / 2 + margin)
    return await mid_video(stream, margin)


# -- tests ---------------------------------------------------------------------------------


async def test_two_processes_agree_on_video_and_start_time(
    cluster: Callable[..., list[LiveServer]], backend: dict[str, str]
) -> None:
    a, b = cluster(2, backend)
    videos = playlist(a)
    assert [(v.id, v.duration) for v in videos] == [(v.id, v.duration) for v in playlist(b)]
    assert len(videos) == 3
    for _ in range(2):
        async with streams(a.url, b.url) as (on_a, on_b):
            first_a, first_b = await on_a.wait(bool), await on_b.wait(bool)
        assert on_schedule(videos, first_a, first_b), (first_a, first_b)
        assert on_schedule(videos, first_b, first_a), (first_a, first_b)
        await asyncio.sleep(0.7)  # and again at another point of the loop


async def test_likes_from_both_processes_add_up_exactly(
    cluster: Callable[..., list[LiveServer]], backend: dict[str, str]
) -> None:
    servers = cluster(2, backend)
    vid = playlist(servers[0])[1].id
    viewers = [uuid.uuid4().hex for _ in range(100)]
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        # 60 likes and 40 dislikes at once, alternating between the processes...
        await asyncio.gather(
            *(
                vote(client, servers[i % 2], viewer, "like" if i < 60 else "dislike", vid)
                for i, viewer in enumerate(viewers)
            )
        )
        # ...then ten likers take theirs back, each through the other process.
        await asyncio.gather(
            *(vote(client, servers[(i + 1) % 2], viewers[i], "like", vid) for i in range(10))
        )

    def counted(server: LiveServer) -> tuple[int, int]:
        entry = next(
            v for v in httpx.get(server.url + "/videos").json()["videos"] if v["id"] == vid
        )
        return entry["likes"], entry["dislikes"]

    await eventually(lambda: all(counted(s) == (50, 40) for s in servers))


async def test_upload_on_one_appears_on_the_others_stream(
    cluster: Callable[..., list[LiveServer]], backend: dict[str, str], tmp_path: Path
) -> None:
    a, b = cluster(2, backend)
    clip = make_webm(tmp_path / "my holiday.webm", 1.0, GREEN, with_audio=False)
    async with streams(b.url) as (on_b,):
        before = (await on_b.wait(bool))["total"]
        with clip.open("rb") as file:
            response = httpx.post(
                a.url + "/uploads", files={"video": (clip.name, file, "video/webm")}, timeout=30
            )
        assert response.status_code == 201, response.text
        vid = response.json()["video"]["id"]
        await on_b.wait(lambda event: event["total"] == before + 1)
    assert vid in [v.id for v in playlist(b)]
    media = httpx.get(f"{b.url}/media/v/{vid}", headers={"Range": "bytes=0-99"})
    assert media.status_code == 206 and media.content == clip.read_bytes()[:100]


async def test_one_switch_per_video_end_with_four_workers_racing(
    cluster: Callable[..., list[LiveServer]], backend: dict[str, str]
) -> None:
    servers = cluster(4, backend)
    videos = playlist(servers[0])
    # A switch is recorded a moment after its instant; the reads of the four counters take a
    # while on a busy machine. Both must fall between the same two switches at each end of the
    # window, or one switch is counted on the wrong side: measure again then.
    lag = 0.3
    async with streams(servers[0].url) as (watch,):
        await watch.wait(bool)
        for _ in range(3):
            start, item = await mid_video(watch)
            anchor = Anchor(item["id"], item["start_time"])
            before = [health(s)["switches"] for s in servers]
            version_before = store_version(backend)
            read_before = time.time()
            await asyncio.sleep(3.5)
            end, _ = await mid_video(watch)
            after = [health(s)["switches"] for s in servers]
            version_after = store_version(backend)
            read_after = time.time()
            straddled = boundaries(videos, anchor, start, read_before + lag) + boundaries(
                videos, anchor, end, read_after + lag
            )
            if not straddled:
                break
        else:
            raise AssertionError("the machine is too busy to read four counters between switches")
    expected = boundaries(videos, anchor, start, end)
    won = [n - m for n, m in zip(after, before, strict=True)]
    assert expected >= 2
    assert sum(won) == expected, (won, expected)
    assert version_after - version_before == expected


async def test_killing_one_process_leaves_the_others_clients_playing(
    cluster: Callable[..., list[LiveServer]], redis_url: str
) -> None:
    a, b = cluster(2, {"REDIS_URL": redis_url})
    videos = playlist(b)
    async with streams(*[b.url] * 5) as clients:
        firsts = [await client.wait(bool) for client in clients]
        switches_before = health(b)["switches"]
        a.kill()
        killed_at = time.time()
        # Every client keeps getting each new video, on the same schedule as before.
        for client, first in zip(clients, firsts, strict=True):
            for event in await next_videos(client, killed_at, 3):
                assert on_schedule(videos, first, event)
            assert not client.closed
        # B now records every switch itself, and still takes votes.
        assert health(b)["switches"] >= switches_before + 2
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            await vote(http, b, uuid.uuid4().hex, "like", videos[0].id)
    assert health(b)["status"] == "ok"


@pytest.mark.parametrize("persistent", [True, False], ids=["aof", "throwaway"])
async def test_redis_away_then_back(
    cluster: Callable[..., list[LiveServer]], tmp_path: Path, persistent: bool
) -> None:
    """With the AOF Redis comes back with everything; without, the workers put back the
    catalog and the schedule they hold (the votes are lost). Either way nothing jumps."""
    with RedisServer(tmp_path / "redis", persistent=persistent) as server:
        a, b = cluster(2, {"REDIS_URL": server.url})
        videos = playlist(a)
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            await vote(http, a, uuid.uuid4().hex, "like", videos[0].id)
        async with streams(a.url, b.url) as (on_a, on_b):
            first = await on_a.wait(bool)
            server.stop()
            down = time.time()
            for live in (a, b):
                report = health(live)
                assert report["status"] == "degraded"
                assert report["store"]["ok"] is False and report["store"]["error"]
            # Clients keep getting switches from the last known state, on the same schedule,
            # and a viewer connecting meanwhile gets that state too.
            for stream in (on_a, on_b):
                for event in await next_videos(stream, down, 2):
                    assert on_schedule(videos, first, event)
            async with streams(b.url) as (newcomer,):
                assert on_schedule(videos, first, await newcomer.wait(bool))
            refused = httpx.post(f"{a.url}/like/0", json={"id": videos[0].id})
            assert refused.status_code == 503
            assert "try again" in refused.json()["error"]
            server.start()  # same port (and the same AOF when persistent)
            await eventually(lambda: all(health(s)["store"].get("listening") for s in (a, b)))
            assert all(health(s)["status"] == "ok" for s in (a, b))
            # Workers restoring an empty Redis race each other; they settle within moments.
            expected = [v.id for v in videos]
            await eventually(lambda: all([v.id for v in playlist(s)] == expected for s in (a, b)))
            for live in (a, b):
                assert likes(live, videos[0].id) == (1 if persistent else 0)
            # Changes flow between the processes again: a vote on A reaches B's clients.
            _, item = await mid_video(on_b)
            before = likes(a, item["id"])
            async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                await vote(http, a, uuid.uuid4().hex, "like", item["id"])
            await on_b.wait(lambda e: e["id"] == item["id"] and e.get("likes") == before + 1)
        async with streams(b.url) as (again,):
            assert on_schedule(videos, first, await again.wait(bool))


async def test_a_wiped_redis_is_restored_not_left_blank(
    cluster: Callable[..., list[LiveServer]], redis_url: str
) -> None:
    """FLUSHALL sends no notice: the workers learn of it at their next write, a switch within
    two seconds here. That write must restore the catalog, not record a switch on a blank store
    (which would make it look used and leave the channel empty for good)."""
    a, b = cluster(2, {"REDIS_URL": redis_url})
    videos = [v.id for v in playlist(a)]
    redis.Redis.from_url(redis_url).flushall()
    await asyncio.sleep(2.5)  # past at least one switch
    await eventually(lambda: all([v.id for v in playlist(s)] == videos for s in (a, b)))
    stored = redis.Redis.from_url(redis_url).hlen("simulcast:videos")
    assert stored == len(videos)


@pytest.mark.parametrize("store", ["redis", "sqlite"])
def test_hypercorn_workers_share_the_channel(
    store: str, tmp_path: Path, videos_dir: Path, request: pytest.FixtureRequest
) -> None:
    """`hypercorn --workers 2 "server:create_app()"`, the deployment the docs describe."""
    port = free_port()
    env = {
        **os.environ,
        "STATIC_DIR": str(videos_dir),
        "DATA_DIR": str(tmp_path / "data"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    if store == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
    command = [sys.executable, "-m", "hypercorn", "--workers", "2", "--bind"]
    command += [f"127.0.0.1:{port}", "server:create_app()"]
    log = (tmp_path / "hypercorn.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/healthz", 30, process)
        # A fresh connection per request lets the kernel pick a worker each time.
        workers = {httpx.get(url + "/healthz").json()["worker"] for _ in range(40)}
        assert len(workers) == 2
        vid = httpx.get(url + "/videos").json()["videos"][0]["id"]
        for _ in range(10):
            cookie = viewer_cookie(uuid.uuid4().hex)
            httpx.post(f"{url}/like/0", json={"id": vid}, headers=cookie).raise_for_status()
        deadline = time.monotonic() + 5
        while True:
            likes = {
                next(
                    v["likes"]
                    for v in httpx.get(url + "/videos").json()["videos"]
                    if v["id"] == vid
                )
                for _ in range(20)
            }
            if likes == {10} or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert likes == {10}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
