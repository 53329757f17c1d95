"""Running the kiosk as a real process in tests: from source or as the PyInstaller build."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build_kiosk.spec"
BUILD_DIR = ROOT / "build" / "kiosk-test"
EXE = BUILD_DIR / "dist" / "simulcast-kiosk" / "simulcast-kiosk"


def kiosk_env(**extra: str) -> dict[str, str]:
    """No X server in CI: the offscreen platform renders and plays without one. Each kiosk gets
    its own cache folder (a fresh one unless SIMULCAST_CACHE_DIR is given), never the user's."""
    cache = extra.get("SIMULCAST_CACHE_DIR") or tempfile.mkdtemp(prefix="simulcast-kiosk-")
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1",
            "SIMULCAST_CACHE_DIR": cache, **extra}


def source_command() -> list[str]:
    return [sys.executable, "-m", "kiosk"]


def _newest_source_mtime() -> float:
    sources = [SPEC, *(ROOT / "kiosk").rglob("*")]
    return max(path.stat().st_mtime for path in sources if path.is_file())


def built_kiosk() -> tuple[Path, float | None]:
    """The built executable and the seconds the build took (None when a build was reused).

    `SIMULCAST_KIOSK_EXE` points at a build made elsewhere (a CI step, a release); otherwise
    build/kiosk-test is rebuilt when the spec or any kiosk file is newer than it.
    """
    given = os.environ.get("SIMULCAST_KIOSK_EXE")
    if given:
        return Path(given), None
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    # The suite runs in several processes (pytest-xdist): one builds while the others wait for it.
    with (BUILD_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if EXE.exists() and EXE.stat().st_mtime > _newest_source_mtime():
            return EXE, None
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
             "--distpath", str(BUILD_DIR / "dist"), "--workpath", str(BUILD_DIR / "work"),
             str(SPEC)],
            cwd=ROOT, check=True, timeout=600,
        )
        return EXE, time.monotonic() - started


class KioskProcess:
    """The kiosk with its log lines collected as they come, each with its arrival time."""

    def __init__(self, command: list[str], *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [*command, *args], cwd=ROOT, env=kiosk_env(**(env or {})), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait_for_line(self, text: str, timeout: float) -> float:
        """When a line containing `text` arrived; fails with the log if it did not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, line in list(self.lines):
                if text in line:
                    return at
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} from the kiosk within {timeout} s:\n{self.log()}")

    def local_url(self, timeout: float = 30) -> str:
        """The kiosk's own server, which its page is loaded from (and /kiosk/status)."""
        self.wait_for_line("local server on ", timeout)
        line = next(line for _, line in self.lines if "local server on " in line)
        return line.split("local server on ", 1)[1].split()[0]

    def log(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
