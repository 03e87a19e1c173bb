"""The spatial pre-filter of geo-queries: same answers as an exact check of every entity, index used.

On PostgreSQL the bounding boxes are searched through a GiST index on ``box(point, point)``
(``models.BoxOverlaps``); on SQLite through the grid cells of ``saola.context.geogrid``. Either way a geo-query must
return exactly the entities whose geometry satisfies it (``geo.matches`` over all of them).
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from saola.context import geogrid
from saola.context.geo import matches, parse_geoquery
from saola.context.models import BoxOverlaps, NgsiGeoBox
from saola.context.representation import LOCATION
from tests.context.conftest import Ngsi

WEST, SOUTH, EAST, NORTH = 106.00, 21.10, 106.10, 21.20


def _places() -> dict[str, dict[str, Any]]:
    """Points on a jittered grid, a few polygons and lines, and points exactly on box edges."""
    rng = random.Random(3)
    places: dict[str, dict[str, Any]] = {}
    for i in range(120):
        places[f"p{i}"] = {"type": "Point", "coordinates": [round(rng.uniform(WEST, EAST), 5),
                                                            round(rng.uniform(SOUTH, NORTH), 5)]}
    for i in range(6):
        x, y = WEST + 0.015 * i, SOUTH + 0.012 * i
        places[f"poly{i}"] = {"type": "Polygon", "coordinates": [[[x, y], [x + 0.02, y], [x + 0.02, y + 0.01],
                                                                  [x, y + 0.01], [x, y]]]}
        places[f"line{i}"] = {"type": "LineString", "coordinates": [[x, NORTH - 0.01], [x + 0.03, NORTH - 0.02]]}
    places["edge-west"] = {"type": "Point", "coordinates": [106.04, 21.15]}
    places["edge-corner"] = {"type": "Point", "coordinates": [106.06, 21.17]}
    return places


@pytest.fixture
def city(ngsi: Ngsi) -> dict[str, dict[str, Any]]:
    places = _places()
    body = [{"id": f"urn:ngsi-ld:Place:{name}", "type": "Place",
             "location": {"type": "GeoProperty", "value": geometry}} for name, geometry in places.items()]
    response = ngsi.post("/entityOperations/upsert", json=body)
    assert response.status_code == 201, response.text
    return places


QUERIES = [
    ("near;maxDistance==800", "Point", [106.05, 21.15]),
    ("near;maxDistance==3000", "Point", [106.02, 21.12]),
    ("near;minDistance==5000", "Point", [106.05, 21.15]),
    ("within", "Polygon", [[[106.04, 21.13], [106.06, 21.13], [106.06, 21.17], [106.04, 21.17], [106.04, 21.13]]]),
    ("intersects", "Polygon", [[[106.03, 21.10], [106.05, 21.10], [106.05, 21.125], [106.03, 21.125],
                                [106.03, 21.10]]]),
    ("intersects", "LineString", [[106.0, 21.185], [106.1, 21.185]]),
    ("equals", "Point", [106.04, 21.15]),
]


@pytest.mark.parametrize(("georel", "geometry", "coordinates"), QUERIES)
def test_geo_queries_answer_what_an_exact_check_of_every_entity_answers(
    ngsi: Ngsi, city: dict[str, dict[str, Any]], georel: str, geometry: str, coordinates: Any,
) -> None:
    query = parse_geoquery(georel, geometry, json.dumps(coordinates), None)
    assert query is not None
    expected = sorted(f"urn:ngsi-ld:Place:{n}" for n, g in city.items() if matches(query, g))
    response = ngsi.get("/entities", params={"type": "Place", "georel": georel, "geometry": geometry,
                                             "coordinates": json.dumps(coordinates), "limit": 1000})
    assert response.status_code == 200, response.text
    assert sorted(e["id"] for e in response.json()) == expected
    assert expected or georel == "equals"


def test_boxes_that_only_touch_the_query_box_are_candidates(ngsi: Ngsi, city: dict[str, Any], db: Session) -> None:
    def count(west: float, south: float, east: float, north: float) -> int:
        box = NgsiGeoBox
        return len(db.scalars(select(box.id).where(box.attr_iri == LOCATION,
                                                   BoxOverlaps(west, south, east, north))).all())

    assert count(106.04, 21.15, 106.04, 21.15) == 1  # a degenerate box on the point itself
    assert count(106.05, 21.16, 106.06, 21.17) >= 1  # the corner point (106.06, 21.17) touches it
    assert count(106.5, 21.5, 106.6, 21.6) == 0
    assert count(WEST, SOUTH, EAST, NORTH) == len(city)


def test_the_geo_pre_filter_starts_from_the_spatial_index(ngsi: Ngsi, city: dict[str, Any], db: Session) -> None:
    box = NgsiGeoBox
    statement = select(box.entity_pk).where(box.attr_iri == LOCATION, BoxOverlaps(106.04, 21.14, 106.05, 21.15))
    compiled = statement.compile(dialect=db.get_bind().dialect, compile_kwargs={"literal_binds": True})
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL enable_seqscan = off"))  # a table this small would be scanned anyway
        plan = "\n".join(db.scalars(text(f"EXPLAIN {compiled}")))
        assert "ix_ngsi_geo_boxes_gist" in plan
    else:
        plan = "\n".join(str(row[-1]) for row in db.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "ix_ngsi_geo_boxes_cell" in plan
    db.rollback()


def test_every_box_meeting_a_query_box_is_in_one_of_its_cells() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        size = rng.choice([0.0, 0.0001, 0.003, 0.02, 0.3, 4.0, 30.0])
        west, south = rng.uniform(-180, 180 - size), rng.uniform(-90, 90 - size)
        box = (west, south, west + size * rng.random(), south + size * rng.random())
        span = rng.choice([0.0, 0.002, 0.01, 0.05])
        qw, qs = rng.uniform(box[0] - span, box[2]), rng.uniform(box[1] - span, box[3])
        query = (qw, qs, max(qw + span, box[0]), max(qs + span, box[1]))  # always meets the box
        cells = geogrid.cells_meeting(*query)
        assert cells is None or geogrid.cell_of(*box) in cells, (box, query)


def test_large_query_boxes_fall_back_to_the_box_comparisons() -> None:
    assert geogrid.cells_meeting(105.5, 20.8, 106.5, 21.6) is None
    assert geogrid.cells_meeting(float("nan"), 0, 1, 1) is None
    assert geogrid.cell_of(-180, -90, 180, 90) == geogrid.cell_of(10, 10, 30, 10)  # both only fit the globe
