"""The server's page files (/ambient and its scripts and styles), as last fetched, so the page
loads while the server is away."""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path
from urllib.parse import quote

from kiosk.cache import write_atomically

PAGE_PATHS = ("/ambient",)
# Scripts and styles, and the QR code of the upload page on the empty-channel card.
FILE_PREFIXES = ("/assets/", "/qr/")


def is_page_file(path: str) -> bool:
    return path in PAGE_PATHS or path.startswith(FILE_PREFIXES)


def name_server(page: bytes, server: str) -> bytes:
    """The page as served by the kiosk: it says which server it shows (for the address and the
    QR code on its empty-channel card), since its own address is the kiosk's."""
    meta = f'<meta name="simulcast-server" content="{html.escape(server)}">'
    return page.replace(b"<head>", b"<head>\n  " + meta.encode(), 1)


def content_type(path: str) -> str:
    if path in PAGE_PATHS:
        return "text/html; charset=utf-8"
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    # Module scripts must come as JavaScript, whatever this machine's mime tables say.
    return "text/javascript; charset=utf-8" if path.endswith(".js") else guessed


class PageFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def _file(self, path: str) -> Path:
        return self.folder / quote(path, safe="")

    def get(self, path: str) -> bytes | None:
        try:
            return self._file(path).read_bytes()
        except OSError:
            return None

    def put(self, path: str, body: bytes) -> None:
        if self.get(path) != body:
            write_atomically(self._file(path), body)

    def has(self, path: str) -> bool:
        return self._file(path).is_file()
