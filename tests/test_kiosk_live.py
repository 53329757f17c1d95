"""The kiosk from source against a real server: --check, and recovery when the server comes up."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from .kiosk_process import KioskProcess, kiosk_env, source_command
from .live import LiveServer, free_port


def run_check(
    command: list[str], server: str, timeout: float = 20, cache_dir: Path | None = None
) -> dict[str, Any]:
    result = subprocess.run(
        [*command, "--check", "--check-timeout", str(timeout), "--server", server],
        env=kiosk_env(**({"SIMULCAST_CACHE_DIR": str(cache_dir)} if cache_dir else {})),
        capture_output=True, text=True, timeout=timeout + 60,
    )
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line, got {result.stdout!r}\n{result.stderr}"
    report = json.loads(lines[0])
    assert result.returncode == (0 if report["ok"] else 1), result.stderr
    return report


def test_check_reports_video_playing_in_sync(server: LiveServer) -> None:
    report = run_check(source_command(), server.url)
    assert report["ok"] is True, report
    assert report["server_reachable"] and report["page_loaded"] and report["video_playing"]
    assert abs(report["offset_ms"]) < 100  # type: ignore[arg-type]
    assert report["muted"] is False  # autoplay with sound was allowed
    # The kiosk's own state: online, and a check never fills (or empties) the cache it reads.
    assert (report["online"], report["offline_s"], report["videos_in_playlist"]) == (True, 0, 3)
    assert (report["cache_bytes"], report["videos_cached"]) == (0, 0)


def test_check_fails_cleanly_when_server_is_down() -> None:
    report = run_check(source_command(), f"http://127.0.0.1:{free_port()}", timeout=2)
    assert report["ok"] is False and report["server_reachable"] is False
    assert report["error"] == "server not reachable"
    assert report["offline_s"] is None and report["videos_cached"] == 0  # never reached


def test_kiosk_started_before_server_plays_within_10_s_of_it(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "server", port=free_port())
    kiosk = KioskProcess(source_command(), "--server", live.url)
    try:
        kiosk.wait_for_line("showing the waiting screen", timeout=60)
        time.sleep(2)  # let the retry backoff grow, as it would during a real outage
        live.start()
        up = time.monotonic()
        playing = kiosk.wait_for_line("playing video", timeout=30)
        assert playing - up < 10, kiosk.log()
        assert kiosk.process.poll() is None, "the kiosk must recover without a restart"
    finally:
        kiosk.stop()
        live.stop()
