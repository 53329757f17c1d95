"""Captions files in, WebVTT out: SubRip converted, WebVTT kept, subtitle streams extracted."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.captions import MAX_CAPTIONS, CaptionsError, extract, to_webvtt

from .mediafiles import make_webm, with_subtitles

SRT = """1
00:00:01,000 --> 00:00:02,500
Hello <font color="red">there</font>

2
00:00:03,500 --> 00:00:05,000
Second line
and more
"""


def test_subrip_becomes_webvtt() -> None:
    vtt = to_webvtt(SRT.replace("\n", "\r\n").encode())
    assert vtt.startswith("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.500\nHello there\n")
    assert "00:00:03.500 --> 00:00:05.000\nSecond line\nand more\n" in vtt


def test_webvtt_is_kept_as_it_is() -> None:
    source = "\ufeffWEBVTT\n\nintro\n00:01.000 --> 00:02.000 line:90%\n<v Ann>Hi</v>\n"
    assert to_webvtt(source.encode()) == source.removeprefix("\ufeff")


@pytest.mark.parametrize(
    "data", [b"", b"just some words\n", b"WEBVTT\n\nno cues here\n", b"\x00\xff" * 10]
)
def test_files_without_cues_are_refused(data: bytes) -> None:
    with pytest.raises(CaptionsError, match="WebVTT"):
        to_webvtt(data)


def test_huge_files_are_refused() -> None:
    with pytest.raises(CaptionsError, match="larger"):
        to_webvtt(SRT.encode() * (MAX_CAPTIONS // len(SRT) + 1))


def test_a_subtitle_stream_is_extracted(tmp_path: Path) -> None:
    clip = make_webm(tmp_path / "clip.webm", seconds=6.0)
    muxed = with_subtitles(clip, SRT.replace("<font", "{\\i1}<font"), tmp_path / "clip.mkv")
    assert extract(muxed) == (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello there\n\n"
        "00:00:03.500 --> 00:00:05.000\nSecond line\nand more\n"
    )
    assert extract(clip) is None  # no subtitle stream
