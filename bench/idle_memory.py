"""What an idle SSE viewer costs the server in Python heap, and who holds it.

    .venv/bin/python -m bench.idle_memory                  # 500 viewers
    .venv/bin/python -m bench.idle_memory --clients 2000
    .venv/bin/python -m bench.idle_memory --browser        # with Chromium's request headers

The app runs in this process under Hypercorn, as `main.py` serves it (tests/live.py's
`serving_here`, samples off so that nothing else happens meanwhile), and N viewers of
`/video-updates` connect on raw sockets, with a bare request as `bench.fanout` sends it or
(`--browser`) with the headers Chromium sends. tracemalloc counts the heap grown per viewer once all
are in, each allocation charged to the innermost frame outside the standard library (the package
whose code asked for it; "asyncio" when only the standard library is on the stack: sockets,
transports, stream readers), then the largest single places. Counted in bytes, so a busy machine
does not change the figures; `bench.fanout` gives the RSS that the operating system sees (the
heap plus the allocator's overhead). The viewers' own sockets live in this process too and are
left out of the count.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import sysconfig
import tempfile
import tracemalloc
from collections import Counter
from pathlib import Path

from tests.live import CHROMIUM_HEADERS, close_viewers, serving_here, sse_viewers

STDLIB = sysconfig.get_paths()["stdlib"]
CLIENT = {__file__, sys.modules[sse_viewers.__module__].__file__}


def owner(traceback: tracemalloc.Traceback) -> tuple[str, str] | None:
    """(who, where) for an allocation, or None for the viewers' side (this script's sockets)."""
    if any(frame.filename in CLIENT for frame in traceback):
        return None
    for frame in reversed(traceback):  # innermost first
        name = frame.filename
        if "site-packages/" in name:
            package = name.split("site-packages/", 1)[1]
            return package.split("/", 1)[0], f"{package}:{frame.lineno}"
        if not name.startswith(STDLIB) and "/server/" in name:
            local = "server/" + name.split("/server/", 1)[1]
            return "simulcast", f"{local}:{frame.lineno}"
    innermost = traceback[-1]
    return "asyncio", f"{Path(innermost.filename).name}:{innermost.lineno}"


def measure(clients: int, headers: bytes) -> tuple[dict[str, int], dict[str, int]]:
    tracemalloc.start(40)
    try:
        with tempfile.TemporaryDirectory(prefix="idle-memory-") as tmp:
            with serving_here(Path(tmp)) as port:
                close_viewers(port, sse_viewers(port, 50))  # warm up: imports, caches
                gc.collect()
                before = tracemalloc.take_snapshot()
                viewers = sse_viewers(port, clients, headers)
                gc.collect()
                after = tracemalloc.take_snapshot()
                close_viewers(port, viewers)
    finally:
        tracemalloc.stop()
    owners: Counter[str] = Counter()
    places: Counter[str] = Counter()
    for stat in after.compare_to(before, "traceback"):
        found = owner(stat.traceback)
        if found is not None:
            owners[found[0]] += stat.size_diff
            places[found[1]] += stat.size_diff
    return {k: v for k, v in owners.items() if v > 0}, dict(places)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--places", type=int, default=25, help="largest places to list")
    parser.add_argument("--browser", action="store_true", help="Chromium's request headers")
    args = parser.parse_args()
    owners, places = measure(args.clients, CHROMIUM_HEADERS if args.browser else b"")
    n = args.clients
    kind = "browser" if args.browser else "bare-request"
    print(f"== {n} idle {kind} viewers: {sum(owners.values()) / n / 1024:.1f} KiB of heap each ==")
    for who, size in sorted(owners.items(), key=lambda item: -item[1]):
        print(f"{size / n:8.0f} B  {who}")
    print("largest places (innermost frame outside the standard library):")
    for where, size in sorted(places.items(), key=lambda item: -item[1])[: args.places]:
        print(f"{size / n:8.0f} B  {where}")
    per_viewer = {who: round(size / n) for who, size in owners.items()}
    print(json.dumps({"clients": n, "browser": args.browser, "heap_bytes_per_viewer": per_viewer}))


if __name__ == "__main__":
    main()
