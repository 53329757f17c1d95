"""Videos in an S3 bucket: AWS, or a compatible store (SeaweedFS, MinIO, R2...).

boto3 blocks, so every call runs in a thread; transfers get their own threads so a few long
uploads cannot hold up the quick calls (presigning, listing) that playback depends on.
Uploaded objects carry their title, duration and id as user metadata: listing the bucket after a
restart needs one HEAD per object, never a download.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import math
import mimetypes
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from ..config import Settings
from ..formats import VIDEO_SUFFIXES
from ..probe import ProbeError, probe
from . import StorageError, StoredFile

log = logging.getLogger(__name__)

T = TypeVar("T")

PART_SIZE = 8 * 1024 * 1024
# Memory for a transfer stays near PART_SIZE x parts in flight, whatever the file size.
PARTS_IN_FLIGHT = 4
TRANSFERS = TransferConfig(
    multipart_threshold=PART_SIZE,
    multipart_chunksize=PART_SIZE,
    max_concurrency=PARTS_IN_FLIGHT,
)
HEADS_IN_FLIGHT = 8
HEALTH_TTL = 5.0  # seconds a bucket check stays fresh, so /healthz polling stays cheap
HEALTH_WAIT = 0.5  # longest /healthz waits on S3
MAX_URL_EXPIRY = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live
MAX_COPY_SIZE = 5 * 1024**3  # CopyObject's limit; larger objects keep metadata in memory only
_GENERIC_TYPES = {"", "binary/octet-stream", "application/octet-stream"}


@dataclass(frozen=True)
class _Listed:
    key: str  # relative to the prefix
    size: int
    etag: str


class S3Storage:
    name = "s3"
    place = "the S3 bucket"
    writable = True

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket_name
        self.prefix = settings.s3_prefix.lstrip("/")
        self.endpoint_url = settings.s3_endpoint_url
        self.region = settings.aws_region
        self.public_base_url = settings.s3_public_base_url.rstrip("/")
        self.url_expiry = max(1, min(settings.s3_url_expiry, MAX_URL_EXPIRY))
        self.work_dir = settings.data_dir / "incoming"
        self.max_probe_size = settings.max_upload_size
        self.relist_interval: float | None = settings.s3_resync_interval
        self.problem: str | None = None  # why the bucket is unusable right now, if it is
        self._checked = 0.0
        self._check: asyncio.Task[None] | None = None
        self._access = (settings.aws_access_key_id or None, settings.aws_secret_access_key or None)
        self._client_: Any = None
        self._transfers = ThreadPoolExecutor(PARTS_IN_FLIGHT, thread_name_prefix="s3-transfer")
        # key -> (etag, what the object is, or None when it is not a playable video)
        self._known: dict[str, tuple[str, StoredFile | None]] = {}
        # Seconds, to size URL lifetimes; by key without extension, so a video's rendition
        # (<id>.rendition beside <id>.mp4) gets the lifetime of the video it renders.
        self._durations: dict[str, float] = {}

    @property
    def where(self) -> str:
        return f"{self.endpoint_url or 'AWS'} bucket {self.bucket!r}"

    @property
    def warning(self) -> str | None:
        """The problem, phrased for people looking at /videos."""
        if self.problem is None:
            return None
        return (
            f"S3 storage is unavailable: {self.problem}. Uploads are kept in local storage and "
            "bucket videos are out of the rotation until it is back."
        )

    # -- the Storage protocol -----------------------------------------------------------------

    def local_path(self, key: str) -> Path | None:
        return None

    async def url(self, key: str) -> str | None:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(self.prefix + key)}"
        # Signed at every request, so whoever asks gets a full lifetime. Browsers keep using
        # the URL a redirect gave them for every later range request of that video, so the URL
        # must outlive the video itself: S3_URL_EXPIRY is the margin beyond its duration.
        duration = self._durations.get(_stem(key), 0.0)
        lifetime = min(self.url_expiry + math.ceil(duration), MAX_URL_EXPIRY)
        try:
            return await self._run(
                lambda client: client.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": self.bucket, "Key": self.prefix + key},
                    ExpiresIn=lifetime,
                )
            )
        except StorageError as error:
            log.warning("cannot sign a URL for s3 %s: %s", key, error)
            return None

    async def put(
        self, source: Path, key: str, content_type: str, metadata: dict[str, str]
    ) -> None:
        extra = {"ContentType": content_type, "Metadata": _encode(metadata)}
        # upload_file reads the work file part by part (multipart above PART_SIZE), so a
        # large upload never sits in memory and is never copied on disk.
        await self._bucket_op(
            lambda client: client.upload_file(
                str(source), self.bucket, self.prefix + key, ExtraArgs=extra, Config=TRANSFERS
            ),
            transfer=True,
        )
        source.unlink(missing_ok=True)
        if duration := _float(metadata.get("duration")):
            self._durations[_stem(key)] = duration

    async def delete(self, key: str) -> None:
        await self._bucket_op(
            lambda client: client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        )
        self._known.pop(key, None)
        self._durations.pop(_stem(key), None)

    async def list(self) -> AsyncIterator[StoredFile]:
        listed = await self._bucket_op(self._list_objects)
        fresh = [item for item in listed if self._known.get(item.key, ("",))[0] != item.etag]
        gate = asyncio.Semaphore(HEADS_IN_FLIGHT)

        async def learn(item: _Listed) -> None:
            async with gate:
                self._known[item.key] = (item.etag, await self._describe(item))

        await asyncio.gather(*(learn(item) for item in fresh))
        for gone in self._known.keys() - {item.key for item in listed}:
            del self._known[gone]
            self._durations.pop(_stem(gone), None)
        for item in listed:
            stored = self._known[item.key][1]
            if stored is not None:
                if stored.duration:
                    self._durations[_stem(item.key)] = stored.duration
                yield stored

    async def health(self) -> dict[str, object]:
        if time.monotonic() - self._checked > HEALTH_TTL and (
            self._check is None or self._check.done()
        ):
            self._check = asyncio.create_task(self._check_bucket())
            # An endpoint that drops packets takes long to time out: answer with what is known
            # by then, and let the check finish for later callers. Only one check at a time.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._check), HEALTH_WAIT)
        problem = self.problem or (None if self._checked else "S3 has not answered yet")
        report: dict[str, object] = {
            "ok": problem is None,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "endpoint": self.endpoint_url or "AWS",
            "urls": "public" if self.public_base_url else "presigned",
        }
        if problem is not None:
            report["error"] = problem
        return report

    async def _check_bucket(self) -> None:
        with contextlib.suppress(StorageError):  # recorded in self.problem
            await self._bucket_op(
                lambda client: client.list_objects_v2(
                    Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1
                )
            )

    # -- listing --------------------------------------------------------------------------------

    def _list_objects(self, client: Any) -> builtins.list[_Listed]:
        found: builtins.list[_Listed] = []
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for entry in page.get("Contents", []):
                key = entry["Key"][len(self.prefix) :]
                if key and not key.endswith("/"):
                    found.append(_Listed(key, int(entry["Size"]), entry.get("ETag", "")))
        return found

    async def _describe(self, item: _Listed) -> StoredFile | None:
        """The object as a StoredFile from its metadata, probing it once if it has none."""
        full_key = self.prefix + item.key
        try:
            head = await self._run(
                lambda client: client.head_object(Bucket=self.bucket, Key=full_key),
                one_object=True,
            )
        except _ObjectError as error:
            log.warning("skipping s3 %s: %s", item.key, error)
            return None
        meta = _decode(head.get("Metadata", {}))
        if "rendition-of" in meta:
            # A converted copy belongs to its video, never a video of its own; its duration,
            # when given, sizes its URLs' lifetime.
            if rendition_duration := _float(meta.get("duration")):
                self._durations[_stem(item.key)] = rendition_duration
            return None
        content_type = head.get("ContentType", "")
        if content_type in _GENERIC_TYPES:
            content_type = mimetypes.guess_type(item.key)[0] or "video/webm"
        duration = _float(meta.get("duration"))
        if duration is None:
            # Our uploads always have a duration; anything else must at least look like a video.
            if Path(item.key).suffix.lower() not in VIDEO_SUFFIXES:
                return None
            duration = await self._probe(item, content_type, meta)
            if duration is None:
                return None
        return StoredFile(item.key, item.size, content_type, meta.get("title") or None, duration)

    async def _probe(self, item: _Listed, content_type: str, meta: dict[str, str]) -> float | None:
        """Download an object that has no duration, probe it, and write the duration back to
        its metadata so no later start downloads it again."""
        if item.size > self.max_probe_size:
            log.warning("skipping s3 %s: no duration metadata and too large to probe", item.key)
            return None
        full_key = self.prefix + item.key
        self.work_dir.mkdir(parents=True, exist_ok=True)
        work = self.work_dir / f"s3-probe-{uuid.uuid4().hex}"
        log.info("s3 %s has no duration metadata: downloading it once to probe it", item.key)
        try:
            await self._run(
                lambda client: client.download_file(
                    self.bucket, full_key, str(work), Config=TRANSFERS
                ),
                transfer=True,
                one_object=True,
            )
            duration = (await asyncio.to_thread(probe, work)).duration
        except _ObjectError as error:
            log.warning("skipping s3 %s: download failed: %s", item.key, error)
            return None
        except ProbeError as error:
            log.warning("skipping s3 %s: %s", item.key, error)
            return None
        finally:
            work.unlink(missing_ok=True)
        if item.size <= MAX_COPY_SIZE:
            new_meta = _encode({**meta, "duration": f"{duration:.3f}"})
            try:
                await self._run(
                    lambda client: client.copy_object(
                        Bucket=self.bucket,
                        Key=full_key,
                        CopySource={"Bucket": self.bucket, "Key": full_key},
                        MetadataDirective="REPLACE",
                        ContentType=content_type,  # a generic one gets fixed on the way
                        Metadata=new_meta,
                    ),
                    one_object=True,
                )
            except _ObjectError as error:
                log.warning("could not save the duration of s3 %s: %s", item.key, error)
        return duration

    # -- calling boto3 ----------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._client_ is None:
            options: dict[str, Any] = {"signature_version": "s3v4"}
            if self.endpoint_url:
                # Compatible stores rarely serve bucket subdomains.
                options["s3"] = {"addressing_style": "path"}
            config = Config(
                connect_timeout=3,
                read_timeout=20,
                retries={"max_attempts": 3, "mode": "standard"},
                **options,
            )
            try:
                self._client_ = boto3.session.Session().client(
                    "s3",
                    endpoint_url=self.endpoint_url or None,
                    region_name=self.region or None,
                    aws_access_key_id=self._access[0],
                    aws_secret_access_key=self._access[1],
                    config=config,
                )
            except (ValueError, BotoCoreError) as error:
                raise StorageError(f"invalid S3 settings: {error}") from error
        return self._client_

    async def _run(
        self, call: Callable[[Any], T], transfer: bool = False, one_object: bool = False
    ) -> T:
        """Run a boto3 call in a thread; failures come back as StorageError, or as _ObjectError
        when `one_object` says a refusal concerns that object only (the bucket just listed)."""

        def work() -> T:
            return call(self._client())

        try:
            if transfer:
                return await asyncio.get_running_loop().run_in_executor(self._transfers, work)
            return await asyncio.to_thread(work)
        except StorageError:
            raise
        except Exception as error:
            cause = _root(error)
            if not isinstance(cause, BotoCoreError | ClientError):
                raise
            message = self._explain(cause, one_object)
            if one_object and isinstance(cause, ClientError):
                raise _ObjectError(message) from error
            raise StorageError(message) from error

    async def _bucket_op(self, call: Callable[[Any], T], transfer: bool = False) -> T:
        """Like _run, and the outcome tells health whether the bucket works."""
        try:
            result = await self._run(call, transfer)
        except StorageError as error:
            self._record(str(error))
            raise
        self._record(None)
        return result

    def _record(self, problem: str | None) -> None:
        self._checked = time.monotonic()
        if problem != self.problem:
            if problem is None:
                log.info("S3 %s works again", self.where)
            else:
                log.warning("S3 %s is unusable: %s", self.where, problem)
        self.problem = problem

    def _explain(self, error: BotoCoreError | ClientError, one_object: bool = False) -> str:
        """A message for users and the log: what is wrong, and which setting to look at."""
        if isinstance(error, (EndpointConnectionError, ConnectTimeoutError)):
            return f"cannot reach S3 at {self.endpoint_url or 'AWS'}; check S3_ENDPOINT_URL"
        if isinstance(error, ReadTimeoutError):
            return f"S3 at {self.endpoint_url or 'AWS'} stopped answering"
        if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
            return "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        if not isinstance(error, ClientError):
            return f"S3 request failed: {error}"
        code = _code(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code in ("NoSuchKey", "404") and one_object:
            return "the object is gone"
        if code in ("NoSuchBucket", "404"):
            return f"bucket {self.bucket!r} does not exist; check S3_BUCKET_NAME"
        if code == "InvalidAccessKeyId":
            return "S3 does not know this access key; check AWS_ACCESS_KEY_ID"
        if code == "SignatureDoesNotMatch":
            return "S3 rejected the secret key; check AWS_SECRET_ACCESS_KEY"
        if code in ("AccessDenied", "403"):
            return f"access to bucket {self.bucket!r} denied: {message or 'check permissions'}"
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301"):
            return f"bucket {self.bucket!r} is not in region {self.region!r}; check AWS_REGION"
        if code == "InvalidBucketName":
            return f"{self.bucket!r} is not a valid bucket name; check S3_BUCKET_NAME"
        return f"S3 error {code}: {message}".rstrip(": ")


class _ObjectError(StorageError):
    """Only this object is affected (gone, or not readable); the bucket itself works."""


def _root(error: BaseException) -> BaseException:
    """boto3's transfer manager wraps the real ClientError; find it."""
    seen = error
    while not isinstance(seen, (BotoCoreError, ClientError)):
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:
            return error
        seen = nxt
    found: BaseException = seen
    return found


def _stem(key: str) -> str:
    return key.rsplit(".", 1)[0]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _encode(metadata: dict[str, str]) -> dict[str, str]:
    # S3 metadata travels as HTTP headers, which carry ASCII only.
    return {k: quote(v, safe=" !$&'()*+,-./:;=?@_~") for k, v in metadata.items()}


def _decode(metadata: dict[str, str]) -> dict[str, str]:
    return {k.lower(): unquote(v) for k, v in metadata.items()}


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number and number > 0 else None
