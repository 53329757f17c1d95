"""Kiosk settings: each declared once, resolved flag > environment > config file > default."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.urls import ServerURLError, validate_server_url

CONFIG_NAME = "kiosk.toml"
CONFIG_ENV = "SIMULCAST_KIOSK_CONFIG"
MAX_WALL_SIDE = 10  # as the server's and the page's walls


class ConfigError(ValueError):
    """A setting the operator gave cannot be used; the message names where it came from."""


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not a yes/no value (use true or false)")


def _parse_screen(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a screen number (0 is the first screen)") from None
    if number < 0:
        raise ValueError(f"{text!r} is not a screen number (0 is the first screen)")
    return number


_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _parse_size(text: str) -> int:
    """Bytes, or with K/M/G/T (binary, as the server's MAX_UPLOAD_SIZE): '10G', '500MB'."""
    cleaned = text.strip().upper().replace(" ", "").removesuffix("B")
    unit = cleaned[-1:] if cleaned[-1:] in _SIZE_UNITS else ""
    try:
        size = float(cleaned[: len(cleaned) - len(unit)])
    except ValueError:
        raise ValueError(f"{text!r} is not a size (e.g. 10G, 500M or a number of bytes)") from None
    if size <= 0:
        raise ValueError(f"{text!r}: the cache size must be more than 0")
    return int(size * _SIZE_UNITS[unit])


def _parse_bandwidth(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of Mbit/s (0 for no cap)") from None
    if rate < 0:
        raise ValueError(f"{text!r}: the bandwidth cap cannot be negative (0 for no cap)")
    return rate


def _parse_wall(text: str) -> str:
    """A wall's layout, columns x rows ("3x2"), as the page reads it."""
    found = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not found or not all(1 <= int(side) <= MAX_WALL_SIDE for side in found.groups()):
        raise ValueError(
            f"{text!r} is not a wall layout: columns x rows, each 1 to {MAX_WALL_SIDE}, e.g. 3x2"
        )
    return f"{int(found[1])}x{int(found[2])}"


def _parse_tile(text: str) -> str:
    """This screen's tile of the wall, column,row from 0 ("2,1")."""
    found = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", text)
    if not found:
        raise ValueError(f"{text!r} is not a tile: column,row from 0, e.g. 2,1")
    return f"{int(found[1])},{int(found[2])}"


def _parse_channel(text: str) -> str:
    """A channel's slug as the server's /c/<slug>/ addresses name it ("" for the default)."""
    slug = text.strip()
    if slug and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", slug):
        raise ValueError(f"{text!r} is not a channel name (lower-case letters, digits and -)")
    return slug


def _parse_dir(text: str) -> Path:
    if not text.strip():
        raise ValueError("the cache folder is empty")
    return Path(text).expanduser()


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: Any
    parse: Callable[[str], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "server", "SIMULCAST_SERVER", "http://localhost:8000", validate_server_url,
        "Simulcast server address; the kiosk shows its /ambient page",
    ),
    Setting(
        "channel", "SIMULCAST_CHANNEL", "", _parse_channel,
        "the channel to show, by its name in the server's /c/<name>/ addresses "
        "(default: the server's default channel)",
    ),
    Setting(
        "screen", "SIMULCAST_SCREEN", 0, _parse_screen,
        "which screen to fill (0 is the first)",
    ),
    Setting(
        "name", "SIMULCAST_NAME", "", str,
        "this screen's name in the server's Screens list (default: the computer's name)",
    ),
    Setting(
        "windowed", "SIMULCAST_WINDOWED", False, _parse_bool,
        "show a normal window with a cursor instead of fullscreen (for trying it on a desktop)",
    ),
    Setting(
        "cache_dir", "SIMULCAST_CACHE_DIR", None, _parse_dir,
        "folder for cached videos and the last known schedule (default: the user's cache "
        "folder, ~/.cache/simulcast-kiosk)",
    ),
    Setting(
        "cache_size", "SIMULCAST_CACHE_SIZE", 10 * 1024**3, _parse_size,
        "largest size of the video cache (bytes, or with K/M/G); least recently played go first",
    ),
    Setting(
        "cache_bandwidth", "SIMULCAST_CACHE_BANDWIDTH", 20.0, _parse_bandwidth,
        "cap on background downloads into the cache, in Mbit/s (0: no cap)",
    ),
    Setting(
        "offline_dot", "SIMULCAST_OFFLINE_DOT", True, _parse_bool,
        "show a small dot in a corner while the server is away and the kiosk plays from cache",
    ),
    Setting(
        "wall", "SIMULCAST_WALL", "", _parse_wall,
        "this screen is a tile of a video wall of this layout, columns x rows (e.g. 3x2); "
        "with --tile",
    ),
    Setting(
        "tile", "SIMULCAST_TILE", "", _parse_tile,
        "which tile of the wall this screen shows: column,row from 0 (e.g. 2,1)",
    ),
)


@dataclass(frozen=True)
class KioskConfig:
    server: str  # with /c/<channel> when a channel is chosen: every URL of the kiosk's is under it
    channel: str
    screen: int
    name: str
    windowed: bool
    cache_dir: Path | None
    cache_size: int
    cache_bandwidth: float
    offline_dot: bool
    wall: str
    tile: str
    sources: Mapping[str, str]  # setting name -> where its value came from, for the log

    @property
    def root(self) -> str:
        """The server's own address, without the chosen channel's /c/<channel>."""
        return self.server.removesuffix(f"/c/{self.channel}") if self.channel else self.server


def default_config_paths(
    env: Mapping[str, str] = os.environ, executable: str | None = None, frozen: bool | None = None
) -> list[Path]:
    """Where a config file is looked for, first found wins: beside the built executable, then
    the user's config folder."""
    frozen = getattr(sys, "frozen", False) if frozen is None else frozen
    paths: list[Path] = []
    if frozen:
        paths.append(Path(executable or sys.executable).resolve().parent / CONFIG_NAME)
    paths.append(user_config_dir(env) / "simulcast" / CONFIG_NAME)
    return paths


def user_config_dir(env: Mapping[str, str]) -> Path:
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"])
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    xdg = env.get("XDG_CONFIG_HOME")
    return Path(xdg) if xdg else Path.home() / ".config"


def default_cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / "simulcast-kiosk"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "simulcast-kiosk"
    xdg = env.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "simulcast-kiosk"


def find_config_file(
    explicit: str | None, env: Mapping[str, str], candidates: list[Path]
) -> Path | None:
    # An explicitly named file that is missing is a mistake worth stopping for; a missing
    # default file just means "no config file".
    named = explicit or env.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            where = "--config" if explicit else CONFIG_ENV
            raise ConfigError(f"{where}: config file {str(path)!r} does not exist")
        return path
    return next((path for path in candidates if path.is_file()), None)


def read_config_file(path: Path) -> dict[str, str]:
    """The file's settings as text, so every layer is parsed by the same function."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    known = {setting.name for setting in SETTINGS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            values[key] = str(value)
        else:
            raise ConfigError(f"{path}: {key} must be a string, number or true/false")
    return values


def resolve(
    flags: Mapping[str, str | None],
    env: Mapping[str, str],
    file_values: Mapping[str, str],
    file_path: Path | None = None,
) -> KioskConfig:
    """Pick each setting from the first layer that has it, and parse only the winner: a bad
    value in a layer that is overridden does not stop the kiosk."""
    chosen: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        flag_name = "--" + setting.name.replace("_", "-")
        layers = (
            (flags.get(setting.name), flag_name),
            # An empty variable (e.g. `SIMULCAST_SERVER=` in a unit file) counts as unset.
            (env.get(setting.env) or None, setting.env),
            (file_values.get(setting.name), f"{file_path or 'config file'}: {setting.name}"),
        )
        raw, source = next(((v, s) for v, s in layers if v is not None), (None, "default"))
        if raw is None:
            chosen[setting.name] = setting.default
        else:
            try:
                chosen[setting.name] = setting.parse(raw)
            except (ServerURLError, ValueError) as exc:
                raise ConfigError(f"{source}: {exc}") from None
        sources[setting.name] = source
    _check_tile(chosen["wall"], chosen["tile"], sources)
    if chosen["channel"]:
        # The server answers every page and endpoint of a channel under /c/<slug>.
        chosen["server"] = f"{chosen['server']}/c/{chosen['channel']}"
    return KioskConfig(**chosen, sources=sources)


def _check_tile(wall: str, tile: str, sources: Mapping[str, str]) -> None:
    if bool(wall) != bool(tile):
        given, missing = ("wall", "tile") if wall else ("tile", "wall")
        raise ConfigError(
            f"{sources[given]}: a wall tile needs both --wall and --tile (--{missing} is missing)"
        )
    if wall:
        cols, rows = (int(side) for side in wall.split("x"))
        col, row = (int(part) for part in tile.split(","))
        if col >= cols or row >= rows:
            raise ConfigError(
                f"{sources['tile']}: tile {tile} is outside the {wall} wall "
                f"(columns 0-{cols - 1}, rows 0-{rows - 1})"
            )


def load_config(
    flags: Mapping[str, str | None],
    config_path: str | None = None,
    env: Mapping[str, str] = os.environ,
    candidates: list[Path] | None = None,
) -> KioskConfig:
    paths = default_config_paths(env) if candidates is None else candidates
    path = find_config_file(config_path, env, paths)
    file_values = read_config_file(path) if path else {}
    return resolve(flags, env, file_values, path)
