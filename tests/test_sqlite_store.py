"""server/store/sqlite.py on its own: the version check, catalog order, votes, presence, and a
database written by the version before this one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from server.catalog import Counts, Status, Video, VideoMeta
from server.clock import Anchor
from server.store.sqlite import PRESENCE_TTL, SqliteStore

T0 = 1_700_000_000.0


def video(name: str, **extra: object) -> Video:
    return Video(name, name.title(), "local", f"{name}.webm", 10.0, **extra)  # type: ignore[arg-type]


async def test_a_write_wins_only_on_the_version_it_read(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "db" / "simulcast.db")
    fresh = await store.load()
    assert (fresh.videos, fresh.state.version, fresh.state.anchor) == ([], 0, Anchor(None, 0.0))
    assert await store.commit(0, Anchor("a", T0), upsert=[video("a")])
    assert not await store.commit(0, Anchor("b", T0), upsert=[video("b")])  # stale: refused
    snapshot = await store.load()
    assert [v.id for v in snapshot.videos] == ["a"]
    assert (snapshot.state.version, snapshot.state.anchor) == (1, Anchor("a", T0))
    await store.close()


async def test_the_catalog_keeps_its_order_and_every_field(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "simulcast.db")
    meta = VideoMeta(poster=True, rendition="c.rendition", progress=0.0, host="here")
    for version, name in enumerate(["a", "b", "c"]):
        assert await store.commit(version, Anchor("a", T0), upsert=[video(name)])
    converting = video("c", status=Status.PROCESSING, meta=meta)
    assert await store.commit(3, Anchor("a", T0), upsert=[converting])  # updated in place
    videos = (await store.load()).videos
    assert [v.id for v in videos] == ["a", "b", "c"]
    assert videos[2].status == Status.PROCESSING and videos[2].meta == meta
    assert videos[2].meta.progress == 0.0  # a zero is kept, not dropped as "unset"
    await store.toggle_vote("b", "viewer", 1)
    assert await store.commit(4, Anchor("a", T0), remove="b")
    assert [v.id for v in (await store.load()).videos] == ["a", "c"]
    assert await store.viewer_votes("viewer") == {}  # the removed video's votes went with it
    await store.close()
    reopened = SqliteStore.open(tmp_path / "simulcast.db")
    assert [v.id for v in (await reopened.load()).videos] == ["a", "c"]
    await reopened.close()


async def test_counts_for_some_or_all_videos(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "simulcast.db")
    for viewer, value in (("v1", 1), ("v2", 1), ("v3", -1)):
        await store.toggle_vote("a", viewer, value)
    await store.toggle_vote("b", "v1", -1)
    assert await store.counts() == {"a": Counts(2, 1), "b": Counts(0, 1)}
    assert await store.counts(["b"]) == {"b": Counts(0, 1)}
    assert await store.counts([]) == {}
    assert await store.viewer_votes("v1") == {"a": 1, "b": -1}
    await store.close()


async def test_viewers_add_up_across_workers_until_one_goes_quiet(tmp_path: Path) -> None:
    one = SqliteStore.open(tmp_path / "simulcast.db")
    two = SqliteStore.open(tmp_path / "simulcast.db")
    assert await one.report_viewers("w1", 3, T0) == 3
    assert await two.report_viewers("w2", 4, T0 + 1) == 7
    assert await two.report_viewers("w2", 5, T0 + PRESENCE_TTL + 0.5) == 5  # w1 went quiet
    await one.close()
    await two.close()


async def test_a_database_from_the_previous_version_opens_and_votes(tmp_path: Path) -> None:
    path = tmp_path / "simulcast.db"
    with sqlite3.connect(path) as old:  # the schema before change tracking of votes
        old.executescript(
            """
            CREATE TABLE videos (id TEXT PRIMARY KEY, position INTEGER NOT NULL, data TEXT);
            CREATE TABLE channel (one INTEGER PRIMARY KEY CHECK (one = 1), anchor_id TEXT,
                started_at REAL NOT NULL, version INTEGER NOT NULL);
            INSERT INTO channel VALUES (1, 'a', 5.0, 1);
            INSERT INTO videos VALUES ('a', 1, '{"id": "a", "title": "A", "storage": "local",
                "key": "a.webm", "duration": 4.0, "status": "ready", "meta": {"poster": true}}');
            CREATE TABLE votes (video_id TEXT NOT NULL, viewer_id TEXT NOT NULL,
                value INTEGER NOT NULL, PRIMARY KEY (video_id, viewer_id));
            INSERT INTO votes VALUES ('a', 'v1', 1);
            """
        )
    store = SqliteStore.open(path)
    (found,) = (await store.load()).videos
    assert (found.title, found.meta.poster, found.status) == ("A", True, Status.READY)
    vote = await store.toggle_vote("a", "v2", 1)
    assert (vote.counts, vote.mine) == (Counts(2, 0), 1)
    await store.close()
