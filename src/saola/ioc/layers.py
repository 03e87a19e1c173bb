"""The operator console's map layers: what each layer shows and its GeoJSON, read through public services.

Layers are data (:data:`LAYERS`): an entity type of the city database with a classifier that turns an entity
into a status (lamp on/off/faulty, congestion level, VN_AQI band...), each status with its colour; or another
package's service (open incidents, open citizen reports, active alerts). A context layer is one query per
request through :func:`saola.context.query.run_query` (the type, plus a bounding-box geo-query when the map
sends one), never one query per entity. Stored entities are in the expanded form
(:mod:`saola.context.representation`); names are the core @context's terms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from saola.context import query as query_service
from saola.context.jsonld import TermMap
from saola.context.representation import LOCATION, StoredEntity, default_instance, value_of
from saola.core.errors import BadRequest, NotFound
from saola.devices.measures import core_terms

MAX_FEATURES = 20_000  # a context layer answers at most this many entities
Bbox = tuple[float, float, float, float]


class UnknownLayer(NotFound):
    code = "unknown-layer"
    title = "No such map layer"


class InvalidBbox(BadRequest):
    code = "invalid-bbox"
    title = "Invalid bounding box"


@dataclass(frozen=True)
class Status:
    key: str
    label: str  # English message id
    color: str


@dataclass(frozen=True)
class Layer:
    """A map layer: ``entity_type`` (a context layer) or ``source`` (another package's GeoJSON)."""

    key: str
    label: str  # English message id
    icon: str  # a short symbol drawn in the marker
    statuses: tuple[Status, ...]
    entity_type: str | None = None
    classify: Callable[[Callable[[str], Any]], str] | None = None  # attribute getter → status key
    summary: tuple[str, ...] = ()  # attributes copied into the feature's properties
    source: str | None = None  # "incidents", "reports", "alerts"
    default_on: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "icon": self.icon, "entity_type": self.entity_type,
                "source": self.source, "default_on": self.default_on,
                "statuses": [{"key": s.key, "label": s.label, "color": s.color} for s in self.statuses],
                "url": f"/api/v1/ioc/layers/{self.key}.geojson"}


# --- classifiers (the attribute getter returns the default instance's value) ---------------------------------

# VN_AQI bands (Decision 1459/QĐ-TCMT of 2019): upper bound, key, colour.
AQI_BANDS: tuple[tuple[float, str, str], ...] = (
    (50, "good", "#00e400"), (100, "moderate", "#ffff00"), (150, "poor", "#ff7e00"),
    (200, "bad", "#ff0000"), (300, "veryBad", "#8f3f97"), (float("inf"), "hazardous", "#7e0023"),
)


def aqi_band(value: Any) -> str:
    """The VN_AQI band of an index value ("unknown" when it is not a number)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "unknown"
    return next(key for limit, key, _color in AQI_BANDS if value <= limit)


def _lamp(get: Callable[[str], Any]) -> str:
    if get("status") not in (None, "ok"):
        return "faulty"
    return "on" if get("powerState") == "on" else "off"


def _pick(attr: str, known: tuple[str, ...]) -> Callable[[Callable[[str], Any]], str]:
    def classify(get: Callable[[str], Any]) -> str:
        value = get(attr)
        return value if value in known else "unknown"
    return classify


def _aqi(get: Callable[[str], Any]) -> str:
    band = aqi_band(get("airQualityIndex"))
    if band == "unknown" and get("airQualityLevel") in {b[1] for b in AQI_BANDS}:
        return str(get("airQualityLevel"))
    return band


def _static(get: Callable[[str], Any]) -> str:
    return "present"


UNKNOWN = Status("unknown", "Unknown", "#98a2b3")
SEVERITY_COLORS = {"critical": "#b42318", "major": "#e04f16", "minor": "#f79009", "warning": "#eaaa08",
                   "info": "#175cd3"}
SEVERITIES = tuple(SEVERITY_COLORS)

LAYERS: tuple[Layer, ...] = (
    Layer("lamps", "Street lamps", "L", (Status("on", "On", "#fdb022"), Status("off", "Off", "#475467"),
                                         Status("faulty", "Faulty", "#d92d20")),
          entity_type="Streetlight", classify=_lamp, summary=("powerState", "status", "powerConsumption")),
    Layer("traffic", "Traffic", "T", (Status("free", "Free flow", "#12b76a"), Status("moderate", "Moderate", "#fdb022"),
                                      Status("heavy", "Heavy", "#f04438"), Status("jam", "Jam", "#7a0916"), UNKNOWN),
          entity_type="TrafficFlowObserved", classify=_pick("congestionLevel", ("free", "moderate", "heavy", "jam")),
          summary=("congestionLevel", "averageVehicleSpeed", "intensity", "occupancy")),
    Layer("cameras", "Cameras", "C", (Status("online", "Online", "#175cd3"), Status("offline", "Offline", "#98a2b3")),
          entity_type="Camera", classify=_pick("status", ("online", "offline")), summary=("status", "vehicleCount")),
    Layer("air", "Air quality", "A", (*(Status(key, label, color) for (_l, key, color), label in zip(
        AQI_BANDS, ("Good", "Moderate", "Poor", "Bad", "Very bad", "Hazardous"), strict=True)), UNKNOWN),
          entity_type="AirQualityObserved", classify=_aqi, summary=("airQualityIndex", "airQualityLevel", "pm25")),
    Layer("flood", "Flood sensors", "F", (Status("normal", "Normal", "#2e90fa"), Status("alert", "Alert", "#f79009"),
                                          Status("flood", "Flood", "#b42318"), UNKNOWN),
          entity_type="FloodMonitoring", classify=_pick("floodState", ("normal", "alert", "flood")),
          summary=("waterLevel", "alertLevel", "floodState")),
    Layer("substations", "Substations", "S", (Status("energized", "Energized", "#039855"),
                                              Status("outage", "Outage", "#b42318"), UNKNOWN),
          entity_type="Substation", classify=_pick("status", ("energized", "outage")),
          summary=("status", "loadPercent", "voltage")),
    Layer("weather", "Weather stations", "W", (Status("present", "Station", "#0e9384"),),
          entity_type="WeatherObserved", classify=_static,
          summary=("temperature", "relativeHumidity", "precipitation"), default_on=False),
    Layer("schools", "Schools", "E", (Status("present", "School", "#6941c6"),), entity_type="School",
          classify=_static, summary=("studentCount", "educationLevel"), default_on=False),
    Layer("incidents", "Incidents", "!", tuple(Status(s, s.title(), c) for s, c in SEVERITY_COLORS.items()),
          source="incidents"),
    Layer("reports", "Citizen reports", "R", (Status("received", "Received", "#7a5af8"),
                                              Status("in_progress", "In progress", "#ee46bc")), source="reports"),
    Layer("alerts", "Active alerts", "⚠", tuple(Status(s, s.title(), c) for s, c in SEVERITY_COLORS.items()),
          source="alerts"),
)
BY_KEY = {layer.key: layer for layer in LAYERS}


def get_layer(key: str) -> Layer:
    layer = BY_KEY.get(key)
    if layer is None:
        raise UnknownLayer("There is no map layer named '{layer}'", layer=key[:60])
    return layer


def parse_bbox(text: str | None) -> Bbox | None:
    """``minLon,minLat,maxLon,maxLat`` (WGS84) or None; 400 when malformed."""
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise InvalidBbox("A bbox is four numbers: minLon,minLat,maxLon,maxLat", field="bbox") from None
    if len(parts) != 4 or not all(abs(v) < 1e6 for v in parts):
        raise InvalidBbox("A bbox is four numbers: minLon,minLat,maxLon,maxLat", field="bbox")
    west, south, east, north = parts
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InvalidBbox("The bbox must have west < east and south < north within WGS84", field="bbox")
    return west, south, east, north


# --- reading the context store -------------------------------------------------------------------------------


@cache
def _tm() -> TermMap:
    return core_terms()


def iri(term: str) -> str:
    return _tm().expand(term)


def attribute(entity: StoredEntity, term: str) -> Any:
    """The value of the default instance of attribute ``term`` (a core-context term), or None."""
    instances = entity.get(iri(term)) or []
    inst = default_instance(instances) or (instances[0] if instances else None)
    return value_of(inst) if inst is not None else None


def geometry(entity: StoredEntity) -> dict[str, Any] | None:
    instances = entity.get(LOCATION) or []
    inst = default_instance(instances) or (instances[0] if instances else None)
    value = value_of(inst) if inst is not None and inst.get("type") == "GeoProperty" else None
    return value if isinstance(value, dict) and "type" in value else None


def entities_of_type(session: Session, *, tenant: str, entity_type: str, bbox: Bbox | None = None,
                     q: str | None = None, limit: int = MAX_FEATURES) -> list[StoredEntity]:
    """Every entity of ``entity_type`` (a term), optionally within ``bbox`` and matching ``q``: one query."""
    geo_args: dict[str, Any] = {}
    if bbox is not None:
        w, s, e, n = bbox
        geo_args = {"georel": "intersects", "geometry": "Polygon",
                    "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
    query = query_service.build_query(_tm(), type=entity_type, q=q, limit=limit, max_limit=limit, **geo_args)
    found, _total = query_service.run_query(session, tenant=tenant, query=query)
    return found


def count_of_type(session: Session, *, tenant: str, entity_type: str, q: str | None = None) -> int:
    """How many entities of ``entity_type`` (matching ``q``) there are; counted by the database without ``q``."""
    query = query_service.build_query(_tm(), type=entity_type, q=q, limit=0, count=True, max_limit=MAX_FEATURES)
    _found, total = query_service.run_query(session, tenant=tenant, query=query)
    return int(total or 0)


def entity_url(entity_id: str, tenant: str = "") -> str:
    url = "/console/entities/" + quote(entity_id, safe=":")
    return url + (f"?tenant={quote(tenant)}" if tenant else "")


def _feature(layer: Layer, entity: StoredEntity, tenant: str) -> dict[str, Any] | None:
    shape = geometry(entity)
    if shape is None:
        return None

    def get(term: str) -> Any:
        return attribute(entity, term)

    status = layer.classify(get) if layer.classify else "present"
    props: dict[str, Any] = {"id": entity["id"], "name": get("name") or entity["id"], "layer": layer.key,
                             "status": status, "url": entity_url(entity["id"], tenant),
                             "address": _address(get("address")), "ward": get("refWard")}
    props["attributes"] = {term: get(term) for term in layer.summary}
    return {"type": "Feature", "id": entity["id"], "geometry": shape, "properties": props}


def _address(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        parts = [value.get(k) for k in ("streetAddress", "addressLocality", "addressRegion")]
        return ", ".join(str(p) for p in parts if p) or None
    return None


# --- other packages' layers ----------------------------------------------------------------------------------


def _inside(shape: dict[str, Any] | None, bbox: Bbox | None) -> bool:
    if bbox is None:
        return True
    if not shape or shape.get("type") != "Point":
        return shape is not None  # lines and areas are kept (the client clips them)
    lon, lat = shape["coordinates"][:2]
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def _incident_features(session: Session, actor: Any) -> list[dict[str, Any]]:
    from saola.ioc import incidents

    collection = incidents.open_incidents_geojson(session, actor=actor)
    out = []
    for f in collection.get("features", []):
        props = dict(f.get("properties") or {})
        ident = props.get("id", f.get("id"))
        props.update({"id": ident, "name": props.get("title") or f"#{ident}", "layer": "incidents",
                      "incident_status": props.get("status"),
                      "status": props.get("severity", "major"), "url": f"/console/incidents/{ident}"})
        out.append({"type": "Feature", "id": f"incident-{ident}", "geometry": f.get("geometry"), "properties": props})
    return out


def _report_features(session: Session, actor: Any) -> list[dict[str, Any]]:
    from saola.feedback import public_list

    out = []
    for status in ("received", "in_progress"):
        collection = public_list.geojson(session, query=public_list.PublicQuery(status=status))  # type: ignore[arg-type]
        for f in collection["features"]:
            props = dict(f["properties"])
            props.update({"id": props["code"], "name": f"{props['code']} · {props.get('category_vi') or ''}".strip(),
                          "layer": "reports", "url": f"/console/feedback/reports?q={quote(props['code'])}"})
            out.append({"type": "Feature", "id": f"report-{props['code']}", "geometry": f["geometry"],
                        "properties": props})
    return out


def alert_feature(alert: Any) -> dict[str, Any] | None:
    """An alert (model or event payload) as a map feature, None without a location."""
    get = (lambda k: alert.get(k)) if isinstance(alert, dict) else (lambda k: getattr(alert, k, None))
    shape = get("location")
    if not isinstance(shape, dict) or "type" not in shape:
        return None
    subject = get("subject") or ""
    props = {"id": get("id"), "name": get("title_vi") or subject, "title_vi": get("title_vi"),
             "title_en": get("title_en"), "layer": "alerts", "status": get("severity"), "state": get("state"),
             "subject": subject, "url": entity_url(subject) if subject.startswith("urn:") else None}
    return {"type": "Feature", "id": f"alert-{get('id')}", "geometry": shape, "properties": props}


def _alert_features(session: Session, actor: Any) -> list[dict[str, Any]]:
    from saola.rules import alerts

    found = alerts.list_alerts(session, states=["active", "acknowledged"], limit=MAX_FEATURES)
    return [f for f in (alert_feature(a) for a in found) if f is not None]


SOURCES: dict[str, Callable[[Session, Any], list[dict[str, Any]]]] = {
    "incidents": _incident_features, "reports": _report_features, "alerts": _alert_features,
}


def layer_geojson(session: Session, *, key: str, actor: Any = None, tenant: str = "",
                  bbox: Bbox | None = None) -> dict[str, Any]:
    """The FeatureCollection of one layer (``counts`` per status beside the features); incidents are those
    ``actor`` may see (every one without an actor)."""
    layer = get_layer(key)
    if layer.entity_type is not None:
        found = entities_of_type(session, tenant=tenant, entity_type=layer.entity_type, bbox=bbox)
        features = [f for f in (_feature(layer, e, tenant) for e in found) if f is not None]
    else:
        features = [f for f in SOURCES[layer.source or ""](session, actor) if _inside(f.get("geometry"), bbox)]
    counts: dict[str, int] = {}
    for f in features:
        status = f["properties"].get("status") or "unknown"
        counts[status] = counts.get(status, 0) + 1
    return {"type": "FeatureCollection", "layer": key, "counts": counts, "features": features}
