"""Fan-out benchmark: N SSE viewers on one server, and how fast an event reaches all of them.

    .venv/bin/python -m bench.fanout                      # 10,000 viewers, both set-ups
    .venv/bin/python -m bench.fanout --clients 2000 --setup single

Set-ups: `single` is `python main.py` (one process, embedded SQLite store); `redis` is
`hypercorn --workers 2` on a throwaway `redis-server`. The viewers are raw asyncio sockets (one
Protocol object each, no HTTP library), so the load generator stays light next to the server on
the same machine. Figures: connect rate, server RSS per idle viewer (from /proc, the workers'
sum), and per event (a like, a skip) the delay until each viewer had it: p50/p99/max over the
viewers, then the median of those over the events. Readable lines first, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx

from tests.live import ROOT, free_port, wait_for
from tests.redisserver import RedisServer

ADMIN = "bench-admin-token"
HOST = "127.0.0.1"


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def make_video(path: Path, seconds: int, luma: int) -> Path:
    """A tiny real VP9 file an hour long: no switch happens unless the benchmark asks."""
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx-vp9", rate=1, options={"deadline": "realtime"})
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame(64, 64, "yuv420p")
        for plane, value in zip(frame.planes, (luma, 128, 128), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        for index in range(seconds):
            frame.pts, frame.time_base = index, Fraction(1, 1)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# -- the server under test ------------------------------------------------------------------


class Server:
    def __init__(self, setup: str, workdir: Path) -> None:
        self.setup = setup
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        static = workdir / "static"
        static.mkdir()
        for name, luma in (("a", 60), ("b", 120), ("c", 180)):
            make_video(static / f"{name}.webm", 3600, luma)
        self.env = {
            **os.environ,
            "HOST": HOST,
            "PORT": str(self.port),
            "DATA_DIR": str(workdir / "data"),
            "UPLOAD_DIR": str(workdir / "uploads"),
            "STATIC_DIR": str(static),
            "ADMIN_TOKEN": ADMIN,
        }
        self.redis: RedisServer | None = None
        if setup == "redis":
            self.redis = RedisServer(workdir / "redis").start()
            self.env["REDIS_URL"] = self.redis.url
            command = [sys.executable, "-m", "hypercorn", "--workers", "2", "--backlog", "4096"]
            command += ["--bind", f"{HOST}:{self.port}", "server:create_app()"]
        else:
            command = [sys.executable, "main.py"]
        self.log = (workdir / "server.log").open("wb")
        # Children inherit the raised open-file limit (main.py raises its own as well).
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log
        )
        wait_for(self.url + "/healthz", 60, self.process)

    def pids(self) -> list[int]:
        """The processes that hold viewers: the server, or the master's workers."""
        if self.setup != "redis":
            return [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()]
        return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]

    def rss_kib(self) -> int:
        return sum(rss_kib(pid) for pid in self.pids())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.redis is not None:
            self.redis.stop()


# -- the viewers ---------------------------------------------------------------------------


@dataclass
class Hub:
    """What every viewer shares: the request to send and the marker of the awaited event."""

    request: bytes
    marker: bytes = b""
    generation: int = 0
    arrivals: list[float] = field(default_factory=list)
    expected: int = 0
    lost: int = 0
    everyone: asyncio.Event = field(default_factory=asyncio.Event)

    def arm(self, marker: bytes, expected: int) -> None:
        self.marker, self.expected = marker, expected
        self.generation += 1
        self.arrivals = []
        self.everyone = asyncio.Event()

    def arrived(self, at: float) -> None:
        self.arrivals.append(at)
        if len(self.arrivals) >= self.expected:
            self.everyone.set()


class Viewer(asyncio.Protocol):
    __slots__ = ("hub", "transport", "ready", "buffer", "tail", "generation")

    def __init__(self, hub: Hub, ready: asyncio.Future[None]) -> None:
        self.hub = hub
        self.ready = ready
        self.buffer = b""
        self.tail = b""
        self.generation = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.hub.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self.ready.done():
            # Connected once the headers and the first full event (the state) are in.
            self.buffer += data
            head = self.buffer.find(b"\r\n\r\n")
            if head >= 0 and self.buffer.find(b"\n\n", head + 4) >= 0:
                if not self.buffer.startswith(b"HTTP/1.1 200"):
                    self.ready.set_exception(RuntimeError(self.buffer[:200].decode()))
                else:
                    self.ready.set_result(None)
                self.buffer = b""
            return
        hub = self.hub
        if hub.marker and self.generation != hub.generation:
            # The marker may straddle two reads: search with the end of the previous one.
            if hub.marker in self.tail + data:
                self.generation = hub.generation
                hub.arrived(now)
            self.tail = data[-len(hub.marker) :]

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.lost += 1
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the first event"))


async def connect_viewers(
    hub: Hub, n: int, concurrency: int
) -> tuple[list[asyncio.Transport], float]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    transports: list[asyncio.Transport] = []

    async def one() -> None:
        async with gate:
            ready: asyncio.Future[None] = loop.create_future()
            transport, _ = await loop.create_connection(lambda: Viewer(hub, ready), HOST, port)
            transports.append(transport)
            await ready

    port = int(hub.request.split(b"Host: ")[1].split(b"\r\n")[0].rsplit(b":", 1)[1])
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return transports, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def state_of(url: str) -> dict[str, Any]:
    """The current state, as one more viewer sees it on connecting."""
    async with httpx.AsyncClient(timeout=30) as client:
        async with client.stream("GET", url + "/video-updates") as response:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    return dict(json.loads(line[6:]))
    raise RuntimeError("no state")


async def measure_events(url: str, hub: Hub, n: int, events: int) -> list[dict[str, Any]]:
    """Alternate likes and skips; each waits until all n viewers have it."""
    results: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for index in range(events):
            state = await state_of(url)
            kind = "like" if index % 2 == 0 else "skip"
            if kind == "like":
                # The event that carries one more like for this video (and this next one).
                marker = f'"likes":{state["likes"] + 1},"dislikes":{state["dislikes"]},'
                marker += f'"next":{{"id":"{state["next"]["id"]}"'
                request = client.post(
                    f"{url}/like/0",
                    json={"id": state["id"]},
                    headers={"Cookie": f"simulcast_viewer={uuid.uuid4().hex}"},
                )
            else:
                marker = f'data: {{"id":"{state["next"]["id"]}"'
                headers = {"Authorization": f"Bearer {ADMIN}"}
                request = client.post(f"{url}/skip", headers=headers)
            hub.arm(marker.encode(), n)
            sent = time.perf_counter()
            response = await request
            response.raise_for_status()
            try:
                await asyncio.wait_for(hub.everyone.wait(), 60)
            except TimeoutError:
                pass
            delays = [(at - sent) * 1000 for at in hub.arrivals]
            results.append(
                {
                    "kind": kind,
                    "received": len(delays),
                    "first_ms": min(delays) if delays else None,
                    "p50_ms": percentile(delays, 0.5) if delays else None,
                    "p99_ms": percentile(delays, 0.99) if delays else None,
                    "max_ms": max(delays) if delays else None,
                }
            )
            await asyncio.sleep(1.0)
    return results


async def run(setup: str, n: int, events: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"fanout-{setup}-") as tmp:
        server = Server(setup, Path(tmp))
        try:
            request = (
                f"GET /video-updates HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
            # Warm up (imports, first-request caches), so the RSS delta is the viewers' alone.
            warm = Hub(request)
            transports, _ = await connect_viewers(warm, 200, concurrency)
            for transport in transports:
                transport.close()
            await asyncio.sleep(2.0)
            rss_before = server.rss_kib()
            hub = Hub(request)
            transports, seconds = await connect_viewers(hub, n, concurrency)
            await asyncio.sleep(3.0)  # let the viewer count settle (it publishes an event)
            rss_after = server.rss_kib()
            measured = await measure_events(server.url, hub, n, events)
            # A fresh connection per request lands on any worker: sample until all answered.
            workers: dict[str, dict[str, Any]] = {}
            for _ in range(40):
                health = httpx.get(server.url + "/healthz").json()
                workers[health["worker"]] = health
            for transport in transports:
                transport.close()
        finally:
            server.stop()
    complete = [e for e in measured if e["received"] == n]
    return {
        "setup": setup,
        "processes": 2 if setup == "redis" else 1,
        "clients": n,
        "connect_seconds": round(seconds, 2),
        "connect_rate_per_s": round(n / seconds),
        "rss_before_mib": round(rss_before / 1024, 1),
        "rss_after_mib": round(rss_after / 1024, 1),
        "rss_per_client_kib": round((rss_after - rss_before) / n, 1),
        "events": measured,
        "events_complete": len(complete),
        "p50_ms": _median(e["p50_ms"] for e in complete),
        "p99_ms": _median(e["p99_ms"] for e in complete),
        "max_ms": _median(e["max_ms"] for e in complete),
        "viewers_lost": hub.lost,
        "dropped_by_server": sum(h["dropped"] for h in workers.values()),
        "viewers_per_worker": sorted(h["connections"] for h in workers.values()),
    }


def _median(values: Any) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def report(result: dict[str, Any]) -> None:
    print(
        f"\n== {result['setup']}: {result['clients']} viewers "
        f"(load average {os.getloadavg()[0]:.1f}) ==\n"
        f"connect: {result['connect_seconds']} s ({result['connect_rate_per_s']}/s)\n"
        f"server RSS: {result['rss_before_mib']} -> {result['rss_after_mib']} MiB, "
        f"{result['rss_per_client_kib']} KiB per idle viewer"
    )
    for event in result["events"]:
        print(
            f"  {event['kind']:5} reached {event['received']}/{result['clients']}: "
            f"p50 {event['p50_ms']:.0f} ms, p99 {event['p99_ms']:.0f} ms, "
            f"max {event['max_ms']:.0f} ms"
            if event["p50_ms"] is not None
            else f"  {event['kind']:5} reached nobody"
        )
    print(
        f"median over {result['events_complete']} complete events: p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, max {result['max_ms']} ms; "
        f"viewers lost {result['viewers_lost']}, dropped by server {result['dropped_by_server']}, "
        f"viewers per worker {result['viewers_per_worker']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=6, help="alternating likes and skips")
    parser.add_argument("--setup", choices=["single", "redis", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=500, help="connects in flight")
    args = parser.parse_args()
    raise_open_file_limit()
    setups = ["single", "redis"] if args.setup == "both" else [args.setup]
    results = []
    for setup in setups:
        result = asyncio.run(run(setup, args.clients, args.events, args.concurrency))
        report(result)
        results.append(result)
    print(
        json.dumps(
            {
                "bench": "fanout",
                "cpus": os.cpu_count(),
                "loadavg_1m_at_end": os.getloadavg()[0],  # other work on the machine skews it
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
