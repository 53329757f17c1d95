"""The server-side iterator as a pure function: no server, no sleeping."""

from __future__ import annotations

import pytest

from server.catalog import Video
from server.clock import (
    Anchor,
    after_removal,
    end_override,
    now_playing,
    reanchor,
    skip,
    start_override,
)


def video(name: str, duration: float) -> Video:
    return Video(id=name, title=name, storage="static", key=f"{name}.webm", duration=duration)


A, B, C = video("a", 10.0), video("b", 20.0), video("c", 30.0)
PLAYLIST = [A, B, C]
T0 = 1_000_000.0


def test_empty_playlist_plays_nothing() -> None:
    assert now_playing([], Anchor(None, T0), T0 + 5) is None


def test_plays_in_order_with_exact_start_times() -> None:
    anchor = Anchor("a", T0)
    cases = [(0, "a", T0), (9.999, "a", T0), (10, "b", T0 + 10), (29.9, "b", T0 + 10)]
    cases += [(30, "c", T0 + 30), (59.99, "c", T0 + 30)]
    for offset, expected, started in cases:
        current = now_playing(PLAYLIST, anchor, T0 + offset)
        assert current is not None
        assert (current.video.id, current.started_at) == (expected, pytest.approx(started))


def test_wraps_around_and_knows_the_next_video() -> None:
    current = now_playing(PLAYLIST, Anchor("a", T0), T0 + 60 + 12)
    assert current is not None
    assert current.video.id == "b"
    assert current.started_at == pytest.approx(T0 + 70)
    assert current.next.id == "c"
    assert T0 + 72 - current.started_at == pytest.approx(2)
    assert current.ends_at == pytest.approx(T0 + 90)
    last = now_playing(PLAYLIST, Anchor("a", T0), T0 + 35)
    assert last is not None and last.next.id == "a"


def test_a_week_idle_costs_one_loop_and_stays_exact() -> None:
    week = 7 * 24 * 3600.0
    current = now_playing(PLAYLIST, Anchor("a", T0), T0 + week + 0.5)
    assert current is not None
    # 604800 s is exactly 10080 loops of 60 s: the first video, half a second in.
    assert current.video.id == "a"
    assert T0 + week + 0.5 - current.started_at == pytest.approx(0.5, abs=1e-6)


def test_anchor_may_start_mid_playlist() -> None:
    current = now_playing(PLAYLIST, Anchor("c", T0), T0 + 31)
    assert current is not None and current.video.id == "a" and current.index == 0


def test_one_video_loops_on_itself() -> None:
    current = now_playing([A], Anchor("a", T0), T0 + 25)
    assert current is not None
    assert (current.video.id, current.next.id) == ("a", "a")
    assert current.started_at == pytest.approx(T0 + 20)


def test_unknown_anchor_restarts_from_the_first_video() -> None:
    current = now_playing(PLAYLIST, Anchor("gone", T0), T0 + 15)
    assert current is not None and current.video.id == "b"


def test_adding_a_video_does_not_move_the_current_one() -> None:
    anchor = Anchor("a", T0)
    now = T0 + 45  # well into "c" (started at T0 + 30)
    new_anchor = reanchor(PLAYLIST, anchor, now)
    grown = [*PLAYLIST, video("d", 5.0)]
    before = now_playing(PLAYLIST, anchor, now)
    after = now_playing(grown, new_anchor, now)
    assert before is not None and after is not None
    assert (after.video.id, after.started_at) == (before.video.id, before.started_at)
    assert after.next.id == "d"  # only the future changed


def test_adding_before_the_current_video_does_not_jump_either() -> None:
    anchor = Anchor("a", T0)
    now = T0 + 15  # in "b"
    new_anchor = reanchor(PLAYLIST, anchor, now)
    grown = [video("z", 100.0), *PLAYLIST]
    after = now_playing(grown, new_anchor, now)
    assert after is not None
    assert (after.video.id, after.started_at, after.index) == ("b", T0 + 10, 2)


def test_removing_another_video_keeps_the_current_one() -> None:
    anchor = Anchor("a", T0)
    now = T0 + 15  # "b" plays
    new_anchor = after_removal(PLAYLIST, anchor, "c", now)
    after = now_playing([A, B], new_anchor, now)
    assert after is not None
    assert (after.video.id, after.started_at, after.next.id) == ("b", T0 + 10, "a")


def test_removing_the_current_video_starts_the_next_now() -> None:
    now = T0 + 15
    new_anchor = after_removal(PLAYLIST, Anchor("a", T0), "b", now)
    assert new_anchor == Anchor("c", now)
    after = now_playing([A, C], new_anchor, now)
    assert after is not None and after.video.id == "c" and after.started_at == now


def test_removing_the_only_video_leaves_nothing() -> None:
    assert after_removal([A], Anchor("a", T0), "a", T0 + 3) == Anchor(None, T0 + 3)


def test_skip_starts_the_next_video_now() -> None:
    assert skip(PLAYLIST, Anchor("a", T0), T0 + 4) == Anchor("b", T0 + 4)


def test_future_anchor_holds_the_first_video() -> None:
    current = now_playing(PLAYLIST, Anchor("b", T0 + 100), T0)
    assert current is not None and current.video.id == "b"


# -- overrides: "play this now on every screen", then the rotation resumes --------------------

HIDDEN = video("h", 5.0)  # out of the rotation: an override may still play it


def test_an_override_plays_then_the_interrupted_video_starts_again() -> None:
    anchor = start_override(PLAYLIST, Anchor("a", T0), T0 + 15, "h")
    assert anchor == Anchor("h", T0 + 15, resume_id="b")
    playing = now_playing(PLAYLIST, anchor, T0 + 16, HIDDEN)
    assert playing is not None and playing.override
    assert (playing.video.id, playing.index, playing.next.id) == ("h", -1, "b")
    assert playing.ends_at == T0 + 20
    after = now_playing(PLAYLIST, anchor, T0 + 21, HIDDEN)
    assert after is not None and not after.override
    assert (after.video.id, after.started_at) == ("b", T0 + 20)
    # The switch at its end is recorded like any other: a plain anchor on the video resumed.
    assert reanchor(PLAYLIST, anchor, T0 + 21, HIDDEN) == Anchor("b", T0 + 20)
    assert reanchor(PLAYLIST, anchor, T0 + 17, HIDDEN) == anchor


def test_an_override_of_an_override_resumes_where_the_first_would_have() -> None:
    first = start_override(PLAYLIST, Anchor("a", T0), T0 + 15, "h")
    second = start_override(PLAYLIST, first, T0 + 17, "c", HIDDEN)
    assert second == Anchor("c", T0 + 17, resume_id="b")


def test_skip_or_end_during_an_override_resumes_now() -> None:
    anchor = Anchor("h", T0, resume_id="b")
    assert skip(PLAYLIST, anchor, T0 + 1, HIDDEN) == Anchor("b", T0 + 1)
    assert end_override(PLAYLIST, anchor, T0 + 1, HIDDEN) == Anchor("b", T0 + 1)
    # Already over (not yet recorded): ending it changes nothing but the anchor's form.
    assert end_override(PLAYLIST, anchor, T0 + 6, HIDDEN) == Anchor("b", T0 + 5)


def test_removing_the_override_or_its_resume_video() -> None:
    anchor = Anchor("h", T0, resume_id="b")
    assert after_removal(PLAYLIST, anchor, "h", T0 + 2, HIDDEN) == Anchor("b", T0 + 2)
    assert after_removal(PLAYLIST, anchor, "b", T0 + 2, HIDDEN) == Anchor("h", T0, "")
    assert after_removal(PLAYLIST, anchor, "c", T0 + 2, HIDDEN) == anchor


def test_an_override_on_an_empty_channel_then_nothing() -> None:
    anchor = start_override([], Anchor(None, T0), T0, "h")
    assert anchor == Anchor("h", T0, resume_id="")
    playing = now_playing([], anchor, T0 + 1, HIDDEN)
    assert playing is not None and playing.video.id == "h" and playing.next.id == "h"
    assert now_playing([], anchor, T0 + 6, HIDDEN) is None


def test_a_reorder_keeps_the_playing_video_and_changes_what_follows() -> None:
    anchor = reanchor(PLAYLIST, Anchor("a", T0), T0 + 12)
    assert anchor == Anchor("b", T0 + 10)
    playing = now_playing([C, B, A], anchor, T0 + 12)
    assert playing is not None
    assert (playing.video.id, playing.started_at, playing.next.id) == ("b", T0 + 10, "a")
