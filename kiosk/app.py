"""Runs the kiosk: the window on the GUI thread, the control loop on pywebview's worker thread."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import webview

from kiosk.check import SyncCheck, format_report
from kiosk.config import KioskConfig
from kiosk.health import probe_server
from kiosk.identity import screen_identity
from kiosk.runner import run
from kiosk.status import PageStatus
from kiosk.supervisor import Supervisor
from kiosk.window import KioskWindow

log = logging.getLogger("kiosk")

WINDOW_START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class CheckOptions:
    timeout_s: float = 20.0
    max_offset_ms: float = 100.0


def run_app(config: KioskConfig, check: CheckOptions | None = None) -> int:
    kiosk = KioskWindow(config)
    stop = threading.Event()
    kiosk.window.events.closed += stop.set
    exit_code = [0]
    page = screen_identity(config)

    def worker() -> None:
        if not kiosk.ready.wait(WINDOW_START_TIMEOUT_S):
            log.error("the window did not appear within %.0f s", WINDOW_START_TIMEOUT_S)
            exit_code[0] = 1
        elif check is None:
            run(kiosk, config.server, Supervisor(), stop, probe=probe_server, page=page)
        else:
            exit_code[0] = _check(kiosk, config.server, page, check, stop)
        kiosk.window.destroy()

    webview.start(worker, gui="qt", private_mode=True)
    stop.set()
    return exit_code[0]


def _check(
    kiosk: KioskWindow, server: str, page: str, options: CheckOptions, stop: threading.Event
) -> int:
    started = time.monotonic()
    deadline = started + options.timeout_s
    checker = SyncCheck(server, options.max_offset_ms)

    def observe(reachable: bool | None, status: PageStatus | None) -> bool:
        return checker.observe(reachable, status) or time.monotonic() >= deadline

    run(kiosk, server, Supervisor(), stop, observer=observe, probe=probe_server, page=page)
    print(format_report(checker.report(time.monotonic() - started)), flush=True)
    return 0 if checker.ok else 1
