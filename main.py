"""Run the Simulcast server: `python main.py [--host H] [--port P]`.

For several workers use Hypercorn directly, e.g.
`hypercorn --bind 0.0.0.0:8000 --workers 4 "server:create_app()"` (with REDIS_URL set).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import signal

from hypercorn.asyncio import serve
from hypercorn.config import Config

from server import create_app
from server.config import load_settings


def raise_open_file_limit() -> None:
    # Every viewer holds a socket: allow as many as the system lets this process have.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve_until_signalled(app: object, config: Config) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # A clean stop closes the store and ends SSE streams, which clients simply reconnect to.
    await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]


def main() -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(description="Simulcast: every screen on the same frame.")
    parser.add_argument("--host", default=settings.host, help="address (env HOST)")
    parser.add_argument("--port", type=int, default=settings.port, help="port (env PORT)")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    raise_open_file_limit()
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.accesslog = None
    config.keep_alive_timeout = 75
    config.backlog = 4096
    config.graceful_timeout = 2.0  # SSE streams never end by themselves: don't wait on them long
    app = create_app(settings.replace(host=args.host, port=args.port))
    print(f"Simulcast on http://{args.host}:{args.port}/  (ambient: /ambient, upload: /upload)")
    asyncio.run(serve_until_signalled(app, config))


if __name__ == "__main__":
    main()
