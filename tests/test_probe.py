from __future__ import annotations

import dataclasses
from itertools import pairwise
from pathlib import Path

import av
import pytest
from tinytag import TinyTag, UnsupportedFormatError

from server import probe as probe_module
from server.probe import MediaInfo, ProbeError, is_universally_playable, probe
from tests import mediafiles

STATIC = Path(__file__).resolve().parent.parent / "static"
SAMPLES = {"01-red-sample.webm": 12.0, "02-green-sample.webm": 15.0, "03-blue-sample.webm": 20.0}

NOT_READABLE = "This is not a video file we can read (it is damaged or not a video)."
NO_VIDEO = "This is not a video file we can read (no video stream found)."
INCOMPLETE = "This video file is incomplete (it ends early); try uploading again."


def test_webm_vp9_opus(tmp_path: Path) -> None:
    info = probe(mediafiles.make_webm(tmp_path / "a.webm", seconds=2.0))
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.container, info.video_codec, info.audio_codec) == ("webm", "vp9", "opus")
    assert (info.width, info.height) == (160, 90)
    assert is_universally_playable(info)


def test_webm_without_duration_is_measured_from_its_packets(tmp_path: Path) -> None:
    path = mediafiles.make_webm_without_duration(tmp_path / "rec.webm", seconds=3.0)
    # The fixture must really lack a header duration, or this test proves nothing.
    with av.open(str(path)) as container:
        assert container.duration is None
    with pytest.raises(UnsupportedFormatError):
        TinyTag.get(path)

    info = probe(path)
    assert info.duration == pytest.approx(3.0, abs=0.1)
    assert (info.container, info.video_codec, info.audio_codec) == ("webm", "vp9", "opus")


def test_header_shorter_than_the_packets_gives_way(tmp_path: Path) -> None:
    path = mediafiles.make_webm_with_stale_duration(tmp_path / "piped.webm", 4.0, 1.5)
    with av.open(str(path)) as container:
        assert container.duration / av.time_base == pytest.approx(1.5, abs=0.01)
    assert probe(path).duration == pytest.approx(4.0, abs=0.1)


def test_webm_with_tracks_but_no_frames_has_no_duration(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match=r"^Could not read this video's duration\.$"):
        probe(mediafiles.make_webm_without_frames(tmp_path / "stopped.webm"))


@pytest.mark.parametrize("faststart", [False, True])
def test_mp4_h264_aac(tmp_path: Path, faststart: bool) -> None:
    info = probe(mediafiles.make_mp4_h264(tmp_path / "a.mp4", 2.5, faststart=faststart))
    assert info.duration == pytest.approx(2.5, abs=0.1)
    assert (info.container, info.video_codec, info.audio_codec) == ("mp4", "h264", "aac")
    assert (info.width, info.height) == (160, 90)
    assert not is_universally_playable(info)


def test_mp4_duration_comes_from_tinytag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = mediafiles.make_mp4_h264(tmp_path / "a.mp4", 2.0)
    calls: list[float | None] = []
    real_get = TinyTag.get

    def spy(*args: object, **kwargs: object) -> TinyTag:
        tag = real_get(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(tag.duration)
        return tag

    monkeypatch.setattr(probe_module.TinyTag, "get", spy)
    assert probe(path).duration == pytest.approx(2.0, abs=0.1)
    assert calls == [pytest.approx(2.0, abs=0.1)]


def test_mp4_stored_without_extension(tmp_path: Path) -> None:
    path = mediafiles.make_mp4_h264(tmp_path / "upload.mp4", 2.0).rename(tmp_path / "upload")
    info = probe(path)
    assert info.container == "mp4"
    assert info.duration == pytest.approx(2.0, abs=0.1)


def test_mov(tmp_path: Path) -> None:
    info = probe(mediafiles.make_mov(tmp_path / "clip.mov", 2.0))
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.container, info.video_codec, info.audio_codec) == ("mov", "h264", "aac")
    assert not is_universally_playable(info)


@pytest.mark.parametrize(
    ("name", "container", "codec", "playable"),
    [("silent.webm", "webm", "vp9", True), ("silent.mp4", "mp4", "h264", False)],
)
def test_video_without_audio(
    tmp_path: Path, name: str, container: str, codec: str, playable: bool
) -> None:
    info = probe(mediafiles.make_video_without_audio(tmp_path / name, 2.0))
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.container, info.video_codec, info.audio_codec) == (container, codec, None)
    assert is_universally_playable(info) is playable


@pytest.mark.parametrize("name", ["tone.webm", "tone.m4a", "tone.mp4"])
def test_audio_only_is_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(ProbeError) as caught:
        probe(mediafiles.make_audio_only(tmp_path / name))
    assert str(caught.value) == NO_VIDEO


def test_audio_with_cover_art_is_rejected(tmp_path: Path) -> None:
    path = mediafiles.make_audio_with_cover(tmp_path / "song.m4a")
    with av.open(str(path)) as container:
        assert len(container.streams.video) == 1  # the cover, listed as video
    with pytest.raises(ProbeError) as caught:
        probe(path)
    assert str(caught.value) == NO_VIDEO


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ProbeError) as caught:
        probe(mediafiles.make_empty(tmp_path / "empty.mp4"))
    assert str(caught.value) == "This file is empty."


def test_text_renamed_mp4(tmp_path: Path) -> None:
    with pytest.raises(ProbeError) as caught:
        probe(mediafiles.make_text_as_mp4(tmp_path / "notes.mp4"))
    assert str(caught.value) == NOT_READABLE


def test_corrupt_header(tmp_path: Path) -> None:
    with pytest.raises(ProbeError) as caught:
        probe(mediafiles.make_corrupt(tmp_path / "broken.mp4"))
    assert str(caught.value) == NOT_READABLE
    assert isinstance(caught.value.__cause__, av.FFmpegError)


@pytest.mark.parametrize("name", ["cut.webm", "cut.mp4"])
def test_truncated_upload(tmp_path: Path, name: str) -> None:
    path = mediafiles.make_truncated(tmp_path / name, seconds=4.0)
    # The header still promises the whole length: only the packets show the cut.
    with av.open(str(path)) as container:
        assert container.duration / av.time_base == pytest.approx(4.0, abs=0.1)
    with pytest.raises(ProbeError) as caught:
        probe(path)
    assert str(caught.value) == INCOMPLETE


def test_still_image_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ProbeError) as caught:
        probe(mediafiles.make_image(tmp_path / "photo.mp4"))
    assert str(caught.value) == "This is a still image, not a video."


def test_probe_error_is_a_value_error() -> None:
    assert issubclass(ProbeError, ValueError)


def test_media_info_is_frozen() -> None:
    info = MediaInfo(1.0, "webm", "vp9", None, 16, 9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.duration = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("container", "video", "audio", "expected"),
    [
        ("webm", "vp8", "vorbis", True),
        ("webm", "vp9", "opus", True),
        ("webm", "av1", None, True),
        ("webm", "vp9", "aac", False),
        ("webm", "h264", "opus", False),
        ("matroska", "vp9", "opus", False),
        ("mp4", "av1", "opus", False),
        ("mp4", "h264", "aac", False),
    ],
)
def test_is_universally_playable(
    container: str, video: str, audio: str | None, expected: bool
) -> None:
    info = MediaInfo(10.0, container, video, audio, 640, 360)
    assert is_universally_playable(info) is expected


@pytest.mark.parametrize(("name", "seconds"), SAMPLES.items())
def test_committed_samples(name: str, seconds: float) -> None:
    path = STATIC / name
    info = probe(path)
    assert info == MediaInfo(info.duration, "webm", "vp9", "opus", 640, 360)
    assert info.duration == pytest.approx(seconds, abs=0.1)
    assert is_universally_playable(info)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        keyframes = [float(p.pts * p.time_base) for p in container.demux(stream) if p.is_keyframe]
    # Seeking lands on a keyframe: one a second keeps every seek short.
    assert keyframes[0] == 0.0
    assert max(b - a for a, b in pairwise(keyframes)) <= 1.0 + 1e-6


@pytest.mark.parametrize(
    ("fmt", "codec", "size"), [("h264", "libx264", (160, 90)), ("h263", "h263", (176, 144))]
)
def test_a_raw_codec_stream_without_a_container_is_refused(
    tmp_path: Path, fmt: str, codec: str, size: tuple[int, int]
) -> None:
    # FFmpeg opens such streams (and finds "raw H.263" in some files of random bytes): they have
    # no container a screen can play, so they never enter the rotation.
    path = tmp_path / f"raw.{fmt}"
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for index in range(25):
            frame = av.VideoFrame(*size, "yuv420p")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with av.open(str(path)) as opened:
        assert opened.streams.video  # FFmpeg itself reads it as a video...
    with pytest.raises(ProbeError, match="not a video file we can read"):
        probe(path)  # ...but it is no upload we can use
