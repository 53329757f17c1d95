"""`simulcast check` and `serve` as an operator meets them: one line per check, exit 1 on a
problem, and a server that will not start says why in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .live import ROOT
from .test_migrations import run_cli

CHECKS = ["settings", "data dir", "uploads", "disk", "store", "samples", "s3", "media"]


def read_only(
    folder: Path, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run the command with `folder` on a read-only mount (root writes anywhere otherwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "server", *args]
    if os.geteuid() == 0:
        mount = 'mount --bind -o ro "$0" "$0" && exec "$@"'
        command = ["unshare", "--mount", "sh", "-c", mount, str(folder), *command]
    else:
        folder.chmod(0o555)
    return subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_check_reports_each_part_and_passes_on_a_good_setup(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "data"), "UPLOAD_DIR": str(tmp_path / "uploads")}
    result = run_cli(["check"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line[6:16].strip() for line in lines[:-1]] == CHECKS
    assert all(line.startswith("ok    ") for line in lines[:-1])
    assert lines[-1] == "ready to serve"
    assert "UPLOAD_ACCESS=open: anyone who reaches the server may upload" in lines[0]


def test_check_and_serve_fail_clearly_on_a_read_only_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"DATA_DIR": str(data), "UPLOAD_DIR": str(tmp_path / "uploads"), "PORT": "1"}
    check = read_only(data, ["check"], env)
    assert check.returncode == 1
    assert f"FAIL  data dir   cannot write to {data}: Read-only file system" in check.stdout
    assert check.stdout.splitlines()[-1] == "1 problem: data dir"
    serve = read_only(data, ["serve"], env)
    assert serve.returncode == 1
    assert serve.stderr.strip() == (
        f"simulcast: cannot start: cannot write to {data}: Read-only file system"
    )


def test_check_fails_on_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "simulcast.db").write_bytes(b"not a database, just some bytes" * 100)
    env = {"DATA_DIR": str(tmp_path / "data"), "UPLOAD_DIR": str(tmp_path / "uploads")}
    result = run_cli(["check"], env)
    assert result.returncode == 1
    assert "FAIL  store      " in result.stdout and "cannot be read as a Simulcast store" in (
        result.stdout
    )


def test_a_bad_setting_is_named_in_one_line(tmp_path: Path) -> None:
    result = run_cli(["check"], {"PORT": "eighty", "DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip().startswith("simulcast: Setting PORT='eighty' is invalid")
