"""Settings: each declared once, documented in README and .env.example, parsed strictly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.config import ROOT, SETTINGS, load_settings


def test_every_setting_is_in_env_example_and_the_readme() -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    in_example = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    in_readme = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, re.MULTILINE))
    names = {s.name for s in SETTINGS}
    assert names - in_example == set(), "settings missing from .env.example"
    assert names - in_readme == set(), "settings missing from the README's configuration table"
    assert in_example - names == set(), ".env.example names settings the server does not know"
    assert in_readme - names == set(), "the README documents settings the server does not know"


def test_defaults_need_no_env_file() -> None:
    settings = load_settings(env={}, env_file=None)
    assert settings.port == 8000
    assert settings.max_upload_size == 2 * 1024**3
    assert settings.upload_dir == ROOT / "uploads"
    assert settings.redis_url == "" and settings.s3_bucket_name == ""


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=9001\nMAX_UPLOAD_SIZE=512M\nDATA_DIR=/srv/simulcast\n")
    settings = load_settings(env={"PORT": "9002"}, env_file=env_file)
    assert settings.port == 9002
    assert settings.max_upload_size == 512 * 1024**2
    assert settings.data_dir == Path("/srv/simulcast")


def test_a_bad_value_stops_with_a_clear_message() -> None:
    with pytest.raises(SystemExit, match="PORT='eighty'"):
        load_settings(env={"PORT": "eighty"}, env_file=None)
