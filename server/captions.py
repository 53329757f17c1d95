"""Captions: WebVTT text for a video, from a file its uploader sends (WebVTT, or SubRip
converted) or from the subtitle stream of an uploaded MKV/MP4. Pages show them as <track>s,
so the browser times each cue by the video's own clock: captions are as synced as the picture.

The text is kept in the video's catalog entry (a few KB), so every worker and machine sharing
the store serves the same captions without a shared disk.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

import av

from .catalog import Video

log = logging.getLogger(__name__)

MAX_CAPTIONS = 1024 * 1024  # bytes of a captions file: hours of speech are ~100 KB
FORMATS = "WebVTT (.vtt) or SubRip (.srt)"

_TIMING = re.compile(
    r"^\s*(\d+:)?(\d{1,2}):(\d{2})[.,](\d{3})\s+-->\s+(\d+:)?(\d{1,2}):(\d{2})[.,](\d{3})(.*)$"
)
_ASS_TAG = re.compile(r"\{[^}]*\}")


class CaptionsError(ValueError):
    """Not a captions file we can use; the message is for the person who sent it."""


def _text(data: bytes) -> str:
    if len(data) > MAX_CAPTIONS:
        raise CaptionsError(f"The captions file is larger than {MAX_CAPTIONS // 1024} KB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")  # old SubRip files are often Windows-1252
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _stamp(hours: str | None, minutes: str, seconds: str, millis: str) -> str:
    return f"{int((hours or '0:')[:-1]):02d}:{int(minutes):02d}:{seconds}.{millis}"


def to_webvtt(data: bytes) -> str:
    """WebVTT from a WebVTT or SubRip file, with at least one cue; CaptionsError otherwise."""
    text = _text(data)
    webvtt = text.lstrip().startswith("WEBVTT")
    lines: list[str] = [] if webvtt else ["WEBVTT", ""]
    cues = 0
    for line in text.split("\n"):
        timing = _TIMING.match(line)
        if timing:
            cues += 1
            if not webvtt:
                # SubRip: commas in the times, and a cue number line before (kept as the id).
                start, end = _stamp(*timing.groups()[0:4]), _stamp(*timing.groups()[4:8])
                line = f"{start} --> {end}"
        elif not webvtt:
            line = re.sub(r"</?font[^>]*>", "", line)  # SubRip colours WebVTT does not know
        lines.append(line)
    if not cues:
        raise CaptionsError(f"This is not a captions file we can read: send {FORMATS}.")
    return "\n".join(lines).rstrip() + "\n"


def _cue_time(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def extract(path: Path) -> str | None:
    """Blocking: the first text subtitle stream of a video file as WebVTT, or None."""
    with av.open(str(path), metadata_errors="replace") as container:
        streams = container.streams.subtitles
        if not streams:
            return None
        stream = streams[0]
        if stream.time_base is None:
            return None
        cues: list[str] = []
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            start = float(packet.pts * stream.time_base)
            end = start + float((packet.duration or 0) * stream.time_base)
            for subtitle in packet.decode():
                dialogue = getattr(subtitle, "dialogue", None)
                if dialogue is None:
                    continue  # a picture subtitle (DVD, PGS): no text to show
                words = _ASS_TAG.sub("", dialogue.decode("utf-8", "replace")).strip()
                if words and end > start:
                    cues.append(f"{_cue_time(start)} --> {_cue_time(end)}\n{words}")
    if not cues:
        return None
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


def extract_quietly(path: Path) -> str | None:
    """`extract`, where a file whose subtitles cannot be read still makes a video."""
    try:
        return extract(path)
    except (av.FFmpegError, OSError, ValueError, UnicodeError) as error:
        log.warning("subtitles of %s not kept: %s", path.name, error)
        return None


def captions_of(video: Video) -> str | None:
    """The video's WebVTT text, if it has captions."""
    return video.meta.captions or None


def with_captions(video: Video, webvtt: str | None) -> Video:
    return replace(video, meta=replace(video.meta, captions=webvtt or None))
