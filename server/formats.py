"""The container formats a video may be stored in: the file suffix it is stored under and the
Content-Type it is served with, both derived from what the probe found, never from the client.

One table, so an upload's stored name, a restart's storage listing and the type a file is
served with always agree: a container missing here would be stored under a name the next
listing skips, and a client-chosen type (`text/html`) would run script on our origin.
"""

from __future__ import annotations

from pathlib import PurePath

# Probe container name -> (stored suffix, Content-Type).
BY_CONTAINER: dict[str, tuple[str, str]] = {
    "webm": (".webm", "video/webm"),
    "matroska": (".mkv", "video/x-matroska"),
    "mp4": (".mp4", "video/mp4"),
    "mov": (".mov", "video/quicktime"),
    "avi": (".avi", "video/x-msvideo"),
    "ogg": (".ogv", "video/ogg"),
    "mpegts": (".ts", "video/mp2t"),
    "mpeg": (".mpg", "video/mpeg"),
    "flv": (".flv", "video/x-flv"),
    "asf": (".asf", "video/x-ms-asf"),
}
# Suffixes seen in storage folders and buckets that were not written by us.
_ALSO = {".m4v": "video/mp4", ".wmv": "video/x-ms-asf", ".mpeg": "video/mpeg", ".mts": "video/mp2t"}
BY_SUFFIX: dict[str, str] = {suffix: kind for suffix, kind in BY_CONTAINER.values()} | _ALSO
# Before every container had a suffix here, uploads in the others were stored as "<id>.bin".
LEGACY_SUFFIX = ".bin"
VIDEO_SUFFIXES = frozenset(BY_SUFFIX) | {LEGACY_SUFFIX}
SAFE_TYPES = frozenset(BY_SUFFIX.values())
UNKNOWN = "application/octet-stream"


def stored_as(container: str) -> tuple[str, str]:
    """(suffix, Content-Type) for a probed container; every container the probe accepts is
    listed, so the fallback is only for a probe that learnt a new one."""
    return BY_CONTAINER.get(container, (LEGACY_SUFFIX, UNKNOWN))


def type_of(name: str | PurePath) -> str:
    return BY_SUFFIX.get(PurePath(name).suffix.lower(), UNKNOWN)


def safe_type(content_type: str) -> str:
    """What a stored file may be served as: a video type from the table, else opaque bytes
    (a catalog row written before this table may still carry a client's `text/html`)."""
    return content_type if content_type in SAFE_TYPES else UNKNOWN
