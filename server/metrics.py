"""`GET /metrics`: the server's figures in the Prometheus text format (prometheus-client).

Several workers share one listening socket, so a scrape reaches any one of them. Each worker
therefore publishes its own counters to the fleet store every few seconds, and whichever worker
answers a scrape reports every live worker's, labelled `worker`; figures of the whole channel
(viewers, screens and their offsets, conversions, store and storage health) carry no label.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from quart import Response, request

from .catalog import Status
from .screens import online
from .store.fleet import Fleet

if TYPE_CHECKING:
    from .services import Services

log = logging.getLogger(__name__)

PUBLISH_INTERVAL = 5.0
# |offset| buckets (ms): a 60 Hz vsync, a 30 fps frame, two frames, the "red" line, a second.
OFFSET_BUCKETS = (1.0, 5.0, 10.0, 16.7, 33.3, 66.7, 100.0, 250.0, 1000.0)
UPLOAD_OUTCOMES = {201: "accepted", 400: "refused", 413: "too_large", 415: "unsupported"}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Tally:
    """This worker's counts of things only a request sees (votes, uploads by outcome)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    async def count_response(self, response: Response) -> Response:
        endpoint = request.endpoint or ""
        if endpoint in ("api.like", "api.dislike") and response.status_code == 200:
            self.counts["votes"] += 1
        elif endpoint == "uploads.upload":
            outcome = UPLOAD_OUTCOMES.get(response.status_code, "failed")
            self.counts[f"upload:{outcome}"] += 1
        return response


def worker_figures(state: Services, tally: Tally) -> dict[str, Any]:
    """What this worker alone knows: its clients, events, switches, votes, uploads."""
    channel = state.ch
    transcoder = state.transcoder
    return {
        "connections": len(channel.broker),
        "events": channel.last_event_id,
        "dropped": channel.broker.dropped,
        "switches": channel.switches,
        "votes": tally.counts["votes"],
        "uploads": {
            k.removeprefix("upload:"): v for k, v in tally.counts.items() if k.startswith("upload:")
        },
        "conversions_running": len(transcoder.running) if transcoder else 0,
        "converted_seconds": transcoder.converted_seconds if transcoder else 0.0,
        "converting_seconds": transcoder.converting_seconds if transcoder else 0.0,
    }


async def publish_figures(state: Services, fleet: Fleet, tally: Tally) -> None:
    while True:
        channel = state.ch
        try:
            await fleet.put_figures(channel.worker_id, worker_figures(state, tally), channel.now())
        except Exception as error:
            log.warning("publishing this worker's figures failed (%s)", error)
        await asyncio.sleep(PUBLISH_INTERVAL)


class _Fixed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def _per_worker(workers: dict[str, dict[str, Any]]) -> list[Metric]:
    def counter(name: str, doc: str, key: str) -> Metric:
        family = CounterMetricFamily(name, doc, labels=["worker"])
        for worker, figures in workers.items():
            family.add_metric([worker], float(figures.get(key, 0)))
        return family

    connections = GaugeMetricFamily(
        "simulcast_connections", "Event-stream clients connected to this worker.", labels=["worker"]
    )
    running = GaugeMetricFamily(
        "simulcast_conversions_running", "Conversions running in this worker.", labels=["worker"]
    )
    uploads = CounterMetricFamily(
        "simulcast_uploads", "Uploads by outcome.", labels=["worker", "outcome"]
    )
    for worker, figures in workers.items():
        connections.add_metric([worker], figures.get("connections", 0))
        running.add_metric([worker], figures.get("conversions_running", 0))
        for outcome, count in sorted(figures.get("uploads", {}).items()):
            uploads.add_metric([worker, outcome], count)
    return [
        connections,
        counter("simulcast_events_published", "State events sent to the stream.", "events"),
        counter("simulcast_clients_dropped", "Clients dropped for falling behind.", "dropped"),
        counter("simulcast_switches", "Switches this worker recorded.", "switches"),
        counter("simulcast_votes", "Likes and dislikes (and their withdrawals).", "votes"),
        uploads,
        running,
        counter(
            "simulcast_converted_video_seconds",
            "Seconds of video converted (divide by simulcast_conversion_seconds for the speed).",
            "converted_seconds",
        ),
        counter(
            "simulcast_conversion_seconds",
            "Wall-clock seconds spent converting.",
            "converting_seconds",
        ),
    ]


def _offsets(screens: list[dict[str, Any]], now: float) -> Metric:
    offsets = sorted(
        abs(s["offset_ms"]) for s in screens if online(s, now) and s.get("offset_ms") is not None
    )
    buckets = [(str(le), float(sum(1 for o in offsets if o <= le))) for le in OFFSET_BUCKETS]
    buckets.append(("+Inf", float(len(offsets))))
    return HistogramMetricFamily(
        "simulcast_screen_offset_abs_ms",
        "Online screens' measured distance from the schedule (ms), at their last report.",
        buckets=buckets,
        sum_value=sum(offsets),
    )


async def families(state: Services, fleet: Fleet, tally: Tally) -> list[Metric]:
    channel = state.ch
    now = channel.now()
    workers = await fleet.figures(now)
    workers[channel.worker_id] = worker_figures(state, tally)  # this one, up to the moment
    screens = await fleet.screens()
    up = sum(1 for s in screens if online(s, now))

    viewers = GaugeMetricFamily("simulcast_viewers", "Viewers watching, over all workers.")
    viewers.add_metric([], channel.viewers)
    screen_count = GaugeMetricFamily("simulcast_screens", "Known screens.", labels=["state"])
    screen_count.add_metric(["online"], up)
    screen_count.add_metric(["offline"], len(screens) - up)
    videos = GaugeMetricFamily("simulcast_videos_in_rotation", "Videos in the rotation.")
    videos.add_metric([], len(channel.playlist))
    conversions = GaugeMetricFamily(
        "simulcast_conversions", "Conversions by state.", labels=["state"]
    )
    processing = sum(1 for v in channel.videos if v.status == Status.PROCESSING)
    running = sum(int(w.get("conversions_running", 0)) for w in workers.values())
    conversions.add_metric(["queued"], max(0, processing - running))
    conversions.add_metric(["running"], running)
    conversions.add_metric(["failed"], sum(1 for v in channel.videos if v.status == Status.FAILED))

    store_up = GaugeMetricFamily(
        "simulcast_store_up", "The shared store answers (1) or not (0).", labels=["store"]
    )
    store = (await channel.health())["store"]
    store_up.add_metric([str(store.get("store"))], 1.0 if store.get("ok") else 0.0)
    storage_up = GaugeMetricFamily(
        "simulcast_storage_up", "A video storage answers (1) or not (0).", labels=["storage"]
    )
    for name, checked in (await state.storages.health()).items():
        storage_up.add_metric([name], 1.0 if checked.get("ok") else 0.0)
    return [
        viewers,
        screen_count,
        _offsets(screens, now),
        videos,
        conversions,
        store_up,
        storage_up,
        *_per_worker(dict(sorted(workers.items()))),
    ]


async def exposition(state: Services, fleet: Fleet, tally: Tally) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(await families(state, fleet, tally)))
    return generate_latest(registry)
