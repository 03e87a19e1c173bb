"""The stored form → answers: normalized, concise, keyValues and GeoJSON, compacted with a term map."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from saola.context.jsonld import TermMap
from saola.context.representation import (
    LOCATION,
    VALUE_MEMBER,
    AttributeInstance,
    StoredEntity,
    attributes,
    is_attribute_key,
    value_of,
)

FORMATS = ("normalized", "concise", "keyValues")
SYSTEM = ("createdAt", "modifiedAt")


def _compact_value(kind: str, value: Any, tm: TermMap) -> Any:
    if kind == "VocabProperty":
        return [tm.compact(v) for v in value] if isinstance(value, list) else tm.compact(value)
    return value


def _pick_language(inst: AttributeInstance, lang: str) -> AttributeInstance:
    """A LanguageProperty as the Property of one language (clause 4.15): ``lang``, else ``@none``, else any."""
    texts = inst.get("languageMap") or {}
    wanted = [t.strip() for t in lang.split(",") if t.strip()]
    chosen = next((t for t in wanted if t in texts), None) or next(
        (t for t in texts if "*" in wanted), None) or ("@none" if "@none" in texts else next(iter(texts), None))
    out = {k: v for k, v in inst.items() if k != "languageMap"}
    out["type"] = "Property"
    out["value"] = texts.get(chosen) if chosen is not None else ""
    if chosen not in (None, "@none"):
        out["lang"] = chosen
    return out


def _instance(inst: AttributeInstance, tm: TermMap, fmt: str, sys_attrs: bool, lang: str | None = None) -> Any:
    if lang and inst.get("type") == "LanguageProperty":
        inst = _pick_language(inst, lang)
    kind = inst.get("type", "Property")
    if fmt == "keyValues":
        return _compact_value(kind, value_of(inst), tm)
    out: dict[str, Any] = {}
    for key, value in inst.items():
        if is_attribute_key(key):
            out[tm.compact(key)] = _instance(value, tm, fmt, sys_attrs)
        elif (key in SYSTEM and not sys_attrs) or key == "instanceId":
            continue
        elif key == "objectType":
            out[key] = [tm.compact(v) for v in value] if isinstance(value, list) else tm.compact(value)
        elif key == VALUE_MEMBER.get(kind):
            out[key] = _compact_value(kind, value, tm)
        else:
            out[key] = value
    if fmt == "concise":
        out.pop("type", None)
        if set(out) == {"value"} and not isinstance(out["value"], (dict, list)):
            return out["value"]
        if kind == "GeoProperty" and set(out) == {"value"}:
            return out["value"]
    return out


def _attribute(instances: list[AttributeInstance], tm: TermMap, fmt: str, sys_attrs: bool, lang: str | None) -> Any:
    if fmt == "keyValues":
        default = next((i for i in instances if "datasetId" not in i), instances[0])
        return _instance(default, tm, fmt, sys_attrs, lang)
    rendered = [_instance(i, tm, fmt, sys_attrs, lang) for i in instances]
    return rendered[0] if len(rendered) == 1 else rendered


def render_entity(
    entity: StoredEntity, tm: TermMap, *, fmt: str = "normalized", sys_attrs: bool = False,
    pick: Collection[str] | None = None, omit: Collection[str] = (), lang: str | None = None,
) -> dict[str, Any]:
    """An entity for an answer. ``pick``/``omit`` hold attribute IRIs and may name ``id``/``type``."""
    out: dict[str, Any] = {}
    if (pick is None or "id" in pick) and "id" not in omit:
        out["id"] = entity["id"]
    if (pick is None or "type" in pick) and "type" not in omit:
        types = [tm.compact(t) for t in entity.get("type", [])]
        out["type"] = types[0] if len(types) == 1 else types
    if "scope" in entity and (pick is None or "scope" in pick) and "scope" not in omit:
        scopes = entity["scope"]
        out["scope"] = scopes[0] if len(scopes) == 1 else scopes
    if sys_attrs and fmt != "keyValues":
        for key in SYSTEM:
            if key in entity:
                out[key] = entity[key]
    for iri, instances in attributes(entity):
        if (pick is not None and iri not in pick) or iri in omit or not instances:
            continue
        out[tm.compact(iri)] = _attribute(instances, tm, fmt, sys_attrs, lang)
    return out


def render_feature(
    entity: StoredEntity, tm: TermMap, *, fmt: str, sys_attrs: bool, pick: Collection[str] | None,
    omit: Collection[str], geometry_property: str = LOCATION, lang: str | None = None,
) -> dict[str, Any]:
    """An entity as a GeoJSON Feature (clause 4.5.16)."""
    body = render_entity(entity, tm, fmt=fmt, sys_attrs=sys_attrs, pick=pick, omit=omit, lang=lang)
    instances = entity.get(geometry_property) or []
    geometry = value_of(instances[0]) if instances and instances[0].get("type") == "GeoProperty" else None
    properties = {k: v for k, v in body.items() if k != "id"}
    return {"id": entity["id"], "type": "Feature", "geometry": geometry, "properties": properties}
