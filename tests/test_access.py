"""Who a caller is: tokens, the uploaders' passcode and signed session cookies (no server)."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from server.access import ADMIN, UPLOADER, Access
from server.config import load_settings


def access(**env: str) -> Access:
    return Access(load_settings(env={"ADMIN_TOKEN": "admin-secret", **env}, env_file=None))


def test_bearer_tokens_give_their_roles() -> None:
    gate = access(UPLOAD_ACCESS="token", UPLOAD_TOKEN="pass")
    assert gate.identify("Bearer admin-secret", "", "1.2.3.4").role == ADMIN
    assert gate.identify("bearer pass", "", "").role == UPLOADER
    wrong = gate.identify("Bearer admin-secre", "", "")
    assert (wrong.role, wrong.rejected) == (None, True)
    assert gate.identify("", "", "").rejected is False


def test_the_passcode_counts_only_in_token_mode() -> None:
    assert access(UPLOAD_TOKEN="pass").identify("Bearer pass", "", "").role is None


def test_a_session_cookie_is_an_admin_until_it_expires_or_the_token_changes() -> None:
    gate = access()
    opened = gate.sign_in("admin-secret")
    assert opened is not None and gate.sign_in("nope") is None
    sid, cookie = opened
    actor = gate.identify("", cookie, "10.0.0.1")
    assert (actor.role, actor.via, actor.ip) == (ADMIN, f"session:{sid}", "10.0.0.1")
    assert gate.identify("", cookie[:-2] + "xx", "").role is None  # tampered
    assert access(ADMIN_TOKEN="rotated").identify("", cookie, "").role is None
    assert access(SESSION_HOURS="0.0001").identify("", cookie, "").role == ADMIN
    time.sleep(1.1)  # itsdangerous timestamps have one-second resolution
    assert access(SESSION_HOURS="0.0001").identify("", cookie, "").role is None


def test_a_cookie_signed_with_another_key_is_refused() -> None:
    forged = URLSafeTimedSerializer(b"guess", salt="admin-session").dumps({"sid": "x"})
    assert access().identify("", forged, "").role is None


def test_no_admin_token_means_no_sessions() -> None:
    gate = Access(load_settings(env={}, env_file=None))
    assert gate.sign_in("") is None and not gate.admin_enabled


@pytest.mark.parametrize(
    ("mode", "anonymous", "uploader"), [("open", True, True), ("token", False, True)]
)
def test_who_may_upload(mode: str, anonymous: bool, uploader: bool) -> None:
    gate = access(UPLOAD_ACCESS=mode, UPLOAD_TOKEN="pass")
    assert gate.may_upload(gate.identify("", "", "")) is anonymous
    assert gate.may_upload(gate.identify("Bearer pass", "", "")) is uploader
    assert gate.may_upload(gate.identify("Bearer admin-secret", "", ""))


def test_admin_only_uploads() -> None:
    gate = access(UPLOAD_ACCESS="admin", UPLOAD_TOKEN="pass")
    assert not gate.may_upload(gate.identify("Bearer pass", "", ""))
    assert gate.may_upload(gate.identify("Bearer admin-secret", "", ""))


def test_inconsistent_upload_settings_stop_the_start_with_a_reason() -> None:
    with pytest.raises(SystemExit, match="UPLOAD_TOKEN"):
        load_settings(env={"UPLOAD_ACCESS": "token"}, env_file=None)
    with pytest.raises(SystemExit, match="ADMIN_TOKEN"):
        load_settings(env={"UPLOAD_ACCESS": "admin"}, env_file=None)
    with pytest.raises(SystemExit, match="UPLOAD_ACCESS='everyone'"):
        load_settings(env={"UPLOAD_ACCESS": "everyone"}, env_file=None)
