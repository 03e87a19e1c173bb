"""A multi-level grid over the globe: the spatial index of geo boxes on SQLite (PostgreSQL uses GiST).

Each stored bounding box gets the id of the smallest grid cell that holds it whole, at one of the
levels 0.01° (~1.1 km), 0.1°, 1° and 10° cells, or the single global cell. A query box then only
needs the rows of the few cells around it at each level: an ``IN`` list on the btree
``(attr_iri, cell)``, instead of a range over ``min_lon`` that reads half the boxes. It is the
geohash-prefix idea with square cells, which also places lines and polygons, not only points.
Chosen for SQLite by measurement (bench/context_bench.py, README).
"""

from __future__ import annotations

import math

LEVELS = (0.01, 0.1, 1.0, 10.0)
GLOBAL_LEVEL = len(LEVELS)
LEVEL_FACTOR = 10**11
X_FACTOR = 10**5
MAX_CELLS_PER_LEVEL = 144  # beyond this (a query box over ~0.1° at the finest level) no cell list is used


def _index(value: float, offset: float, size: float, count: int) -> int:
    return min(max(math.floor((value + offset) / size), 0), count - 1)


def _cell(level: int, ix: int, iy: int) -> int:
    return level * LEVEL_FACTOR + ix * X_FACTOR + iy


def cell_of(west: float, south: float, east: float, north: float) -> int:
    """The smallest cell holding the box ``(west, south, east, north)`` whole."""
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return _cell(GLOBAL_LEVEL, 0, 0)
    for level, size in enumerate(LEVELS):
        nx, ny = round(360 / size), round(180 / size)
        ix, iy = _index(west, 180, size, nx), _index(south, 90, size, ny)
        if ix == _index(east, 180, size, nx) and iy == _index(north, 90, size, ny):
            return _cell(level, ix, iy)
    return _cell(GLOBAL_LEVEL, 0, 0)


def cells_meeting(west: float, south: float, east: float, north: float) -> list[int] | None:
    """Every cell whose boxes can meet the query box, or None when the box is so large that the
    list would be long: then only the box comparisons filter."""
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return None
    cells = [_cell(GLOBAL_LEVEL, 0, 0)]
    for level, size in enumerate(LEVELS):
        nx, ny = round(360 / size), round(180 / size)
        # floor((v + offset) / size) never decreases as v grows, in floating point too, so a box
        # meeting the query box (its east >= west, its west <= east...) has a cell in these ranges
        xs = range(_index(west, 180, size, nx), _index(east, 180, size, nx) + 1)
        ys = range(_index(south, 90, size, ny), _index(north, 90, size, ny) + 1)
        if len(xs) * len(ys) > MAX_CELLS_PER_LEVEL:
            return None
        cells += [_cell(level, x, y) for x in xs for y in ys]
    return cells
