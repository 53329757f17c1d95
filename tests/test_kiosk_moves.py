"""A kiosk moved to another channel from the console, without Qt, a server or sleeping: which
channel it shows (and keeps across a restart), and how its local channel takes the new one."""

from __future__ import annotations

import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kiosk.config import load_config
from kiosk.moves import MOVE_FILE, Mover, channel_base, remembered
from kiosk.plan import Plan, state_at
from kiosk.upstream import end_stream

from .test_kiosk_plan import CLIPS, SERVER, Clock, channel_after_playing

ROOT = SERVER


def test_a_channels_address_is_under_c_but_for_the_default_one() -> None:
    assert channel_base(ROOT, "lobby") == ROOT + "/c/lobby"
    assert channel_base(ROOT, "") == channel_base(ROOT, None) == channel_base(ROOT, "main") == ROOT
    config = load_config({"server": ROOT + "/", "channel": "lobby"}, env={}, candidates=[])
    assert (config.server, config.root) == (ROOT + "/c/lobby", ROOT)


def test_the_console_moves_it_and_the_move_outlives_a_restart(tmp_path: Path) -> None:
    followed: list[str] = []
    mover = Mover(ROOT, "lobby", tmp_path, followed.append)
    assert mover.base == ROOT + "/c/lobby"
    mover.told({"name": "Hall", "commands": []})  # a server that knows no channels: no word
    mover.told({"channel": None})  # not moved: its own
    assert followed == [] and not (tmp_path / MOVE_FILE).exists()
    mover.told({"channel": "cafe"})
    mover.told({"channel": "cafe"})  # every report repeats it: followed once
    assert followed == [ROOT + "/c/cafe"]
    # Restarted (with --channel lobby still given): the console's channel, before any report.
    again = Mover(ROOT, "lobby", tmp_path, followed.append)
    assert again.base == ROOT + "/c/cafe" and remembered(tmp_path, ROOT) == "cafe"
    assert remembered(tmp_path, "http://elsewhere:8000") is None  # another server's console
    again.told({"channel": "main"})  # to the default channel
    again.told({"channel": None})  # back to its own
    assert followed == [ROOT + "/c/cafe", ROOT, ROOT + "/c/lobby"]
    assert Mover(ROOT, "lobby", tmp_path, followed.append).base == ROOT + "/c/lobby"
    (tmp_path / MOVE_FILE).write_text("{broken")
    assert remembered(tmp_path, ROOT) is None


def test_a_read_only_kiosk_follows_but_keeps_nothing(tmp_path: Path) -> None:
    followed: list[str] = []
    mover = Mover(ROOT, "", tmp_path, followed.append, keep=False)
    mover.told({"channel": "cafe"})
    assert followed == [ROOT + "/c/cafe"] and remembered(tmp_path, ROOT) is None


def test_the_new_channels_first_state_is_shown_at_once() -> None:
    clock = Clock(1012.0)
    channel = channel_after_playing(clock)  # its own channel at ROOT, "a" from 1000
    lobby = channel.plan
    assert lobby is not None
    channel.retarget(ROOT + "/c/cafe")
    assert channel.saved() is None  # the plan is still the old channel's: not kept as the new's
    # A last state of the old channel's stream, still on its way, is dropped.
    channel.on_server_state(state_at(lobby, clock.now, "vote"), lobby, ROOT)
    assert channel.plan is lobby
    channel.disconnected()
    _, meanwhile, _ = channel.page_state()
    assert meanwhile is not None and meanwhile["id"] == "b"  # the old plan plays on meanwhile
    channel.connected()
    cafe = Plan(CLIPS[2:], "c", 990.0)
    channel.on_server_state(state_at(cafe, clock.now, "connect"), cafe, ROOT + "/c/cafe")
    key, state, _ = channel.page_state()
    # Not held until b ends, as after an outage: another channel's video is not finished.
    assert key[0] == "server" and state is not None and state["id"] == "c"  # type: ignore[index]
    saved = channel.saved()
    assert saved is not None and saved.server == ROOT + "/c/cafe" and saved.plan is cafe


class _Endless(BaseHTTPRequestHandler):
    """An event stream that sends its headers, one comment, then nothing for a long time."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b": ping\n\n")
        self.wfile.flush()
        time.sleep(30)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_old_channels_stream_ends_at_once_when_moved() -> None:
    """A read blocked on a quiet stream (up to 30 s between the server's keep-alives) wakes as
    soon as the stream is ended from another thread: the move is not held up by it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stream = urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/",
                                        timeout=30)
        assert stream.readline() == b": ping\n"
        ended = threading.Event()
        reader = threading.Thread(target=lambda: (stream.read(), ended.set()), daemon=True)
        reader.start()
        time.sleep(0.2)  # the reader is blocked now
        asked = time.monotonic()
        end_stream(stream)
        assert ended.wait(5) and time.monotonic() - asked < 1
        stream.close()
        end_stream(stream)  # closed already: nothing to do, no error
    finally:
        server.shutdown()
        server.server_close()
