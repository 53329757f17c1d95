"""The channel's verbs without HTTP, against both stores: votes (atomic toggles), my votes,
health, catalog changes, switches, and following another worker through `store.changes()`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from server.catalog import Counts, Status, Video
from server.channel import Channel
from server.store import EVERYTHING, Change, Store
from server.store.redis import RedisStore
from server.store.sqlite import SqliteStore

from .redisserver import RedisServer

T0 = 1_700_000_000.0
OpenStore = Callable[[], Awaitable[Store]]


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


def video(name: str, duration: float = 10.0, **extra: object) -> Video:
    return Video(
        id=name, title=name, storage="static", key=f"{name}.webm", duration=duration, **extra
    )  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "redis"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OpenStore]:
    """Opens connections to one fresh store, as separate worker processes would."""
    opened: list[Store] = []
    prefix = f"test-{uuid.uuid4().hex[:8]}:"

    async def open_one() -> Store:
        store: Store
        if request.param == "sqlite":
            store = SqliteStore.open(tmp_path / "channel.db")
        else:
            server: RedisServer = request.getfixturevalue("redis_server")
            store = RedisStore(server.url, prefix=prefix)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


async def channel_with(
    open_store: OpenStore, *videos: Video, clock: Clock | None = None
) -> Channel:
    channel = Channel(await open_store(), now=clock or Clock())
    await channel.refresh()
    for v in videos:
        await channel.upsert(v)
    return channel


async def next_change(changes: AsyncIterator[Change], timeout: float = 5.0) -> Change:
    return await asyncio.wait_for(anext(changes), timeout)


# -- votes -----------------------------------------------------------------------------------


async def test_pressing_like_sets_then_withdraws_and_dislike_switches(
    open_store: OpenStore,
) -> None:
    channel = await channel_with(open_store, video("a"))
    first = await channel.toggle_vote("a", "viewer", 1)
    assert (first.mine, first.counts) == (1, Counts(1, 0))
    again = await channel.toggle_vote("a", "viewer", 1)
    assert (again.mine, again.counts) == (0, Counts(0, 0))
    disliked = await channel.toggle_vote("a", "viewer", -1)
    assert (disliked.mine, disliked.counts) == (-1, Counts(0, 1))
    liked = await channel.toggle_vote("a", "viewer", 1)
    assert (liked.mine, liked.counts) == (1, Counts(1, 0))
    other = await channel.toggle_vote("a", "someone else", 1)
    assert other.counts == Counts(2, 0)
    assert channel.counts["a"] == Counts(2, 0)
    assert await channel.my_votes("viewer") == {"a": 1}
    assert await channel.my_votes("nobody") == {}


async def test_quick_taps_from_two_workers_each_count_once(open_store: OpenStore) -> None:
    """Each tap toggles from the state the previous one left, even when they race on two
    connections: an even number of taps leaves no vote, whatever the interleaving."""
    one = await channel_with(open_store, video("a"))
    two = await channel_with(open_store)
    taps = [(one if i % 2 else two).toggle_vote("a", "viewer", 1) for i in range(10)]
    votes = await asyncio.gather(*taps)
    assert sorted(v.mine for v in votes) == [0] * 5 + [1] * 5
    assert await one.my_votes("viewer") == {}
    assert (await one.store.counts()).get("a", Counts()) == Counts(0, 0)


async def test_health_says_what_the_channel_holds(open_store: OpenStore) -> None:
    channel = await channel_with(
        open_store, video("a"), video("b"), video("c", status=Status.PROCESSING)
    )
    report = await channel.health()
    assert report["store"]["ok"] is True
    assert report["store"]["store"] == channel.store.name
    assert report["videos"] == 2  # the one being converted is not in the rotation
    assert report["connections"] == 0 and report["switches"] == 0
    assert report["worker"] == channel.worker_id


# -- the catalog and the clock ---------------------------------------------------------------


async def test_adding_and_removing_never_moves_what_plays(open_store: OpenStore) -> None:
    clock = Clock()
    channel = await channel_with(open_store, video("a"), video("b"), clock=clock)
    clock.t += 13.0  # b plays, 3 s in
    playing = channel.current()
    assert playing is not None and playing.video.id == "b"
    await channel.upsert(video("c"))
    after = channel.current()
    assert after is not None and (after.video.id, after.started_at) == ("b", playing.started_at)
    assert [v.id for v in channel.playlist] == ["a", "b", "c"]
    await channel.remove("b")  # the playing one gives way to the next, now
    now_playing = channel.current()
    assert now_playing is not None and (now_playing.video.id, now_playing.started_at) == (
        "c",
        clock.t,
    )
    assert channel.find("b") is None and channel.position("c") == 1


async def test_exactly_one_worker_records_each_switch(open_store: OpenStore) -> None:
    clock = Clock()
    workers = [await channel_with(open_store, clock=clock) for _ in range(3)]
    await workers[0].upsert(video("a", 5.0))
    await workers[0].upsert(video("b", 5.0))
    for worker in workers:
        await worker.refresh()
    clock.t += 5.5  # a ended: every worker races to record the switch to b
    won = await asyncio.gather(*(w.advance() for w in workers))
    assert sorted(won) == [False, False, True]
    assert {w.anchor.video_id for w in workers} == {"b"}


async def test_skip_starts_the_next_video_now(open_store: OpenStore) -> None:
    clock = Clock()
    channel = await channel_with(open_store, video("a"), video("b"), clock=clock)
    clock.t += 2.0
    await channel.skip()
    playing = channel.current()
    assert playing is not None and (playing.video.id, playing.started_at) == ("b", clock.t)


async def test_a_patch_changes_the_stored_video_not_a_stale_copy(open_store: OpenStore) -> None:
    """A background writer (a poster made, a conversion done) patches the video as the store
    holds it: an admin's hide and rename made meanwhile in another worker stay."""
    background = await channel_with(open_store, video("a"), video("b"))
    admin = await channel_with(open_store)
    renamed = admin.find("a")
    assert renamed is not None
    await admin.upsert(replace(renamed, title="Renamed", hidden=True))
    assert background.find("a") == video("a")  # it has not heard of the change yet

    def postered(stored: Video) -> Video:
        return replace(stored, meta=replace(stored.meta, poster=True))

    patched = await background.patch("a", postered)
    assert patched is not None and (patched.title, patched.hidden, patched.meta.poster) == (
        "Renamed",
        True,
        True,
    )
    await admin.refresh()
    stored = next(v for v in admin.videos if v.id == "a")
    assert (stored.title, stored.hidden, stored.meta.poster) == ("Renamed", True, True)
    assert [v.id for v in background.playlist] == ["b"]  # it left the rotation with the hide
    assert await background.patch("gone", postered) is None
    await admin.remove("b")
    assert await background.patch("b", postered) is None  # deleted meanwhile: nothing written
    await admin.refresh()
    assert admin.find("b") is None  # and not written back


# -- following another worker ------------------------------------------------------------------


async def test_changes_say_what_another_worker_changed(open_store: OpenStore) -> None:
    writer = await channel_with(open_store, video("a"), video("b"))
    follower = await channel_with(open_store)
    changes = follower.store.changes()
    assert await next_change(changes) == EVERYTHING  # a first read: anything may be new
    await follower.follow(EVERYTHING)
    assert [v.id for v in follower.videos] == ["a", "b"]

    await writer.toggle_vote("a", "viewer", 1)
    await writer.toggle_vote("b", "viewer", -1)
    voted = await next_change(changes)
    while voted.votes != {"a", "b"}:  # the two votes may arrive as one change or two
        voted |= await next_change(changes)
    assert not voted.catalog  # a vote reloads counts, never the catalog
    await follower.follow(voted)
    assert follower.counts["a"] == Counts(1, 0) and follower.counts["b"] == Counts(0, 1)

    # Withdrawn: the follower learns the count went back to zero.
    await writer.toggle_vote("a", "viewer", 1)
    withdrawn = await next_change(changes)
    assert withdrawn == Change(votes=frozenset({"a"}))
    await follower.follow(withdrawn)
    assert follower.counts["a"] == Counts(0, 0)

    # Presence reports change neither the catalog nor the votes: nothing to follow.
    await writer.count_viewers()
    pending = asyncio.ensure_future(anext(changes))
    done, _ = await asyncio.wait({pending}, timeout=1.0)
    assert not done, pending.result()
    await writer.upsert(video("c"))
    added = await asyncio.wait_for(pending, 5.0)
    assert added.catalog
    await follower.follow(added)
    assert [v.id for v in follower.playlist] == ["a", "b", "c"]
    await changes.aclose()  # type: ignore[attr-defined]


async def test_own_changes_are_not_news(open_store: OpenStore) -> None:
    channel = await channel_with(open_store, video("a"))
    other = await channel_with(open_store)
    changes = channel.store.changes()
    assert await next_change(changes) == EVERYTHING
    await channel.toggle_vote("a", "viewer", 1)
    await channel.upsert(video("b"))
    pending = asyncio.ensure_future(anext(changes))
    done, _ = await asyncio.wait({pending}, timeout=1.0)
    assert not done, pending.result()
    await other.toggle_vote("a", "another viewer", -1)  # the first news is the other's
    assert await asyncio.wait_for(pending, 5.0) == Change(votes=frozenset({"a"}))
    await changes.aclose()  # type: ignore[attr-defined]
