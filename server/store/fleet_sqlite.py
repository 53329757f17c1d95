"""The fleet store on the embedded SQLite file (fleet.db beside the channel's database).

Its schema only grows by new tables (CREATE TABLE IF NOT EXISTS at every start): an older
fleet.db gains them in place, and its rows are JSON documents that take new keys freely. The
one move: the play log of the days before channels (`plays`, `play_screens`) is copied into
the tables that name each play's channel, as the default channel's, at the first start.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from . import DEFAULT_CHANNEL
from .fleet import FIGURES_TTL, Merge, Record

SCHEMA = """
CREATE TABLE IF NOT EXISTS screens (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS screen_commands (
    screen_id TEXT NOT NULL, at REAL NOT NULL, action TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS screen_commands_screen ON screen_commands (screen_id);
CREATE TABLE IF NOT EXISTS walls (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS worker_figures (
    worker_id TEXT PRIMARY KEY, data TEXT NOT NULL, seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS channel_plays (
    channel TEXT NOT NULL, video_id TEXT NOT NULL, start REAL NOT NULL, title TEXT NOT NULL,
    duration REAL NOT NULL, PRIMARY KEY (channel, video_id, start));
CREATE INDEX IF NOT EXISTS channel_plays_start ON channel_plays (start);
CREATE TABLE IF NOT EXISTS channel_play_screens (
    channel TEXT NOT NULL, video_id TEXT NOT NULL, start REAL NOT NULL, screen_id TEXT NOT NULL,
    PRIMARY KEY (channel, video_id, start, screen_id));
"""
# The play log before channels: every play in it was the default channel's.
BEFORE_CHANNELS = ("plays", "play_screens")


class SqliteFleet:
    name = "sqlite"

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    @classmethod
    def open(cls, path: Path) -> SqliteFleet:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        fleet = cls(db, path)
        fleet._move_plays_of_before_channels()
        return fleet

    def _move_plays_of_before_channels(self) -> None:
        with self._transaction() as db:  # a second worker starting meanwhile finds them moved
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
            if not set(BEFORE_CHANNELS) <= tables:
                return
            db.execute(
                "INSERT OR IGNORE INTO channel_plays "
                "SELECT ?, video_id, start, title, duration FROM plays",
                (DEFAULT_CHANNEL,),
            )
            db.execute(
                "INSERT OR IGNORE INTO channel_play_screens "
                "SELECT ?, video_id, start, screen_id FROM play_screens",
                (DEFAULT_CHANNEL,),
            )
            for table in BEFORE_CHANNELS:
                db.execute(f"DROP TABLE {table}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")  # the write lock first: read-modify-write is safe
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    async def save_screen(
        self, screen_id: str, merge: Merge, *, since: float, max_screens: int
    ) -> tuple[Record, list[str]] | None:
        with self._transaction() as db:
            row = db.execute("SELECT data FROM screens WHERE id = ?", (screen_id,)).fetchone()
            if row is None:
                (known,) = db.execute("SELECT COUNT(*) FROM screens").fetchone()
                if known >= max_screens:
                    return None
            record = merge(json.loads(row[0]) if row else None)
            db.execute(
                "INSERT INTO screens VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                (screen_id, json.dumps(record)),
            )
            actions = db.execute(
                "SELECT action FROM screen_commands WHERE screen_id = ? AND at >= ? ORDER BY at",
                (screen_id, since),
            ).fetchall()
            db.execute("DELETE FROM screen_commands WHERE screen_id = ?", (screen_id,))
        return record, [action for (action,) in actions]

    async def screens(self) -> list[Record]:
        return [json.loads(data) for (data,) in self._db.execute("SELECT data FROM screens")]

    async def update_screen(
        self, screen_id: str, change: Callable[[Record], Record]
    ) -> Record | None:
        with self._transaction() as db:
            row = db.execute("SELECT data FROM screens WHERE id = ?", (screen_id,)).fetchone()
            if row is None:
                return None
            record = change(json.loads(row[0]))
            db.execute("UPDATE screens SET data = ? WHERE id = ?", (json.dumps(record), screen_id))
        return record

    async def forget_screen(self, screen_id: str) -> bool:
        with self._transaction() as db:
            db.execute("DELETE FROM screen_commands WHERE screen_id = ?", (screen_id,))
            return db.execute("DELETE FROM screens WHERE id = ?", (screen_id,)).rowcount > 0

    async def command(self, screen_id: str, action: str, now: float) -> bool:
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM screens WHERE id = ?", (screen_id,)).fetchone() is None:
                return False
            db.execute("INSERT INTO screen_commands VALUES (?, ?, ?)", (screen_id, now, action))
        return True

    async def walls(self) -> list[Record]:
        return [json.loads(data) for (data,) in self._db.execute("SELECT data FROM walls")]

    async def wall(self, wall_id: str) -> Record | None:
        row = self._db.execute("SELECT data FROM walls WHERE id = ?", (wall_id,)).fetchone()
        return json.loads(row[0]) if row else None

    async def save_wall(self, wall_id: str, wall: Record) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO walls VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                (wall_id, json.dumps(wall)),
            )

    async def delete_wall(self, wall_id: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM walls WHERE id = ?", (wall_id,)).rowcount > 0

    async def put_figures(self, worker_id: str, figures: Record, now: float) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO worker_figures VALUES (?, ?, ?) ON CONFLICT (worker_id) "
                "DO UPDATE SET data = excluded.data, seen = excluded.seen",
                (worker_id, json.dumps(figures), now),
            )
            db.execute("DELETE FROM worker_figures WHERE seen < ?", (now - FIGURES_TTL,))

    async def figures(self, now: float) -> dict[str, Record]:
        rows = self._db.execute(
            "SELECT worker_id, data FROM worker_figures WHERE seen >= ?", (now - FIGURES_TTL,)
        )
        return {worker: json.loads(data) for worker, data in rows}

    async def record_play(
        self,
        channel: str,
        video_id: str,
        start: float,
        title: str,
        duration: float,
        keep_after: float,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO channel_plays VALUES (?, ?, ?, ?, ?)",
                (channel, video_id, start, title, duration),
            )
            db.execute("DELETE FROM channel_plays WHERE start < ?", (keep_after,))
            db.execute("DELETE FROM channel_play_screens WHERE start < ?", (keep_after,))

    async def add_play_screens(
        self, channel: str, video_id: str, start: float, screens: Iterable[str]
    ) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO channel_play_screens VALUES (?, ?, ?, ?)",
                [(channel, video_id, start, screen) for screen in screens],
            )

    async def plays(self, start: float, end: float, channel: str | None = None) -> list[Record]:
        # No channel: every channel's (a condition that holds for every row).
        which = "channel = ?" if channel is not None else "? IS NULL"
        rows = self._db.execute(
            "SELECT channel, video_id, start, title, duration FROM channel_plays "
            f"WHERE start >= ? AND start < ? AND {which} ORDER BY start, channel",
            (start, end, channel),
        ).fetchall()
        shown: dict[tuple[str, str, float], list[str]] = {}
        for played_on, video_id, begun, screen in self._db.execute(
            "SELECT channel, video_id, start, screen_id FROM channel_play_screens "
            f"WHERE start >= ? AND start < ? AND {which}",
            (start, end, channel),
        ):
            shown.setdefault((played_on, video_id, begun), []).append(screen)
        return [
            {
                "channel": played_on,
                "video_id": video_id,
                "start": begun,
                "title": title,
                "duration": duration,
                "screens": sorted(shown.get((played_on, video_id, begun), [])),
            }
            for played_on, video_id, begun, title, duration in rows
        ]

    async def health(self) -> dict[str, object]:
        self._db.execute("SELECT 1").fetchone()
        return {"store": self.name, "ok": True, "path": str(self._path)}

    async def close(self) -> None:
        self._db.close()
