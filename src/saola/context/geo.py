"""NGSI-LD geo-queries (ETSI GS CIM 009 V1.8.1 clause 4.10), evaluated exactly with shapely.

Public API::

    parse_geoquery(georel, geometry, coordinates, geoproperty=None) -> GeoQuery | None
    matches(query, geometry) -> bool           # geometry: the GeoProperty's GeoJSON value
    bbox_filter(query) -> (min_lon, min_lat, max_lon, max_lat) | None
    geometry_bbox(geojson) -> (min_lon, min_lat, max_lon, max_lat)
    parse_geometry(geojson) -> shapely geometry  # structural GeoJSON validation, BadRequestData
    geodesic_distance(lon1, lat1, lon2, lat2) -> metres;  distance(a, b) -> metres

Relations read "the entity's geometry <georel> the query geometry" and are planar in
longitude/latitude (straight edges, as in GeoJSON and PostGIS ``geometry``): ``within``,
``contains``, ``intersects``, ``disjoint``, ``overlaps`` are the DE-9IM predicates and ``equals``
is topological equality (same point set, whatever the vertex order).

Distances for ``near`` are metres on the WGS84 ellipsoid: between two points, Vincenty's inverse
formula (sub-millimetre; haversine on the mean sphere if it does not converge, which only
happens for nearly antipodal points). Between other geometries: 0 if they intersect, otherwise
the nearest pair of points is found in a local equirectangular projection scaled by the
ellipsoid's radii of curvature at the pair's mid-latitude (an affine map of lon/lat, so edges
stay straight), refined once, and the distance between that pair is measured with Vincenty. At
city scale the projection's scale error is far below 0.1%, so distances are well within 0.5%.
``maxDistance`` matches when the distance is <= the limit, ``minDistance`` when it is >=; both
may be given together (``near;minDistance==10;maxDistance==100``, an extension of the spec's
single-modifier form). ``near`` accepts any reference geometry. The antimeridian is not handled.

Validation: the three of georel, geometry and coordinates go together (a geoproperty without
them is ignored, as the spec says); positions are [longitude, latitude(, altitude)] within
range; LineStrings have two positions, rings four and are closed. A self-intersecting polygon is
repaired with ``shapely.make_valid`` rather than rejected, because the ETSI conformance suite
itself queries with one (TP 019_11_06); a polygon that encloses no area is rejected.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely import affinity
from shapely.errors import GEOSException
from shapely.geometry import GeometryCollection, MultiPolygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from saola.context.errors import BadRequestData
from saola.context.representation import LOCATION

GEORELS = ("near", "within", "contains", "intersects", "equals", "disjoint", "overlaps")
GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")

# WGS84
_A = 6378137.0
_F = 1 / 298.257223563
_B = _A * (1 - _F)
_E2 = _F * (2 - _F)
_MEAN_RADIUS = 6371008.8
_MIN_MERIDIAN_RADIUS = _A * (1 - _E2)  # radius of curvature of the meridian at the equator, its minimum

Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class GeoQuery:
    georel: str  # one of GEORELS
    geometry: str  # one of GEOMETRY_TYPES
    coordinates: Any  # as given, with lists turned into tuples
    geoproperty: str = LOCATION  # the LOCATION IRI by default, else the term as given (the caller expands it)
    max_distance: float | None = None
    min_distance: float | None = None
    shape: BaseGeometry | None = field(default=None, compare=False, repr=False)

    @property
    def geojson(self) -> dict[str, Any]:
        return {"type": self.geometry, "coordinates": json.loads(json.dumps(self.coordinates))}


def _error(message: str) -> BadRequestData:
    return BadRequestData(f"Invalid geo-query: {message}")


def parse_geoquery(
    georel: str | None, geometry: str | None, coordinates: str | Any | None, geoproperty: str | None = None,
) -> GeoQuery | None:
    """Validate a geo-query; None when there is none. ``coordinates`` is JSON text or already parsed."""
    given = {"georel": georel, "geometry": geometry, "coordinates": coordinates}
    present = [k for k, v in given.items() if v is not None and v != ""]
    if not present:
        return None
    missing = [k for k in given if k not in present]
    if missing:
        raise _error(f"georel, geometry and coordinates go together; missing {', '.join(missing)}")
    if not isinstance(georel, str) or not isinstance(geometry, str):
        raise _error("georel and geometry must be strings")
    name, min_distance, max_distance = _parse_georel(georel)
    if geometry not in GEOMETRY_TYPES:
        raise _error(f"unknown geometry {geometry!r}; expected one of {', '.join(GEOMETRY_TYPES)}")
    if isinstance(coordinates, str):
        try:
            coordinates = json.loads(coordinates)
        except (ValueError, RecursionError):
            raise _error("coordinates must be a JSON array such as [106.07,21.18]") from None
    try:
        reference = _repair(parse_geometry({"type": geometry, "coordinates": coordinates}, collection=False))
    except BadRequestData as exc:
        raise _error(exc.detail) from None
    if geometry.endswith("Polygon") and reference.area < 1e-12:  # square degrees, about 0.01 m²
        raise _error("the polygon encloses no area")
    if geoproperty in (None, ""):
        geoproperty = LOCATION
    elif not isinstance(geoproperty, str) or not re.fullmatch(r"\S+", geoproperty):
        raise _error(f"invalid geoproperty {geoproperty!r}")
    return GeoQuery(name, geometry, _freeze(coordinates), geoproperty, max_distance, min_distance, reference)


def _parse_georel(text: str) -> tuple[str, float | None, float | None]:
    name, *modifiers = text.split(";")
    if name not in GEORELS:
        raise _error(f"unknown georel {text!r}; expected near;maxDistance==<metres>, near;minDistance==<metres>, "
                     + ", ".join(GEORELS[1:]))
    if name != "near":
        if modifiers:
            raise _error(f"georel {name} takes no ';' modifiers")
        return name, None, None
    if not modifiers:
        raise _error("near needs ;maxDistance==<metres> or ;minDistance==<metres>")
    limits: dict[str, float] = {}
    for modifier in modifiers:
        m = re.fullmatch(r"(maxDistance|minDistance)==(\d{1,12}(?:\.\d{1,9})?)", modifier)
        if not m or m[1] in limits:
            raise _error(f"invalid near modifier {modifier!r}; expected maxDistance==<metres> or minDistance==<metres>")
        limits[m[1]] = float(m[2])
    low, high = limits.get("minDistance"), limits.get("maxDistance")
    if low is not None and high is not None and low > high:
        raise _error("minDistance is greater than maxDistance")
    return name, low, high


def _freeze(x: Any) -> Any:
    return tuple(_freeze(i) for i in x) if isinstance(x, (list, tuple)) else x


# --- GeoJSON validation -------------------------------------------------------------------------


def _position(p: Any, where: str) -> tuple[float, float]:
    if not isinstance(p, (list, tuple)) or len(p) not in (2, 3):
        raise BadRequestData(f"{where}: a position is [longitude, latitude] or [longitude, latitude, altitude]")
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) for x in p):
        raise BadRequestData(f"{where}: position {list(p)} must hold finite numbers")
    lon, lat = float(p[0]), float(p[1])
    if not -180 <= lon <= 180:
        raise BadRequestData(f"{where}: longitude {lon} outside [-180, 180] (positions are [longitude, latitude])")
    if not -90 <= lat <= 90:
        raise BadRequestData(f"{where}: latitude {lat} outside [-90, 90] (positions are [longitude, latitude])")
    return lon, lat


def _positions(c: Any, minimum: int, where: str) -> list[tuple[float, float]]:
    if not isinstance(c, (list, tuple)) or len(c) < minimum:
        raise BadRequestData(f"{where}: expected an array of at least {minimum} position(s)")
    return [_position(p, where) for p in c]


def _ring(c: Any, where: str) -> list[tuple[float, float]]:
    ring = _positions(c, 4, f"{where} (a linear ring)")
    if ring[0] != ring[-1]:
        raise BadRequestData(f"{where}: a linear ring must end with its first position")
    return ring


def _many(c: Any, where: str) -> list[Any]:
    if not isinstance(c, (list, tuple)) or not c:
        raise BadRequestData(f"{where}: expected a non-empty array")
    return list(c)


def _coordinates(kind: str, c: Any) -> Any:
    """The 2-D coordinates of a ``kind`` geometry, after checking their structure."""
    where = f"{kind} coordinates"
    if kind == "Point":
        return _position(c, where)
    if kind == "MultiPoint":
        return _positions(c, 1, where)
    if kind == "LineString":
        return _positions(c, 2, where)
    if kind == "MultiLineString":
        return [_positions(line, 2, where) for line in _many(c, where)]
    if kind == "Polygon":
        return [_ring(r, where) for r in _many(c, where)]
    return [[_ring(r, where) for r in _many(poly, where)] for poly in _many(c, where)]


def parse_geometry(geojson: Any, *, collection: bool = True) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry object; BadRequestData when malformed.

    Checks structure and ranges only (a self-intersecting polygon passes; see the module notes).
    """
    if not isinstance(geojson, dict):
        raise BadRequestData("a GeoJSON geometry must be a JSON object")
    kind = geojson.get("type")
    if kind == "GeometryCollection" and collection:
        parts = geojson.get("geometries")
        if not isinstance(parts, list) or not parts:
            raise BadRequestData("GeometryCollection geometries: expected a non-empty array")
        return GeometryCollection([parse_geometry(p, collection=False) for p in parts])
    if kind not in GEOMETRY_TYPES:
        raise BadRequestData(f"unknown GeoJSON geometry type {kind!r}")
    try:
        return shape({"type": kind, "coordinates": _coordinates(kind, geojson.get("coordinates"))})
    except (ValueError, GEOSException) as exc:
        raise BadRequestData(f"invalid {kind}: {exc}") from None


def _repair(geom: BaseGeometry) -> BaseGeometry:
    """Make an invalid polygon valid, keeping its polygonal part."""
    if geom.is_valid or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return geom
    fixed = shapely.make_valid(geom)
    polygons = [p for part in shapely.get_parts(fixed) for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
    return MultiPolygon(polygons) if len(polygons) != 1 else polygons[0]


def geometry_bbox(geojson: Any) -> Bbox:
    """The (min_lon, min_lat, max_lon, max_lat) of a GeoJSON geometry, for indexing; BadRequestData if malformed."""
    geom = parse_geometry(geojson)
    if geom.is_empty:
        raise BadRequestData("an empty geometry has no bounding box")
    return tuple(float(v) for v in geom.bounds)  # type: ignore[return-value]


# --- distances --------------------------------------------------------------------------------


def haversine_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres on the mean-radius sphere (up to ~0.5% off the ellipsoid)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * _MEAN_RADIUS * math.asin(min(1.0, math.sqrt(h)))


def geodesic_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two points on the WGS84 ellipsoid (Vincenty's inverse formula)."""
    big_l = math.radians(lon2 - lon1)
    u1 = math.atan((1 - _F) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - _F) * math.tan(math.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lam = big_l
    for _ in range(200):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha**2
        cos_2sm = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = _F / 16 * cos2_alpha * (4 + _F * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * _F * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm**2)))
        if abs(lam - previous) < 1e-12:
            break
    else:
        return haversine_distance(lon1, lat1, lon2, lat2)
    u_sq = cos2_alpha * (_A**2 - _B**2) / _B**2
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta_sigma = big_b * sin_sigma * (cos_2sm + big_b / 4 * (
        cos_sigma * (-1 + 2 * cos_2sm**2) - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)))
    return _B * big_a * (sigma - delta_sigma)


def _metres_per_degree(lat: float) -> tuple[float, float]:
    """(east, north) metres per degree of longitude/latitude at ``lat`` on the ellipsoid."""
    phi = math.radians(lat)
    w = math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    east = _A / w * math.cos(phi) * math.pi / 180
    north = _A * (1 - _E2) / w**3 * math.pi / 180
    return max(east, 1e-3), north


def _nearest_pair(a: BaseGeometry, b: BaseGeometry, lon0: float, lat0: float) -> tuple[Any, Any]:
    kx, ky = _metres_per_degree(lat0)
    to_local = [kx, 0, 0, ky, -kx * lon0, -ky * lat0]
    pa, pb = nearest_points(affinity.affine_transform(a, to_local), affinity.affine_transform(b, to_local))
    return (pa.x / kx + lon0, pa.y / ky + lat0), (pb.x / kx + lon0, pb.y / ky + lat0)


def distance(a: BaseGeometry, b: BaseGeometry) -> float:
    """Metres between the nearest points of two lon/lat geometries (0 when they intersect)."""
    if a.is_empty or b.is_empty:
        return math.inf
    if a.geom_type == "Point" and b.geom_type == "Point":
        return geodesic_distance(a.x, a.y, b.x, b.y)
    if a.intersects(b):
        return 0.0
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a.bounds, b.bounds
    lon0, lat0 = (ax0 + ax1 + bx0 + bx1) / 4, (ay0 + ay1 + by0 + by1) / 4
    for _ in range(2):
        p, q = _nearest_pair(a, b, lon0, lat0)
        lon0, lat0 = (p[0] + q[0]) / 2, (p[1] + q[1]) / 2
    return geodesic_distance(p[0], p[1], q[0], q[1])


# --- evaluation -------------------------------------------------------------------------------

_PREDICATES = {
    "within": lambda target, ref: target.within(ref),
    "contains": lambda target, ref: target.contains(ref),
    "intersects": lambda target, ref: target.intersects(ref),
    "disjoint": lambda target, ref: target.disjoint(ref),
    "overlaps": lambda target, ref: target.overlaps(ref),
    "equals": lambda target, ref: target.equals(ref),
}


def matches(query: GeoQuery, geometry: dict[str, Any] | BaseGeometry) -> bool:
    """Whether an entity whose GeoProperty holds ``geometry`` satisfies ``query``.

    A malformed stored geometry never matches (it is not an error of the query).
    """
    try:
        reference = query.shape
        assert reference is not None
        if query.georel == "near" and isinstance(geometry, dict) and geometry.get("type") == "Point" \
                and reference.geom_type == "Point":  # (the usual case: no shapely geometry needs building)
            lon, lat = _coordinates("Point", geometry.get("coordinates"))[:2]
            return _near_points(query, lon, lat, reference.x, reference.y)
        target = _repair(geometry if isinstance(geometry, BaseGeometry) else parse_geometry(geometry))
        if query.georel == "near":
            return _within_limits(query, distance(target, reference))
        return bool(_PREDICATES[query.georel](target, reference))
    except (BadRequestData, GEOSException, ValueError):
        return False


_SPHERE_MARGIN = 0.01  # the sphere is within ~0.5% of the ellipsoid; twice that to be sure


def _near_points(query: GeoQuery, lon: float, lat: float, ref_lon: float, ref_lat: float) -> bool:
    """``near`` between two points: the ellipsoidal distance, measured only when the sphere's cannot decide."""
    rough = haversine_distance(lon, lat, ref_lon, ref_lat)
    # (and a millimetre either way: squared sines of tiny angles underflow to nothing)
    low, high = rough * (1 - _SPHERE_MARGIN) - 0.001, rough * (1 + _SPHERE_MARGIN) + 0.001
    if _within_limits(query, low) and _within_limits(query, high):  # (the whole band is inside the limits)
        return True
    if (query.max_distance is not None and low > query.max_distance) or (
            query.min_distance is not None and high < query.min_distance):
        return False
    return _within_limits(query, geodesic_distance(lon, lat, ref_lon, ref_lat))


def _within_limits(query: GeoQuery, metres: float) -> bool:
    return (query.max_distance is None or metres <= query.max_distance) and (
        query.min_distance is None or metres >= query.min_distance)


def bbox_filter(query: GeoQuery) -> Bbox | None:
    """A box every matching entity's geometry bbox intersects; None when no box can be given.

    For ``near;maxDistance`` the query geometry's box is grown by the distance: in latitude by
    d / (smallest meridian radius), in longitude by d / (equatorial radius x cos of the highest
    latitude reached), each a bound no path of length d can exceed; 1% is added for rounding.
    """
    assert query.shape is not None
    if query.georel == "disjoint" or (query.georel == "near" and query.max_distance is None):
        return None
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in query.shape.bounds)
    if query.georel != "near":
        return min_lon, min_lat, max_lon, max_lat
    d = (query.max_distance or 0.0) * 1.01 + 1.0
    dlat = math.degrees(d / _MIN_MERIDIAN_RADIUS)
    low, high = max(-90.0, min_lat - dlat), min(90.0, max_lat + dlat)
    extreme = max(abs(low), abs(high))
    if extreme >= 89.9:
        return -180.0, low, 180.0, high
    dlon = math.degrees(d / (_A * math.cos(math.radians(extreme))))
    west, east = min_lon - dlon, max_lon + dlon
    if west < -180 or east > 180:
        west, east = -180.0, 180.0
    return west, low, east, high
