"""examples/simulcast.service is a unit systemd accepts, with its hardening in place."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .live import ROOT

UNIT = ROOT / "examples" / "simulcast.service"
EXECUTABLE = "/opt/simulcast/bin/simulcast"


def local_copy(tmp_path: Path) -> Path:
    # verify insists that ExecStart exists: the same command from this checkout.
    unit = tmp_path / "simulcast.service"
    unit.write_text(UNIT.read_text().replace(EXECUTABLE, f"{sys.executable} -m server"))
    return unit


def analyze(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *map(str, args)], capture_output=True, text=True, timeout=60
    )


def test_systemd_analyze_verify_accepts_the_unit_without_a_warning(tmp_path: Path) -> None:
    assert f"ExecStart={EXECUTABLE} serve" in UNIT.read_text()
    result = analyze("verify", local_copy(tmp_path))
    assert result.returncode == 0 and result.stdout + result.stderr == ""


def test_the_unit_runs_hardened_as_its_own_user(tmp_path: Path) -> None:
    text = UNIT.read_text()
    for line in (
        "User=simulcast",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/simulcast/data /var/lib/simulcast/uploads",
        "CapabilityBoundingSet=",
    ):
        assert f"\n{line}\n" in text
    report = analyze("security", "--offline=yes", local_copy(tmp_path)).stdout
    level = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", report)[1])  # type: ignore[index]
    assert level <= 2.0, report
