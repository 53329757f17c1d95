"""server/receive.py on its own: a multipart body streamed to a work file, and every way a body
can be wrong answered with a status and a message, with nothing left on disk."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.receive import MAX_TITLE, UploadError, receive_upload

BOUNDARY = "simulcast-test-boundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
VIDEO = os.urandom(300_000)


def body(
    *, data: bytes = VIDEO, title: str | None = "My clip", field: str = "video", end: bool = True
) -> bytes:
    parts = []
    if title is not None:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'.encode()
            + title.encode()
            + b"\r\n"
        )
    parts.append(
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
        f'name="{field}"; filename="C:\\clips\\holiday.webm"\r\n'
        "Content-Type: video/webm\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    closing = f"--{BOUNDARY}--\r\n".encode() if end else b""
    return b"".join(parts) + closing


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("chunk", [1, 7, 65536, 10**7])
async def test_the_file_lands_whole_whatever_the_chunking(tmp_path: Path, chunk: int) -> None:
    data = body(data=VIDEO[:5000]) if chunk == 1 else body()
    received = await receive_upload(chunks(data, chunk), CONTENT_TYPE, None, tmp_path, 10**7)
    expected = VIDEO[:5000] if chunk == 1 else VIDEO
    assert received.path.read_bytes() == expected
    assert received.size == len(expected)
    assert received.title == "My clip"
    assert received.filename == "holiday.webm"  # the client's folders never come through
    assert received.content_type == "video/webm"
    assert received.path.parent == tmp_path


async def test_a_long_title_is_cut_and_a_missing_one_is_empty(tmp_path: Path) -> None:
    long = await receive_upload(
        chunks(body(title="é" * 1000), 4096), CONTENT_TYPE, None, tmp_path, 10**7
    )
    assert long.title == "é" * MAX_TITLE
    untitled = await receive_upload(
        chunks(body(title=None), 4096), CONTENT_TYPE, None, tmp_path, 10**7
    )
    assert untitled.title == ""


@pytest.mark.parametrize(
    ("data", "content_type", "length", "limit", "status", "says"),
    [
        (body(), CONTENT_TYPE, None, 100_000, 413, "larger than the 97.7 KB upload limit"),
        (body(), CONTENT_TYPE, 50 * 2**20, 1000, 413, "upload limit"),
        (body(), "application/json", None, 10**7, 400, "multipart/form-data"),
        (body(field="file"), CONTENT_TYPE, None, 10**7, 400, "No file found"),
        (body(end=False)[:-1000], CONTENT_TYPE, None, 10**7, 400, "interrupted"),
        (body(data=b""), CONTENT_TYPE, None, 10**7, 400, "This file is empty."),
    ],
    ids=["too large", "declared too large", "not multipart", "no video field", "cut", "empty"],
)
async def test_a_wrong_body_is_refused_and_leaves_nothing(
    tmp_path: Path,
    data: bytes,
    content_type: str,
    length: int | None,
    limit: int,
    status: int,
    says: str,
) -> None:
    with pytest.raises(UploadError) as refused:
        await receive_upload(chunks(data, 8192), content_type, length, tmp_path, limit)
    assert refused.value.status == status
    assert says in refused.value.message
    assert list(tmp_path.iterdir()) == []
