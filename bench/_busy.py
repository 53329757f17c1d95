"""A CPU-heavy neighbour for benchmarks' "busy" figures: what a real server also does."""

from __future__ import annotations

import subprocess


def start_busy_work() -> subprocess.Popen[bytes]:
    """A VP9 conversion on one thread, as an upload's: one core kept busy for the whole run."""
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1"]
    command += ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"]
    command += ["-c:v", "libvpx-vp9", "-threads", "1", "-deadline", "good", "-cpu-used", "2"]
    command += ["-f", "null", "-"]
    return subprocess.Popen(command)
