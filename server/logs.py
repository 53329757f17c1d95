"""Log output: readable lines by default, or JSON lines (LOG_FORMAT=json) that go straight
into Loki or ELK: one object per request (Hypercorn's access log) and per domain event."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

EVENTS = logging.getLogger("simulcast.events")
ACCESS = logging.getLogger("hypercorn.access")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Hypercorn's access-log atoms worth a field (all of them would include the environment).
_REQUEST_FIELDS = {
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "b": "bytes",
    "h": "client",
    "a": "user_agent",
}


def event(name: str, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """Record a domain event: `message` in readable logs; `event` and `fields` as JSON keys."""
    EVENTS.log(level, message, extra={"event": name, "fields": fields})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == ACCESS.name and isinstance(record.args, Mapping):
            atoms = record.args
            entry["event"] = "request"
            entry |= {key: atoms[atom] for atom, key in _REQUEST_FIELDS.items()}
            status = str(atoms["s"])
            entry["status"] = int(status) if status.isdigit() else None
            entry["duration_ms"] = round(int(str(atoms["D"])) / 1000, 3)
        else:
            entry["message"] = record.getMessage()
            if name := getattr(record, "event", None):
                entry["event"] = name
                entry |= getattr(record, "fields", {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(log_format: str) -> None:
    """Send every log record to stderr in the chosen format (and requests too, in JSON)."""
    handler = logging.StreamHandler()
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
