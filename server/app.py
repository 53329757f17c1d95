"""The application factory: settings, store, storages and channel wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from quart import Quart

from .access import Access
from .audit import AuditLog
from .catalog import Video
from .channel import Channel
from .channel_loops import ChannelLoops
from .channels import DEFAULT, Channels, Running, conversions_dir
from .config import Settings, load_settings
from .fanout import Fanout
from .fanout.local import LocalFanout
from .fanout.nchan import NchanFanout, channel_url
from .fanout.response import SubscribingConnection
from .flow import FlowRequest
from .ingest import Ingest
from .library import forget_storage, sync_storage, watch_bucket
from .monitoring import Monitoring
from .receive import sweep_forever
from .routes import register
from .security import install
from .services import EXTENSION, Services
from .storage import SAMPLES, Storages
from .store import ChannelInfo, Store, open_store
from .transcode.jobs import Transcoder
from .transcode.pool import ConversionPool

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Quart:
    settings = settings or load_settings()
    app = Quart(__name__, static_folder=None)
    app.request_class = FlowRequest
    app.asgi_http_class = SubscribingConnection
    # Small bodies everywhere (uploads stream past it, see FlowRequest, with a limit and an idle
    # timeout of their own); long uploads and streams need no overall timeout.
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_body, BODY_TIMEOUT=None, RESPONSE_TIMEOUT=None
    )
    state = Services(settings, Access(settings), Storages.from_settings(settings))
    app.extensions[EXTENSION] = state
    register(app)
    app.after_request(state.tally.count_response)
    install(app, settings)  # after the routes: it applies to every one of them

    @app.before_serving
    async def start() -> None:
        # Partial uploads of a previous run, now and whenever one is abandoned.
        incoming = sweep_forever(settings.data_dir / "incoming", settings.upload_idle_timeout)
        state.tasks.append(asyncio.create_task(incoming))
        store = await open_store(settings)
        state.conversions = ConversionPool(
            settings.data_dir / "transcode", settings.transcode_workers
        )
        default = await _open_channel(settings, state, store, await _fanout(settings, None), None)
        state.channel = default.channel
        state.audit_log = AuditLog(store)
        state.transcoder = default.transcoder
        state.ingester = default.ingest
        state.channels = Channels(default, store, partial(_start_channel, settings, state))
        await state.channels.sync()  # the other channels, before the storages are listed
        elsewhere = partial(state.channels.keys_elsewhere, besides=default.channel)
        for storage in state.storages.listed_once():
            await sync_storage(state.ingest, storage, elsewhere(storage.name))
        if settings.samples == "off":
            await forget_storage(state.channel, SAMPLES)
        await default.loops.start()
        # Conversions and posters in the background: startup never waits for them.
        await state.transcoder.start()
        await state.channels.start()
        state.monitoring = await Monitoring.start(state)
        for storage in state.storages.watched():
            watch = watch_bucket(state.ingest, storage, elsewhere)
            state.tasks.append(asyncio.create_task(watch))
        playing = state.channel.current()
        log.info(
            "channel ready: %d videos, now playing %s; %d other channels",
            len(state.channel.playlist),
            playing.video.title if playing else "nothing (upload a video)",
            sum(1 for _ in state.channels) - 1,
        )

    @app.after_serving
    async def stop() -> None:
        if state.monitoring is not None:
            await state.monitoring.stop()
        if state.transcoder is not None:
            await state.transcoder.stop()  # ends child processes; the catalog keeps the queue
        for task in state.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if state.channels is not None:
            await state.channels.stop()
            await state.channels.default.loops.stop()
        if state.channel is not None:
            await state.channel.broker.close()
            await state.channel.store.close()
        if state.conversions is not None:
            state.conversions.close()

    return app


async def _fanout(settings: Settings, slug: str | None) -> Fanout:
    """How a channel's events reach its viewers, started: each channel its own nchan channel
    with FANOUT=nchan (see channel_url), else this process's own streams."""
    fanout: Fanout = (
        NchanFanout(channel_url(settings.nchan_publish_url, slug))
        if settings.fanout == "nchan"
        else LocalFanout()
    )
    await fanout.start()
    return fanout


async def _open_channel(
    settings: Settings, state: Services, store: Store, fanout: Fanout, slug: str | None
) -> Running:
    """A channel's parts, its state loaded; its loops and conversions not started yet."""
    channel = Channel(store, fanout, zone=settings.timezone, slug=slug)
    await channel.refresh()
    work_dir = conversions_dir(settings.data_dir, slug)
    transcoder = Transcoder(settings, channel, state.storages, work_dir, state.conversions)
    ingest = Ingest(settings, channel, state.storages, transcoder)

    def shared(video: Video) -> bool:
        return state.channels is not None and state.channels.holders(video, channel)

    ingest.shared = shared
    info = ChannelInfo(slug or DEFAULT, "", 0.0)
    return Running(info, channel, transcoder, ingest, ChannelLoops(channel))


async def _start_channel(settings: Settings, state: Services, info: ChannelInfo) -> Running:
    """A channel besides the default one, running: its own store and event stream."""
    store = await open_store(settings, info.slug)
    fanout = await _fanout(settings, info.slug)
    running = await _open_channel(settings, state, store, fanout, info.slug)
    running.info = info
    await running.loops.start()
    await running.transcoder.start()
    return running
