"""Fan-out benchmark: N SSE viewers on one server, and how fast an event reaches all of them.

    .venv/bin/python -m bench.fanout                      # 10,000 viewers, both set-ups
    .venv/bin/python -m bench.fanout --clients 2000 --setup single

    .venv/bin/python -m bench.fanout --setup single,nchan,bare-nchan --busy
    .venv/bin/python -m bench.fanout --setup single --baseline 491251f   # before/after, one run

Set-ups, run one after the other in one run so that they share the machine's noise: `single`
is `python main.py` (one process, embedded SQLite store); `redis` is `hypercorn --workers 2` on a
throwaway `redis-server`; `nchan` is the app with FANOUT=nchan behind nginx with the nchan module
(examples/nginx.conf with examples/nchan.conf), viewers connected to nginx; `bare-nchan` is that
nginx alone, the bench publishing a state-sized message itself: the reference for what nginx and
this load generator can do. `--baseline REF` adds `single` at another commit (git archive),
for before/after ratios on a noisy machine. `--busy` runs a video conversion (ffmpeg, VP9, one
thread) beside the whole run.

The viewers are raw asyncio sockets (one Protocol object each, no HTTP library), so the load
generator stays light next to the server on the same machine. They are held by child processes
(`--loaders`, by default one per 18,000 viewers: a process here may open at most 20,000 files,
the hard limit, which root cannot raise in this container), each from its own source address
(127.0.0.1, .2, ...: one address has only ~28,000 ephemeral ports towards one server port). The
same limit caps a server process: 50,000 viewers need nginx with `--nginx-workers 3`. Figures:
connect rate, server RSS per idle viewer (from /proc, the workers' sum), and per event (a like,
a skip; a publish for bare nchan) the delay until each viewer had it (arrival times from the
monotonic clock, which all processes share): p50/p99/max over the viewers, then per kind the
median of those over the events.
Readable lines first (with the load average), then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from bench._busy import start_busy_work
from tests.live import ROOT, free_port, stop_process, wait_for
from tests.mediafiles import make_still
from tests.nginxserver import NginxServer, example_site
from tests.redisserver import RedisServer

ADMIN = "bench-admin-token"
HOST = "127.0.0.1"


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# -- the server under test ------------------------------------------------------------------


class Server:
    """The set-up under test. `url` takes likes and skips; viewers connect to `stream_url`."""

    def __init__(self, setup: str, workdir: Path, nginx_workers: int, clients: int) -> None:
        self.setup = setup
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.stream_url = self.url
        self.process: subprocess.Popen[bytes] | None = None
        self.redis: RedisServer | None = None
        self.nginx: NginxServer | None = None
        static = workdir / "static"
        static.mkdir()
        for name, luma in (("a", 60), ("b", 120), ("c", 180)):
            make_still(static / f"{name}.webm", 3600, luma)
        self.env = {
            **os.environ,
            "HOST": HOST,
            "PORT": str(self.port),
            "DATA_DIR": str(workdir / "data"),
            "UPLOAD_DIR": str(workdir / "uploads"),
            "STATIC_DIR": str(static),
            "ADMIN_TOKEN": ADMIN,
        }
        if setup in ("nchan", "bare-nchan"):
            nginx_port = free_port()
            site = example_site(
                nginx_port, f"{HOST}:{self.port}", static, workdir / "uploads", nchan=True
            )
            self.nginx = NginxServer(
                workdir / "nginx", site, nginx_port, nginx_workers, connections=clients + 1000
            ).start()
            self.stream_url = self.nginx.url
            self.env["FANOUT"] = "nchan"
            self.env["NCHAN_PUBLISH_URL"] = f"{self.nginx.url}/nchan/pub/simulcast"
        if setup == "bare-nchan":
            return
        source = ROOT
        if setup == "redis":
            self.redis = RedisServer(workdir / "redis").start()
            self.env["REDIS_URL"] = self.redis.url
            command = [sys.executable, "-m", "hypercorn", "--workers", "2", "--backlog", "4096"]
            command += ["--bind", f"{HOST}:{self.port}", "server:create_app()"]
        else:
            command = [sys.executable, "main.py"]
            if "@" in setup:  # single@REF: the same, at another commit
                source = workdir / "source"
                source.mkdir()
                archive = subprocess.run(
                    ["git", "-C", str(ROOT), "archive", setup.split("@", 1)[1]],
                    check=True,
                    capture_output=True,
                ).stdout
                subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        self.log = (workdir / "server.log").open("wb")
        # Children inherit the raised open-file limit (main.py raises its own as well).
        self.process = subprocess.Popen(
            command, cwd=source, env=self.env, stdout=self.log, stderr=self.log
        )
        wait_for(self.url + "/healthz", 60, self.process)

    def pids(self) -> list[int]:
        """The processes that hold viewers: the server, the master's workers, or nginx's."""
        if self.nginx is not None:
            assert self.nginx.process is not None
            return children(self.nginx.process.pid) or [self.nginx.process.pid]
        assert self.process is not None
        if self.setup != "redis":
            return [self.process.pid]
        pids = children(self.process.pid)
        return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]

    def rss_kib(self) -> int:
        return sum(rss_kib(pid) for pid in self.pids())

    def cpu_seconds(self) -> float:
        """User + system CPU time of the processes that hold the viewers (and of the app that
        publishes to nginx)."""
        pids = self.pids() + ([self.process.pid] if self.nginx and self.process else [])
        ticks = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, 20)
        if self.nginx is not None:
            self.nginx.stop()
        if self.redis is not None:
            self.redis.stop()


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


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
    hub: Hub, n: int, concurrency: int, source: str = HOST
) -> tuple[list[asyncio.Transport], float]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    transports: list[asyncio.Transport] = []

    async def one() -> None:
        async with gate:
            ready: asyncio.Future[None] = loop.create_future()
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            # The port is picked at connect, per destination, not at bind: a plain bind to
            # port 0 needs a port free towards every destination, and the previous set-up's
            # closed viewers still hold thousands of them in TIME_WAIT.
            sock.setsockopt(socket.SOL_IP, socket.IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((source, 0))
            await loop.sock_connect(sock, (HOST, port))
            transport, _ = await loop.create_connection(lambda: Viewer(hub, ready), sock=sock)
            transports.append(transport)
            await ready

    port = int(hub.request.split(b"Host: ")[1].split(b"\r\n")[0].rsplit(b":", 1)[1])
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return transports, time.perf_counter() - started


def hold_viewers(pipe: Connection, request: bytes, n: int, concurrency: int, source: str) -> None:
    """A loader process: connects its viewers, then arms, collects and closes on command."""
    asyncio.run(_hold_viewers(pipe, request, n, concurrency, source))


async def _hold_viewers(
    pipe: Connection, request: bytes, n: int, concurrency: int, source: str
) -> None:
    hub = Hub(request)
    transports: list[asyncio.Transport] = []
    while True:
        command, argument = await asyncio.to_thread(pipe.recv)
        if command == "connect":
            transports, seconds = await connect_viewers(hub, n, concurrency, source)
            pipe.send(seconds)
        elif command == "arm":
            hub.arm(argument, n)
            pipe.send(None)
        elif command == "collect":
            try:
                await asyncio.wait_for(hub.everyone.wait(), argument)
            except TimeoutError:
                pass
            pipe.send(hub.arrivals)
        else:  # close
            pipe.send(hub.lost)
            for transport in transports:
                transport.close()
            return


class Loaders:
    """The viewers, spread over loader processes; each command goes to all of them at once."""

    def __init__(self, request: bytes, n: int, processes: int, concurrency: int) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        for k in range(processes):
            share = n // processes + (1 if k < n % processes else 0)
            ours, theirs = spawn.Pipe()
            source = f"127.0.0.{k + 1}"
            spawn.Process(
                target=hold_viewers,
                args=(theirs, request, share, concurrency // processes + 1, source),
                daemon=True,
            ).start()
            self.pipes.append(ours)

    async def ask(self, command: str, argument: Any = None) -> list[Any]:
        for pipe in self.pipes:
            pipe.send((command, argument))
        return await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in self.pipes))

    async def connect(self) -> float:
        return float(max(await self.ask("connect")))

    async def arm(self, marker: bytes) -> None:
        await self.ask("arm", marker)

    async def arrivals(self, timeout: float) -> list[float]:
        return [at for share in await self.ask("collect", timeout) for at in share]

    async def close(self) -> int:
        """Closes every viewer; how many the server had dropped before."""
        return sum(await self.ask("close"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def state_of(url: str) -> dict[str, Any]:
    """The current state, as one more viewer sees it on connecting."""
    headers = {"Accept": "text/event-stream"}
    async with httpx.AsyncClient(timeout=30) as client:
        async with client.stream("GET", url + "/video-updates", headers=headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    return dict(json.loads(line[6:]))
    raise RuntimeError("no state")


async def bare_publish(client: httpx.AsyncClient, server: Server, index: int) -> bytes:
    """A message the size of a real state event, published straight to nchan; its marker."""
    marker = f'"bench":{index},'
    payload = "{" + marker + '"pad":"' + "x" * 1100 + '"}'
    response = await client.post(server.env["NCHAN_PUBLISH_URL"], content=payload)
    response.raise_for_status()
    return marker.encode()


async def measure_events(server: Server, viewers: Loaders, events: int) -> list[dict[str, Any]]:
    """Alternate likes and skips (publishes for bare nchan); each waits until all n viewers
    have it."""
    url = server.url
    results: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for index in range(events):
            sent = time.perf_counter()
            if server.setup == "bare-nchan":
                kind = "publish"
                await viewers.arm(f'"bench":{index},'.encode())
                sent = time.perf_counter()
                await bare_publish(client, server, index)
            else:
                state = await state_of(server.stream_url)
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
                await viewers.arm(marker.encode())
                sent = time.perf_counter()
                response = await request
                response.raise_for_status()
            delays = [(at - sent) * 1000 for at in await viewers.arrivals(60)]
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


async def run(setup: str, args: argparse.Namespace) -> dict[str, Any]:
    n, concurrency = args.clients, args.concurrency
    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        server = Server(setup, Path(tmp), args.nginx_workers, n)
        try:
            if setup == "bare-nchan":  # a first message, as the app publishes at start
                async with httpx.AsyncClient() as client:
                    await bare_publish(client, server, -1)
            port = server.stream_url.rsplit(":", 1)[1]
            request = (
                f"GET /video-updates HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
            # Warm up (imports, first-request caches), so the RSS delta is the viewers' alone.
            warm = Hub(request)
            transports, _ = await connect_viewers(warm, 200, concurrency)
            for transport in transports:
                transport.close()
            await asyncio.sleep(2.0)
            rss_before = server.rss_kib()
            viewers = Loaders(request, n, args.loaders or math.ceil(n / 18_000), concurrency)
            seconds = await viewers.connect()
            await asyncio.sleep(3.0)  # let the viewer count settle (it publishes an event)
            rss_after = server.rss_kib()
            cpu_before = server.cpu_seconds()
            measured = await measure_events(server, viewers, args.events)
            cpu_spent = server.cpu_seconds() - cpu_before
            # A fresh connection per request lands on any worker: sample until all answered.
            workers: dict[str, dict[str, Any]] = {}
            for _ in range(40 if server.process is not None else 0):
                health = httpx.get(server.url + "/healthz", timeout=120).json()
                workers[health["worker"]] = health
            errors = server_errors(Path(tmp), setup)
            lost = await viewers.close()
        finally:
            server.stop()
    complete = [e for e in measured if e["received"] == n]
    by_kind = {
        kind: {
            "events": len(of_kind),
            "p50_ms": _median(e["p50_ms"] for e in of_kind),
            "p99_ms": _median(e["p99_ms"] for e in of_kind),
            "max_ms": _median(e["max_ms"] for e in of_kind),
        }
        for kind in ("like", "skip", "publish")
        if (of_kind := [e for e in complete if e["kind"] == kind])
    }
    return {
        "setup": setup,
        "processes": 2 if setup == "redis" else 1,
        "clients": n,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "connect_seconds": round(seconds, 2),
        "connect_rate_per_s": round(n / seconds),
        "rss_before_mib": round(rss_before / 1024, 1),
        "rss_after_mib": round(rss_after / 1024, 1),
        "rss_per_client_kib": round((rss_after - rss_before) / n, 1),
        "events": measured,
        "events_complete": len(complete),
        "by_kind": by_kind,
        # Server CPU while the events were measured (idle work included), per viewer and event.
        "cpu_us_per_viewer_event": round(cpu_spent * 1e6 / (n * len(measured)), 2),
        "viewers_lost": lost,
        "dropped_by_server": sum(h["dropped"] for h in workers.values()),
        "viewers_per_worker": sorted(h["connections"] for h in workers.values()),
        "server_errors_logged": errors,
    }


def server_errors(workdir: Path, setup: str) -> int:
    """Tracebacks in the app's log while it served (kept in the system's temp folder for
    reading): a run that hides errors behind good figures is no run. Read before the stop, as
    Python 3.11's asyncio logs a CancelledError for every connection still open at shutdown."""
    log = workdir / "server.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    if "Traceback" in text:
        kept = Path(tempfile.gettempdir()) / f"fanout-{setup.replace('@', '-')}-server.log"
        kept.write_text(text)
        print(f"{setup}: the server logged errors, see {kept}")
    return text.count("Traceback")


def _median(values: Any) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def report(result: dict[str, Any]) -> None:
    print(
        f"\n== {result['setup']}: {result['clients']} viewers "
        f"(load average {result['loadavg_1m']:.1f}) ==\n"
        f"connect: {result['connect_seconds']} s ({result['connect_rate_per_s']}/s)\n"
        f"server RSS: {result['rss_before_mib']} -> {result['rss_after_mib']} MiB, "
        f"{result['rss_per_client_kib']} KiB per idle viewer"
    )
    for event in result["events"]:
        print(
            f"  {event['kind']:7} reached {event['received']}/{result['clients']}: "
            f"p50 {event['p50_ms']:.0f} ms, p99 {event['p99_ms']:.0f} ms, "
            f"max {event['max_ms']:.0f} ms"
            if event["p50_ms"] is not None
            else f"  {event['kind']:7} reached nobody"
        )
    for kind, figures in result["by_kind"].items():
        print(
            f"{kind}: median over {figures['events']} complete events: p50 {figures['p50_ms']} "
            f"ms, p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms"
        )
    print(
        f"server CPU per viewer per event: {result['cpu_us_per_viewer_event']} µs; "
        f"viewers lost {result['viewers_lost']}, dropped by server "
        f"{result['dropped_by_server']}, viewers per worker {result['viewers_per_worker']}, "
        f"server errors logged {result['server_errors_logged']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=10, help="alternating likes and skips")
    parser.add_argument(
        "--setup",
        default="single,redis",
        help="comma-separated: single, redis, nchan, bare-nchan, single@<git ref>",
    )
    parser.add_argument("--baseline", help="also run `single` at this git ref, first")
    parser.add_argument("--busy", action="store_true", help="a VP9 conversion runs beside")
    parser.add_argument("--nginx-workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=500, help="connects in flight")
    parser.add_argument(
        "--loaders", type=int, default=0, help="processes holding the viewers (0: one per 18,000)"
    )
    args = parser.parse_args()
    raise_open_file_limit()
    setups = args.setup.split(",")
    if args.baseline:
        setups.insert(0, f"single@{args.baseline}")
    busy = start_busy_work() if args.busy else None
    results = []
    try:
        for setup in setups:
            result = asyncio.run(run(setup, args))
            report(result)
            results.append(result)
    finally:
        if busy is not None:
            stop_process(busy)
    print(
        json.dumps(
            {
                "bench": "fanout",
                "cpus": os.cpu_count(),
                "busy": args.busy,
                "loadavg_1m_at_end": os.getloadavg()[0],  # other work on the machine skews it
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
