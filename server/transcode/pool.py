"""One limit on conversions for the whole server: TRANSCODE_WORKERS at once, however many
channels have videos waiting.

Every channel keeps its own queue (its catalog is the job table) and work folder, and they all
draw from this pool. The pool holds DATA_DIR/transcode/lock, so of the processes sharing a
DATA_DIR (`hypercorn --workers N`) one converts, for every channel; the others take over at
their next scan if it dies. Without it, N channels ran N × TRANSCODE_WORKERS conversions at once.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any, Protocol


class Queue(Protocol):
    """A channel's conversion queue, as the pool sees it."""

    running: dict[str, Any]  # its conversions running now, by video id

    def wake(self) -> None:
        """Look for work again (a slot came free)."""
        ...


class ConversionPool:
    def __init__(self, work_dir: Path, workers: int) -> None:
        self.lock_path = work_dir / "lock"
        self.workers = max(1, workers)
        self._queues: list[Queue] = []
        self._fd: int | None = None

    def join(self, queue: Queue) -> None:
        self._queues.append(queue)

    def leave(self, queue: Queue) -> None:
        if queue in self._queues:
            self._queues.remove(queue)
            self.wake_all()  # its slots are free now

    @property
    def running(self) -> int:
        return sum(len(queue.running) for queue in self._queues)

    def free(self) -> bool:
        return self.running < self.workers

    def wake_all(self, finished: Queue | None = None) -> None:
        """A conversion ended: every channel's queue looks again, the one it ended in last,
        so a channel whose videos waited gets the slot before that one's next video."""
        if finished in self._queues:
            at = self._queues.index(finished) + 1
            self._queues = self._queues[at:] + self._queues[:at]
        for queue in self._queues:
            queue.wake()

    def held(self) -> bool:
        """Whether this process converts: it holds the lock, or takes it now if it is free."""
        if self._fd is not None:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
