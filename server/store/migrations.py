"""Schema versions of the embedded SQLite store, and the steps between them.

The version is kept in the file itself (`PRAGMA user_version`). Opening a store written by an
older release upgrades it in place, after a copy of it is saved in `backups/` beside it; a store
written by a newer release is refused, since this code would misread it.

To change the schema: append a step to STEPS (never edit one that was released) and extend
tests/test_migrations.py with a fixture store made by the release before the change.
"""

from __future__ import annotations

import fcntl
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .snapshot import copy_database, stamp

log = logging.getLogger(__name__)

# Step N brings a store from version N-1 to N, in one transaction.
STEPS: tuple[str, ...] = (
    # 1. The tables of release 0.1.0, whose stores carry version 0 (a fresh file gets them
    # here), and an index for a viewer's own votes, read on every page load.
    """
    CREATE TABLE IF NOT EXISTS videos (
        id TEXT PRIMARY KEY, position INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS channel (
        one INTEGER PRIMARY KEY CHECK (one = 1), anchor_id TEXT, started_at REAL NOT NULL,
        version INTEGER NOT NULL);
    INSERT OR IGNORE INTO channel VALUES (1, NULL, 0, 0);
    CREATE TABLE IF NOT EXISTS votes (
        video_id TEXT NOT NULL, viewer_id TEXT NOT NULL, value INTEGER NOT NULL,
        PRIMARY KEY (video_id, viewer_id));
    CREATE TABLE IF NOT EXISTS presence (
        worker_id TEXT PRIMARY KEY, viewers INTEGER NOT NULL, seen REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS votes_by_viewer ON votes (viewer_id);
    """,
    # 2. The operators' audit log (stores of the first release with it carry version 0 and
    # have the table already).
    """
    CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
    """,
    # 3. The console's override (the video the rotation resumes with) and banner.
    """
    ALTER TABLE channel ADD COLUMN resume_id TEXT;
    ALTER TABLE channel ADD COLUMN banner TEXT NOT NULL DEFAULT '';
    """,
    # 4. Which video's votes moved, in order: other workers reload just those counts.
    """
    CREATE TABLE IF NOT EXISTS vote_changes (video_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    """,
    # 5. Channels and schedules: the schedule (JSON) and the slot's turn the anchor is in, with
    # the default playlist's video that resumes after it; and the list of channels besides the
    # default one (kept in the default channel's file, each channel's state in its own file).
    """
    ALTER TABLE channel ADD COLUMN slot TEXT NOT NULL DEFAULT '';
    ALTER TABLE channel ADD COLUMN back_id TEXT;
    ALTER TABLE channel ADD COLUMN schedule TEXT NOT NULL DEFAULT '{"slots": []}';
    CREATE TABLE IF NOT EXISTS channels (
        slug TEXT PRIMARY KEY, title TEXT NOT NULL, created REAL NOT NULL);
    """,
)
SCHEMA_VERSION = len(STEPS)


class StoreVersionError(Exception):
    """The store was written by a newer Simulcast; the message says what to do."""


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def upgrade(db: sqlite3.Connection, path: Path) -> int:
    """Bring the store at `path`, open as `db`, to SCHEMA_VERSION; return the version it had."""
    found = version_of(db)
    if found == SCHEMA_VERSION:
        return found
    with _upgrade_lock(path):  # several workers start at once: one upgrades, the rest wait
        found = version_of(db)
        if found > SCHEMA_VERSION:
            raise StoreVersionError(
                f"{path} was written by a newer Simulcast (store schema {found}; this one knows "
                f"up to {SCHEMA_VERSION}). Install that release again, or restore a backup made "
                "by this one (simulcast restore)."
            )
        if found < SCHEMA_VERSION and _has_tables(db):
            saved = path.parent / "backups" / f"{path.stem}-schema{found}-{stamp()}.db"
            copy_database(db, saved)
            log.info("upgrading the store to schema %d; copy saved: %s", SCHEMA_VERSION, saved)
        for number in range(found + 1, SCHEMA_VERSION + 1):
            _apply(db, number)
    return found


def _apply(db: sqlite3.Connection, number: int) -> None:
    # executescript commits whatever is open first, so the step brings its own transaction.
    try:
        db.executescript(
            f"BEGIN IMMEDIATE;\n{STEPS[number - 1]}\nPRAGMA user_version = {number};\nCOMMIT;"
        )
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _has_tables(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None


@contextmanager
def _upgrade_lock(path: Path) -> Iterator[None]:
    with (path.parent / f".{path.name}.upgrade-lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
