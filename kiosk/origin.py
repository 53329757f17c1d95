"""The kiosk's own little web server, which its page is loaded from.

It stands between the page and the Simulcast server: page files and media pass through from
the server (and are kept), media come from the cache when it holds them (with byte ranges),
`/time` answers with the kiosk's estimate of the server clock and `/video-updates` with the
LocalChannel's states. So the unchanged page plays on when the server is away. Bound to
127.0.0.1 only: nothing else on the network talks to it.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from kiosk.cache import MediaCache
from kiosk.channel import KEEPALIVE_S, LocalChannel
from kiosk.pages import PAGE_PATHS, PageFiles, content_type, is_page_file, name_server
from kiosk.ranges import UnsatisfiableRangeError, parse_range
from shared.protocol import RETRY_MS

log = logging.getLogger("kiosk")

PAGE_TIMEOUT_S = 3.0
MEDIA_TIMEOUT_S = 10.0
CHUNK = 256 * 1024
MEDIA_PREFIX = "/media/"
REPORT_PATH = "/screens/report"
MAX_ANSWER = 64 * 1024  # a report's answer is a few hundred bytes
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "ETag",
                  "Last-Modified", "Cache-Control")


class Origin:
    def __init__(self, channel: LocalChannel, cache: MediaCache, pages: PageFiles,
                 port: int = 0, told: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.channel, self.cache, self.pages = channel, cache, pages
        self.told = told  # the server's answers to the page's screen reports (kiosk.moves)
        self.started = time.time()
        handler = type("Handler", (_Handler,), {"origin": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="origin",
                                        daemon=True)

    def start(self) -> Origin:
        self._thread.start()
        log.info("local server on %s (cache %s)", self.url, self.cache.folder)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def ready(self) -> bool:
        """The channel can be shown: a schedule and a clock, and a page to show it with."""
        return self.channel.ready() and (self.channel.online or self.pages.has("/ambient"))

    def report(self) -> dict[str, Any]:
        """What `/kiosk/status` and `--check` say about the kiosk's own state."""
        channel, page = self.channel, self.channel.page
        offline = channel.offline_seconds()
        plan = channel.plan
        # Every video it may play offline: the playlist's and the slots' that are not in it.
        clips = {c.id: c for c in (*plan.clips, *plan.slot_clips)} if plan else {}
        wanted = [c.item.get("video_url") for c in clips.values()]
        return {
            "online": channel.online,
            "offline_s": None if offline is None else round(offline, 1),
            "in_sync": channel.in_sync(),
            "cache_bytes": self.cache.total,
            "cache_limit": self.cache.limit,
            "videos_cached": sum(1 for url in wanted if isinstance(url, str)
                                 and self.cache.has(url)),
            "videos_in_playlist": len(wanted),
            "video_id": None if page is None else page.video_id,
            "offset_ms": None if page is None else round(page.offset_ms, 1),
        }


class _Handler(BaseHTTPRequestHandler):
    origin: Origin
    protocol_version = "HTTP/1.1"
    server_version = "simulcast-kiosk"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("local: " + format, *args)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        """The page's own reports (its measured sync, as a screen of the fleet) go on to the
        server; while it is away they fail as they would in a browser, and the page retries."""
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            if path == REPORT_PATH:
                self._report(body)
            else:
                self._json(405, {"success": False, "error": "Method not allowed."})
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        try:
            if path == "/time":
                self._time()
            elif path == "/video-updates":
                self._events()
            elif path == "/healthz":
                ok = self.origin.ready()
                self._json(200 if ok else 503, {"status": "ok" if ok else "waiting"})
            elif path == "/kiosk/status":
                self._json(200, self.origin.report())
            elif is_page_file(path):
                self._page_file(path)
            elif path.startswith(MEDIA_PREFIX):
                self._media(path)
            else:
                self._json(404, {"success": False, "error": "Not found."})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page went away (navigated, reloaded) mid-answer

    # --- answers ------------------------------------------------------------------------------
    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _time(self) -> None:
        now = self.origin.channel.server_now()
        if now is None:
            self._json(503, {"success": False, "error": "No server clock known yet."})
        else:
            self._json(200, {"server_time": now})

    def _events(self) -> None:
        channel = self.origin.channel
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.wfile.write(f"retry: {RETRY_MS}\n\n".encode())
        sent: object = None
        seq = channel.seq
        while True:
            key, state, until_change = channel.page_state()
            if state is not None and key != sent:
                data = json.dumps(state, separators=(",", ":"))
                self.wfile.write(f"data: {data}\n\n".encode())
                sent = key
            else:
                self.wfile.write(b": ping\n\n")
            self.wfile.flush()
            # Wake at the next switch a schedule makes by itself, at any news, or to ping.
            seq = channel.wait(seq, min(until_change, KEEPALIVE_S) + 0.001)

    def _page_file(self, path: str) -> None:
        """From the server when it answers (and kept), else the copy kept last time."""
        origin = self.origin
        body: bytes | None = None
        if origin.channel.online:
            try:
                with urllib.request.urlopen(origin.channel.server + path,
                                            timeout=PAGE_TIMEOUT_S) as response:
                    body = response.read()
                origin.pages.put(path, body)
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    self._json(404, {"success": False, "error": "Not found."})
                    return
            except (urllib.error.URLError, OSError):
                pass
        if body is None:
            body = origin.pages.get(path)
        if body is None:
            self._json(503, {"success": False, "error": "The server is away and this page "
                             "was never fetched from it."})
            return
        if path in PAGE_PATHS:
            body = name_server(body, origin.channel.server)
        self.send_response(200)
        self.send_header("Content-Type", content_type(path))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def _media(self, path: str) -> None:
        cache = self.origin.cache
        entry = cache.get(path)
        if entry is None:
            self._pass_through()
            return
        wanted = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range != entry.etag:
            wanted = None  # the asker holds another version of the file: send this one whole
        try:
            span = parse_range(wanted, entry.size)
        except UnsatisfiableRangeError:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{entry.size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        first, last = span if span is not None else (0, entry.size - 1)
        if first == 0:
            cache.played(path)  # a player starts at the beginning: count it as played now
        self.send_response(206 if span is not None else 200)
        self.send_header("Content-Type", entry.content_type)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(last - first + 1))
        if span is not None:
            self.send_header("Content-Range", f"bytes {first}-{last}/{entry.size}")
        if entry.etag:
            self.send_header("ETag", entry.etag)
        self.end_headers()
        try:
            with cache.file(path).open("rb") as source:
                source.seek(first)
                left = last - first + 1
                while left > 0:
                    chunk = source.read(min(CHUNK, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
        except FileNotFoundError:
            self.close_connection = True  # evicted mid-answer: the player asks again

    def _report(self, body: bytes) -> None:
        """The page's screen report, on to the server. The answer may carry the channel the
        console moved this screen to: that is the kiosk's to follow (its local stream then
        carries the new channel), so the page is not told, or it would look for the channel
        under /c/<slug> here."""
        request = urllib.request.Request(
            self.origin.channel.server + REPORT_PATH, data=body, method="POST",
            headers={"Content-Type": self.headers.get("Content-Type") or "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=PAGE_TIMEOUT_S) as response:
                status, raw = response.status, response.read(MAX_ANSWER)
        except urllib.error.HTTPError as exc:
            with exc:
                status, raw = exc.code, exc.read(MAX_ANSWER)
        except (urllib.error.URLError, OSError):
            self._json(503, {"success": False, "error": "The server is away."})
            return
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            self._json(502, {"success": False, "error": "The server's answer is not JSON."})
            return
        if status == 200 and self.origin.told is not None:
            self.origin.told(answer)
        answer.pop("channel", None)
        self._json(status, answer)

    def _pass_through(self) -> None:
        """Not cached (yet), or not the kiosk's to answer: the server's answer as it comes,
        ranges and all."""
        headers = {name: value for name in ("Range", "If-Range", "Content-Type")
                   if (value := self.headers.get(name))}
        request = urllib.request.Request(self.origin.channel.server + self.path, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=MEDIA_TIMEOUT_S)
        except urllib.error.HTTPError as exc:
            response = exc
        except (urllib.error.URLError, OSError):
            self._json(503, {"success": False, "error": "The server is away (and this is not "
                             "in the kiosk's cache)."})
            return
        with response:
            self.send_response(response.status)
            for name in PASSED_HEADERS:
                if (value := response.headers.get(name)) is not None:
                    self.send_header(name, value)
            if response.headers.get("Content-Length") is None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            shutil.copyfileobj(response, self.wfile, CHUNK)

