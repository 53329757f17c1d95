"""Captions as people see them: a captioned upload shows each cue when the picture reaches it,
on `/` (CC on) and `/ambient` (on by itself); subtitles inside an MKV are kept; captions can
be added to a video later by an admin."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..live import LiveServer
from ..mediafiles import make_webm, with_subtitles
from .pagecheck import TV, wait_until

ADMIN = "captions-admin-token"
CLIP_SECONDS = 8.0
SRT = """1
00:00:01,000 --> 00:00:03,000
First caption

2
00:00:04,500 --> 00:00:06,500
Second caption
"""
CUES = [(1.0, 3.0, "First caption"), (4.5, 6.5, "Second caption")]
# Cues change on the browser's "time marches on" steps; the page's schedule error adds a little.
EDGE = 0.3

# Where the schedule is on this page (server time − start) and the cue its front video shows.
SAMPLE = """() => {
  const status = simulcastStatus();
  const track = document.querySelector('video.front').textTracks[0];
  const cues = track && track.activeCues ? [...track.activeCues].map((c) => c.text) : [];
  return { at: status.expected, mode: track ? track.mode : null, cue: cues.join(' / ') || null };
}"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"SAMPLES": "off", "ADMIN_TOKEN": ADMIN}
    with LiveServer(tmp_path_factory.mktemp("captions"), env) as server:
        yield server


def listed(live: LiveServer, title: str) -> dict[str, Any]:
    videos = httpx.get(live.url + "/videos").json()["videos"]
    return next(v for v in videos if v["title"] == title)


def test_a_captioned_upload_shows_its_cues_on_time_on_two_pages(
    live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    clip = make_webm(tmp_path / "talk.webm", seconds=CLIP_SECONDS)
    subtitles = tmp_path / "talk.srt"
    subtitles.write_text(SRT)
    context = browser.new_context(**TV)
    try:
        uploader = context.new_page()
        uploader.goto(live.url + "/upload")
        uploader.set_input_files("#file", str(clip))
        uploader.fill("#title", "Captioned talk")
        uploader.set_input_files("#captions", str(subtitles))
        uploader.click("#send")
        uploader.wait_for_selector("#result.ok", timeout=20000)
        served = httpx.get(live.url + listed(live, "Captioned talk")["captions"])
        assert served.headers["content-type"].startswith("text/vtt")
        assert served.text.startswith("WEBVTT") and "00:00:04.500 --> 00:00:06.500" in served.text

        viewer, tv = context.new_page(), context.new_page()
        viewer.goto(live.url + "/")
        tv.goto(live.url + "/ambient")
        for page in (viewer, tv):
            wait_until(page, "window.simulcastStatus && simulcastStatus().playing", timeout=20)
        wait_until(viewer, "!document.querySelector('#cc').hidden")
        assert viewer.get_attribute("#cc", "aria-pressed") == "false"  # off by default on `/`
        viewer.keyboard.press("c")
        assert viewer.get_attribute("#cc", "aria-pressed") == "true"

        samples: dict[str, list[dict[str, Any]]] = {"/": [], "/ambient": []}
        deadline = time.monotonic() + CLIP_SECONDS + 1
        while time.monotonic() < deadline:
            for path, page in (("/", viewer), ("/ambient", tv)):
                samples[path].append(page.evaluate(SAMPLE))
            time.sleep(0.05)
    finally:
        context.close()

    for path, taken in samples.items():
        assert {s["mode"] for s in taken} == {"showing"}, path
        wrong = []
        for sample in taken:
            at = sample["at"] % CLIP_SECONDS  # one video on a loop
            due = next((text for start, end, text in CUES if start + EDGE < at < end - EDGE), None)
            near = any(start - EDGE <= at <= end + EDGE for start, end, _ in CUES)
            if (due is not None and sample["cue"] != due) or (not near and sample["cue"]):
                wrong.append((round(at, 2), sample["cue"]))
        assert wrong == [], path
        for *_, text in CUES:  # each cue was seen, not merely never contradicted
            assert any(s["cue"] == text for s in taken), (path, text)


def test_subtitles_inside_an_mkv_are_kept(live: LiveServer, tmp_path: Path) -> None:
    clip = make_webm(tmp_path / "film.webm", seconds=7.0)
    film = with_subtitles(clip, SRT, tmp_path / "film.mkv")
    with film.open("rb") as body:
        answer = httpx.post(
            live.url + "/uploads",
            files={"video": ("film.mkv", body, "video/x-matroska")},
            data={"title": "Subtitled film"},
            timeout=30,
        )
    assert answer.status_code == 201, answer.text
    vtt = httpx.get(live.url + answer.json()["video"]["captions"]).text
    assert "00:00:01.000 --> 00:00:03.000\nFirst caption" in vtt


def test_captions_added_later_by_an_admin(live: LiveServer, tmp_path: Path) -> None:
    clip = make_webm(tmp_path / "quiet.webm", seconds=2.0)
    with clip.open("rb") as body:
        video = httpx.post(
            live.url + "/uploads", files={"video": ("quiet.webm", body, "video/webm")}, timeout=30
        ).json()["video"]
    assert video.get("captions") is None
    url = f"{live.url}/videos/{video['id']}/captions"
    files = {"captions": ("quiet.vtt", b"WEBVTT\n\n00:00.500 --> 00:01.500\nShh\n", "text/vtt")}
    assert httpx.post(url, files=files).status_code == 401  # not for anyone
    bad = {"captions": ("notes.txt", b"no cues in here", "text/plain")}
    refused = httpx.post(url, files=bad, headers={"Authorization": f"Bearer {ADMIN}"})
    assert refused.status_code == 400 and "WebVTT" in refused.json()["error"]
    added = httpx.post(url, files=files, headers={"Authorization": f"Bearer {ADMIN}"})
    assert added.status_code == 200, added.text
    captions = listed(live, "Quiet")["captions"]
    assert "Shh" in httpx.get(live.url + captions).text
    removed = httpx.delete(url, headers={"Authorization": f"Bearer {ADMIN}"})
    assert removed.status_code == 200
    assert listed(live, "Quiet")["captions"] is None
    assert httpx.get(live.url + captions).status_code == 404
