"""What does a vote on one worker cost the others? `python bench/follow.py [--videos 200]`

Two channels on one store stand for two workers: one votes, the other follows the change. It is
followed two ways, side by side in one run: as `store.changes()` now says it (a vote: reload
that video's counts) and as before (any change: reload the whole catalog and every count). Both
stores (SQLite, and Redis on a throwaway redis-server). Prints the median and 90th percentile
per vote in milliseconds, the ratio, and the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.catalog import Video  # noqa: E402
from server.channel import Channel  # noqa: E402
from server.store import Change, Store  # noqa: E402
from server.store.redis import RedisStore  # noqa: E402
from server.store.sqlite import SqliteStore  # noqa: E402
from tests.redisserver import RedisServer  # noqa: E402

VOTES = 300


async def timed(step: Callable[[], Awaitable[None]], runs: int) -> list[float]:
    spent = []
    for _ in range(runs):
        began = time.perf_counter()
        await step()
        spent.append((time.perf_counter() - began) * 1000)
    return spent


async def measure(open_store: Callable[[], Store], videos: int) -> dict[str, list[float]]:
    writer, follower = Channel(open_store()), Channel(open_store())
    await writer.refresh()
    for n in range(videos):
        await writer.upsert(Video(f"v{n}", f"Video {n}", "local", f"v{n}.webm", 30.0))
    for n in range(videos):  # every video has some votes, as a running channel's have
        await writer.toggle_vote(f"v{n}", "someone", 1)
    await follower.refresh()
    count = 0

    def vote() -> Awaitable[object]:
        nonlocal count
        count += 1
        return writer.toggle_vote(f"v{count % videos}", f"viewer{count}", 1)

    async def follow_votes() -> None:
        await vote()
        await follower.follow(Change(votes=frozenset({f"v{count % videos}"})))

    async def reload_everything() -> None:
        await vote()
        await follower.refresh()

    async def vote_only() -> None:
        await vote()

    # "now": vote, then follow it as changes() says; "before": vote, then reload everything.
    results: dict[str, list[float]] = {"vote alone": [], "now": [], "before": []}
    for _ in range(3):  # interleaved rounds, so a busy moment weighs on both ways alike
        results["vote alone"] += await timed(vote_only, VOTES // 3)
        results["now"] += await timed(follow_votes, VOTES // 3)
        results["before"] += await timed(reload_everything, VOTES // 3)
    await writer.store.close()
    await follower.store.close()
    return results


def report(store: str, results: dict[str, list[float]]) -> None:
    """Medians and 90th percentiles of a vote and of a vote plus following it; the follow's
    own cost is the difference of the medians."""
    medians = {}
    for name, values in results.items():
        ordered = sorted(values)
        medians[name] = statistics.median(ordered)
        p90 = ordered[int(len(ordered) * 0.9)]
        print(f"  {store:6} {name:10} median {medians[name]:8.3f} ms  p90 {p90:8.3f} ms")
    now = medians["now"] - medians["vote alone"]
    before = medians["before"] - medians["vote alone"]
    print(f"  {store:6} following one vote: {now:.3f} ms now, {before:.3f} ms before")


async def main(videos: int) -> None:
    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); {videos} videos")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "simulcast.db"
        report("sqlite", await measure(lambda: SqliteStore.open(path), videos))
        with RedisServer(Path(folder)) as redis:
            report("redis", await measure(lambda: RedisStore(redis.url), videos))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=200)
    asyncio.run(main(parser.parse_args().videos))
