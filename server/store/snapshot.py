"""Consistent copies of a live SQLite store, with SQLite's online backup API: taken while other
connections read and write, page by page, restarting by itself if a write lands meanwhile."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def copy_database(source: sqlite3.Connection, target: Path) -> None:
    """Write a consistent copy of `source` to `target` (replaced if it exists)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
        # A single file, whatever the source's journal mode: a backup must not need its -wal.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    partial.replace(target)


def copy_file(source: Path, target: Path) -> None:
    """`copy_database` of the store file at `source`, opened read-only."""
    db = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        copy_database(db, target)
    finally:
        db.close()


def stamp() -> str:
    """UTC time for the names of saved copies: they sort in the order they were made."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
