"""Watching the fleet: the screen registry, proof of play and metrics, started with the server."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .metrics import publish_figures
from .plays import PlayLog
from .screens import Screens
from .store.fleet import Fleet, open_fleet

if TYPE_CHECKING:
    from .services import Services


@dataclass
class Monitoring:
    fleet: Fleet
    screens: Screens
    plays: PlayLog
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, state: Services) -> Monitoring:
        fleet = await open_fleet(state.settings)
        screens = Screens(fleet, state.ch.now)
        plays = PlayLog(fleet, state.playing, screens, state.settings.play_log_days)
        watching = cls(fleet, screens, plays)
        watching.tasks = [
            asyncio.create_task(plays.run()),
            asyncio.create_task(publish_figures(state, fleet, state.tally)),
        ]
        return watching

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.plays.flush()
        await self.fleet.close()
