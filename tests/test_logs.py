"""LOG_FORMAT=json: every line of the server's log is one JSON object, with one per request
and one per domain event, so the log goes straight into Loki or ELK."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from .live import LiveServer
from .mediafiles import make_webm


def test_json_logs_have_an_object_per_request_and_per_event(tmp_path: Path) -> None:
    env = {"LOG_FORMAT": "json", "ADMIN_TOKEN": "secret-for-tests"}
    clip = make_webm(tmp_path / "clip.webm", seconds=1.0)
    with LiveServer(tmp_path, env) as live:
        assert httpx.get(live.url + "/videos?fresh=1").status_code == 200
        for name, body in (("clip.webm", clip.read_bytes()), ("empty.webm", b"")):
            httpx.post(live.url + "/uploads", files={"video": (name, body)}, timeout=60)
        skipped = httpx.post(
            live.url + "/skip", headers={"Authorization": "Bearer secret-for-tests"}
        )
        assert skipped.status_code == 200
        playing = httpx.get(live.url + "/videos").json()
        deadline = time.monotonic() + 10
        while '"event": "switch"' not in live.log() and time.monotonic() < deadline:
            time.sleep(0.1)
    lines = [line for line in live.log().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line parses
    assert all({"time", "level", "logger"} <= entry.keys() for entry in entries)
    requests = [e for e in entries if e.get("event") == "request"]
    (videos,) = [e for e in requests if e["path"] == "/videos" and e["query"] == "fresh=1"]
    assert videos["method"] == "GET" and videos["status"] == 200
    assert videos["duration_ms"] >= 0 and int(videos["bytes"]) > 0
    assert any(e["path"] == "/skip" and e["status"] == 200 for e in requests)
    # The skip just started a 12 s sample: no switch of the clock's lands in between.
    (switch,) = [e for e in entries if e.get("event") == "switch" and e["reason"] == "skip"]
    now = playing["videos"][playing["current_index"]]
    assert (switch["video_id"], switch["title"]) == (now["id"], now["title"])
    assert switch["message"] == f"switch to {now['title']}"
    (accepted,) = [e for e in entries if e.get("event") == "upload.accepted"]
    assert accepted["title"] == "Clip" and accepted["size"] == clip.stat().st_size
    assert accepted["status"] == "ready" and accepted["storage"] == "local"
    (refused,) = [e for e in entries if e.get("event") == "upload.refused"]
    assert (refused["status"], refused["reason"]) == (400, "This file is empty.")
    assert sum(e.get("path") == "/uploads" for e in requests) == 2
