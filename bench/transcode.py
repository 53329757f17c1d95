"""How fast are uploads converted? `python bench/transcode.py [--seconds 10] [--speed realtime]`

Makes H.264/AAC MP4 sources like a phone's (a moving test picture with a little sensor-like
grain and a tone: ~16 Mbit/s at 1080p) at 1080p and 360p, converts each with the server's own
`convert` and settings in a fresh process, as the server's conversion queue does, and prints the
speed in seconds of video per second of wall time, the rendition's bitrate and the converting
process's peak memory (RSS). Prints a readable report and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import av  # noqa: E402

from server.config import load_settings  # noqa: E402
from server.probe import probe  # noqa: E402
from server.transcode.convert import Options, convert  # noqa: E402

SIZES = [(1920, 1080), (640, 360)]


def make_source(path: Path, width: int, height: int, seconds: float) -> Path:
    picture = f"testsrc2=size={width}x{height}:rate=30:duration={seconds},noise=alls=6:allf=t"
    tone = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
    with (
        av.open(picture, format="lavfi") as video_in,
        av.open(tone, format="lavfi") as audio_in,
        av.open(str(path), "w", format="mp4") as out,
    ):
        video = out.add_stream("libx264", rate=30, options={"preset": "veryfast", "crf": "23"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=48000, layout="mono")
        for frame in video_in.decode(video=0):
            out.mux(video.encode(frame.reformat(format="yuv420p")))
        out.mux(video.encode(None))
        for frame in audio_in.decode(audio=0):
            frame.pts = None
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


def peak_rss_kb() -> int:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def convert_once(source: Path, target: Path, speed: str) -> dict[str, float]:
    """Runs in its own process (`--one`), so its peak memory is the conversion's alone."""
    options = Options.from_settings(load_settings(env={"TRANSCODE_SPEED": speed}))
    baseline = peak_rss_kb()
    started = time.perf_counter()
    duration = convert(source, target, options)
    elapsed = time.perf_counter() - started
    return {
        "duration": duration,
        "elapsed": elapsed,
        "peak_kb": peak_rss_kb(),
        "baseline_kb": baseline,
    }


def measure(source: Path, target: Path, speed: str) -> dict[str, object]:
    command = [sys.executable, __file__, "--one", str(source), str(target), speed]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    before, after = probe(source), probe(target)
    return {
        "source": f"{before.width}x{before.height} {before.video_codec}/{before.audio_codec}",
        "rendition": f"{after.width}x{after.height} {after.video_codec}/{after.audio_codec}",
        "video_seconds": round(result["duration"], 2),
        "wall_seconds": round(result["elapsed"], 2),
        "speed": round(result["duration"] / result["elapsed"], 2),
        "source_kbps": round(source.stat().st_size * 8 / 1000 / before.duration),
        "rendition_mb": round(target.stat().st_size / 1e6, 2),
        "rendition_kbps": round(target.stat().st_size * 8 / 1000 / after.duration),
        "peak_rss_mb": round(result["peak_kb"] / 1024),
        "baseline_rss_mb": round(result["baseline_kb"] / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each source")
    parser.add_argument("--speed", choices=["realtime", "good"], default="realtime")
    parser.add_argument(
        "--one", nargs=3, metavar=("SOURCE", "TARGET", "SPEED"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.one:
        source, target, speed = args.one
        print(json.dumps(convert_once(Path(source), Path(target), speed)))
        return
    settings = load_settings(env={"TRANSCODE_SPEED": args.speed})
    print(
        f"converting {args.seconds:g} s sources, speed={args.speed}, "
        f"cap {settings.transcode_max_height}p at {settings.transcode_video_bitrate // 1000} kbit/s"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="simulcast-bench-") as work:
        for width, height in SIZES:
            source = make_source(Path(work) / f"{height}p.mp4", width, height, args.seconds)
            result = measure(source, Path(work) / f"{height}p.webm", args.speed)
            results.append(result)
            print(
                f"  {result['source']:>24} at {result['source_kbps']:>5} kbit/s "
                f"-> {result['rendition']:<20} "
                f"{result['speed']:5.2f} s of video per s "
                f"({result['video_seconds']} s in {result['wall_seconds']} s), "
                f"{result['rendition_kbps']} kbit/s, peak RSS {result['peak_rss_mb']} MB "
                f"(interpreter and PyAV alone: {result['baseline_rss_mb']} MB)"
            )
    print(json.dumps({"speed": args.speed, "seconds": args.seconds, "results": results}))


if __name__ == "__main__":
    main()
