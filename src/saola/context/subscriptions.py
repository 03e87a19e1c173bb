"""NGSI-LD subscriptions (clause 5.8): validation, storage, and matching entity changes to them.

A subscription is stored as the body the client sent (``raw``), the @context it was created with
and an ``expanded`` copy whose terms (types, attribute names) are IRIs, so matching works on the
stored form of entities. Matching turns one ``ngsi.entity.*`` event into notifications
written to the outbox in one transaction (:mod:`saola.context.subscription_matching`);
:mod:`saola.context.notifier` delivers them.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.context import geo, query, query_language
from saola.context.errors import AlreadyExists, BadRequestData, ResourceNotFound
from saola.context.jsonld import TermMap
from saola.context.normalize import check_name
from saola.context.representation import LOCATION
from saola.context.subscription_models import NgsiSubscription
from saola.core.db import Base, utcnow

Row = TypeVar("Row", bound=Base)  # a subscription model: NgsiSubscription, NgsiCSourceSubscription

TRIGGERS = ("entityCreated", "entityUpdated", "entityDeleted", "attributeCreated", "attributeUpdated",
            "attributeDeleted")
DEFAULT_TRIGGERS = ["attributeCreated", "attributeUpdated"]
FORMATS = ("normalized", "keyValues", "concise")
FORMAT_SYNONYMS = {"simplified": "keyValues"}
ENTITY_MEMBER_NAMES = ("id", "type", "scope")
ACCEPTS = ("application/json", "application/ld+json")
MEMBERS = frozenset({
    "id", "type", "subscriptionName", "description", "entities", "watchedAttributes", "notificationTrigger", "q",
    "geoQ", "scopeQ", "throttling", "timeInterval", "expiresAt", "isActive", "notification", "lang", "@context",
    "status", "createdAt", "modifiedAt", "localOnly", "csf", "jsonldContext", "datasetId",
})


def now_text(at: datetime | None = None) -> str:
    return (at or utcnow()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(text: Any, name: str) -> datetime:
    if not isinstance(text, str):
        raise BadRequestData(f"{name} must be a date-time string")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestData(f"{name} is not an ISO 8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _uri(value: Any, name: str) -> str:
    if not is_uri(value):
        raise BadRequestData(f"{name} must be an absolute URI")
    return value


def _names(value: Any, name: str, tm: TermMap) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadRequestData(f"{name} must be a non-empty list of attribute names")
    return [tm.expand(check_name(v)) for v in value]


def _members(value: Any, name: str, tm: TermMap) -> list[str]:
    """``pick``/``omit`` (clause 4.21): entity members (id, type, scope) stay as they are, attributes expand."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadRequestData(f"{name} must be a non-empty list of entity member names")
    return [v if v in ENTITY_MEMBER_NAMES else tm.expand(check_name(v)) for v in value]


def is_uri(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+", value) is not None


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise BadRequestData(f"{name} must be a positive number")
    return float(value)


def _entities(value: Any, tm: TermMap) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise BadRequestData("entities must be a non-empty list")
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str) or set(item) - {"id", "idPattern",
                                                                                                  "type"}:
            raise BadRequestData("Each entities item needs a type and may have id or idPattern")
        selector: dict[str, Any] = {"type": query.parse_type_expression(item["type"], tm)}
        if "id" in item:
            selector["id"] = _uri(item["id"], "entities.id")
        if "idPattern" in item:
            try:
                re.compile(item["idPattern"])
            except (re.error, TypeError):
                raise BadRequestData("entities.idPattern is not a valid regular expression") from None
            selector["idPattern"] = item["idPattern"]
        out.append(selector)
    return out


def _notification(value: Any, tm: TermMap) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("notification is mandatory and must be an object")
    out: dict[str, Any] = {}
    if "attributes" in value:
        out["attributes"] = _names(value["attributes"], "notification.attributes", tm)
    for key in ("pick", "omit"):
        if key in value:
            if "attributes" in value:
                raise BadRequestData(f"notification.{key} cannot be combined with notification.attributes")
            out[key] = _members(value[key], f"notification.{key}", tm)
    both = set(out.get("pick", [])) & set(out.get("omit", []))
    if both:
        raise BadRequestData("notification.pick and notification.omit name the same member")
    fmt = value.get("format", "normalized")
    fmt = FORMAT_SYNONYMS.get(fmt, fmt) if isinstance(fmt, str) else fmt
    if fmt not in FORMATS:
        raise BadRequestData(f"notification.format must be one of {', '.join(FORMATS)} (or simplified)")
    out["format"] = fmt
    if not isinstance(value.get("showChanges", False), bool):
        raise BadRequestData("notification.showChanges must be true or false")
    if value.get("showChanges") and fmt == "keyValues":
        raise BadRequestData("notification.showChanges needs the normalized or concise format")
    out["showChanges"] = value.get("showChanges", False)
    if not isinstance(value.get("sysAttrs", False), bool):
        raise BadRequestData("notification.sysAttrs must be true or false")
    out["sysAttrs"] = value.get("sysAttrs", False)
    endpoint = value.get("endpoint")
    if not isinstance(endpoint, dict):
        raise BadRequestData("notification.endpoint is mandatory")
    uri = _uri(endpoint.get("uri"), "notification.endpoint.uri")
    if urlsplit(uri).scheme not in ("http", "https", "mqtt", "mqtts"):
        raise BadRequestData("notification.endpoint.uri must be http(s):// or mqtt(s)://")
    accept = endpoint.get("accept", "application/json")
    if accept not in ACCEPTS:
        raise BadRequestData(f"notification.endpoint.accept must be one of {', '.join(ACCEPTS)}")
    out["endpoint"] = {"uri": uri, "accept": accept}
    for key in ("receiverInfo", "notifierInfo"):
        if key in endpoint:
            pairs = endpoint[key]
            if not isinstance(pairs, list) or not all(
                    isinstance(p, dict) and isinstance(p.get("key"), str) and isinstance(p.get("value"), str)
                    and re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", p["key"]) for p in pairs):
                raise BadRequestData(f"notification.endpoint.{key} must be a list of {{key, value}} strings")
            out["endpoint"][key] = [{"key": p["key"], "value": p["value"]} for p in pairs]
    if "timeout" in endpoint:
        out["endpoint"]["timeout"] = _positive(endpoint["timeout"], "notification.endpoint.timeout")
    return out


def validate(body: Any, tm: TermMap) -> dict[str, Any]:
    """The expanded definition of a subscription body; BadRequestData when it is not valid."""
    if not isinstance(body, dict):
        raise BadRequestData("A subscription must be a JSON object")
    unknown = set(body) - MEMBERS
    if unknown:
        raise BadRequestData(f"Unknown subscription members: {', '.join(sorted(unknown))[:200]}")
    if body.get("type") != "Subscription":
        raise BadRequestData("type must be 'Subscription'")
    out: dict[str, Any] = {}
    if "entities" in body:
        out["entities"] = _entities(body["entities"], tm)
    if "watchedAttributes" in body:
        out["watchedAttributes"] = _names(body["watchedAttributes"], "watchedAttributes", tm)
    if "timeInterval" in body:
        out["timeInterval"] = _positive(body["timeInterval"], "timeInterval")
        if "watchedAttributes" in body or "throttling" in body:
            raise BadRequestData("timeInterval cannot be combined with watchedAttributes or throttling")
        if "entities" not in body:
            raise BadRequestData("A periodic subscription needs entities")
    elif "entities" not in body and "watchedAttributes" not in body:
        raise BadRequestData("A subscription needs entities or watchedAttributes")
    if "throttling" in body:
        out["throttling"] = _positive(body["throttling"], "throttling")
    triggers = body.get("notificationTrigger", DEFAULT_TRIGGERS)
    if not isinstance(triggers, list) or not triggers or any(t not in TRIGGERS for t in triggers):
        raise BadRequestData(f"notificationTrigger must be a non-empty list of {', '.join(TRIGGERS)}")
    out["notificationTrigger"] = list(triggers)
    if "q" in body:
        if not isinstance(body["q"], str):
            raise BadRequestData("q must be a string")
        out["q"] = unquote(body["q"])  # a q copied from a URL keeps its percent-encoding (name=="a%20b")
        query_language.compile_q(query_language.parse_q(out["q"]), tm.expand)
    if "scopeQ" in body:
        if not isinstance(body["scopeQ"], str):
            raise BadRequestData("scopeQ must be a string")
        query_language.parse_scope_q(body["scopeQ"])
        out["scopeQ"] = body["scopeQ"]
    if "geoQ" in body:
        g = body["geoQ"]
        if not isinstance(g, dict) or set(g) - {"georel", "geometry", "coordinates", "geoproperty"}:
            raise BadRequestData("geoQ must be an object with georel, geometry, coordinates (and geoproperty)")
        prop = g.get("geoproperty")
        out["geoQ"] = {**g, "geoproperty": tm.expand(check_name(prop)) if isinstance(prop, str) else LOCATION}
        if geo.parse_geoquery(g.get("georel"), g.get("geometry"), g.get("coordinates"), "x") is None:
            raise BadRequestData("geoQ needs georel, geometry and coordinates")
    if "expiresAt" in body:
        if parse_time(body["expiresAt"], "expiresAt") <= utcnow():
            raise BadRequestData("expiresAt must be in the future")
        out["expiresAt"] = body["expiresAt"]
    if not isinstance(body.get("isActive", True), bool):
        raise BadRequestData("isActive must be true or false")
    out["isActive"] = body.get("isActive", True)
    if "datasetId" in body:
        ids = body["datasetId"]
        if not isinstance(ids, list) or not ids or not all(i == "@none" or is_uri(i) for i in ids):
            raise BadRequestData("datasetId must be a non-empty list of URIs (or @none for the default instances)")
        out["datasetId"] = list(ids)
    if "jsonldContext" in body:
        out["jsonldContext"] = _uri(body["jsonldContext"], "jsonldContext")
    for key in ("lang", "subscriptionName", "description"):
        if key in body:
            if not isinstance(body[key], str):
                raise BadRequestData(f"{key} must be a string")
            out[key] = body[key]
    out["notification"] = _notification(body.get("notification"), tm)
    return out


# --- storage -------------------------------------------------------------------------------------


def create(session: Session, *, tenant: str, body: Any, context: Any, tm: TermMap) -> str:
    expanded = validate(body, tm)
    sub_id = body["id"] if "id" in body else f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    if len(_uri(sub_id, "id")) > 1024:
        raise BadRequestData("id is too long")
    if load(session, tenant, sub_id) is not None:
        raise AlreadyExists(f"Subscription {sub_id} already exists")
    raw = {k: v for k, v in body.items() if k not in ("@context", "status", "createdAt", "modifiedAt")}
    raw["id"] = sub_id
    session.add(NgsiSubscription(tenant=tenant, sub_id=sub_id,
                                 definition={"raw": raw, "context": context, "expanded": expanded}))
    session.flush()
    return sub_id


def load(session: Session, tenant: str, sub_id: str) -> NgsiSubscription | None:
    return session.scalars(select(NgsiSubscription).where(
        NgsiSubscription.tenant == tenant, NgsiSubscription.sub_id == sub_id)).first()


def get(session: Session, tenant: str, sub_id: str) -> NgsiSubscription:
    _uri(sub_id, "The subscription id")
    row = load(session, tenant, sub_id)
    if row is None:
        raise ResourceNotFound(f"No subscription {sub_id}")
    return row


def update(session: Session, *, tenant: str, sub_id: str, patch: Any, tm: TermMap) -> None:
    row = get(session, tenant, sub_id)
    if not isinstance(patch, dict) or not patch:
        raise BadRequestData("The patch must be a non-empty JSON object")
    if "id" in patch and patch["id"] != sub_id:
        raise BadRequestData("The id of a subscription cannot change")
    raw = copy.deepcopy(row.definition["raw"])
    for key, value in patch.items():
        if key in ("@context", "status", "createdAt", "modifiedAt"):
            continue
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    expanded = validate(raw, tm)
    row.definition = {"raw": raw, "context": row.definition.get("context"), "expanded": expanded}
    row.modified_at = utcnow()
    if "expiresAt" in patch or "isActive" in patch:
        row.last_matched = None


def delete(session: Session, tenant: str, sub_id: str) -> None:
    session.delete(get(session, tenant, sub_id))


def page(session: Session, tenant: str, limit: int, offset: int) -> tuple[list[NgsiSubscription], int]:
    return page_of(session, NgsiSubscription, tenant, limit, offset)


def page_of(session: Session, model: type[Row], tenant: str, limit: int, offset: int) -> tuple[list[Row], int]:
    """One page of a tenant's subscriptions of ``model`` (entity or context source) in id order, and how many
    there are."""
    where = model.tenant == tenant
    total = session.scalar(select(func.count()).select_from(model).where(where)) or 0
    rows = session.scalars(select(model).where(where).order_by(model.id).offset(offset).limit(limit)).all()
    return list(rows), total


def status(row: Any, at: datetime | None = None) -> str:
    """``expired``, ``active`` or ``paused``: of an entity or a context source subscription."""
    expanded = row.definition["expanded"]
    if "expiresAt" in expanded and parse_time(expanded["expiresAt"], "expiresAt") <= (at or utcnow()):
        return "expired"
    return "active" if expanded.get("isActive", True) else "paused"


def _compact_terms(out: dict[str, Any], expanded: dict[str, Any], tm: TermMap) -> None:
    """Show entity types and attribute names as the caller's @context names them (clause 5.8.3)."""
    for item, selector in zip(out.get("entities") or [], expanded.get("entities") or [], strict=False):
        if isinstance(item, dict) and isinstance(selector.get("type"), str):
            item["type"] = tm.compact(selector["type"])
    if "watchedAttributes" in expanded:
        out["watchedAttributes"] = [tm.compact(i) for i in expanded["watchedAttributes"]]
    note, notification = expanded.get("notification", {}), out.get("notification")
    if isinstance(notification, dict):
        for key in ("attributes", "pick", "omit"):
            if key in note:
                notification[key] = [n if n in ENTITY_MEMBER_NAMES else tm.compact(n) for n in note[key]]
    if isinstance(out.get("geoQ"), dict) and "geoproperty" in out["geoQ"]:
        out["geoQ"]["geoproperty"] = tm.compact(expanded["geoQ"]["geoproperty"])


def render(row: NgsiSubscription, tm: TermMap | None = None) -> dict[str, Any]:
    """The subscription as the API shows it; with ``tm``, its terms compacted with the caller's @context."""
    out = copy.deepcopy(row.definition["raw"])
    if tm is not None:
        _compact_terms(out, row.definition["expanded"], tm)
    out["type"] = "Subscription"
    out["status"] = status(row)
    out.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
    notification = out.setdefault("notification", {})
    notification.setdefault("format", "normalized")
    notification.setdefault("endpoint", {}).setdefault("accept", "application/json")
    delivery_status(notification, row)
    return out


def delivery_status(notification: dict[str, Any], row: Any) -> None:
    """Add what the delivery of an entity or a context source subscription did to its ``notification`` member:
    timesSent, timesFailed, lastNotification, lastSuccess, lastFailure and status."""
    for key, count in (("timesSent", row.times_sent), ("timesFailed", row.times_failed)):
        if count:
            notification[key] = count
    for key, at in (("lastNotification", row.last_notification), ("lastSuccess", row.last_success),
                    ("lastFailure", row.last_failure)):
        if at is not None:
            notification[key] = now_text(at)
    if row.times_sent:
        notification["status"] = "failed" if row.last_failure and (
            not row.last_success or row.last_failure > row.last_success) else "ok"
