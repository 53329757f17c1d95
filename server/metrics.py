"""`GET /metrics`: the server's figures in the Prometheus text format (prometheus-client).

Several workers share one listening socket, so a scrape reaches any one of them. Each worker
therefore publishes its own counters to the fleet store every few seconds, and whichever worker
answers a scrape reports every live worker's, labelled `worker`; figures of the whole channel
(viewers, screens and their offsets, conversions, store and storage health) carry no label.

Every channel has its own series of what is per channel (viewers, videos, conversions, its
store, and per worker its clients, events, drops, switches, votes and conversions), labelled
`channel="<slug>"`; the default channel's carry no `channel` label, exactly as before channels
existed (see of_channel). Screens, storages and uploads are the server's, not a channel's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from quart import Response, g, request

from .catalog import Status
from .channels import DEFAULT
from .screens import online
from .store.fleet import Fleet

if TYPE_CHECKING:
    from .channels import Running
    from .services import Services

log = logging.getLogger(__name__)

PUBLISH_INTERVAL = 5.0
# |offset| buckets (ms): a 60 Hz vsync, a 30 fps frame, two frames, the "red" line, a second.
OFFSET_BUCKETS = (1.0, 5.0, 10.0, 16.7, 33.3, 66.7, 100.0, 250.0, 1000.0)
UPLOAD_OUTCOMES = {201: "accepted", 400: "refused", 413: "too_large", 415: "unsupported"}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Tally:
    """This worker's counts of things only a request sees (votes by channel, uploads by
    outcome)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.votes: Counter[str] = Counter()  # by channel slug (DEFAULT for the default)

    async def count_response(self, response: Response) -> Response:
        endpoint = g.get("endpoint") or request.endpoint or ""  # /c/<slug>/: the view it ran
        if endpoint in ("api.like", "api.dislike") and response.status_code == 200:
            chosen = g.get("channel")  # a /c/<slug>/ URL's channel (routes.channels)
            self.votes[chosen.slug if chosen is not None else DEFAULT] += 1
        elif endpoint == "uploads.upload":
            outcome = UPLOAD_OUTCOMES.get(response.status_code, "failed")
            self.counts[f"upload:{outcome}"] += 1
        return response


def channel_figures(running: Running, tally: Tally) -> dict[str, Any]:
    """What this worker alone knows of one channel: its clients, events, switches, votes and
    conversions."""
    channel, transcoder = running.channel, running.transcoder
    return {
        "connections": len(channel.broker),
        "events": channel.last_event_id,
        "dropped": channel.broker.dropped,
        "switches": channel.switches,
        "votes": tally.votes[running.slug],
        "conversions_running": len(transcoder.running),
        "converted_seconds": transcoder.converted_seconds,
        "converting_seconds": transcoder.converting_seconds,
    }


def worker_figures(state: Services, tally: Tally) -> dict[str, Any]:
    """What this worker alone knows: the default channel's figures at the top (as a worker of
    an earlier version publishes them), the other channels' under "channels", and uploads."""
    channels = state.channels
    default = channel_figures(channels.default, tally) if channels else {}
    return {
        **default,
        "channels": {r.slug: channel_figures(r, tally) for r in channels or () if not r.default},
        "uploads": {
            k.removeprefix("upload:"): v for k, v in tally.counts.items() if k.startswith("upload:")
        },
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


def of_channel(slug: str, **labels: str) -> dict[str, str]:
    """A series' labels: the default channel's carry no `channel` label, so its series are
    the very ones a server had before channels existed (its scrapers' queries, recording rules
    and history go on); every other channel's carry `channel="<slug>"`."""
    return labels if slug == DEFAULT else {**labels, "channel": slug}


def _add(family: Metric, labels: dict[str, str], value: float) -> None:
    # A counter's sample is <name>_total; labels may differ per sample (see of_channel).
    suffix = "_total" if family.type == "counter" else ""
    family.add_sample(family.name + suffix, labels, float(value))


def _by_channel(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A worker's figures by channel slug."""
    return {DEFAULT: figures, **figures.get("channels", {})}


def _per_worker(workers: dict[str, dict[str, Any]]) -> list[Metric]:
    def counter(name: str, doc: str, key: str) -> Metric:
        family = CounterMetricFamily(name, doc)
        for worker, figures in workers.items():
            for slug, channel in _by_channel(figures).items():
                _add(family, of_channel(slug, worker=worker), channel.get(key, 0))
        return family

    connections = GaugeMetricFamily(
        "simulcast_connections", "Event-stream clients connected to this worker."
    )
    running = GaugeMetricFamily(
        "simulcast_conversions_running", "Conversions running in this worker."
    )
    uploads = CounterMetricFamily(
        "simulcast_uploads", "Uploads by outcome.", labels=["worker", "outcome"]
    )
    for worker, figures in workers.items():
        for slug, channel in _by_channel(figures).items():
            _add(connections, of_channel(slug, worker=worker), channel.get("connections", 0))
            _add(running, of_channel(slug, worker=worker), channel.get("conversions_running", 0))
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


async def _channel_families(
    running: Running, workers: dict[str, dict[str, Any]], families: Mapping[str, Metric]
) -> None:
    """One channel's samples of the whole-channel families: viewers, videos, conversions, its
    store."""
    channel, slug = running.channel, running.slug
    _add(families["viewers"], of_channel(slug), channel.viewers)
    _add(families["videos"], of_channel(slug), len(channel.playlist))
    processing = sum(1 for v in channel.videos if v.status == Status.PROCESSING)
    converting = sum(
        int(_by_channel(w).get(slug, {}).get("conversions_running", 0)) for w in workers.values()
    )
    failed = sum(1 for v in channel.videos if v.status == Status.FAILED)
    for state, count in (
        ("queued", max(0, processing - converting)),
        ("running", converting),
        ("failed", failed),
    ):
        _add(families["conversions"], of_channel(slug, state=state), count)
    store = (await channel.health())["store"]
    up = 1.0 if store.get("ok") else 0.0
    _add(families["store"], of_channel(slug, store=str(store.get("store"))), up)


async def families(state: Services, fleet: Fleet, tally: Tally) -> list[Metric]:
    channel = state.ch
    now = channel.now()
    workers = await fleet.figures(now)
    workers[channel.worker_id] = worker_figures(state, tally)  # this one, up to the moment
    screens = await fleet.screens()
    up = sum(1 for s in screens if online(s, now))

    screen_count = GaugeMetricFamily("simulcast_screens", "Known screens.", labels=["state"])
    screen_count.add_metric(["online"], up)
    screen_count.add_metric(["offline"], len(screens) - up)
    whole = {
        "viewers": GaugeMetricFamily("simulcast_viewers", "Viewers watching, over all workers."),
        "videos": GaugeMetricFamily("simulcast_videos_in_rotation", "Videos in the rotation."),
        "conversions": GaugeMetricFamily("simulcast_conversions", "Conversions by state."),
        "store": GaugeMetricFamily(
            "simulcast_store_up", "The shared store answers (1) or not (0)."
        ),
    }
    for running in state.channels or ():
        await _channel_families(running, workers, whole)
    storage_up = GaugeMetricFamily(
        "simulcast_storage_up", "A video storage answers (1) or not (0).", labels=["storage"]
    )
    for name, checked in (await state.storages.health()).items():
        storage_up.add_metric([name], 1.0 if checked.get("ok") else 0.0)
    return [
        whole["viewers"],
        screen_count,
        _offsets(screens, now),
        whole["videos"],
        whole["conversions"],
        whole["store"],
        storage_up,
        *_per_worker(dict(sorted(workers.items()))),
    ]


async def exposition(state: Services, fleet: Fleet, tally: Tally) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(await families(state, fleet, tally)))
    return generate_latest(registry)
