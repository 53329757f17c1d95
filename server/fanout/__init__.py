"""How events reach the viewers: this process's own connections (`local`), or nginx's nchan
module, to which the app publishes each event once and which holds the viewers (`nchan`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol


class Fanout(Protocol):
    dropped: int  # viewers this process dropped for falling behind
    departed: int  # viewers whose stream ended here, for whatever reason

    def __len__(self) -> int:
        """Viewers connected to this process."""
        ...

    def publish(self, payload: bytes, event_id: int) -> None:
        """One state event (its JSON payload) for every viewer."""
        ...

    def ping(self) -> None:
        """Keep idle streams open through proxies."""
        ...

    async def viewers(self, report: Callable[[int], Awaitable[int]]) -> int:
        """The whole audience. `report` adds this process's count to the other processes'
        (through the shared store) and returns the sum."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None:
        """Stop this process's part (a worker stopping; the channel goes on elsewhere)."""
        ...

    async def end(self) -> None:
        """The channel is deleted: end every viewer's stream, wherever it is held."""
        ...
