"""What screens cost the server: N screens reporting every 5 s (the pages' pace).

    .venv/bin/python -m bench.screens                    # 1,000 screens, 3 runs of 30 s
    .venv/bin/python -m bench.screens --screens 200 --seconds 20 --runs 1

One `python main.py` (embedded SQLite fleet store) on a free port; the load generator (raw
httpx, keep-alive, one client per 50 screens) sends each screen's report at its own phase of the
5 s cycle. Per run: the server's CPU (user + system from /proc, as a share of one core) while the
screens report versus while idle for the same time, the reports' latency p50/p99, refusals, and
the server's RSS. Medians over the runs; the load average is printed (the machine is shared).
On a busy machine the load generator itself falls behind (fewer reports a second than asked,
latencies that are its own queueing): CPU per report is the figure that holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.live import LiveServer

INTERVAL = 5.0
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def report(screen: int) -> dict[str, Any]:
    return {
        "id": f"bench-screen-{screen:06d}",
        "name": f"Bench {screen}",
        "page": "/ambient",
        "engine": "Chromium",
        "version": "156.0.0.0",
        "video_id": "static-bench",
        "start_time": time.time() - 3.0,
        "position": 3.0,
        "offset_ms": random.uniform(-20, 20),
        "rate": 1.003,
        "buffer_s": 8.0,
        "stalls": 0,
        "seeks": 0,
        "dropped_frames": 0,
        "sound": True,
        "playing": True,
    }


async def screens(url: str, count: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    refused = 0
    clients = [
        httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=8))
        for _ in range(max(1, count // 50))
    ]
    started = time.monotonic()

    async def one(screen: int) -> None:
        nonlocal refused
        client = clients[screen % len(clients)]
        await asyncio.sleep(INTERVAL * screen / count)  # each screen its own phase
        while time.monotonic() - started < seconds:
            sent = time.monotonic()
            response = await client.post("/screens/report", json=report(screen))
            latencies.append((time.monotonic() - sent) * 1000)
            refused += response.status_code != 200
            await asyncio.sleep(max(0.0, INTERVAL - (time.monotonic() - sent)))

    await asyncio.gather(*(one(i) for i in range(count)))
    for client in clients:
        await client.aclose()
    latencies.sort()
    return {
        "reports": len(latencies),
        "refused": refused,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
    }


def run_once(count: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, LiveServer(Path(tmp)) as live:
        pid = live.process.pid  # type: ignore[union-attr]
        time.sleep(2)
        before = cpu_seconds(pid)
        time.sleep(seconds)
        idle = (cpu_seconds(pid) - before) / seconds
        before = cpu_seconds(pid)
        figures = asyncio.run(screens(live.url, count, seconds))
        busy = (cpu_seconds(pid) - before) / seconds
        listed = httpx.get(live.url + "/metrics").text
        known = [line for line in listed.splitlines() if line.startswith("simulcast_screens{")]
        return {
            **figures,
            "server_cpu_idle": idle,
            "server_cpu_reporting": busy,
            "cpu_ms_per_report": busy * seconds * 1000 / max(1, figures["reports"]),
            "rss_mib": rss_mib(pid),
            "screens_seen": sum(float(line.rsplit(" ", 1)[1]) for line in known),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [run_once(args.screens, args.seconds) for _ in range(args.runs)]
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    load = os.getloadavg()[0]
    print(
        f"== {args.screens} screens reporting every {INTERVAL:g} s, {args.seconds:g} s per run, "
        f"median of {args.runs} (load average {load:.1f}) =="
    )
    print(
        f"server CPU: {median['cpu_ms_per_report']:.2f} ms per report, "
        f"{median['server_cpu_reporting']:.1%} of a core while reporting "
        f"(idle {median['server_cpu_idle']:.1%}); "
        f"reports {median['reports']:.0f} ({median['reports'] / args.seconds:.0f}/s), "
        f"refused {median['refused']:.0f}; latency p50 {median['p50_ms']:.1f} ms, "
        f"p99 {median['p99_ms']:.1f} ms; RSS {median['rss_mib']:.0f} MiB; "
        f"screens known {median['screens_seen']:.0f}"
    )
    print(json.dumps({"screens": args.screens, "loadavg_1m": load, "runs": runs, "median": median}))


if __name__ == "__main__":
    main()
