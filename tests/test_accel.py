"""MEDIA_ACCEL_REDIRECT: the app decides, nginx (running examples/nginx.conf) sends the bytes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from .live import LiveServer, free_port
from .mediafiles import BLUE, GREEN, make_webm
from .nginxserver import NginxServer, example_site


@pytest.fixture
def front(
    tmp_path: Path, start_server: Callable[..., LiveServer]
) -> Iterator[tuple[LiveServer, NginxServer, Path]]:
    static = tmp_path / "static"
    static.mkdir()
    # A space in the name: the redirect URI must be escaped, and nginx must find the file.
    make_webm(static / "blue sample.webm", 2.0, BLUE, with_audio=False)
    app = start_server(
        {"STATIC_DIR": str(static), "MEDIA_ACCEL_REDIRECT": "/protected/"}, tmp_path / "app"
    )
    port = free_port()
    site = example_site(port, f"127.0.0.1:{app.port}", static, app.upload_dir)
    with NginxServer(tmp_path / "nginx", site, port) as nginx:
        yield app, nginx, static / "blue sample.webm"


def only_video(url: str) -> str:
    return str(httpx.get(url + "/videos").json()["videos"][0]["id"])


def test_app_answers_with_a_redirect_instead_of_the_bytes(
    front: tuple[LiveServer, NginxServer, Path],
) -> None:
    app, _, _ = front
    response = httpx.get(f"{app.url}/media/v/{only_video(app.url)}", headers={"Range": "bytes=0-9"})
    assert response.status_code == 200 and response.content == b""
    assert response.headers["X-Accel-Redirect"] == "/protected/static/blue%20sample.webm"
    assert response.headers["Content-Type"] == "video/webm"


def test_nginx_serves_ranges_of_the_file(front: tuple[LiveServer, NginxServer, Path]) -> None:
    _, nginx, clip = front
    data = clip.read_bytes()
    url = f"{nginx.url}/media/v/{only_video(nginx.url)}"
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Content-Type"] == "video/webm"
    assert whole.headers["Cache-Control"] == "public, max-age=3600"
    assert "ETag" in whole.headers and whole.headers["Accept-Ranges"] == "bytes"
    part = httpx.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == data[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    revalidated = httpx.get(url, headers={"If-None-Match": whole.headers["ETag"]})
    assert revalidated.status_code == 304
    # The internal location itself stays closed to browsers.
    assert httpx.get(f"{nginx.url}/protected/static/blue%20sample.webm").status_code == 404
    # An unknown video is still the app's JSON 404, not a file lookup.
    missing = httpx.get(f"{nginx.url}/media/v/nope")
    assert missing.status_code == 404 and missing.json()["success"] is False


def test_uploads_and_events_pass_through_nginx(
    front: tuple[LiveServer, NginxServer, Path], tmp_path: Path
) -> None:
    _, nginx, _ = front
    clip = make_webm(tmp_path / "green.webm", 1.0, GREEN, with_audio=False)
    with clip.open("rb") as file:
        response = httpx.post(
            nginx.url + "/uploads", files={"video": (clip.name, file, "video/webm")}, timeout=30
        )
    assert response.status_code == 201, response.text
    vid = response.json()["video"]["id"]
    served = httpx.get(f"{nginx.url}/media/v/{vid}", headers={"Range": "bytes=0-"})
    assert served.status_code == 206 and served.content == clip.read_bytes()
    with httpx.stream("GET", nginx.url + "/video-updates", timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        first = next(line for line in stream.iter_lines() if line.startswith("data: "))
    assert json.loads(first[6:])["total"] == 2
