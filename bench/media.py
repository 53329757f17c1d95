"""Media benchmark: byte-range requests for one local video, Hypercorn against nginx.

    .venv/bin/python -m bench.media                  # 200 readers, 1 MiB ranges, 8 s a target
    .venv/bin/python -m bench.media --range-kib 64 --seconds 5
    .venv/bin/python -m bench.media --busy          # a video conversion running beside

Four targets in the same run, on the same ~50 MB VP9 file: the app sending the bytes itself
(`python main.py`, one process), nginx serving the file directly, the app behind nginx in the
MEDIA_ACCEL_REDIRECT mode (the app answers every range with X-Accel-Redirect, nginx sends the
bytes), and the MEDIA_SECURE_LINK mode (the app answers /media/v/<id> once with a redirect to a
signed URL; the readers then ask nginx for ranges of that URL, as a browser does). The site
configuration is examples/nginx.conf. Each reader is a raw asyncio keep-alive
connection asking for random ranges back to back. Figures: throughput, requests per second and
request latency p50/p99, and the ratios to nginx. Readable lines first, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench._busy import start_busy_work
from tests.live import ROOT, free_port, stop_process, wait_for
from tests.mediafiles import make_noise
from tests.nginxserver import SECURE_LINK_SECRET, NginxServer, example_site

HOST = "127.0.0.1"


def start_app(
    workdir: Path, static: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    workdir.mkdir()
    environment = {
        **os.environ,
        "HOST": HOST,
        "PORT": str(port),
        "DATA_DIR": str(workdir / "data"),
        "UPLOAD_DIR": str(workdir / "uploads"),
        "STATIC_DIR": str(static),
        **env,
    }
    (workdir / "uploads").mkdir()
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "main.py"], cwd=ROOT, env=environment, stdout=log, stderr=log
    )
    wait_for(f"http://{HOST}:{port}/healthz", 60, process)
    return process, port


def cpu_seconds(pid: int, with_children: bool = False) -> float:
    """User + system CPU time of a process (and of its direct children, for nginx's workers)."""
    pids = [pid]
    if with_children:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    ticks = 0
    for one in pids:
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class Reader(asyncio.Protocol):
    """One keep-alive connection asking for random ranges, one after the other."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.head = b""
        self.remaining = -1  # body bytes still expected; -1 while reading headers
        self.sent = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ask()

    def ask(self) -> None:
        assert self.transport is not None
        if time.perf_counter() >= self.run.deadline:
            self.transport.close()
            return
        first = self.run.random.randrange(0, self.run.size - self.run.length)
        last = first + self.run.length - 1
        self.sent = time.perf_counter()
        self.transport.write(self.run.request % (first, last))

    def data_received(self, data: bytes) -> None:
        body = len(data)
        if self.remaining < 0:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, body = self.head[:end], len(self.head) - end - 4
            self.head = b""
            if not head.startswith(b"HTTP/1.1 206"):
                self.run.errors += 1
            self.remaining = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
        # Bodies are only counted, never kept.
        self.remaining -= body
        self.run.bytes += body
        if self.remaining <= 0:
            self.run.latencies.append(time.perf_counter() - self.sent)
            self.remaining = -1
            self.ask()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.remaining >= 0:
            self.run.errors += 1  # closed in the middle of a body
        if self.run.closing() and not self.run.done.done():
            self.run.done.set_result(None)


class Run:
    def __init__(self, path: str, size: int, length: int, readers: int, seconds: float) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nRange: bytes=%d-%d\r\n\r\n"
        ).encode()
        self.size, self.length, self.readers = size, length, readers
        self.deadline = time.perf_counter() + seconds
        self.random = random.Random(7)
        self.bytes = 0
        self.errors = 0
        self.latencies: list[float] = []
        self.open = readers
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def closing(self) -> bool:
        self.open -= 1
        return self.open == 0


async def measure(
    port: int, path: str, size: int, length: int, readers: int, seconds: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    run = Run(path, size, length, readers, seconds)
    started = time.perf_counter()
    for _ in range(readers):
        await loop.create_connection(lambda: Reader(run), HOST, port)
    await run.done
    elapsed = time.perf_counter() - started
    latencies = sorted(run.latencies)
    return {
        "requests": len(latencies),
        "errors": run.errors,
        "mb_per_s": round(run.bytes / elapsed / 1e6, 1),
        "requests_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
    }


async def run_all(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    static = workdir / "static"
    static.mkdir()
    clip = make_noise(static / "clip.webm", args.video_seconds)  # MB/s of 320x240 VP9 noise
    size = clip.stat().st_size
    plain, plain_port = start_app(workdir / "plain", static, {})
    accel, accel_port = start_app(
        workdir / "accel", static, {"MEDIA_ACCEL_REDIRECT": "/protected/"}
    )
    signing, signing_port = start_app(
        workdir / "signed",
        static,
        {"MEDIA_SECURE_LINK": "/media/signed/", "MEDIA_SECURE_LINK_SECRET": SECURE_LINK_SECRET},
    )
    nginx_port = free_port()
    site = example_site(nginx_port, f"{HOST}:{accel_port}", static, workdir / "accel" / "uploads")
    # One more location: the same file straight from disk, no app involved.
    site = site.replace(
        "    location / {",
        f"    location = /direct.webm {{ alias {clip}; }}\n\n    location / {{",
        1,
    )
    nginx = NginxServer(workdir / "nginx", site, nginx_port, workers=args.nginx_workers).start()
    try:
        video = httpx.get(f"http://{HOST}:{plain_port}/videos").json()["videos"][0]["id"]
        # One redirect per playback; the browser keeps the signed URL for every range.
        signed = httpx.get(f"http://{HOST}:{signing_port}/media/v/{video}").headers["Location"]
        targets = {
            "hypercorn": (plain_port, f"/media/v/{video}", plain.pid),
            "nginx": (nginx_port, "/direct.webm", None),
            "nginx_accel": (nginx_port, f"/media/v/{video}", accel.pid),
            "nginx_signed": (nginx_port, signed, signing.pid),
        }
        length = args.range_kib * 1024
        results = {}
        assert nginx.process is not None
        for name, (port, path, app) in targets.items():
            # Where the CPU goes: with the redirect the app only decides, nginx sends.
            before = (cpu_seconds(app) if app else 0.0, cpu_seconds(nginx.process.pid, True))
            result = await measure(port, path, size, length, args.readers, args.seconds)
            app_cpu = cpu_seconds(app) - before[0] if app else 0.0
            nginx_cpu = cpu_seconds(nginx.process.pid, True) - before[1]
            result["app_cpu_ms_per_request"] = round(app_cpu * 1000 / result["requests"], 3)
            result["nginx_cpu_ms_per_request"] = round(nginx_cpu * 1000 / result["requests"], 3)
            results[name] = result
            await asyncio.sleep(1.0)
    finally:
        nginx.stop()
        for process in (plain, accel, signing):
            process.send_signal(signal.SIGTERM)
            process.wait(20)
    base = results["nginx"]["mb_per_s"] or 1
    return {
        "bench": "media",
        "cpus": os.cpu_count(),
        "loadavg_1m_at_end": os.getloadavg()[0],  # other work on the machine skews it
        "file_mb": round(size / 1e6, 1),
        "range_kib": args.range_kib,
        "readers": args.readers,
        "seconds": args.seconds,
        "nginx_workers": args.nginx_workers,
        "results": results,
        "ratio_to_nginx": {name: round(r["mb_per_s"] / base, 3) for name, r in results.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--range-kib", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=8.0, help="per target")
    parser.add_argument("--video-seconds", type=int, default=20, help="~3 MB each")
    parser.add_argument("--nginx-workers", type=int, default=1, help="1: one process each")
    parser.add_argument("--busy", action="store_true", help="a VP9 conversion runs beside")
    args = parser.parse_args()
    busy = start_busy_work() if args.busy else None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
            report = asyncio.run(run_all(args, Path(tmp)))
    finally:
        if busy is not None:
            stop_process(busy)
    report["busy"] = args.busy
    print(
        f"{report['readers']} readers, random {report['range_kib']} KiB ranges of a "
        f"{report['file_mb']} MB file, {report['seconds']} s per target, "
        f"{report['cpus']} CPUs (load generator included), nginx workers "
        f"{report['nginx_workers']}, load average {report['loadavg_1m_at_end']:.1f}"
        + (", a VP9 conversion running beside" if report["busy"] else "")
    )
    for name, r in report["results"].items():
        print(
            f"  {name:12} {r['mb_per_s']:8.1f} MB/s {r['requests_per_s']:6} req/s  "
            f"p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
            f"x{report['ratio_to_nginx'][name]:.2f} of nginx  "
            f"CPU/request: app {r['app_cpu_ms_per_request']:.3f} ms, "
            f"nginx {r['nginx_cpu_ms_per_request']:.3f} ms  errors {r['errors']}"
        )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
