"""Use cases on whole entities: create, retrieve, replace, merge, delete (clause 5.6/5.7).

Every function takes the session first and keyword arguments after; none commits. Bodies are
checked completely (:mod:`saola.context.normalize`) before anything is written.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from saola.context import store
from saola.context.errors import AlreadyExists, BadRequestData, ResourceNotFound
from saola.context.jsonld import TermMap
from saola.context.models import NgsiEntity
from saola.context.normalize import (
    NGSI_NULL,
    check_entity_id,
    delete_instance,
    now_iso,
    parse_attribute,
    parse_attributes,
    parse_entity,
    parse_scopes,
    parse_types,
    split_deletions,
    stamp,
)
from saola.context.representation import VALUE_MEMBER, StoredEntity, attributes

VALUE_MEMBERS = frozenset(VALUE_MEMBER.values())


def new_entity(body: Any, tm: TermMap) -> StoredEntity:
    """A complete stored entity from a create body, with system timestamps."""
    entity = parse_entity(body, tm)
    now = now_iso()
    entity["createdAt"] = now
    entity["modifiedAt"] = now
    for _iri, instances in attributes(entity):
        stamp(instances, None, now)
    return entity


def create_entity(session: Session, *, tenant: str, body: Any, tm: TermMap) -> str:
    entity = new_entity(body, tm)
    if store.load(session, tenant, entity["id"]) is not None:
        raise AlreadyExists(f"The entity {entity['id']} already exists")
    store.insert_entity(session, tenant, entity)
    return entity["id"]


def entity_row(session: Session, *, tenant: str, entity_id: str, for_update: bool = False) -> NgsiEntity:
    check_entity_id(entity_id)
    row = store.load(session, tenant, entity_id, for_update=for_update)
    if row is None:
        raise ResourceNotFound(f"No entity {entity_id}")
    return row


def retrieve_entity(session: Session, *, tenant: str, entity_id: str) -> StoredEntity:
    check_entity_id(entity_id)
    document = store.load_document(session, tenant, entity_id)
    if document is None:
        raise ResourceNotFound(f"No entity {entity_id}")
    return document


def delete_entity(session: Session, *, tenant: str, entity_id: str) -> None:
    store.remove_entity(session, entity_row(session, tenant=tenant, entity_id=entity_id, for_update=True))


def _body_id_matches(body: Any, entity_id: str) -> None:
    if not isinstance(body, dict):
        raise BadRequestData("The body must be a JSON object")
    given = body.get("id", body.get("@id"))
    if given is not None and given != entity_id:
        raise BadRequestData("The id in the body differs from the id in the path")


def replace_entity(session: Session, *, tenant: str, entity_id: str, body: Any, tm: TermMap) -> None:
    """PUT /entities/{id}: the entity becomes the body (keeping its id and createdAt)."""
    _body_id_matches(body, entity_id)
    row = entity_row(session, tenant=tenant, entity_id=entity_id, for_update=True)
    fresh = parse_entity({**body, "id": entity_id}, tm, need_type=False)
    fresh.setdefault("type", row.data.get("type", []))
    now = now_iso()
    old = dict(attributes(row.data))
    for iri, instances in attributes(fresh):
        stamp(instances, old.get(iri), now)
    fresh["createdAt"] = row.data.get("createdAt", now)
    fresh["modifiedAt"] = now
    store.replace_entity(session, row, fresh)


def merge_entity(session: Session, *, tenant: str, entity_id: str, body: Any, tm: TermMap) -> None:
    """PATCH /entities/{id}: merge-patch semantics (``urn:ngsi-ld:null`` deletes)."""
    _body_id_matches(body, entity_id)
    row = entity_row(session, tenant=tenant, entity_id=entity_id, for_update=True)
    entity = merge_into(row.data, body, tm)
    store.replace_entity(session, row, entity)


def merge_into(current: StoredEntity, body: dict[str, Any], tm: TermMap) -> StoredEntity:
    entity = copy.deepcopy(current)
    now = now_iso()
    types = body.get("type", body.get("@type"))
    if types is not None:
        entity["type"] = list(dict.fromkeys([*entity.get("type", []), *parse_types(types, tm)]))
    if "scope" in body:  # replaced by the one sent; the NGSI-LD Null removes it
        if body["scope"] == NGSI_NULL or body["scope"] == [NGSI_NULL]:
            entity.pop("scope", None)
        else:
            entity["scope"] = parse_scopes(body["scope"])
    kept, deletions = split_deletions(body, tm)
    parsed = parse_attributes(kept, tm)
    for iri, dataset_id in deletions.items():
        delete_instance(entity, iri, dataset_id)
    for iri, instances in parsed.items():
        old = entity.get(iri, [])
        stamp(instances, old, now)
        before = {i.get("datasetId"): i for i in old}
        # merge-patch reaches into the attribute: members and sub-attributes not sent are kept
        instances = [_merge_instance(before[i.get("datasetId")], i) if i.get("datasetId") in before else i
                     for i in instances]
        replaced = {i.get("datasetId") for i in instances}
        entity[iri] = instances + [i for i in old if i.get("datasetId") not in replaced]
        entity[iri].sort(key=lambda i: "datasetId" in i)
    entity["modifiedAt"] = now
    return entity


def _merge_instance(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in old.items() if k not in VALUE_MEMBERS and k != "type"}
    return kept | new


def upsert_parsed(session: Session, *, tenant: str, entity: StoredEntity, replace: bool) -> bool:
    """Batch upsert of one entity: True when created. ``replace`` drops attributes not sent."""
    row = store.load(session, tenant, entity["id"], for_update=True)
    if row is None:
        store.insert_entity(session, tenant, entity)
        return True
    merged = copy.deepcopy(entity) if replace else copy.deepcopy(row.data)
    if not replace:
        merged["type"] = list(dict.fromkeys([*row.data.get("type", []), *entity.get("type", [])]))
        for iri, instances in attributes(entity):
            merged[iri] = instances
    merged["createdAt"] = row.data.get("createdAt", entity.get("createdAt"))
    old = dict(attributes(row.data))
    for iri, instances in attributes(merged):
        if iri in dict(attributes(entity)):
            for inst in instances:
                previous = {i.get("datasetId"): i for i in old.get(iri, [])}.get(inst.get("datasetId"))
                if previous and "createdAt" in previous:
                    inst["createdAt"] = previous["createdAt"]
    store.replace_entity(session, row, merged)
    return False


def parse_attribute_fragment(iri: str, value: Any, tm: TermMap) -> list[dict[str, Any]]:
    return parse_attribute(iri, value, tm)
