"""MEDIA_SECURE_LINK: the app answers a video with a redirect to a URL it signed for nginx's
secure_link (examples/nginx.conf); nginx checks it and sends every range without the app."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from server.storage.signed import SecureLinks

from .live import LiveServer, free_port
from .mediafiles import BLUE, make_webm
from .nginxserver import SECURE_LINK_SECRET, NginxServer, example_site

PREFIX = "/media/signed/"


@pytest.fixture
def front(
    tmp_path: Path, start_server: Callable[..., LiveServer]
) -> Iterator[tuple[LiveServer, NginxServer, Path]]:
    static = tmp_path / "static"
    static.mkdir()
    # A space in the name: the signature covers the decoded path, the URL carries it escaped.
    make_webm(static / "blue sample.webm", 2.0, BLUE, with_audio=False)
    app = start_server(
        {
            "STATIC_DIR": str(static),
            "MEDIA_SECURE_LINK": PREFIX,
            "MEDIA_SECURE_LINK_SECRET": SECURE_LINK_SECRET,
        },
        tmp_path / "app",
    )
    port = free_port()
    site = example_site(port, f"127.0.0.1:{app.port}", static, app.upload_dir)
    with NginxServer(tmp_path / "nginx", site, port) as nginx:
        yield app, nginx, static / "blue sample.webm"


def test_the_app_redirects_once_and_nginx_sends_every_range(
    front: tuple[LiveServer, NginxServer, Path],
) -> None:
    app, nginx, clip = front
    data = clip.read_bytes()
    video = httpx.get(nginx.url + "/videos").json()["videos"][0]["id"]
    answer = httpx.get(f"{nginx.url}/media/v/{video}")
    assert answer.status_code == 302 and answer.headers["Cache-Control"] == "no-store"
    signed = answer.headers["Location"]
    assert signed.startswith(PREFIX + "static/blue%20sample.webm?md5=")
    with httpx.Client(base_url=nginx.url) as client:
        part = client.get(signed, headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206 and part.content == data[100:1100]
        assert part.headers["Content-Type"] == "video/webm"
        assert part.headers["X-Content-Type-Options"] == "nosniff"
        assert part.headers["Content-Security-Policy"].startswith("sandbox")
        assert client.get(signed).content == data
        # Tampered with, or for another file: refused; the folders are not browsable.
        assert client.get(signed.replace("md5=", "md5=x")).status_code == 403
        other = signed.replace("blue%20sample.webm", "other.webm")
        assert client.get(other).status_code == 403
        assert client.get(PREFIX + "static/blue%20sample.webm").status_code == 403


def test_an_expired_link_is_gone_and_a_fresh_one_comes_from_the_app(
    front: tuple[LiveServer, NginxServer, Path],
) -> None:
    _, nginx, _ = front
    expired = SecureLinks(PREFIX, SECURE_LINK_SECRET, 60, now=lambda: time.time() - 120)
    assert httpx.get(nginx.url + expired.url("static", "blue sample.webm")).status_code == 410
    fresh = SecureLinks(PREFIX, SECURE_LINK_SECRET, 60)
    assert httpx.get(nginx.url + fresh.url("static", "blue sample.webm")).status_code == 200
    wrong_secret = SecureLinks(PREFIX, "not-the-secret", 60)
    assert httpx.get(nginx.url + wrong_secret.url("static", "blue sample.webm")).status_code == 403
