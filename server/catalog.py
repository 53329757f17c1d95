"""What a video is, as the channel and the store know it, and how clients are shown one.

The single vocabulary of the catalog: a video's status, its metadata, its vote counts, the files
a client may play, and the one presenter that turns a video into JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.protocol import Item, Source

WEBM = "video/webm"  # the rendition's type: VP9 + Opus, which every screen plays


class Status(StrEnum):
    READY = "ready"  # in rotation (with a positive duration)
    PROCESSING = "processing"  # waiting for its WebM rendition; out of rotation until then
    FAILED = "failed"  # the conversion failed; meta.error says why
    OFFLINE = "offline"  # its storage cannot serve it now (a bucket that is away)
    # A shipped sample an admin deleted: its file stays (read-only), this marker keeps it from
    # being added again at the next start.
    DELETED = "deleted"


@dataclass(frozen=True)
class VideoMeta:
    """What the catalog knows about a video beyond its file. Stored as a JSON object holding
    only the keys that are set, as it always was, so older workers read it unchanged."""

    poster: bool = False  # DATA_DIR/posters/<id>.jpg exists
    rendition: str | None = None  # key of the WebM rendition, once converted
    rendition_storage: str | None = None  # where the rendition is, when not beside the video
    error: str | None = None  # why the conversion failed
    captions: str | None = None  # WebVTT text (see server/captions.py)
    # Only while a conversion job is open:
    progress: float | None = None  # 0..1
    attempts: int | None = None  # starts of the job that were cut short or are running
    host: str | None = None  # the machine holding the upload's bytes for the conversion
    # Of the file `simulcast import` brought in: importing the same file again skips it.
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v for k, v in dataclasses.asdict(self).items() if v is not None and v is not False
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoMeta:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def without_job(self) -> VideoMeta:
        return dataclasses.replace(self, progress=None, attempts=None, host=None)


@dataclass(frozen=True)
class Video:
    id: str
    title: str
    storage: str  # name of the storage backend holding the file: "static", "local", "s3"
    key: str  # the file's name or object key within that storage
    duration: float
    size: int = 0
    content_type: str = WEBM
    added_at: float = 0.0
    status: Status = Status.READY  # only ready videos are in rotation
    hidden: bool = False  # an admin took it out of the rotation; it stays stored
    approved: bool = True  # False while it waits for an admin (UPLOAD_APPROVAL=on)
    meta: VideoMeta = field(default_factory=VideoMeta, compare=False, hash=False)

    @property
    def playable(self) -> bool:
        return (
            self.status == Status.READY and self.duration > 0 and self.approved and not self.hidden
        )

    @property
    def listed(self) -> bool:
        """Shown to everybody in /videos; hidden and waiting videos only to admins."""
        return self.approved and not self.hidden and not self.gone

    @property
    def gone(self) -> bool:
        return self.status == Status.DELETED

    def to_dict(self) -> dict[str, Any]:
        return {
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
            "status": str(self.status),
            "meta": self.meta.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Video:
        # Ignore fields a newer version wrote so an older worker can still read the row.
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["meta"] = VideoMeta.from_dict(values.get("meta") or {})
        try:
            values["status"] = Status(values.get("status", Status.READY))
        except ValueError:
            values["status"] = Status.OFFLINE  # a status a newer version invented: keep it out
        return cls(**values)


@dataclass(frozen=True)
class Counts:
    likes: int = 0
    dislikes: int = 0


# -- the files a client may play ------------------------------------------------------------


def rendition_of(video: Video) -> tuple[str, str] | None:
    """(storage name, key) of the video's rendition, once it has one."""
    if not video.meta.rendition:
        return None
    return video.meta.rendition_storage or video.storage, video.meta.rendition


def sources(video: Video) -> list[Source]:
    """What a client may play, the universally playable one first."""
    original: Source = {"url": f"/media/v/{video.id}", "type": video.content_type}
    if rendition_of(video) is None:
        return [original]
    return [{"url": f"/media/v/{video.id}/webm", "type": WEBM}, original]


def poster_url(video: Video) -> str | None:
    return f"/media/v/{video.id}/poster.jpg" if video.meta.poster else None


def captions_url(video: Video) -> str | None:
    return f"/media/v/{video.id}/captions.vtt" if video.meta.captions else None


# -- the presenter: a video as clients see it -------------------------------------------------


def item(video: Video, start_time: float) -> Item:
    """A video in the schedule the pages follow (the SSE state's current and next)."""
    listed = sources(video)  # the WebM rendition first, which every screen can play
    shown: Item = {
        "id": video.id,
        "title": video.title,
        "video_url": listed[0]["url"],
        "sources": listed,
        "duration": video.duration,
        "start_time": start_time,
    }
    if (poster := poster_url(video)) is not None:
        shown["poster"] = poster
    if (captions := captions_url(video)) is not None:
        shown["captions"] = captions
    return shown


def listing(video: Video, index: int | None, counts: Counts) -> dict[str, Any]:
    """A video in the catalog listing (GET /videos, an upload's answer)."""
    listed = sources(video)  # the WebM rendition first once there is one
    return {
        "id": video.id,
        "url": listed[0]["url"],
        "sources": listed,
        "poster": poster_url(video),
        "captions": captions_url(video),
        # While converting: progress from 0 to 1; a failed conversion says why in `error`.
        "progress": video.meta.progress,
        "error": video.meta.error,
        "title": video.title,
        "duration": video.duration,
        "likes": counts.likes,
        "dislikes": counts.dislikes,
        "index": index,
        "storage": video.storage,
        "status": str(video.status),
        "hidden": video.hidden,
        "waiting": not video.approved,  # for an admin's approval (UPLOAD_APPROVAL=on)
        "size": video.size,
        "content_type": video.content_type,
        "added_at": video.added_at,
    }
