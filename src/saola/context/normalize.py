"""Request bodies → the stored form (:mod:`saola.context.representation`).

Accepts the normalized and the concise representation (clause 4.5): an attribute without
``type`` is inferred from its members (``value`` → Property, or GeoProperty for a GeoJSON value;
``object`` → Relationship; ``languageMap``, ``vocab``, ``valueList``, ``objectList``, ``json``),
a bare GeoJSON geometry is a GeoProperty and a bare JSON value a Property. Terms are expanded
with the request's :class:`~saola.context.jsonld.TermMap`. Anything malformed raises
:class:`BadRequestData` before any change is made.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from saola.context import geo
from saola.context.errors import BadRequestData, InvalidRequest
from saola.context.jsonld import TermMap
from saola.context.representation import (
    ATTRIBUTE_TYPES,
    LOCATION,
    OBSERVATION_SPACE,
    OPERATION_SPACE,
    VALUE_MEMBER,
    AttributeInstance,
    StoredEntity,
)

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f<>\"{}|\\^`]+")
_NAME_FORBIDDEN = re.compile(r"[\s\x00-\x1f<>\"'=;()\\]")
GEO_ATTRIBUTES = frozenset({LOCATION, OBSERVATION_SPACE, OPERATION_SPACE})
MEMBER_TYPES = {member: kind for kind, member in VALUE_MEMBER.items() if kind != "GeoProperty"}
IGNORED_MEMBERS = frozenset({"createdAt", "modifiedAt", "deletedAt", "instanceId", "@context"})
ENTITY_MEMBERS = frozenset({"id", "@id", "type", "@type", "scope", "createdAt", "modifiedAt", "deletedAt",
                            "@context"})


NGSI_NULL = "urn:ngsi-ld:null"
_NULL_MEMBERS = {"value": NGSI_NULL, "object": NGSI_NULL, "vocab": NGSI_NULL, "json": NGSI_NULL,
                 "languageMap": {"@none": NGSI_NULL}, "valueList": [NGSI_NULL], "objectList": [NGSI_NULL]}


def null_deletion(raw: Any) -> tuple[bool, str | None]:
    """Whether an attribute fragment is NGSI-LD Null (clause 4.5.0: delete it), and its datasetId.

    NGSI-LD Null is ``"urn:ngsi-ld:null"`` as the attribute's value (concise), or as its ``value``,
    ``object``, ``vocab`` or ``json`` member, ``{"@none": "urn:ngsi-ld:null"}`` as its
    ``languageMap``, or ``["urn:ngsi-ld:null"]`` as its ``valueList``/``objectList``.
    """
    if raw == NGSI_NULL:
        return True, None
    if isinstance(raw, dict):
        for member, null in _NULL_MEMBERS.items():
            if member in raw and raw[member] == null:
                dataset = raw.get("datasetId")
                return True, dataset if isinstance(dataset, str) else None
    return False, None


def split_deletions(body: dict[str, Any], tm: TermMap) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The members of a fragment that are not NGSI-LD Null, and the deletions (IRI → datasetId)."""
    kept: dict[str, Any] = {}
    deletions: dict[str, str | None] = {}
    for name, value in body.items():
        deleted, dataset = (False, None) if name in ENTITY_MEMBERS else null_deletion(value)
        if deleted:
            deletions[tm.expand(check_name(name))] = dataset
        else:
            kept[name] = value
    return kept, deletions


def delete_instance(entity: StoredEntity, iri: str, dataset_id: str | None) -> bool:
    """Remove the instance of ``iri`` with ``dataset_id`` (None: the default one); False when absent."""
    instances = entity.get(iri)
    if not instances:
        return False
    left = [i for i in instances if i.get("datasetId") != dataset_id]
    if len(left) == len(instances):
        return False
    if left:
        entity[iri] = left
    else:
        del entity[iri]
    return True


def now_iso(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# Invisible characters that RFC 3987 forbids or warns against in IRIs: an id carrying one reads the
# same as another id in logs and UIs (bidi controls and other format characters, separators,
# noncharacters, variation selectors, Hangul fillers, the blank Braille pattern).
_INVISIBLE_EXTRA = frozenset([0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800])


def _invisible(char: str) -> bool:
    code = ord(char)
    return (unicodedata.category(char) in ("Cf", "Zs", "Zl", "Zp", "Cn", "Co", "Cs")
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF
            or 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE or code in _INVISIBLE_EXTRA)


def is_uri(text: Any) -> bool:
    return (isinstance(text, str) and len(text) <= 1024 and _URI.fullmatch(text) is not None
            and (text.isascii() or not any(_invisible(c) for c in text if ord(c) > 0x7F)))


def check_entity_id(entity_id: Any) -> str:
    if not is_uri(entity_id):
        raise BadRequestData(f"The entity id must be a URI, not {str(entity_id)[:100]!r}")
    return entity_id


def check_name(name: Any, what: str = "attribute name") -> str:
    if not isinstance(name, str) or not name or len(name) > 512 or _NAME_FORBIDDEN.search(name) \
            or name.startswith("@"):  # the form of JSON-LD keywords
        raise BadRequestData(f"Invalid {what} {str(name)[:100]!r}")
    return name


def parse_types(value: Any, tm: TermMap) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise BadRequestData("An entity needs at least one type")
    out: list[str] = []
    for item in items:
        if item in tm.keywords:
            raise BadRequestData(f"{item!r} is a JSON-LD keyword, not an entity type")
        iri = tm.expand(check_name(item, "entity type"))
        if iri not in out:
            out.append(iri)
    return out


def parse_scopes(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str) or not re.fullmatch(r"/?[\w\-]+(/[\w\-]+)*", item):
            raise BadRequestData(f"Invalid scope {str(item)[:100]!r}")
    return list(dict.fromkeys(items))


def parse_entity(body: Any, tm: TermMap, *, need_id: bool = True, need_type: bool = True) -> StoredEntity:
    """The stored form of an entity body (without system timestamps)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The entity must be a JSON object")
    entity: StoredEntity = {}
    entity_id = body.get("id", body.get("@id"))
    if entity_id is not None or need_id:
        entity["id"] = check_entity_id(entity_id)
    types = body.get("type", body.get("@type"))
    if types is not None or need_type:
        if types is None:
            raise BadRequestData("The entity has no type")
        entity["type"] = parse_types(types, tm)
    if "scope" in body:
        entity["scope"] = parse_scopes(body["scope"])
    entity.update(parse_attributes(body, tm))
    return entity


def parse_attributes(body: dict[str, Any], tm: TermMap) -> dict[str, list[AttributeInstance]]:
    """The attributes of an entity fragment (core members are skipped), expanded."""
    out: dict[str, list[AttributeInstance]] = {}
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        iri = tm.expand(check_name(name))
        out[iri] = parse_attribute(iri, value, tm)
    return out


def parse_attribute(iri: str, value: Any, tm: TermMap) -> list[AttributeInstance]:
    """All instances of one attribute (a list for a multi-attribute)."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and any(
        "type" in v or "value" in v or "object" in v or "datasetId" in v for v in value
    ):
        instances = [parse_instance(iri, v, tm, top=True) for v in value]
    else:
        instances = [parse_instance(iri, value, tm, top=True)]
    seen: set[str | None] = set()
    for inst in instances:
        dataset = inst.get("datasetId")
        if dataset in seen:
            raise BadRequestData(f"Attribute {tm.compact(iri)!r} has two instances with the same datasetId")
        seen.add(dataset)
    instances.sort(key=lambda i: "datasetId" in i)
    return instances


def _is_geometry(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in geo.GEOMETRY_TYPES and "coordinates" in value


def _infer_type(value: dict[str, Any]) -> str:
    kind = value.get("type")
    if kind is not None:
        if not isinstance(kind, str) or kind not in ATTRIBUTE_TYPES:
            raise BadRequestData(f"Unknown attribute type {str(kind)[:60]!r}")
        return kind
    for member, inferred in MEMBER_TYPES.items():
        if member in value:
            if inferred == "Property" and _is_geometry(value["value"]):
                return "GeoProperty"
            return inferred
    raise BadRequestData("An attribute needs a type or one of value, object, languageMap, vocab, valueList, "
                         "objectList, json")


def parse_instance(iri: str, raw: Any, tm: TermMap, *, top: bool, depth: int = 0) -> AttributeInstance:
    if depth > 16:
        raise BadRequestData("Sub-attributes are nested too deeply")
    if _is_geometry(raw):
        raw = {"type": "GeoProperty", "value": raw}
    elif not isinstance(raw, dict):
        if raw is None:
            raise BadRequestData(f"Attribute {tm.compact(iri)!r} has a null value")
        raw = {"type": "Property", "value": raw}
    kind = _infer_type(raw)
    if iri in GEO_ATTRIBUTES and kind != "GeoProperty":
        raise BadRequestData(f"{tm.compact(iri)!r} must be a GeoProperty")
    member = VALUE_MEMBER[kind]
    if member not in raw:
        raise BadRequestData(f"A {kind} needs the member {member!r}")
    inst: AttributeInstance = {"type": kind}
    for key, value in raw.items():
        if key == "type" or key in IGNORED_MEMBERS:
            continue
        if key == member:
            inst[key] = _parse_value(kind, value, tm)
        elif key in MEMBER_TYPES or key == "value":
            raise BadRequestData(f"A {kind} cannot have the member {key!r}")
        elif key == "datasetId":
            if not top or not is_uri(value):
                raise BadRequestData("datasetId must be a URI (and only on attributes)")
            inst[key] = value
        elif key == "observedAt":
            inst[key] = check_datetime(value, key)
        elif key == "unitCode":
            if not isinstance(value, str) or not value:
                raise BadRequestData("unitCode must be a string")
            inst[key] = value
        elif key == "objectType":
            inst[key] = [tm.expand(check_name(v, "objectType")) for v in value] if isinstance(value, list) \
                else tm.expand(check_name(value, "objectType"))
        elif key == "lang":
            inst[key] = str(value)
        else:
            sub_iri = tm.expand(check_name(key))
            if isinstance(value, list):
                raise BadRequestData(f"Sub-attribute {key!r} cannot have several instances")
            inst[sub_iri] = parse_instance(sub_iri, value, tm, top=False, depth=depth + 1)
    return inst


def check_datetime(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise BadRequestData(f"{what} must be a DateTime string")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestData(f"{what} is not an ISO 8601 DateTime: {value[:60]!r}") from None
    return value


def _parse_value(kind: str, value: Any, tm: TermMap) -> Any:
    if value is None:
        raise BadRequestData(f"A {kind} cannot have a null value")
    if kind == "GeoProperty":
        geo.parse_geometry(value)
    elif kind == "Relationship":
        items = value if isinstance(value, list) else [value]
        if not items or not all(is_uri(v) for v in items):
            raise BadRequestData("The object of a Relationship must be a URI")
    elif kind == "ListRelationship":
        if not isinstance(value, list):
            raise BadRequestData("objectList must be a list")
        for item in value:
            target = item.get("object") if isinstance(item, dict) else item
            if not is_uri(target):
                raise BadRequestData("objectList items must be URIs")
    elif kind == "LanguageProperty":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)))
            for k, v in value.items()
        ):
            raise BadRequestData("languageMap must map language tags to strings")
    elif kind == "VocabProperty":
        if isinstance(value, list):
            return [tm.expand(check_name(v, "vocab")) for v in value]
        return tm.expand(check_name(value, "vocab"))
    elif kind == "ListProperty" and not isinstance(value, list):
        raise BadRequestData("valueList must be a list")
    return value


def stamp(instances: list[AttributeInstance], previous: list[AttributeInstance] | None, now: str) -> None:
    """Set createdAt/modifiedAt on new instances, keeping createdAt of the instance they replace."""
    before = {i.get("datasetId"): i for i in previous or []}
    for inst in instances:
        old = before.get(inst.get("datasetId"))
        inst["createdAt"] = old.get("createdAt", now) if old else now
        inst["modifiedAt"] = now
