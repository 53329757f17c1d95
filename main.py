"""Run the Simulcast server: `python main.py [--host H] [--port P]`, the same as
`simulcast serve` (see `simulcast --help` for the other commands).

For several workers use Hypercorn directly, e.g.
`hypercorn --bind 0.0.0.0:8000 --workers 4 "server:create_app()"` (with REDIS_URL set).
"""

import sys

from server.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["serve", *sys.argv[1:]]))
