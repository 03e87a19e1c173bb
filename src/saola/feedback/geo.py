"""Which ward a reported point lies in, from the boundaries shipped in ``saola/data/geo``.

The 2025 wards/communes of the province (``bac_ninh_wards.geojson``) are read once and put in
a shapely STR-tree; a lookup is a point-in-polygon test against the few candidates it returns.
No database is needed, so the answer is the same whether or not the directory was loaded.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

WARDS_FILE = "bac_ninh_wards.geojson"


@dataclass(frozen=True)
class Ward:
    code: str
    name: str  # "Phường Bắc Giang"
    name_en: str  # "Bac Giang Ward"
    province_code: str


@lru_cache(maxsize=1)
def _index() -> tuple[shapely.STRtree, tuple[BaseGeometry, ...], tuple[Ward, ...]]:
    text = resources.files("saola.data.geo").joinpath(WARDS_FILE).read_text("utf-8")
    features = json.loads(text)["features"]
    shapes = tuple(shape(f["geometry"]) for f in features)
    wards = tuple(Ward(code=f["properties"]["code"], name=f["properties"]["fullName"],
                       name_en=f["properties"]["fullNameEn"], province_code=f["properties"]["provinceCode"])
                  for f in features)
    return shapely.STRtree(shapes), shapes, wards


def ward_at(lat: float, lon: float) -> Ward | None:
    """The ward containing the point (WGS 84), or ``None`` outside every shipped ward."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    tree, shapes, wards = _index()
    point = Point(lon, lat)
    for i in tree.query(point):
        if shapes[int(i)].covers(point):
            return wards[int(i)]
    return None


def ward_by_code(code: str) -> Ward | None:
    """A shipped ward by its official code."""
    _tree, _shapes, wards = _index()
    return next((w for w in wards if w.code == code), None)
