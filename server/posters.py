"""A poster per video: a JPEG frame from its first seconds, shown while a video loads so a
switch never shows black. Posters live in DATA_DIR/posters, named by video id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import sys
from fractions import Fraction
from pathlib import Path

import av

from .config import ROOT
from .pictures import decoded, picture_graph, picture_stream, upright_size

log = logging.getLogger(__name__)

POSTER_AT = 1.0  # seconds in: past a fade from black, still the video's opening
POSTER_WIDTH = 640


def poster_path(data_dir: Path, video_id: str) -> Path:
    return data_dir / "posters" / f"{video_id}.jpg"


def extract(source: Path, target: Path, at: float = POSTER_AT) -> None:
    """Blocking: write the frame at `at` seconds (or mid-video if shorter) to `target` as JPEG."""
    with av.open(str(source), metadata_errors="replace") as container:
        stream = picture_stream(container)
        if stream is None:
            raise ValueError("no picture stream")
        duration = container.duration / av.time_base if container.duration else None
        when = min(at, duration / 2) if duration else at
        start = 0.0
        if stream.start_time and stream.time_base:
            start = float(stream.start_time * stream.time_base)
        try:
            container.seek(int((when + start) * av.time_base), backward=True)
        except av.FFmpegError:
            container.seek(0)  # no index (a live-written WebM): decode from the start
        frame = None
        for packet in container.demux(stream):
            found = [f for f in decoded(packet) if isinstance(f, av.VideoFrame)]
            frame = found[-1] if found else frame
            if frame is not None and frame.time is not None and frame.time - start >= when:
                break
        if frame is None:
            raise ValueError("no picture could be decoded")
        width, height = upright_size(frame)
        scale = min(1.0, POSTER_WIDTH / width)
        size = max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
        graph = picture_graph(stream, frame, *size, "yuvj420p")
        graph.vpush(frame)
        picture = graph.vpull()
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = size
    encoder.pix_fmt, encoder.time_base = "yuvj420p", Fraction(1, 25)
    jpeg = b"".join(bytes(p) for p in [*encoder.encode(picture), *encoder.encode(None)])
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(jpeg)
    os.replace(partial, target)  # a reader sees the old poster or the new one, never half


async def make_poster(
    data_dir: Path, source: Path, video_id: str, memory_limit: int | None = None
) -> bool:
    """Extract in a child process, whose memory is capped: decoding is where a hostile file
    costs (a 385 KB file can claim a 16384x8192 picture), and it must cost that child, never
    the server. A video without a poster still plays, so failures are only logged."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.posters",
        str(source),
        str(poster_path(data_dir, video_id)),
        str(memory_limit or 0),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, said = await child.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        raise
    if child.returncode != 0:
        lines = said.decode(errors="replace").strip().splitlines()
        log.warning("no poster for %s: %s", video_id, lines[-1] if lines else child.returncode)
        return False
    return True


def _main(source: str, target: str, memory_limit: str) -> None:
    if limit := int(memory_limit):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        extract(Path(source), Path(target))
    except (av.FFmpegError, OSError, ValueError, StopIteration, MemoryError) as error:
        sys.exit(f"{type(error).__name__}: {error}")


def discard_poster(data_dir: Path, video_id: str) -> None:
    poster_path(data_dir, video_id).unlink(missing_ok=True)


if __name__ == "__main__":
    _main(*sys.argv[1:4])
