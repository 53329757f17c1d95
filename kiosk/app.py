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
from kiosk.local import Local, start_local
from kiosk.runner import run
from kiosk.status import PageStatus
from kiosk.supervisor import Supervisor
from kiosk.window import KioskWindow

log = logging.getLogger("kiosk")

WINDOW_START_TIMEOUT_S = 60.0
# How long a first start gives the server to answer before showing the waiting screen, so a
# kiosk whose server is up does not flash it.
FIRST_CONTACT_S = 3.0


@dataclass(frozen=True)
class CheckOptions:
    timeout_s: float = 20.0
    max_offset_ms: float = 100.0


def run_app(config: KioskConfig, check: CheckOptions | None = None) -> int:
    stop = threading.Event()
    local = start_local(config, stop, read_only=check is not None)
    kiosk = KioskWindow(config)
    kiosk.window.events.closed += stop.set
    exit_code = [0]
    page = screen_identity(config, base=local.origin.url)

    def worker() -> None:
        first_contact = time.monotonic() + FIRST_CONTACT_S
        while not local.origin.ready() and time.monotonic() < first_contact:
            stop.wait(0.05)
        if not kiosk.ready.wait(WINDOW_START_TIMEOUT_S):
            log.error("the window did not appear within %.0f s", WINDOW_START_TIMEOUT_S)
            exit_code[0] = 1
        elif check is None:
            _play(kiosk, config, local, page, stop)
        else:
            exit_code[0] = _check(kiosk, config.server, local, page, check, stop)
        kiosk.window.destroy()

    webview.start(worker, gui="qt", private_mode=True)
    stop.set()
    local.origin.stop()
    return exit_code[0]


def _play(
    kiosk: KioskWindow, config: KioskConfig, local: Local, page: str, stop: threading.Event
) -> None:
    channel = local.channel

    def observe(_reachable: bool | None, status: PageStatus | None) -> bool:
        channel.set_page(status)
        if status is not None and config.offline_dot:
            kiosk.show_offline(not channel.online)
        return False

    # The page comes from the local server, which answers /healthz once it can show the
    # channel: from the server, or from the last known state while the server is away.
    run(kiosk, local.origin.url, Supervisor(), stop, observer=observe, probe=probe_server,
        page=page, shown_as=config.server)


def _check(
    kiosk: KioskWindow,
    server: str,
    local: Local,
    page: str,
    options: CheckOptions,
    stop: threading.Event,
) -> int:
    started = time.monotonic()
    deadline = started + options.timeout_s
    checker = SyncCheck(server, options.max_offset_ms)

    def observe(_reachable: bool | None, status: PageStatus | None) -> bool:
        local.channel.set_page(status)
        return checker.observe(local.channel.online, status) or time.monotonic() >= deadline

    run(kiosk, local.origin.url, Supervisor(), stop, observer=observe, probe=probe_server,
        page=page, shown_as=server)
    report = checker.report(time.monotonic() - started)
    own = local.origin.report()
    report.update({key: own[key] for key in CHECK_FIELDS})
    print(format_report(report), flush=True)
    return 0 if checker.ok else 1


# What --check adds from the kiosk's own state.
CHECK_FIELDS = ("online", "offline_s", "cache_bytes", "videos_cached", "videos_in_playlist")
