"""The audit log in both stores: newest first, bounded, shared by every process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from server.access import Actor
from server.audit import AuditLog
from server.store import Store
from server.store.redis import RedisStore
from server.store.sqlite import SqliteStore

from .redisserver import RedisServer


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["sqlite", "redis"])
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, Store]]:
    """Two connections to one store, as two worker processes have."""
    if request.param == "sqlite":
        pair: tuple[Store, Store] = (
            SqliteStore.open(tmp_path / "a.db"),
            SqliteStore.open(tmp_path / "a.db"),
        )
    else:
        url = request.getfixturevalue("redis_server").url
        prefix = f"audit-{tmp_path.name}:"
        pair = (RedisStore(url, prefix), RedisStore(url, prefix))
    yield pair
    for store in pair:
        await store.close()


async def test_entries_are_shared_newest_first_and_bounded(stores: tuple[Store, Store]) -> None:
    one, other = stores
    times = iter(range(100, 200))
    log = AuditLog(one, now=lambda: float(next(times)))
    admin = Actor("admin", "session:abc", "10.0.0.7")
    for n in range(3):
        await log.record(admin, "skip", f"video-{n}", title=None, reason="test")
    entries = await AuditLog(other).recent(10)
    assert [e["target"] for e in entries] == ["video-2", "video-1", "video-0"]
    assert entries[0] == {
        "at": 102.0,
        "role": "admin",
        "via": "session:abc",
        "ip": "10.0.0.7",
        "action": "skip",
        "target": "video-2",
        "detail": {"reason": "test"},
    }
    assert len(await log.recent(2)) == 2
    for n in range(5):
        await other.add_audit({"n": n}, 4)
    kept = await one.audit(100)
    assert [e.get("n") for e in kept] == [4, 3, 2, 1]
