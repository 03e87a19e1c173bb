"""Matching entity changes to NGSI-LD subscriptions and queueing notifications in the outbox.

:func:`match_events` turns ``ngsi.entity.*`` events into notifications written to the outbox
(:class:`NgsiNotification`) in the caller's transaction; :func:`periodic_due` does the same for
periodic subscriptions (``timeInterval``) that are due. Both work on stored (expanded) entities.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.context import geo, query, query_language
from saola.context.errors import LdContextNotAvailable, NgsiLdError
from saola.context.jsonld import ContextProcessor, TermMap, fetch_remote
from saola.context.mirror import mirrored
from saola.context.models import NgsiContext, NgsiEntity
from saola.context.representation import StoredEntity, attributes
from saola.context.subscription_models import NgsiNotification, NgsiSubscription
from saola.context.subscription_render import notified_entity
from saola.context.subscriptions import now_text, status
from saola.core.db import utcnow

_LOCAL_CONTEXT = re.compile(r"/ngsi-ld/v1/jsonldContexts/([^/?#]+)")

# --- term maps outside a request -----------------------------------------------------------------


def context_term_map(processor: ContextProcessor, session: Session, context: Any, settings: Any = None) -> TermMap:
    """The term map of a stored subscription's @context: hosted or cached documents from the database, then the
    offline mirror, then (unless ``settings`` turn fetching off) the network."""

    def source(url: str) -> dict[str, Any] | None:
        match = _LOCAL_CONTEXT.fullmatch(urlsplit(url).path)
        if match:
            row = session.get(NgsiContext, unquote(match.group(1)))
            if row is not None:
                return row.body
        cached = session.scalars(select(NgsiContext).where(NgsiContext.url == url)).first()
        if cached is not None:
            return cached.body
        document = mirrored(getattr(settings, "ngsi_ld_context_mirror", None), url)
        if document is not None:
            return document
        if not getattr(settings, "ngsi_ld_fetch_contexts", True):
            raise LdContextNotAvailable(f"The @context {url} is not cached and fetching contexts is turned off")
        return fetch_remote(url)

    return processor.term_map(context, source)


def _output_term_map(processor: ContextProcessor, session: Session, row: NgsiSubscription, tm: TermMap,
                     settings: Any) -> TermMap:
    """The term map notifications are compacted with: the subscription's jsonldContext, else its @context."""
    url = row.definition["expanded"].get("jsonldContext")
    return context_term_map(processor, session, url, settings) if url else tm


def notification_context(definition: dict[str, Any]) -> Any:
    """The @context a notification names: the subscription's jsonldContext, else the one it was created with."""
    return definition["expanded"].get("jsonldContext") or definition.get("context")


# --- matching ------------------------------------------------------------------------------------


def selects(expanded: dict[str, Any], entity: StoredEntity) -> bool:
    """Whether the entities selectors, q, geoQ and scopeQ of a subscription accept ``entity``."""
    selectors = expanded.get("entities")
    return not selectors or any(
        query.type_matches(s["type"], entity.get("type", [])) and s.get("id", entity["id"]) == entity["id"]
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
        present = [iri for iri, _ in attributes(before or {})]
        return "entityDeleted" in triggers or (
            "attributeDeleted" in triggers and bool(present) and (not watched or bool(set(watched) & set(present))))
    if topic.endswith("created"):
        if "entityCreated" in triggers:
            return True
        present = [iri for iri, _ in attributes(after or {})]
        return "attributeCreated" in triggers and (not watched or bool(set(watched) & set(present)))
    return any(bool(_change_kinds(iri, before, after) & triggers) for iri in changed
               if not watched or iri in watched)


def _change_kinds(iri: str, before: StoredEntity | None, after: StoredEntity | None) -> set[str]:
    """What happened to the instances (by datasetId) of one changed attribute."""
    old = {i.get("datasetId"): i for i in (before or {}).get(iri) or []}
    new = {i.get("datasetId"): i for i in (after or {}).get(iri) or []}
    kinds = set()
    if set(old) - set(new):
        kinds.add("attributeDeleted")
    if set(new) - set(old):
        kinds.add("attributeCreated")
    if any(old[d] != new[d] for d in set(old) & set(new)):
        kinds.add("attributeUpdated")
    return kinds


def notification_body(row: NgsiSubscription, entities: list[StoredEntity], tm: TermMap, *, topic: str = "",
                      before: StoredEntity | None = None, changed: list[str] | None = None) -> dict[str, Any]:
    """A notification of ``entities`` (one entity change, or the matching entities of a periodic subscription)."""
    expanded = row.definition["expanded"]
    note = expanded["notification"]
    now = now_text()
    deleted = topic.endswith("deleted")
    null_attrs: list[str] | None = None
    if deleted and "entityDeleted" in expanded["notificationTrigger"]:
        null_attrs = None if note.get("showChanges") else []
    elif deleted:
        null_attrs = expanded.get("watchedAttributes")
    data = [notified_entity(note, deleted_entity=deleted, before=before if deleted or changed else None,
                            after=None if deleted else entity, changed=changed or [], null_attrs=null_attrs,
                            tm=tm, lang=expanded.get("lang"), now=now, datasets=expanded.get("datasetId"))
            for entity in entities]
    return {"id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}", "type": "Notification",
            "subscriptionId": row.sub_id, "notifiedAt": now, "data": data}


def enqueue(session: Session, row: NgsiSubscription, body: dict[str, Any]) -> None:
    sequence = row.next_sequence
    row.next_sequence = sequence + 1
    row.last_matched = utcnow()
    session.add(NgsiNotification(subscription_pk=row.id, sequence=sequence, payload=body))


def match_events(session: Session, processor: ContextProcessor, events: list[tuple[str, dict[str, Any]]],
                 settings: Any = None) -> int:
    """Write the notifications of several entity changes, in order, to the outbox (the caller commits);
    how many. Each tenant's subscriptions are read (and locked) once for the whole list."""
    subscriptions: dict[str, list[NgsiSubscription]] = {}
    count = 0
    for topic, payload in events:
        tenant = payload.get("tenant", "")
        if tenant not in subscriptions:
            subscriptions[tenant] = list(session.scalars(
                select(NgsiSubscription).where(NgsiSubscription.tenant == tenant)
                .order_by(NgsiSubscription.id).with_for_update()).all())
        if subscriptions[tenant]:
            count += _match_rows(session, processor, topic, payload, subscriptions[tenant], settings)
    return count


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _changed_at(payload: dict[str, Any]) -> datetime | None:
    """When the change was made (``at`` of :func:`saola.context.store._record_many`); None if not said."""
    try:
        return _aware(datetime.fromisoformat(payload["at"]))
    except (KeyError, TypeError, ValueError):
        return None


def _match_rows(session: Session, processor: ContextProcessor, topic: str, payload: dict[str, Any],
                rows: list[NgsiSubscription], settings: Any) -> int:
    before, after = payload.get("previous"), payload.get("entity")
    entity = after or before
    if not entity:
        return 0
    now = utcnow()
    changed_at = _changed_at(payload)
    count = 0
    for row in rows:
        expanded = row.definition["expanded"]
        if "timeInterval" in expanded or status(row, now) != "active" or not selects(expanded, entity):
            continue
        if changed_at is not None and _aware(row.created_at) > changed_at:
            continue  # the change was made before the subscription existed (the matcher ran late)
        if not _fired(expanded, topic, payload.get("changed") or [], before, after):
            continue
        throttling = expanded.get("throttling")
        if throttling and row.last_matched and now - row.last_matched < timedelta(seconds=throttling):
            continue
        try:
            tm = context_term_map(processor, session, row.definition.get("context"), settings)
            if not filters(expanded, entity, tm):
                continue
            out_tm = _output_term_map(processor, session, row, tm, settings)
        except NgsiLdError:
            continue
        enqueue(session, row, notification_body(row, [entity], out_tm, topic=topic, before=before,
                                                changed=payload.get("changed") or []))
        count += 1
    return count


def periodic_due(session: Session, processor: ContextProcessor, settings: Any = None) -> int:
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
            tm = context_term_map(processor, session, row.definition.get("context"), settings)
            entities = [e.data for e in session.scalars(select(NgsiEntity).where(NgsiEntity.tenant == row.tenant)
                                                        .order_by(NgsiEntity.id))
                        if selects(expanded, e.data) and filters(expanded, e.data, tm)]
            out_tm = _output_term_map(processor, session, row, tm, settings)
        except NgsiLdError:
            continue
        row.last_matched = now
        if entities:
            enqueue(session, row, notification_body(row, entities, out_tm))
            count += 1
    return count
