"""Persistence of entities: the JSON document plus its side tables, history rows and change events.

Services call :func:`insert`, :func:`replace` and :func:`remove`; they keep the side tables
(types, attribute values, geo boxes) in step with the document, append the attribute history and
queue the ``ngsi.entity.*`` event published after commit. Nothing here commits.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from saola.context import geo, geogrid
from saola.context.errors import BadRequestData
from saola.context.models import (
    SHORT_TEXT,
    NgsiAttributeHistory,
    NgsiAttributeValue,
    NgsiEntity,
    NgsiEntityType,
    NgsiGeoBox,
    NgsiTenant,
)
from saola.context.representation import SCOPE, VALUE_MEMBER, AttributeInstance, StoredEntity, attributes
from saola.context.subscription_models import NgsiSubscription
from saola.core.db import queue_event, utcnow

MAX_NUMBER = 1e300


# --- tenants ----------------------------------------------------------------------------------


def tenant_exists(session: Session, tenant: str) -> bool:
    return tenant == "" or session.get(NgsiTenant, tenant) is not None


def ensure_tenant(session: Session, tenant: str) -> None:
    if tenant and session.get(NgsiTenant, tenant) is None:
        session.add(NgsiTenant(name=tenant))
        session.flush()


# --- reading -----------------------------------------------------------------------------------


def load(session: Session, tenant: str, entity_id: str, *, for_update: bool = False) -> NgsiEntity | None:
    query = select(NgsiEntity).where(NgsiEntity.tenant == tenant, NgsiEntity.entity_id == entity_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


_DOCUMENT = select(NgsiEntity.__table__.c.data).where(
    NgsiEntity.__table__.c.tenant == bindparam("tenant"), NgsiEntity.__table__.c.entity_id == bindparam("entity_id"))


def load_document(session: Session, tenant: str, entity_id: str) -> StoredEntity | None:
    """The stored document of an entity, read without building an ORM object (the hot path of retrieval)."""
    session.flush()  # (what autoflush does for ORM queries; nothing to do in a read)
    return session.connection().execute(_DOCUMENT, {"tenant": tenant, "entity_id": entity_id}).scalar()


def load_many(session: Session, tenant: str, entity_ids: Iterable[str]) -> dict[str, NgsiEntity]:
    ids = list(dict.fromkeys(entity_ids))
    found: dict[str, NgsiEntity] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = session.scalars(
            select(NgsiEntity).where(NgsiEntity.tenant == tenant, NgsiEntity.entity_id.in_(chunk))
        )
        found.update({row.entity_id: row for row in rows})
    return found


# --- side tables -------------------------------------------------------------------------------


def candidates(instance: AttributeInstance) -> list[Any]:
    """The values of an instance that ``q`` compares (see ``query_language.Hint``)."""
    kind = instance.get("type", "Property")
    value = instance.get(VALUE_MEMBER.get(kind, "value"))
    if kind == "LanguageProperty" and isinstance(value, dict):
        items: list[Any] = []
        for text in value.values():
            items.extend(text if isinstance(text, list) else [text])
        return items
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("@value", item.get("object", item)) if len(item) == 1 else item
        out.append(item)
    return out


def _value_rows(pk: int, tenant: str, entity: StoredEntity) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for iri, instances in attributes(entity):
        seen: set[tuple[Any, Any]] = set()
        kind = instances[0].get("type", "Property") if instances else ""
        rows.append({"entity_pk": pk, "tenant": tenant, "attr_iri": iri, "attr_type": kind,
                     "num_value": None, "text_value": None})
        for inst in instances:
            for x in candidates(inst):
                key: tuple[Any, Any]
                if isinstance(x, (int, float)) and not isinstance(x, bool) and abs(x) <= MAX_NUMBER:
                    key = (float(x), None)
                elif isinstance(x, str) and len(x) <= SHORT_TEXT and "\x00" not in x:
                    key = (None, x)
                else:
                    continue
                if key not in seen:
                    seen.add(key)
                    rows.append({"entity_pk": pk, "tenant": tenant, "attr_iri": iri,
                                 "attr_type": inst.get("type", "Property"), "num_value": key[0],
                                 "text_value": key[1]})
    return rows


def value_rows(pk: int, tenant: str, entity: StoredEntity) -> list[dict[str, Any]]:
    """The ``ngsi_attribute_values`` rows of the attributes in ``entity`` (which may hold only some of
    an entity's attributes): for writers that rewrite the side rows of a few attributes in bulk."""
    return _value_rows(pk, tenant, entity)


def _geo_rows(pk: int, entity: StoredEntity) -> list[dict[str, Any]]:
    rows = []
    for iri, instances in attributes(entity):
        for inst in instances:
            if inst.get("type") == "GeoProperty":
                try:
                    west, south, east, north = geo.geometry_bbox(inst.get("value"))
                except BadRequestData:
                    continue
                rows.append({"entity_pk": pk, "attr_iri": iri, "min_lon": west, "min_lat": south,
                             "max_lon": east, "max_lat": north, "cell": geogrid.cell_of(west, south, east, north)})
    return rows


# Side and history rows are written with Core statements on the session's connection: the ORM's
# bulk-insert path cost ~40% of a batch upsert in profiles (bench/context_bench.py), and nothing
# here needs ORM objects for these rows.
SIDE_TABLES = (NgsiEntityType.__table__, NgsiAttributeValue.__table__, NgsiGeoBox.__table__)


def _delete_side_rows(session: Session, pk: int) -> None:
    conn = session.connection()
    for table in SIDE_TABLES:
        conn.execute(delete(table).where(table.c.entity_pk == pk))


def write_changed_side_rows(conn: Any, pk: int, tenant: str, before: StoredEntity, after: StoredEntity) -> None:
    """Rewrite the side rows of the attributes (and types) that differ between two documents of an entity.

    An update usually touches one attribute: only its rows are computed (no geometry is parsed for an
    unchanged location) and rewritten, in two statements instead of six (delete and insert for types,
    values and geo boxes).
    """
    if list(before.get("type", [])) != list(after.get("type", [])):
        conn.execute(_DELETE_TYPES, {"pk": pk})
        conn.execute(insert(NgsiEntityType.__table__),
                     [{"entity_pk": pk, "tenant": tenant, "type_iri": t} for t in after.get("type", [])])
    old = dict(attributes(before))
    new = dict(attributes(after))
    touched = [iri for iri in dict.fromkeys([*old, *new]) if old.get(iri) != new.get(iri)]
    if not touched:
        return
    old_part = {iri: old[iri] for iri in touched if iri in old}
    new_part = {iri: new[iri] for iri in touched if iri in new}
    for table, new_rows, old_rows in (
            (NgsiAttributeValue.__table__, _value_rows(pk, tenant, new_part), _value_rows(pk, tenant, old_part)),
            (NgsiGeoBox.__table__, _geo_rows(pk, new_part), _geo_rows(pk, old_part))):
        rows = _changed_rows(conn, table, pk, new_rows, old_rows)
        if rows:
            conn.execute(insert(table), rows)


def _changed_rows(conn: Any, table: Any, pk: int, new: list[dict[str, Any]],
                  old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delete the stored rows of the attributes whose rows differ; the new rows of those attributes."""
    def by_attribute(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            grouped.setdefault(r["attr_iri"], []).append(r)
        return grouped

    new_of, old_of = by_attribute(new), by_attribute(old)
    changed = sorted(iri for iri in new_of.keys() | old_of.keys() if new_of.get(iri) != old_of.get(iri))
    if not changed:
        return []
    conn.execute(_DELETE_ATTRIBUTE_ROWS[table.name], {"pk": pk, "iris": changed})
    return [r for iri in changed for r in new_of.get(iri, [])]


# (built once: building a statement costs about as much as running it)
_DELETE_TYPES = delete(NgsiEntityType.__table__).where(NgsiEntityType.__table__.c.entity_pk == bindparam("pk"))
_DELETE_ATTRIBUTE_ROWS = {
    table.name: delete(table).where(table.c.entity_pk == bindparam("pk"),
                                    table.c.attr_iri.in_(bindparam("iris", expanding=True)))
    for table in (NgsiAttributeValue.__table__, NgsiGeoBox.__table__)}


# --- history -----------------------------------------------------------------------------------


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _history_rows(
    tenant: str, entity_id: str, before: StoredEntity | None, after: StoredEntity | None, now: datetime,
) -> tuple[list[dict[str, Any]], list[str]]:
    old = dict(attributes(before)) if before else {}
    new = dict(attributes(after)) if after else {}
    rows: list[dict[str, Any]] = []
    changed: list[str] = []
    for iri in list(dict.fromkeys([*old, *new])):
        old_by_ds = {i.get("datasetId"): i for i in old.get(iri, [])}
        new_by_ds = {i.get("datasetId"): i for i in new.get(iri, [])}
        touched = False
        for dataset, inst in new_by_ds.items():
            if old_by_ds.get(dataset) != inst:
                touched = True
                observed = _parse_time(inst.get("observedAt"))
                rows.append({"tenant": tenant, "entity_id": entity_id, "attr_iri": iri, "dataset_id": dataset,
                             "instance_id": f"urn:ngsi-ld:{uuid.uuid4()}", "observed_at": observed,
                             "modified_at": now, "time_index": observed or now, "instance": inst,
                             "deleted": False})
        for dataset in old_by_ds:
            if dataset not in new_by_ds:
                touched = True
                rows.append({"tenant": tenant, "entity_id": entity_id, "attr_iri": iri, "dataset_id": dataset,
                             "instance_id": f"urn:ngsi-ld:{uuid.uuid4()}", "observed_at": None,
                             "modified_at": now, "time_index": now, "instance": None, "deleted": True})
        if touched:
            changed.append(iri)
    old_scope, new_scope = (before or {}).get("scope"), (after or {}).get("scope")
    if old_scope != new_scope:  # the scope's history, for the Temporal API (deletedAt); not an attribute change
        rows.append({"tenant": tenant, "entity_id": entity_id, "attr_iri": SCOPE, "dataset_id": None,
                     "instance_id": f"urn:ngsi-ld:{uuid.uuid4()}", "observed_at": None, "modified_at": now,
                     "time_index": now, "instance": None if new_scope is None else
                     {"type": "Property", "value": list(new_scope)}, "deleted": new_scope is None})
    return rows, changed


def _record(session: Session, tenant: str, entity_id: str, before: StoredEntity | None,
            after: StoredEntity | None) -> list[str]:
    return _record_many(session, tenant, [(entity_id, before, after)])[0]


def _record_many(session: Session, tenant: str,
                 changes: list[tuple[str, StoredEntity | None, StoredEntity | None]]) -> list[list[str]]:
    """Append the history rows of several changes in one statement and queue their events."""
    now = utcnow()
    history: list[dict[str, Any]] = []
    changed_of: list[list[str]] = []
    payloads: list[dict[str, Any]] = []
    for entity_id, before, after in changes:
        rows, changed = _history_rows(tenant, entity_id, before, after, now)
        history += rows
        changed_of.append(changed)
        topic = "ngsi.entity.created" if before is None else "ngsi.entity.deleted" if after is None \
            else "ngsi.entity.updated"
        types = (after or before or {}).get("type", [])
        payload = {"tenant": tenant, "id": entity_id, "types": list(types), "changed": changed, "entity": after,
                   "previous": before, "at": now.isoformat()}
        payloads.append(payload)
        queue_event(session, topic, payload)
    if history:
        connection = session.connection()
        connection.execute(insert(NgsiAttributeHistory.__table__), history)
        if connection.dialect.name == "sqlite" and connection.execute(_ANY_SUBSCRIPTION, {"tenant": tenant}).first() \
                is None:
            for payload in payloads:
                payload[UNWATCHED] = True
    return changed_of


# On SQLite a transaction that has written holds the database's only write lock until it commits: no
# subscription can be committed meanwhile, and one committed later is younger than these changes, which
# the notifier never sends to (saola.context.subscription_matching). So the notifier can skip the
# changes marked here without reading the subscriptions again. (On PostgreSQL a subscription's
# transaction may overlap the change's: the notifier looks after the commit.)
UNWATCHED = "unwatched"  # event payload key: no NGSI-LD subscription of the tenant can be notified of it
_ANY_SUBSCRIPTION = select(NgsiSubscription.__table__.c.id).where(
    NgsiSubscription.__table__.c.tenant == bindparam("tenant")).limit(1)


# --- writing -----------------------------------------------------------------------------------


def insert_entity(session: Session, tenant: str, entity: StoredEntity) -> NgsiEntity:
    return insert_entities(session, tenant, [entity])[0]


def insert_entities(session: Session, tenant: str, entities: list[StoredEntity]) -> list[NgsiEntity]:
    """Insert several new entities (ids not stored yet, each once) with a handful of multi-row
    statements instead of six per entity: what makes batch create/upsert fast."""
    if not entities:
        return []
    ensure_tenant(session, tenant)
    now = utcnow()
    rows = [NgsiEntity(tenant=tenant, entity_id=e["id"], data=e, created_at=now, modified_at=now) for e in entities]
    session.add_all(rows)
    session.flush()  # one multi-row INSERT ... RETURNING id
    types: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    boxes: list[dict[str, Any]] = []
    for row in rows:
        types += [{"entity_pk": row.id, "tenant": tenant, "type_iri": t} for t in row.data.get("type", [])]
        values += _value_rows(row.id, tenant, row.data)
        boxes += _geo_rows(row.id, row.data)
    conn = session.connection()
    for table, batch in zip(SIDE_TABLES, (types, values, boxes), strict=True):
        if batch:
            conn.execute(insert(table), batch)
    _record_many(session, tenant, [(row.entity_id, None, row.data) for row in rows])
    return rows


def replace_entity(session: Session, row: NgsiEntity, entity: StoredEntity) -> list[str]:
    """Store ``entity`` as the new document of ``row``; the changed attribute IRIs.

    One Core UPDATE, the ORM object then told the values it now has (the unit of work's flush of a
    loaded row cost as much as the rest of a PATCH's writes).
    """
    before = row.data
    after = copy.deepcopy(entity)
    now = utcnow()
    session.flush()  # (what is pending in the session goes first, the row itself if it is new)
    session.connection().execute(_UPDATE_DOCUMENT, {"pk": row.id, "data": after, "modified_at": now})
    set_committed_value(row, "data", after)
    set_committed_value(row, "modified_at", now)
    write_changed_side_rows(session.connection(), row.id, row.tenant, before, after)
    return _record(session, row.tenant, row.entity_id, before, after)


_UPDATE_DOCUMENT = update(NgsiEntity.__table__).where(NgsiEntity.__table__.c.id == bindparam("pk")).values(
    data=bindparam("data"), modified_at=bindparam("modified_at"))


def remove_entity(session: Session, row: NgsiEntity) -> None:
    before = row.data
    _delete_side_rows(session, row.id)
    session.delete(row)
    session.flush()
    _record(session, row.tenant, row.entity_id, before, None)
