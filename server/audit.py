"""The audit log: who (role, session or token, IP) did what to the channel, and when.

Entries live in the store, so every worker writes to and shows the same log, and it survives
restarts. Only the newest `KEEP` entries are kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from .access import Actor

log = logging.getLogger(__name__)

KEEP = 5000


class AuditStore(Protocol):
    async def add_audit(self, entry: dict[str, Any], keep: int) -> None: ...

    async def audit(self, limit: int) -> list[dict[str, Any]]: ...


class AuditLog:
    def __init__(self, store: AuditStore, now: Callable[[], float] = time.time) -> None:
        self._store = store
        self._now = now

    async def record(self, actor: Actor, action: str, target: str = "", **detail: Any) -> None:
        entry = {
            "at": self._now(),
            **actor.to_dict(),
            "action": action,
            "target": target,
            "detail": {k: v for k, v in detail.items() if v is not None},
        }
        try:
            await self._store.add_audit(entry, KEEP)
        except Exception as failure:
            # The action itself is done and announced; losing its log line must not undo that
            # or turn its answer into an error. The process log keeps it instead.
            log.warning("audit entry not stored (%s): %s", failure, entry)

    async def recent(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest entries first."""
        return await self._store.audit(max(1, min(limit, KEEP)))
