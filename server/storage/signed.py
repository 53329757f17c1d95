"""Short-lived signed URLs for nginx's secure_link module: with nginx in front, local files are
served like S3's presigned objects. The app answers /media/v/<id> with a redirect to a URL it
signed; nginx checks the signature and the expiry and sends every byte range itself, so the
app costs one request per playback instead of one per range."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote


@dataclass(frozen=True)
class SecureLinks:
    prefix: str  # the nginx location, e.g. /media/signed/
    secret: str
    lifetime: int  # seconds; browsers keep using the URL for every range of that video
    now: Callable[[], float] = field(default=time.time, compare=False)

    def url(self, storage: str, key: str) -> str:
        """nginx's check: `secure_link_md5 "$secure_link_expires$uri <secret>"`, where $uri
        is the decoded path; the URL carries it escaped."""
        path = f"/{self.prefix.strip('/')}/{storage}/{key}"
        expires = int(self.now()) + self.lifetime
        digest = hashlib.md5(f"{expires}{path} {self.secret}".encode()).digest()
        signature = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        return f"{quote(path)}?md5={signature}&expires={expires}"
