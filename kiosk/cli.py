"""Command line of `simulcast-kiosk` / `python -m kiosk`."""

from __future__ import annotations

import argparse
import logging
import sys

from kiosk.config import CONFIG_ENV, SETTINGS, ConfigError, KioskConfig, load_config

PROG = "simulcast-kiosk"
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    help_of = {setting.name: setting for setting in SETTINGS}

    def describe(name: str) -> str:
        setting = help_of[name]
        return f"{setting.help} (env {setting.env}; default {setting.default!r})"

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Show a Simulcast channel fullscreen on this display.",
        epilog="Settings come from the flag, else the environment, else kiosk.toml beside the "
        "executable or in ~/.config/simulcast/, else the default.",
    )
    # Defaults are None so "not given" can fall through to the environment and config file.
    parser.add_argument("--server", metavar="URL", help=describe("server"))
    parser.add_argument("--channel", metavar="SLUG", help=describe("channel"))
    parser.add_argument("--screen", metavar="N", help=describe("screen"))
    parser.add_argument("--name", metavar="NAME", help=describe("name"))
    parser.add_argument(
        "--windowed", action=argparse.BooleanOptionalAction, default=None,
        help=describe("windowed"),
    )
    parser.add_argument("--cache-dir", metavar="FOLDER", help=describe("cache_dir"))
    parser.add_argument("--cache-size", metavar="SIZE", help=describe("cache_size"))
    parser.add_argument("--cache-bandwidth", metavar="MBITS", help=describe("cache_bandwidth"))
    parser.add_argument(
        "--offline-dot", action=argparse.BooleanOptionalAction, default=None,
        help=describe("offline_dot"),
    )
    parser.add_argument("--wall", metavar="COLSxROWS", help=describe("wall"))
    parser.add_argument("--tile", metavar="COL,ROW", help=describe("tile"))
    parser.add_argument(
        "--config", metavar="FILE", help=f"read settings from this TOML file (env {CONFIG_ENV})"
    )
    parser.add_argument(
        "--check", action="store_true",
        help="load the page, wait until the video plays in sync, print one JSON line (with the "
        "cache's size, videos cached and time offline), exit 0 if in sync else 1",
    )
    parser.add_argument(
        "--check-timeout", metavar="SECONDS", type=float, default=20.0,
        help="how long --check waits for the video to play in sync (default 20)",
    )
    parser.add_argument(
        "--max-offset-ms", metavar="MS", type=float, default=100.0,
        help="largest distance from the server clock --check accepts (default 100)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    return parser


def config_from_args(args: argparse.Namespace) -> KioskConfig:
    flags = {
        "server": args.server,
        "channel": args.channel,
        "screen": args.screen,
        "name": args.name,
        "windowed": None if args.windowed is None else str(args.windowed).lower(),
        "cache_dir": args.cache_dir,
        "cache_size": args.cache_size,
        "cache_bandwidth": args.cache_bandwidth,
        "offline_dot": None if args.offline_dot is None else str(args.offline_dot).lower(),
        "wall": args.wall,
        "tile": args.tile,
    }
    return load_config(flags, args.config)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format=f"%(asctime)s {PROG}: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    log = logging.getLogger("kiosk")
    for setting in SETTINGS:
        log.debug("%s = %r (from %s)", setting.name, getattr(config, setting.name),
                  config.sources[setting.name])

    # Qt reads its environment when first imported, so this comes before importing the app.
    from kiosk.qtenv import prepare_environment

    problem = prepare_environment(check=args.check)
    if problem:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return EXIT_USAGE

    from kiosk.app import CheckOptions, run_app

    if args.check:
        return run_app(config, CheckOptions(args.check_timeout, args.max_offset_ms))
    if not config.windowed:
        from kiosk.screensaver import disable_blanking

        disable_blanking()
    log.info("showing %s on screen %d", config.server, config.screen)
    return run_app(config)
