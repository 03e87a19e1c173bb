"""Batch entity operations (clause 5.6.7-5.6.10, 5.6.20): create, upsert, update, delete, merge.

One transaction per request; each entity is checked before anything is written and its failure
is reported in the answer (``errors``) without stopping the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from saola.context import store
from saola.context.attrs import append_attributes
from saola.context.entities import merge_into, new_entity, upsert_parsed
from saola.context.errors import AlreadyExists, BadRequestData, NgsiLdError, ResourceNotFound
from saola.context.jsonld import TermMap
from saola.context.normalize import check_entity_id

MAX_BATCH = 10_000


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


def batch_create(session: Session, *, tenant: str, body: Any, tm: TermMap) -> BatchResult:
    items = _items(body)
    result = BatchResult()
    existing = store.load_many(session, tenant, [i for i in map(_id_of, items) if isinstance(i, str)])
    seen: set[str] = set(existing)
    for item in items:
        try:
            entity = new_entity(item, tm)
            if entity["id"] in seen:
                raise AlreadyExists(f"The entity {entity['id']} already exists")
            seen.add(entity["id"])
            store.insert_entity(session, tenant, entity)
            result.success.append(entity["id"])
        except NgsiLdError as exc:
            result.fail(_id_of(item), exc)
    return result


def batch_upsert(session: Session, *, tenant: str, body: Any, tm: TermMap, replace: bool) -> BatchResult:
    result = BatchResult()
    for item in _items(body):
        try:
            entity = new_entity(item, tm)
            if upsert_parsed(session, tenant=tenant, entity=entity, replace=replace):
                result.created.append(entity["id"])
            result.success.append(entity["id"])
        except NgsiLdError as exc:
            result.fail(_id_of(item), exc)
    return result


def batch_update(session: Session, *, tenant: str, body: Any, tm: TermMap, no_overwrite: bool) -> BatchResult:
    result = BatchResult()
    for item in _items(body):
        try:
            entity_id = check_entity_id(_id_of(item))
            update = append_attributes(session, tenant=tenant, entity_id=entity_id, body=item, tm=tm,
                                       no_overwrite=no_overwrite)
            if update.not_updated and not update.updated and not no_overwrite:
                raise BadRequestData("No attribute was updated")
            result.success.append(entity_id)
        except NgsiLdError as exc:
            result.fail(_id_of(item), exc)
    return result


def batch_merge(session: Session, *, tenant: str, body: Any, tm: TermMap) -> BatchResult:
    result = BatchResult()
    for item in _items(body):
        try:
            entity_id = check_entity_id(_id_of(item))
            row = store.load(session, tenant, entity_id, for_update=True)
            if row is None:
                raise ResourceNotFound(f"No entity {entity_id}")
            store.replace_entity(session, row, merge_into(row.data, item, tm))
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
