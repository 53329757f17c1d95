"""send_media against a real Hypercorn process, compared byte for byte with the files on disk."""

import hashlib
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from quart import Quart, Response

from server.media import (
    MAX_RANGES,
    RangeNotSatisfiableError,
    parse_range,
    send_media,
)

MEDIA_DIR_ENV = "SIMULCAST_TEST_MEDIA_DIR"
ROOT = Path(__file__).resolve().parent.parent
SMALL = random.Random(1).randbytes(1000)
BIG_SIZE = 50 * 1024 * 1024 + 12_345  # not a multiple of the 1 MiB chunk
MTIME = 1_700_000_000  # well in the past, so Last-Modified is a strong validator

app = Quart(__name__)
# Far below the default 60 s, so a slow download proves send_media lifts the limit.
app.config["RESPONSE_TIMEOUT"] = 1


@app.route("/media/<name>")
async def media(name: str) -> Response:
    return await send_media(Path(os.environ[MEDIA_DIR_ENV]) / name)


@app.route("/typed/<name>")
async def typed(name: str) -> Response:
    return await send_media(Path(os.environ[MEDIA_DIR_ENV]) / name, "video/mp4; codecs=avc1")


def write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    os.utime(path, ns=(MTIME * 10**9, MTIME * 10**9 + 123_456_789))


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    write(root / "small.webm", SMALL)
    write(root / "empty.mp4", b"")
    write(root / "big.mkv", random.Random(2).randbytes(BIG_SIZE))
    for name in ("clip.MOV", "clip.mp4", "clip.mkv", "blob", "blob.txt"):
        write(root / name, b"x")
    (root / "folder").mkdir()
    return root


@pytest.fixture(scope="module")
def client(media_dir: Path) -> Iterator[httpx.Client]:
    # Hypercorn inherits an already listening socket: no window for another process to take
    # the port, and requests queue in the backlog until the server is up.
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    log = (media_dir.parent / "hypercorn.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hypercorn",
            "--bind",
            f"fd://{sock.fileno()}",
            "tests.test_media:app",
        ],
        cwd=ROOT,
        env={**os.environ, MEDIA_DIR_ENV: str(media_dir)},
        pass_fds=[sock.fileno()],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sock.close()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            http.get("/media/small.webm").raise_for_status()
            yield http
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def get(client: httpx.Client, name: str, **headers: str) -> httpx.Response:
    return client.get(f"/media/{name}", headers=headers)


def parse_byteranges(response: httpx.Response) -> list[tuple[dict[str, str], bytes]]:
    """Walk the body strictly by the framing RFC 2046 and RFC 9110 §14.6 define."""
    mime, _, param = response.headers["content-type"].partition(";")
    assert mime == "multipart/byteranges"
    name, _, boundary = param.strip().partition("=")
    assert name == "boundary" and boundary
    body, delimiter, pos = response.content, b"--" + boundary.encode(), 0
    parts = []
    while True:
        assert body.startswith(delimiter, pos)
        pos += len(delimiter)
        if body.startswith(b"--\r\n", pos):
            assert pos + 4 == len(body)
            return parts
        assert body.startswith(b"\r\n", pos)
        end = body.index(b"\r\n\r\n", pos)
        fields = dict(line.split(": ", 1) for line in body[pos + 2 : end].decode().split("\r\n"))
        first, last = map(int, fields["Content-Range"].split(" ")[1].split("/")[0].split("-"))
        pos = end + 4 + last + 1 - first
        parts.append((fields, body[end + 4 : pos]))
        assert body.startswith(b"\r\n", pos)
        pos += 2


# --- parse_range, the pure part ---


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", [(0, 0)]),
        ("bytes=10-", [(10, 99)]),
        ("bytes=-10", [(90, 99)]),
        ("bytes=-1000", [(0, 99)]),
        ("bytes=90-1000", [(90, 99)]),
        ("BYTES=1-2", [(1, 2)]),
        ("bytes=0-1, 5-6", [(0, 1), (5, 6)]),
        ("bytes=5-6,0-1", [(0, 1), (5, 6)]),
        ("bytes=0-1,,\t5-6 ,", [(0, 1), (5, 6)]),
        ("bytes=0-9,5-19", [(0, 19)]),
        ("bytes=0-9,10-19", [(0, 19)]),
        ("bytes=0-1,200-300", [(0, 1)]),
        ("bytes=0001-0002", [(1, 2)]),
        ("bytes=1-" + "9" * 5000, [(1, 99)]),
    ],
)
def test_parse_range(header: str, expected: list[tuple[int, int]]) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize(
    "header",
    [
        "bytes",
        "bytes=",
        "bytes=,",
        "bytes=-",
        "bytes=5-1",
        "bytes=a-b",
        "bytes=1-2-3",
        "bytes = 0-1",
        "bytes=+1-2",
        "bytes=--1",
        "bytes=1 -2",
        "bytes=١-٢",
        "items=0-1",
        "bytes=0-,0-,0-",
        "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 2 * MAX_RANGES + 1, 2)),
    ],
)
def test_parse_range_ignored(header: str) -> None:
    assert parse_range(header, 100) is None


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0", "bytes=100-,-0"])
def test_parse_range_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(header, 100)


def test_parse_range_empty_file() -> None:
    with pytest.raises(RangeNotSatisfiableError):
        parse_range("bytes=0-", 0)
    assert parse_range("bytes=-5", 0) is None


# --- full responses ---


def test_full_get(client: httpx.Client) -> None:
    response = get(client, "small.webm")
    assert response.status_code == 200
    assert response.content == SMALL
    headers = response.headers
    assert headers["content-length"] == str(len(SMALL))
    assert headers["content-type"] == "video/webm"
    assert headers["accept-ranges"] == "bytes"
    assert headers["cache-control"] == "public, max-age=3600"
    assert headers["last-modified"] == formatdate(MTIME, usegmt=True)
    assert headers["etag"].startswith('"') and headers["etag"].endswith('"')
    assert "content-range" not in headers


def test_etag_follows_mtime(client: httpx.Client, media_dir: Path) -> None:
    path = media_dir / "retouched.webm"
    write(path, SMALL)
    before = get(client, path.name).headers["etag"]
    os.utime(path, ns=(MTIME * 10**9, MTIME * 10**9 + 1))
    assert get(client, path.name).headers["etag"] != before


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("clip.MOV", "video/quicktime"),
        ("clip.mp4", "video/mp4"),
        ("clip.mkv", "video/x-matroska"),
        ("blob", "application/octet-stream"),
        ("blob.txt", "application/octet-stream"),
    ],
)
def test_content_type(client: httpx.Client, name: str, content_type: str) -> None:
    assert get(client, name).headers["content-type"] == content_type


def test_content_type_argument_wins(client: httpx.Client) -> None:
    response = client.get("/typed/small.webm")
    assert response.headers["content-type"] == "video/mp4; codecs=avc1"


def test_head(client: httpx.Client) -> None:
    full = get(client, "small.webm")
    for headers in ({}, {"Range": "bytes=0-9"}):
        response = client.head("/media/small.webm", headers=headers)
        assert response.status_code == 200  # Range is defined for GET only
        assert response.content == b""
        for name in ("content-length", "content-type", "etag", "last-modified", "accept-ranges"):
            assert response.headers[name] == full.headers[name]


def test_missing_and_not_a_file(client: httpx.Client) -> None:
    assert get(client, "nope.webm").status_code == 404
    assert get(client, "folder").status_code == 404


def test_empty_file(client: httpx.Client) -> None:
    response = get(client, "empty.mp4")
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-length"] == "0"
    unsatisfiable = get(client, "empty.mp4", Range="bytes=0-")
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == "bytes */0"
    suffix = get(client, "empty.mp4", Range="bytes=-5")
    assert (suffix.status_code, suffix.content) == (200, b"")


# --- single ranges ---


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=10-19", 10, 19),
        ("bytes=990-", 990, 999),
        ("bytes=-7", 993, 999),
        ("bytes=-5000", 0, 999),
        ("bytes=500-123456", 500, 999),
        ("bytes=0-9,5-19", 0, 19),  # coalesced: a multi-range request may get a plain 206
    ],
)
def test_single_range(client: httpx.Client, header: str, first: int, last: int) -> None:
    response = get(client, "small.webm", Range=header)
    assert response.status_code == 206
    assert response.content == SMALL[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/1000"
    assert response.headers["content-length"] == str(last + 1 - first)
    assert response.headers["content-type"] == "video/webm"


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0", "bytes=1000-,-0"])
def test_unsatisfiable(client: httpx.Client, header: str) -> None:
    response = get(client, "small.webm", Range=header)
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1000"
    assert response.content == b""


@pytest.mark.parametrize(
    "header",
    [
        "bytes=5-1",
        "bytes=x-",
        "bytes = 0-1",
        "items=0-1",
        "bytes=0-,0-,0-",
        "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 100, 2)),
    ],
)
def test_ignored_range_sends_everything(client: httpx.Client, header: str) -> None:
    response = get(client, "small.webm", Range=header)
    assert (response.status_code, response.content) == (200, SMALL)
    assert "content-range" not in response.headers


# --- multiple ranges ---


def test_multipart(client: httpx.Client) -> None:
    response = get(client, "small.webm", Range="bytes=-10, 0-9,20-29,25-30 ,,500-501")
    assert response.status_code == 206
    assert "content-range" not in response.headers
    assert response.headers["content-length"] == str(len(response.content))
    parts = parse_byteranges(response)
    expected = [(0, 9), (20, 30), (500, 501), (990, 999)]
    assert len(parts) == len(expected)
    for (fields, data), (first, last) in zip(parts, expected, strict=True):
        assert fields == {
            "Content-Type": "video/webm",
            "Content-Range": f"bytes {first}-{last}/1000",
        }
        assert data == SMALL[first : last + 1]


def test_multipart_keeps_the_given_content_type(client: httpx.Client) -> None:
    response = client.get("/typed/small.webm", headers={"Range": "bytes=0-0,2-2"})
    assert [fields["Content-Type"] for fields, _ in parse_byteranges(response)] == [
        "video/mp4; codecs=avc1"
    ] * 2


# --- conditional requests ---


def test_not_modified(client: httpx.Client) -> None:
    etag = get(client, "small.webm").headers["etag"]
    last_modified = formatdate(MTIME, usegmt=True)
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},  # If-None-Match compares weakly
        {"If-None-Match": "*"},
        {"If-Modified-Since": last_modified},
        {"If-Modified-Since": formatdate(MTIME + 3600, usegmt=True)},
        {"If-None-Match": etag, "Range": "bytes=0-1"},
    ):
        response = client.get("/media/small.webm", headers=headers)
        assert response.status_code == 304, headers
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert "content-type" not in response.headers


def test_modified(client: httpx.Client) -> None:
    for headers in (
        {"If-None-Match": '"other"'},
        {"If-Modified-Since": formatdate(MTIME - 1, usegmt=True)},
        {"If-Modified-Since": "yesterday"},
        # If-None-Match present: If-Modified-Since is not evaluated (§13.2.2).
        {"If-None-Match": '"other"', "If-Modified-Since": formatdate(MTIME, usegmt=True)},
    ):
        response = client.get("/media/small.webm", headers=headers)
        assert (response.status_code, response.content) == (200, SMALL), headers


def test_precondition_failed(client: httpx.Client) -> None:
    etag = get(client, "small.webm").headers["etag"]
    assert get(client, "small.webm", **{"If-Match": '"other"'}).status_code == 412
    assert get(client, "small.webm", **{"If-Match": f"W/{etag}"}).status_code == 412
    early = formatdate(MTIME - 1, usegmt=True)
    assert get(client, "small.webm", **{"If-Unmodified-Since": early}).status_code == 412
    assert get(client, "small.webm", **{"If-Match": etag}).status_code == 200


def test_if_range(client: httpx.Client) -> None:
    etag = get(client, "small.webm").headers["etag"]
    last_modified = formatdate(MTIME, usegmt=True)
    for validator in (etag, last_modified):
        response = get(client, "small.webm", Range="bytes=0-9", **{"If-Range": validator})
        assert (response.status_code, response.content) == (206, SMALL[:10])
    for validator in ('"other"', f"W/{etag}", formatdate(MTIME - 1, usegmt=True), "garbage"):
        response = get(client, "small.webm", Range="bytes=0-9", **{"If-Range": validator})
        assert (response.status_code, response.content) == (200, SMALL), validator
        assert "content-range" not in response.headers


def test_if_range_with_a_fresh_date(client: httpx.Client, media_dir: Path) -> None:
    # Modified within the last second: a one-second date cannot tell two versions apart.
    path = media_dir / "fresh.webm"
    path.write_bytes(SMALL)
    last_modified = get(client, path.name).headers["last-modified"]
    response = get(client, path.name, Range="bytes=0-9", **{"If-Range": last_modified})
    assert response.status_code == 200


# --- a big file ---


def big_bytes(media_dir: Path) -> bytes:
    return (media_dir / "big.mkv").read_bytes()


def test_big_file_full(client: httpx.Client, media_dir: Path) -> None:
    response = get(client, "big.mkv")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(BIG_SIZE)
    digest = hashlib.sha256(big_bytes(media_dir)).digest()
    assert hashlib.sha256(response.content).digest() == digest


def test_big_file_ranges(client: httpx.Client, media_dir: Path) -> None:
    data, mib = big_bytes(media_dir), 1 << 20
    end = get(client, "big.mkv", Range=f"bytes={BIG_SIZE - 100}-{BIG_SIZE + 5000}")
    assert end.headers["content-range"] == f"bytes {BIG_SIZE - 100}-{BIG_SIZE - 1}/{BIG_SIZE}"
    assert end.content == data[-100:]
    suffix = get(client, "big.mkv", Range="bytes=-3000000")
    assert suffix.content == data[-3_000_000:]
    across = get(client, "big.mkv", Range=f"bytes={mib - 1}-{3 * mib + 1}")
    assert across.content == data[mib - 1 : 3 * mib + 2]
    multi = get(client, "big.mkv", Range=f"bytes=0-{2 * mib},{40 * mib}-{41 * mib + 7},-1")
    assert multi.headers["content-length"] == str(len(multi.content))
    spans = [(0, 2 * mib), (40 * mib, 41 * mib + 7), (BIG_SIZE - 1, BIG_SIZE - 1)]
    parts = parse_byteranges(multi)
    assert [d for _, d in parts] == [data[a : b + 1] for a, b in spans]


def test_slow_download_outlives_response_timeout(client: httpx.Client) -> None:
    received, started = 0, time.monotonic()
    with client.stream("GET", "/media/big.mkv") as response:
        for chunk in response.iter_bytes(1 << 20):
            received += len(chunk)
            time.sleep(0.04)
    assert time.monotonic() - started > 1.5  # well past the app's RESPONSE_TIMEOUT of 1 s
    assert received == BIG_SIZE
