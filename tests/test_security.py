"""Browser protections and abuse limits (server/security.py) against a real server: security
headers on every page, cross-site state changes refused (scripts with a token unaffected), rate
limits with Retry-After, small request bodies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
import pytest

from .live import LiveServer

TOKEN = "s3cret-admin-token"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"ADMIN_TOKEN": TOKEN, "ALLOWED_ORIGINS": "https://console.example.org"}
    with LiveServer(tmp_path_factory.mktemp("security"), env) as server:
        yield server


def first_id(live: LiveServer) -> str:
    return str(httpx.get(live.url + "/videos").json()["videos"][0]["id"])


def likes(live: LiveServer, video_id: str) -> int:
    listed = httpx.get(live.url + "/videos").json()["videos"]
    return int(next(v["likes"] for v in listed if v["id"] == video_id))


@pytest.mark.parametrize("path", ["/", "/ambient", "/upload", "/videos", "/healthz"])
def test_every_page_and_answer_carries_the_security_headers(live: LiveServer, path: str) -> None:
    headers = httpx.get(live.url + path).headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


def test_the_pages_work_under_their_policy(live: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    for path in ("/", "/upload", "/ambient", "/admin"):
        page.goto(live.url + path)
        page.wait_for_load_state("networkidle")
    page.goto(live.url + "/")
    # Polled from here: wait_for_function evaluates its predicate with eval, which the
    # policy forbids (tests that need it open their pages with bypass_csp=True).
    playing = "[...document.querySelectorAll('video')].some(v => v.readyState >= 2 && !v.paused)"
    for _ in range(150):
        if page.evaluate(playing):
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail("the page did not play under its Content-Security-Policy")
    page.close()
    assert violations == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://evil.example"},  # an older browser: no Fetch Metadata
        {"Origin": "null"},  # a sandboxed frame or a page opened from a file
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another origin
    ],
)
def test_cross_site_votes_uploads_and_admin_calls_are_refused(
    live: LiveServer, headers: dict[str, str]
) -> None:
    video_id = first_id(live)
    before = likes(live, video_id)
    vote = httpx.post(f"{live.url}/like/0", json={"id": video_id}, headers=headers)
    assert vote.status_code == 403 and "Cross-site" in vote.json()["error"]
    upload = httpx.post(
        live.url + "/uploads",
        files={"video": ("x.webm", b"x" * 1000, "video/webm")},
        headers=headers,
    )
    assert upload.status_code == 403
    skip = httpx.post(live.url + "/skip", headers={**headers, "Authorization": f"Bearer {TOKEN}"})
    assert skip.status_code == 403
    assert likes(live, video_id) == before
    incoming = live.data_dir / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []


def test_same_origin_pages_scripts_and_allowed_origins_go_through(live: LiveServer) -> None:
    video_id = first_id(live)
    same = {"Origin": live.url, "Sec-Fetch-Site": "same-origin"}
    assert httpx.post(f"{live.url}/like/0", json={"id": video_id}, headers=same).status_code == 200
    # An older browser without Fetch Metadata, same origin.
    assert (
        httpx.post(f"{live.url}/like/0", json={"id": video_id}, headers={"Origin": live.url})
    ).status_code == 200
    console = {"Origin": "https://console.example.org", "Sec-Fetch-Site": "cross-site"}
    assert (
        httpx.post(f"{live.url}/like/0", json={"id": video_id}, headers=console).status_code == 200
    )
    # A script with the admin token sends no Origin at all.
    scripted = httpx.post(live.url + "/skip", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scripted.status_code == 200 and scripted.json()["success"] is True


def test_a_page_of_another_site_cannot_vote_in_chromium(live: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    """The classic forgery: another site's page posts a form (no CORS needed) and a fetch."""
    video_id = first_id(live)
    before = likes(live, video_id)
    page = browser.new_page()
    page.set_content("<p>another site</p>")  # an opaque origin, as a stranger's page
    status = page.evaluate(
        """async ([url, id]) => {
            const r = await fetch(url, {method: "POST", mode: "no-cors", credentials: "include",
                headers: {"Content-Type": "text/plain"}, body: JSON.stringify({id})});
            return r.type;
        }""",
        [f"{live.url}/like/0", video_id],
    )
    assert status == "opaque"
    page.set_content(
        f'<form method="post" action="{live.url}/like/0"><input name="id" value="{video_id}">'
        "</form><script>document.forms[0].submit()</script>"
    )
    page.wait_for_load_state("load")
    answer = page.content()
    page.close()
    assert "Cross-site request refused" in answer
    assert likes(live, video_id) == before


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"1", b"true", b"\xff\xfe{", b"{", b"null"])
def test_a_vote_that_is_not_a_json_object_is_a_400(live: LiveServer, body: bytes) -> None:
    answer = httpx.post(
        f"{live.url}/like/0", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["success"] is False and "JSON object" in answer.json()["error"]


def test_big_bodies_are_refused_without_being_buffered(live: LiveServer) -> None:
    big = b"{" + b" " * (8 << 20) + b"}"
    declared = httpx.post(
        f"{live.url}/like/0", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413 and declared.json()["success"] is False

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused once past the limit
        for _ in range(64):
            yield b" " * (128 << 10)

    streamed = httpx.post(
        f"{live.url}/like/0", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert b" " * 1024 not in streamed.content  # never echoed back


def test_votes_are_rate_limited_per_address_and_per_viewer(
    start_server: Callable[..., LiveServer],
) -> None:
    live = start_server({"VOTE_LIMIT_PER_IP": "40/hour", "VOTE_LIMIT_PER_VIEWER": "3/minute"})
    video_id = first_id(live)

    async def flood() -> list[httpx.Response]:
        # 500 votes from cookie-less clients (each a new viewer), all from one address.
        jar = CookieJar(DefaultCookiePolicy(allowed_domains=[]))  # keeps no cookie
        async with httpx.AsyncClient(
            cookies=jar, limits=httpx.Limits(max_connections=20), timeout=60
        ) as c:
            vote = {"id": video_id}
            return list(
                await asyncio.gather(*(c.post(f"{live.url}/like/0", json=vote) for _ in range(500)))
            )

    # In a thread of its own: this module's Playwright holds an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        answers = thread.submit(asyncio.run, flood()).result()
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 40 and statuses.count(429) == 460
    refused = next(a for a in answers if a.status_code == 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert "Too many votes" in refused.json()["error"]
    assert likes(live, video_id) == 40

    viewer = start_server({"VOTE_LIMIT_PER_VIEWER": "3/minute"})
    with httpx.Client(base_url=viewer.url) as client:
        client.get("/")  # the viewer cookie
        codes = [
            client.post("/like/0", json={"id": first_id(viewer)}).status_code for _ in range(5)
        ]
    assert codes == [200, 200, 200, 429, 429]


def test_uploads_are_rate_limited(start_server: Callable[..., LiveServer]) -> None:
    live = start_server({"UPLOAD_LIMIT_PER_IP": "2/hour"})
    codes = [
        httpx.post(
            live.url + "/uploads", files={"video": ("e.webm", b"", "video/webm")}
        ).status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 429]
