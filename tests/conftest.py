from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .live import CHROMIUM, CHROMIUM_ARGS, LiveServer
from .redisserver import RedisServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One shared server on the embedded default (samples from static/)."""
    with LiveServer(tmp_path_factory.mktemp("server")) as live:
        yield live


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5-minute WebM, made once; copy it to make long channels."""
    from .mediafiles import make_long_webm

    return make_long_webm(tmp_path_factory.mktemp("long") / "long.webm", seconds=300.0)


@pytest.fixture(scope="session")
def long_channel(long_clip: Path) -> Callable[[Path, int], Path]:
    """A STATIC_DIR of `count` 5-minute videos: no switch lands in the middle of a test."""

    def make(folder: Path, count: int) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(1, count + 1):
            shutil.copyfile(long_clip, folder / f"{number:02d}-video-{number}.webm")
        return folder

    return make


@pytest.fixture(scope="session")
def steady_server(
    tmp_path_factory: pytest.TempPathFactory, long_channel: Callable[[Path, int], Path]
) -> Iterator[LiveServer]:
    """A server playing one 5-minute video: no switch lands in the middle of a test."""
    workdir = tmp_path_factory.mktemp("steady")
    with LiveServer(workdir, {"STATIC_DIR": str(long_channel(workdir / "samples", 1))}) as live:
        yield live


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with their own settings; all are stopped after the test."""
    started: list[LiveServer] = []

    def start(env: dict[str, str] | None = None, workdir: Path | None = None) -> LiveServer:
        live = LiveServer(workdir or tmp_path / f"s{len(started)}", env)
        started.append(live)
        return live.start()

    yield start
    for live in started:
        live.stop()


# Per module, not per session: while sync Playwright is running it holds an event loop in this
# thread, and pytest-asyncio could not run async tests in other modules meanwhile.
@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["sqlite", "redis"])
async def fleet(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """Each fleet store, empty: the SQLite file, and Redis under a prefix of its own (the
    e2e screens tests have a `fleet` of their own: pages, not a store)."""
    from server.store.fleet_redis import RedisFleet
    from server.store.fleet_sqlite import SqliteFleet

    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        store: Any = RedisFleet(server.url, prefix=f"t{time.monotonic_ns()}:")
    else:
        store = SqliteFleet.open(tmp_path / "fleet.db")
    yield store
    await store.close()
