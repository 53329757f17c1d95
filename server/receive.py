"""Streaming an uploaded file from a multipart body straight to a work file on disk.

The body is parsed chunk by chunk as it arrives (python-multipart), so an upload of any size
costs a few hundred KB of memory, and the size limit is enforced while receiving, not after.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from .captions import MAX_CAPTIONS

log = logging.getLogger(__name__)

FILE_FIELD = "video"
TITLE_FIELD = "title"
CHANNEL_FIELD = "channel"  # optional: the slug of the channel the video joins
MAX_CHANNEL = 64
CAPTIONS_FIELD = "captions"  # optional: a WebVTT or SubRip file, kept in memory (it is small)
MAX_TITLE = 200


class UploadError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Received:
    path: Path
    filename: str
    content_type: str
    size: int
    title: str = ""
    captions: bytes | None = None  # the captions file as sent, when there was one
    channel: str = ""  # the channel named in the form; "" for the one the URL names


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    content_type: str = ""


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.3g} {unit}"


class _Receiver:
    def __init__(self, work_dir: Path, max_size: int) -> None:
        self.work_dir = work_dir
        self.max_size = max_size
        self.part = _Part()
        self.header_field = b""
        self.header_value = b""
        self.file: BinaryIO | None = None
        self.received: Received | None = None
        self.title = bytearray()
        self.channel = bytearray()
        self.captions: bytearray | None = None
        self.error: UploadError | None = None

    # python-multipart callbacks ----------------------------------------------------------
    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.header_field.lower()] = self.header_value
        self.header_field = self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            self.part.filename = options[b"filename"].decode("utf-8", "replace")
        self.part.content_type = self.part.headers.get(b"content-type", b"").decode("latin-1")
        if self.part.name == CAPTIONS_FIELD and self.part.filename:
            self.captions = bytearray()
        if self.part.name == FILE_FIELD and self.received is None:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            path = self.work_dir / f"{uuid.uuid4().hex}.part"
            self.file = path.open("wb")
            self.received = Received(
                path, self.part.filename or "", self.part.content_type or "", 0
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self.part.name == TITLE_FIELD:
            self.title += data[start:end][: MAX_TITLE * 4 - len(self.title)]
        elif self.part.name == CHANNEL_FIELD:
            self.channel += data[start:end][: MAX_CHANNEL - len(self.channel)]
        elif self.part.name == CAPTIONS_FIELD and self.captions is not None:
            self.captions += data[start:end]
            if len(self.captions) > MAX_CAPTIONS:
                self.error = UploadError(
                    413, f"The captions file is larger than {human_size(MAX_CAPTIONS)}."
                )
        elif self.file is not None and self.received is not None:
            self.received.size += end - start
            if self.received.size > self.max_size:
                self.error = UploadError(
                    413, f"This file is larger than the {human_size(self.max_size)} upload limit."
                )
                return
            self.file.write(data[start:end])

    def on_part_end(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def cleanup(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.received is not None:
            self.received.path.unlink(missing_ok=True)


async def receive_upload(
    body: AsyncIterable[bytes],
    content_type: str,
    content_length: int | None,
    work_dir: Path,
    max_size: int,
    idle_timeout: float = 30.0,
) -> Received:
    """Write the `video` field to a work file. On any error nothing is left on disk."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadError(
            400, f"Send the file as multipart/form-data in a field named {FILE_FIELD!r}."
        )
    # Multipart framing adds a little; anything far beyond the limit can be refused up front.
    if content_length is not None and content_length > max_size + 1024 * 1024:
        raise UploadError(413, f"This file is larger than the {human_size(max_size)} upload limit.")
    receiver = _Receiver(work_dir, max_size)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": receiver.on_part_begin,
            "on_header_field": receiver.on_header_field,
            "on_header_value": receiver.on_header_value,
            "on_header_end": receiver.on_header_end,
            "on_headers_finished": receiver.on_headers_finished,
            "on_part_data": receiver.on_part_data,
            "on_part_end": receiver.on_part_end,
        },
    )
    try:
        # An idle timeout, not a total one: a big upload on a slow line may take hours, but one
        # that sends nothing (a stalled or vanished client) must not hold a file open for ever.
        async with asyncio.timeout(idle_timeout) as deadline:
            async for chunk in body:
                deadline.reschedule(asyncio.get_running_loop().time() + idle_timeout)
                parser.write(chunk)
                if receiver.error is not None:
                    raise receiver.error
        parser.finalize()
    except BaseException as error:
        # Every way out, a client gone (the handler is cancelled) included, removes the file.
        receiver.cleanup()
        told = _upload_error(error, idle_timeout)
        if told is error:
            raise
        raise told from error
    received = receiver.received
    if received is None:
        raise UploadError(400, f"No file found: send it in a form field named {FILE_FIELD!r}.")
    if receiver.file is not None:  # the body ended inside the file part
        receiver.cleanup()
        raise UploadError(400, "The upload was interrupted before the file was complete.")
    if received.size == 0:
        received.path.unlink(missing_ok=True)
        raise UploadError(400, "This file is empty.")
    received.title = receiver.title.decode("utf-8", "replace").strip()[:MAX_TITLE]
    received.channel = receiver.channel.decode("utf-8", "replace").strip()
    if receiver.captions:
        received.captions = bytes(receiver.captions)
    return received


def _upload_error(error: BaseException, idle_timeout: float) -> BaseException:
    """What the uploader is told; a cancellation stays one."""
    if isinstance(error, UploadError) or not isinstance(error, Exception):
        return error
    if isinstance(error, TimeoutError):
        return UploadError(408, f"The upload stalled: nothing arrived for {idle_timeout:g} s.")
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return UploadError(507, "The server's disk is full; the upload was not kept.")
    return UploadError(400, f"The upload was malformed or interrupted ({error}).")


def sweep(work_dir: Path, idle_timeout: float) -> int:
    """Remove work files no upload is writing to any more (a process killed mid-upload leaves
    them): one idle for longer than the idle timeout belongs to no live upload, whichever
    worker received it. Returns how many were removed."""
    removed = 0
    limit = time.time() - max(idle_timeout, 1.0) * 2
    for path in work_dir.glob("*.part") if work_dir.is_dir() else ():
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
    return removed


async def sweep_forever(work_dir: Path, idle_timeout: float) -> None:
    while True:
        if removed := await asyncio.to_thread(sweep, work_dir, idle_timeout):
            log.info("removed %d abandoned partial uploads from %s", removed, work_dir)
        await asyncio.sleep(max(idle_timeout, 1.0))
