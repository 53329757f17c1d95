"""FANOUT=nchan: nginx's nchan module (running examples/nginx.conf with examples/nchan.conf)
holds the viewers' streams; the app publishes each event once. The same SSE contract as the
app's own stream, checked through nginx: the state at once, every change, Last-Event-ID."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .live import LiveServer, free_port
from .mediafiles import make_still
from .nginxserver import NCHAN_MODULE, NginxServer, example_site
from .sse import Stream, stream

ADMIN = "nchan-admin"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
SSE = {"Accept": "text/event-stream"}  # what EventSource sends; nchan picks the protocol by it

pytestmark = pytest.mark.skipif(
    not NCHAN_MODULE.exists(), reason="needs libnginx-mod-nchan (scripts/install.sh --test)"
)


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, NginxServer]]:
    workdir = tmp_path_factory.mktemp("nchan")
    samples = workdir / "samples"
    samples.mkdir()
    for number, luma in enumerate((60, 120, 180), 1):
        make_still(samples / f"{number:02d}.webm", 3600, luma)
    port = free_port()
    app = LiveServer(
        workdir / "app",
        {
            "STATIC_DIR": str(samples),
            "ADMIN_TOKEN": ADMIN,
            "FANOUT": "nchan",
            "NCHAN_PUBLISH_URL": f"http://127.0.0.1:{port}/nchan/pub/simulcast",
        },
    )
    site = example_site(port, f"127.0.0.1:{app.port}", samples, app.upload_dir, nchan=True)
    with NginxServer(workdir / "nginx", site, port) as nginx, app:
        # A second channel, "lobby", playing one of the default channel's videos.
        made = httpx.post(
            app.url + "/channels", json={"slug": "lobby", "title": "Lobby"}, headers=AUTH
        )
        assert made.status_code == 201, made.text
        video = current(app.url)["id"]
        added = httpx.post(app.url + "/channels/lobby/videos", json={"id": video}, headers=AUTH)
        assert added.status_code == 200, added.text
        yield app, nginx


def current(url: str) -> dict[str, Any]:
    listing = httpx.get(url + "/videos").json()
    return dict(listing["videos"][listing["current_index"]])


def wait_for_state(stream: Stream, check: Any) -> Any:
    return stream.until(check, timeout=10)


def test_first_event_is_the_full_state_at_once(front: tuple[LiveServer, NginxServer]) -> None:
    app, nginx = front
    playing = current(app.url)
    started = time.monotonic()
    with stream(nginx.url, headers=SSE) as events:
        first = events.next(timeout=5)
        assert time.monotonic() - started < 3
    assert first.data["id"] == playing["id"] and first.data["total"] == 3
    assert first.data["next"]["id"] and first.data["sources"]
    assert first.id  # nchan's message id, for Last-Event-ID
    # The per-viewer part is not in the shared stream: the pages ask for it.
    assert "my_votes" not in first.data
    # The app's own stream points at nginx instead of serving a second, silent channel.
    refused = httpx.get(app.url + "/video-updates", headers=SSE)
    assert refused.status_code == 404 and "nchan" in refused.json()["error"]


def test_every_change_reaches_the_stream_and_my_votes_come_apart(
    front: tuple[LiveServer, NginxServer],
) -> None:
    app, nginx = front
    viewer = uuid.uuid4().hex
    cookies = {"simulcast_viewer": viewer}
    with stream(nginx.url, headers=SSE) as events:
        first = events.next(timeout=5)
        liked = httpx.post(nginx.url + "/like/0", json={"id": first.data["id"]}, cookies=cookies)
        assert liked.status_code == 200, liked.text
        event = wait_for_state(events, lambda s: s["likes"] == first.data["likes"] + 1)
        assert event.data["id"] == first.data["id"]
        mine = httpx.get(nginx.url + "/my-votes", cookies=cookies).json()
        assert mine == {"my_votes": {first.data["id"]: 1}}
        skipped = httpx.post(nginx.url + "/skip", headers={"Authorization": f"Bearer {ADMIN}"})
        assert skipped.status_code == 200
        switched = wait_for_state(events, lambda s: s["id"] == first.data["next"]["id"])
        assert switched.data["reason"] == "switch"
    assert httpx.get(nginx.url + "/my-votes").json() == {"my_votes": {}}


def test_reconnect_with_last_event_id_gets_what_was_missed(
    front: tuple[LiveServer, NginxServer],
) -> None:
    app, nginx = front
    with stream(nginx.url, headers=SSE) as events:
        seen = events.next(timeout=5)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    # Two changes while this viewer is away: a switch, then a like on the new video.
    assert httpx.post(app.url + "/skip", headers=admin).status_code == 200
    now_playing = current(app.url)
    assert httpx.post(app.url + "/like/0", json={"id": now_playing["id"]}).status_code == 200
    deadline = time.monotonic() + 5
    while current(app.url)["likes"] == now_playing["likes"] and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the vote event is published
    assert seen.id is not None
    with stream(nginx.url, headers={**SSE, "Last-Event-ID": seen.id}) as events:
        # What was missed, oldest first (a viewer count may come in between).
        switched = events.next(timeout=5)
        liked = wait_for_state(events, lambda s: s["likes"] == now_playing["likes"] + 1)
    assert switched.data["id"] == now_playing["id"] and switched.data["reason"] == "switch"
    assert liked.data["id"] == now_playing["id"]
    # A new viewer gets just the newest.
    with stream(nginx.url, headers=SSE) as events:
        newest = events.next(timeout=5).data
    assert newest["id"] == now_playing["id"] and newest["likes"] == now_playing["likes"] + 1


def test_viewer_count_comes_from_nchan(front: tuple[LiveServer, NginxServer]) -> None:
    app, nginx = front
    with stream(nginx.url, headers=SSE) as one, stream(nginx.url, headers=SSE) as two:
        one.next(timeout=5)
        two.next(timeout=5)
        event = wait_for_state(one, lambda s: s["viewers"] == 2)
        assert event.data["reason"] == "viewers"
        assert httpx.get(app.url + "/healthz").json()["viewers"] == 2


def test_every_channel_has_its_own_nchan_channel(front: tuple[LiveServer, NginxServer]) -> None:
    """/c/lobby/video-updates through nginx: the lobby's state at once, its changes, its own
    viewers and votes, and none of it on the default channel's stream (nor the other way)."""
    app, nginx = front
    lobby = nginx.url + "/c/lobby"
    (video,) = httpx.get(lobby + "/videos").json()["videos"]
    viewer = {"simulcast_viewer": uuid.uuid4().hex}
    seen: list[dict[str, Any]] = []  # every lobby event read
    elsewhere: list[dict[str, Any]] = []  # and every default channel's

    def on_lobby(check: Any) -> Any:
        return lambda state: seen.append(state) or check(state)

    def on_default(check: Any) -> Any:
        return lambda state: elsewhere.append(state) or check(state)

    with stream(lobby, headers=SSE) as events, stream(nginx.url, headers=SSE) as default:
        first = events.next(timeout=5)
        seen.append(first.data)
        assert (first.data["id"], first.data["total"]) == (video["id"], 1)
        assert first.id and "my_votes" not in first.data
        elsewhere.append(default.next(timeout=5).data)
        liked = httpx.post(lobby + "/like/0", json={"id": video["id"]}, cookies=viewer)
        assert liked.status_code == 200, liked.text
        event = wait_for_state(events, on_lobby(lambda s: s["likes"] == video["likes"] + 1))
        assert event.data["total"] == 1
        mine = httpx.get(lobby + "/my-votes", cookies=viewer).json()
        assert mine == {"my_votes": {video["id"]: 1}}
        # The same video on the default channel: its votes there are its own.
        assert httpx.get(nginx.url + "/my-votes", cookies=viewer).json() == {"my_votes": {}}
        # A switch on the default channel reaches its stream, not the lobby's.
        playing = current(app.url)
        assert httpx.post(nginx.url + "/skip", headers=AUTH).status_code == 200
        wait_for_state(default, on_default(lambda s: s["id"] != playing["id"]))
        # Two viewers on the lobby (nchan counts them), while the default channel has one.
        with stream(lobby, headers=SSE) as second:
            second.next(timeout=5)
            counted = wait_for_state(events, on_lobby(lambda s: s["viewers"] == 2))
            assert counted.data["total"] == 1
            assert httpx.get(lobby + "/healthz").json()["viewers"] == 2
        # Every lobby event was the lobby's: one video, never the default channel's three.
        assert {(s["id"], s["total"]) for s in seen} == {(video["id"], 1)}
        assert {s["total"] for s in elsewhere} == {3}
    assert httpx.get(nginx.url + "/c/nowhere/my-votes").status_code == 404
    # The app's own stream for the lobby points at nginx, as the default channel's does.
    refused = httpx.get(app.url + "/c/lobby/video-updates", headers=SSE)
    assert refused.status_code == 404 and "nchan" in refused.json()["error"]


def test_deleting_a_channel_ends_its_streams_in_nginx(
    front: tuple[LiveServer, NginxServer],
) -> None:
    app, nginx = front
    made = httpx.post(app.url + "/channels", json={"slug": "gone", "title": "Gone"}, headers=AUTH)
    assert made.status_code == 201
    with stream(nginx.url + "/c/gone", headers=SSE) as events:
        assert events.next(timeout=5).data["total"] == 0
        assert httpx.delete(app.url + "/channels/gone", headers=AUTH).status_code == 200
        started = time.monotonic()
        # The stream ends (nchan's channel is deleted), rather than idling on a stale state;
        # events published before the deletion may come first.
        with pytest.raises(TimeoutError):
            while True:
                events.next(timeout=20)
        assert time.monotonic() - started < 5
