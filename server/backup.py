"""`simulcast backup`, `backup --verify` and `restore`: the embedded store, copied consistently
while the server runs, and the media files it refers to, with a manifest of sizes and SHA-256
checksums so a backup can be checked long before it is needed.

The stores are copied first (the channel's, then the fleet's: screens, proof of play) and the
media after, so every video in the copy has its file (unless
it was deleted meanwhile). A Redis store is backed up by Redis itself (BGSAVE, AOF:
docs/deploy.md); its backup here holds the media only. Videos in an S3 bucket stay there.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .config import Settings
from .store.migrations import SCHEMA_VERSION, version_of
from .store.snapshot import copy_file, stamp

MANIFEST = "manifest.json"
STORE = "simulcast.db"
FLEET = "fleet.db"  # screens, proof of play, workers' figures (server/store/fleet_sqlite.py)
DATABASES = (STORE, FLEET)  # copied with SQLite's online backup API, restored together
CHANNELS = "channels"  # the other channels' stores: DATA_DIR/channels/<slug>.db
FORMAT = 1
CHUNK = 1024 * 1024


class BackupError(Exception):
    """Why a backup or restore could not be done; the message is for the operator."""


@dataclass(frozen=True)
class Entry:
    path: str  # inside the backup: "simulcast.db", "fleet.db", "uploads/<name>", "posters/<name>"
    size: int
    sha256: str


def media(settings: Settings) -> Iterator[tuple[str, Path]]:
    """(name in a backup, file here) of every local file a restore needs: uploaded videos
    and their renditions, and posters. Work files (incoming, conversions) are not needed."""
    for prefix, folder in (("uploads", settings.upload_dir), ("posters", posters(settings))):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and not path.name.startswith(".") and path.suffix != ".part":
                    yield f"{prefix}/{path.name}", path


def posters(settings: Settings) -> Path:
    return settings.data_dir / "posters"


def create(settings: Settings, dest: Path) -> dict[str, Any]:
    """Write a backup into `dest` (new or empty); return its manifest."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already holds files: back up into a new or empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "simulcast": _release(),
        "schema": SCHEMA_VERSION,
        "store": "redis" if settings.redis_url else "sqlite",
    }
    if settings.redis_url:
        manifest["note"] = "The Redis store is not in this backup: see docs/deploy.md (BGSAVE)."
    else:
        source = settings.data_dir / STORE
        if not source.is_file():
            raise BackupError(f"there is no store to back up at {source}")
        for name in DATABASES:
            # The fleet store is made at the server's first start: a store may come without.
            if name == STORE or (settings.data_dir / name).is_file():
                copy_file(settings.data_dir / name, dest / name)
                entries.append(_entry(name, dest / name))
        manifest["videos"] = _videos(dest / STORE)
        for store in sorted((settings.data_dir / CHANNELS).glob("*.db")):
            name = f"{CHANNELS}/{store.name}"
            (dest / CHANNELS).mkdir(exist_ok=True)
            copy_file(store, dest / name)  # consistent while serving, as the main store
            entries.append(_entry(name, dest / name))
    files = list(media(settings))
    with _bar(sum(_size(path) for _, path in files), "backup") as bar:
        for name, path in files:
            try:
                entries.append(_copy(path, dest / name, name, bar))
            except FileNotFoundError:
                continue  # deleted while the backup ran: the store copy may still name it
    manifest["files"] = [asdict(entry) for entry in entries]
    if settings.s3_bucket_name:
        manifest["note"] = (
            f"Videos in the S3 bucket {settings.s3_bucket_name} are not copied: "
            "keep the bucket versioned or replicated."
        )
    # Written last: a folder without a manifest is an unfinished backup.
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def verify(src: Path) -> list[str]:
    """Every problem with the backup in `src`; empty when it restores as it was made."""
    try:
        manifest = json.loads((src / MANIFEST).read_text())
        files = [Entry(**entry) for entry in manifest["files"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [f"{src / MANIFEST} is missing or unreadable ({error}): not a finished backup"]
    problems = []
    with _bar(sum(entry.size for entry in files), "verify") as bar:
        for entry in files:
            path = src / entry.path
            if not path.is_file():
                problems.append(f"{entry.path} is missing")
            elif path.stat().st_size != entry.size:
                problems.append(f"{entry.path} has {path.stat().st_size} bytes, not {entry.size}")
            elif _sha256(path, bar) != entry.sha256:
                problems.append(f"{entry.path} is damaged: its checksum differs")
    if manifest.get("store") == "sqlite":
        for name in DATABASES:
            if (name == STORE or name in {e.path for e in files}) and not any(
                p.startswith(f"{name} ") for p in problems
            ):
                problems += _check_store(src / name)
    return problems


def restore(settings: Settings, src: Path, force: bool = False) -> dict[str, Any]:
    """Put the backup in `src` in place of this machine's store and media; return its manifest."""
    if problems := verify(src):
        raise BackupError("the backup does not verify: " + "; ".join(problems))
    manifest = json.loads((src / MANIFEST).read_text())
    files = [Entry(**entry) for entry in manifest["files"]]
    if manifest["store"] == "sqlite" and settings.redis_url:
        raise BackupError("this backup holds a SQLite store, but REDIS_URL is set")
    stores = [settings.data_dir / e.path for e in files if e.path in DATABASES]
    targets = {e.path: _target(settings, e.path) for e in files if e.path not in DATABASES}
    clashes = [t for e in files if (t := targets.get(e.path)) and _differs(t, e)]
    if not force:
        if there := next((store for store in stores if store.exists()), None):
            raise BackupError(
                f"{there} already exists: stop the server, then restore with --force to replace "
                "it (the current store is kept in backups/ beside it)"
            )
        if clashes:
            raise BackupError(
                f"{len(clashes)} files here differ from the backup's (e.g. {clashes[0]}): "
                "restore with --force to replace them"
            )
    for store in stores:
        if store.exists():
            _refuse_if_serving(store)
    for store in stores:
        if store.exists():
            kept = store.parent / "backups" / f"{store.stem}-before-restore-{stamp()}.db"
            copy_file(store, kept)
            for suffix in ("", "-wal", "-shm"):
                store.with_name(store.name + suffix).unlink(missing_ok=True)
        copy_file(src / store.name, store)
    with _bar(sum(e.size for e in files if e.path in targets), "restore") as bar:
        for entry in files:
            target = targets.get(entry.path)
            if target is not None and (not target.exists() or _differs(target, entry)):
                if entry.path.startswith(f"{CHANNELS}/"):  # a store: its old journal goes too
                    for stale in (target.with_name(target.name + s) for s in ("-wal", "-shm")):
                        stale.unlink(missing_ok=True)
                _copy(src / entry.path, target, entry.path, bar)
            elif target is not None:
                bar.update(entry.size)
    return dict(manifest)


def _target(settings: Settings, name: str) -> Path:
    folder, _, filename = name.partition("/")
    folders = {
        "uploads": settings.upload_dir,
        "posters": posters(settings),
        CHANNELS: settings.data_dir / CHANNELS,
    }
    if folder not in folders or not filename or "/" in filename or ".." in name:
        raise BackupError(f"the manifest names {name!r}, which a backup never holds")
    return folders[folder] / filename


def _differs(path: Path, entry: Entry) -> bool:
    return path.exists() and (path.stat().st_size != entry.size or _sha256(path) != entry.sha256)


def _refuse_if_serving(store: Path) -> None:
    # Leaving WAL mode needs every other connection gone: a running server keeps one open.
    db = sqlite3.connect(store, timeout=0)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.OperationalError:
        raise BackupError(
            f"a server is using {store} right now: stop it before restoring"
        ) from None
    finally:
        db.close()


def _check_store(path: Path) -> list[str]:
    name = path.name
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            (verdict,) = db.execute("PRAGMA integrity_check").fetchone()
            schema = version_of(db)
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        return [f"{name} cannot be read: {error}"]
    if verdict != "ok":
        return [f"{name} is damaged: {verdict}"]
    if name == STORE and schema > SCHEMA_VERSION:
        return [f"{name} has schema {schema}, newer than this Simulcast's {SCHEMA_VERSION}"]
    return []


def _videos(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM videos").fetchone()[0])
    finally:
        db.close()


def _copy(source: Path, target: Path, name: str, bar: tqdm[Any]) -> Entry:
    """Copy and checksum in one read, through a temporary name: never half a file in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, partial.open("wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
            bar.update(len(chunk))
    shutil.copystat(source, partial)
    partial.replace(target)
    return Entry(name, size, digest.hexdigest())


def _entry(name: str, path: Path) -> Entry:
    return Entry(name, path.stat().st_size, _sha256(path))


def _sha256(path: Path, bar: tqdm[Any] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            if bar is not None:
                bar.update(len(chunk))
    return digest.hexdigest()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _bar(total: int, what: str) -> tqdm[Any]:
    # Shown on a terminal only (disable=None): logs and pipes get the summary line alone.
    return tqdm(total=total, desc=what, unit="B", unit_scale=True, disable=None, leave=False)


def _release() -> str:
    try:
        return version("simulcast")
    except PackageNotFoundError:
        return "source checkout"
