"""Matching entity changes to NGSI-LD subscriptions and queueing notifications in the outbox.

:func:`match_event` turns one ``ngsi.entity.*`` event into notifications written to the outbox
(:class:`NgsiNotification`) in the caller's transaction; :func:`periodic_due` does the same for
periodic subscriptions (``timeInterval``) that are due. Both work on stored (expanded) entities.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.context import geo, query_language
from saola.context.errors import NgsiLdError
from saola.context.jsonld import ContextProcessor, TermMap, fetch_remote
from saola.context.models import NgsiContext, NgsiEntity
from saola.context.render import render_entity
from saola.context.representation import StoredEntity, attributes
from saola.context.subscription_models import NgsiNotification, NgsiSubscription
from saola.context.subscriptions import now_text, status
from saola.core.db import utcnow

_LOCAL_CONTEXT = re.compile(r"/ngsi-ld/v1/jsonldContexts/([^/?#]+)")

# --- term maps outside a request -----------------------------------------------------------------


def context_term_map(processor: ContextProcessor, session: Session, context: Any) -> TermMap:
    """The term map of a stored subscription's @context (hosted documents from the database)."""

    def source(url: str) -> dict[str, Any] | None:
        match = _LOCAL_CONTEXT.fullmatch(urlsplit(url).path)
        if match:
            row = session.get(NgsiContext, unquote(match.group(1)))
            if row is not None:
                return row.body
        cached = session.scalars(select(NgsiContext).where(NgsiContext.url == url)).first()
        return cached.body if cached is not None else fetch_remote(url)

    return processor.term_map(context, source)


# --- matching ------------------------------------------------------------------------------------


def selects(expanded: dict[str, Any], entity: StoredEntity) -> bool:
    """Whether the entities selectors, q, geoQ and scopeQ of a subscription accept ``entity``."""
    selectors = expanded.get("entities")
    return not selectors or any(
        s["type"] in entity.get("type", []) and s.get("id", entity["id"]) == entity["id"]
        and ("idPattern" not in s or re.fullmatch(s["idPattern"], entity["id"]) is not None) for s in selectors)


def filters(expanded: dict[str, Any], entity: StoredEntity, tm: TermMap) -> bool:
    if "q" in expanded and not query_language.evaluate(query_language.parse_q(expanded["q"]), entity, tm.expand):
        return False
    if "scopeQ" in expanded and not query_language.evaluate_scope(
            query_language.parse_scope_q(expanded["scopeQ"]), entity.get("scope")):
        return False
    if "geoQ" in expanded:
        g = expanded["geoQ"]
        query = geo.parse_geoquery(g["georel"], g["geometry"], g["coordinates"], g["geoproperty"])
        instances = entity.get(g["geoproperty"]) or []
        if query is None or not any(geo.matches(query, i.get("value")) for i in instances
                                    if i.get("type") == "GeoProperty"):
            return False
    return True


def _fired(expanded: dict[str, Any], topic: str, changed: list[str], before: StoredEntity | None,
           after: StoredEntity | None) -> bool:
    triggers = set(expanded["notificationTrigger"])
    if "entityUpdated" in triggers:
        triggers |= {"attributeCreated", "attributeUpdated", "attributeDeleted"}
    watched = expanded.get("watchedAttributes")
    if topic.endswith("deleted"):
        return "entityDeleted" in triggers
    if topic.endswith("created"):
        if "entityCreated" in triggers:
            return True
        present = [iri for iri, _ in attributes(after or {})]
        return "attributeCreated" in triggers and (not watched or bool(set(watched) & set(present)))
    for iri in changed:
        if watched and iri not in watched:
            continue
        kind = "attributeCreated" if iri not in (before or {}) else "attributeDeleted" if iri not in (
            after or {}) else "attributeUpdated"
        if kind in triggers:
            return True
    return False


def notification_body(row: NgsiSubscription, entities: list[StoredEntity], tm: TermMap,
                      deleted: bool = False) -> dict[str, Any]:
    expanded = row.definition["expanded"]
    note = expanded["notification"]
    picked = note.get("attributes")
    pick = set(picked) | {"id", "type", "scope"} if picked else None
    data = []
    for entity in entities:
        if deleted:
            types = [tm.compact(t) for t in entity.get("type", [])]
            data.append({"id": entity["id"], "type": types[0] if len(types) == 1 else types,
                         "deletedAt": now_text()})
        else:
            data.append(render_entity(entity, tm, fmt=note["format"], sys_attrs=note.get("sysAttrs", False),
                                      pick=pick, lang=expanded.get("lang")))
    return {"id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}", "type": "Notification",
            "subscriptionId": row.sub_id, "notifiedAt": now_text(), "data": data}


def enqueue(session: Session, row: NgsiSubscription, body: dict[str, Any]) -> None:
    sequence = row.next_sequence
    row.next_sequence = sequence + 1
    row.last_matched = utcnow()
    session.add(NgsiNotification(subscription_pk=row.id, sequence=sequence, payload=body))


def match_event(session: Session, processor: ContextProcessor, topic: str, payload: dict[str, Any]) -> int:
    """Write the notifications one entity change causes to the outbox (the caller commits); how many."""
    before, after = payload.get("previous"), payload.get("entity")
    entity = after or before
    if not entity:
        return 0
    now = utcnow()
    rows = session.scalars(select(NgsiSubscription).where(NgsiSubscription.tenant == payload.get("tenant", ""))
                           .order_by(NgsiSubscription.id).with_for_update()).all()
    count = 0
    for row in rows:
        expanded = row.definition["expanded"]
        if "timeInterval" in expanded or status(row, now) != "active" or not selects(expanded, entity):
            continue
        if not _fired(expanded, topic, payload.get("changed") or [], before, after):
            continue
        throttling = expanded.get("throttling")
        if throttling and row.last_matched and now - row.last_matched < timedelta(seconds=throttling):
            continue
        try:
            tm = context_term_map(processor, session, row.definition.get("context"))
            if not filters(expanded, entity, tm):
                continue
        except NgsiLdError:
            continue
        enqueue(session, row, notification_body(row, [entity], tm, deleted=topic.endswith("deleted")))
        count += 1
    return count


def periodic_due(session: Session, processor: ContextProcessor) -> int:
    """Queue a notification of the current matching entities for each periodic subscription that is due."""
    now = utcnow()
    count = 0
    for row in session.scalars(select(NgsiSubscription).order_by(NgsiSubscription.id)).all():
        expanded = row.definition["expanded"]
        interval = expanded.get("timeInterval")
        if not interval or status(row, now) != "active":
            continue
        if row.last_matched and now - row.last_matched < timedelta(seconds=interval):
            continue
        try:
            tm = context_term_map(processor, session, row.definition.get("context"))
            entities = [e.data for e in session.scalars(select(NgsiEntity).where(NgsiEntity.tenant == row.tenant)
                                                        .order_by(NgsiEntity.id))
                        if selects(expanded, e.data) and filters(expanded, e.data, tm)]
        except NgsiLdError:
            continue
        row.last_matched = now
        if entities:
            enqueue(session, row, notification_body(row, entities, tm))
            count += 1
    return count
