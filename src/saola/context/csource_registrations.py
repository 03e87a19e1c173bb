"""Context source registrations (ETSI GS CIM 009 V1.8.1 clauses 5.2.9, 5.9, 5.10): validation, storage, rendering.

A registration is stored as its *expanded* members only (entity types, attribute names and the names of context
source properties as IRIs, expanded with the @context of the request that wrote them) plus that @context, so it is
shown to each caller through the caller's own @context. Discovery (:mod:`saola.context.csource_discovery`) and the
registration subscriptions match on the expanded form. Saola keeps the registry only: it does not forward requests
to the registered context sources.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.context import geo
from saola.context.csource_models import NgsiCSourceRegistration
from saola.context.errors import AlreadyExists, BadRequestData, ResourceNotFound
from saola.context.jsonld import TermMap
from saola.context.normalize import check_name, parse_scopes
from saola.context.representation import LOCATION, NGSI_LD
from saola.context.subscriptions import is_uri, now_text, parse_time
from saola.core.db import utcnow

TYPE = "ContextSourceRegistration"
MODES = ("inclusive", "exclusive", "redirect", "auxiliary")
DEFAULT_MODE = "inclusive"
DEFAULT_OPERATIONS = ["federationOps"]
# Operation names and groups of clause 4.20 (V1.8.1)
OPERATIONS = frozenset({
    "createEntity", "updateEntity", "appendAttrs", "updateAttrs", "deleteAttrs", "deleteEntity", "createBatch",
    "upsertBatch", "updateBatch", "deleteBatch", "upsertTemporal", "appendAttrsTemporal", "deleteAttrsTemporal",
    "updateAttrsTemporal", "deleteAttrInstanceTemporal", "deleteTemporal", "mergeEntity", "replaceEntity",
    "replaceAttrs", "mergeBatch", "retrieveEntity", "queryEntity", "queryBatch", "retrieveTemporal", "queryTemporal",
    "retrieveEntityTypes", "retrieveEntityTypeDetails", "retrieveEntityTypeInfo", "retrieveAttrTypes",
    "retrieveAttrTypeDetails", "retrieveAttrTypeInfo", "createSubscription", "updateSubscription",
    "retrieveSubscription", "querySubscription", "deleteSubscription", "federationOps", "updateOps", "retrieveOps",
    "redirectionOps",
})
GEO_MEMBERS = {"location": LOCATION, "observationSpace": NGSI_LD + "observationSpace",
               "operationSpace": NGSI_LD + "operationSpace"}
INTERVALS = ("observationInterval", "managementInterval")
TEXTS = ("registrationName", "description", "tenant", "refreshRate")
# members the broker sets or that only describe the request: ignored when written
IGNORED = frozenset({"@context", "createdAt", "modifiedAt", "status", "timesSent", "timesFailed", "lastSuccess",
                     "lastFailure"})
CORE = frozenset({"id", "type", "information", "endpoint", "expiresAt", "mode", "operations", "contextSourceInfo",
                  "scope", *GEO_MEMBERS, *INTERVALS, *TEXTS})
ORDER = ("id", "type", "registrationName", "description", "information", "tenant", *INTERVALS, *GEO_MEMBERS,
         "expiresAt", "endpoint", "contextSourceInfo", "scope", "mode", "operations", "refreshRate")


# --- validation ----------------------------------------------------------------------------------


def _names(value: Any, name: str, tm: TermMap) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadRequestData(f"{name} must be a non-empty list of attribute names")
    return [tm.expand(check_name(v)) for v in value]


def _entity_info(item: Any, tm: TermMap) -> dict[str, str]:
    if not isinstance(item, dict) or not isinstance(item.get("type"), str) or set(item) - {"id", "idPattern", "type"}:
        raise BadRequestData("Each information.entities item needs a type and may have id or idPattern")
    out = {"type": tm.expand(check_name(item["type"], "entity type"))}
    if "id" in item:
        if not is_uri(item["id"]):
            raise BadRequestData("information.entities.id must be a URI")
        out["id"] = item["id"]
    if "idPattern" in item:
        try:
            re.compile(item["idPattern"])
        except (re.error, TypeError):
            raise BadRequestData("information.entities.idPattern is not a valid regular expression") from None
        out["idPattern"] = item["idPattern"]
    return out


def _information(value: Any, tm: TermMap) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise BadRequestData("information must be a non-empty list of RegistrationInfo")
    out = []
    for info in value:
        if not isinstance(info, dict) or not info or set(info) - {"entities", "propertyNames", "relationshipNames"}:
            raise BadRequestData("A RegistrationInfo has entities, propertyNames and/or relationshipNames")
        item: dict[str, Any] = {}
        if "entities" in info:
            if not isinstance(info["entities"], list) or not info["entities"]:
                raise BadRequestData("information.entities must be a non-empty list")
            item["entities"] = [_entity_info(e, tm) for e in info["entities"]]
        for key in ("propertyNames", "relationshipNames"):
            if key in info:
                item[key] = _names(info[key], f"information.{key}", tm)
        out.append(item)
    return out


def _interval(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or "startAt" not in value or set(value) - {"startAt", "endAt"}:
        raise BadRequestData(f"{name} must be an object with startAt (and endAt)")
    start = parse_time(value["startAt"], f"{name}.startAt")
    if "endAt" in value and parse_time(value["endAt"], f"{name}.endAt") < start:
        raise BadRequestData(f"{name}.endAt is before its startAt")
    return {k: value[k] for k in ("startAt", "endAt") if k in value}


def _member(key: str, value: Any, tm: TermMap) -> Any:
    """The stored (expanded) value of one core member; BadRequestData when invalid."""
    if key == "information":
        return _information(value, tm)
    if key == "endpoint":
        if not is_uri(value):
            raise BadRequestData("endpoint must be a URI")
        return value
    if key == "expiresAt":
        if parse_time(value, "expiresAt") <= utcnow():
            raise BadRequestData("expiresAt must be in the future")
        return value
    if key == "mode":
        if value not in MODES:
            raise BadRequestData(f"mode must be one of {', '.join(MODES)}")
        return value
    if key == "operations":
        if not isinstance(value, list) or not value or any(v not in OPERATIONS for v in value):
            raise BadRequestData("operations must be a non-empty list of NGSI-LD operation names (clause 4.20)")
        return list(value)
    if key == "contextSourceInfo":
        if not isinstance(value, list) or not all(
                isinstance(p, dict) and set(p) == {"key", "value"} and isinstance(p["key"], str)
                and isinstance(p["value"], str) for p in value):
            raise BadRequestData("contextSourceInfo must be a list of {key, value} strings")
        return [dict(p) for p in value]
    if key == "scope":
        return parse_scopes(value)
    if key in GEO_MEMBERS:
        geo.parse_geometry(value)
        return value
    if key in INTERVALS:
        return _interval(value, key)
    if key in TEXTS:
        if not isinstance(value, str):
            raise BadRequestData(f"{key} must be a string")
        return value
    raise BadRequestData(f"Unknown member {key}")  # not reached: callers pass CORE members only


def expand_members(body: dict[str, Any], tm: TermMap) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The expanded core members and context source properties of a (partial) body, and the names set to null."""
    members: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    removed: list[str] = []
    for key, value in body.items():
        if key in IGNORED or key in ("id", "type"):
            continue
        if key in CORE:
            if value is None:
                removed.append(key)
            else:
                members[key] = _member(key, value, tm)
            continue
        iri = tm.expand(check_name(key, "context source property name"))
        if value is None:
            removed.append(iri)
        else:
            properties[iri] = value
    return members, properties, removed


def _check_shape(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequestData("A context source registration must be a JSON object")
    if "type" in body and body["type"] != TYPE:
        raise BadRequestData(f"type must be {TYPE!r}")
    return body


def validate(body: Any, tm: TermMap) -> dict[str, Any]:
    """The stored definition members of a whole registration body."""
    body = _check_shape(body)
    if body.get("type") != TYPE:
        raise BadRequestData(f"type must be {TYPE!r}")
    members, properties, _ = expand_members({k: v for k, v in body.items() if v is not None}, tm)
    for key in ("information", "endpoint"):
        if key not in members:
            raise BadRequestData(f"{key} is mandatory")
    return {"members": members, "properties": properties}


# --- storage -------------------------------------------------------------------------------------


def load(session: Session, tenant: str, reg_id: str) -> NgsiCSourceRegistration | None:
    return session.scalars(select(NgsiCSourceRegistration).where(
        NgsiCSourceRegistration.tenant == tenant, NgsiCSourceRegistration.reg_id == reg_id)).first()


def get(session: Session, tenant: str, reg_id: str) -> NgsiCSourceRegistration:
    if not is_uri(reg_id):
        raise BadRequestData("The registration id must be a URI")
    row = load(session, tenant, reg_id)
    if row is None:
        raise ResourceNotFound(f"No context source registration {reg_id}")
    return row


def create(session: Session, *, tenant: str, body: Any, context: Any, tm: TermMap) -> NgsiCSourceRegistration:
    stored = validate(body, tm)
    reg_id = body["id"] if "id" in body else f"urn:ngsi-ld:ContextSourceRegistration:{uuid.uuid4()}"
    if not is_uri(reg_id) or len(reg_id) > 1024:
        raise BadRequestData("id must be a URI of at most 1024 characters")
    if load(session, tenant, reg_id) is not None:
        raise AlreadyExists(f"Context source registration {reg_id} already exists")
    row = NgsiCSourceRegistration(tenant=tenant, reg_id=reg_id, definition={**stored, "context": context})
    session.add(row)
    session.flush()
    return row


def update(session: Session, row: NgsiCSourceRegistration, patch: Any, tm: TermMap) -> None:
    """Merge the members of ``patch`` (null removes one); the result must still be a valid registration."""
    patch = _check_shape(patch)
    if not patch:
        raise BadRequestData("The patch must be a non-empty JSON object")
    if "id" in patch and patch["id"] != row.reg_id:
        raise BadRequestData("The id of a registration cannot change")
    members, properties, removed = expand_members(patch, tm)
    definition = copy.deepcopy(row.definition)
    definition["members"].update(members)
    definition["properties"].update(properties)
    for name in removed:
        definition["members"].pop(name, None)
        definition["properties"].pop(name, None)
    for key in ("information", "endpoint"):
        if key not in definition["members"]:
            raise BadRequestData(f"{key} is mandatory and cannot be removed")
    row.definition = definition
    row.modified_at = utcnow()


def expired(definition: dict[str, Any], at: datetime | None = None) -> bool:
    expires = definition["members"].get("expiresAt")
    return expires is not None and parse_time(expires, "expiresAt") <= (at or utcnow())


# --- rendering -----------------------------------------------------------------------------------


def _compact_information(information: list[dict[str, Any]], tm: TermMap) -> list[dict[str, Any]]:
    out = []
    for info in information:
        item: dict[str, Any] = {}
        if "entities" in info:
            item["entities"] = [{**e, "type": tm.compact(e["type"])} for e in info["entities"]]
        for key in ("propertyNames", "relationshipNames"):
            if key in info:
                item[key] = [tm.compact(n) for n in info[key]]
        out.append(item)
    return out


def render_definition(reg_id: str, definition: dict[str, Any], tm: TermMap, *,
                      system: tuple[datetime, datetime] | None = None) -> dict[str, Any]:
    """A registration as the API shows it, compacted with ``tm``; ``system``: (createdAt, modifiedAt) to show."""
    members = definition["members"]
    out: dict[str, Any] = {"id": reg_id, "type": TYPE}
    for key in ORDER:
        if key in members:
            out[key] = _compact_information(members[key], tm) if key == "information" else copy.deepcopy(members[key])
    out.setdefault("mode", DEFAULT_MODE)
    out.setdefault("operations", list(DEFAULT_OPERATIONS))
    for iri, value in definition["properties"].items():
        out[tm.compact(iri)] = copy.deepcopy(value)
    if system is not None:
        out["createdAt"], out["modifiedAt"] = now_text(system[0]), now_text(system[1])
    return out


def render(row: NgsiCSourceRegistration, tm: TermMap, *, sys_attrs: bool = False) -> dict[str, Any]:
    return render_definition(row.reg_id, row.definition, tm,
                             system=(row.created_at, row.modified_at) if sys_attrs else None)
