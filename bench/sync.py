"""How closely do screens play the same frame? `python bench/sync.py [--pages 6] [--seconds 60]`

Starts the server (`python main.py` on a free port, the samples from static/), opens N Chromium
pages, a mix of plain ones and adverse ones (a wall clock an hour off, a 150 ms round-trip path
with jitter through a delaying proxy that also carries the media, a 4x slower CPU, and all three
at once), measures a window of play that crosses video switches, then kills the server for 10 s
and watches the pages come back. Prints a readable report and one JSON line.

`--engines chromium,chromium,firefox,webkit` opens plain pages in those engines instead: Debian's
Chromium (Playwright), Firefox ESR (puppeteer-core over WebDriver BiDi) and WebKitGTK
(WebKitWebDriver + MiniBrowser under Xvfb, Selenium), and reports every pair of engines.
`--busy` runs a VP9 conversion beside (one core kept busy); the load average is printed.

Truth does not come from the pages' own claims: a recorder (bench/_probe.py) logs every presented
frame with its expected display time, the bench maps each page's clock to the server's by CDP round
trips, and bench/_analysis.py compares what the pages showed at the same server instant.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _analysis as an  # noqa: E402
from bench._busy import start_busy_work  # noqa: E402
from bench._probe import DRAIN, RECORDER, PageClock, parse_drain  # noqa: E402
from tests import engines  # noqa: E402
from tests.live import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    free_port,
    skew_script,
    stop_process,
)

TRACE = "() => window.simulcast?.player?.trace?.splice(0) ?? []"
OUTAGE = 10.0  # s the server is away in the recovery phase
STATUS = "() => window.simulcastStatus && {...window.simulcastStatus(), at: performance.now()}"


@dataclass(frozen=True)
class Spec:
    name: str
    path: str = "/ambient"
    skew_ms: float = 0.0
    proxied: bool = False
    cpu: float = 1.0
    engine: str = "chromium"

    @property
    def adverse(self) -> bool:
        return bool(self.skew_ms or self.proxied or self.cpu > 1)

    def describe(self) -> str:
        parts = []
        if self.skew_ms:
            parts.append(f"clock {self.skew_ms / 1000:+.0f} s")
        if self.proxied:
            parts.append("150 ms RTT")
        if self.cpu > 1:
            parts.append(f"CPU /{self.cpu:g}")
        return ", ".join(parts) or "-"


MIX = [
    Spec("plain-1", "/"),
    Spec("skewed", skew_ms=3_600_000),
    Spec("far", "/", proxied=True),
    Spec("slow", cpu=4),
    Spec("plain-2", "/ambient"),
    Spec("all-three", "/", skew_ms=-37_000, proxied=True, cpu=4),
]


def specs_for(pages: int, plain: bool, engine_list: list[str]) -> list[Spec]:
    if engine_list:
        names = [
            f"{e}-{engine_list[: i + 1].count(e)}" if engine_list.count(e) > 1 else e
            for i, e in enumerate(engine_list)
        ]
        return [
            Spec(name, "/" if name == "chromium-1" else "/ambient", engine=engine)
            for name, engine in zip(names, engine_list, strict=True)
        ]
    if plain:
        return [Spec(f"plain-{i + 1}", "/" if i % 2 else "/ambient") for i in range(pages)]
    extra = [Spec(f"plain-{i + 3}", "/" if i % 2 else "/ambient") for i in range(pages - 6)]
    return (MIX + extra)[:pages]


class ChromiumTab:
    """A Playwright page: evaluated directly, its clock read over CDP."""

    def __init__(self, page: Any, cdp: Any) -> None:
        self.page, self.cdp = page, cdp

    async def evaluate(self, function: str) -> Any:
        return await self.page.evaluate(function)

    async def timed_now(self) -> tuple[float, float, float]:
        t0 = time.time()
        reply = await self.cdp.send(
            "Runtime.evaluate", {"expression": "performance.now()", "returnByValue": True}
        )
        return t0, time.time(), float(reply["result"]["value"])


class ThreadedTab:
    """A Firefox or WebKit page of tests/engines.py (blocking calls), run off the event loop."""

    def __init__(self, page: Any) -> None:
        self.page = page

    async def evaluate(self, function: str) -> Any:
        return await asyncio.to_thread(self.page.evaluate, function)

    async def timed_now(self) -> tuple[float, float, float]:
        result: tuple[float, float, float] = await asyncio.to_thread(self.page.timed_now)
        return result


@dataclass
class Client:
    spec: Spec
    page: Any  # ChromiumTab or ThreadedTab
    clock: PageClock = field(default_factory=PageClock)
    frames: list[list[Any]] = field(default_factory=list)
    events: list[list[Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    trace: list[list[Any]] = field(default_factory=list)

    async def poll(self) -> None:
        with contextlib.suppress(Exception):  # a page busy navigating answers next time
            frames, events = parse_drain(await self.page.evaluate(DRAIN))
            self.frames += frames
            self.events += events
            self.trace += await self.page.evaluate(TRACE)
            status = await self.page.evaluate(STATUS)
            if status:
                self.statuses.append(status)
            await self.clock.measure(self.page.timed_now, 2)


class Browsers:
    """The engines' browsers, started when a page first needs one; closes them all."""

    def __init__(self, playwright: Any) -> None:
        self.playwright = playwright
        self.chromium: Any = None
        self.firefox: engines.FirefoxBrowser | None = None
        self.webkits: list[engines.WebKitPage] = []
        self.versions: dict[str, str] = {}

    async def open(self, spec: Spec, server_url: str, proxy_url: str) -> Client:
        if spec.engine == "chromium":
            if self.chromium is None:
                self.chromium = await self.playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS
                )
                self.versions["chromium"] = "Chromium " + self.chromium.version
            return await open_client(self.chromium, spec, server_url, proxy_url)
        url = server_url + spec.path
        if spec.engine == "firefox":
            if self.firefox is None:
                self.firefox = await asyncio.to_thread(engines.FirefoxBrowser)
                self.versions["firefox"] = self.firefox.version
            page = await asyncio.to_thread(self.firefox.open, url, 640, 360, [RECORDER])
        elif spec.engine == "webkit":
            page = await asyncio.to_thread(engines.WebKitPage, url, 640, 360)
            self.webkits.append(page)
            self.versions["webkit"] = page.version
        else:
            raise SystemExit(f"unknown engine {spec.engine!r}: chromium, firefox or webkit")
        tab = ThreadedTab(page)
        client = Client(spec, tab)
        # Again after load: WebKit's WebDriver has no init scripts (the recorder runs once).
        await tab.evaluate(f"() => {{ {RECORDER} }}")
        await client.clock.measure(tab.timed_now, 10)
        return client

    async def close(self) -> None:
        if self.chromium is not None:
            await self.chromium.close()
        if self.firefox is not None:
            await asyncio.to_thread(self.firefox.close)
        for page in self.webkits:
            await asyncio.to_thread(page.close)


async def open_client(browser: Any, spec: Spec, server_url: str, proxy_url: str) -> Client:
    context = await browser.new_context(viewport={"width": 640, "height": 360})
    await context.add_init_script(RECORDER)
    if spec.skew_ms:
        await context.add_init_script(skew_script(spec.skew_ms))
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    if spec.cpu > 1:
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": spec.cpu})
    client = Client(spec, ChromiumTab(page, cdp))
    await page.goto((proxy_url if spec.proxied else server_url) + spec.path)
    await client.clock.measure(client.page.timed_now, 10)
    return client


async def follow_states(url: str, states: list[dict[str, Any]]) -> None:
    """The bench's own subscription to the schedule; it reconnects across the outage."""
    while True:
        try:
            async with httpx.AsyncClient(timeout=None) as http:
                async with http.stream("GET", url + "/video-updates") as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            states.append(json.loads(line[5:]))
        except (httpx.HTTPError, json.JSONDecodeError):
            pass
        await asyncio.sleep(0.3)


async def poll_forever(clients: list[Client], period: float = 1.0) -> None:
    while True:
        for client in clients:
            await client.poll()
        await asyncio.sleep(period)


async def wait_joined(clients: list[Client], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = [c.statuses[-1] if c.statuses else {} for c in clients]
        if all(s.get("playing") and abs(s.get("offsetMs") or 1e9) < 100 for s in latest):
            return
        await asyncio.sleep(0.5)


def next_switch(states: list[dict[str, Any]], after: float) -> float:
    schedule = an.schedule_from_states(states)
    starts = [i.start for i in schedule if i.start > after]
    if starts:
        return min(starts)
    last = schedule[-1]
    return last.end if last.end > after else after


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    specs = specs_for(args.pages, args.plain, [e for e in args.engines.split(",") if e])
    busy = start_busy_work() if args.busy else None
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="simulcast-bench-"))
    env = {"STATIC_DIR": str(Path(args.static_dir).resolve())} if args.static_dir else {}
    server = LiveServer(workdir, env)
    began = time.monotonic()
    await asyncio.to_thread(server.start)
    startup = time.monotonic() - began  # to restart it so that it is away OUTAGE s in all
    proxy_port = free_port()
    proxy = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "_proxy.py"),
            str(proxy_port),
            str(server.port),
            "--rtt",
            str(args.rtt),
            "--jitter",
            str(args.jitter),
        ]
    )
    states: list[dict[str, Any]] = []
    tasks = [asyncio.create_task(follow_states(server.url, states))]
    marks: dict[str, float] = {}
    clients: list[Client] = []
    try:
        async with async_playwright() as playwright:
            browsers = Browsers(playwright)
            for spec in specs:
                clients.append(
                    await browsers.open(spec, server.url, f"http://127.0.0.1:{proxy_port}")
                )
                await clients[-1].poll()
                await asyncio.sleep(args.stagger)
            tasks.append(asyncio.create_task(poll_forever(clients)))
            await wait_joined(clients, 30)
            marks["window_start"] = time.time()
            await asyncio.sleep(args.seconds)
            marks["window_end"] = time.time()
            if not args.no_recovery:
                # Kill the server a few seconds before a switch, so the switch happens while
                # it is away and the item after it is unknown until it comes back.
                kill_at = next_switch(states, time.time() + 5) - 4
                await asyncio.sleep(max(0.0, kill_at - time.time()))
                server.kill()
                marks["killed"] = time.time()
                await asyncio.sleep(max(0.0, OUTAGE - startup))
                server = LiveServer(workdir, env, port=server.port)
                await asyncio.to_thread(server.start)
                marks["back"] = time.time()
                await asyncio.sleep(10)
                marks["end"] = time.time()
            for client in clients:
                await client.poll()
            await browsers.close()
    finally:
        for task in tasks:
            task.cancel()
        proxy.terminate()
        proxy.wait()
        server.stop()
        stop_process(busy)
        if args.keep:
            print(f"server folder and logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.dump:
        dump = {
            "marks": marks,
            "states": states,
            "clients": {
                c.spec.name: {
                    "offset_ms": c.clock.offset_ms,
                    "frames": c.frames,
                    "events": c.events,
                    "statuses": c.statuses,
                    "trace": c.trace,
                }
                for c in clients
            },
        }
        Path(args.dump).write_text(json.dumps(dump))
    result = report(clients, states, marks, browsers.versions, args)
    result["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
    result["busy"] = args.busy
    return result


def report(
    clients: list[Client],
    states: list[dict[str, Any]],
    marks: dict[str, float],
    versions: dict[str, str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    schedule = an.schedule_from_states(states)
    t0, t1 = marks["window_start"], marks["window_end"]
    tracks = {c.spec.name: an.track(c.frames, c.clock.offset_ms, schedule) for c in clients}
    adverse = {c.spec.name for c in clients if c.spec.adverse}
    times = an.grid(t0, t1)
    pairs = an.pairwise(tracks, times)
    plain_pairs = [v for (a, b), v in pairs.items() if a not in adverse and b not in adverse]
    adverse_pairs = [v for (a, b), v in pairs.items() if a in adverse or b in adverse]

    def summary(groups: list[list[float]]) -> dict[str, float]:
        values = [x for g in groups for x in g]
        p50, p95 = an.quantiles(values)
        return {
            "pairs": len(groups),
            "p50_ms": p50 * 1000,
            "p95_ms": p95 * 1000,
            "max_ms": max(values, default=math.nan) * 1000,
        }

    result: dict[str, Any] = {
        "bench": "sync",
        "browsers": versions,
        "pages": len(clients),
        "seconds": round(t1 - t0, 1),
        "switches": sum(1 for i in schedule if t0 <= i.start <= t1),
        "server_away_s": round(marks["back"] - marks["killed"], 1) if "back" in marks else None,
        "all_pairs": summary(list(pairs.values())),
        "plain_pairs": summary(plain_pairs),
        "adverse_pairs": summary(adverse_pairs),
        "engine_pairs": {},
        "clients": {},
    }
    engine_of = {c.spec.name: c.spec.engine for c in clients}
    by_engines: dict[str, list[list[float]]] = {}
    for (a, b), values in pairs.items():
        if a not in adverse and b not in adverse:
            key = "/".join(sorted((engine_of[a], engine_of[b])))
            by_engines.setdefault(key, []).append(values)
    if len(set(engine_of.values())) > 1:
        result["engine_pairs"] = {
            key: summary(groups) for key, groups in sorted(by_engines.items())
        }
    plain_names = [n for n in tracks if n not in adverse]
    for client in clients:
        name, off = client.spec.name, client.clock.offset_ms
        tr = tracks[name]
        errors = [e for e in (tr.error_at(t) for t in times) if e is not None]
        p50, _ = an.quantiles(errors)
        _, p95 = an.quantiles([abs(e) for e in errors])
        to_plain = [
            v
            for (a, b), v in pairs.items()
            if (a == name and b in plain_names) or (b == name and a in plain_names)
        ]
        _, pack95 = an.quantiles([x for v in to_plain for x in v])
        seeks = an.events_between(client.events, off, t0, t1, "seeking")
        fronts = [((e[0] + off) / 1000, e[5]) for e in client.events if e[2] == "front"]
        switches = an.switches(tr, schedule, t0, t1, fronts)
        blanks = an.blank_spells(client.events, off, t0, t1)
        claims = [
            s["offsetMs"] / 1000 - tr.error_at((s["at"] + off) / 1000)
            for s in client.statuses
            if s.get("offsetMs") is not None
            and t0 <= (s["at"] + off) / 1000 <= t1
            and tr.error_at((s["at"] + off) / 1000) is not None
        ]
        entry = {
            "engine": client.spec.engine,
            "truth": "media clock" if any(f[4] == -1 for f in client.frames) else "frames",
            "adversity": client.spec.describe(),
            "join_s": an.join_time(tr, client.clock.server_time(0)),
            "schedule_p50_ms": p50 * 1000,
            "schedule_abs_p95_ms": p95 * 1000,
            "to_plain_p95_ms": pack95 * 1000,
            "coverage": len(errors) / max(1, len(times)),
            "steady_seeks": len(seeks),
            "rate": an.rate_range(client.events, off, t0, t1),
            "switch_gap_max_ms": max((s.gap for s in switches), default=math.nan) * 1000,
            "switch_start_error_ms": [round(s.start_error * 1000, 1) for s in switches],
            "black_max_ms": max((b[1] for b in blanks), default=0.0) * 1000,
            "claim_error_p50_ms": an.quantiles([abs(c) for c in claims])[0] * 1000,
            "bench_clock_uncertainty_ms": client.clock.uncertainty_ms,
        }
        if "back" in marks:
            limit = 0.1 if client.spec.adverse else 0.05
            entry["recovery_s"] = an.recovery(tr, marks["back"], limit, until=marks["end"])
            back = an.events_between(client.events, off, marks["killed"], marks["end"], "connected")
            entry["reconnect_s"] = (
                max(0.0, (back[0][0] + off) / 1000 - marks["back"]) if back else math.nan
            )
            outage = [tr.error_at(t) for t in an.grid(marks["killed"], marks["back"])]
            entry["outage_abs_max_ms"] = (
                max((abs(e) for e in outage if e is not None), default=math.nan) * 1000
            )
        result["clients"][name] = entry
    return result


COLUMNS = (  # header, width, how to show a client's entry
    ("join", 5, lambda c: f"{c['join_s']:.2f}"),
    ("sched", 6, lambda c: f"{c['schedule_p50_ms']:+.1f}"),
    ("|p95|", 6, lambda c: f"{c['schedule_abs_p95_ms']:.1f}"),
    ("vsPln95", 7, lambda c: f"{c['to_plain_p95_ms']:.1f}"),
    ("seeks", 5, lambda c: f"{c['steady_seeks']}"),
    ("rate range", 11, lambda c: f"{c['rate']['min']:.3f}-{c['rate']['max']:.3f}"),
    ("chg", 4, lambda c: f"{c['rate']['changes']}"),
    ("gap", 4, lambda c: f"{c['switch_gap_max_ms']:.0f}"),
    ("black", 5, lambda c: f"{c['black_max_ms']:.0f}"),
    ("claim", 5, lambda c: f"{c['claim_error_p50_ms']:.1f}"),
    ("recon", 5, lambda c: f"{c.get('reconnect_s', math.nan):.2f}"),
    ("recov", 5, lambda c: f"{c.get('recovery_s', math.nan):.2f}"),
    ("out", 5, lambda c: f"{c.get('outage_abs_max_ms', math.nan):.0f}"),
)

LEGEND = """\
truth: what the page's error is judged on: "frames" (requestVideoFrameCallback: the frames
presented and when) or "media clock" (currentTime at each animation frame, where the engine has
no frame callback); join: s from navigation to on schedule (within 50 ms, held 1 s); sched:
median error to the schedule, ms (+ ahead); |p95|: p95 of its absolute value; vsPln95: p95
offset to the plain pages; seeks: seeks in the window; rate range, chg: playbackRate extremes
and changes in the window; gap: longest hold between the last frame of a video and the first of
the next, ms (33 = seamless); black: longest spell with no video frame in front, ms; claim:
median |page's own offsetMs - truth|, ms; recon: s from the server's return to the page's
stream reconnecting; recov: s from its return until within 50 ms (100 adverse) of the schedule,
held 1 s; out: largest error while it was away, ms."""


def print_report(result: dict[str, Any]) -> None:
    away = result.get("server_away_s")
    load = result["load_average"]
    print(
        f"\nSimulcast sync bench: {result['pages']} pages, {result['seconds']} s window, "
        f"{result['switches']} switches, server away {away} s; "
        f"{', '.join(result['browsers'].values())}; {os.cpu_count()} cores, load average "
        f"{load['before']:.1f} -> {load['after']:.1f}"
        + (" (a VP9 conversion running beside)" if result["busy"] else "")
    )
    print("Inter-client offset (frames on screen at the same server instant, every 50 ms):")
    targets = {"plain_pairs": "target p50 < 33, p95 < 50", "adverse_pairs": "target p95 < 100"}
    for key in ("plain_pairs", "adverse_pairs", "all_pairs"):
        s = result[key]
        print(
            f"  {key:14s} ({s['pairs']:2d}) p50 {s['p50_ms']:6.1f}  p95 {s['p95_ms']:6.1f}  "
            f"max {s['max_ms']:6.1f} ms   {targets.get(key, '')}"
        )
    if result["engine_pairs"]:
        print("Per pair of engines (target p95 < 17, max < 50):")
        for key, s in result["engine_pairs"].items():
            print(
                f"  {key:22s} ({s['pairs']:2d}) p50 {s['p50_ms']:6.1f}  p95 {s['p95_ms']:6.1f}  "
                f"max {s['max_ms']:6.1f} ms"
            )
    print()
    header = f"{'client':10s} {'adversity':31s} {'truth':11s} "
    print(header + " ".join(f"{h:>{w}s}" for h, w, _ in COLUMNS))
    for name, c in result["clients"].items():
        cells = " ".join(f"{show(c):>{w}s}" for _, w, show in COLUMNS)
        print(f"{name:10s} {c['adversity']:31s} {c['truth']:11s} {cells}")
    print()
    print(LEGEND)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the window")
    parser.add_argument("--plain", action="store_true", help="no adverse pages")
    parser.add_argument(
        "--engines",
        default="",
        help="plain pages in these engines instead, e.g. chromium,chromium,firefox,webkit",
    )
    parser.add_argument("--busy", action="store_true", help="a VP9 conversion runs beside")
    parser.add_argument("--stagger", type=float, default=1.5, help="s between page opens")
    parser.add_argument("--rtt", type=float, default=150.0, help="proxied path round trip, ms")
    parser.add_argument("--jitter", type=float, default=20.0, help="jitter each way, ms")
    parser.add_argument("--no-recovery", action="store_true", help="skip the outage phase")
    parser.add_argument("--static-dir", help="videos to play instead of static/")
    parser.add_argument("--json", help="also write the JSON result to this file")
    parser.add_argument("--keep", action="store_true", help="keep the server's folder and log")
    parser.add_argument("--dump", help="write the raw recordings (frames, events) to this file")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print_report(result)
    line = json.dumps(_clean(result))
    print(line)
    if args.json:
        Path(args.json).write_text(line + "\n")


def _clean(value: Any) -> Any:
    """NaN -> null, floats rounded to 0.1 ms, so the JSON line is valid and short."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


if __name__ == "__main__":
    main()
