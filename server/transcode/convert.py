"""Converting a video into the one rendition every screen can play: WebM with VP9 and Opus.

`convert` is the blocking PyAV work; `jobs` runs it in a child process, so a long conversion never
holds the event loop or the GIL of the process serving SSE.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import av.filter

from ..config import Settings
from ..pictures import decoded, picture_graph, picture_stream, upright_size
from ..probe import ProbeError, is_universally_playable, probe

SAMPLE_RATE = 48000  # Opus works at 48 kHz only
OPUS_FRAME = 960  # 20 ms: the frame size libopus takes
# 60 fps doubles encoding time and bitrate for little gain on a wall display.
MAX_FPS = Fraction(30)
KEYFRAME_SECONDS = 2  # late joiners seek into the video: a keyframe is never far
PROGRESS_INTERVAL = 0.5  # seconds between progress reports

Progress = Callable[[float], None]  # called with the seconds of video converted so far


class ConversionError(RuntimeError):
    """The conversion failed; the message is meant for the person who uploaded the video."""


@dataclass(frozen=True)
class Options:
    """The TRANSCODE_* settings (server/config.py has their defaults), and the threads."""

    max_height: int
    video_bitrate: int
    audio_bitrate: int
    speed: str  # "realtime" or "good"
    threads: int
    memory_limit: int  # the converter's address space (RLIMIT_AS), 0 for none

    @classmethod
    def from_settings(cls, settings: Settings) -> Options:
        workers = max(1, settings.transcode_workers)
        return cls(
            max_height=settings.transcode_max_height,
            video_bitrate=settings.transcode_video_bitrate,
            audio_bitrate=settings.transcode_audio_bitrate,
            speed=settings.transcode_speed,
            # libvpx gains little beyond 4 threads at 720p; share the cores between workers.
            threads=max(1, min(4, (os.cpu_count() or 2) // workers)),
            memory_limit=settings.transcode_memory_limit,
        )

    @property
    def encoder_options(self) -> dict[str, str]:
        # realtime/8 encodes several times faster than playback on 2 cores; good/4 makes
        # smaller files at the same quality but runs below real time there (bench/transcode.py).
        preset = {"deadline": "realtime", "cpu-used": "8"}
        if self.speed == "good":
            preset = {"deadline": "good", "cpu-used": "4"}
        # Constrained quality: simple pictures take far less than the bitrate cap.
        return {**preset, "row-mt": "1", "crf": "32"}


def convert(
    source: Path, target: Path, options: Options, progress: Progress | None = None
) -> float:
    """Write `target` (WebM, VP9 + Opus) from `source` and return its duration in seconds.

    Blocking and CPU-bound. The file is written under a temporary name and renamed only once it
    is complete and checked, so `target` is either the whole rendition or absent.
    """
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        try:
            with av.open(str(source), metadata_errors="replace") as inp:
                with av.open(str(partial), "w", format="webm") as out:
                    _Conversion(inp, out, options, progress or (lambda _: None)).run()
            info = probe(partial)
        except (av.FFmpegError, ProbeError) as error:
            raise ConversionError(f"Could not convert this video ({error}).") from error
        if not is_universally_playable(info):
            raise ConversionError(f"The conversion made {info.video_codec} in {info.container}.")
        os.replace(partial, target)
        return info.duration
    finally:
        partial.unlink(missing_ok=True)


def scaled_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    """Fit the shorter side within `max_height` ("720p" means 1280x720 or 720x1280), even sides."""
    scale = min(1.0, max_height / max(1, min(width, height)))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


class _Conversion:
    def __init__(
        self,
        inp: av.container.InputContainer,
        out: av.container.OutputContainer,
        options: Options,
        progress: Progress,
    ) -> None:
        self.inp, self.out, self.options, self.progress = inp, out, options, progress
        vin = picture_stream(inp)
        if vin is None:
            raise ConversionError("This file has no video stream.")
        self.vin = vin
        self.vin.thread_type = "AUTO"  # frame threads: decoding 1080p H.264 is half the work
        self.ain = inp.streams.audio[0] if inp.streams.audio else None
        rate = self.vin.average_rate or self.vin.guessed_rate or MAX_FPS
        self.rate = min(Fraction(rate), MAX_FPS)
        self.graph: av.filter.Graph | None = None
        self.vout: Any = None
        self.aout: Any = None
        self.resampler: av.AudioResampler | None = None
        self.t0: float | None = None  # source time of the first frame: the rendition's zero
        self.v0 = 0  # the same in the video stream's own time base
        self.samples = 0  # Opus samples written: audio timestamps count these
        self.reported = 0.0

    def run(self) -> None:
        streams = [self.vin] + ([self.ain] if self.ain is not None else [])
        # Every stream must exist before the muxer writes its header: the first video frame
        # decides the video stream's size (rotation), so audio waits for it.
        pending_audio: list[av.AudioFrame] = []
        for packet in self.inp.demux(*streams):
            for frame in decoded(packet):
                if isinstance(frame, av.VideoFrame):
                    self._video(frame)
                    for waiting in pending_audio:
                        self._audio(waiting)
                    pending_audio.clear()
                elif isinstance(frame, av.AudioFrame):
                    if self.vout is None:
                        pending_audio.append(frame)
                    else:
                        self._audio(frame)
        if self.vout is None:
            raise ConversionError("No picture could be decoded from this video.")
        self._flush()

    # -- video -------------------------------------------------------------------------------

    def _video(self, frame: av.VideoFrame) -> None:
        if self.graph is None:
            self._open_video(frame)
        assert self.graph is not None
        if frame.pts is not None:
            # From zero, as the audio is (MPEG-TS starts its clock at 1.4 s or anywhere): else
            # the rendition opens on that much nothing and the picture ends late.
            frame.pts -= self.v0
        self.graph.vpush(frame)
        self._drain_video()
        now = time.monotonic()
        if now - self.reported >= PROGRESS_INTERVAL and frame.time is not None:
            self.reported = now
            self.progress(max(0.0, frame.time - (self.t0 or 0.0)))

    def _open_video(self, frame: av.VideoFrame) -> None:
        self.t0 = frame.time or 0.0
        self.v0 = frame.pts or 0
        width, height = scaled_size(*upright_size(frame), self.options.max_height)
        fps = ("fps", f"{self.rate.numerator}/{self.rate.denominator}")
        self.graph = picture_graph(self.vin, frame, width, height, "yuv420p", (fps,))

        vout = self.out.add_stream("libvpx-vp9", rate=self.rate)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        context = vout.codec_context
        context.time_base = 1 / self.rate
        context.bit_rate = self.options.video_bitrate
        context.gop_size = max(1, round(self.rate * KEYFRAME_SECONDS))
        context.thread_count = self.options.threads
        context.options = self.options.encoder_options
        self.vout = vout
        if self.ain is not None:
            aout = self.out.add_stream("libopus", rate=SAMPLE_RATE, layout="stereo")
            aout.codec_context.bit_rate = self.options.audio_bitrate
            self.aout = aout
            self.resampler = av.AudioResampler(
                format="flt", layout="stereo", rate=SAMPLE_RATE, frame_size=OPUS_FRAME
            )

    def _drain_video(self) -> None:
        assert self.graph is not None
        while True:
            try:
                frame = self.graph.vpull()
            except (av.BlockingIOError, av.EOFError):
                return
            frame.pict_type = av.video.frame.PictureType.NONE  # let the encoder place keyframes
            self.out.mux(self.vout.encode(frame))

    # -- audio -------------------------------------------------------------------------------

    def _audio(self, frame: av.AudioFrame) -> None:
        if self.aout is None or self.resampler is None:
            return
        if self.samples == 0 and frame.time is not None and self.t0 is not None:
            # Start where the sound starts relative to the picture (never before zero).
            self.samples = max(0, round((frame.time - self.t0) * SAMPLE_RATE))
        for chunk in self.resampler.resample(frame):
            self._encode_audio(chunk)

    def _encode_audio(self, chunk: av.AudioFrame | None) -> None:
        if chunk is not None:
            chunk.pts, chunk.time_base = self.samples, Fraction(1, SAMPLE_RATE)
            self.samples += chunk.samples
        self.out.mux(self.aout.encode(chunk))

    def _flush(self) -> None:
        assert self.graph is not None
        self.graph.vpush(None)
        self._drain_video()
        self.out.mux(self.vout.encode(None))
        if self.aout is not None and self.resampler is not None:
            for chunk in self.resampler.resample(None):
                self._encode_audio(chunk)
            self._encode_audio(None)
