"""The console's API against a real server: signing in, who may call what, the audit log.

Every refusal is JSON with the reason, 401 without credentials and 403 with the wrong role, and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from .live import ROOT, LiveServer
from .mediafiles import make_webm
from .sse import stream

ADMIN = {"Authorization": "Bearer admin-secret"}
UPLOADER = {"Authorization": "Bearer upload-pass"}


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, long_channel: Callable[[Path, int], Path]
) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("console")
    samples = long_channel(workdir / "samples", 3)
    env = {
        "STATIC_DIR": str(samples),
        "ADMIN_TOKEN": "admin-secret",
        "UPLOAD_ACCESS": "token",
        "UPLOAD_TOKEN": "upload-pass",
    }
    with LiveServer(workdir, env) as server:
        server.posters_made()
        yield server



def snapshot(live: LiveServer) -> Any:
    """What a refused call must leave alone: the catalog, what plays, banner and override."""
    catalog = httpx.get(live.url + "/videos", headers=ADMIN).json()
    with stream(live.url) as events:
        state = events.next().data
    on_air = (state["id"], state["start_time"], state["banner"], state["override"])
    return catalog["videos"], catalog["current_index"], on_air


@contextmanager
def signed_in(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url) as client:
        answer = client.post("/session", json={"token": "admin-secret"})
        assert answer.status_code == 200 and answer.json()["role"] == "admin"
        yield client


def test_signing_in_sets_a_strict_http_only_session_cookie(live: LiveServer) -> None:
    answer = httpx.post(live.url + "/session", json={"token": "admin-secret"})
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    behind_tls = httpx.post(
        live.url + "/session",
        json={"token": "admin-secret"},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in behind_tls.headers["set-cookie"]
    with signed_in(live) as client:
        who = client.get("/session").json()
        assert who["role"] == "admin" and who["via"].startswith("session:")
        assert client.get("/admin/audit").status_code == 200
        out = client.delete("/session")
        assert out.status_code == 200 and "simulcast_session=;" in out.headers["set-cookie"]
        assert client.get("/session").json()["role"] is None
        assert client.get("/admin/audit").status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [({"token": "wrong"}, 401), ({}, 400), ({"token": 5}, 400), (["admin-secret"], 400)],
)
def test_a_bad_sign_in_is_refused_with_a_reason(
    live: LiveServer, body: Any, status: int
) -> None:
    answer = httpx.post(live.url + "/session", json=body)
    assert answer.status_code == status
    assert answer.json()["success"] is False and answer.json()["error"]
    assert "set-cookie" not in answer.headers


ADMIN_CALLS = [
    ("POST", "/skip", None),
    ("DELETE", "/videos/{id}", None),
    ("GET", "/admin/audit", None),
    ("PUT", "/playlist", {"ids": []}),
    ("POST", "/videos/{id}/next", None),
    ("PATCH", "/videos/{id}", {"hidden": True, "title": "Taken over"}),
    ("POST", "/videos/{id}/approve", None),
    ("POST", "/override", {"id": "{id}"}),
    ("DELETE", "/override", None),
    ("PUT", "/banner", {"text": "Taken over"}),
    ("DELETE", "/banner", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_admin_calls_refuse_other_callers_and_change_nothing(
    live: LiveServer, method: str, path: str, body: Any
) -> None:
    before = snapshot(live)
    video_id = before[0][-1]["id"]
    url = live.url + path.format(id=video_id)
    if isinstance(body, dict) and body.get("id"):
        body = {"id": video_id}
    cases = [({}, 401), ({"Authorization": "Bearer wrong"}, 401), (UPLOADER, 403)]
    for headers, status in cases:
        answer = httpx.request(method, url, json=body, headers=headers)
        assert answer.status_code == status, (headers, answer.text)
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["success"] is False and answer.json()["needs"] == "admin"
        if status == 401:
            assert answer.headers["www-authenticate"].startswith("Bearer")
    assert snapshot(live) == before


def test_uploads_need_the_passcode_in_token_mode(live: LiveServer, tmp_path: Path) -> None:
    clip = make_webm(tmp_path / "clip.webm", seconds=1.0)
    before = snapshot(live)
    for headers, status in [({}, 401), ({"Authorization": "Bearer nope"}, 401)]:
        with clip.open("rb") as handle:
            answer = httpx.post(
                live.url + "/uploads", files={"video": handle}, headers=headers, timeout=60
            )
        assert answer.status_code == status and "passcode" in answer.json()["error"]
    assert snapshot(live) == before
    assert not any(live.upload_dir.iterdir())
    with clip.open("rb") as handle:
        answer = httpx.post(
            live.url + "/uploads", files={"video": handle}, headers=UPLOADER, timeout=60
        )
    assert answer.status_code == 201, answer.text
    who = httpx.get(live.url + "/session", headers=UPLOADER).json()
    assert (who["role"], who["may_upload"]) == ("uploader", True)
    assert httpx.get(live.url + "/session").json()["may_upload"] is False


def test_the_audit_log_says_who_did_what(live: LiveServer) -> None:
    httpx.post(live.url + "/session", json={"token": "guess"})
    with signed_in(live) as client:
        assert client.post("/skip").status_code == 200
        sid = client.get("/session").json()["via"]
        entries = client.get("/admin/audit").json()["entries"]
    newest = entries[0]
    assert (newest["action"], newest["role"], newest["via"]) == ("skip", "admin", sid)
    assert newest["ip"] == "127.0.0.1" and newest["target"]
    assert entries[1]["action"] == "sign in" and entries[1]["via"] == sid
    refused = next(e for e in entries if e["action"] == "sign-in refused")
    assert refused["role"] is None
    by_token = httpx.post(live.url + "/skip", headers=ADMIN)
    assert by_token.status_code == 200
    latest = httpx.get(live.url + "/admin/audit?limit=1", headers=ADMIN).json()["entries"]
    assert len(latest) == 1 and latest[0]["via"] == "token"
    assert httpx.get(live.url + "/admin/audit?limit=x", headers=ADMIN).status_code == 400


def test_the_console_page_is_served(live: LiveServer) -> None:
    page = httpx.get(live.url + "/admin")
    assert page.status_code == 200 and 'role="tablist"' in page.text


def test_refused_calls_change_nothing_even_with_a_banner_and_override_on(live: LiveServer) -> None:
    """The refusals above ran with neither; with both on, a refused DELETE leaves them."""
    video_id = next(v["id"] for v in snapshot(live)[0] if v["duration"] > 100)
    assert httpx.put(live.url + "/banner", json={"text": "Hello"}, headers=ADMIN).status_code == 200
    assert httpx.post(live.url + "/override", json={"id": video_id}, headers=ADMIN).is_success
    before = snapshot(live)
    for path in ("/banner", "/override"):
        assert httpx.delete(live.url + path, headers=UPLOADER).status_code == 403
        assert httpx.delete(live.url + path).status_code == 401
    assert snapshot(live) == before
    assert before[2][2:] == ("Hello", before[2][3]) and before[2][3]["id"] == video_id
    httpx.delete(live.url + "/banner", headers=ADMIN)
    httpx.delete(live.url + "/override", headers=ADMIN)


def test_deleted_and_hidden_samples_stay_so_after_a_restart(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    env = {"ADMIN_TOKEN": "admin-secret"}
    first = start_server(env, tmp_path / "keep")
    red, green, blue = (v["id"] for v in httpx.get(first.url + "/videos").json()["videos"])
    assert httpx.delete(f"{first.url}/videos/{red}", headers=ADMIN).status_code == 200
    hidden = httpx.patch(f"{first.url}/videos/{green}", json={"hidden": True}, headers=ADMIN)
    assert hidden.status_code == 200
    first.stop()
    again = start_server(env, tmp_path / "keep")
    listed = {v["id"]: v for v in httpx.get(again.url + "/videos", headers=ADMIN).json()["videos"]}
    assert red not in listed  # today's bug: it came back at the end of the list
    assert listed[green]["hidden"] is True and listed[green]["index"] is None
    assert listed[blue]["index"] == 0
    assert httpx.delete(f"{again.url}/videos/{red}", headers=ADMIN).status_code == 404
    assert (ROOT / "static").is_dir() and any((ROOT / "static").iterdir())  # files untouched


def test_samples_off_starts_without_them(start_server: Callable[..., LiveServer]) -> None:
    live = start_server({"SAMPLES": "off"})
    assert httpx.get(live.url + "/videos").json()["videos"] == []
    with stream(live.url) as events:
        assert events.next().data["id"] == ""
