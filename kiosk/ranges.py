"""HTTP byte ranges (RFC 9110 §14) for files the kiosk serves from its cache: the page's video
element seeks with them."""

from __future__ import annotations

import re

_SINGLE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UnsatisfiableRangeError(ValueError):
    """A range that lies outside the file: answered 416."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive, of a single range; None for the whole file (no header,
    or a form this server does not split up, such as several ranges)."""
    if not header:
        return None
    match = _SINGLE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0 or size == 0:
            raise UnsatisfiableRangeError(header)
        return max(0, size - length), size - 1
    start = int(first)
    if start >= size:
        raise UnsatisfiableRangeError(header)
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None  # invalid: ignored, as the RFC says
    return start, end
