"""Batch entity operations (clause 5.6.7-5.6.10, 5.6.20): create, upsert, update, delete, merge.

One transaction per request; each entity is checked before anything is written and its failure
is reported in the answer (``errors``) without stopping the others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from saola.context import store
from saola.context.attrs import append_attributes
from saola.context.entities import merge_into, new_entity, upsert_parsed
from saola.context.errors import AlreadyExists, BadRequestData, NgsiLdError, ResourceNotFound
from saola.context.jsonld import TermMap
from saola.context.normalize import check_entity_id
from saola.context.representation import StoredEntity

MAX_BATCH = 10_000
# One term map for the whole batch, or one per entity (application/ld+json: each entity has its @context)
TermMaps = TermMap | Callable[[Any], TermMap]


def _tm(tm: TermMaps, item: Any) -> TermMap:
    return tm if isinstance(tm, TermMap) else tm(item)


@dataclass
class BatchResult:
    success: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    def fail(self, entity_id: Any, error: NgsiLdError) -> None:
        self.errors.append({"entityId": entity_id if isinstance(entity_id, str) else "",
                            "error": {"type": error.type_uri, "title": error.title, "detail": error.detail,
                                      "status": error.status}})

    def body(self) -> dict[str, Any]:
        return {"success": self.success, "errors": self.errors}


def _items(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise BadRequestData("A batch body is a JSON array")
    if not body:
        raise BadRequestData("The batch is empty")
    if len(body) > MAX_BATCH:
        raise BadRequestData(f"A batch holds at most {MAX_BATCH} entities")
    return body


def _id_of(item: Any) -> Any:
    return item.get("id", item.get("@id")) if isinstance(item, dict) else None


def batch_create(session: Session, *, tenant: str, body: Any, tm: TermMaps) -> BatchResult:
    items = _items(body)
    result = BatchResult()
    existing = store.load_many(session, tenant, [i for i in map(_id_of, items) if isinstance(i, str)])
    seen: set[str] = set(existing)
    for item in items:
        try:
            entity = new_entity(item, _tm(tm, item))
            if entity["id"] in seen:
                raise AlreadyExists(f"The entity {entity['id']} already exists")
            seen.add(entity["id"])
            store.insert_entity(session, tenant, entity)
            result.success.append(entity["id"])
        except NgsiLdError as exc:
            result.fail(_id_of(item), exc)
    return result


def batch_upsert(session: Session, *, tenant: str, body: Any, tm: TermMaps, replace: bool) -> BatchResult:
    result = BatchResult()
    parsed: list[tuple[Any, StoredEntity | NgsiLdError]] = []
    for item in _items(body):
        try:
            parsed.append((item, new_entity(item, _tm(tm, item))))
        except NgsiLdError as exc:
            parsed.append((item, exc))
    ids = [e["id"] for _item, e in parsed if not isinstance(e, NgsiLdError)]
    # entities new to the store and named once are inserted together (a few statements for the
    # whole batch, see store.insert_entities); the others are upserted one by one, in order
    fresh = {i for i, n in Counter(ids).items() if n == 1} - set(store.load_many(session, tenant, ids))
    store.insert_entities(session, tenant,
                          [e for _i, e in parsed if not isinstance(e, NgsiLdError) and e["id"] in fresh])
    for item, entity in parsed:
        try:
            if isinstance(entity, NgsiLdError):
                raise entity
            if entity["id"] in fresh or upsert_parsed(session, tenant=tenant, entity=entity, replace=replace):
                result.created.append(entity["id"])
            result.success.append(entity["id"])
        except NgsiLdError as exc:
            result.fail(_id_of(item), exc)
    return result


def batch_update(session: Session, *, tenant: str, body: Any, tm: TermMaps, no_overwrite: bool) -> BatchResult:
    result = BatchResult()
    for item in _items(body):
        try:
            entity_id = check_entity_id(_id_of(item))
            update = append_attributes(session, tenant=tenant, entity_id=entity_id, body=item, tm=_tm(tm, item),
                                       no_overwrite=no_overwrite)
            if update.not_updated:  # noOverwrite kept some attributes: a partial failure of this entity
                names = ", ".join(n["attributeName"] for n in update.not_updated)
                raise BadRequestData(f"Attributes not updated (they exist and noOverwrite was asked): {names}")
            result.success.append(entity_id)
        except NgsiLdError as exc:
            result.fail(_id_of(item), exc)
    return result


def batch_merge(session: Session, *, tenant: str, body: Any, tm: TermMaps) -> BatchResult:
    result = BatchResult()
    for item in _items(body):
        try:
            entity_id = check_entity_id(_id_of(item))
            term_map = _tm(tm, item)
            merge_into({"id": entity_id}, item, term_map)  # a bad fragment fails before a missing entity
            row = store.load(session, tenant, entity_id, for_update=True)
            if row is None:
                raise ResourceNotFound(f"No entity {entity_id}")
            store.replace_entity(session, row, merge_into(row.data, item, term_map))
            result.success.append(entity_id)
        except NgsiLdError as exc:
            result.fail(_id_of(item), exc)
    return result


def batch_delete(session: Session, *, tenant: str, body: Any) -> BatchResult:
    result = BatchResult()
    items = _items(body)
    rows = store.load_many(session, tenant, [i for i in items if isinstance(i, str)])
    for item in items:
        try:
            entity_id = check_entity_id(item)
            row = rows.pop(entity_id, None)
            if row is None:
                raise ResourceNotFound(f"No entity {entity_id}")
            store.remove_entity(session, row)
            result.success.append(entity_id)
        except NgsiLdError as exc:
            result.fail(item, exc)
    return result
