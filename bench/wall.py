"""Seams of a video wall: do neighbouring tiles show the same frame? `python bench/wall.py`

A 2x2 wall of four Chromium pages (`/ambient?wall=2x2&tile=c,r`), each with its own adversity:
a plain one, one whose wall clock is an hour ahead, one 37 s behind, and one behind the 150 ms
delaying proxy (bench/_proxy.py, media included). Truth is what each tile presented (the rVFC
frame log of bench/_probe.py, mapped to the server's clock by CDP round trips, as bench/sync.py
does), front deck only: what a person in the room sees.

Figures per kind of event, over the four neighbouring pairs (two across each vertical seam, two
across each horizontal one), with the load average:
  steady  offset between neighbours at the same server instant (every 10 ms), away from switches
  switch  the same within [-0.5 s, +1 s] of each switch, and "wrong video": how long, per switch
          and seam, one tile shows the new video while its neighbour still shows the old one
Several runs (`--runs`) print each, then the medians of their figures.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _analysis as an  # noqa: E402
from bench.sync import (  # noqa: E402
    Client,
    Spec,
    _clean,
    follow_states,
    open_client,
    poll_forever,
    wait_joined,
)
from tests.live import CHROMIUM, CHROMIUM_ARGS, LiveServer, free_port  # noqa: E402

WALL = "/ambient?wall=2x2&tile={col},{row}&screen=wall-{col}-{row}"
TILES = {
    (0, 0): Spec("tile-0,0", WALL.format(col=0, row=0)),
    (1, 0): Spec("tile-1,0", WALL.format(col=1, row=0), skew_ms=3_600_000),
    (0, 1): Spec("tile-0,1", WALL.format(col=0, row=1), proxied=True),
    (1, 1): Spec("tile-1,1", WALL.format(col=1, row=1), skew_ms=-37_000),
}
SEAMS = [((0, 0), (1, 0)), ((0, 1), (1, 1)), ((0, 0), (0, 1)), ((1, 0), (1, 1))]
STEP = 0.01  # s between compared instants
AROUND = (-0.5, 1.0)  # s around a switch that count as "at a switch"
MISMATCH_STEP = 0.001  # s: resolution of the wrong-video time


class Visible:
    """Which video instance a tile's front deck shows at each instant (paused frames too: a
    preloaded first frame brought to the front is on screen)."""

    def __init__(self, frames: list[list[Any]], offset_ms: float, schedule: list[an.Instance]):
        rows = []
        for _deck, video_id, _media, display_ms, _count, _paused, front in frames:
            at = (display_ms + offset_ms) / 1000
            instance = an.find_instance(schedule, video_id, at) if front else None
            if instance is not None:
                rows.append((at, instance))
        rows.sort(key=lambda row: row[0])
        self.times = [at for at, _ in rows]
        self.instances = [instance for _, instance in rows]

    def at(self, t: float) -> an.Instance | None:
        i = bisect.bisect_right(self.times, t) - 1
        return self.instances[i] if i >= 0 else None


def front_track(client: Client, schedule: list[an.Instance]) -> an.Track:
    return an.track([f for f in client.frames if f[6]], client.clock.offset_ms, schedule)


def analyse(
    clients: dict[tuple[int, int], Client], states: list[dict[str, Any]], t0: float, t1: float
) -> dict[str, Any]:
    schedule = an.schedule_from_states(states)
    switch_times = [i.start for i in schedule if t0 + 1 <= i.start <= t1 - 1]
    tracks = {place: front_track(c, schedule) for place, c in clients.items()}
    visible = {
        place: Visible(c.frames, c.clock.offset_ms, schedule) for place, c in clients.items()
    }

    def near_switch(t: float) -> bool:
        return any(s + AROUND[0] <= t <= s + AROUND[1] for s in switch_times)

    times = an.grid(t0, t1, STEP)
    steady_times = [t for t in times if not near_switch(t)]
    switch_grid = [t for t in times if near_switch(t)]
    steady: list[float] = []
    at_switch: list[float] = []
    for a, b in SEAMS:
        pair = {"a": tracks[a], "b": tracks[b]}
        steady += an.pairwise(pair, steady_times)[("a", "b")]
        at_switch += an.pairwise(pair, switch_grid)[("a", "b")]
    wrong: list[float] = []  # ms per switch and seam with two different videos across it
    for start in switch_times:
        instants = an.grid(start - 1.0, start + 1.5, MISMATCH_STEP)
        for a, b in SEAMS:
            differ = 0
            for t in instants:
                shown_a, shown_b = visible[a].at(t), visible[b].at(t)
                differ += shown_a is not None and shown_b is not None and shown_a != shown_b
            wrong.append(differ * MISMATCH_STEP * 1000)

    def figures(values: list[float]) -> dict[str, float]:
        p50, p95 = an.quantiles(values)
        return {
            "n": len(values),
            "p50_ms": p50 * 1000,
            "p95_ms": p95 * 1000,
            "max_ms": max(values, default=math.nan) * 1000,
        }

    p50, p95 = an.quantiles(wrong)
    return {
        "seconds": round(t1 - t0, 1),
        "switches": len(switch_times),
        "steady": figures(steady),
        "switch": figures(at_switch),
        "wrong_video": {
            "n": len(wrong),
            "p50_ms": p50,
            "p95_ms": p95,
            "max_ms": max(wrong, default=math.nan),
        },
        "seams": {
            f"{a[0]},{a[1]}|{b[0]},{b[1]}": round(
                an.quantiles(
                    an.pairwise({"a": tracks[a], "b": tracks[b]}, steady_times)[("a", "b")]
                )[1]
                * 1000,
                1,
            )
            for a, b in SEAMS
        },
        "tiles": {
            f"{c},{r}": [
                round(x * 1000, 1)
                for x in an.quantiles(
                    [e for e in (tracks[(c, r)].error_at(t) for t in steady_times) if e is not None]
                )
            ]
            for c, r in clients
        },
        "coverage": {
            f"{c},{r}": round(
                len([t for t in times if tracks[(c, r)].error_at(t) is not None])
                / max(1, len(times)),
                3,
            )
            for c, r in clients
        },
    }


async def run_once(args: argparse.Namespace, variant: str = "wall") -> dict[str, Any]:
    """One run of a variant: "wall" (the tiles, one with sound), "wall-sound" (the tiles, each
    told it is the sound tile: none muted), "none" (the same four pages as whole screens)."""
    from playwright.async_api import async_playwright

    workdir = Path(tempfile.mkdtemp(prefix="simulcast-wall-bench-"))
    server = LiveServer(workdir, {}).start()
    proxy_port = free_port()
    proxy = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "_proxy.py"), str(proxy_port), str(server.port),
         "--rtt", str(args.rtt), "--jitter", str(args.jitter)]
    )  # fmt: skip
    states: list[dict[str, Any]] = []
    tasks = [asyncio.create_task(follow_states(server.url, states))]
    clients: dict[tuple[int, int], Client] = {}
    load = [os.getloadavg()[0]]
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for place, spec in TILES.items():
                if variant == "none":
                    spec = replace(spec, path=spec.path.replace("wall=2x2&", "wall=none&"))
                elif variant == "wall-sound":
                    spec = replace(spec, path=f"{spec.path}&sound={place[0]},{place[1]}")
                clients[place] = await open_client(
                    browser, spec, server.url, f"http://127.0.0.1:{proxy_port}"
                )
            tasks.append(asyncio.create_task(poll_forever(list(clients.values()))))
            await wait_joined(list(clients.values()), 40)
            t0 = time.time()
            await asyncio.sleep(args.seconds)
            t1 = time.time()
            for client in clients.values():
                await client.poll()
            load.append(os.getloadavg()[0])
            await browser.close()
    finally:
        for task in tasks:
            task.cancel()
        proxy.terminate()
        proxy.wait()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result = analyse(clients, states, t0, t1)
    result["load_average"] = [round(x, 1) for x in load]
    result["variant"] = variant
    if args.dump:
        dump_run(
            Path(f"{args.dump}.{variant}.{time.strftime('%H%M%S')}.json"), clients, states, t0, t1
        )
    return result


def dump_run(
    path: Path,
    clients: dict[tuple[int, int], Client],
    states: list[dict[str, Any]],
    t0: float,
    t1: float,
) -> None:
    """The raw recordings of one run, for a look at the frames behind the figures."""
    raw = {
        "window": [t0, t1],
        "states": states,
        "clients": {
            f"{c},{r}": {
                "offset_ms": client.clock.offset_ms,
                "frames": client.frames,
                "events": client.events,
                "statuses": client.statuses,
                "trace": client.trace,
            }
            for (c, r), client in clients.items()
        },
    }
    path.write_text(json.dumps(raw))
    print(f"raw recordings in {path}", file=sys.stderr)


def show(result: dict[str, Any], label: str) -> None:
    print(f"{label}: {result['seconds']} s, {result['switches']} switches, "
          f"load average {result['load_average']}")  # fmt: skip
    if "seams" in result:
        print(f"  p95 per seam (steady) {result['seams']}; per tile p50/p95 error to the schedule "
              f"{result['tiles']}")  # fmt: skip
    for kind in ("steady", "switch"):
        f = result[kind]
        print(f"  {kind:7s} neighbours' offset  p50 {f['p50_ms']:6.1f}  p95 {f['p95_ms']:6.1f}  "
              f"max {f['max_ms']:6.1f} ms  ({f['n']} samples)")  # fmt: skip
    w = result["wrong_video"]
    print(f"  switch  wrong video per seam  p50 {w['p50_ms']:6.1f}  p95 {w['p95_ms']:6.1f}  "
          f"max {w['max_ms']:6.1f} ms  ({w['n']} seam-switches)")  # fmt: skip


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "runs": len(runs),
        "seconds": runs[0]["seconds"],
        "switches": sum(r["switches"] for r in runs),
        "load_average": [x for r in runs for x in r["load_average"]],
    }
    for kind in ("steady", "switch", "wrong_video"):
        out[kind] = {
            key: statistics.median(r[kind][key] for r in runs if not math.isnan(r[kind][key]))
            if any(not math.isnan(r[kind][key]) for r in runs)
            else math.nan
            for key in ("p50_ms", "p95_ms", "max_ms")
        }
        out[kind]["n"] = sum(r[kind]["n"] for r in runs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="window of each run")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--variants",
        default="wall",
        help="comma-separated, run in turn: wall (one tile with sound), wall-sound (no tile "
        "muted), none (the same pages as whole screens, to compare)",
    )
    parser.add_argument("--rtt", type=float, default=150.0, help="proxied path round trip, ms")
    parser.add_argument("--jitter", type=float, default=20.0, help="jitter each way, ms")
    parser.add_argument(
        "--dump", help="write each run's raw recordings to DUMP.<variant>.<time>.json"
    )
    args = parser.parse_args()
    print(f"Wall bench: 2x2 tiles (plain, clock +1 h, proxied {args.rtt:g} ms, clock -37 s), "
          f"{os.cpu_count()} cores")  # fmt: skip
    variants = args.variants.split(",")
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for i in range(args.runs):
        for variant in variants:  # side by side: each round runs every variant
            runs[variant].append(asyncio.run(run_once(args, variant)))
            show(runs[variant][-1], f"{variant}, run {i + 1}")
    summary = {variant: median_of(results) for variant, results in runs.items()}
    for variant, figures in summary.items():
        show(figures, f"{variant}, median of {args.runs}")
    print("targets: neighbours' offset p95 < 17 ms, max < 34 ms (steady and at switches)")
    print(json.dumps(_clean({"bench": "wall", "median": summary, "runs": runs})))


if __name__ == "__main__":
    main()
