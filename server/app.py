"""The application factory: settings, store, storages and channel wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import cast

from quart import Quart, current_app

from .access import Access
from .audit import AuditLog
from .channel import Channel
from .config import Settings, load_settings
from .fanout import Fanout
from .fanout.local import LocalFanout
from .fanout.nchan import NchanFanout
from .fanout.response import SubscribingConnection
from .flow import FlowRequest
from .library import forget_storage, sync_storage, watch_bucket
from .metrics import Tally
from .monitoring import Monitoring
from .receive import sweep_forever
from .storage import Storage
from .storage.local import LocalStorage
from .storage.s3 import S3Storage
from .storage.signed import SecureLinks
from .store import open_store
from .transcode.jobs import Transcoder

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    access: Access
    storages: dict[str, Storage] = field(default_factory=dict)
    channel: Channel | None = None
    transcoder: Transcoder | None = None
    audit_log: AuditLog | None = None
    monitoring: Monitoring | None = None
    tally: Tally = field(default_factory=Tally)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def ch(self) -> Channel:
        assert self.channel is not None, "the channel starts with the server"
        return self.channel

    @property
    def watch(self) -> Monitoring:
        assert self.monitoring is not None, "monitoring starts with the server"
        return self.monitoring

    @property
    def conversions(self) -> Transcoder:
        assert self.transcoder is not None, "the conversion queue starts with the server"
        return self.transcoder

    @property
    def audit(self) -> AuditLog:
        assert self.audit_log is not None, "the audit log opens with the store"
        return self.audit_log

    def upload_targets(self) -> list[Storage]:
        """Where uploads go, in order of preference; local storage is always the last resort."""
        return [s for name in ("s3", "local") if (s := self.storages.get(name)) is not None]


def services() -> Services:
    return cast(Services, current_app.extensions["simulcast"])


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
    state = Services(settings, Access(settings))
    app.extensions["simulcast"] = state

    from .routes import register
    from .security import install

    register(app)
    app.after_request(state.tally.count_response)
    install(app, settings)  # after the routes: it applies to every one of them

    @app.before_serving
    async def start() -> None:
        links = None
        if settings.media_secure_link:
            links = SecureLinks(
                settings.media_secure_link,
                settings.media_secure_link_secret,
                settings.media_secure_link_expiry,
            )
        if settings.samples == "on":
            state.storages["static"] = LocalStorage(
                "static", settings.static_dir, writable=False, links=links
            )
        state.storages["local"] = LocalStorage("local", settings.upload_dir, links=links)
        if settings.s3_bucket_name:
            state.storages["s3"] = S3Storage.from_settings(settings)
        # Partial uploads of a previous run, now and whenever one is abandoned.
        incoming = sweep_forever(settings.data_dir / "incoming", settings.upload_idle_timeout)
        state.tasks.append(asyncio.create_task(incoming))
        store = await open_store(settings)
        fanout: Fanout = (
            NchanFanout(settings.nchan_publish_url) if settings.fanout == "nchan" else LocalFanout()
        )
        await fanout.start()
        state.channel = Channel(store, fanout)
        state.audit_log = AuditLog(store)
        await state.channel.refresh()
        for storage in list(state.storages.values()):
            if not isinstance(storage, S3Storage):  # the bucket is listed in the background
                await sync_storage(state.channel, storage)
        if settings.samples == "off":
            await forget_storage(state.channel, "static")
        await state.channel.start()
        # Conversions and posters in the background: startup never waits for them.
        state.transcoder = Transcoder(settings, state.channel, state.storages)
        await state.transcoder.start()
        state.monitoring = await Monitoring.start(state)
        if isinstance(bucket := state.storages.get("s3"), S3Storage):
            watch = watch_bucket(state.channel, bucket, settings.s3_resync_interval)
            state.tasks.append(asyncio.create_task(watch))
        playing = state.channel.current()
        log.info(
            "channel ready: %d videos, now playing %s",
            len(state.channel.playlist),
            playing.video.title if playing else "nothing (upload a video)",
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
        if state.channel is not None:
            await state.channel.stop()
            await state.channel.broker.close()
            await state.channel.store.close()

    return app
