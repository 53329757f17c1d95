"""The `simulcast` command for operators: serve, check, import, backup, restore.
`python -m server` is the same command, and `python main.py` is `simulcast serve`."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from . import backup, importer
from .checks import run_checks, writable
from .config import Settings, load_settings
from .importer import DEFAULT_CHANNEL
from .logs import configure
from .store.migrations import StoreVersionError


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="simulcast",
        description="Simulcast: every screen plays the same video at the same moment.",
        epilog="Settings come from the environment and .env: see the README's Configuration.",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server (what main.py does)")
    serve.add_argument("--host", help="address to listen on (setting HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (setting PORT)")

    commands.add_parser(
        "check",
        help="check settings, store, storages, media tools and free disk (exit 1 on a problem)",
    )

    save = commands.add_parser(
        "backup",
        help="copy the store and the media files into DEST, safely while the server runs",
        description="Copy the store (consistently, while the server runs) and the media files "
        "into DEST, a new or empty folder, with a manifest of their checksums. "
        "With --verify, check such a backup instead.",
    )
    save.add_argument("dest", type=Path, metavar="DEST")
    save.add_argument("--verify", action="store_true", help="check the backup in DEST")

    bring = commands.add_parser(
        "import",
        help="add every video under PATH... as an upload would be added (safe to run again)",
        description="Add every video under the PATHs (files or folders, searched through) "
        "exactly as an upload is added: probed, refused with the same reasons, converted to "
        "WebM when not every screen plays it, given a poster. Files are copied, never moved. "
        "Files already imported (same content, whatever their name) are skipped. Exit status "
        "1 when a file was refused or failed.",
    )
    bring.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    bring.add_argument(
        "--channel",
        default=DEFAULT_CHANNEL,
        metavar="SLUG",
        help=f"the channel to add them to, by its slug (default: {DEFAULT_CHANNEL!r}, the "
        "default channel; see GET /channels)",
    )
    bring.add_argument(
        "--title-from-name",
        action="store_true",
        help="title each video from its file name ('02-team_meeting.mp4' -> 'Team meeting') "
        "even when the file carries a title tag (which wins otherwise)",
    )

    restore = commands.add_parser(
        "restore", help="bring back a backup made by `simulcast backup` (server stopped)"
    )
    restore.add_argument("src", type=Path, metavar="SRC")
    restore.add_argument(
        "--force", action="store_true", help="replace an existing store and differing files"
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    commands = parser()
    args = commands.parse_args(argv)
    if args.command == "import":
        for path in args.paths:
            if not path.exists():
                commands.error(f"{path}: no such file or folder")
    try:
        settings = load_settings()
    except SystemExit as invalid:  # a setting that does not parse: its own one-line message
        return _fail(str(invalid))
    configure(settings.log_format)
    if args.command == "serve":
        host, port = args.host or settings.host, args.port or settings.port
        return _serve(settings.replace(host=host, port=port))
    if args.command == "check":
        return _check(settings)
    if args.command == "import":
        return _import(settings, args.paths, args.title_from_name, args.channel)
    if args.command == "backup":
        return _verify(args.dest) if args.verify else _backup(settings, args.dest)
    return _restore(settings, args.src, args.force)


def _serve(settings: Settings) -> int:
    if problem := _startup_problem(settings):
        return _fail(f"cannot start: {problem}")
    from .serving import serve

    serve(settings)
    return 0


def _startup_problem(settings: Settings) -> str | None:
    for name, folder in (("data dir", settings.data_dir), ("uploads", settings.upload_dir)):
        if not (result := writable(name, folder)).ok:
            return result.detail
    if settings.redis_url:
        return None
    from .store.sqlite import SqliteStore

    # Opened once before serving: an older release's store is upgraded here, and a store this
    # release cannot use stops it with one clear line instead of a traceback per worker.
    path = settings.data_dir / "simulcast.db"
    try:
        store = SqliteStore.open(path)
    except StoreVersionError as error:
        return str(error)
    except sqlite3.DatabaseError as error:
        return (
            f"{path} cannot be used ({error}): it is damaged or not a Simulcast store. It was "
            "left untouched: restore it from a backup (simulcast restore), or move it aside to "
            "start with an empty channel."
        )
    asyncio.run(store.close())
    return None


def _check(settings: Settings) -> int:
    results = run_checks(settings)
    for result in results:
        print(result.line())
    failed = [r.name for r in results if not r.ok]
    problems = f"{len(failed)} problem{'s' * (len(failed) > 1)}: {', '.join(failed)}"
    print(problems if failed else "ready to serve")
    return 1 if failed else 0


def _backup(settings: Settings, dest: Path) -> int:
    try:
        manifest = backup.create(settings, dest)
    except (backup.BackupError, OSError) as error:
        return _fail(f"backup failed: {error}")
    files = [f for f in manifest["files"] if f["path"] not in backup.DATABASES]
    store = (
        f"the store ({manifest['videos']} videos, schema {manifest['schema']})"
        if manifest["store"] == "sqlite"
        else "no store (Redis)"
    )
    if any(f["path"] == backup.FLEET for f in manifest["files"]):
        store += ", the screens and the play log"
    print(
        f"Backed up {store} and {len(files)} media files "
        f"({_megabytes(sum(f['size'] for f in files))}) to {dest}"
    )
    if note := manifest.get("note"):
        print(note)
    print(f"Check it any time: simulcast backup --verify {dest}")
    return 0


def _verify(src: Path) -> int:
    problems = backup.verify(src)
    for problem in problems:
        print(f"FAIL  {problem}")
    if problems:
        return _fail(f"the backup in {src} has {len(problems)} problem(s)")
    print(f"ok    the backup in {src} is complete: every file matches its checksum")
    return 0


def _restore(settings: Settings, src: Path, force: bool) -> int:
    try:
        manifest = backup.restore(settings, src, force)
    except (backup.BackupError, OSError) as error:
        return _fail(f"restore failed: {error}")
    files = [f for f in manifest["files"] if f["path"] not in backup.DATABASES]
    store = f"the store into {settings.data_dir}, " if manifest["store"] == "sqlite" else ""
    if any(f["path"] == backup.FLEET for f in manifest["files"]):
        store = f"the store, the screens and the play log into {settings.data_dir}, "
    print(
        f"Restored {store}{len(files)} media files into {settings.upload_dir} "
        f"and {backup.posters(settings)}, from the backup of {manifest['created']}"
    )
    print("Start the server: simulcast serve")
    return 0


def _import(settings: Settings, paths: list[Path], titles_from_names: bool, channel: str) -> int:
    files, others = importer.find(paths)
    with tqdm(total=len(files), unit="file", disable=None, leave=False) as bar:

        def report(outcome: importer.Outcome) -> None:
            bar.write(outcome.line(files[outcome.path]))
            bar.update(1)

        try:
            outcomes = asyncio.run(
                importer.import_files(settings, list(files), report, titles_from_names, channel)
            )
        except importer.UnknownChannelError:
            print(
                f"simulcast import: no channel {channel!r} (create it in /admin or with "
                f"POST /channels; {DEFAULT_CHANNEL!r} is the default channel)",
                file=sys.stderr,
            )
            return 2
    print(importer.summary(outcomes, others))
    return 0 if all(o.kind in importer.FINE for o in outcomes) else 1


def _fail(message: str) -> int:
    print(f"simulcast: {message}", file=sys.stderr)
    return 1


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
