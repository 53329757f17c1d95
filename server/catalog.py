"""What a video is, as the channel and the store know it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

READY = "ready"
# A shipped sample an admin deleted: its file stays (read-only), this marker keeps it from
# being added again at the next start.
DELETED = "deleted"


@dataclass(frozen=True)
class Video:
    id: str
    title: str
    storage: str  # name of the storage backend holding the file: "static", "local", "s3"
    key: str  # the file's name or object key within that storage
    duration: float
    size: int = 0
    content_type: str = "video/webm"
    added_at: float = 0.0
    status: str = READY  # only ready videos are in rotation
    hidden: bool = False  # an admin took it out of the rotation; it stays stored
    approved: bool = True  # False while it waits for an admin (UPLOAD_APPROVAL=on)
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def playable(self) -> bool:
        return self.status == READY and self.duration > 0 and self.approved and not self.hidden

    @property
    def listed(self) -> bool:
        """Shown to everybody in /videos; hidden and waiting videos only to admins."""
        return self.approved and not self.hidden and not self.gone

    @property
    def gone(self) -> bool:
        return self.status == DELETED

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Video:
        # Ignore fields a newer version wrote so an older worker can still read the row.
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
