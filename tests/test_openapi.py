"""The API's description (docs/openapi.json, served at /openapi.json) describes every route the
server registers, and a real server honours it: schemathesis generates requests for every
operation, valid and not, and checks each answer (no 5xx, documented statuses, content types
and bodies). A new endpoint fails the first test until it is described."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.config import ROOT, load_settings

from .live import LiveServer

SPEC = ROOT / "docs" / "openapi.json"
# Methods every route has by itself; the description lists what a route was registered for.
IMPLICIT = {"HEAD", "OPTIONS"}
# Answers that never end: described, but a generated request would wait for ever.
ENDLESS = ["/video-updates"]
TOKEN = "schemathesis-admin-token"


def registered() -> set[tuple[str, str]]:
    app = create_app(load_settings(env={}, env_file=None))
    found = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        found |= {(path, method.lower()) for method in rule.methods or () if method not in IMPLICIT}
    return found


def described() -> set[tuple[str, str]]:
    paths = json.loads(SPEC.read_text())["paths"]
    return {(path, method) for path, item in paths.items() for method in item}


def test_every_route_is_described_and_nothing_else() -> None:
    assert registered() - described() == set(), "routes missing from docs/openapi.json"
    assert described() - registered() == set(), "docs/openapi.json describes routes that are gone"


def test_every_state_changing_call_says_who_may_call_it() -> None:
    paths = json.loads(SPEC.read_text())["paths"]
    silent = [
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method, operation in item.items()
        if method in ("post", "put", "patch", "delete")
        and "Who may call it" not in operation.get("description", "")
    ]
    assert silent == []


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Generous limits: this run is about answers matching the description, not about 429s.
    env = {
        "ADMIN_TOKEN": TOKEN,
        "VOTE_LIMIT_PER_VIEWER": "0",
        "VOTE_LIMIT_PER_IP": "0",
        "UPLOAD_LIMIT_PER_VIEWER": "0",
        "UPLOAD_LIMIT_PER_IP": "0",
        "SIGN_IN_LIMIT_PER_IP": "0",
    }
    with LiveServer(tmp_path_factory.mktemp("openapi"), env) as server:
        yield server


def test_the_server_serves_the_description(live: LiveServer) -> None:
    served = httpx.get(live.url + "/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(SPEC.read_text())


def test_generated_requests_get_documented_answers(live: LiveServer, tmp_path: Path) -> None:
    """Bounded (a few examples per operation, the same ones every run): about a minute."""
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(ROOT / "tests" / "schemathesis.toml"),
            "run",
            live.url + "/openapi.json",
            *(f"--exclude-path={path}" for path in ENDLESS),
            "--max-examples=10",
            "--generation-deterministic",
            "--request-timeout=30",
            f"--header=Authorization: Bearer {TOKEN}",  # admin calls get past 401 too
            "--no-color",
        ],
        cwd=tmp_path,  # its cache of past failures stays out of the work tree
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
