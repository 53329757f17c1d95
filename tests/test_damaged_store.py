"""A damaged embedded store stops the start with one clear line and is never overwritten."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .live import ROOT, free_port


def test_a_garbage_database_is_named_in_one_line_and_left_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    garbage = os.urandom(20000)
    (data / "simulcast.db").write_bytes(garbage)
    env = {**os.environ, "DATA_DIR": str(data), "PORT": str(free_port())}
    run = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    said = run.stderr.strip().splitlines()
    assert len(said) == 1, run.stderr
    assert "simulcast.db" in said[0] and "move it aside" in said[0] and "backup" in said[0]
    assert "Traceback" not in run.stdout + run.stderr
    assert (data / "simulcast.db").read_bytes() == garbage
