from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .live import CHROMIUM, CHROMIUM_ARGS, LiveServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One shared server on the embedded default (samples from static/)."""
    with LiveServer(tmp_path_factory.mktemp("server")) as live:
        yield live


@pytest.fixture(scope="session")
def steady_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server playing one 5-minute video: no switch lands in the middle of a test."""
    from .mediafiles import make_channel

    workdir = tmp_path_factory.mktemp("steady")
    samples = make_channel(workdir / "samples", ("steady", 300.0))
    with LiveServer(workdir, {"STATIC_DIR": str(samples)}) as live:
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
