"""`simulcast check`: can this machine run the server as configured? One line per check, so an
operator sees every problem at once rather than the first traceback."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import HOME, Settings
from .formats import VIDEO_SUFFIXES
from .store.migrations import SCHEMA_VERSION, version_of


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAIL':<5} {self.name:<10} {self.detail}"


def run_checks(settings: Settings) -> list[Result]:
    checks: list[Callable[[Settings], Result]] = [
        configured,
        lambda s: writable("data dir", s.data_dir),
        lambda s: writable("uploads", s.upload_dir),
        disk,
        store,
        samples,
        bucket,
        media,
    ]
    results = []
    for check in checks:
        try:
            results.append(check(settings))
        except Exception as error:  # a check that breaks is a problem to report, not a crash
            results.append(Result(getattr(check, "__name__", "check"), False, repr(error)))
    return results


def configured(settings: Settings) -> Result:
    """Where the settings came from, and the defaults a public server should not keep."""
    env = HOME / ".env"
    source = f"the environment and {env}" if env.is_file() else "the environment (no .env)"
    notes = []
    if not settings.admin_token:
        notes.append("ADMIN_TOKEN is empty: admin calls and the console are off")
    if settings.upload_access == "open":
        notes.append("UPLOAD_ACCESS=open: anyone who reaches the server may upload")
    return Result("settings", True, "; ".join([f"read from {source}", *notes]))


def writable(name: str, folder: Path) -> Result:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".check-"):
            pass
    except OSError as error:
        return Result(name, False, f"cannot write to {folder}: {error.strerror or error}")
    return Result(name, True, f"{folder} is writable")


def disk(settings: Settings) -> Result:
    """Room for one upload of the largest accepted size, where it is received and kept."""
    need = settings.max_upload_size
    parts, ok = [], True
    for folder in dict.fromkeys((settings.data_dir, settings.upload_dir)):
        free = shutil.disk_usage(_existing(folder)).free
        ok = ok and free >= need
        parts.append(f"{_gib(free)} free for {folder}")
    verdict = "" if ok else f"; an upload of MAX_UPLOAD_SIZE ({_gib(need)}) would not fit"
    return Result("disk", ok, ", ".join(parts) + verdict)


def store(settings: Settings) -> Result:
    if settings.redis_url:
        return asyncio.run(_redis(settings.redis_url))
    path = settings.data_dir / "simulcast.db"
    if not path.exists():
        return Result("store", True, f"SQLite: {path} is created at the first start")
    try:
        # Read-only: checking never upgrades, locks or repairs anything.
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            (verdict,) = db.execute("PRAGMA quick_check").fetchone()
            version = version_of(db)
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
            videos = db.execute("SELECT COUNT(*) FROM videos").fetchone()[0] if tables else 0
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        return Result("store", False, f"{path} cannot be read as a Simulcast store: {error}")
    if verdict != "ok":
        return Result("store", False, f"{path} is damaged ({verdict}); restore a backup")
    if version > SCHEMA_VERSION:
        return Result(
            "store",
            False,
            f"{path} has schema {version}, from a newer Simulcast (this one knows up to "
            f"{SCHEMA_VERSION}): install that release again, or restore an older backup",
        )
    state = f"schema {version}"
    if version < SCHEMA_VERSION:
        state += f", upgraded to {SCHEMA_VERSION} at the next start (a copy is saved first)"
    return Result("store", True, f"SQLite {path}: {videos} videos, {state}")


async def _redis(url: str) -> Result:
    from .store.redis import RedisStore

    try:
        redis = await RedisStore.connect(url)
    except SystemExit as error:  # connect's own one-line message
        return Result("store", False, str(error))
    try:
        report = await redis.health()
    finally:
        await redis.close()
    ok = bool(report.get("ok"))
    return Result("store", ok, f"Redis {report['url']}: " + ("reachable" if ok else str(report)))


def samples(settings: Settings) -> Result:
    folder = settings.static_dir
    if not folder.is_dir():
        return Result("samples", True, f"{folder} does not exist: no samples play")
    count = sum(1 for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    return Result("samples", True, f"{count} videos in {folder}")


def bucket(settings: Settings) -> Result:
    if not settings.s3_bucket_name:
        return Result("s3", True, "not configured: uploads stay on this machine")
    from .storage.s3 import S3Storage

    async def probe_bucket() -> dict[str, object]:
        return await S3Storage(settings).health()

    report = asyncio.run(probe_bucket())
    where = f"bucket {report['bucket']} at {report['endpoint']}"
    if report["ok"]:
        return Result("s3", True, f"{where} answers")
    return Result("s3", False, f"{where}: {report.get('error')}")


def media(settings: Settings) -> Result:
    import av

    missing = []
    for codec in ("libvpx-vp9", "libopus"):
        try:
            av.codec.Codec(codec, "w")
        except Exception:
            missing.append(codec)
    ffmpeg = ".".join(map(str, av.library_versions["libavcodec"]))
    detail = f"PyAV {av.__version__} (libavcodec {ffmpeg})"
    if missing:
        return Result("media", False, f"{detail} lacks {', '.join(missing)}: cannot convert")
    return Result("media", True, f"{detail}: probes, converts to VP9 + Opus, makes posters")


def _existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _gib(size: float) -> str:
    return f"{size / 1024**3:.1f} GiB"
