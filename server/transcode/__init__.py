"""Renditions: a WebM (VP9 + Opus) copy of each video that every screen can play.

Browsers play H.264 MP4, the kiosk's Qt WebEngine does not; WebM with VP9 and Opus plays on both.
A video's conversion lives in the catalog, the single source of truth, so any worker can show it
and a restart resumes it: `Status.PROCESSING` (out of the rotation until its rendition is ready)
or `Status.FAILED` (`meta.error` says why), and `VideoMeta.progress`, `.rendition`,
`.rendition_storage` (see server/catalog.py).
"""

from __future__ import annotations


def rendition_key(video_id: str) -> str:
    # Deliberately not a video suffix: storage listings add unknown *.webm files to the catalog,
    # and a rendition must never become a video of its own.
    return f"{video_id}.rendition"
