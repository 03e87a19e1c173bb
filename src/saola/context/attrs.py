"""Use cases on the attributes of one entity (clause 5.6.3-5.6.6): append, update, partial update,
replace, delete. Append and update answer which attributes were (not) changed (204 or 207)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from saola.context import store
from saola.context.entities import entity_row
from saola.context.errors import BadRequestData, ResourceNotFound
from saola.context.jsonld import TermMap
from saola.context.normalize import (
    ENTITY_MEMBERS,
    check_name,
    delete_instance,
    is_uri,
    now_iso,
    null_deletion,
    parse_attributes,
    parse_instance,
    parse_scopes,
    parse_types,
    split_deletions,
    stamp,
)
from saola.context.representation import VALUE_MEMBER, StoredEntity


@dataclass
class UpdateResult:
    updated: list[str] = field(default_factory=list)
    not_updated: list[dict[str, str]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {"updated": self.updated, "notUpdated": self.not_updated}


def _fragment(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequestData("The body must be a JSON object")
    if body.get("id", body.get("@id")) is not None and not is_uri(body.get("id", body.get("@id"))):
        raise BadRequestData("Invalid id in the body")
    return body


def _put(entity: StoredEntity, iri: str, instances: list[dict[str, Any]], now: str) -> None:
    old = entity.get(iri, [])
    stamp(instances, old, now)
    replaced = {i.get("datasetId") for i in instances}
    merged = instances + [i for i in old if i.get("datasetId") not in replaced]
    merged.sort(key=lambda i: "datasetId" in i)
    entity[iri] = merged


def append_attributes(
    session: Session, *, tenant: str, entity_id: str, body: Any, tm: TermMap, no_overwrite: bool,
) -> UpdateResult:
    body = _fragment(body)
    parsed = parse_attributes(body, tm)  # a bad fragment is BadRequestData, even for a missing entity
    row = entity_row(session, tenant=tenant, entity_id=entity_id, for_update=True)
    entity = copy.deepcopy(row.data)
    if body.get("type") is not None:
        entity["type"] = list(dict.fromkeys([*entity.get("type", []), *parse_types(body["type"], tm)]))
    if "scope" in body:  # scope is replaced, or with noOverwrite extended (clause 4.18)
        scopes = parse_scopes(body["scope"])
        entity["scope"] = list(dict.fromkeys([*entity.get("scope", []), *scopes])) if no_overwrite else scopes
    now = now_iso()
    result = UpdateResult()
    for iri, instances in parsed.items():
        name = tm.compact(iri)
        existing = {i.get("datasetId") for i in entity.get(iri, [])}
        if no_overwrite:
            kept = [i for i in instances if i.get("datasetId") not in existing]
            if len(kept) < len(instances):
                result.not_updated.append({"attributeName": name, "reason": "The attribute exists (noOverwrite)"})
            if not kept:
                continue
            instances = kept
        _put(entity, iri, instances, now)
        result.updated.append(name)
    entity["modifiedAt"] = now
    store.replace_entity(session, row, entity)
    return result


def update_attributes(session: Session, *, tenant: str, entity_id: str, body: Any, tm: TermMap) -> UpdateResult:
    """PATCH /entities/{id}/attrs: only attributes (and datasetIds) that exist are changed."""
    body = _fragment(body)
    kept, deletions = split_deletions(body, tm)
    parsed = parse_attributes(kept, tm)
    row = entity_row(session, tenant=tenant, entity_id=entity_id, for_update=True)
    entity = copy.deepcopy(row.data)
    now = now_iso()
    result = UpdateResult()
    changed = False
    if body.get("type") is not None:  # types are added (an entity keeps the types it has)
        entity["type"] = list(dict.fromkeys([*entity.get("type", []), *parse_types(body["type"], tm)]))
        changed = True
    if "scope" in body:  # like an attribute: only an existing scope is updated
        scopes = parse_scopes(body["scope"])
        if "scope" in entity:
            entity["scope"] = scopes
            changed = True
        else:
            result.not_updated.append({"attributeName": "scope", "reason": "The entity has no scope"})
    for iri, dataset_id in deletions.items():
        if delete_instance(entity, iri, dataset_id):
            result.updated.append(tm.compact(iri))
        else:
            result.not_updated.append({"attributeName": tm.compact(iri), "reason": "No such attribute (or datasetId)"})
    for iri, instances in parsed.items():
        name = tm.compact(iri)
        existing = {i.get("datasetId") for i in entity.get(iri, [])}
        kept = [i for i in instances if i.get("datasetId") in existing]
        if len(kept) < len(instances):
            result.not_updated.append({"attributeName": name, "reason": "No such attribute (or datasetId)"})
        if kept:
            _put(entity, iri, kept, now)
            result.updated.append(name)
    if result.updated or changed:
        entity["modifiedAt"] = now
        store.replace_entity(session, row, entity)
    return result


def _instance_index(entity: StoredEntity, iri: str, dataset_id: str | None, name: str) -> int:
    for index, inst in enumerate(entity.get(iri, [])):
        if inst.get("datasetId") == dataset_id:
            return index
    raise ResourceNotFound(f"The entity has no attribute {name!r}" + (f" with datasetId {dataset_id}"
                                                                         if dataset_id else ""))


def _attr_iri(attr: str, tm: TermMap) -> str:
    if attr in ENTITY_MEMBERS:
        raise BadRequestData(f"{attr!r} is not an attribute")
    return tm.expand(check_name(attr))


def partial_update(session: Session, *, tenant: str, entity_id: str, attr: str, body: Any, tm: TermMap) -> None:
    """PATCH /entities/{id}/attrs/{attrId}: members of the body replace those of the instance."""
    if not isinstance(body, dict) or not body:
        raise BadRequestData("The body must be a non-empty JSON object")
    iri = _attr_iri(attr, tm)
    row = entity_row(session, tenant=tenant, entity_id=entity_id, for_update=True)
    entity = copy.deepcopy(row.data)
    dataset_id = body.get("datasetId")
    index = _instance_index(entity, iri, dataset_id, attr)
    deleted, _ = null_deletion(body)
    if deleted:  # NGSI-LD Null deletes the instance
        delete_instance(entity, iri, dataset_id)
        entity["modifiedAt"] = now_iso()
        store.replace_entity(session, row, entity)
        return
    old = entity[iri][index]
    if "type" in body and body["type"] != old.get("type", "Property"):
        raise BadRequestData(f"{attr!r} is a {old.get('type', 'Property')}: a partial update cannot change its type")
    kind = body.get("type", old.get("type", "Property"))
    member = VALUE_MEMBER.get(kind) if isinstance(kind, str) else None
    filled = dict(body)
    filled.setdefault("type", kind)
    if member is not None and member not in filled:
        filled[member] = old.get(VALUE_MEMBER.get(old.get("type", "Property"), "value"))
    parsed = parse_instance(iri, filled, tm, top=True)
    merged = {k: v for k, v in old.items() if k not in VALUE_MEMBER.values()} | parsed
    now = now_iso()
    merged["modifiedAt"] = now
    entity[iri][index] = merged
    entity["modifiedAt"] = now
    store.replace_entity(session, row, entity)


def replace_attribute(session: Session, *, tenant: str, entity_id: str, attr: str, body: Any, tm: TermMap) -> None:
    """PUT /entities/{id}/attrs/{attrId}: the instance (by datasetId) becomes the body."""
    iri = _attr_iri(attr, tm)
    row = entity_row(session, tenant=tenant, entity_id=entity_id, for_update=True)
    instance = parse_instance(iri, body, tm, top=True)
    entity = copy.deepcopy(row.data)
    _instance_index(entity, iri, instance.get("datasetId"), attr)
    now = now_iso()
    _put(entity, iri, [instance], now)
    entity["modifiedAt"] = now
    store.replace_entity(session, row, entity)


def delete_attribute(
    session: Session, *, tenant: str, entity_id: str, attr: str, tm: TermMap, dataset_id: str | None,
    delete_all: bool,
) -> None:
    if attr == "scope":  # the scope of the entity is deleted like an attribute
        row = entity_row(session, tenant=tenant, entity_id=entity_id, for_update=True)
        if "scope" not in row.data:
            raise ResourceNotFound("The entity has no scope")
        entity = {k: v for k, v in copy.deepcopy(row.data).items() if k != "scope"}
        entity["modifiedAt"] = now_iso()
        store.replace_entity(session, row, entity)
        return
    iri = _attr_iri(attr, tm)
    row = entity_row(session, tenant=tenant, entity_id=entity_id, for_update=True)
    entity = copy.deepcopy(row.data)
    if iri not in entity:
        raise ResourceNotFound(f"The entity has no attribute {attr!r}")
    if delete_all:
        del entity[iri]
    else:
        index = _instance_index(entity, iri, dataset_id, attr)
        del entity[iri][index]
        if not entity[iri]:
            del entity[iri]
    entity["modifiedAt"] = now_iso()
    store.replace_entity(session, row, entity)
