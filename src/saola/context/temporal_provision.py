"""The Temporal API's provision (clauses 5.6.11-5.6.16): writing, correcting and deleting attribute history.

Temporal provision writes to ``ngsi_attribute_history`` directly. It creates the current entity (with the
latest instance of each attribute) when it does not exist yet, so that the entity can be found by queries;
afterwards it only adds, changes or removes history rows and never rewrites the current entity. Updating a
temporal representation replaces an instance recorded for the same attribute, datasetId and observedAt.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import unquote

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from saola.context import store
from saola.context.entities import new_entity
from saola.context.errors import BadRequestData, InvalidRequest, ResourceNotFound
from saola.context.jsonld import TermMap
from saola.context.models import NgsiAttributeHistory
from saola.context.normalize import ENTITY_MEMBERS, check_entity_id, check_name, is_uri, now_iso, parse_instance
from saola.context.representation import AttributeInstance
from saola.core.db import utcnow


def _parse_instances(body: dict[str, Any], tm: TermMap) -> dict[str, list[AttributeInstance]]:
    now = now_iso()
    out: dict[str, list[AttributeInstance]] = {}
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        iri = tm.expand(check_name(name))
        if iri in out:
            raise BadRequestData(f"Attribute {name!r} is given twice")
        raw = value if isinstance(value, list) else [value]
        if not raw:
            raise BadRequestData(f"Attribute {name!r} has no instances")
        instances = []
        for item in raw:
            inst = parse_instance(iri, item, tm, top=True)
            inst["createdAt"] = inst["modifiedAt"] = now
            instances.append(inst)
        out[iri] = instances
    return out


def _history_row(tenant: str, entity_id: str, iri: str, inst: AttributeInstance) -> dict[str, Any]:
    return {"tenant": tenant, "entity_id": entity_id, "attr_iri": iri, "dataset_id": inst.get("datasetId"),
            "instance_id": f"urn:ngsi-ld:{uuid.uuid4()}", "observed_at": store._parse_time(
                inst.get("observedAt")), "modified_at": utcnow(), "instance": inst, "deleted": False}


def _append(session: Session, tenant: str, entity_id: str, instances: dict[str, list[AttributeInstance]]) -> None:
    rows = [_history_row(tenant, entity_id, iri, inst) for iri, items in instances.items() for inst in items]
    if rows:
        session.execute(insert(NgsiAttributeHistory), rows)


def _replace_same_instants(session: Session, tenant: str, entity_id: str,
                           instances: dict[str, list[AttributeInstance]]) -> None:
    """Updating a temporal representation: a new instance replaces the recorded one of the same attribute,
    datasetId and observedAt (the same observation written again), so it is not listed twice."""
    h = NgsiAttributeHistory
    for iri, items in instances.items():
        for inst in items:
            observed = store._parse_time(inst.get("observedAt"))
            if observed is None:
                continue
            dataset = inst.get("datasetId")
            session.execute(delete(h).where(
                h.tenant == tenant, h.entity_id == entity_id, h.attr_iri == iri, h.observed_at == observed,
                h.dataset_id == dataset if dataset else h.dataset_id.is_(None), h.deleted.is_(False),
            ).execution_options(synchronize_session=False))


def upsert_temporal(session: Session, *, tenant: str, body: Any, tm: TermMap) -> bool:
    """Create or update the temporal representation of an entity; True when the entity was created."""
    if not isinstance(body, dict):
        raise InvalidRequest("The entity must be a JSON object")
    entity_id = check_entity_id(body.get("id", body.get("@id")))
    if body.get("type", body.get("@type")) is None:
        raise BadRequestData("The entity has no type")
    instances = _parse_instances(body, tm)
    if store.load(session, tenant, entity_id, for_update=True) is not None:
        _replace_same_instants(session, tenant, entity_id, instances)
        _append(session, tenant, entity_id, instances)
        return False
    latest: dict[str, Any] = {}
    older: dict[str, list[AttributeInstance]] = {}
    for name, value in body.items():
        if name in ENTITY_MEMBERS:
            continue
        iri = tm.expand(check_name(name))
        items = instances[iri]
        raw = value if isinstance(value, list) else [value]
        by_dataset: dict[Any, int] = {}
        for index, inst in enumerate(items):
            best = by_dataset.get(inst.get("datasetId"))
            if best is None or str(inst.get("observedAt", "")) >= str(items[best].get("observedAt", "")):
                by_dataset[inst.get("datasetId")] = index
        latest[name] = [raw[i] for i in by_dataset.values()]
        older[iri] = [inst for i, inst in enumerate(items) if i not in by_dataset.values()]
    current = {k: v for k, v in body.items() if k in ENTITY_MEMBERS}
    current.update({k: v[0] if len(v) == 1 else v for k, v in latest.items()})
    store.insert_entity(session, tenant, new_entity(current, tm))
    _append(session, tenant, entity_id, older)
    return True


def _has_history(session: Session, tenant: str, entity_id: str) -> bool:
    h = NgsiAttributeHistory
    return session.scalar(select(h.id).where(h.tenant == tenant, h.entity_id == entity_id).limit(1)) is not None


def append_temporal(session: Session, *, tenant: str, entity_id: str, body: Any, tm: TermMap) -> None:
    check_entity_id(entity_id)
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object")
    if store.load(session, tenant, entity_id) is None and not _has_history(session, tenant, entity_id):
        raise ResourceNotFound(f"No entity {entity_id}")
    _append(session, tenant, entity_id, _parse_instances(body, tm))


def delete_temporal(session: Session, *, tenant: str, entity_id: str) -> None:
    check_entity_id(entity_id)
    row = store.load(session, tenant, entity_id, for_update=True)
    if row is None and not _has_history(session, tenant, entity_id):
        raise ResourceNotFound(f"No entity {entity_id}")
    if row is not None:
        store.remove_entity(session, row)
    h = NgsiAttributeHistory
    session.execute(delete(h).where(h.tenant == tenant, h.entity_id == entity_id))


def delete_temporal_attribute(
    session: Session, *, tenant: str, entity_id: str, attr: str, tm: TermMap, dataset_id: str | None,
    delete_all: bool,
) -> None:
    check_entity_id(entity_id)
    h = NgsiAttributeHistory
    conditions = [h.tenant == tenant, h.entity_id == entity_id, h.attr_iri == _attr_name(tm, attr)]
    if not delete_all:
        conditions.append(h.dataset_id == dataset_id if dataset_id else h.dataset_id.is_(None))
    if session.scalar(select(h.id).where(*conditions).limit(1)) is None:
        raise ResourceNotFound(f"No temporal evolution of {attr!r} in {entity_id}")
    session.execute(delete(h).where(*conditions))


def _attr_name(tm: TermMap, attr: str) -> str:
    """The IRI of an attribute named in a path; a dot segment (also percent-encoded) is not a name."""
    if unquote(unquote(attr)) in (".", ".."):
        raise BadRequestData(f"{attr!r} is not a valid attribute name")
    return tm.expand(check_name(attr))


def _instance_row(session: Session, tenant: str, entity_id: str, iri: str, instance_id: str) -> NgsiAttributeHistory:
    if not is_uri(instance_id):
        raise BadRequestData("The instanceId must be a URI")
    h = NgsiAttributeHistory
    row = session.scalars(select(h).where(h.tenant == tenant, h.entity_id == entity_id, h.attr_iri == iri,
                                          h.instance_id == instance_id, h.deleted.is_(False))).first()
    if row is None:
        raise ResourceNotFound(f"No instance {instance_id} of that attribute in {entity_id}")
    return row


def modify_instance(session: Session, *, tenant: str, entity_id: str, attr: str, instance_id: str, body: Any,
                    tm: TermMap) -> None:
    """Replace one recorded instance (clause 5.6.15): the body holds the attribute as its only member."""
    check_entity_id(entity_id)
    iri = _attr_name(tm, attr)
    row = _instance_row(session, tenant, entity_id, iri, instance_id)
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object")
    fragment = {k: v for k, v in body.items() if k not in ENTITY_MEMBERS}
    if len(fragment) != 1 or tm.expand(check_name(next(iter(fragment)))) != iri:
        raise BadRequestData(f"The body must hold exactly the attribute {attr!r}")
    inst = parse_instance(iri, next(iter(fragment.values())), tm, top=True)
    inst["createdAt"] = (row.instance or {}).get("createdAt", now_iso())
    inst["modifiedAt"] = now_iso()
    row.instance = inst
    row.dataset_id = inst.get("datasetId")
    row.observed_at = store._parse_time(inst.get("observedAt"))
    row.modified_at = utcnow()
    session.flush()


def delete_instance(session: Session, *, tenant: str, entity_id: str, attr: str, instance_id: str,
                    tm: TermMap) -> None:
    check_entity_id(entity_id)
    row = _instance_row(session, tenant, entity_id, _attr_name(tm, attr), instance_id)
    session.delete(row)
    session.flush()
