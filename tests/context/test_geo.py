"""NGSI-LD geo-queries (clause 4.10): validation, exact relations, distances in metres, bbox pre-filter.

Places in Bắc Ninh are given with approximate coordinates; the ward outline is the real one shipped
in ``saola/data/geo``. The Berlin tables are the ETSI conformance suite's (TP 019_10 and 019_11).
"""

from __future__ import annotations

import json
import math
from importlib.resources import files
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from saola.context.errors import BadRequestData
from saola.context.geo import (
    GeoQuery,
    bbox_filter,
    distance,
    geodesic_distance,
    geometry_bbox,
    haversine_distance,
    matches,
    parse_geometry,
    parse_geoquery,
)
from saola.context.representation import LOCATION

CITADEL = [106.0583, 21.1869]  # Bắc Ninh citadel, in Kinh Bắc ward
SQUARE = [106.0760, 21.1800]  # Lý Thái Tổ square, Kinh Bắc ward
DEN_DO = [105.9524, 21.1215]  # Đền Đô, Từ Sơn (Đông Nguyên ward)


def point(lon_lat: list[float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": lon_lat}


@pytest.fixture(scope="module")
def kinh_bac() -> dict[str, Any]:
    wards = json.loads(files("saola.data.geo").joinpath("bac_ninh_wards.geojson").read_text(encoding="utf-8"))
    return next(f["geometry"] for f in wards["features"] if f["properties"]["nameEn"] == "Kinh Bac")


def query(georel: str, geometry: str, coordinates: Any, geoproperty: str | None = None) -> GeoQuery:
    q = parse_geoquery(georel, geometry, coordinates, geoproperty)
    assert q is not None
    return q


# --- parsing ----------------------------------------------------------------------------------


def test_no_geoquery_without_georel_geometry_and_coordinates() -> None:
    assert parse_geoquery(None, None, None) is None
    assert parse_geoquery("", "", "") is None
    assert parse_geoquery(None, None, None, "observationSpace") is None  # geoproperty alone is ignored


def test_geoquery_keeps_its_parts_and_defaults_to_location() -> None:
    q = query("near;maxDistance==2000", "Point", "[106.0583, 21.1869]")
    assert (q.georel, q.geometry, q.max_distance, q.min_distance) == ("near", "Point", 2000.0, None)
    assert q.geoproperty == LOCATION
    assert q.geojson == {"type": "Point", "coordinates": [106.0583, 21.1869]}
    assert query("within", "Point", "[106, 21]", "observationSpace").geoproperty == "observationSpace"


def test_coordinates_may_come_as_json_text_or_parsed_from_a_request_body() -> None:
    ring = [[[106.0, 21.1], [106.1, 21.1], [106.1, 21.2], [106.0, 21.2], [106.0, 21.1]]]
    assert query("within", "Polygon", json.dumps(ring)) == query("within", "Polygon", ring)


def test_near_takes_both_limits_together() -> None:
    q = query("near;minDistance==10;maxDistance==100.5", "Point", "[106, 21]")
    assert (q.min_distance, q.max_distance) == (10.0, 100.5)


@pytest.mark.parametrize(("georel", "geometry", "coordinates", "message"), [
    (None, "Point", "[106.07, 21.18]", "missing georel"),
    ("within", None, None, "missing geometry, coordinates"),
    ("near", "Point", "[106.07, 21.18]", "near needs"),
    ("near;maxDistance==-5", "Point", "[106.07, 21.18]", "invalid near modifier"),
    ("near;maxDistance=100", "Point", "[106.07, 21.18]", "invalid near modifier"),
    ("near;maxDistance==1;maxDistance==2", "Point", "[106.07, 21.18]", "invalid near modifier"),
    ("near;minDistance==100;maxDistance==10", "Point", "[106.07, 21.18]", "greater than maxDistance"),
    ("within;maxDistance==100", "Point", "[106.07, 21.18]", "takes no ';' modifiers"),
    ("inside", "Point", "[106.07, 21.18]", "unknown georel"),
    ("invalid", "Point", "[-8.503,41.202]", "unknown georel"),  # TP 019_03_04
    ("within", "Circle", "[106.07, 21.18]", "unknown geometry"),
    ("within", "point", "[106.07, 21.18]", "unknown geometry"),
    ("within", "Point", "[21.18, 106.07]", "latitude 106.07 outside [-90, 90]"),
    ("within", "Point", "[186.07, 21.18]", "longitude 186.07 outside"),
    ("within", "Point", "[106.07]", "a position is [longitude, latitude]"),
    ("within", "Point", "[106.07, 21.18, 5, 6]", "a position is"),
    ("within", "Point", "106.07,21.18", "JSON array"),
    ("within", "Point", '["106.07", "21.18"]', "finite numbers"),
    ("within", "Point", "[NaN, 21.18]", "finite numbers"),
    ("within", "Point", "[true, 21.18]", "finite numbers"),
    ("within", "LineString", "[[106.07, 21.18]]", "at least 2"),
    ("within", "MultiLineString", "[]", "non-empty"),
    ("within", "Polygon", "[[[106, 21], [106.1, 21], [106.1, 21.1]]]", "at least 4"),
    ("within", "Polygon", "[[[106, 21], [106.1, 21], [106.1, 21.1], [106, 21.1]]]", "end with its first position"),
    ("within", "Polygon", "[[[106, 21], [106.1, 21.1], [106.2, 21.2], [106, 21]]]", "encloses no area"),
    ("within", "MultiPolygon", "[]", "non-empty"),
    ("within", "MultiPoint", "{}", "at least 1"),
])
def test_malformed_geoqueries_are_bad_request_data(georel: Any, geometry: Any, coordinates: Any, message: str) -> None:
    with pytest.raises(BadRequestData, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_geoquery(georel, geometry, coordinates)


def test_a_self_intersecting_query_polygon_is_repaired_not_rejected() -> None:
    # TP 019_11_06 queries with this polygon (a sliver crosses itself near its first corner)
    q = query("within", "Polygon", "[[[13.3023834,52.4903066],[13.3027267,52.4905156],[13.2745743,52.465632],"
                                   "[13.3343124,52.4185447],[13.4311295,52.47107],[13.3023834,52.4903066]]]")
    assert q.shape is not None and q.shape.is_valid and q.shape.area > 0


# --- relations in Bắc Ninh ----------------------------------------------------------------------


def test_near_max_distance_matches_inside_and_not_outside() -> None:
    d = geodesic_distance(*SQUARE, *CITADEL)
    assert 1800 < d < 2100
    assert matches(query(f"near;maxDistance=={math.ceil(d)}", "Point", json.dumps(SQUARE)), point(CITADEL))
    assert not matches(query(f"near;maxDistance=={math.floor(d)}", "Point", json.dumps(SQUARE)), point(CITADEL))
    assert not matches(query("near;maxDistance==5000", "Point", json.dumps(SQUARE)), point(DEN_DO))


def test_near_min_distance_matches_only_far_entities() -> None:
    q = query("near;minDistance==5000", "Point", json.dumps(SQUARE))
    assert matches(q, point(DEN_DO))
    assert not matches(q, point(CITADEL))


def test_within_the_kinh_bac_ward_outline(kinh_bac: dict[str, Any]) -> None:
    q = query("within", "Polygon", kinh_bac["coordinates"])
    assert matches(q, point(CITADEL))
    assert matches(q, point(SQUARE))
    assert not matches(q, point(DEN_DO))


def test_contains_reads_entity_contains_query_geometry(kinh_bac: dict[str, Any]) -> None:
    assert matches(query("contains", "Point", json.dumps(CITADEL)), kinh_bac)
    assert not matches(query("contains", "Point", json.dumps(DEN_DO)), kinh_bac)


def test_intersects_a_road_line(kinh_bac: dict[str, Any]) -> None:
    crossing = query("intersects", "LineString", "[[106.03, 21.20], [106.10, 21.19]]")
    elsewhere = query("intersects", "LineString", "[[105.94, 21.11], [105.96, 21.13]]")
    assert matches(crossing, kinh_bac)
    assert not matches(elsewhere, kinh_bac)
    assert matches(elsewhere, point(DEN_DO)) is False  # a point beside the line does not touch it


def test_disjoint_is_the_opposite_of_intersects(kinh_bac: dict[str, Any]) -> None:
    q = query("disjoint", "Polygon", kinh_bac["coordinates"])
    assert matches(q, point(DEN_DO))
    assert not matches(q, point(CITADEL))


def test_equals_is_geometric_equality_whatever_the_vertex_order() -> None:
    square = [[106.0, 21.1], [106.1, 21.1], [106.1, 21.2], [106.0, 21.2], [106.0, 21.1]]
    rotated = [[106.1, 21.1], [106.1, 21.2], [106.0, 21.2], [106.0, 21.1], [106.1, 21.1]]
    assert matches(query("equals", "Polygon", [square]), {"type": "Polygon", "coordinates": [rotated]})
    assert matches(query("equals", "Point", json.dumps(CITADEL)), point(CITADEL))
    assert not matches(query("equals", "Point", json.dumps(CITADEL)), point(SQUARE))


def test_overlaps_needs_shared_and_unshared_area() -> None:
    a = [[[106.0, 21.1], [106.1, 21.1], [106.1, 21.2], [106.0, 21.2], [106.0, 21.1]]]
    b = {"type": "Polygon", "coordinates": [[[106.05, 21.15], [106.15, 21.15], [106.15, 21.25], [106.05, 21.25],
                                             [106.05, 21.15]]]}
    inner = {"type": "Polygon", "coordinates": [[[106.02, 21.12], [106.03, 21.12], [106.03, 21.13], [106.02, 21.12]]]}
    assert matches(query("overlaps", "Polygon", a), b)
    assert not matches(query("overlaps", "Polygon", a), inner)


def test_near_measures_to_the_nearest_point_of_a_polygon(kinh_bac: dict[str, Any]) -> None:
    q = query("near;maxDistance==100", "Point", json.dumps(CITADEL))
    assert matches(q, kinh_bac)  # inside: distance 0
    gap = distance(parse_geometry(point(DEN_DO)), parse_geometry(kinh_bac))
    assert 5000 < gap < 12000
    assert matches(query(f"near;maxDistance=={math.ceil(gap)}", "Point", json.dumps(DEN_DO)), kinh_bac)
    assert not matches(query(f"near;maxDistance=={math.floor(gap * 0.995)}", "Point", json.dumps(DEN_DO)), kinh_bac)


def test_malformed_or_3d_stored_geometries() -> None:
    q = query("near;maxDistance==3000", "Point", json.dumps(SQUARE))
    assert not matches(q, {"type": "Point", "coordinates": "106,21"})
    assert not matches(q, {"type": "Circle", "coordinates": [106, 21]})
    assert matches(q, point([*CITADEL, 12.5]))
    assert matches(q, {"type": "GeometryCollection", "geometries": [point(DEN_DO), point(CITADEL)]})


@settings(max_examples=500, deadline=None)
@given(st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90),
       st.sampled_from(["maxDistance", "minDistance"]), st.integers(0, 20_000_000))
@example(0.0, 0.0, 0.0, 3.073854947368745e-197, "maxDistance", 0)  # a distance whose squared sine underflows
def test_near_on_stored_points_answers_as_the_shapely_path(lon: float, lat: float, qlon: float, qlat: float,
                                                             limit: str, metres: int) -> None:
    # matches() measures a stored Point from its coordinates (on the sphere first, on the ellipsoid only when that
    # cannot decide); a shapely geometry takes the general path
    q = query(f"near;{limit}=={metres}", "Point", json.dumps([qlon, qlat]))
    stored = point([lon, lat])
    assert matches(q, stored) == matches(q, parse_geometry(stored))
    exact = geodesic_distance(lon, lat, qlon, qlat)  # and at exactly the distance, both sides of it
    for edge in (math.floor(exact), math.ceil(exact)):
        near = query(f"near;{limit}=={edge}", "Point", json.dumps([qlon, qlat]))
        assert matches(near, stored) == matches(near, parse_geometry(stored))


# --- distances --------------------------------------------------------------------------------


def test_geodesic_distance_matches_vincentys_published_example() -> None:
    # Flinders Peak to Buninyong (Vincenty 1975): 54 972.271 m
    dms = [(-37, 57, 3.72030), (144, 25, 29.52440), (-37, 39, 10.15610), (143, 55, 35.38390)]
    lat1, lon1, lat2, lon2 = (math.copysign(abs(d) + m / 60 + s / 3600, d) for d, m, s in dms)
    assert geodesic_distance(lon1, lat1, lon2, lat2) == pytest.approx(54972.271, abs=0.001)


def test_geodesic_distance_edge_cases() -> None:
    assert geodesic_distance(*CITADEL, *CITADEL) == 0.0
    assert geodesic_distance(0, 0, 180, 0) == pytest.approx(20003931, rel=0.005)  # antipodal: spherical fallback
    assert geodesic_distance(0, 0, 0, 1) == pytest.approx(110574.4, abs=0.5)


def test_haversine_is_within_half_a_percent_in_bac_ninh() -> None:
    for other in (SQUARE, DEN_DO):
        assert haversine_distance(*CITADEL, *other) == pytest.approx(geodesic_distance(*CITADEL, *other), rel=0.005)


def test_point_to_line_distance_agrees_with_brute_force_sampling() -> None:
    line = LineString([(106.03, 21.20), (106.06, 21.23), (106.10, 21.21)])
    target = Point(106.07, 21.18)
    samples = [line.interpolate(i / 4000, normalized=True) for i in range(4001)]
    brute = min(geodesic_distance(target.x, target.y, p.x, p.y) for p in samples)
    assert distance(target, line) == pytest.approx(brute, rel=0.001)


# --- bounding boxes ---------------------------------------------------------------------------


def test_bbox_filter_of_relations(kinh_bac: dict[str, Any]) -> None:
    ward = parse_geometry(kinh_bac).bounds
    for georel in ("within", "contains", "intersects", "overlaps", "equals"):
        assert bbox_filter(query(georel, "Polygon", kinh_bac["coordinates"])) == pytest.approx(ward)
    assert bbox_filter(query("disjoint", "Polygon", kinh_bac["coordinates"])) is None
    assert bbox_filter(query("near;minDistance==10", "Point", json.dumps(CITADEL))) is None


def test_bbox_filter_grows_a_point_by_the_distance_in_degrees() -> None:
    west, _, east, north = bbox_filter(query("near;maxDistance==1000", "Point", json.dumps(CITADEL)))  # type: ignore[misc]
    assert 0.009 < north - CITADEL[1] < 0.0095  # ~1 km of latitude, with its margin
    assert 0.0096 < CITADEL[0] - west < 0.0101  # ~1 km of longitude at 21°N is wider in degrees
    assert east - CITADEL[0] == pytest.approx(CITADEL[0] - west)
    assert bbox_filter(query("near;maxDistance==100000", "Point", "[0, 89.5]"))[::2] == (-180, 180)  # type: ignore[index]


@settings(max_examples=300, deadline=None)
@given(st.floats(-179, 179), st.floats(-85, 85), st.floats(1, 300_000), st.floats(-1.5, 1.5), st.floats(-1.5, 1.5))
def test_every_point_within_max_distance_is_inside_the_bbox(lon: float, lat: float, d: float, fx: float,
                                                            fy: float) -> None:
    q = query(f"near;maxDistance=={d:.3f}", "Point", [lon, lat])
    box = bbox_filter(q)
    assert box is not None
    span = d / 111_000
    other = (lon + fx * span / max(math.cos(math.radians(lat)), 0.05), lat + fy * span)
    if not (-180 <= other[0] <= 180 and -90 <= other[1] <= 90):
        return
    if matches(q, point(list(other))):
        assert box[0] <= other[0] <= box[2] and box[1] <= other[1] <= box[3]


def test_geometry_bbox_for_indexing(kinh_bac: dict[str, Any]) -> None:
    assert geometry_bbox(point(CITADEL)) == (106.0583, 21.1869, 106.0583, 21.1869)
    west, south, east, north = geometry_bbox(kinh_bac)
    assert west < CITADEL[0] < east and south < CITADEL[1] < north
    with pytest.raises(BadRequestData):
        geometry_bbox({"type": "Point", "coordinates": [106]})
    with pytest.raises(BadRequestData):
        geometry_bbox({"type": "GeometryCollection", "geometries": []})


# --- ETSI conformance suite tables (Berlin) ---------------------------------------------------------

BERLIN_POINTS = [point([13.3986, 52.5547]), point([13.509818, 52.363457]), point([13.215983, 52.470441])]
BERLIN_POLYGONS = [
    {"type": "Polygon", "coordinates": [[[13.2865906, 52.5648645], [13.2879639, 52.5648645], [13.2797241, 52.4988679],
                                         [13.477478, 52.4712703], [13.5049438, 52.5373084], [13.2865906, 52.5648645]]]},
    {"type": "Polygon", "coordinates": [[[13.315773, 52.4757209], [13.339119, 52.4443421], [13.3892441, 52.4669371],
                                         [13.315773, 52.4757209]]]},
]
BIG = ("[[[13.1616211,52.5438124],[13.597641,52.4840224],[13.5948944,52.3402782],[13.142395,52.386428],"
       "[13.1616211,52.5438124]]]")
SMALL = ("[[[13.1369019,52.5198225],[13.1365585,52.5200314],[13.131752,52.4980907],[13.1832504,52.5026887],"
         "[13.1369019,52.5198225]]]")
CROSSING = ("[[[13.3456421,52.4794848],[13.3641815,52.4428773],[13.4177399,52.4730023],[13.3459854,52.479903],"
            "[13.3456421,52.4794848]]]")


@pytest.mark.parametrize(("georel", "geometry", "coordinates", "count"), [
    ("equals", "Point", "[13.3986, 52.5547]", 1),
    ("near;maxDistance==15000", "Point", "[13.388930, 52.534473]", 2),
    ("near;minDistance==15000", "Point", "[13.388930, 52.534473]", 1),
    ("within", "Polygon", BIG, 2),
    ("disjoint", "Polygon", BIG, 1),
    ("disjoint", "Point", "[13.3986, 52.5547]", 2),
    ("contains", "Point", "[13.3986, 52.5547]", 1),
    ("intersects", "Point", "[13.3986, 52.5547]", 1),
])
def test_conformance_point_entities_019_10(georel: str, geometry: str, coordinates: str, count: int) -> None:
    q = query(georel, geometry, coordinates)
    assert sum(matches(q, g) for g in BERLIN_POINTS) == count


@pytest.mark.parametrize(("georel", "geometry", "coordinates", "count"), [
    ("equals", "Polygon", json.dumps(BERLIN_POLYGONS[0]["coordinates"]), 1),
    ("intersects", "Polygon", CROSSING, 1),
    ("contains", "Polygon", "[[[13.3844376,52.5356966],[13.3844376,52.5356966],[13.381691,52.5123012],"
                            "[13.4235764,52.5100027],[13.4331894,52.5273425],[13.3844376,52.5356966]]]", 1),
    ("contains", "Polygon", SMALL, 0),
    ("disjoint", "Polygon", SMALL, 2),
    ("within", "Polygon", "[[[13.3023834,52.4903066],[13.3027267,52.4905156],[13.2745743,52.465632],"
                          "[13.3343124,52.4185447],[13.4311295,52.47107],[13.3023834,52.4903066]]]", 1),
    ("overlaps", "Polygon", CROSSING, 1),
    ("contains", "Point", "[13.3442688,52.4650045]", 1),
])
def test_conformance_polygon_entities_019_11(georel: str, geometry: str, coordinates: str, count: int) -> None:
    q = query(georel, geometry, coordinates)
    assert sum(matches(q, g) for g in BERLIN_POLYGONS) == count
