"""Embedded store: one SQLite file, shared safely by every worker process on the machine."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared import slots
from shared.slots import Schedule

from ..catalog import Counts, Video
from ..clock import Anchor, ChannelState
from . import EVERYTHING, Change, ChannelInfo, Snapshot, Vote
from .migrations import upgrade

PRESENCE_TTL = 15.0  # seconds a worker's viewer count stays valid without a refresh


class SqliteStore:
    name = "sqlite"

    def __init__(self, db: sqlite3.Connection, path: Path, poll_interval: float = 0.25) -> None:
        self._db = db
        self._path = path
        self._poll_interval = poll_interval

    @classmethod
    def open(cls, path: Path) -> SqliteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE) where they matter.
        db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        try:
            upgrade(db, path)  # first: a store this release cannot read is left untouched
        except BaseException:
            db.close()
            raise
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return cls(db, path)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two workers cannot both read the same
        # version and then both write.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    async def load(self) -> Snapshot:
        with self._transaction() as db:
            rows = db.execute("SELECT data FROM videos ORDER BY position").fetchall()
            anchor_id, started_at, resume_id, version, banner, slot, back_id, schedule = (
                db.execute(
                    "SELECT anchor_id, started_at, resume_id, version, banner, slot, back_id, "
                    "schedule FROM channel"
                ).fetchone()
            )
        videos = [Video.from_dict(json.loads(data)) for (data,) in rows]
        anchor = Anchor(anchor_id, started_at, resume_id, slot, back_id)
        state = ChannelState(anchor, version, banner, slots.parse(json.loads(schedule)))
        return Snapshot(videos, state)

    async def set_banner(self, text: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE channel SET banner = ?, version = version + 1", (text,))

    async def commit(
        self,
        expected_version: int,
        anchor: Anchor,
        *,
        upsert: Sequence[Video] = (),
        remove: str | None = None,
        order: Sequence[str] | None = None,
        schedule: Schedule | None = None,
    ) -> bool:
        with self._transaction() as db:
            (version,) = db.execute("SELECT version FROM channel").fetchone()
            if version != expected_version:
                return False
            for video in upsert:
                data = json.dumps(video.to_dict())
                updated = db.execute(
                    "UPDATE videos SET data = ? WHERE id = ?", (data, video.id)
                ).rowcount
                if not updated:
                    db.execute(
                        "INSERT INTO videos VALUES "
                        "(?, (SELECT COALESCE(MAX(position), 0) + 1 FROM videos), ?)",
                        (video.id, data),
                    )
            if remove is not None:
                db.execute("DELETE FROM videos WHERE id = ?", (remove,))
                db.execute("DELETE FROM votes WHERE video_id = ?", (remove,))
            if order is not None:
                db.executemany(
                    "UPDATE videos SET position = ? WHERE id = ?",
                    [(position, video_id) for position, video_id in enumerate(order)],
                )
            if schedule is not None:
                db.execute("UPDATE channel SET schedule = ?", (json.dumps(schedule.to_json()),))
            db.execute(
                "UPDATE channel SET anchor_id = ?, started_at = ?, resume_id = ?, slot = ?, "
                "back_id = ?, version = version + 1",
                (anchor.video_id, anchor.started_at, anchor.resume_id, anchor.slot, anchor.back_id),
            )
        return True

    async def toggle_vote(self, video_id: str, viewer_id: str, value: int) -> Vote:
        # Read and write in one IMMEDIATE transaction: two quick taps (on any worker) are
        # applied one after the other, never both against the same old vote.
        with self._transaction() as db:
            row = db.execute(
                "SELECT value FROM votes WHERE video_id = ? AND viewer_id = ?",
                (video_id, viewer_id),
            ).fetchone()
            mine = 0 if row is not None and row[0] == value else value
            if mine:
                db.execute(
                    "INSERT INTO votes VALUES (?, ?, ?) ON CONFLICT (video_id, viewer_id) "
                    "DO UPDATE SET value = excluded.value",
                    (video_id, viewer_id, mine),
                )
            else:
                db.execute(
                    "DELETE FROM votes WHERE video_id = ? AND viewer_id = ?", (video_id, viewer_id)
                )
            # Tells the other workers' changes() which video's counts moved.
            db.execute(
                "INSERT INTO vote_changes VALUES "
                "(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM vote_changes)) "
                "ON CONFLICT (video_id) DO UPDATE SET seq = excluded.seq",
                (video_id,),
            )
            likes, dislikes = db.execute(
                "SELECT COALESCE(SUM(value = 1), 0), COALESCE(SUM(value = -1), 0) "
                "FROM votes WHERE video_id = ?",
                (video_id,),
            ).fetchone()
        return Vote(Counts(likes, dislikes), mine)

    async def counts(self, video_ids: Collection[str] | None = None) -> dict[str, Counts]:
        query = "SELECT video_id, SUM(value = 1), SUM(value = -1) FROM votes"
        args: tuple[str, ...] = ()
        if video_ids is not None:
            args = tuple(video_ids)
            query += f" WHERE video_id IN ({', '.join('?' * len(args))})"
        rows = self._db.execute(query + " GROUP BY video_id", args).fetchall()
        return {video_id: Counts(likes, dislikes) for video_id, likes, dislikes in rows}

    async def viewer_votes(self, viewer_id: str) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT video_id, value FROM votes WHERE viewer_id = ?", (viewer_id,)
        ).fetchall()
        return dict(rows)

    async def report_viewers(self, worker_id: str, viewers: int, now: float) -> int:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO presence VALUES (?, ?, ?) ON CONFLICT (worker_id) "
                "DO UPDATE SET viewers = excluded.viewers, seen = excluded.seen",
                (worker_id, viewers, now),
            )
            db.execute("DELETE FROM presence WHERE seen < ?", (now - PRESENCE_TTL,))
            (total,) = db.execute("SELECT COALESCE(SUM(viewers), 0) FROM presence").fetchone()
        return int(total)

    async def changes(self) -> AsyncIterator[Change]:
        # data_version moves only when *another* connection commits: exactly the changes this
        # process has not already announced itself. What moved is told by the channel's version
        # (catalog and anchor) and the vote sequence; presence reports move neither. Both are
        # read with data_version under the write lock, so nothing commits in between: marks
        # that moved while data_version did not were moved by this process, and are no news.
        last, version, seq = self._marks()
        # Whatever committed before `last` was read is news too: the caller reloads once now.
        yield EVERYTHING
        while True:
            await asyncio.sleep(self._poll_interval)
            current, new_version, new_seq = self._marks()
            if current == last:
                version, seq = new_version, new_seq
                continue
            last = current
            voted = self._db.execute(
                "SELECT video_id FROM vote_changes WHERE seq > ? AND seq <= ?", (seq, new_seq)
            ).fetchall()
            change = Change(new_version != version, frozenset(vid for (vid,) in voted))
            version, seq = new_version, new_seq
            if change:
                yield change

    def _marks(self) -> tuple[int, int, int]:
        """(data_version, channel version, last vote sequence), all from one instant."""
        with self._transaction() as db:
            (data_version,) = db.execute("PRAGMA data_version").fetchone()
            (version,) = db.execute("SELECT version FROM channel").fetchone()
            (seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM vote_changes").fetchone()
        return int(data_version), int(version), int(seq)

    async def add_audit(self, entry: dict[str, Any], keep: int) -> None:
        with self._transaction() as db:
            seq = db.execute("INSERT INTO audit (data) VALUES (?)", (json.dumps(entry),)).lastrowid
            db.execute("DELETE FROM audit WHERE seq <= ?", ((seq or 0) - keep,))

    async def audit(self, limit: int) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT data FROM audit ORDER BY seq DESC LIMIT ?", (limit,))
        return [json.loads(data) for (data,) in rows.fetchall()]

    async def channels(self) -> list[ChannelInfo]:
        rows = self._db.execute("SELECT slug, title, created FROM channels ORDER BY created")
        return [ChannelInfo(slug, title, created) for slug, title, created in rows.fetchall()]

    async def add_channel(self, channel: ChannelInfo) -> bool:
        with self._transaction() as db:
            return bool(
                db.execute(
                    "INSERT OR IGNORE INTO channels VALUES (?, ?, ?)",
                    (channel.slug, channel.title, channel.created),
                ).rowcount
            )

    async def rename_channel(self, slug: str, title: str) -> bool:
        with self._transaction() as db:
            return bool(
                db.execute("UPDATE channels SET title = ? WHERE slug = ?", (title, slug)).rowcount
            )

    async def remove_channel(self, slug: str) -> bool:
        with self._transaction() as db:
            return bool(db.execute("DELETE FROM channels WHERE slug = ?", (slug,)).rowcount)

    async def health(self) -> dict[str, object]:
        return {"store": self.name, "ok": True, "path": str(self._path)}

    async def close(self) -> None:
        self._db.close()

    async def drop(self) -> None:
        self._db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self._path}{suffix}").unlink(missing_ok=True)
