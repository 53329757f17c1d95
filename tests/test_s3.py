"""S3 storage against a real S3-compatible server (SeaweedFS) and real Simulcast processes."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from .live import LiveServer
from .mediafiles import GREEN, make_corrupt, make_mp4_h264, make_noise, make_webm
from .s3server import SeaweedFS

BUCKET = "simulcast-test"
StartServer = Callable[..., LiveServer]


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    store = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    store.client().create_bucket(Bucket=BUCKET)
    yield store
    store.kill()


@pytest.fixture
def prefix() -> str:
    """Each test lists its own corner of the shared bucket."""
    return f"t-{uuid.uuid4().hex[:8]}/"


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_webm(tmp_path_factory.mktemp("media") / "harbour-at-dusk.webm", 6.0)


def upload(server: LiveServer, path: Path, title: str = "") -> httpx.Response:
    with path.open("rb") as file:
        return httpx.post(
            server.url + "/uploads",
            files={"video": (path.name, file, "video/webm")},
            data={"title": title} if title else {},
            timeout=120,
        )


def catalog(server: LiveServer) -> dict[str, Any]:
    return httpx.get(server.url + "/videos").json()


def wait_for_videos(
    server: LiveServer, count: int, timeout: float = 15.0, **match: Any
) -> list[dict[str, Any]]:
    """Poll /videos until `count` videos match (storage="s3", status="ready"...)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            v for v in catalog(server)["videos"] if all(v.get(k) == w for k, w in match.items())
        ]
        if len(found) == count or time.monotonic() > deadline:
            assert len(found) == count, (found, server.log()[-3000:])
            return found
        time.sleep(0.1)


def health(server: LiveServer, timeout: float = 10.0) -> dict[str, Any]:
    """/healthz once S3 has answered: the bucket is checked in the background."""
    deadline = time.monotonic() + timeout
    while True:
        report: dict[str, Any] = httpx.get(server.url + "/healthz").json()
        if report["storages"]["s3"].get("error") != "S3 has not answered yet":
            return report
        assert time.monotonic() < deadline, report
        time.sleep(0.1)


def presigned(server: LiveServer, video_id: str) -> str:
    return presigned_at(server, f"/media/v/{video_id}")


def presigned_at(server: LiveServer, path: str) -> str:
    response = httpx.get(server.url + path)
    assert response.status_code == 302, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.headers["location"]


def peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def make_big_mp4(path: Path, size: int) -> Path:
    """A valid MP4 of about `size` bytes: a short clip plus a `free` box, which players skip.
    The box is a sparse hole, so making it costs no time and no disk."""
    make_mp4_h264(path, 2.0, faststart=True)
    with path.open("r+b") as file:
        end = file.seek(0, 2)
        file.write((size + 8).to_bytes(4, "big") + b"free")
        file.truncate(end + 8 + size)
    return path


# -- uploads --------------------------------------------------------------------------------------


def test_upload_goes_to_the_bucket_and_plays_from_it(
    seaweed: SeaweedFS, start_server: StartServer, prefix: str, clip: Path
) -> None:
    server = start_server(seaweed.env(BUCKET, prefix))
    response = upload(server, clip, title="Harbour at dusk, été")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["storage"] == "s3"
    assert body["message"] == "Saved to the S3 bucket; it joins the rotation."
    video = body["video"]
    assert video["duration"] == pytest.approx(6.0, abs=0.1)

    head = seaweed.client().head_object(Bucket=BUCKET, Key=prefix + f"{video['id']}.webm")
    assert head["ContentType"] == "video/webm"
    assert head["ContentLength"] == clip.stat().st_size
    assert head["Metadata"]["id"] == video["id"]
    assert float(head["Metadata"]["duration"]) == pytest.approx(video["duration"])
    # Nothing left behind on the server's disk: the work file went to the bucket.
    assert not any(server.upload_dir.iterdir())
    assert not any((server.data_dir / "incoming").iterdir())

    [listed] = [v for v in catalog(server)["videos"] if v["id"] == video["id"]]
    assert (listed["storage"], listed["title"], listed["index"]) == (
        "s3",
        "Harbour at dusk, été",
        video["index"],
    )
    url = presigned(server, video["id"])
    assert url.startswith(seaweed.endpoint + f"/{BUCKET}/{prefix}")
    assert "X-Amz-Signature=" in url
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert whole.content == clip.read_bytes()
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{clip.stat().st_size}"
    assert part.content == clip.read_bytes()[100:200]

    # The title survives a restart: a second server reads it back from the object's metadata.
    other = start_server(seaweed.env(BUCKET, prefix))
    [again] = wait_for_videos(other, 1, storage="s3")
    assert again["title"] == "Harbour at dusk, été"
    assert again["duration"] == pytest.approx(video["duration"], abs=0.01)


def test_large_upload_is_multipart_and_memory_stays_bounded(
    seaweed: SeaweedFS, start_server: StartServer, prefix: str, tmp_path: Path
) -> None:
    size = 80 * 1024 * 1024
    big = make_big_mp4(tmp_path / "big.mp4", size)
    server = start_server(seaweed.env(BUCKET, prefix))
    assert server.process is not None
    upload(server, make_webm(tmp_path / "warm-up.webm", 1.0))  # load boto3, PyAV, threads
    before = peak_rss(server.process.pid)

    response = upload(server, big, title="Big one")
    assert response.status_code == 201, response.text
    assert response.json()["storage"] == "s3"
    grew = peak_rss(server.process.pid) - before

    key = prefix + response.json()["video"]["id"] + ".mp4"
    head = seaweed.client().head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].strip('"').endswith(f"-{-(-big.stat().st_size // (8 * 1024**2))}")
    # Receiving streams to a work file and boto3 sends it part by part: the peak grows by a
    # few parts at most, far from the file's size.
    assert grew < 48 * 1024 * 1024, f"peak RSS grew by {grew / 2**20:.0f} MiB"
    assert not any((server.data_dir / "incoming").iterdir())


def test_a_converted_upload_keeps_its_rendition_beside_it_in_the_bucket(
    seaweed: SeaweedFS, start_server: StartServer, prefix: str, tmp_path: Path
) -> None:
    env = seaweed.env(BUCKET, prefix, S3_RESYNC_INTERVAL="0.5", S3_URL_EXPIRY="60")
    server = start_server({**env, "ADMIN_TOKEN": "t"})
    original = make_mp4_h264(tmp_path / "phone.mp4", 2.0)  # H.264: the kiosk needs a WebM
    answer = upload(server, original).json()
    assert answer["storage"] == "s3" and answer["video"]["status"] == "processing"
    video_id = answer["video"]["id"]
    [ready] = wait_for_videos(server, 1, timeout=60, id=video_id, status="ready")
    s3 = seaweed.client()
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]
    assert {o["Key"] for o in listed} == {
        f"{prefix}{video_id}.mp4",
        f"{prefix}{video_id}.rendition",
    }

    url = presigned_at(server, f"/media/v/{video_id}/webm")
    # The rendition plays as long as its video: its URL lives as long plus S3_URL_EXPIRY.
    assert int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0]) >= 60 + 2
    webm = httpx.get(url)
    assert webm.headers["content-type"] == "video/webm"
    assert webm.content[:4] == bytes.fromhex("1A45DFA3")  # EBML: a WebM file

    time.sleep(1.2)  # two more listings: the rendition never becomes a video of its own
    assert [v["id"] for v in catalog(server)["videos"] if v["storage"] == "s3"] == [video_id]

    deleted = httpx.delete(f"{server.url}/videos/{video_id}", headers={"Authorization": "Bearer t"})
    assert deleted.status_code == 200, deleted.text
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []) == []
    assert ready["duration"] == pytest.approx(2.0, abs=0.1)


# -- listing --------------------------------------------------------------------------------------


def test_bucket_objects_join_the_rotation(
    seaweed: SeaweedFS, start_server: StartServer, prefix: str, clip: Path, tmp_path: Path
) -> None:
    s3 = seaweed.client()
    s3.upload_file(
        str(clip),
        BUCKET,
        prefix + "with-metadata.webm",
        ExtraArgs={
            "ContentType": "video/webm",
            "Metadata": {"title": "Tagged by hand", "duration": "6.008"},
        },
    )
    bare = make_webm(tmp_path / "02-no-metadata.webm", 3.0, GREEN)
    s3.upload_file(str(bare), BUCKET, prefix + "02-no-metadata.webm")
    s3.upload_file(str(make_corrupt(tmp_path / "broken.mp4")), BUCKET, prefix + "broken.mp4")
    s3.put_object(Bucket=BUCKET, Key=prefix + "notes.txt", Body=b"not a video")

    server = start_server(seaweed.env(BUCKET, prefix))
    found = {v["title"]: v for v in wait_for_videos(server, 2, storage="s3", status="ready")}
    assert set(found) == {"Tagged by hand", "No metadata"}
    assert found["Tagged by hand"]["duration"] == pytest.approx(6.008)
    assert found["No metadata"]["duration"] == pytest.approx(3.0, abs=0.1)
    assert all(v["index"] is not None for v in found.values())  # in the rotation
    assert "broken.mp4" in server.log()  # skipped, and the log says so

    # The object without metadata was probed once and got its duration written back...
    head = s3.head_object(Bucket=BUCKET, Key=prefix + "02-no-metadata.webm")
    assert float(head["Metadata"]["duration"]) == pytest.approx(3.0, abs=0.1)
    assert head["ContentType"] == "video/webm"  # a generic type is fixed on the way
    # ...so a fresh server lists it without downloading anything.
    fresh = start_server(seaweed.env(BUCKET, prefix))
    assert len(wait_for_videos(fresh, 2, storage="s3")) == 2
    assert "02-no-metadata.webm has no duration metadata" not in fresh.log()

    # Objects added later join at the next listing, and deleted ones leave.
    s3.delete_object(Bucket=BUCKET, Key=prefix + "with-metadata.webm")
    s3.upload_file(
        str(clip),
        BUCKET,
        prefix + "later.webm",
        ExtraArgs={"Metadata": {"title": "Later", "duration": "6"}},
    )
    later = start_server(seaweed.env(BUCKET, prefix, S3_RESYNC_INTERVAL="0.5"))
    wait_for_videos(later, 2, storage="s3")
    s3.upload_file(
        str(clip),
        BUCKET,
        prefix + "latest.webm",
        ExtraArgs={"Metadata": {"title": "Latest", "duration": "6"}},
    )
    titles = {v["title"] for v in wait_for_videos(later, 3, storage="s3")}
    assert titles == {"No metadata", "Later", "Latest"}


def test_each_request_gets_a_fresh_presigned_url(
    seaweed: SeaweedFS, start_server: StartServer, prefix: str, tmp_path: Path
) -> None:
    short = make_webm(tmp_path / "short.webm", 0.5)
    server = start_server(seaweed.env(BUCKET, prefix, S3_URL_EXPIRY="2"))
    video = upload(server, short).json()["video"]
    first = presigned(server, video["id"])
    # S3_URL_EXPIRY is the margin beyond the video's duration (0.5 s, rounded up).
    query = parse_qs(urlsplit(first).query)
    assert query["X-Amz-Expires"] == ["3"]
    assert httpx.get(first).status_code == 200
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    time.sleep(max(0.0, signed.timestamp() + 3 + 1.2 - time.time()))
    expired = httpx.get(first)
    assert expired.status_code == 403  # SeaweedFS enforces the expiry, as AWS does
    assert "expired" in expired.text
    # The page keeps using /media/v/<id>: the server signs again, so playback goes on.
    second = presigned(server, video["id"])
    assert second != first
    renewed = httpx.get(second, headers={"Range": "bytes=0-99"})
    assert renewed.status_code == 206
    assert renewed.content == short.read_bytes()[:100]


def test_public_base_url_skips_signing(
    seaweed: SeaweedFS, start_server: StartServer, prefix: str, clip: Path
) -> None:
    cdn = "https://cdn.example.test/media"
    server = start_server(seaweed.env(BUCKET, prefix, S3_PUBLIC_BASE_URL=cdn + "/"))
    video = upload(server, clip).json()["video"]
    assert presigned(server, video["id"]) == f"{cdn}/{prefix}{video['id']}.webm"


# -- when S3 is not usable ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"AWS_SECRET_ACCESS_KEY": "wrong"}, "S3 rejected the secret key"),
        ({"AWS_ACCESS_KEY_ID": "nobody"}, "S3 does not know this access key"),
        ({"S3_BUCKET_NAME": "no-such-bucket"}, "bucket 'no-such-bucket' does not exist"),
    ],
    ids=["wrong-secret", "unknown-key", "missing-bucket"],
)
def test_unusable_s3_falls_back_to_local_storage(
    seaweed: SeaweedFS,
    start_server: StartServer,
    prefix: str,
    clip: Path,
    settings: dict[str, str],
    reason: str,
) -> None:
    server = start_server({**seaweed.env(BUCKET, prefix), **settings})
    report = health(server)
    assert report["status"] == "degraded"
    assert reason in report["storages"]["s3"]["error"]
    assert report["videos"] >= 1  # the shipped samples keep the channel playing
    listing = catalog(server)
    assert any(reason in warning for warning in listing["storage_warnings"])

    response = upload(server, clip)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["storage"] == "local"
    assert body["message"].startswith(f"Could not store it in the S3 bucket ({reason}")
    assert body["message"].endswith("Saved to local storage; it joins the rotation.")
    assert (server.upload_dir / f"{body['video']['id']}.webm").read_bytes() == clip.read_bytes()
    assert f"to s3 failed: {reason}" in server.log()
    local = httpx.get(f"{server.url}/media/v/{body['video']['id']}")
    assert local.status_code == 200
    assert local.content == clip.read_bytes()


def test_s3_down_at_startup_joins_when_it_comes_back(
    start_server: StartServer, tmp_path: Path, clip: Path
) -> None:
    later = SeaweedFS(tmp_path / "later")  # ports chosen, nothing listening yet
    server = start_server(later.env(BUCKET, S3_RESYNC_INTERVAL="0.5"))
    try:
        report = health(server)
        assert report["status"] == "degraded"
        assert "cannot reach S3" in report["storages"]["s3"]["error"]
        assert catalog(server)["storage_warnings"]
        assert report["videos"] >= 1  # local videos play meanwhile

        later.start()
        s3 = later.client()
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(
            str(clip),
            BUCKET,
            "videos/arrived.webm",
            ExtraArgs={"Metadata": {"title": "Arrived", "duration": "6.008"}},
        )
        [video] = wait_for_videos(server, 1, storage="s3", status="ready")
        assert video["index"] is not None
        assert health(server)["status"] == "ok"
        assert catalog(server)["storage_warnings"] == []

        # Down again: its video leaves the rotation (screens would only show an error)...
        later.kill()
        [gone] = wait_for_videos(server, 1, storage="s3", status="offline")
        assert gone["id"] == video["id"] and gone["index"] is None
        # ...and comes back, same id (same likes), when S3 does.
        later.start()
        [back] = wait_for_videos(server, 1, storage="s3", status="ready")
        assert back["id"] == video["id"] and back["index"] is not None
    finally:
        later.kill()


def test_an_s3_that_never_answers_delays_neither_startup_nor_health(
    start_server: StartServer, seaweed: SeaweedFS
) -> None:
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        server = start_server(seaweed.env(BUCKET, S3_ENDPOINT_URL=endpoint))
        for _ in range(3):  # the first starts a check of the bucket, the others find it running
            started = time.monotonic()
            report = httpx.get(server.url + "/healthz", timeout=10).json()
            # 0.5 s by design; the bound only has to be far below boto3's 20 s read timeout.
            assert time.monotonic() - started < 5
            assert report["status"] == "degraded"
            assert report["storages"]["s3"]["error"] == "S3 has not answered yet"
            assert report["videos"] >= 1  # the samples play


# -- a real browser ------------------------------------------------------------------------------


def wait_until(page: Any, script: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(script)):
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        time.sleep(0.1)
    return value


def test_the_standard_page_plays_a_bucket_video_in_sync_then_a_local_one(
    seaweed: SeaweedFS, start_server: StartServer, prefix: str, tmp_path: Path, browser: Any
) -> None:
    # Long enough that neither ends on its own while the page settles, even on a busy machine.
    samples = tmp_path / "samples"
    samples.mkdir()
    make_webm(samples / "01-local.webm", 30.0, GREEN)
    env = seaweed.env(BUCKET, prefix, STATIC_DIR=str(samples), ADMIN_TOKEN="t")
    server = start_server(env)
    bucket_id = upload(server, make_webm(tmp_path / "from-the-bucket.webm", 30.0)).json()["video"][
        "id"
    ]
    local_id = next(v["id"] for v in catalog(server)["videos"] if v["storage"] == "static")

    def now_playing() -> str:
        listing = catalog(server)
        return str(listing["videos"][listing["current_index"]]["id"])

    def skip_to(video_id: str) -> None:
        for _ in range(3):
            if now_playing() == video_id:
                return
            httpx.post(server.url + "/skip", headers={"Authorization": "Bearer t"})
        raise AssertionError(f"{video_id} never came up")

    skip_to(bucket_id)
    context = browser.new_context()
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    try:
        page.goto(server.url + "/")
        for video_id, title in ((bucket_id, "From the bucket"), (local_id, "Local")):
            skip_to(video_id)
            status = wait_until(
                page,
                f"(s => s.playing && s.videoId === {video_id!r} && Math.abs(s.offsetMs) < 150"
                " && s)(window.simulcastStatus ? simulcastStatus() : {})",
            )
            assert abs(status["offsetMs"]) < 150, status  # on the channel's clock, like any
            assert page.inner_text("#title") == title
    finally:
        context.close()
    assert any(url.startswith(f"{seaweed.endpoint}/{BUCKET}/{prefix}") for url in fetched)


def test_chromium_seeks_late_in_a_bucket_video_after_s3_url_expiry(
    seaweed: SeaweedFS, start_server: StartServer, prefix: str, tmp_path: Path, browser: Any
) -> None:
    """Chromium sends every later range request of a video to the URL the redirect gave it,
    never back to /media/v/<id>: a URL that expired mid-video would stall playback for good.
    The URL's lifetime covers the video's duration, so it cannot."""
    noisy = make_noise(tmp_path / "noisy.mp4", 16, 320, 180)
    server = start_server(seaweed.env(BUCKET, prefix, S3_URL_EXPIRY="1"))
    video = upload(server, noisy).json()["video"]
    page = browser.new_page(bypass_csp=True)  # wait_for_function evaluates with eval
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    try:
        page.goto(server.url + "/time")
        page.set_content(f'<video muted preload=metadata src="/media/v/{video["id"]}"></video>')
        page.wait_for_function("document.querySelector('video').readyState >= 1")
        time.sleep(2.5)  # past S3_URL_EXPIRY: only the duration-long lifetime keeps it valid
        page.evaluate(
            "() => { const v = document.querySelector('video'); v.currentTime = 14;"
            " v.play().catch(() => {}) }"
        )
        page.wait_for_function(
            "() => { const v = document.querySelector('video');"
            " return v.readyState >= 3 && v.currentTime > 14.2 }",
            timeout=10000,
        )
    finally:
        page.close()
    to_bucket = [url for url in seen if url.startswith(seaweed.endpoint)]
    assert len(to_bucket) >= 2, seen  # the late range request went straight to the bucket
    assert sum("/media/v/" in url for url in seen) == 1, seen
