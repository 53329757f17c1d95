"""A channel's schedule as a pure function of (stored anchor, schedule, time): no server, no
sleeping. Times are wall-clock times in a time zone, turned into instants as the server does."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import pytest

from shared.programme import OnAir, Tuning, on_air, zone
from shared.slots import Schedule, parse, windows

BERLIN = zone("Europe/Berlin")
UTC = zone("UTC")


@dataclass(frozen=True)
class Clip:
    id: str
    duration: float


A, B, C = Clip("a", 600.0), Clip("b", 900.0), Clip("c", 300.0)  # 10, 15 and 5 minutes
DEFAULT = [A, B, C]  # a 30-minute loop
L1, L2 = Clip("l1", 1200.0), Clip("l2", 600.0)  # the lunch playlist: 20 + 10 minutes
E1 = Clip("e1", 3600.0)


def at(day: str, clock: str, tz: Any = BERLIN) -> float:
    """Unix time of a wall-clock time."""
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=tz).timestamp()


def schedule(*slots: dict[str, Any]) -> Schedule:
    return parse({"slots": list(slots)})


LUNCH = {"id": "lunch", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "12:00",
         "end": "13:00", "playlist": ["l1", "l2"]}
CATALOG = {c.id: c for c in (A, B, C, L1, L2, E1)}
# 2026-12-01 is a Tuesday; the default playlist's "b" started at 11:50 (to 12:05, then "c" to
# 12:10, "a" to 12:20, ...): it loops every 30 minutes.
DAY = "2026-12-01"
ANCHOR = Tuning("b", at(DAY, "11:50"))


def play(sched: Schedule, when: float, tuning: Tuning = ANCHOR, tz: Any = BERLIN,
         default: list[Clip] = DEFAULT) -> OnAir[Clip]:
    return on_air(default, CATALOG, sched, tz, tuning, when)


def ids(answer: OnAir[Clip]) -> tuple[str | None, str | None]:
    return (answer.video.id if answer.video else None, answer.next.id if answer.next else None)


def test_without_a_schedule_the_default_playlist_loops_from_its_anchor() -> None:
    answer = play(Schedule(), at(DAY, "12:11"))
    assert ids(answer) == ("a", "b")
    assert (answer.started_at, answer.ends_at) == (at(DAY, "12:10"), at(DAY, "12:20"))
    assert answer.window is None and answer.tuning == Tuning("a", at(DAY, "12:10"))


def test_a_slot_cuts_the_playing_video_and_is_announced_with_its_exact_start() -> None:
    sched = schedule(LUNCH)
    # 11:50 + 15 min of "b" would end at 12:05: it is cut at 12:00, "l1" announced for 12:00.
    before = play(sched, at(DAY, "11:59:59"))
    assert ids(before) == ("b", "l1")
    assert before.ends_at == at(DAY, "12:00")
    during = play(sched, at(DAY, "12:00"))
    assert ids(during) == ("l1", "l2") and during.started_at == at(DAY, "12:00")
    assert during.window is not None and during.window.slot.id == "lunch"
    assert play(sched, at(DAY, "12:25")).video == L2
    # The slot's playlist loops until 13:00 (l1 again from 12:30, l2 from 12:50)...
    last = play(sched, at(DAY, "12:59"))
    assert ids(last) == ("l2", "b") and last.ends_at == at(DAY, "13:00")
    # ...then the default playlist resumes with the video the slot interrupted, from its start.
    after = play(sched, at(DAY, "13:01"))
    assert ids(after) == ("b", "c") and after.started_at == at(DAY, "13:00")
    assert after.window is None


def test_a_finish_slot_waits_for_the_playing_video_and_lets_its_own_finish() -> None:
    sched = schedule({**LUNCH, "boundary": "finish"})
    before = play(sched, at(DAY, "12:04"))
    assert ids(before) == ("b", "l1") and before.ends_at == at(DAY, "12:05")
    assert play(sched, at(DAY, "12:05")).started_at == at(DAY, "12:05")
    # l1 12:05-12:25, l2 -12:35, l1 -12:55, l2 12:55-13:05: it finishes, then "c" (after the
    # finished "b").
    last = play(sched, at(DAY, "13:00"))
    assert ids(last) == ("l2", "c") and last.ends_at == at(DAY, "13:05")
    assert ids(play(sched, at(DAY, "13:05"))) == ("c", "a")


def test_outside_its_days_a_weekly_slot_does_nothing() -> None:
    sched = schedule(LUNCH)
    saturday = "2026-12-05"
    anchor = Tuning("a", at(saturday, "11:00"))
    assert play(sched, at(saturday, "12:05"), anchor).video == A  # the loop's 12:00 turn
    assert play(sched, at(saturday, "12:05"), anchor).window is None


def test_a_slot_across_midnight_and_across_the_end_of_the_week() -> None:
    sched = schedule({"id": "night", "days": ["sun"], "start": "23:00", "end": "01:00",
                      "playlist": ["l2"]})
    sunday, monday = "2026-12-06", "2026-12-07"
    anchor = Tuning("a", at(sunday, "22:03"))  # "c" plays 22:58-23:03
    assert play(sched, at(sunday, "22:59"), anchor).video == C
    inside = play(sched, at(monday, "00:30"), anchor)
    assert inside.video == L2 and inside.window is not None
    assert inside.window.start == at(sunday, "23:00") and inside.window.end == at(monday, "01:00")
    back = play(sched, at(monday, "01:00"), anchor)
    assert back.video == C and back.window is None  # "c" was cut at 23:00: it starts again
    assert play(sched, at(monday, "23:30"), anchor).window is None  # Monday is not Sunday


def test_daylight_saving_changes_in_berlin() -> None:
    night = schedule({"id": "night", "days": ["sun"], "start": "01:00", "end": "04:00",
                      "playlist": ["l2"]})
    # Spring forward (29 March 2026, 02:00 -> 03:00): the slot lasts two hours.
    (spring,) = windows(night, BERLIN, at("2026-03-29", "00:00"), at("2026-03-29", "12:00"))
    assert spring.end - spring.start == 2 * 3600
    # Fall back (25 October 2026, 03:00 -> 02:00): four hours.
    (autumn,) = windows(night, BERLIN, at("2026-10-25", "00:00"), at("2026-10-25", "12:00"))
    assert autumn.end - autumn.start == 4 * 3600
    # A 09:00 slot stays at 09:00 wall-clock time: 08:00 UTC before the change, 07:00 after.
    lunch = schedule({**LUNCH, "start": "09:00", "end": "10:00", "days": ["fri", "mon"]})
    before = windows(lunch, BERLIN, at("2026-03-27", "00:00"), at("2026-03-28", "00:00"))
    after = windows(lunch, BERLIN, at("2026-03-30", "00:00"), at("2026-03-31", "00:00"))
    assert before[0].start == at("2026-03-27", "08:00", UTC)
    assert after[0].start == at("2026-03-30", "07:00", UTC)
    # Playing through the change: an anchor before it, a time after it.
    anchor = Tuning("a", at("2026-03-29", "00:00"))
    inside = play(night, at("2026-03-29", "03:30"), anchor)  # 01:30 UTC, 1.5 h into the slot
    assert inside.window == spring and inside.video == L2
    assert inside.started_at == spring.start + 9 * 600
    assert play(night, at("2026-03-29", "04:00"), anchor).window is None


def test_a_time_the_clocks_skip_starts_the_slot_an_hour_later() -> None:
    sched = schedule({"id": "night", "days": ["sun"], "start": "02:30", "end": "05:00",
                      "playlist": ["l2"]})
    (turn,) = windows(sched, BERLIN, at("2026-03-29", "00:00"), at("2026-03-29", "12:00"))
    assert turn.start == at("2026-03-29", "03:30") and turn.end == at("2026-03-29", "05:00")


def test_an_empty_slot_leaves_the_default_playlist_playing() -> None:
    sched = schedule({**LUNCH, "playlist": []})
    assert ids(play(sched, at(DAY, "11:59"))) == ("b", "c")  # no cut announced at 12:00
    assert play(sched, at(DAY, "12:10")).window is None
    # The same for a slot whose videos are all gone (deleted or hidden).
    catalog = {c.id: c for c in DEFAULT}
    gone = on_air(DEFAULT, catalog, schedule(LUNCH), BERLIN, ANCHOR, at(DAY, "12:10"))
    assert gone.window is None and gone.video == A


def test_a_one_off_date_slot_overrides_the_weekly_pattern() -> None:
    christmas_eve = "2026-12-24"  # a Thursday
    sched = schedule(
        {"id": "evening", "days": ["thu"], "start": "17:00", "end": "23:00", "playlist": ["l1"]},
        {"id": "event", "date": christmas_eve, "start": "18:00", "end": "22:00",
         "playlist": ["e1"]},
    )
    turns = windows(sched, BERLIN, at(christmas_eve, "00:00"), at("2026-12-25", "00:00"))
    assert [(w.slot.id, w.start, w.end) for w in turns] == [
        ("evening", at(christmas_eve, "17:00"), at(christmas_eve, "18:00")),
        ("event", at(christmas_eve, "18:00"), at(christmas_eve, "22:00")),
        ("evening", at(christmas_eve, "22:00"), at(christmas_eve, "23:00")),
    ]
    anchor = Tuning("a", at(christmas_eve, "16:00"))
    assert ids(play(sched, at(christmas_eve, "17:59"), anchor)) == ("l1", "e1")
    assert play(sched, at(christmas_eve, "19:30"), anchor).video == E1
    evening = play(sched, at(christmas_eve, "22:05"), anchor)
    assert evening.video == L1 and evening.started_at == at(christmas_eve, "22:00")
    # A week later the weekly slot is whole again.
    later = play(sched, at("2026-12-31", "19:30"), Tuning("a", at("2026-12-31", "16:00")))
    assert later.video == L1 and later.window is not None and later.window.slot.id == "evening"


def test_a_slot_shorter_than_its_first_video() -> None:
    short = {"id": "short", "days": ["tue"], "start": "12:00", "end": "12:05", "playlist": ["e1"]}
    # Cut: the hour-long video plays five minutes, and the default playlist is announced.
    cut = play(schedule(short), at(DAY, "12:01"))
    assert ids(cut) == ("e1", "b") and cut.ends_at == at(DAY, "12:05")
    assert play(schedule(short), at(DAY, "12:05")).video == B
    # Finish: it starts when "b" ends (12:05) -- no time left: the slot is skipped.
    skipped = play(schedule({**short, "boundary": "finish"}), at(DAY, "12:04"))
    assert ids(skipped) == ("b", "c") and skipped.ends_at == at(DAY, "12:05")
    # Finish with a start on a video boundary (12:10): the video plays whole, to 13:10.
    whole = schedule({**short, "start": "12:10", "end": "12:15", "boundary": "finish"})
    inside = play(whole, at(DAY, "13:00"))
    assert ids(inside) == ("e1", "a") and inside.ends_at == at(DAY, "13:10")


def test_back_to_back_slots_hand_over_directly() -> None:
    sched = schedule(LUNCH, {"id": "night", "days": ["tue"], "start": "13:00", "end": "14:00",
                             "playlist": ["l2"]})
    last = play(sched, at(DAY, "12:59"))
    assert ids(last) == ("l2", "l2") and last.ends_at == at(DAY, "13:00")
    assert last.window is not None and last.window.slot.id == "lunch"
    night = play(sched, at(DAY, "13:00"))
    assert night.window is not None and night.window.slot.id == "night"
    # The default playlist resumes after both with what lunch interrupted.
    assert play(sched, at(DAY, "14:00")).video == B


def test_an_empty_default_playlist_waits_for_the_slot() -> None:
    before = play(schedule(LUNCH), at(DAY, "11:00"), Tuning(None, at(DAY, "10:00")), default=[])
    assert before.video is None and before.next == L1 and before.ends_at == at(DAY, "12:00")
    assert play(schedule(LUNCH), at(DAY, "12:00"), Tuning(None, at(DAY, "10:00")),
                default=[]).video == L1


def test_a_restart_mid_slot_resumes_in_the_slot_whichever_anchor_was_recorded() -> None:
    """The answer from an anchor recorded at any earlier time (a boundary, a switch) is the
    answer from the oldest one: workers that record a boundary only save work."""
    sched = schedule(
        {**LUNCH, "boundary": "finish"},
        {"id": "event", "date": "2026-12-03", "start": "18:00", "end": "22:00",
         "playlist": ["e1"]},
        {"id": "night", "days": ["wed", "sat"], "start": "23:30", "end": "02:00",
         "playlist": ["l2"]},
    )
    rng = random.Random(14)
    start = at(DAY, "09:00")
    for _ in range(300):
        earlier = start + rng.uniform(0, 4 * 86400)
        later = earlier + rng.uniform(0, 86400)
        recorded = play(sched, earlier).tuning
        assert play(sched, later, recorded) == play(sched, later)


def test_the_next_item_always_starts_when_the_current_one_gives_way() -> None:
    sched = schedule(LUNCH, {"id": "short", "days": ["tue"], "start": "15:00", "end": "15:07",
                             "playlist": ["e1"], "boundary": "finish"})
    when = at(DAY, "10:00")
    while when < at(DAY, "18:00"):
        now = play(sched, when)
        following = play(sched, now.ends_at)
        assert following.video == now.next and following.started_at == now.ends_at
        when = now.ends_at


@pytest.mark.parametrize(
    ("slots", "field", "words"),
    [
        ({"slots": "x"}, "slots", "send"),
        ({"slots": [{**LUNCH, "start": "25:00"}]}, "slots[0].start", "not a time"),
        ({"slots": [{**LUNCH, "start": "24:00"}]}, "slots[0].start", "not a time"),
        ({"slots": [{**LUNCH, "end": "12:00"}]}, "slots[0].end", "ends when it starts"),
        ({"slots": [{**LUNCH, "date": "2026-12-24"}]}, "slots[0]", "not both"),
        ({"slots": [{**LUNCH, "days": ["monday"]}]}, "slots[0].days", "mon"),
        ({"slots": [{**LUNCH, "boundary": "fade"}]}, "slots[0].boundary", "cut"),
        ({"slots": [{**LUNCH, "id": "Lunch Time"}]}, "slots[0].id", "lower-case"),
        ({"slots": [{**LUNCH, "colour": "red"}]}, "slots[0].colour", "not a field"),
        ({"slots": [{**LUNCH, "playlist": ["nope"]}]}, "slots[0].playlist", "no video 'nope'"),
        ({"slots": [LUNCH, LUNCH]}, "slots[1].id", "used by another"),
        ({"slots": [LUNCH, {**LUNCH, "id": "x", "days": ["fri"], "start": "12:59",
                            "end": "14:00"}]}, "slots[1]", "overlaps 'lunch'"),
        ({"slots": [{**LUNCH, "days": ["sun"], "start": "23:00", "end": "01:00"},
                    {**LUNCH, "id": "x", "days": ["mon"], "start": "00:30", "end": "02:00"}]},
         "slots[1]", "overlaps"),
        ({"slots": [{**LUNCH, "date": "2026-02-30", "days": None}]}, "slots[0]", "not both"),
    ],
)
def test_a_bad_schedule_is_refused_saying_where(slots: Any, field: str, words: str) -> None:
    from shared.slots import ScheduleError

    with pytest.raises(ScheduleError) as refused:
        parse(slots, known=["l1", "l2"])
    assert refused.value.field == field and words in str(refused.value)


def test_a_schedule_round_trips_through_json() -> None:
    sched = schedule(
        {**LUNCH, "title": "Lunch menu", "boundary": "finish"},
        {"id": "eve", "date": "2026-12-24", "start": "18:00", "end": "24:00", "playlist": []},
    )
    assert parse(sched.to_json()) == sched
    assert sched.to_json()["slots"][1] == {
        "id": "eve", "title": "", "date": "2026-12-24", "start": "18:00", "end": "24:00",
        "playlist": [], "boundary": "cut",
    }
    # A weekly and a one-off slot may overlap: the one-off one wins while it lasts.
    parse({"slots": [LUNCH, {**{k: v for k, v in LUNCH.items() if k != "days"}, "id": "x",
                             "date": "2026-12-01"}]})


def test_time_zone_names_are_checked() -> None:
    with pytest.raises(ValueError, match="IANA"):
        zone("Mars/Olympus")


def test_a_slot_may_start_to_the_second() -> None:
    sched = schedule({**LUNCH, "start": "11:59:40", "end": "12:00:10"})
    assert sched.to_json()["slots"][0]["start"] == "11:59:40"
    before = play(sched, at(DAY, "11:59:39"))
    assert ids(before) == ("b", "l1") and before.ends_at == at(DAY, "11:59:40")
    assert play(sched, at(DAY, "12:00:10")).video == B
