"""Subscriptions to context source registrations (clauses 5.2.12, 5.11): validation, storage and notifications.

The body is validated like an entity subscription (:func:`saola.context.subscriptions.validate`: entities,
watchedAttributes, q, geoQ, expiresAt, isActive, notification...) plus the ``temporalQ`` of registration
subscriptions. A subscription matches a registration as discovery does (:mod:`saola.context.csource_discovery`).

Notifications (clause 5.11.7) are ``ContextSourceNotification`` objects whose ``data`` are registrations, written to
the outbox ``ngsi_csource_notifications`` in the transaction of the change, and delivered by
:mod:`saola.context.csource_notifier`:

* creating or updating a subscription notifies the registrations that match it now (``newlyMatching``);
* creating, updating or deleting a registration notifies each active subscription it matches, before or after the
  change: ``newlyMatching`` (matches only after), ``updated`` (both), ``noLongerMatching`` (only before; the
  registration as it was);
* a periodic subscription (``timeInterval``) is notified every interval with the registrations that match it.
"""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.context import csource_discovery as discovery
from saola.context import geo, query_language
from saola.context import subscriptions as entity_subscriptions
from saola.context.csource_models import NgsiCSourceNotification, NgsiCSourceSubscription
from saola.context.csource_registrations import render_definition
from saola.context.errors import AlreadyExists, BadRequestData, NgsiLdError, ResourceNotFound
from saola.context.jsonld import ContextProcessor, TermMap
from saola.context.subscription_matching import context_term_map
from saola.context.subscriptions import delivery_status, is_uri, now_text, page_of, status
from saola.core.db import queue_event, utcnow

WAKE_TOPIC = "ngsi.csource.notification"
NOTIFICATION_TYPE = "ContextSourceNotification"
IGNORED = ("@context", "status", "createdAt", "modifiedAt")


# --- validation ----------------------------------------------------------------------------------


def _temporal(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - {"timerel", "timeAt", "endTimeAt", "timeproperty"}:
        raise BadRequestData("temporalQ must be an object with timerel, timeAt (endTimeAt, timeproperty)")
    discovery.parse_temporal(value.get("timerel"), value.get("timeAt"), value.get("endTimeAt"),
                             value.get("timeproperty"))
    return dict(value)


def validate(body: Any, tm: TermMap) -> dict[str, Any]:
    """The expanded definition of a registration subscription; BadRequestData when invalid."""
    if not isinstance(body, dict):
        raise BadRequestData("A subscription must be a JSON object")
    rest = {k: v for k, v in body.items() if k != "temporalQ"}
    for key in ("notificationTrigger", "scopeQ", "datasetId", "throttling"):
        if key in rest:
            raise BadRequestData(f"{key} is not a member of context source registration subscriptions")
    expanded = entity_subscriptions.validate(rest, tm)
    expanded.pop("notificationTrigger", None)
    if "temporalQ" in body:
        expanded["temporalQ"] = _temporal(body["temporalQ"])
    return expanded


# --- storage -------------------------------------------------------------------------------------


def load(session: Session, tenant: str, sub_id: str) -> NgsiCSourceSubscription | None:
    return session.scalars(select(NgsiCSourceSubscription).where(
        NgsiCSourceSubscription.tenant == tenant, NgsiCSourceSubscription.sub_id == sub_id)).first()


def get(session: Session, tenant: str, sub_id: str) -> NgsiCSourceSubscription:
    if not is_uri(sub_id):
        raise BadRequestData("The subscription id must be a URI")
    row = load(session, tenant, sub_id)
    if row is None:
        raise ResourceNotFound(f"No context source registration subscription {sub_id}")
    return row


def create(session: Session, *, tenant: str, body: Any, context: Any, tm: TermMap) -> NgsiCSourceSubscription:
    expanded = validate(body, tm)
    sub_id = body["id"] if "id" in body else f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    if not is_uri(sub_id) or len(sub_id) > 1024:
        raise BadRequestData("id must be a URI of at most 1024 characters")
    if load(session, tenant, sub_id) is not None:
        raise AlreadyExists(f"Subscription {sub_id} already exists")
    raw = {k: v for k, v in body.items() if k not in IGNORED}
    raw["id"] = sub_id
    row = NgsiCSourceSubscription(tenant=tenant, sub_id=sub_id,
                                  definition={"raw": raw, "context": context, "expanded": expanded})
    session.add(row)
    session.flush()
    return row


def update(session: Session, row: NgsiCSourceSubscription, patch: Any, tm: TermMap) -> None:
    """Replace the members ``patch`` names (null removes one); the result must still be valid."""
    if not isinstance(patch, dict) or not patch:
        raise BadRequestData("The patch must be a non-empty JSON object")
    if "id" in patch and patch["id"] != row.sub_id:
        raise BadRequestData("The id of a subscription cannot change")
    raw = copy.deepcopy(row.definition["raw"])
    for key, value in patch.items():
        if key in IGNORED:
            continue
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    row.definition = {"raw": raw, "context": row.definition.get("context"), "expanded": validate(raw, tm)}
    row.modified_at = utcnow()
    row.last_matched = None


def page(session: Session, tenant: str, limit: int, offset: int) -> tuple[list[NgsiCSourceSubscription], int]:
    return page_of(session, NgsiCSourceSubscription, tenant, limit, offset)


def render(row: NgsiCSourceSubscription, tm: TermMap) -> dict[str, Any]:
    """The subscription as the API shows it: the members as sent, terms compacted with ``tm``, and its status."""
    out = copy.deepcopy(row.definition["raw"])
    expanded = row.definition["expanded"]
    for item, selector in zip(out.get("entities") or [], expanded.get("entities") or [], strict=False):
        if isinstance(item, dict) and isinstance(selector.get("type"), str):
            item["type"] = tm.compact(selector["type"])
    if "watchedAttributes" in expanded:
        out["watchedAttributes"] = [tm.compact(i) for i in expanded["watchedAttributes"]]
    if isinstance(out.get("geoQ"), dict) and "geoproperty" in out["geoQ"]:
        out["geoQ"]["geoproperty"] = tm.compact(expanded["geoQ"]["geoproperty"])
    out["type"] = "Subscription"
    out["status"] = status(row)
    notification = out.setdefault("notification", {})
    delivery_status(notification, row)
    return out


# --- matching and notifications ------------------------------------------------------------------


def _wanted(expanded: dict[str, Any], tm: TermMap) -> discovery.RegistrationQuery:
    """A subscription's conditions as a discovery query."""
    wanted = discovery.RegistrationQuery(expand=tm.expand)
    wanted.selectors = [discovery.Selector(s["type"], [s["id"]] if "id" in s else None, s.get("idPattern"))
                        for s in expanded.get("entities") or []]
    wanted.attrs = expanded.get("watchedAttributes")
    if "q" in expanded:
        wanted.q = query_language.parse_q(expanded["q"])
    if "geoQ" in expanded:
        g = expanded["geoQ"]
        wanted.geo_query = geo.parse_geoquery(g["georel"], g["geometry"], g["coordinates"], None)
        wanted.geo_member = discovery.geo_member(g["geoproperty"], tm)
    if "temporalQ" in expanded:
        t = expanded["temporalQ"]
        wanted.temporal = discovery.parse_temporal(t.get("timerel"), t.get("timeAt"), t.get("endTimeAt"),
                                                   t.get("timeproperty"))
    return wanted


def _notified(reg_id: str, definition: dict[str, Any], wanted: discovery.RegistrationQuery,
              tm: TermMap) -> dict[str, Any]:
    """A registration as a notification carries it: only its RegistrationInfo items relevant to the subscription
    ("implementations should return context source registration information relevant for the subscription, in
    particular only matching RegistrationInfo elements", clause 5.11.7), each EntityInfo ``type`` in its array
    form (the EntityInfo schema allows a type or a JSON array of types)."""
    members = {**definition["members"], "information": discovery.relevant_information(definition, wanted)}
    out = render_definition(reg_id, {**definition, "members": members}, tm)
    for info in out.get("information", []):
        for entity in info.get("entities", []):
            entity["type"] = entity["type"] if isinstance(entity["type"], list) else [entity["type"]]
    return out


def _enqueue(session: Session, row: NgsiCSourceSubscription, data: list[dict[str, Any]], reason: str) -> None:
    body = {"id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}", "type": NOTIFICATION_TYPE,
            "subscriptionId": row.sub_id, "notifiedAt": now_text(), "data": data, "triggerReason": reason}
    sequence = row.next_sequence
    row.next_sequence = sequence + 1
    row.last_matched = utcnow()
    session.add(NgsiCSourceNotification(sub_pk=row.id, sequence=sequence, payload=body))
    queue_event(session, WAKE_TOPIC, {"tenant": row.tenant})


def _term_map(processor: ContextProcessor, session: Session, row: NgsiCSourceSubscription,
              settings: Any) -> TermMap | None:
    try:
        return context_term_map(processor, session, row.definition.get("context"), settings)
    except NgsiLdError:
        return None


def notify_matching(session: Session, processor: ContextProcessor, settings: Any,
                    row: NgsiCSourceSubscription) -> bool:
    """Queue a notification of every registration that matches ``row`` now; whether there was one."""
    tm = _term_map(processor, session, row, settings)
    if tm is None or status(row) != "active":
        return False
    wanted = _wanted(row.definition["expanded"], tm)
    regs = discovery.run(session, row.tenant, wanted)
    if regs:
        _enqueue(session, row, [_notified(r.reg_id, r.definition, wanted, tm) for r in regs], "newlyMatching")
    return bool(regs)


def _processor(request: Request) -> ContextProcessor:
    state = request.app.state
    if not hasattr(state, "ngsi_contexts"):
        state.ngsi_contexts = ContextProcessor()
    return state.ngsi_contexts


def subscription_written(session: Session, request: Request, row: NgsiCSourceSubscription) -> None:
    """A subscription was created or updated: notify what it matches now."""
    notify_matching(session, _processor(request), request.app.state.settings, row)


def registration_changed(session: Session, request: Request, tenant: str, reg_id: str,
                         before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Queue the notifications of a registration's creation, update or deletion (clause 5.11.7)."""
    processor = _processor(request)
    settings = request.app.state.settings
    rows = session.scalars(select(NgsiCSourceSubscription).where(NgsiCSourceSubscription.tenant == tenant)
                           .order_by(NgsiCSourceSubscription.id)).all()
    for row in rows:
        expanded = row.definition["expanded"]
        if "timeInterval" in expanded or status(row) != "active":
            continue
        tm = _term_map(processor, session, row, settings)
        if tm is None:
            continue
        wanted = _wanted(expanded, tm)
        was = before is not None and discovery.matches(reg_id, before, wanted)
        now = after is not None and discovery.matches(reg_id, after, wanted)
        if now:
            assert after is not None
            _enqueue(session, row, [_notified(reg_id, after, wanted, tm)], "updated" if was else "newlyMatching")
        elif was:
            assert before is not None
            _enqueue(session, row, [_notified(reg_id, before, wanted, tm)], "noLongerMatching")


def periodic_due(session: Session, processor: ContextProcessor, settings: Any) -> int:
    """Queue the notifications of the periodic subscriptions that are due; how many."""
    now = utcnow()
    count = 0
    rows = session.scalars(select(NgsiCSourceSubscription).order_by(NgsiCSourceSubscription.id)).all()
    for row in rows:
        interval = row.definition["expanded"].get("timeInterval")
        if not interval or status(row, now) != "active":
            continue
        if row.last_matched and now - row.last_matched < timedelta(seconds=interval):
            continue
        row.last_matched = now
        if notify_matching(session, processor, settings, row):
            count += 1
    return count

