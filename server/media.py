"""Serve local media files with validators and byte ranges as RFC 9110 defines them.

Quart's own `send_file` reads 8 KiB per iteration and answers only single ranges, so this module
does the conditional and range logic itself and never calls `Response.make_conditional`.
"""

import os
import re
import secrets
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

from quart import Response, abort, current_app, request
from werkzeug.http import http_date, parse_date

from .formats import type_of

CHUNK_SIZE = 1 << 20
# More range-specs than this look like a broken client or a denial-of-service attempt
# (RFC 9110 §17.15); the RFC lets the server ignore the header and send the whole file.
MAX_RANGES = 16
CACHE_CONTROL = "public, max-age=3600"

ByteRange = tuple[int, int]  # first and last byte position, both inclusive

_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() would also accept non-ASCII digits
_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')  # an opaque-tag may contain commas: no split(",")


class RangeNotSatisfiableError(ValueError):
    """A valid Range header whose range-specs all fall outside the representation."""


class FileChangedError(RuntimeError):
    """The file changed between building the headers and streaming the body."""


def make_etag(st: os.stat_result) -> str:
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}-{st.st_ino:x}"'


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    # Any 19-digit position lies beyond every real file; int() would refuse >4300 digits.
    return int(digits) if len(digits) < 19 else 1 << 63


def parse_range(header: str, size: int) -> list[ByteRange] | None:
    """Satisfiable ranges, sorted and coalesced; None means: ignore the header, send 200.

    Raises RangeNotSatisfiableError when the header is valid but no range can be served (416).
    """
    unit, eq, range_set = header.strip().partition("=")
    if not eq or unit.lower() != "bytes":
        return None  # an unknown range unit MUST be ignored (§14.2)
    # The list rule (§5.6.1) lets recipients skip empty elements such as "0-1,,5-6".
    specs = [spec for spec in (s.strip(" \t") for s in range_set.split(",")) if spec]
    if not specs or len(specs) > MAX_RANGES:
        return None
    ranges: list[ByteRange] = []
    empty_suffix = False
    for spec in specs:
        first, dash, last = spec.partition("-")
        if not dash or not (first or last):
            return None
        if any(part and not _DIGITS.fullmatch(part) for part in (first, last)):
            return None
        if first:
            start, end = _position(first), _position(last) if last else size - 1
            if last and end < start:
                return None  # an int-range with last-pos < first-pos is invalid (§14.1.1)
            if start < size:
                ranges.append((start, min(end, size - 1)))
        elif (length := _position(last)) > 0:
            if size:
                ranges.append((max(size - length, 0), size - 1))
            else:
                empty_suffix = True
    if not ranges:
        # A suffix-range is satisfiable even on an empty file (§14.1.1), yet no Content-Range
        # can describe zero bytes: the whole (empty) file as a 200 is the only honest answer.
        if empty_suffix:
            return None
        raise RangeNotSatisfiableError(size)
    return _coalesce(ranges)


def _coalesce(ranges: list[ByteRange]) -> list[ByteRange] | None:
    merged: list[ByteRange] = []
    overlaps = 0
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            overlaps += start <= merged[-1][1]
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    # "More than two overlapping ranges" may be ignored (§14.2): it is how "bytes=0-,0-,0-..."
    # makes a server send one file many times over.
    return None if overlaps > 1 else merged


def _header_list(name: str) -> str | None:
    values = request.headers.getlist(name)
    return ", ".join(values) if values else None


def _etag_listed(header: str, etag: str, *, weak: bool) -> bool:
    if header.strip() == "*":
        return True  # the file exists, so "*" matches
    tags = _ENTITY_TAG.findall(header)
    if weak:
        return any(tag.removeprefix("W/") == etag for tag in tags)
    return etag in tags  # our tag is strong: strong comparison is plain equality


def _date(header: str | None) -> int | None:
    parsed = parse_date(header)
    return int(parsed.timestamp()) if parsed else None


def _precondition_status(etag: str, mtime: int) -> int | None:
    """304 or 412 when a precondition says so, in the order of RFC 9110 §13.2.2."""
    if (if_match := _header_list("If-Match")) is not None:
        if not _etag_listed(if_match, etag, weak=False):
            return 412
    elif (since := _date(request.headers.get("If-Unmodified-Since"))) is not None:
        if mtime > since:
            return 412
    if (if_none_match := _header_list("If-None-Match")) is not None:
        if _etag_listed(if_none_match, etag, weak=True):
            return 304
    elif (since := _date(request.headers.get("If-Modified-Since"))) is not None:
        if mtime <= since:
            return 304
    return None


def _if_range_holds(st: os.stat_result, etag: str) -> bool:
    value = request.headers.get("If-Range")
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # a weak tag never matches in If-Range (§13.1.5)
    # A date validates only if it is strong (§8.8.2.2): the file is at least a second older than
    # now, so two versions cannot share the one-second Last-Modified the client holds.
    return _date(value) == int(st.st_mtime) and time.time() - st.st_mtime >= 1


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


async def _stream(
    path: Path, expected: os.stat_result, pieces: list[bytes | ByteRange]
) -> AsyncIterator[bytes]:
    # Opened here rather than in send_media: Quart closes the generator if the client leaves,
    # and a generator that never started holds no descriptor.
    fd = os.open(path, os.O_RDONLY)
    try:
        # The headers promised these bytes under a strong ETag; a replaced file must not be
        # spliced into them.
        if _identity(os.fstat(fd)) != _identity(expected):
            raise FileChangedError(path)
        for piece in pieces:
            if isinstance(piece, bytes):
                yield piece
                continue
            position, last = piece
            while position <= last:
                # A 1 MiB pread from the page cache takes well under a millisecond. On loopback,
                # asyncio.to_thread per chunk was never faster (1 MiB ranges ~0.85-1.0 GB/s vs
                # ~1.07 GB/s inline), so the read stays on the event loop.
                chunk = os.pread(fd, min(CHUNK_SIZE, last + 1 - position), position)
                if not chunk:
                    raise FileChangedError(path)
                position += len(chunk)
                yield chunk
    finally:
        os.close(fd)


def _multipart(
    ranges: list[ByteRange], size: int, content_type: str
) -> tuple[str, list[bytes | ByteRange], int]:
    boundary = secrets.token_hex(16)
    pieces: list[bytes | ByteRange] = []
    length = 0
    for index, (first, last) in enumerate(ranges):
        head = (
            ("\r\n" if index else "")
            + f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            + f"Content-Range: bytes {first}-{last}/{size}\r\n\r\n"
        ).encode("latin-1")
        pieces += [head, (first, last)]
        length += len(head) + last + 1 - first
    tail = f"\r\n--{boundary}--\r\n".encode("latin-1")
    pieces.append(tail)
    return f"multipart/byteranges; boundary={boundary}", pieces, length + len(tail)


def _bodiless(status: int, headers: dict[str, str]) -> Response:
    response = current_app.response_class(None, status=status, headers=headers)
    del response.headers["Content-Type"]  # Werkzeug adds text/html; there is no content
    return response


async def send_media(path: Path, content_type: str | None = None) -> Response:
    """Answer the current GET or HEAD request with the file at `path`."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        abort(404)
    if not stat.S_ISREG(st.st_mode):
        abort(404)
    size, etag, mtime = st.st_size, make_etag(st), int(st.st_mtime)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(st.st_mtime),
        "Cache-Control": CACHE_CONTROL,
    }
    if (status := _precondition_status(etag, mtime)) == 304:
        # A 304 repeats only the validators and cache directives (§15.4.5).
        return _bodiless(304, {"ETag": etag, "Cache-Control": CACHE_CONTROL})
    if status == 412:
        return _bodiless(412, {**headers, "Content-Length": "0"})

    content_type = content_type or type_of(path)
    ranges = None
    header = request.headers.get("Range")
    # Range is defined for GET only (§14.2): HEAD describes the whole file.
    if request.method == "GET" and header is not None and _if_range_holds(st, etag):
        try:
            ranges = parse_range(header, size)
        except RangeNotSatisfiableError:
            return _bodiless(
                416, {**headers, "Content-Range": f"bytes */{size}", "Content-Length": "0"}
            )

    pieces: list[bytes | ByteRange]
    if ranges is None:
        status, pieces, length = 200, [(0, size - 1)] if size else [], size
    elif len(ranges) == 1:
        (first, last), status = ranges[0], 206
        pieces, length = [(first, last)], last + 1 - first
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    else:
        status = 206
        content_type, pieces, length = _multipart(ranges, size, content_type)
    headers["Content-Length"] = str(length)

    body = None if request.method == "HEAD" else _stream(path, st, pieces)
    response = current_app.response_class(
        body, status=status, headers=headers, content_type=content_type
    )
    # RESPONSE_TIMEOUT bounds the whole body; a slow viewer fetching a big file must outlive it.
    response.timeout = None
    return response
