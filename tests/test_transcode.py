"""Every upload plays on every screen: probing at upload, WebM renditions, posters.

Real servers, real files made here, real players (Chromium, and Qt WebEngine as the kiosk uses).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from server.config import load_settings
from server.probe import probe
from server.transcode.convert import ConversionError, Options, convert, scaled_size

from .live import ROOT, LiveServer, free_port
from .live import wait_for as wait_until_up
from .mediafiles import (
    make_corrupt,
    make_empty,
    make_mov,
    make_mp4_h264,
    make_text_as_mp4,
    make_ts_like_ffmpeg,
    make_video_without_audio,
    make_webm,
    make_webm_without_duration,
)
from .sse import stream

DEFAULTS = Options.from_settings(load_settings(env={}, env_file=None))

TOKEN = "transcode-test-token"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("transcode"), {"ADMIN_TOKEN": TOKEN}) as server:
        settled(server)
        yield server


def settled(live: LiveServer, timeout: float = 15) -> list[dict[str, Any]]:
    """Wait for the startup's posters of the samples, which are written in the background."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        videos = httpx.get(live.url + "/videos").json()["videos"]
        samples = [v for v in videos if v["storage"] == "static"]
        if samples and all(v["poster"] for v in samples):
            return samples
        time.sleep(0.05)
    raise AssertionError(f"the samples got no posters: {samples}")


def upload(
    live: LiveServer, path: Path, name: str | None = None, channel: str = ""
) -> httpx.Response:
    """POST /uploads, or /c/<slug>/uploads with `channel="/c/<slug>"`."""
    with path.open("rb") as handle:
        files = {"video": (name or path.name, handle, "application/octet-stream")}
        return httpx.post(live.url + channel + "/uploads", files=files, timeout=60)


def listed(live: LiveServer, video_id: str, channel: str = "") -> dict[str, Any]:
    videos = httpx.get(live.url + channel + "/videos").json()["videos"]
    return next(v for v in videos if v["id"] == video_id)


def wait_for(
    live: LiveServer, video_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done(video := listed(live, video_id)):
            return video
        time.sleep(0.1)
    raise AssertionError(f"{video_id} never got there: {video}\n{live.log()[-3000:]}")


def converted(live: LiveServer, video_id: str) -> dict[str, Any]:
    return wait_for(live, video_id, lambda v: v["status"] != "processing")


def files(live: LiveServer) -> set[Path]:
    """Every file uploads and conversions write (the queue's lock file aside)."""
    folders = [live.upload_dir, *(live.data_dir / d for d in ("incoming", "posters", "transcode"))]
    found = {p for folder in folders if folder.is_dir() for p in folder.rglob("*") if p.is_file()}
    return {p for p in found if p.name != "lock"}


def work_files(live: LiveServer) -> set[str]:
    """Held sources and partial renditions: none once the queue is idle."""
    return {p.name for p in files(live) if p.parent.name == "transcode"}


def scrambled_mp4(path: Path) -> Path:
    """A well-formed MP4 whose pictures are noise: probing passes, decoding cannot."""
    data = bytearray(make_mp4_h264(path, 2.0).read_bytes())
    start, end = data.index(b"mdat") + 4, data.index(b"moov") - 4
    data[start:end] = random.Random(7).randbytes(end - start)
    path.write_bytes(bytes(data))
    return path


def textured_mp4(path: Path, seconds: float, width: int = 640, height: int = 360) -> Path:
    """Moving picture with grain: costly enough to encode that a conversion can be caught."""
    graph = f"testsrc2=size={width}x{height}:rate=30:duration={seconds},noise=alls=12:allf=t"
    with av.open(graph, format="lavfi") as source, av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in source.decode(video=0):
            out.mux(stream.encode(frame.reformat(format="yuv420p")))
        out.mux(stream.encode(None))
    return path


# -- what each kind of file gets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make", "content_type", "audio"),
    [
        ("clip.mp4", make_mp4_h264, "video/mp4", "opus"),
        ("clip.mov", make_mov, "video/quicktime", "opus"),
        ("silent.mp4", make_video_without_audio, "video/mp4", None),
    ],
    ids=["mp4-h264-aac", "mov", "no-audio"],
)
def test_a_video_needing_conversion_joins_the_rotation_with_its_webm(
    live: LiveServer,
    tmp_path: Path,
    name: str,
    make: Callable[[Path], Path],
    content_type: str,
    audio: str | None,
) -> None:
    clip = make(tmp_path / name)
    response = upload(live, clip)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert "converted" in answer["message"] and "when ready" in answer["message"]
    video = answer["video"]
    video_id = video["id"]
    # Out of the rotation until screens that play no H.264 (the kiosk) can play it too.
    assert (video["status"], video["index"], video["progress"]) == ("processing", None, 0.0)
    assert video["url"] == f"/media/v/{video_id}"

    ready = converted(live, video_id)
    assert ready["status"] == "ready", ready
    assert ready["index"] is not None
    assert ready["progress"] is None and ready["error"] is None
    webm = f"/media/v/{video_id}/webm"
    assert ready["url"] == webm
    assert ready["sources"] == [
        {"url": webm, "type": "video/webm"},
        {"url": f"/media/v/{video_id}", "type": content_type},
    ]
    assert ready["duration"] == pytest.approx(2.0, abs=0.1)

    served = httpx.get(live.url + webm)
    assert served.status_code == 200 and served.headers["content-type"] == "video/webm"
    rendition = tmp_path / "rendition.webm"
    rendition.write_bytes(served.content)
    info = probe(rendition)
    assert (info.container, info.video_codec, info.audio_codec) == ("webm", "vp9", audio)
    assert (info.width, info.height) == (160, 90)
    assert info.duration == pytest.approx(ready["duration"], abs=0.01)
    # The original stays available as it was uploaded.
    assert httpx.get(live.url + f"/media/v/{video_id}").content == clip.read_bytes()
    poster = httpx.get(live.url + ready["poster"])
    assert poster.headers["content-type"] == "image/jpeg" and poster.content[:2] == b"\xff\xd8"
    assert work_files(live) == set()


def test_a_webm_without_duration_is_accepted_as_it_is(live: LiveServer, tmp_path: Path) -> None:
    clip = make_webm_without_duration(tmp_path / "recorded.webm", 3.0)
    response = upload(live, clip)
    assert response.status_code == 201
    video = response.json()["video"]
    assert response.json()["message"].endswith("it joins the rotation.")
    assert video["status"] == "ready" and video["index"] is not None
    assert video["duration"] == pytest.approx(3.0, abs=0.15)
    assert video["sources"] == [{"url": f"/media/v/{video['id']}", "type": "video/webm"}]
    assert httpx.get(live.url + video["url"]).content == clip.read_bytes()
    assert httpx.get(live.url + video["poster"]).status_code == 200
    assert work_files(live) == set()
    assert httpx.get(live.url + f"/media/v/{video['id']}/webm").status_code == 404


@pytest.mark.parametrize(
    ("make", "status", "words"),
    [
        (make_corrupt, 415, "damaged or not a video"),
        (make_text_as_mp4, 415, "not a video"),
        (make_empty, 400, "empty"),
    ],
    ids=["corrupt", "text-as-mp4", "empty"],
)
def test_an_unusable_file_gets_a_clear_4xx_and_leaves_nothing(
    live: LiveServer, tmp_path: Path, make: Callable[[Path], Path], status: int, words: str
) -> None:
    before, count = files(live), len(httpx.get(live.url + "/videos").json()["videos"])
    response = upload(live, make(tmp_path / "holiday.mp4"))
    assert response.status_code == status
    assert words in response.json()["error"].lower()
    assert files(live) == before
    assert len(httpx.get(live.url + "/videos").json()["videos"]) == count


def test_a_failed_conversion_says_why_and_leaves_no_rendition(
    live: LiveServer, tmp_path: Path
) -> None:
    response = upload(live, scrambled_mp4(tmp_path / "scrambled.mp4"))
    assert response.status_code == 201  # its container is sound: only decoding can tell
    video_id = response.json()["video"]["id"]
    failed = converted(live, video_id)
    assert failed["status"] == "failed" and failed["index"] is None
    assert "no picture could be decoded" in failed["error"].lower()
    assert failed["progress"] is None and failed["poster"] is None
    assert httpx.get(live.url + f"/media/v/{video_id}/webm").status_code == 404
    assert [p.name for p in files(live) if p.name.startswith(video_id)] == [f"{video_id}.mp4"]
    assert work_files(live) == set()


def test_deleting_a_converted_video_removes_its_rendition_and_poster(
    live: LiveServer, tmp_path: Path
) -> None:
    before = files(live)
    video_id = upload(live, make_mp4_h264(tmp_path / "gone.mp4")).json()["video"]["id"]
    converted(live, video_id)
    assert len(files(live) - before) == 3  # original, rendition, poster
    deleted = httpx.delete(
        live.url + f"/videos/{video_id}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert deleted.status_code == 200
    assert files(live) == before


def test_renditions_of_bucket_videos_go_to_the_bucket(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    s3server = pytest.importorskip("tests.s3server", reason="no S3 test server (tests/s3server.py)")
    weed = s3server.SeaweedFS(tmp_path / "weed").start()
    try:
        bucket = weed.client()
        bucket.create_bucket(Bucket="renditions")
        # Dropped into the bucket by hand, not uploaded through us: converted all the same.
        dropped = make_mp4_h264(tmp_path / "dropped.mp4")
        bucket.upload_file(str(dropped), "renditions", "v/dropped.mp4")
        live = start_server(weed.env("renditions", "v/"))
        response = upload(live, make_mov(tmp_path / "phone.mov"))
        assert response.json()["storage"] == "s3"
        uploaded = converted(live, response.json()["video"]["id"])
        assert uploaded["status"] == "ready" and uploaded["url"].endswith("/webm")
        found = wait_for_s3_rendition(live, "Dropped")
        assert found["status"] == "ready" and found["poster"] is not None

        keys = {o["Key"] for o in bucket.list_objects_v2(Bucket="renditions")["Contents"]}
        assert keys == {
            "v/dropped.mp4",
            f"v/{found['id']}.rendition",
            f"v/{uploaded['id']}.mov",
            f"v/{uploaded['id']}.rendition",
        }
        served = httpx.get(live.url + uploaded["url"])
        assert served.status_code == 302  # straight from the bucket, like the original
        played = httpx.get(served.headers["location"])
        assert played.headers["content-type"] == "video/webm"
        assert probe_bytes(tmp_path / "r.webm", played.content).video_codec == "vp9"
        # Nothing stays on the server's disk but posters.
        assert {p.parent.name for p in files(live)} == {"posters"}
        # The renditions never show up as videos of their own.
        videos = httpx.get(live.url + "/videos").json()["videos"]
        assert sorted(v["title"] for v in videos if v["storage"] == "s3") == ["Dropped", "Phone"]
    finally:
        weed.kill()


def wait_for_s3_rendition(live: LiveServer, title: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for video in httpx.get(live.url + "/videos").json()["videos"]:
            if video["title"] == title and video["url"].endswith("/webm"):
                return video
        time.sleep(0.1)
    raise AssertionError(f"{title} got no rendition\n{live.log()[-3000:]}")


def probe_bytes(path: Path, data: bytes) -> Any:
    path.write_bytes(data)
    return probe(path)


# -- posters --------------------------------------------------------------------------------------


def test_shipped_samples_get_posters_and_the_stream_carries_them(live: LiveServer) -> None:
    samples = settled(live)
    assert all(v["poster"] == f"/media/v/{v['id']}/poster.jpg" for v in samples)
    for sample in samples:
        poster = httpx.get(live.url + sample["poster"])
        assert poster.headers["content-type"] == "image/jpeg"
        with av.open(io.BytesIO(poster.content)) as picture:
            frame = next(picture.decode(video=0))
        assert (frame.width, frame.height) == (640, 360)  # the samples' own size
    with stream(live.url) as events:
        state = events.next().data
    assert state["poster"] == f"/media/v/{state['id']}/poster.jpg"
    assert state["next"]["poster"] == f"/media/v/{state['next']['id']}/poster.jpg"


# -- players --------------------------------------------------------------------------------------

PLAY = """async (url) => {
  const video = document.createElement("video");
  video.muted = true;
  video.src = url;
  document.body.append(video);
  try { await video.play(); } catch (error) { return { error: String(error) }; }
  await new Promise((resolve) => setTimeout(resolve, 700));
  return { time: video.currentTime, width: video.videoWidth, height: video.videoHeight };
}"""


def test_a_converted_video_plays_in_chromium(
    live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    video_id = upload(live, make_mov(tmp_path / "phone.mov")).json()["video"]["id"]
    ready = converted(live, video_id)
    page = browser.new_page()
    try:
        page.goto(live.url + "/upload")
        result = page.evaluate(PLAY, ready["url"])
    finally:
        page.close()
    assert result.get("error") is None, result
    assert result["time"] > 0.3 and (result["width"], result["height"]) == (160, 90)


# Every value the upload page's progress bar takes.
BAR_WATCH = """() => {
  const bar = document.querySelector('#progress');
  window.barValues = [];
  new MutationObserver(() => window.barValues.push(Number(bar.getAttribute('aria-valuenow'))))
    .observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
}"""


def test_the_upload_page_follows_the_conversion(
    live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    clip = make_mp4_h264(tmp_path / "from-the-page.mp4")
    page = browser.new_page(bypass_csp=True)  # wait_for_function evaluates with eval
    try:
        page.goto(live.url + "/upload")
        page.evaluate(BAR_WATCH)
        page.set_input_files("#file", str(clip))
        page.fill("#title", "From the page")
        page.click("#send")
        page.wait_for_function(
            "document.querySelector('#result').textContent"
            ".includes('From the page” is converted and joins the rotation')",
            timeout=30_000,
        )
        # Upload then conversion on one bar: it only ever moves forward, and ends full.
        bar = page.evaluate("window.barValues")
        assert bar == sorted(bar) and bar[-1] == 100, bar
        assert page.inner_text("#progress-text") == "Done"
        row = page.locator("#videos tr", has_text="From the page")
        row.locator("img").wait_for()
        poster = row.locator("img")
        assert poster.evaluate("image => image.decode().then(() => image.naturalWidth)") == 160
        assert row.locator("td.state").inner_text() == "In the rotation\nstored on this server"
    finally:
        page.close()


QT_PLAYER = """
import json, sys
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWebEngineCore import QWebEngineSettings
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QApplication

base, urls = sys.argv[1], sys.argv[2:]
app = QApplication([])
view = QWebEngineView()
settings = view.settings()
settings.setAttribute(QWebEngineSettings.WebAttribute.PlaybackRequiresUserGesture, False)
tags = "".join(f'<video muted autoplay src="{url}"></video>' for url in urls)
view.setHtml(f"<!doctype html><body>{tags}</body>", QUrl(base + "/"))
STATE = (
    "JSON.stringify([...document.querySelectorAll('video')].map(v => "
    "({time: v.currentTime, width: v.videoWidth, error: v.error && v.error.code})))"
)
polls = 0

def check(result):
    global polls
    polls += 1
    states = json.loads(result) if result else []
    if (states and all(s["error"] or s["time"] > 0.5 for s in states)) or polls > 150:
        print(json.dumps(dict(zip(urls, states))))
        app.quit()

timer = QTimer()
timer.timeout.connect(lambda: view.page().runJavaScript(STATE, 0, check))
timer.start(100)
app.exec()
"""


def test_the_kiosk_engine_plays_the_rendition_but_not_the_original(
    live: LiveServer, tmp_path: Path
) -> None:
    if importlib.util.find_spec("PySide6") is None:
        pytest.skip(
            "PySide6 is not installed (the kiosk's engine: pip install 'pywebview[pyside6]')"
        )
    video_id = upload(live, make_mp4_h264(tmp_path / "wall.mp4")).json()["video"]["id"]
    ready = converted(live, video_id)
    original = f"/media/v/{video_id}"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
        "QT_API": "pyside6",
    }
    result = subprocess.run(
        [sys.executable, "-c", QT_PLAYER, live.url, ready["url"], original],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    states = json.loads(result.stdout.strip().splitlines()[-1])
    played = states[ready["url"]]
    assert played["error"] is None and played["time"] > 0.5 and played["width"] == 160, states
    # Why conversions exist: Qt WebEngine from PyPI has no H.264 (4 = not supported).
    assert states[original]["error"] == 4, states


# -- the queue ------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_progress_shows_and_a_restart_resumes_the_conversion(
    start_server: Callable[..., LiveServer], tmp_path: Path, how: str
) -> None:
    clip = textured_mp4(tmp_path / "long.mp4", 4.0)
    workdir = tmp_path / "server"
    # "good" encodes this far below real time: slow enough to be caught converting.
    slow = start_server({"TRANSCODE_SPEED": "good"}, workdir)
    video_id = upload(slow, clip).json()["video"]["id"]
    midway = wait_for(slow, video_id, lambda v: 0 < (v["progress"] or 0))
    assert midway["status"] == "processing" and midway["index"] is None
    assert 0 < midway["progress"] < 1
    assert slow.process is not None
    helpers = children(slow.process.pid)
    assert helpers, "the conversion runs in a child process"
    if how == "stop":
        slow.stop()
    else:
        slow.kill()
    deadline = time.monotonic() + 15  # one frame's encoding, however busy the machine
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in helpers), "a converter outlived its server"

    fast = start_server({}, workdir)
    ready = converted(fast, video_id)
    assert ready["status"] == "ready" and ready["index"] is not None
    assert ready["duration"] == pytest.approx(4.0, abs=0.1)
    rendition = tmp_path / "rendition.webm"
    rendition.write_bytes(httpx.get(fast.url + ready["url"]).content)
    info = probe(rendition)
    assert (info.video_codec, info.width, info.height) == ("vp9", 640, 360)
    assert work_files(fast) == set()


def test_conversions_run_under_hypercorn_workers(tmp_path: Path) -> None:
    """Hypercorn's workers are daemonic processes: multiprocessing children are refused there."""
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "UPLOAD_DIR": str(tmp_path / "up")}
    command = [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    server = subprocess.Popen(
        [*command, "server:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/healthz", process=server)
        ids = []
        for index in range(3):  # the workers take turns: uploads land on both
            clip = make_mp4_h264(tmp_path / f"clip{index}.mp4")
            with clip.open("rb") as handle:
                # Probing and a poster take seconds on a busy machine: more than httpx's 5 s.
                video = {"video": (clip.name, handle)}
                answer = httpx.post(url + "/uploads", files=video, timeout=60)
            ids.append(answer.json()["video"]["id"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            videos = {v["id"]: v for v in httpx.get(url + "/videos").json()["videos"]}
            if all(videos.get(i, {}).get("status") == "ready" for i in ids):
                break
            time.sleep(0.2)
        assert [videos[i]["url"] for i in ids] == [f"/media/v/{i}/webm" for i in ids]
    finally:
        server.terminate()
        server.wait(20)


def test_transcode_workers_is_one_limit_for_every_channel(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """TRANSCODE_WORKERS=1 with two channels: one conversion at a time in all, not one per
    channel. Watched from outside, as the upload page does: a video converts while it is
    processing with some progress."""
    admin = {"Authorization": f"Bearer {TOKEN}"}
    env = {"ADMIN_TOKEN": TOKEN, "TRANSCODE_WORKERS": "1", "TRANSCODE_SPEED": "good"}
    live = start_server(env)
    made = httpx.post(live.url + "/channels", json={"slug": "second", "title": "2"}, headers=admin)
    assert made.status_code == 201
    clip = textured_mp4(tmp_path / "long.mp4", 4.0)
    first_id = upload(live, clip).json()["video"]["id"]
    second_id = upload(live, clip, channel="/c/second").json()["video"]["id"]

    def converting(video_id: str, channel: str = "") -> bool:
        video = listed(live, video_id, channel)
        return video["status"] == "processing" and (video["progress"] or 0) > 0

    seen = {first_id: False, second_id: False}
    together = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        # A conversion is one stretch of time: converting before and after the other's
        # reading means converting while it was read.
        before = converting(first_id)
        other = converting(second_id, "/c/second")
        after = converting(first_id)
        together = together or (before and other and after)
        seen[first_id] = seen[first_id] or before or after
        seen[second_id] = seen[second_id] or other
        statuses = {
            listed(live, first_id)["status"],
            listed(live, second_id, "/c/second")["status"],
        }
        if statuses == {"ready"}:
            break
        time.sleep(0.05)
    assert statuses == {"ready"}, live.log()[-3000:]
    assert seen == {first_id: True, second_id: True}, "each conversion was seen running"
    assert not together, "two conversions ran at once with TRANSCODE_WORKERS=1"


def test_a_full_queue_refuses_conversions_with_a_503(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    live = start_server({"TRANSCODE_QUEUE": "0"})
    settled(live)
    before = files(live)
    refused = upload(live, make_mp4_h264(tmp_path / "clip.mp4"))
    assert refused.status_code == 503
    assert "waiting to be converted" in refused.json()["error"]
    assert files(live) == before
    # Nothing to convert, nothing to wait for.
    assert upload(live, make_webm(tmp_path / "clip.webm")).status_code == 201


# -- the conversion itself ------------------------------------------------------------------------


def test_renditions_keep_the_shape_within_the_cap() -> None:
    assert scaled_size(1920, 1080, 720) == (1280, 720)
    assert scaled_size(1080, 1920, 720) == (720, 1280)  # portrait: "720p" is the short side
    assert scaled_size(160, 90, 720) == (160, 90)  # never upscaled
    assert scaled_size(333, 201, 100) == (166, 100)  # even sides, as yuv420p needs


def _two_tone(width: int, height: int) -> av.VideoFrame:
    """Red top half, blue bottom half: orientation survives encoding."""
    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    rows = [
        (b"\xdc\x00\x00" if y < height // 2 else b"\x00\x00\xdc") * width for y in range(height)
    ]
    plane.update(b"".join(row.ljust(plane.line_size, b"\0") for row in rows))
    return frame.reformat(format="yuv420p")


def test_a_sideways_phone_video_is_turned_upright(tmp_path: Path) -> None:
    source = tmp_path / "portrait.mp4"
    with av.open(str(source), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
        stream.set_display_rotation(-90)  # what a phone held upright writes: turn clockwise
        for index in range(15):
            frame = _two_tone(160, 90)
            frame.pts, frame.time_base = index, Fraction(1, 30)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    target = tmp_path / "upright.webm"
    convert(source, target, DEFAULTS)
    with av.open(str(target)) as result:
        picture = next(result.decode(video=0)).to_rgb()
    assert (picture.width, picture.height) == (90, 160)
    pixels, stride = bytes(picture.planes[0]), picture.planes[0].line_size

    def red(x: int, y: int) -> bool:
        r, _, b = pixels[y * stride + x * 3 : y * stride + x * 3 + 3]
        return r > 150 and b < 80

    assert red(80, 80) and not red(10, 80)  # the top turned clockwise: red on the right


def test_a_failed_conversion_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.webm"
    with pytest.raises(ConversionError, match="No picture"):
        convert(scrambled_mp4(tmp_path / "scrambled.mp4"), target, DEFAULTS)
    assert list(tmp_path.iterdir()) == [tmp_path / "scrambled.mp4"]


@pytest.mark.parametrize("with_audio", [True, False])
def test_mpeg_ts_converts_from_zero_with_its_own_length(tmp_path: Path, with_audio: bool) -> None:
    """Its clock starts at 1.4 s: a rendition that kept it ran 4.4 s for a 3 s clip, and the
    video-only one was refused as incomplete."""
    source = make_ts_like_ffmpeg(tmp_path / "clip.ts", 3.0, with_audio)
    target = tmp_path / "clip.webm"
    duration = convert(source, target, DEFAULTS)
    assert duration == pytest.approx(3.0, abs=0.1)
    with av.open(str(target)) as rendition:
        starts = [float(s.start_time * s.time_base) for s in rendition.streams if s.start_time]
    assert all(start < 0.1 for start in starts), starts
