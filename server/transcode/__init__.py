"""Renditions: a WebM (VP9 + Opus) copy of each video that every screen can play.

Browsers play H.264 MP4, the kiosk's Qt WebEngine does not; WebM with VP9 and Opus plays on both.
A video's conversion lives in the catalog, the single source of truth, so any worker can show it
and a restart resumes it: status "processing" (out of the rotation until its rendition is ready)
or "failed" (meta["error"] says why), and meta {"progress": 0..1, "rendition": key,
"rendition_storage": name}.
"""

from __future__ import annotations

from shared.protocol import Source

from ..catalog import Video

PROCESSING = "processing"
FAILED = "failed"
WEBM = "video/webm"


def rendition_key(video_id: str) -> str:
    # Deliberately not a video suffix: storage listings add unknown *.webm files to the catalog,
    # and a rendition must never become a video of its own.
    return f"{video_id}.rendition"


def rendition_of(video: Video) -> tuple[str, str] | None:
    """(storage name, key) of the video's rendition, once it has one."""
    key = video.meta.get("rendition")
    if not key:
        return None
    return str(video.meta.get("rendition_storage") or video.storage), str(key)


def sources(video: Video) -> list[Source]:
    """What a client may play, the universally playable one first."""
    original: Source = {"url": f"/media/v/{video.id}", "type": video.content_type}
    if rendition_of(video) is None:
        return [original]
    return [{"url": f"/media/v/{video.id}/webm", "type": WEBM}, original]


def playable_url(video: Video) -> str:
    return sources(video)[0]["url"]
