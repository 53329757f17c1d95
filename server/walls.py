"""Video walls: a named group of screens with a layout, each screen one tile of the picture.

A wall holds its layout (columns x rows), the bezel width and gap between screens (mm), each
screen's visible size (mm, optional), which tile plays sound, and whether the test pattern is
shown. A screen's tile is kept in its own record (`wall`: {"id", "col", "row"}), so a screen is
in one wall at most, and reaches the screen with the answer to its next report: the page
follows it without a reload (browser/js/wall.js does the geometry).

Everything here but `Walls` is pure: checking a wall, what one tile needs to know.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping
from typing import Any

from .store.fleet import Fleet, Record

MAX_SIDE = 10  # columns or rows (the pages' wall-geometry.js says the same)
MAX_WALLS = 200
MAX_NAME = 80
PATTERN_INTERVAL = 1.0  # s between reports of a screen showing the pattern: adjustments are live
_LAYOUT = re.compile(r"^\s*(\d+)\s*[x×]\s*(\d+)\s*$", re.IGNORECASE)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LIMITS = {"bezel_mm": (0.0, 200.0), "gap_mm": (0.0, 2000.0)}
SIZE_LIMITS = (10.0, 20000.0)


class WallError(ValueError):
    """A wall or an assignment the server cannot use; the message says which field and why."""


class UnknownWallError(LookupError):
    pass


class TooManyWallsError(RuntimeError):
    pass


def _number(value: Any, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WallError(f"{key} must be a number")
    if not low <= value <= high:
        raise WallError(f"{key} must be between {low:g} and {high:g}")
    return float(value)


def parse_layout(value: Any) -> tuple[int, int]:
    found = _LAYOUT.match(value) if isinstance(value, str) else None
    if not found:
        raise WallError('layout must be columns x rows, e.g. "3x2"')
    cols, rows = int(found[1]), int(found[2])
    if not (1 <= cols <= MAX_SIDE and 1 <= rows <= MAX_SIDE):
        raise WallError(f"a wall has 1 to {MAX_SIDE} columns and rows")
    return cols, rows


def parse_tile(value: Any, cols: int, rows: int, key: str = "tile") -> tuple[int, int]:
    """[col, row] or "col,row" (from 0) inside the layout."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*,\s*\d+\s*", value):
        value = [int(part) for part in value.split(",")]
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise WallError(f'{key} must be [column, row] or "column,row", from 0')
    col, row = value
    if not (0 <= col < cols and 0 <= row < rows):
        raise WallError(f"{key} {col},{row} is outside the {cols}x{rows} layout")
    return col, row


def parse_wall(payload: Any, previous: Mapping[str, Any] | None = None) -> Record:
    """A new wall (previous None: name and layout required) or the changes to one, checked."""
    if not isinstance(payload, dict):
        raise WallError("Send a JSON object.")
    known = {
        "name",
        "layout",
        "bezel_mm",
        "gap_mm",
        "screen_w_mm",
        "screen_h_mm",
        "sound_tile",
        "pattern",
    }
    unknown = sorted(set(payload) - known)
    if unknown:
        raise WallError(f"unknown field {unknown[0]!r}; a wall has {', '.join(sorted(known))}")
    wall: Record = (
        dict(previous)
        if previous
        else {
            "bezel_mm": 0.0,
            "gap_mm": 0.0,
            "screen_w_mm": None,
            "screen_h_mm": None,
            "sound_tile": [0, 0],
            "pattern": False,
        }
    )
    if previous is None and ("name" not in payload or "layout" not in payload):
        raise WallError('A new wall needs a "name" and a "layout" (e.g. "3x2").')
    if "name" in payload:
        name = payload["name"]
        if not isinstance(name, str) or not " ".join(name.split()):
            raise WallError("name must be text, not empty")
        if len(name) > MAX_NAME:
            raise WallError(f"name is longer than {MAX_NAME} characters")
        wall["name"] = " ".join(name.split())
    if "layout" in payload:
        wall["cols"], wall["rows"] = parse_layout(payload["layout"])
    for key, (low, high) in LIMITS.items():
        if key in payload:
            wall[key] = _number(payload[key], key, low, high)
    for key in ("screen_w_mm", "screen_h_mm"):
        if key in payload:
            value = payload[key]
            wall[key] = None if value is None else _number(value, key, *SIZE_LIMITS)
    if (wall["screen_w_mm"] is None) != (wall["screen_h_mm"] is None):
        raise WallError("give both screen_w_mm and screen_h_mm, or neither")
    if "pattern" in payload:
        if not isinstance(payload["pattern"], bool):
            raise WallError("pattern must be true or false")
        wall["pattern"] = payload["pattern"]
    if "sound_tile" in payload:
        value = payload["sound_tile"]
        wall["sound_tile"] = (
            None
            if value is None
            else list(parse_tile(value, wall["cols"], wall["rows"], "sound_tile"))
        )
    elif wall["sound_tile"] and not (
        wall["sound_tile"][0] < wall["cols"] and wall["sound_tile"][1] < wall["rows"]
    ):
        wall["sound_tile"] = [0, 0]  # the layout shrank under it
    wall["layout"] = f"{wall['cols']}x{wall['rows']}"
    return wall


def inside(wall: Mapping[str, Any], col: int, row: int) -> bool:
    return 0 <= col < int(wall["cols"]) and 0 <= row < int(wall["rows"])


def tile_view(wall: Mapping[str, Any], col: int, row: int) -> Record:
    """What one screen needs to show its tile (the fields of browser/js/wall-geometry.js)."""
    return {
        "id": wall["id"],
        "name": wall["name"],
        "cols": wall["cols"],
        "rows": wall["rows"],
        "col": col,
        "row": row,
        "bezel_mm": wall["bezel_mm"],
        "gap_mm": wall["gap_mm"],
        "screen_w_mm": wall["screen_w_mm"],
        "screen_h_mm": wall["screen_h_mm"],
        "sound": wall["sound_tile"] == [col, row],
        "pattern": wall["pattern"],
    }


def with_tiles(wall: Mapping[str, Any], screens: list[Record]) -> Record:
    """The wall as the console shows it: every tile, with the screen on it (or none)."""
    on: dict[tuple[int, int], Record] = {}
    for screen in screens:
        place = screen.get("wall")
        if place and place.get("id") == wall["id"] and inside(wall, place["col"], place["row"]):
            on[(place["col"], place["row"])] = screen
    tiles = []
    for row in range(wall["rows"]):
        for col in range(wall["cols"]):
            shown = on.get((col, row))
            tiles.append(
                {
                    "col": col,
                    "row": row,
                    "screen_id": shown["id"] if shown else None,
                    "screen_name": shown.get("name") if shown else None,
                }
            )
    return {**wall, "tiles": tiles}


class Walls:
    """Walls in the fleet store, and which screen shows which tile."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    async def listed(self) -> list[Record]:
        screens = await self.fleet.screens()
        walls = sorted(await self.fleet.walls(), key=lambda w: (w["name"].lower(), w["id"]))
        return [with_tiles(wall, screens) for wall in walls]

    async def create(self, payload: Any) -> Record:
        wall = parse_wall(payload)
        if len(await self.fleet.walls()) >= MAX_WALLS:
            raise TooManyWallsError(f"This server already has {MAX_WALLS} walls.")
        wall["id"] = secrets.token_hex(6)
        await self.fleet.save_wall(wall["id"], wall)
        return with_tiles(wall, [])

    async def _get(self, wall_id: str) -> Record:
        wall = await self.fleet.wall(wall_id) if _ID.match(wall_id) else None
        if wall is None:
            raise UnknownWallError(wall_id)
        return wall

    async def update(self, wall_id: str, payload: Any) -> Record:
        wall = parse_wall(payload, await self._get(wall_id))
        await self.fleet.save_wall(wall_id, wall)
        screens = await self.fleet.screens()
        for screen in screens:  # screens on tiles the new layout dropped leave the wall
            place = screen.get("wall")
            if (
                place
                and place.get("id") == wall_id
                and not inside(wall, place["col"], place["row"])
            ):
                await self._place(screen["id"], None)
        return with_tiles(wall, await self.fleet.screens())

    async def delete(self, wall_id: str) -> None:
        await self._get(wall_id)
        for screen in await self.fleet.screens():
            if (screen.get("wall") or {}).get("id") == wall_id:
                await self._place(screen["id"], None)
        await self.fleet.delete_wall(wall_id)

    async def _place(self, screen_id: str, place: Record | None) -> Record | None:
        def placed(record: Record) -> Record:
            return {**record, "wall": place}

        return await self.fleet.update_screen(screen_id, placed)

    async def assign(self, screen_id: str, payload: Any) -> Record | None:
        """{"wall": id, "tile": [col, row]} puts the screen on that tile (a screen already
        there leaves it); {"wall": null} takes it off its wall. None: no such screen."""
        if not isinstance(payload, dict) or "wall" not in payload:
            raise WallError(
                'Send JSON {"wall": "<wall id>", "tile": [column, row]} or {"wall": null}.'
            )
        if payload["wall"] is None:
            return await self._place(screen_id, None)
        if not isinstance(payload["wall"], str):
            raise WallError("wall must be a wall's id or null")
        wall = await self._get(payload["wall"])
        col, row = parse_tile(payload.get("tile"), wall["cols"], wall["rows"])
        place = {"id": wall["id"], "col": col, "row": row}
        screens = await self.fleet.screens()
        if not any(s["id"] == screen_id for s in screens):
            return None
        for screen in screens:
            if screen["id"] != screen_id and screen.get("wall") == place:
                await self._place(screen["id"], None)
        return await self._place(screen_id, place)

    async def view_for(self, record: Mapping[str, Any]) -> Record | None:
        """The tile a screen shows, for the answer to its report; None when it is in no wall."""
        place = record.get("wall")
        if not place:
            return None
        wall = await self.fleet.wall(place["id"])
        if wall is None or not inside(wall, place["col"], place["row"]):
            return None
        return tile_view(wall, place["col"], place["row"])
