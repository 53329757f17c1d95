"""Serve the app under Hypercorn in this process until SIGINT or SIGTERM (`simulcast serve`,
`python main.py`)."""

from __future__ import annotations

import asyncio
import logging
import resource
import signal

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from .app import create_app
from .config import Settings
from .logs import ACCESS

log = logging.getLogger(__name__)


def raise_open_file_limit() -> None:
    # Every viewer holds a socket: allow as many as the system lets this process have.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    config.bind = [f"{settings.host}:{settings.port}"]
    # A line per request only where a log pipeline wants one: ten thousand viewers' streams
    # would otherwise flood a terminal.
    config.accesslog = ACCESS if settings.log_format == "json" else None
    config.errorlog = logging.getLogger("hypercorn.error")  # through our handler and format
    config.keep_alive_timeout = 75
    config.backlog = 4096
    config.graceful_timeout = 2.0  # SSE streams never end by themselves: don't wait on them long
    return config


async def _serve_until_signalled(app: object, config: Config) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # A clean stop closes the store and ends SSE streams, which clients simply reconnect to.
    await hypercorn_serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]


def serve(settings: Settings) -> None:
    raise_open_file_limit()
    app = create_app(settings)
    # Through logging, so a JSON log stays JSON from its first line.
    log.info(
        "Simulcast on http://%s:%s/  (ambient: /ambient, upload: /upload)",
        settings.host,
        settings.port,
    )
    asyncio.run(_serve_until_signalled(app, hypercorn_config(settings)))
