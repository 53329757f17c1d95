"""A channel's schedule without HTTP, against both stores: kept in the store with the anchor,
announced ahead of its boundary, and each boundary recorded by exactly one of racing workers."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from kiosk.plan import plan_from_state, playlist_from_listing, state_at
from server.catalog import Counts, listing
from server.channel import Channel
from shared.slots import parse

from .test_channel import T0, Clock, OpenStore, open_store, video

__all__ = ["open_store"]  # a fixture, used by name (redis_server comes from conftest)

UTC = ZoneInfo("UTC")


def at(offset: float) -> str:
    return dt.datetime.fromtimestamp(T0 + offset, UTC).strftime("%H:%M:%S")


def lunch(start: float, end: float) -> dict[str, object]:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return {"id": "lunch", "days": days, "start": at(start), "end": at(end), "playlist": ["l"]}


async def workers(open_store: OpenStore, clock: Clock, count: int) -> list[Channel]:
    channels = [Channel(await open_store(), now=clock, zone=UTC) for _ in range(count)]
    for channel in channels:
        await channel.refresh()
    await channels[0].upsert(video("a", 100.0))
    await channels[0].upsert(video("l", 30.0, hidden=True))  # plays in the slot only
    await channels[0].set_schedule(parse({"slots": [lunch(50, 80)]}))
    for channel in channels:
        await channel.refresh()
    return channels


async def test_the_slot_is_announced_with_its_exact_start(open_store: OpenStore) -> None:
    clock = Clock()
    (channel,) = await workers(open_store, clock, 1)
    clock.t = T0 + 49.0
    state = channel.state("sync")
    assert state["id"] == "a" and state["next"] is not None
    assert (state["next"]["id"], state["next"]["start_time"]) == ("l", T0 + 50)
    clock.t = T0 + 79.0
    later = channel.state("sync")
    assert later["id"] == "l" and later["next"] is not None
    assert (later["next"]["id"], later["next"]["start_time"]) == ("a", T0 + 80)


async def test_exactly_one_worker_records_each_slot_boundary(open_store: OpenStore) -> None:
    clock = Clock()
    racing = await workers(open_store, clock, 3)
    clock.t = T0 + 50.2  # the slot started: every worker races to record it
    won = await asyncio.gather(*(w.advance() for w in racing))
    assert sorted(won) == [False, False, True]
    for worker in racing:
        assert (worker.anchor.video_id, worker.anchor.started_at) == ("l", T0 + 50)
        assert worker.anchor.slot.startswith("lunch@") and worker.anchor.back_id == "a"
    clock.t = T0 + 80.5  # and its end, back to the video it interrupted
    won = await asyncio.gather(*(w.advance() for w in racing))
    assert sorted(won) == [False, False, True]
    assert {(w.anchor.video_id, w.anchor.started_at, w.anchor.slot) for w in racing} == {
        ("a", T0 + 80, "")
    }


async def test_another_worker_follows_a_new_schedule(open_store: OpenStore) -> None:
    clock = Clock()
    first, second = await workers(open_store, clock, 2)
    await first.set_schedule(parse({"slots": []}))
    await second.refresh()
    assert second.schedule.slots == () and second.current() is not None
    clock.t = T0 + 60
    playing = second.current()
    assert playing is not None and playing.video.id == "a"


async def test_a_kiosk_works_out_the_servers_states_from_the_programme(
    open_store: OpenStore,
) -> None:
    """What GET /programme gives a kiosk, taken before a slot and in it, makes the kiosk's own
    states (while the server is away) the server's, second by second across the boundaries."""
    clock = Clock()
    (channel,) = await workers(open_store, clock, 1)
    await channel.upsert(video("b", 40.0))
    finish = {**lunch(200, 230), "id": "late", "boundary": "finish"}
    await channel.set_schedule(parse({"slots": [lunch(50, 80), finish]}))
    listed = [listing(v, i, Counts()) for i, v in enumerate(channel.playlist)]
    for taken in (T0 + 1.0, T0 + 60.0):
        view = channel.programme_view(taken)
        assert [v["id"] for v in view["videos"]] == ["l"]  # hidden: in no viewer's listing
        plan = plan_from_state(channel.state("sync", taken), playlist_from_listing(listed), view)
        for second in range(int(taken - T0), 400):  # from when the kiosk took it
            now = T0 + second + 0.5
            server, kiosk = channel.state("sync", now), state_at(plan, now)
            assert kiosk["next"] is not None and server["next"] is not None
            assert (kiosk["id"], kiosk["start_time"], kiosk["index"], kiosk["total"]) == (
                server["id"], server["start_time"], server["index"], server["total"]), now
            assert (kiosk["next"]["id"], kiosk["next"]["start_time"]) == (
                server["next"]["id"], server["next"]["start_time"]), now
    assert channel.programme_view(T0 + 60.0)["anchor"]["slot"].startswith("lunch@")
