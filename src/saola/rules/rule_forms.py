"""The console's rule editor form, both ways: flat form fields ⇄ a :class:`RuleDefinition`'s JSON.

Each condition kind has its own fields, named ``c_<kind>_<field>`` (only the chosen kind's are read);
a composite condition is written as JSON in ``c_composite_json`` (its parts are conditions themselves).
Active windows are up to :data:`MAX_WINDOWS` rows ``w<i>_days`` (checkboxes, Monday = 0), ``w<i>_start``
and ``w<i>_end``. :func:`form_values` gives the fields for a stored definition, :func:`definition_data`
the definition for posted fields, so that saving an unchanged form stores the same definition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from saola.rules.errors import InvalidRule

KINDS: tuple[str, ...] = ("threshold", "rate_of_change", "anomaly", "no_data", "device_offline", "geofence",
                          "composite")
KIND_LABELS = {
    "threshold": "Threshold (value above or below a limit, for a duration)",
    "rate_of_change": "Rate of change (rising or falling too fast)",
    "anomaly": "Anomaly (outside the band learned from history)",
    "no_data": "No data (no update for a while)",
    "device_offline": "Device offline",
    "geofence": "Geofence (enters or leaves an area)",
    "composite": "Composite (AND/OR across the entities of an area)",
}
# The fields of each kind, in form order; the composite's only field is its JSON.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "threshold": ("attribute", "op", "value", "for_seconds", "clear_value"),
    "rate_of_change": ("attribute", "op", "value", "per_seconds"),
    "anomaly": ("attribute", "window", "min_samples", "score"),
    "no_data": ("attribute", "after_seconds"),
    "device_offline": (),
    "geofence": ("on", "attribute", "ward_code", "geometry", "area_name"),
    "composite": ("json",),
}
COMMON = ("name", "description", "severity", "entity_type", "tenant", "id_pattern", "area_ward_code", "area_geometry",
          "area_name", "clear_after_seconds", "cooldown_seconds", "message_vi", "message_en", "owner_agency",
          "incident_type")
MAX_WINDOWS = 5
Form = Mapping[str, Sequence[str]]


def _one(form: Form, name: str) -> str:
    values = form.get(name) or [""]
    return values[-1].strip()


def _scalar(text: str) -> float | bool | str:
    """A threshold's value: a number, true/false, or text (``"off"``, ``"jam"``)."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return float(text)
    except ValueError:
        return text


def _json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidRule([{"field": field, "message": f"not valid JSON: {exc}"}]) from exc


def _area(ward_code: str, geometry: str, name: str, field: str) -> dict[str, Any] | None:
    if not ward_code and not geometry:
        return None
    area: dict[str, Any] = {"name": name}
    if ward_code:
        area["ward_code"] = ward_code
    if geometry:
        area["geometry"] = _json(geometry, f"{field}.geometry")
    return area


def _put(out: dict[str, Any], key: str, text: str, convert: Any = None) -> None:
    if text != "":
        out[key] = convert(text) if convert else text


def _condition(form: Form, kind: str) -> dict[str, Any]:
    def f(name: str) -> str:
        return _one(form, f"c_{kind}_{name}")

    if kind == "composite":
        data = _json(f("json") or "{}", "condition")
        if isinstance(data, dict):
            data.setdefault("kind", "composite")
        return data
    condition: dict[str, Any] = {"kind": kind}
    if kind == "geofence":
        _put(condition, "on", f("on"))
        _put(condition, "attribute", f("attribute"))
        area = _area(f("ward_code"), f("geometry"), f("area_name"), "condition.area")
        if area is not None:
            condition["area"] = area
        return condition
    for name in KIND_FIELDS[kind]:
        _put(condition, name, f(name), _scalar if (kind, name) == ("threshold", "value") else None)
    return condition


def _windows(form: Form) -> list[dict[str, Any]]:
    windows = []
    for i in range(MAX_WINDOWS):
        start, end = _one(form, f"w{i}_start"), _one(form, f"w{i}_end")
        if not start and not end:
            continue
        days = sorted({int(d) for d in form.get(f"w{i}_days", []) if d.strip().isdigit()})
        windows.append({"weekdays": days, "start": start, "end": end})
    return windows


def definition_data(form: Form) -> dict[str, Any]:
    """The JSON of a definition from the editor's fields (checked afterwards by the service)."""
    kind = _one(form, "kind")
    if kind not in KINDS:
        raise InvalidRule([{"field": "condition.kind", "message": f"choose a condition kind ({', '.join(KINDS)})"}])
    data: dict[str, Any] = {"tenant": _one(form, "tenant")}
    for name in ("name", "description", "severity", "entity_type", "id_pattern", "message_vi", "message_en",
                 "owner_agency"):
        _put(data, name, _one(form, name))
    for name in ("clear_after_seconds", "cooldown_seconds"):
        _put(data, name, _one(form, name))
    area = _area(_one(form, "area_ward_code"), _one(form, "area_geometry"), _one(form, "area_name"), "area")
    if area is not None:
        data["area"] = area
    incident = _one(form, "incident_type")
    if incident:
        data["open_incident"] = {"incident_type": incident}
    data["condition"] = _condition(form, kind)
    data["active_windows"] = _windows(form)
    return data


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form_values(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's field values for a stored definition (the inverse of :func:`definition_data`)."""
    values: dict[str, Any] = {name: "" for name in COMMON}
    for name in ("name", "description", "severity", "entity_type", "tenant", "id_pattern", "message_vi",
                 "message_en", "owner_agency", "clear_after_seconds", "cooldown_seconds"):
        values[name] = _text(definition.get(name))
    area = definition.get("area") or {}
    values["area_ward_code"] = _text(area.get("ward_code"))
    values["area_geometry"] = json.dumps(area["geometry"], ensure_ascii=False) if area.get("geometry") else ""
    values["area_name"] = _text(area.get("name"))
    values["incident_type"] = _text((definition.get("open_incident") or {}).get("incident_type"))
    condition = definition.get("condition") or {"kind": "threshold"}
    kind = condition.get("kind", "threshold")
    values["kind"] = kind
    if kind == "composite":
        values["c_composite_json"] = json.dumps(condition, ensure_ascii=False, indent=2)
    elif kind == "geofence":
        garea = condition.get("area") or {}
        values.update({
            "c_geofence_on": _text(condition.get("on")), "c_geofence_attribute": _text(condition.get("attribute")),
            "c_geofence_ward_code": _text(garea.get("ward_code")), "c_geofence_area_name": _text(garea.get("name")),
            "c_geofence_geometry": json.dumps(garea["geometry"], ensure_ascii=False) if garea.get("geometry") else "",
        })
    else:
        for name in KIND_FIELDS.get(kind, ()):
            values[f"c_{kind}_{name}"] = _text(condition.get(name))
    windows = list(definition.get("active_windows") or [])
    values["windows"] = [{"days": set(w.get("weekdays", [])), "start": _text(w.get("start"))[:5],
                          "end": _text(w.get("end"))[:5]} for w in windows[:MAX_WINDOWS]]
    if len(values["windows"]) < MAX_WINDOWS:
        values["windows"].append({"days": set(range(7)), "start": "", "end": ""})
    return values


def posted_values(form: Form) -> dict[str, Any]:
    """The editor's field values as posted (to show the form again with its errors)."""
    values: dict[str, Any] = {name: values[-1] if values else "" for name, values in form.items()}
    values["windows"] = [{"days": {int(d) for d in form.get(f"w{i}_days", []) if d.strip().isdigit()},
                          "start": _one(form, f"w{i}_start"), "end": _one(form, f"w{i}_end")}
                         for i in range(MAX_WINDOWS)
                         if _one(form, f"w{i}_start") or _one(form, f"w{i}_end") or i == 0]
    return values
