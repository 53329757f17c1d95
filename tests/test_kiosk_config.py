"""Kiosk settings: precedence flag > env > file > default, config file discovery, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.cli import build_parser, config_from_args, main
from kiosk.config import (
    CONFIG_ENV,
    SETTINGS,
    ConfigError,
    default_config_paths,
    load_config,
)
from kiosk.identity import screen_identity

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_nothing_is_given(tmp_path: Path) -> None:
    config = load_config({}, env={}, candidates=[tmp_path / "none.toml"])
    assert (config.server, config.screen, config.windowed) == ("http://localhost:8000", 0, False)
    assert set(config.sources.values()) == {"default"}


def test_flag_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    file = write(tmp_path / "kiosk.toml", 'server = "http://file:1"\nscreen = 3\nwindowed = true\n')
    env = {"SIMULCAST_SERVER": "http://env:2", "SIMULCAST_SCREEN": "2"}
    flags = {"server": "http://flag:3"}

    config = load_config(flags, env=env, candidates=[file])

    assert config.server == "http://flag:3"  # flag over env and file
    assert config.screen == 2  # env over file
    assert config.windowed is True  # file over default
    assert config.sources == {
        "server": "--server", "screen": "SIMULCAST_SCREEN", "windowed": f"{file}: windowed",
        "name": "default", "channel": "default",
        "cache_dir": "default", "cache_size": "default", "cache_bandwidth": "default",
        "offline_dot": "default", "wall": "default", "tile": "default",
    }


def test_env_beats_file(tmp_path: Path) -> None:
    file = write(tmp_path / "kiosk.toml", 'server = "http://file:1"\n')
    config = load_config({}, env={"SIMULCAST_SERVER": "http://env:2"}, candidates=[file])
    assert config.server == "http://env:2"


def test_empty_env_variable_counts_as_unset(tmp_path: Path) -> None:
    file = write(tmp_path / "kiosk.toml", 'server = "http://file:1"\n')
    config = load_config({}, env={"SIMULCAST_SERVER": ""}, candidates=[file])
    assert config.server == "http://file:1"


def test_first_config_file_found_wins(tmp_path: Path) -> None:
    beside = write(tmp_path / "app" / "kiosk.toml", 'server = "http://beside:1"\n')
    user = write(tmp_path / "user" / "kiosk.toml", 'server = "http://user:1"\n')
    assert load_config({}, env={}, candidates=[beside, user]).server == "http://beside:1"
    assert load_config({}, env={}, candidates=[tmp_path / "no", user]).server == "http://user:1"


def test_config_paths_beside_executable_then_user_config_dir(tmp_path: Path) -> None:
    exe = tmp_path / "dist" / "simulcast-kiosk" / "simulcast-kiosk"
    paths = default_config_paths({"XDG_CONFIG_HOME": str(tmp_path / "cfg")}, str(exe), True)
    assert paths == [exe.parent / "kiosk.toml", tmp_path / "cfg" / "simulcast" / "kiosk.toml"]
    # Run from source there is no executable folder of ours to look in.
    assert default_config_paths({"XDG_CONFIG_HOME": "/x"}, frozen=False) == [
        Path("/x/simulcast/kiosk.toml")
    ]


def test_explicit_config_file_from_flag_or_env(tmp_path: Path) -> None:
    named = write(tmp_path / "site.toml", "screen = 1\n")
    assert load_config({}, str(named), env={}, candidates=[]).screen == 1
    assert load_config({}, env={CONFIG_ENV: str(named)}, candidates=[]).screen == 1


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--config: config file .* does not exist"):
        load_config({}, str(tmp_path / "nope.toml"), env={}, candidates=[])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("server = ", "not valid TOML"),
        ('sever = "http://x"\n', "unknown setting.*sever"),
        ("server = [1]\n", "server must be a string"),
        ('server = "ftp://x"\n', r"kiosk.toml: server: .*http:// or https://"),
        ('screen = "left"\n', r"kiosk.toml: screen: 'left' is not a screen number"),
        ('windowed = "maybe"\n', r"kiosk.toml: windowed: 'maybe' is not a yes/no value"),
    ],
)
def test_bad_config_file_names_the_file_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    file = write(tmp_path / "kiosk.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_config({}, env={}, candidates=[file])


def test_bad_value_in_an_overridden_layer_is_ignored(tmp_path: Path) -> None:
    file = write(tmp_path / "kiosk.toml", 'server = "nonsense"\n')
    config = load_config({"server": "http://ok:1"}, env={}, candidates=[file])
    assert config.server == "http://ok:1"


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SIMULCAST_SCREEN: '-1' is not a screen number"):
        load_config({}, env={"SIMULCAST_SCREEN": "-1"}, candidates=[])


def test_cli_flags_map_onto_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("SIMULCAST_WINDOWED", "true")
    args = build_parser().parse_args(["--server", "http://h:9/", "--screen", "1", "--no-windowed"])
    config = config_from_args(args)
    assert (config.server, config.screen, config.windowed) == ("http://h:9", 1, False)


def test_cli_reports_bad_url_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--server", "localhost:8000"]) == 2
    err = capsys.readouterr().err
    assert "--server: 'localhost:8000' has no scheme; did you mean http://localhost:8000" in err
    assert "Traceback" not in err


def test_every_setting_is_documented() -> None:
    docs = (ROOT / "docs" / "kiosk.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert setting.env in docs, f"{setting.env} missing from docs/kiosk.md"
        flag = "--" + setting.name.replace("_", "-")
        assert flag in docs, f"{flag} missing from docs/kiosk.md"
        assert f"{setting.name} =" in docs, f"{setting.name} missing from the docs' kiosk.toml"


def test_example_config_file_is_valid() -> None:
    example = ROOT / "examples" / "kiosk" / "kiosk.toml"
    config = load_config({}, str(example), env={}, candidates=[])
    assert config.server == "http://simulcast.local:8000" and config.windowed is False


def test_a_wall_tile_from_flags_reaches_the_page_address(tmp_path: Path) -> None:
    flags = ["--server", "http://s:8000", "--wall", " 3X2", "--tile", "2,1"]
    args = build_parser().parse_args(flags)
    config = config_from_args(args)
    assert (config.wall, config.tile) == ("3x2", "2,1")
    url = screen_identity(config, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert url.startswith("http://s:8000/ambient?kiosk=") and url.endswith("&wall=3x2&tile=2%2C1")
    plain = load_config({}, env={}, candidates=[])
    assert "wall=" not in screen_identity(plain, env={"XDG_CONFIG_HOME": str(tmp_path)})


@pytest.mark.parametrize(
    ("flags", "why"),
    [
        ({"wall": "3x2"}, "--tile is missing"),
        ({"tile": "0,0"}, "--wall is missing"),
        ({"wall": "3 by 2", "tile": "0,0"}, "not a wall layout"),
        ({"wall": "11x1", "tile": "0,0"}, "each 1 to 10"),
        ({"wall": "3x2", "tile": "2"}, "not a tile"),
        ({"wall": "3x2", "tile": "3,0"}, "outside the 3x2 wall"),
    ],
)
def test_a_bad_wall_tile_is_a_clear_error(flags: dict[str, str], why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        load_config(flags, env={}, candidates=[])


def test_a_channel_puts_every_url_under_its_prefix(tmp_path: Path) -> None:
    config = load_config({"server": "http://host:8000", "channel": "lobby"}, env={},
                         candidates=[])
    assert config.server == "http://host:8000/c/lobby" and config.channel == "lobby"
    with pytest.raises(ConfigError, match="not a channel name"):
        load_config({"channel": "Lobby Left"}, env={}, candidates=[])
