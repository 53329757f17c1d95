"""The kiosk's offline schedule and resync, byte ranges and the cache settings, without Qt and
without sleeping (clocks are injected)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.channel import LocalChannel, Saved
from kiosk.config import ConfigError, load_config
from kiosk.laststate import load_saved, save
from kiosk.plan import (
    Clip,
    Plan,
    ends_at,
    media_urls,
    plan_from_state,
    play_order,
    playlist_from_listing,
    state_at,
)
from kiosk.ranges import UnsatisfiableRangeError, parse_range

SERVER = "http://tv:8000"
LISTING = [
    {"id": "b", "url": "/media/v/b/webm", "title": "B", "duration": 20.0, "index": 1,
     "sources": [], "poster": "/media/v/b/poster.jpg", "likes": 3},
    {"id": "a", "url": "/media/v/a", "title": "A", "duration": 10.0, "index": 0, "sources": [],
     "poster": None},
    {"id": "x", "url": "/media/v/x", "title": "converting", "duration": 5.0, "index": None},
    {"id": "c", "url": "/media/v/c", "title": "C", "duration": 30.0, "index": 2, "sources": []},
]
CLIPS = playlist_from_listing(LISTING)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_rotation_comes_from_the_listing_in_order_with_what_the_page_needs() -> None:
    assert [c.id for c in CLIPS] == ["a", "b", "c"]
    assert CLIPS[1].item == {"id": "b", "title": "B", "video_url": "/media/v/b/webm",
                             "sources": [], "duration": 20.0, "poster": "/media/v/b/poster.jpg"}


def test_state_at_follows_the_looping_playlist_from_the_anchor() -> None:
    plan = Plan(CLIPS, "b", 1000.0)
    state = state_at(plan, 1005.0)
    assert (state["id"], state["start_time"], state["index"], state["total"]) == ("b", 1000, 1, 3)
    assert (state["next"]["id"], state["next"]["start_time"]) == ("c", 1020.0)
    later = state_at(plan, 1000.0 + 20 + 30 + 10 + 60 * 24 + 3)  # a day of loops later
    assert later["id"] == "b" and later["start_time"] == 1000.0 + 60 * 25
    assert state_at(Plan((), None, 0.0), 5.0)["id"] == ""


def test_media_in_the_order_they_play_posters_first() -> None:
    plan = Plan(CLIPS, "c", 1000.0)
    assert media_urls(plan, 1001.0) == [
        "/media/v/c", "/media/v/a", "/media/v/b/poster.jpg", "/media/v/b/webm"
    ]


def server_state(plan: Plan, now: float) -> dict[str, Any]:
    return state_at(plan, now, reason="connect")


def channel_after_playing(clock: Clock) -> LocalChannel:
    channel = LocalChannel(SERVER, clock=clock)
    channel.set_offset(0.0)
    channel.connected()
    plan = Plan(CLIPS, "a", 1000.0)
    channel.on_server_state(server_state(plan, clock.now), plan)
    return channel


def test_server_gone_the_page_gets_the_schedule_switch_by_switch() -> None:
    clock = Clock(1002.0)
    channel = channel_after_playing(clock)
    key, state, until = channel.page_state()
    assert state is not None and state["id"] == "a" and until == 10.0  # the server's own state
    channel.disconnected()

    clock.now = 1003.0
    key, state, until = channel.page_state()
    assert state is not None and (state["id"], state["start_time"]) == ("a", 1000.0)
    assert until == pytest.approx(7.0)  # the local server wakes at the switch
    clock.now = 1010.0
    _, state, until = channel.page_state()
    assert state is not None and (state["id"], state["next"]["id"]) == ("b", "c")
    assert until == pytest.approx(20.0)
    clock.now = 1000.0 + 60 * 3600  # hours later, still on the same schedule
    assert channel.page_state()[1]["id"] == state_at(Plan(CLIPS, "a", 1000.0), clock.now)["id"]  # type: ignore[index]


def test_a_banner_stays_up_while_the_server_is_away() -> None:
    clock = Clock(1002.0)
    channel = LocalChannel(SERVER, clock=clock)
    channel.set_offset(0.0)
    channel.connected()
    plan = Plan(CLIPS, "a", 1000.0)
    channel.on_server_state({**server_state(plan, clock.now), "banner": {"text": "Drill"}}, plan)
    channel.disconnected()
    clock.now = 1012.0
    state = channel.page_state()[1]
    assert state is not None and state["id"] == "b" and state["banner"] == {"text": "Drill"}


def test_server_back_on_the_same_schedule_is_followed_at_once() -> None:
    clock = Clock(1002.0)
    channel = channel_after_playing(clock)
    channel.disconnected()
    clock.now = 1015.0
    channel.connected()
    plan = Plan(CLIPS, "a", 1000.0)
    channel.on_server_state(server_state(plan, clock.now), plan)
    key, state, _ = channel.page_state()
    assert key[0] == "server" and state is not None and state["id"] == "b"  # type: ignore[index]


def test_server_back_on_another_schedule_is_joined_at_the_next_switch() -> None:
    clock = Clock(1002.0)
    channel = channel_after_playing(clock)
    channel.disconnected()
    clock.now = 1013.0  # offline we play b (1010-1030)
    channel.connected()
    skipped = Plan(CLIPS, "c", 1005.0)  # meanwhile someone skipped to c
    channel.on_server_state(server_state(skipped, clock.now), skipped)

    key, state, until = channel.page_state()
    assert key[0] == "held" and state is not None and state["id"] == "b"  # type: ignore[index]
    assert until == pytest.approx(17.0)
    clock.now = 1030.5
    key, state, _ = channel.page_state()
    assert key[0] == "server" and state is not None and state["id"] == "c"  # type: ignore[index]


def test_offline_time_and_saved_state_round_trip(tmp_path: Path) -> None:
    clock = Clock(1002.0)
    channel = channel_after_playing(clock)
    assert channel.offline_seconds() == 0.0
    channel.disconnected()
    clock.now = 1092.0
    assert channel.offline_seconds() == 90.0
    saved = channel.saved()
    assert saved is not None
    save(tmp_path, saved)

    again = load_saved(tmp_path, SERVER)
    assert again == saved and again is not None
    restarted = LocalChannel(SERVER, again, clock=clock)
    assert restarted.ready() and restarted.offline_seconds() == 90.0
    state = restarted.page_state()[1]
    assert state is not None and state == state_at(Plan(CLIPS, "a", 1000.0), 1092.0)
    assert load_saved(tmp_path, "http://other:8000") is None  # another server's schedule
    (tmp_path / "state.json").write_text("{not json")
    assert load_saved(tmp_path, SERVER) is None


def test_never_reached_server_is_not_ready() -> None:
    channel = LocalChannel(SERVER)
    assert not channel.ready() and channel.offline_seconds() is None
    assert channel.page_state() == (None, None, 10.0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("bytes=0-99", (0, 99)), ("bytes=100-", (100, 999)),
     ("bytes=-10", (990, 999)), ("bytes=900-5000", (900, 999)), ("bytes=0-1,5-9", None),
     ("bytes=50-10", None), ("items=0-1", None)],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 1000) == expected


def test_range_past_the_end_is_unsatisfiable() -> None:
    with pytest.raises(UnsatisfiableRangeError):
        parse_range("bytes=1000-", 1000)


def test_cache_settings_parse_and_explain_bad_values(tmp_path: Path) -> None:
    config = load_config({}, env={}, candidates=[])
    assert (config.cache_size, config.cache_bandwidth, config.offline_dot) == (
        10 * 1024**3, 20.0, True)
    env = {"SIMULCAST_CACHE_SIZE": "500MB", "SIMULCAST_CACHE_BANDWIDTH": "0",
           "SIMULCAST_CACHE_DIR": str(tmp_path), "SIMULCAST_OFFLINE_DOT": "no"}
    config = load_config({}, env=env, candidates=[])
    assert (config.cache_size, config.cache_bandwidth, config.cache_dir, config.offline_dot) == (
        500 * 1024**2, 0.0, tmp_path, False)
    with pytest.raises(ConfigError, match="--cache-size: 'lots' is not a size"):
        load_config({"cache_size": "lots"}, env={}, candidates=[])
    with pytest.raises(ConfigError, match="SIMULCAST_CACHE_BANDWIDTH: '-1'.*negative"):
        load_config({}, env={"SIMULCAST_CACHE_BANDWIDTH": "-1"}, candidates=[])


def test_plan_from_a_server_state_anchors_on_its_current_video() -> None:
    plan = plan_from_state({"id": "b", "start_time": 123.5}, CLIPS)
    assert plan == Plan(CLIPS, "b", 123.5)
    assert Saved.from_json(Saved(SERVER, plan, 0.25, 99.0).to_json()).plan.clips == CLIPS
    assert isinstance(CLIPS[0], Clip)


# 2023-11-14 22:13:20 UTC: a lunch slot from 25 s to 55 s later, every day, playing "l" only.
T0 = 1_700_000_000.0
PROGRAMME = {
    "timezone": "UTC",
    "slots": [{"id": "lunch", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
               "start": "22:13:45", "end": "22:14:15", "playlist": ["l", "gone"]}],
    "videos": [{"id": "l", "url": "/media/v/l/webm", "title": "Lunch", "duration": 15.0,
                "index": None, "poster": "/media/v/l/poster.jpg"}],
    "anchor": {"id": "a", "start_time": T0, "slot": "", "back_id": None},
}


def test_a_slot_plays_its_own_videos_then_the_video_it_cut_resumes() -> None:
    plan = plan_from_state({"id": "a", "start_time": T0}, CLIPS, PROGRAMME)
    before = state_at(plan, T0 + 24.0)
    assert (before["id"], before["start_time"]) == ("b", T0 + 10)
    assert (before["next"]["id"], before["next"]["start_time"]) == ("l", T0 + 25)
    assert ends_at(before) == T0 + 25  # cut at the boundary, not at b's own end (T0 + 30)
    inside = state_at(plan, T0 + 41.0)
    assert (inside["id"], inside["start_time"], inside["index"], inside["total"]) == (
        "l", T0 + 40, 0, 1)
    after = state_at(plan, T0 + 56.0)
    assert (after["id"], after["start_time"], after["total"]) == ("b", T0 + 55, 3)
    tomorrow = state_at(plan, T0 + 86400 + 30.0)  # the same slot a day later
    assert (tomorrow["id"], tomorrow["start_time"]) == ("l", T0 + 86400 + 25)


def test_the_slots_videos_are_cached_in_the_order_they_play() -> None:
    plan = plan_from_state({"id": "a", "start_time": T0}, CLIPS, PROGRAMME)
    assert [c.id for c in play_order(plan, T0 + 1.0)] == ["a", "b", "l", "c"]
    assert media_urls(plan, T0 + 12.0)[:3] == [
        "/media/v/b/poster.jpg", "/media/v/b/webm", "/media/v/l/poster.jpg"]
    without = plan_from_state({"id": "a", "start_time": T0}, CLIPS)
    assert "/media/v/l/webm" not in media_urls(without, T0)


def test_a_schedule_is_saved_with_the_state_and_an_old_save_still_loads(tmp_path: Path) -> None:
    plan = plan_from_state({"id": "a", "start_time": T0}, CLIPS, PROGRAMME)
    saved = Saved(SERVER, plan, 0.0, T0 + 1)
    save(tmp_path, saved)
    again = load_saved(tmp_path, SERVER)
    assert again is not None and again.plan == plan and again.plan.slot_clips == plan.slot_clips
    assert state_at(again.plan, T0 + 30.0)["id"] == "l"
    old = saved.to_json()
    del old["schedule"]
    assert Saved.from_json(old).plan == Plan(CLIPS, "a", T0)


def test_a_time_zone_this_machine_does_not_know_leaves_the_default_playlist() -> None:
    plan = plan_from_state({"id": "a", "start_time": T0}, CLIPS,
                           {**PROGRAMME, "timezone": "Mars/Olympus_Mons"})
    assert not plan.scheduled and state_at(plan, T0 + 29.0)["id"] == "b"  # no cut at 25 s
