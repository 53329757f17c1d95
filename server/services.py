"""What the routes reach: the settings and the domain objects, created as the server starts.

In its own module so routes and the application factory both import it, and not each other.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TypeVar, cast

from quart import current_app, g, has_app_context

from .access import Access
from .audit import AuditLog
from .channel import Channel
from .channels import DEFAULT, Channels, Running
from .config import Settings
from .ingest import Ingest
from .metrics import Tally
from .monitoring import Monitoring
from .storage import Storages
from .transcode.jobs import Transcoder
from .transcode.pool import ConversionPool

EXTENSION = "simulcast"
T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    access: Access
    storages: Storages
    channel: Channel | None = None  # the default channel
    channels: Channels | None = None
    transcoder: Transcoder | None = None  # the default channel's conversion queue
    conversions: ConversionPool | None = None  # every channel's queue draws from it
    ingester: Ingest | None = None
    audit_log: AuditLog | None = None
    monitoring: Monitoring | None = None
    tally: Tally = field(default_factory=Tally)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def running(self) -> Running:
        """The channel this request is about: the one its /c/<slug>/ URL names, else the
        default channel (routes.select_channel puts it in `g`)."""
        chosen: Running | None = g.get("channel") if has_app_context() else None
        return chosen or _started(self.channels, "the channels").default

    def playing(self) -> list[tuple[str, Channel]]:
        """Every channel this process plays, by slug: the default one first."""
        if self.channels is None:
            return [(DEFAULT, self.ch)]
        return [(running.slug, running.channel) for running in self.channels]

    @property
    def ch(self) -> Channel:
        if self.channels is None:
            return _started(self.channel, "the channel")
        return self.running.channel

    @property
    def watch(self) -> Monitoring:
        return _started(self.monitoring, "monitoring")

    @property
    def audit(self) -> AuditLog:
        return _started(self.audit_log, "the audit log")

    @property
    def ingest(self) -> Ingest:
        if self.channels is None:
            return _started(self.ingester, "ingest")
        return self.running.ingest


def _started(part: T | None, name: str) -> T:
    assert part is not None, f"{name} starts with the server"
    return part


def services() -> Services:
    return cast(Services, current_app.extensions[EXTENSION])
