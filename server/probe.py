"""Reads an uploaded video's duration, container and codecs, or says why it cannot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import av.container
import av.stream
from tinytag import TinyTag

from .pictures import picture_stream

# Header and packets disagreeing by more than this is not rounding between
# streams: a shorter file was cut (an interrupted upload), a longer one's header
# is stale (FFmpeg piping a copy keeps its input's duration).
_TOLERANCE = 1.0
# How far before the header's end the tail check starts reading packets.
_TAIL_SECONDS = 3.0
# Files up to this size are demuxed whole to measure them (a few ms per MB).
_READ_WHOLE = 32 * 1024 * 1024
# Below this many bits per second of the header's duration no real video fits in the file.
_MIN_BITRATE = 8_000

# Container families (FFmpeg demuxer names) an upload may come in. Anything else would be a raw
# codec bitstream or a guess: FFmpeg's probing finds "raw H.263" in about one in twenty files of
# random bytes, which must not enter the rotation as a video.
_CONTAINERS = frozenset(
    {"matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2", "avi", "ogg", "mpegts", "mpeg", "flv", "asf"}
)
_WEB_VIDEO = frozenset({"vp8", "vp9", "av1"})
_WEB_AUDIO = frozenset({"opus", "vorbis"})


class ProbeError(ValueError):
    """The file cannot be played; the message is meant for the person who uploaded it."""


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    container: str
    video_codec: str
    audio_codec: str | None
    width: int
    height: int


@dataclass(frozen=True)
class Limits:
    """What an upload may be, checked from the headers and packets before anything is decoded
    (a 16384x8192 picture costs the decoder gigabytes; a file claiming eleven days holds every
    screen on one frame). None: no limit."""

    max_pixels: int | None = None
    max_duration: float | None = None


def probe(path: Path, limits: Limits = Limits()) -> MediaInfo:
    """Blocking (it reads the file): run it in a thread from async code."""
    if path.stat().st_size == 0:
        raise ProbeError("This file is empty.")
    try:
        # Damaged files can carry undecodable tag text; that alone is no reason to refuse.
        # Opening decodes a frame or two to learn the codec's parameters; decoders given
        # max_pixels refuse a bigger picture instead of allocating for it.
        options = {"max_pixels": str(limits.max_pixels)} if limits.max_pixels else {}
        with av.open(str(path), metadata_errors="replace", options=options) as container:
            return _inspect(path, container, limits)
    except av.FFmpegError as exc:
        raise ProbeError(
            "This is not a video file we can read (it is damaged or not a video)."
        ) from exc


def is_universally_playable(info: MediaInfo, max_height: int | None = None) -> bool:
    """True when both browsers and the kiosk's Qt WebEngine (no H.264) can play it as is, and
    (given `max_height`, the renditions' shorter side) every screen can decode it at ease."""
    return (
        info.container == "webm"
        and info.video_codec in _WEB_VIDEO
        and (info.audio_codec is None or info.audio_codec in _WEB_AUDIO)
        and (max_height is None or min(info.width, info.height) <= max_height)
    )


def _inspect(path: Path, container: av.container.InputContainer, limits: Limits) -> MediaInfo:
    # FFmpeg opens pictures as one-frame videos through its image demuxers.
    if container.format.name == "image2" or container.format.name.endswith("_pipe"):
        raise ProbeError("This is a still image, not a video.")
    if container.format.name not in _CONTAINERS:
        raise ProbeError(
            "This is not a video file we can read (use MP4, MOV, WebM, MKV, AVI or MPEG-TS)."
        )
    video = picture_stream(container)
    if video is None:
        raise ProbeError("This is not a video file we can read (no video stream found).")
    audio = container.streams.audio[0] if container.streams.audio else None
    name = _container_name(path, container)
    width, height = video.codec_context.width, video.codec_context.height
    if limits.max_pixels is not None and width * height == 0:
        # Some containers name no size and the decoder refused the picture: it is too big.
        raise ProbeError(
            f"This video's picture is larger than the {limits.max_pixels:,} pixels a picture "
            "may have here (8K UHD is 7680x4320), or its size cannot be read."
        )
    if limits.max_pixels is not None and width * height > limits.max_pixels:
        raise ProbeError(
            f"This video is {width}x{height} pixels, more than the {limits.max_pixels:,} pixels "
            "a picture may have here (8K UHD is 7680x4320); please upload a smaller version."
        )
    duration = _duration(path, container, name)
    if limits.max_duration is not None and duration > limits.max_duration:
        raise ProbeError(
            f"This video lasts {_hours(duration)}; the longest accepted is "
            f"{_hours(limits.max_duration)}."
        )
    return MediaInfo(
        duration=duration,
        container=name,
        video_codec=_codec_name(video),
        audio_codec=_codec_name(audio) if audio else None,
        width=width,
        height=height,
    )


def _hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _container_name(path: Path, container: av.container.InputContainer) -> str:
    # FFmpeg names format families ("matroska,webm", "mov,mp4,..."); the
    # playability check needs to know which member this file is.
    family = container.format.name
    if family == "matroska,webm":
        with path.open("rb") as f:
            ebml_header = f.read(64)  # its DocType says "webm" or "matroska"
        return "webm" if b"webm" in ebml_header else "matroska"
    if family.startswith("mov,"):
        brand = container.metadata.get("major_brand", "").strip()
        return "mov" if brand == "qt" else "mp4"
    return family.split(",")[0]


def _codec_name(stream: av.stream.Stream) -> str:
    # The decoder's name can be a library's ("libdav1d"); the canonical one is the format's.
    context = stream.codec_context
    return context.codec.canonical_name if context is not None else "unknown"


def _duration(path: Path, container: av.container.InputContainer, name: str) -> float:
    header = _tinytag_duration(path) if name in ("mp4", "mov") else None
    if header is None and container.duration:
        header = container.duration / av.time_base
    if header is None or header <= 0:
        # MediaRecorder's WebM has no duration element: the packets tell it.
        duration = _packet_end(container, 0.0)
    else:
        # The header is the uploader's word: for a small file, or a figure its size cannot
        # back, every packet is read (demuxing only) instead of only the tail.
        size = path.stat().st_size
        whole = size <= _READ_WHOLE or size * 8 / header < _MIN_BITRATE
        end = _packet_end(container, 0.0 if whole else header - _TAIL_SECONDS)
        if end < header - _TOLERANCE:
            raise ProbeError("This video file is incomplete (it ends early); try uploading again.")
        duration = end if end > header + _TOLERANCE else header
    if duration <= 0:
        raise ProbeError("Could not read this video's duration.")
    return duration


def _tinytag_duration(path: Path) -> float | None:
    try:
        with path.open("rb") as f:
            # By content, not by name: uploads may be stored without their extension.
            duration = TinyTag.get(file_obj=f, tags=False).duration
    except Exception:  # a shortcut only: whatever trips tinytag, PyAV reads next
        return None
    return duration if duration else None


def _packet_end(container: av.container.InputContainer, from_seconds: float) -> float:
    """Where the last packet ends, in seconds from the start; demuxes only, never decodes."""
    start = max(container.start_time or 0, 0) / av.time_base
    if from_seconds > 0:
        try:
            container.seek(int(from_seconds * av.time_base), backward=True)
        except av.FFmpegError:
            pass  # unseekable: read it all from where it stands, the start
    end = 0.0
    try:
        for packet in container.demux():
            pts = packet.pts if packet.pts is not None else packet.dts
            if pts is None or packet.time_base is None:
                continue
            end = max(end, float((pts + (packet.duration or 0)) * packet.time_base))
    except av.FFmpegError:
        pass  # a damaged tail: keep what was read, the caller judges it
    return end - start
