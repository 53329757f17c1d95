"""The PyInstaller build from build_kiosk.spec, run with --check against a real server.

The slowest kiosk test (~20-30 s for a fresh build; reused while no kiosk file changes).
Skip it with SIMULCAST_KIOSK_BUILD=skip; point SIMULCAST_KIOSK_EXE at a build made elsewhere
to test that one instead.
"""

from __future__ import annotations

import os

import pytest

from .kiosk_process import built_kiosk
from .live import LiveServer
from .test_kiosk_live import run_check

pytestmark = pytest.mark.skipif(
    os.environ.get("SIMULCAST_KIOSK_BUILD") == "skip", reason="SIMULCAST_KIOSK_BUILD=skip"
)


def test_built_kiosk_check_reports_video_in_sync(server: LiveServer) -> None:
    exe, build_seconds = built_kiosk()
    if build_seconds is not None:
        print(f"kiosk build: {build_seconds:.1f} s")
    report = run_check([str(exe)], server.url)
    assert report["ok"] is True, report
    assert report["video_playing"] is True
    assert abs(report["offset_ms"]) < 100  # type: ignore[arg-type]
