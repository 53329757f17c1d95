"""Every setting, declared once with its default and help text.

Values come from the process environment, which `load_settings` first fills from a `.env` file
(python-dotenv) when one exists. `.env.example` and the README's configuration table are checked
against `SETTINGS` by a test, so a setting cannot go undocumented. `Settings` gives each one
its type (for mypy and readers); its fields and `SETTINGS` are checked against each other as
this module loads, so neither can gain a setting the other lacks.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from dotenv import dotenv_values
from limits import RateLimitItem, parse_many

from shared.programme import zone

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
# `pip install .` carries the pages and samples inside the package (setup.py); a source checkout
# keeps them beside it. Installed, relative paths and `.env` are those of the working directory.
INSTALLED = (PACKAGE / "web").is_dir()
BROWSER_DIR = PACKAGE / "web" if INSTALLED else ROOT / "browser"
SAMPLES_DIR = PACKAGE / "samples" if INSTALLED else ROOT / "static"
OPENAPI_FILE = PACKAGE / "openapi.json" if INSTALLED else ROOT / "docs" / "openapi.json"
HOME = Path.cwd() if INSTALLED else ROOT


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    cast: Callable[[str], Any] = str


def _size(value: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    value = value.strip().upper().removesuffix("B")
    if value and value[-1] in units:
        return int(float(value[:-1]) * units[value[-1]])
    return int(value)


def _bitrate(value: str) -> int:
    """Bits per second: '1500k', '1.5M' or '1500000'."""
    units = {"K": 1000, "M": 1000**2}
    value = value.strip().upper()
    if value and value[-1] in units:
        return int(float(value[:-1]) * units[value[-1]])
    return int(value)


def _choice(*allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(value)
        return value

    return check


def _log_format(value: str) -> str:
    if value not in ("text", "json"):
        raise ValueError(value)
    return value


def _limits(value: str) -> list[RateLimitItem]:
    """'20/10 seconds', '10/minute;100/hour' (the `limits` notation); empty or 0: no limit."""
    value = value.strip()
    return [] if value in ("", "0") else parse_many(value)


def _seconds(value: str) -> float:
    """'4h', '90m', '45s' or plain seconds."""
    units = {"H": 3600, "M": 60, "S": 1}
    value = value.strip().upper()
    if value and value[-1] in units:
        return float(value[:-1]) * units[value[-1]]
    return float(value)


def _pixels(value: str) -> int:
    """'7680x4320' or a number of pixels."""
    width, x, height = value.strip().lower().partition("x")
    return int(width) * int(height) if x else int(value)


def _path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else HOME / path


def _samples(value: str) -> Path:
    return SAMPLES_DIR if value == "static" else _path(value)


SETTINGS: tuple[Setting, ...] = (
    Setting("HOST", "127.0.0.1", "Address to listen on (0.0.0.0 for every interface)."),
    Setting("PORT", "8000", "TCP port to listen on.", int),
    Setting("DATA_DIR", "data", "Folder for the embedded store (SQLite) and work files.", _path),
    Setting("UPLOAD_DIR", "uploads", "Folder for videos uploaded to local storage.", _path),
    Setting("STATIC_DIR", "static", "Folder of shipped sample videos (read-only).", _samples),
    Setting(
        "LOG_FORMAT",
        "text",
        "text (readable lines) or json (one JSON object per line: every request and domain "
        "event, for Loki or ELK).",
        _log_format,
    ),
    Setting("TRANSCODE_WORKERS", "1", "Conversions to WebM run at once, one process each.", int),
    Setting(
        "TRANSCODE_QUEUE", "20", "Uploads waiting for conversion before new ones get a 503.", int
    ),
    Setting("TRANSCODE_MAX_HEIGHT", "720", "Renditions' shorter side, at most (pixels).", int),
    Setting("TRANSCODE_VIDEO_BITRATE", "1500k", "VP9 bitrate cap of renditions (bit/s).", _bitrate),
    Setting("TRANSCODE_AUDIO_BITRATE", "96k", "Opus bitrate of renditions (bit/s).", _bitrate),
    Setting(
        "TRANSCODE_SPEED",
        "realtime",
        "VP9 encoder speed: realtime (several times faster than playback) or good (smaller "
        "files at the same quality, slower than playback on small machines).",
        _choice("realtime", "good"),
    ),
    Setting("MAX_UPLOAD_SIZE", "2G", "Largest accepted upload (bytes, or with K/M/G).", _size),
    Setting(
        "MAX_VIDEO_DURATION",
        "4h",
        "Longest accepted upload (seconds, or with h/m/s), measured from its packets.",
        _seconds,
    ),
    Setting(
        "MAX_VIDEO_PIXELS",
        "7680x4320",
        "Largest accepted picture (WIDTHxHEIGHT or a number of pixels), refused before decoding.",
        _pixels,
    ),
    Setting(
        "TRANSCODE_MEMORY_LIMIT",
        "2G",
        "Address space of each converter and poster process (bytes, or with K/M/G): a bad file "
        "fails its own job, never the server.",
        _size,
    ),
    Setting(
        "ADMIN_TOKEN",
        "",
        "Admin password: Bearer token for scripts and the sign-in of /admin; empty disables "
        "every admin call.",
    ),
    Setting(
        "UPLOAD_ACCESS",
        "open",
        "Who may upload: open (anyone), token (whoever knows UPLOAD_TOKEN, or an admin) or "
        "admin (signed-in admins only).",
        _choice("open", "token", "admin"),
    ),
    Setting("UPLOAD_TOKEN", "", "The uploaders' passcode when UPLOAD_ACCESS=token."),
    Setting(
        "UPLOAD_APPROVAL",
        "off",
        "on: new uploads wait for an admin's approval before they join the rotation.",
        _choice("on", "off"),
    ),
    Setting(
        "SAMPLES",
        "on",
        "off: the shipped sample videos (STATIC_DIR) are not added to the channel.",
        _choice("on", "off"),
    ),
    Setting("SESSION_HOURS", "12", "How long an admin stays signed in (hours).", float),
    Setting(
        "METRICS_TOKEN",
        "",
        "Bearer token for GET /metrics; empty leaves it open to 127.0.0.1 only.",
    ),
    Setting("PLAY_LOG_DAYS", "30", "Days the proof-of-play log keeps what played.", float),
    Setting(
        "TIMEZONE",
        "UTC",
        "IANA time zone of the channels' schedules (e.g. Europe/Berlin): slot times are wall-clock "
        "times there, daylight-saving changes included.",
        zone,
    ),
    Setting(
        "ALLOWED_ORIGINS",
        "",
        "Other sites (comma-separated origins, e.g. https://console.example.org) whose pages may "
        "make state-changing calls; pages of other sites get 403.",
    ),
    Setting(
        "TRUSTED_PROXY_HOPS",
        "0",
        "Proxies in front (nginx: 1) whose X-Forwarded-For/-Proto/-Host are believed: rate "
        "limits then count the real client address.",
        int,
    ),
    Setting("VOTE_LIMIT_PER_VIEWER", "30/10 seconds", "Votes one viewer may cast.", _limits),
    Setting(
        "VOTE_LIMIT_PER_IP",
        "120/10 seconds",
        "Votes from one client address (many viewers may share one behind a NAT).",
        _limits,
    ),
    Setting("UPLOAD_LIMIT_PER_VIEWER", "20/hour", "Uploads one viewer may make.", _limits),
    Setting("UPLOAD_LIMIT_PER_IP", "60/hour", "Uploads from one client address.", _limits),
    Setting(
        "SIGN_IN_LIMIT_PER_IP",
        "10/minute;50/hour",
        "Console sign-in attempts from one client address (guessing the admin token).",
        _limits,
    ),
    Setting(
        "MAX_REQUEST_BODY",
        "64K",
        "Largest body of any request but an upload (bytes, or with K/M/G): 413 beyond.",
        _size,
    ),
    Setting(
        "UPLOAD_IDLE_TIMEOUT",
        "30",
        "Seconds an upload may send nothing before it is dropped and its partial file removed.",
        float,
    ),
    Setting("REDIS_URL", "", "redis:// URL: share state between workers and machines."),
    Setting(
        "FANOUT",
        "local",
        "Who holds the viewers' event streams: local (this process) or nchan (nginx's nchan "
        "module; the app publishes each event once to NCHAN_PUBLISH_URL).",
        _choice("local", "nchan"),
    ),
    Setting(
        "NCHAN_PUBLISH_URL",
        "",
        "The nchan publisher location of the channel (e.g. http://127.0.0.1:8080/pub/simulcast);"
        " needed with FANOUT=nchan.",
    ),
    Setting(
        "MEDIA_ACCEL_REDIRECT",
        "",
        "Internal nginx location prefix (e.g. /protected/): hand local video files to nginx "
        "with X-Accel-Redirect instead of sending them from Python.",
    ),
    Setting(
        "MEDIA_SECURE_LINK",
        "",
        "nginx location prefix with secure_link (e.g. /media/signed/): local videos are "
        "answered with a redirect to a short-lived signed URL there, so nginx alone sends "
        "every byte range; needs MEDIA_SECURE_LINK_SECRET.",
    ),
    Setting(
        "MEDIA_SECURE_LINK_SECRET",
        "",
        "The secret shared with nginx's secure_link_md5 (a long random string).",
    ),
    Setting(
        "MEDIA_SECURE_LINK_EXPIRY",
        "21600",
        "Seconds a signed media URL stays valid: longer than the longest video, as browsers "
        "keep using it for every range of that video.",
        int,
    ),
    Setting("AWS_ACCESS_KEY_ID", "", "S3 access key."),
    Setting("AWS_SECRET_ACCESS_KEY", "", "S3 secret key."),
    Setting("AWS_REGION", "us-east-1", "S3 region."),
    Setting("S3_BUCKET_NAME", "", "S3 bucket for uploads; empty keeps uploads local."),
    Setting("S3_ENDPOINT_URL", "", "Endpoint of an S3-compatible store (MinIO, SeaweedFS...)."),
    Setting("S3_PREFIX", "videos/", "Key prefix of videos in the bucket."),
    Setting("S3_PUBLIC_BASE_URL", "", "Public or CDN base URL of the bucket (skips presigning)."),
    Setting(
        "S3_URL_EXPIRY",
        "3600",
        "Presigned GET URLs stay valid this many seconds beyond the video's duration.",
        int,
    ),
    Setting(
        "S3_RESYNC_INTERVAL",
        "30",
        "Seconds between bucket listings (new objects join; S3 back after an outage).",
        float,
    ),
)


@dataclass(frozen=True)
class Settings:
    """The values of SETTINGS, typed; the defaults and help are there, declared once."""

    host: str
    port: int
    data_dir: Path
    upload_dir: Path
    static_dir: Path
    log_format: Literal["text", "json"]
    transcode_workers: int
    transcode_queue: int
    transcode_max_height: int
    transcode_video_bitrate: int
    transcode_audio_bitrate: int
    transcode_speed: Literal["realtime", "good"]
    max_upload_size: int
    admin_token: str
    upload_access: Literal["open", "token", "admin"]
    upload_token: str
    upload_approval: Literal["on", "off"]
    samples: Literal["on", "off"]
    session_hours: float
    metrics_token: str
    play_log_days: float
    timezone: ZoneInfo
    redis_url: str
    fanout: Literal["local", "nchan"]
    nchan_publish_url: str
    media_accel_redirect: str
    media_secure_link: str
    media_secure_link_secret: str
    media_secure_link_expiry: int
    aws_access_key_id: str
    aws_secret_access_key: str
    aws_region: str
    s3_bucket_name: str
    s3_endpoint_url: str
    s3_prefix: str
    s3_public_base_url: str
    s3_url_expiry: int
    s3_resync_interval: float
    max_video_duration: float
    max_video_pixels: int
    transcode_memory_limit: int
    allowed_origins: str
    trusted_proxy_hops: int
    vote_limit_per_viewer: list[RateLimitItem]
    vote_limit_per_ip: list[RateLimitItem]
    upload_limit_per_viewer: list[RateLimitItem]
    upload_limit_per_ip: list[RateLimitItem]
    sign_in_limit_per_ip: list[RateLimitItem]
    max_request_body: int
    upload_idle_timeout: float

    def rate_limits(self, family: str, scope: str) -> list[RateLimitItem]:
        """The `<FAMILY>_LIMIT_PER_<SCOPE>` setting; none when there is no such setting."""
        limits: list[RateLimitItem] = getattr(self, f"{family}_limit_per_{scope}", [])
        return limits

    def replace(self, **overrides: Any) -> Settings:
        return dataclasses.replace(self, **overrides)


_declared = {s.name.lower() for s in SETTINGS}
_typed = {f.name for f in dataclasses.fields(Settings)}
if _declared != _typed:
    raise RuntimeError(
        "server/config.py: every setting is declared in SETTINGS (default, help, parser) and "
        f"typed as a field of Settings; only in SETTINGS: {sorted(_declared - _typed)}, only "
        f"in Settings: {sorted(_typed - _declared)}"
    )


def load_settings(
    env: Mapping[str, str] | None = None, env_file: Path | None = HOME / ".env"
) -> Settings:
    """Real environment wins over `.env`, which wins over the defaults."""
    source: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        source.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    source.update(os.environ if env is None else env)
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = source.get(setting.name, setting.default)
        try:
            values[setting.name.lower()] = setting.cast(raw)
        except ValueError:
            raise SystemExit(f"Setting {setting.name}={raw!r} is invalid: {setting.help}") from None
    settings = Settings(**values)
    if settings.upload_access == "token" and not settings.upload_token:
        raise SystemExit("UPLOAD_ACCESS=token needs UPLOAD_TOKEN: set the uploaders' passcode.")
    if settings.upload_access == "admin" and not settings.admin_token:
        raise SystemExit("UPLOAD_ACCESS=admin needs ADMIN_TOKEN: nobody could upload otherwise.")
    if settings.media_secure_link and not settings.media_secure_link_secret:
        raise SystemExit("MEDIA_SECURE_LINK needs MEDIA_SECURE_LINK_SECRET (shared with nginx).")
    if settings.fanout == "nchan" and not settings.nchan_publish_url:
        raise SystemExit("FANOUT=nchan needs NCHAN_PUBLISH_URL (the nchan publisher location).")
    return settings
