"""Video walls: the tile geometry (browser/js/wall-geometry.js, run by Node: pure, no browser),
the rules of a wall, both fleet stores, and the HTTP contract (create, change, assign a screen,
the screen's report answer carrying its tile).

Real pages as tiles are in e2e/test_walls.py.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.store.fleet import Fleet
from server.store.fleet_sqlite import SqliteFleet
from server.walls import WallError, Walls, parse_wall, tile_view, with_tiles

from .live import ROOT, LiveServer
from .mediafiles import make_channel

ADMIN = "walls-admin"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
NODE = shutil.which("node")

# -- the geometry (browser/js/wall-geometry.js) ------------------------------------------------


def geometry(calls: list[tuple[str, list[Any]]]) -> list[Any]:
    """Call the page's own module under Node and return what each call gave."""
    if NODE is None:
        pytest.fail("node is missing: ./scripts/install.sh --test installs it")
    module = (ROOT / "browser/js/wall-geometry.js").as_uri()
    script = f"""
      const geometry = await import({json.dumps(module)});
      const calls = {json.dumps(calls)};
      const run = ([name, args]) => name === "tileFromParams"
        ? geometry.tileFromParams(new URLSearchParams(args[0]))
        : geometry[name](...args);
      console.log(JSON.stringify(calls.map(run)));
    """
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def tile(cols: int, rows: int, col: int, row: int, **more: Any) -> dict[str, Any]:
    return {"cols": cols, "rows": rows, "col": col, "row": row, "bezel_mm": 0, "gap_mm": 0,
            "screen_w_mm": None, "screen_h_mm": None, **more}  # fmt: skip


def close(rect: dict[str, float], **expected: float) -> bool:
    return all(abs(rect[k] - v) < 1e-6 for k, v in expected.items())


def test_a_2x2_wall_of_16_9_screens_shows_each_quarter() -> None:
    view = {"width": 960, "height": 540}
    rects = geometry(
        [("tileRect", [tile(2, 2, c, r), view, 16 / 9]) for r in (0, 1) for c in (0, 1)]
    )
    for (col, row), rect in zip([(0, 0), (1, 0), (0, 1), (1, 1)], rects, strict=True):
        assert close(rect, left=-960 * col, top=-540 * row, width=1920, height=1080), rect


def test_the_picture_is_letterboxed_on_the_wall_not_on_each_screen() -> None:
    view = {"width": 960, "height": 540}
    left, right = geometry([("tileRect", [tile(2, 1, c, 0), view, 16 / 9]) for c in (0, 1)])
    # A 2x1 wall is 32:9; a 16:9 picture fills its height and is centred: 480 px bars on the
    # wall's outer edges only, and the picture runs on across the seam.
    assert close(left, left=480, top=0, width=960, height=540)
    assert close(right, left=-480, top=0, width=960, height=540)
    # A 4:3 picture on a 3x1 wall of 16:9 screens: centred on the middle screen.
    (middle,) = geometry([("tileRect", [tile(3, 1, 1, 0), view, 4 / 3])])
    assert close(middle, left=(960 - 720) / 2, top=0, width=720, height=540)


def test_bezels_hide_the_picture_like_a_window_so_lines_stay_straight() -> None:
    """Each screen 1000 x 562.5 mm at 1000 x 562.5 px (1 mm a pixel), 10 mm bezels, 5 mm gap:
    25 mm of picture hide between two screens, and one line of the picture lands on every
    screen where the wall's millimetres say."""
    size = {"screen_w_mm": 1000, "screen_h_mm": 562.5, "bezel_mm": 10, "gap_mm": 5}
    view = {"width": 1000, "height": 562.5}
    seam = 25
    wall_w, wall_h = 2 * 1000 + seam, 2 * 562.5 + seam
    rects = geometry(
        [("tileRect", [tile(2, 2, c, r, **size), view, 16 / 9]) for r in (0, 1) for c in (0, 1)]
    )
    width = min(wall_w, wall_h * 16 / 9)
    height = width * 9 / 16
    x0, y0 = (wall_w - width) / 2, (wall_h - height) / 2
    for (col, row), rect in zip([(0, 0), (1, 0), (0, 1), (1, 1)], rects, strict=True):
        assert close(rect, width=width, height=height)
        # The picture's corner sits where the wall puts it, seen from this screen's origin.
        assert close(rect, left=x0 - col * (1000 + seam), top=y0 - row * (562.5 + seam))
    # The diagonal of the picture crosses screen (0,0)'s right edge at y = k and enters screen
    # (1,0) at the same line, `seam` mm further along: on screen, seam * slope lower.
    slope = height / width
    a, b = rects[0], rects[1]
    exits = a["top"] + (1000 - a["left"]) * slope
    enters = b["top"] + (0 - b["left"]) * slope
    assert abs(enters - (exits + seam * slope)) < 1e-6


def test_a_screen_crops_only_what_it_shows_of_the_video() -> None:
    view = {"width": 960, "height": 540}
    video = {"width": 1280, "height": 720}
    left_tile, corner, letterbox = geometry(
        [
            # 2x1 of 16:9: the picture (960 wide) centred; the left tile shows its left half
            # in its own right half, from the left half of the video's pixels.
            ("cropOf", [{"left": 480, "top": 0, "width": 960, "height": 540}, view, video]),
            # 2x2, bottom-right tile: the picture's bottom-right quarter fills the screen.
            ("cropOf", [{"left": -960, "top": -540, "width": 1920, "height": 1080}, view, video]),
            # A tile the picture does not reach (all letterbox).
            ("cropOf", [{"left": 960, "top": 0, "width": 960, "height": 540}, view, video]),
        ]
    )
    assert left_tile == {
        "box": {"left": 480, "top": 0, "width": 480, "height": 540},
        "inset": {"top": 0, "right": 640, "bottom": 0, "left": 0},
    }
    assert corner == {
        "box": {"left": 0, "top": 0, "width": 960, "height": 540},
        "inset": {"top": 360, "right": 0, "bottom": 0, "left": 640},
    }
    assert letterbox is None


def test_an_unmeasured_screen_counts_css_pixels_at_96_dpi() -> None:
    view = {"width": 960, "height": 540}
    frame, rect = geometry(
        [("wallFrame", [tile(2, 1, 1, 0, bezel_mm=25.4 / 96 * 10), view]),
         ("tileRect", [tile(2, 1, 1, 0, bezel_mm=25.4 / 96 * 10), view, 1940 / 540])]
    )  # fmt: skip
    assert abs(frame["mmPerPxX"] - 25.4 / 96) < 1e-9
    assert close(rect, left=-(960 + 20), width=1940)  # 2 bezels of 10 px hide 20 px


def test_the_address_gives_a_tile_or_nothing() -> None:
    got = geometry(
        [
            ("tileFromParams", ["wall=3x2&tile=2,1"]),
            ("tileFromParams", ["wall=3x2&tile=2,1&bezel=12&gap=1.5&size=1210x680&sound=2,1"
                                "&pattern=1"]),
            ("tileFromParams", ["wall=3x2&tile=3,0"]),  # outside the layout
            ("tileFromParams", ["wall=0x2&tile=0,0"]),
            ("tileFromParams", ["wall=11x1&tile=0,0"]),
            ("tileFromParams", ["tile=0,0"]),
            ("tileFromParams", ["wall=2x2&tile=one,two"]),
            ("tileFromParams", ["wall=2x2&tile=1,1&bezel=-4&size=5x5"]),
        ]
    )  # fmt: skip
    assert got[0] == {"name": "3x2", "cols": 3, "rows": 2, "col": 2, "row": 1, "bezel_mm": 0,
                      "gap_mm": 0, "screen_w_mm": None, "screen_h_mm": None, "sound": False,
                      "pattern": False}  # fmt: skip
    assert got[1]["bezel_mm"] == 12 and got[1]["gap_mm"] == 1.5
    assert (got[1]["screen_w_mm"], got[1]["screen_h_mm"]) == (1210, 680)
    assert got[1]["sound"] is True and got[1]["pattern"] is True
    assert got[2:7] == [None] * 5
    assert got[7]["bezel_mm"] == 0 and got[7]["screen_w_mm"] is None  # out of range: ignored


def test_the_moving_diagonal_is_the_same_on_every_tile_at_one_instant() -> None:
    view = {"width": 960, "height": 540}
    frames = geometry([("wallFrame", [tile(2, 2, c, r), view]) for r in (0, 1) for c in (0, 1)])
    at = geometry([("diagonalAt", [f, 1234.5]) for f in frames])
    assert len(set(at)) == 1
    later = geometry([("diagonalAt", [frames[0], 1234.5 + 8]), ("diagonalAt", [frames[0], 1235.5])])
    assert abs(later[0] - at[0]) < 1e-6 and later[1] != at[0]  # one sweep per 8 s


# -- the rules of a wall -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ([], "JSON object"),
        ({"name": "Lobby"}, "needs a"),
        ({"name": "Lobby", "layout": "3 by 2"}, "columns x rows"),
        ({"name": "Lobby", "layout": "11x1"}, "1 to 10"),
        ({"name": " ", "layout": "2x2"}, "name must be text"),
        ({"name": "x" * 81, "layout": "2x2"}, "longer than 80"),
        ({"name": "L", "layout": "2x2", "bezel_mm": -1}, "bezel_mm must be between"),
        ({"name": "L", "layout": "2x2", "gap_mm": "3"}, "gap_mm must be a number"),
        ({"name": "L", "layout": "2x2", "screen_w_mm": 1000}, "both screen_w_mm"),
        ({"name": "L", "layout": "2x2", "sound_tile": [2, 0]}, "outside the 2x2"),
        ({"name": "L", "layout": "2x2", "pattern": "on"}, "pattern must be"),
        ({"name": "L", "layout": "2x2", "colour": "red"}, "unknown field 'colour'"),
    ],
)
def test_a_bad_wall_says_which_field(payload: Any, why: str) -> None:
    with pytest.raises(WallError, match=why):
        parse_wall(payload)


def test_a_wall_and_what_each_tile_is_told() -> None:
    wall = parse_wall({"name": "  Lobby  wall ", "layout": "2x1", "bezel_mm": 6})
    assert wall["name"] == "Lobby wall" and (wall["cols"], wall["rows"]) == (2, 1)
    assert wall["sound_tile"] == [0, 0] and wall["pattern"] is False
    wall["id"] = "w1"
    assert tile_view(wall, 0, 0)["sound"] is True and tile_view(wall, 1, 0)["sound"] is False
    smaller = parse_wall({"layout": "1x1"}, {**parse_wall({"name": "x", "layout": "3x3",
                                                            "sound_tile": "2,2"})})  # fmt: skip
    assert smaller["sound_tile"] == [0, 0]  # the sound tile followed the shrink
    on = [
        {"id": "s1", "name": "Left", "wall": {"id": "w1", "col": 0, "row": 0}},
        {"id": "s2", "wall": {"id": "other", "col": 1, "row": 0}},
    ]
    shown = with_tiles(wall, on)
    assert [(t["col"], t["screen_id"]) for t in shown["tiles"]] == [(0, "s1"), (1, None)]


# -- both stores ---------------------------------------------------------------------------


async def test_walls_and_tiles_in_the_store(fleet: Fleet) -> None:
    walls = Walls(fleet)
    for screen_id in ("screen-a", "screen-b"):
        await fleet.save_screen(screen_id, lambda _, i=screen_id: {"id": i}, since=0, max_screens=9)
    wall = await walls.create({"name": "Bar", "layout": "2x1"})
    assert await walls.assign("screen-a", {"wall": wall["id"], "tile": [1, 0]}) is not None
    assert await walls.assign("nobody-1", {"wall": wall["id"], "tile": [0, 0]}) is None
    # A screen put on a taken tile takes it; the one there leaves the wall.
    await walls.assign("screen-b", {"wall": wall["id"], "tile": "1,0"})
    (listed,) = await walls.listed()
    assert [t["screen_id"] for t in listed["tiles"]] == [None, "screen-b"]
    records = {s["id"]: s for s in await fleet.screens()}
    assert records["screen-a"]["wall"] is None
    view = await walls.view_for(records["screen-b"])
    assert view is not None and (view["col"], view["row"], view["sound"]) == (1, 0, False)
    # A report keeps the tile (the report's merge leaves keys it does not know).
    await fleet.save_screen("screen-b", lambda r: {**(r or {}), "x": 1}, since=0, max_screens=9)
    assert {s["id"]: s for s in await fleet.screens()}["screen-b"]["wall"]["col"] == 1
    # Shrinking the layout takes the screens off tiles that are gone; deleting frees the rest.
    await walls.update(wall["id"], {"layout": "1x1", "bezel_mm": 7.5})
    assert (await fleet.wall(wall["id"]) or {})["bezel_mm"] == 7.5
    assert all(s.get("wall") is None for s in await fleet.screens())
    await walls.assign("screen-a", {"wall": wall["id"], "tile": [0, 0]})
    await walls.delete(wall["id"])
    assert await fleet.walls() == [] and all(s.get("wall") is None for s in await fleet.screens())
    assert not await fleet.delete_wall(wall["id"])


async def test_a_fleet_store_from_before_walls_gains_them(tmp_path: Path) -> None:
    """fleet.db grows by new tables at open: one written by the release before walls (a screen
    in it) opens, keeps its screen and stores walls."""
    old = sqlite3.connect(tmp_path / "fleet.db")
    old.executescript(
        "CREATE TABLE screens (id TEXT PRIMARY KEY, data TEXT NOT NULL);"
        "CREATE TABLE screen_commands (screen_id TEXT NOT NULL, at REAL NOT NULL, action TEXT);"
        'INSERT INTO screens VALUES (\'old-screen\', \'{"id": "old-screen", "name": "Bar"}\');'
    )
    old.commit()
    old.close()
    store = SqliteFleet.open(tmp_path / "fleet.db")
    try:
        walls = Walls(store)
        wall = await walls.create({"name": "Bar wall", "layout": "1x2"})
        assert await walls.assign("old-screen", {"wall": wall["id"], "tile": [0, 1]}) is not None
        (listed,) = await walls.listed()
        assert [t["screen_name"] for t in listed["tiles"]] == [None, "Bar"]
    finally:
        await store.close()


# -- over HTTP -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("walls-api")
    samples = make_channel(workdir / "samples", ("one", 4.0))
    with LiveServer(workdir, {"STATIC_DIR": str(samples), "ADMIN_TOKEN": ADMIN}) as server:
        yield server


def test_walls_over_http(live: LiveServer) -> None:
    def report(screen_id: str) -> dict[str, Any]:
        answer = httpx.post(
            live.url + "/screens/report", json={"id": screen_id, "page": "/ambient"}
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    assert report("wall-screen-1")["wall"] is None
    assert httpx.get(live.url + "/walls").status_code == 401
    assert httpx.post(live.url + "/walls", json={"name": "x", "layout": "2x2"}).status_code == 401
    bad = httpx.post(live.url + "/walls", json={"name": "Lobby", "layout": "0x2"}, headers=AUTH)
    assert bad.status_code == 400 and "1 to 10" in bad.json()["error"]
    made = httpx.post(
        live.url + "/walls",
        json={"name": "Lobby", "layout": "2x1", "bezel_mm": 8, "gap_mm": 2,
              "screen_w_mm": 1210, "screen_h_mm": 680},
        headers=AUTH,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    wall = made.json()["wall"]
    assert wall["layout"] == "2x1" and len(wall["tiles"]) == 2
    url = f"{live.url}/walls/{wall['id']}"
    put = f"{live.url}/screens/wall-screen-1/wall"
    assert (
        httpx.put(put, json={"wall": wall["id"], "tile": [2, 0]}, headers=AUTH).status_code == 400
    )
    assert httpx.put(put, json={"wall": "nope", "tile": [0, 0]}, headers=AUTH).status_code == 404
    unknown = f"{live.url}/screens/nobody-123/wall"
    assert (
        httpx.put(unknown, json={"wall": wall["id"], "tile": [0, 0]}, headers=AUTH).status_code
        == 404
    )
    assigned = httpx.put(put, json={"wall": wall["id"], "tile": [1, 0]}, headers=AUTH)
    assert assigned.status_code == 200 and assigned.json()["wall"]["col"] == 1
    tile = report("wall-screen-1")["wall"]
    assert tile == {"id": wall["id"], "name": "Lobby", "cols": 2, "rows": 1, "col": 1, "row": 0,
                    "bezel_mm": 8.0, "gap_mm": 2.0, "screen_w_mm": 1210.0, "screen_h_mm": 680.0,
                    "sound": False, "pattern": False}  # fmt: skip
    # The test pattern on: the wall's screens are asked to report every second meanwhile.
    changed = httpx.patch(url, json={"pattern": True, "bezel_mm": 9.5}, headers=AUTH)
    assert changed.status_code == 200 and changed.json()["wall"]["pattern"] is True
    time.sleep(1.05)  # the screen's report limiter: one a second
    answer = report("wall-screen-1")
    assert answer["wall"]["pattern"] is True and answer["wall"]["bezel_mm"] == 9.5
    assert answer["interval"] == 1.0
    assert httpx.patch(url, json={"gap_mm": -1}, headers=AUTH).status_code == 400
    assert httpx.patch(url, json="nope", headers=AUTH).status_code == 400
    listed = httpx.get(live.url + "/walls", headers=AUTH).json()["walls"]
    assert [t["screen_id"] for t in listed[0]["tiles"]] == [None, "wall-screen-1"]
    screens = {s["id"]: s for s in httpx.get(live.url + "/screens", headers=AUTH).json()["screens"]}
    assert screens["wall-screen-1"]["wall"] == {"id": wall["id"], "col": 1, "row": 0}
    audit = httpx.get(live.url + "/admin/audit", headers=AUTH).json()["entries"]
    assert {"wall create", "wall change", "screen wall"} <= {e["action"] for e in audit}
    assert httpx.delete(url, headers=AUTH).json()["success"] is True
    assert httpx.delete(url, headers=AUTH).status_code == 404
    time.sleep(1.05)
    assert report("wall-screen-1")["wall"] is None
