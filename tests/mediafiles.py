"""Small test media made on demand with PyAV, so tests need no system ffmpeg.

Frames are filled plane by plane (no numpy): a solid colour and a sine tone are
enough for container and codec checks, and they encode in milliseconds.
"""

from __future__ import annotations

import io
import math
import os
import random
from array import array
from fractions import Fraction
from pathlib import Path

import av

WIDTH, HEIGHT, FPS = 160, 90, 30
SAMPLE_RATE = 48000
_AUDIO_CHUNK = 960  # 20 ms, Opus's own frame size

RED = (200, 30, 30)
GREEN = (30, 160, 60)
BLUE = (30, 60, 200)

_CLUSTER_ID = bytes.fromhex("1F43B675")  # Matroska's Cluster element
_VP9_FAST = {"deadline": "realtime", "cpu-used": "8"}
_X264_FAST = {"preset": "ultrafast"}


def make_webm(
    path: Path, seconds: float = 2.0, color: tuple[int, int, int] = RED, with_audio: bool = True
) -> Path:
    """VP9 (+ Opus) WebM with its duration in the header, as ffmpeg writes it to a file."""
    with av.open(str(path), "w", format="webm") as out:
        _write(out, seconds, color, "libvpx-vp9", _VP9_FAST, "libopus" if with_audio else None)
    return path


def make_long_webm(path: Path, seconds: float) -> Path:
    """A long WebM in a moment: one second encoded (a keyframe starts it), its packets then
    muxed again and again with shifted timestamps. Encoding 5 minutes takes a minute or more."""
    second = make_webm(path.with_suffix(".1s.webm"), seconds=1.0)
    with av.open(str(second)) as source, av.open(str(path), "w", format="webm") as out:
        packets = [p for p in source.demux() if p.dts is not None]
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        span = {}  # per stream, in its time base: the audio runs a little longer than 1 s
        for packet in packets:
            first, end = span.get(packet.stream.index, (packet.dts, 0))
            span[packet.stream.index] = (first, max(end, packet.dts + (packet.duration or 1)))
        for repeat in range(math.ceil(seconds)):
            for packet in packets:
                first, end = span[packet.stream.index]
                shift = repeat * (end - first)
                copy = av.Packet(bytes(packet))
                copy.pts, copy.dts = packet.pts + shift, packet.dts + shift
                copy.time_base, copy.is_keyframe = packet.time_base, packet.is_keyframe
                copy.stream = streams[packet.stream.index]
                out.mux(copy)
    second.unlink()
    return path


def make_channel(folder: Path, *named_seconds: tuple[str, float]) -> Path:
    """A folder of short WebM clips to use as STATIC_DIR: a channel whose switches come fast."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, (name, seconds) in enumerate(named_seconds, 1):
        make_webm(folder / f"{number:02d}-{name}.webm", seconds=seconds)
    return folder


def make_noise(path: Path, seconds: int, width: int = 320, height: int = 240) -> Path:
    """Random pictures, which compress badly on purpose: megabytes per second, so a player
    cannot buffer the whole file at once and must keep asking for ranges. `.mp4` gives H.264
    (index at the end), anything else VP9 WebM."""
    mp4 = path.suffix == ".mp4"
    codec, options = (
        ("libx264", {"preset": "ultrafast", "crf": "10"})
        if mp4
        else ("libvpx-vp9", {**_VP9_FAST, "crf": "4", "b": "0"})
    )
    with av.open(str(path), "w", format="mp4" if mp4 else "webm") as out:
        stream = out.add_stream(codec, rate=FPS, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(seconds * FPS):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(os.urandom(plane.buffer_size))
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_still(path: Path, seconds: int, luma: int = 128) -> Path:
    """A tiny VP9 WebM of one grey picture a second: hours long in milliseconds, for channels
    where no switch should happen unless a test or benchmark asks for one."""
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx-vp9", rate=1, options={"deadline": "realtime"})
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame(64, 64, "yuv420p")
        for plane, value in zip(frame.planes, (luma, 128, 128), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        for index in range(seconds):
            frame.pts, frame.time_base = index, Fraction(1, 1)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_webm_without_duration(
    path: Path, seconds: float = 2.0, color: tuple[int, int, int] = GREEN
) -> Path:
    """WebM with no Duration element and no Cues, like a browser's MediaRecorder.

    The Matroska muxer patches the duration into the header at the end, which it
    can only do on a seekable output; a write-only stream gets neither.
    """
    sink = _WriteOnly()
    with av.open(sink, "w", format="webm") as out:
        _write(out, seconds, color, "libvpx-vp9", _VP9_FAST, "libopus")
    path.write_bytes(sink.getvalue())
    return path


def make_webm_with_stale_duration(path: Path, seconds: float, header_seconds: float) -> Path:
    """A live-written WebM whose header claims `header_seconds`: FFmpeg copies its
    input's duration into the header when piping, even when the output runs longer."""
    sink = _WriteOnly()
    with av.open(sink, "w", format="webm") as out:
        _write(out, seconds, BLUE, "libvpx-vp9", _VP9_FAST, "libopus", header_seconds)
    path.write_bytes(sink.getvalue())
    return path


def make_webm_without_frames(path: Path) -> Path:
    """A MediaRecorder-style WebM stopped before its first frame: tracks, one empty cluster."""
    make_webm_without_duration(path, 1.0)
    data = path.read_bytes()
    # An empty cluster of unknown size holding only its timestamp (0), as a live
    # muxer starts one; without any cluster FFmpeg gives up at end of file instead.
    empty_cluster = _CLUSTER_ID + bytes.fromhex("01ffffffffffffff") + bytes.fromhex("e78100")
    path.write_bytes(data[: data.index(_CLUSTER_ID)] + empty_cluster)
    return path


def make_mp4_h264(
    path: Path, seconds: float = 2.0, with_audio: bool = True, faststart: bool = False
) -> Path:
    """H.264 (+ AAC) MP4; `faststart` puts the index before the media, as web exports do."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        _write(out, seconds, BLUE, "libx264", _X264_FAST, "aac" if with_audio else None)
    return path


def make_mov(path: Path, seconds: float = 2.0) -> Path:
    """QuickTime .mov with H.264 + AAC, as phones and editors export."""
    with av.open(str(path), "w", format="mov") as out:
        _write(out, seconds, GREEN, "libx264", _X264_FAST, "aac")
    return path


# Every container the probe accepts, with codecs its muxer takes: (format, video, audio).
CONTAINERS: dict[str, tuple[str, str, str | None]] = {
    "webm": ("webm", "libvpx-vp9", "libopus"),
    "mkv": ("matroska", "libx264", "aac"),
    "mp4": ("mp4", "libx264", "aac"),
    "mov": ("mov", "libx264", "aac"),
    "avi": ("avi", "mpeg4", "mp2"),
    "ogv": ("ogg", "libvpx", "libopus"),
    "ts": ("mpegts", "libx264", "aac"),
    "mpg": ("mpeg", "mpeg2video", "mp2"),
    "flv": ("flv", "flv", "aac"),
    "asf": ("asf", "wmv2", "mp2"),
}


def make_in_container(
    path: Path, kind: str, seconds: float = 1.0, metadata: dict[str, str] | None = None
) -> Path:
    """A short clip in the container `kind` (a key of CONTAINERS), with audio."""
    form, video, audio = CONTAINERS[kind]
    options = _X264_FAST if video == "libx264" else _VP9_FAST if video.startswith("libvpx") else {}
    with av.open(str(path), "w", format=form) as out:
        out.metadata.update(metadata or {})
        _write(out, seconds, RED, video, options, audio)
    return path


def make_video_without_audio(path: Path, seconds: float = 2.0) -> Path:
    """A silent video: H.264 MP4 when the name ends in .mp4, else VP9 WebM."""
    if path.suffix == ".mp4":
        return make_mp4_h264(path, seconds, with_audio=False)
    return make_webm(path, seconds, with_audio=False)


def make_audio_only(path: Path, seconds: float = 2.0) -> Path:
    """A tone with no video: AAC in .m4a/.mp4, else Opus in WebM."""
    if path.suffix in (".m4a", ".mp4"):
        with av.open(str(path), "w", format="mp4") as out:
            _write(out, seconds, None, None, {}, "aac")
    else:
        with av.open(str(path), "w", format="webm") as out:
            _write(out, seconds, None, None, {}, "libopus")
    return path


def make_audio_with_cover(path: Path, seconds: float = 2.0) -> Path:
    """AAC in MP4 with cover art, which FFmpeg lists as a one-picture video stream."""
    with av.open(str(path), "w", format="mp4") as out:
        # Every stream must exist before the first packet is muxed.
        audio = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        cover = out.add_stream("png", rate=1)
        cover.width, cover.height, cover.pix_fmt = WIDTH, HEIGHT, "rgb24"
        cover.disposition = av.stream.Disposition.attached_pic
        frame = _solid_frame(RED).reformat(format="rgb24")
        frame.pts = 0
        out.mux(cover.encode(frame))
        out.mux(cover.encode(None))
        _mux_tone(out, audio, seconds)
    return path


def make_corrupt(path: Path) -> Path:
    """A real MP4 whose first half is overwritten with noise: no demuxer recognises it."""
    make_mp4_h264(path, 2.0)
    data = bytearray(path.read_bytes())
    noise = random.Random(1234).randbytes(len(data) // 2)
    data[: len(noise)] = noise
    path.write_bytes(bytes(data))
    return path


def make_truncated(path: Path, seconds: float = 4.0) -> Path:
    """A file cut off halfway (an interrupted upload) whose header still claims the full length.

    MP4 uses faststart so the index survives the cut; WebM keeps its header duration.
    """
    if path.suffix == ".mp4":
        make_mp4_h264(path, seconds, faststart=True)
    else:
        make_webm(path, seconds)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def make_image(path: Path) -> Path:
    """A PNG still picture (whatever the name says): FFmpeg opens it as a one-frame video."""
    with av.open(str(path), "w", format="image2pipe") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "rgb24"
        frame = _solid_frame(RED).reformat(format="rgb24")
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_text_as_mp4(path: Path) -> Path:
    path.write_text("These are my holiday notes, not a video.\n" * 20)
    return path


def make_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


class _WriteOnly(io.RawIOBase):
    """A sink PyAV cannot seek in, so the muxer behaves as on a live stream."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._buffer.write(data)

    def getvalue(self) -> bytes:
        return self._buffer.getvalue()


def _write(
    out: av.container.OutputContainer,
    seconds: float,
    color: tuple[int, int, int] | None,
    video_codec: str | None,
    video_options: dict[str, str],
    audio_codec: str | None,
    header_seconds: float | None = None,
) -> None:
    video = audio = None
    if video_codec:
        video = out.add_stream(video_codec, rate=FPS, options=video_options)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.codec_context.gop_size = FPS  # a keyframe a second, like real uploads
    if audio_codec:
        audio = out.add_stream(audio_codec, rate=SAMPLE_RATE, layout="mono")
    if header_seconds is not None:
        # The Matroska muxer writes a stream's DURATION tag as the header duration.
        tag = f"{int(header_seconds // 3600):02d}:{int(header_seconds // 60 % 60):02d}:"
        tag += f"{header_seconds % 60:012.9f}"
        for stream in out.streams:
            stream.metadata["DURATION"] = tag
    if video is not None and color is not None:
        for index in range(round(seconds * FPS)):
            frame = _solid_frame(color)
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    if audio is not None:
        _mux_tone(out, audio, seconds)


def _mux_tone(out: av.container.OutputContainer, audio: av.AudioStream, seconds: float) -> None:
    for start in range(0, round(seconds * SAMPLE_RATE), _AUDIO_CHUNK):
        out.mux(audio.encode(_tone_frame(start, 440.0)))
    out.mux(audio.encode(None))


def _solid_frame(color: tuple[int, int, int]) -> av.VideoFrame:
    r, g, b = color
    # BT.601 limited range, what yuv420p video means by default.
    y = round(16 + 0.257 * r + 0.504 * g + 0.098 * b)
    u = round(128 - 0.148 * r - 0.291 * g + 0.439 * b)
    v = round(128 + 0.439 * r - 0.368 * g - 0.071 * b)
    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    for plane, value in zip(frame.planes, (y, u, v), strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    return frame


def _tone_frame(start: int, hz: float) -> av.AudioFrame:
    samples = array(
        "h",
        (
            round(8000 * math.sin(2 * math.pi * hz * (start + i) / SAMPLE_RATE))
            for i in range(_AUDIO_CHUNK)
        ),
    )
    frame = av.AudioFrame(format="s16", layout="mono", samples=_AUDIO_CHUNK)
    raw = samples.tobytes()
    frame.planes[0].update(raw + bytes(frame.planes[0].buffer_size - len(raw)))
    frame.sample_rate, frame.pts = SAMPLE_RATE, start
    frame.time_base = Fraction(1, SAMPLE_RATE)
    return frame


def with_subtitles(video: Path, srt: str, out: Path) -> Path:
    """`video` remuxed into a Matroska file with `srt` as its SubRip subtitle stream."""
    subtitles = out.with_suffix(".srt")
    subtitles.write_text(srt)
    with av.open(str(video)) as picture, av.open(str(subtitles)) as text:
        with av.open(str(out), "w", format="matroska") as muxed:
            sources = [*picture.streams, *text.streams]
            targets = {s: muxed.add_stream_from_template(s) for s in sources}  # header first
            for source in (picture, text):
                for packet in source.demux():
                    if packet.dts is not None:
                        packet.stream = targets[packet.stream]
                        muxed.mux(packet)
    subtitles.unlink()
    return out


def make_sized(path: Path, width: int, height: int, frames: int = 2) -> Path:
    """A few solid frames at any size: H.264 MP4 for `.mp4`, else VP9 WebM. A huge picture of
    one colour compresses to almost nothing, as a resolution bomb does."""
    mp4 = path.suffix == ".mp4"
    codec, options = ("libx264", _X264_FAST) if mp4 else ("libvpx-vp9", _VP9_FAST)
    with av.open(str(path), "w", format="mp4" if mp4 else "webm") as out:
        stream = out.add_stream(codec, rate=FPS, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane, value in zip(frame.planes, (81, 90, 240), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        for index in range(frames):
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_webm_spanning(path: Path, seconds: float) -> Path:
    """A tiny WebM whose two frames are `seconds` apart: its packets, not only its header,
    claim that long a video."""
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx-vp9", rate=FPS, options=_VP9_FAST)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for pts in (0, round(seconds * 1000)):
            frame = _solid_frame(RED)
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_ts_like_ffmpeg(path: Path, seconds: float = 3.0, with_audio: bool = True) -> Path:
    """MPEG-TS as the ffmpeg command writes it: its clock starts at 1.4 s (mux delay)."""
    with av.open(str(path), "w", format="mpegts", options={"max_delay": "700000"}) as out:
        _write(out, seconds, RED, "libx264", _X264_FAST, "aac" if with_audio else None)
    return path
