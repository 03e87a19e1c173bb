"""Routing rules of the 1022 hotline: which agency a categorised report goes to (table and use cases).

A rule has a position, a name, an ``active`` flag, conditions and a target agency. Its conditions
are all optional and all must hold: the report's category, the category's field, the report's
ward (official codes of the shipped 2025 wards; since the 2025 reform the province has wards and
communes only, no districts, so a ward list is the administrative condition), the weekdays and a
time-of-day window in local time (Asia/Ho_Chi_Minh). A window whose end is before its start runs
across midnight, and its hours after midnight belong to the day it started: "Friday 22:00–06:00"
holds at 02:00 on Saturday. The active rules are tried in order and the first that matches wins;
when none does the report goes to its category's agency (the behaviour before rules existed). A
matching rule whose agency was deactivated is passed over and named in the decision (recorded in
the case history), never silently. :func:`route` is used by :func:`saola.feedback.reports.submit`
and :func:`saola.feedback.triage.categorise`; the rest is the rules' administration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Time, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from saola.core.calendar.working import VN_TZ
from saola.core.db import Base, UTCDateTime, utcnow
from saola.core.directory.models import Agency
from saola.feedback import geo
from saola.feedback.errors import InvalidRoutingQuery, InvalidRoutingRule, RoutingRuleNotFound, TriageAgencyMissing
from saola.feedback.models import FeedbackCategory, FeedbackField
from saola.feedback.routing_schemas import RoutingRuleIn, RoutingRuleUpdate

LOCAL_TZ = ZoneInfo(VN_TZ)
CONDITIONS = ("category_id", "field_id", "ward_codes", "weekdays", "time_from", "time_to")


class FeedbackRoutingRule(Base):
    """One routing rule: conditions (empty = any) and the agency reports matching them go to."""

    __tablename__ = "feedback_routing_rules"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_categories.id"), default=None)
    field_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_fields.id"), default=None)
    ward_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)  # ISO: 1 = Monday … 7 = Sunday
    time_from: Mapped[time | None] = mapped_column(Time, default=None)
    time_to: Mapped[time | None] = mapped_column(Time, default=None)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@dataclass
class Decision:
    """Where a report goes: the agency, the rule that chose it (``None``: the category's agency)."""

    agency: Agency
    rule: FeedbackRoutingRule | None = None
    passed_over: list[str] = field(default_factory=list)  # matching rules whose agency is inactive

    def history(self) -> dict[str, Any]:
        """What the case history keeps of the decision."""
        out: dict[str, Any] = {"routing_rule_id": self.rule.id if self.rule else None,
                               "routing_rule": self.rule.name if self.rule else None}
        if self.passed_over:
            out["routing_rules_passed_over"] = list(self.passed_over)
        return out

    def reason(self, fallback: str) -> str:
        return f"Routed by rule '{self.rule.name}'" if self.rule else fallback


# --- matching ----------------------------------------------------------------------------------


def in_window(*, weekdays: Sequence[int], start: time | None, end: time | None, local: datetime) -> bool:
    """Whether local time ``local`` is on one of ``weekdays`` (empty: any) inside ``start``–``end`` (None: all day)."""
    now, day = local.time().replace(tzinfo=None), local.isoweekday()
    if start is not None and end is not None:
        if start < end:
            if not start <= now < end:
                return False
        elif now < end:  # the part after midnight of a night that began the day before
            day = 7 if day == 1 else day - 1
        elif now < start:
            return False
    return not weekdays or day in weekdays


def matches(rule: FeedbackRoutingRule, *, category: FeedbackCategory | None, ward_code: str | None,
            local: datetime) -> bool:
    """Whether every condition of ``rule`` holds for a report of ``category`` in ``ward_code`` at ``local``."""
    if rule.category_id is not None and (category is None or category.id != rule.category_id):
        return False
    if rule.field_id is not None and (category is None or category.field_id != rule.field_id):
        return False
    if rule.ward_codes and ward_code not in rule.ward_codes:
        return False
    return in_window(weekdays=rule.weekdays or [], start=rule.time_from, end=rule.time_to, local=local)


def route(session: Session, *, category: FeedbackCategory, ward_code: str | None, at: datetime) -> Decision:
    """The agency a report of ``category`` in ``ward_code`` goes to at ``at``: first matching active rule wins."""
    local = at.astimezone(LOCAL_TZ)
    passed_over: list[str] = []
    for rule in list_rules(session, active_only=True):
        if not matches(rule, category=category, ward_code=ward_code, local=local):
            continue
        agency = session.get(Agency, rule.agency_id)
        if agency is not None and agency.active:
            return Decision(agency=agency, rule=rule, passed_over=passed_over)
        passed_over.append(rule.name)
    agency = session.get(Agency, category.agency_id)
    assert agency is not None  # categories reference an existing agency (foreign key)
    return Decision(agency=agency, passed_over=passed_over)


@dataclass
class Answer:
    """A dry run: the decision, the ward found and the local time it was taken for."""

    decision: Decision
    ward: geo.Ward | None
    local: datetime
    triage: bool = False


def explain(session: Session, *, service_code: str | None, lat: float | None, lon: float | None,
            ward_code: str | None, at: datetime, triage_agency: str) -> Answer:
    """Which agency a report would go to (nothing is saved); a naive ``at`` is local time."""
    errors: list[dict[str, str]] = []
    category = None
    if service_code:
        category = session.scalar(select(FeedbackCategory).where(FeedbackCategory.service_code == service_code))
        if category is None:
            errors.append({"field": "service_code", "message": f"no category has the code '{service_code}'"})
    ward = None
    if (lat is None) != (lon is None):
        errors.append({"field": "long" if lon is None else "lat", "message": "give both lat and long"})
    elif lat is not None and lon is not None:
        ward = geo.ward_at(lat, lon)
        if ward is None:
            errors.append({"field": "location", "message": "the point is outside the area this hotline serves"})
    elif ward_code:
        ward = geo.ward_by_code(ward_code)
        if ward is None:
            errors.append({"field": "ward_code", "message": f"no ward of the province has the code '{ward_code}'"})
    try:
        local = (at.replace(tzinfo=LOCAL_TZ) if at.tzinfo is None else at).astimezone(LOCAL_TZ)
    except (OverflowError, ValueError):  # beyond year 1 or 9999 once in local time
        errors.append({"field": "at", "message": "the moment is out of range"})
    if errors:
        raise InvalidRoutingQuery(errors, "The routing question is not valid")
    if category is None:
        agency = session.scalar(select(Agency).where(Agency.code == triage_agency))
        if agency is None:
            raise TriageAgencyMissing("No agency has the code '{code}' (SAOLA_FEEDBACK_TRIAGE_AGENCY)",
                                      code=triage_agency)
        return Answer(decision=Decision(agency=agency), ward=ward, local=local, triage=True)
    decision = route(session, category=category, ward_code=ward.code if ward else None, at=local)
    return Answer(decision=decision, ward=ward, local=local)


# --- administration ----------------------------------------------------------------------------


def list_rules(session: Session, *, active_only: bool = False) -> list[FeedbackRoutingRule]:
    """The rules in the order they are tried."""
    stmt = select(FeedbackRoutingRule).order_by(FeedbackRoutingRule.position, FeedbackRoutingRule.id)
    if active_only:
        stmt = stmt.where(FeedbackRoutingRule.active.is_(True))
    return list(session.scalars(stmt))


def get_rule(session: Session, *, rule_id: int) -> FeedbackRoutingRule:
    found = session.get(FeedbackRoutingRule, rule_id)
    if found is None:
        raise RoutingRuleNotFound("No routing rule with id {rule_id}", rule_id=rule_id)
    return found


def _agency(session: Session, values: dict[str, Any], errors: list[dict[str, str]]) -> int | None:
    code, agency_id = values.pop("agency_code", None), values.pop("agency_id", None)
    if code is None and agency_id is None:
        errors.append({"field": "agency_code", "message": "give the agency (agency_code or agency_id)"})
        return None
    stmt = select(Agency).where(Agency.code == code) if code is not None else select(Agency).where(
        Agency.id == agency_id)
    agency = session.scalar(stmt)
    if agency is None or not agency.active:
        name = "agency_code" if code is not None else "agency_id"
        errors.append({"field": name, "message": f"no active agency '{code if code is not None else agency_id}'"})
        return None
    return agency.id


def _conditions(session: Session, values: dict[str, Any], errors: list[dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    service_code, field_code = values.pop("service_code", None), values.pop("field_code", None)
    category = None
    if service_code is not None:
        category = session.scalar(select(FeedbackCategory).where(FeedbackCategory.service_code == service_code))
        if category is None:
            errors.append({"field": "service_code", "message": f"no category has the code '{service_code}'"})
    out["category_id"] = category.id if category else None
    fld = None
    if field_code is not None:
        fld = session.scalar(select(FeedbackField).where(FeedbackField.code == field_code))
        if fld is None:
            errors.append({"field": "field_code", "message": f"no field has the code '{field_code}'"})
        elif category is not None and category.field_id != fld.id:
            errors.append({"field": "field_code", "message": "the category is not in this field: the rule "
                                                             "could never match"})
    out["field_id"] = fld.id if fld else None
    wards = list(dict.fromkeys(values.pop("ward_codes", None) or []))
    unknown = [w for w in wards if geo.ward_by_code(w) is None]
    if unknown:
        errors.append({"field": "ward_codes", "message": "no ward of the province has the code "
                                                         + ", ".join(f"'{w}'" for w in unknown[:10])})
    out["ward_codes"] = wards
    out["weekdays"] = sorted(set(values.pop("weekdays", None) or []))
    start, end = values.pop("time_from", None), values.pop("time_to", None)
    if (start is None) != (end is None):
        errors.append({"field": "time_to" if end is None else "time_from",
                       "message": "a time window needs both time_from and time_to"})
    elif start is not None and start == end:
        errors.append({"field": "time_to", "message": "the window is empty: time_to equals time_from"})
    out["time_from"], out["time_to"] = start, end
    return out


def _values(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Column values of a rule from the request's codes; :class:`InvalidRoutingRule` lists every problem."""
    errors: list[dict[str, str]] = []
    values = dict(data)
    agency_id = _agency(session, values, errors)
    out = _conditions(session, values, errors)
    if errors:
        raise InvalidRoutingRule(errors, "The routing rule is not valid")
    return {**values, **out, "agency_id": agency_id}


def _place(session: Session, rule: FeedbackRoutingRule, position: int | None) -> None:
    """Put ``rule`` at ``position`` (1-based; ``None`` or beyond the end: last) and number the rules 1…n."""
    others = [r for r in list_rules(session) if r.id != rule.id]
    index = len(others) if position is None else min(max(position, 1) - 1, len(others))
    for number, item in enumerate([*others[:index], rule, *others[index:]], start=1):
        if item.position != number:
            item.position = number


def create_rule(session: Session, *, actor: Any, data: RoutingRuleIn) -> FeedbackRoutingRule:
    """A new rule at ``data.position`` (last when not given)."""
    values = _values(session, data.model_dump(exclude={"position"}))
    count = session.scalar(select(func.count()).select_from(FeedbackRoutingRule)) or 0
    rule = FeedbackRoutingRule(position=count + 1, **values)
    session.add(rule)
    session.flush()
    _place(session, rule, data.position)
    session.flush()
    return rule


def _current(rule: FeedbackRoutingRule, session: Session) -> dict[str, Any]:
    category = session.get(FeedbackCategory, rule.category_id) if rule.category_id else None
    fld = session.get(FeedbackField, rule.field_id) if rule.field_id else None
    return {"name": rule.name, "active": rule.active, "service_code": category.service_code if category else None,
            "field_code": fld.code if fld else None, "ward_codes": list(rule.ward_codes or []),
            "weekdays": list(rule.weekdays or []), "time_from": rule.time_from, "time_to": rule.time_to,
            "agency_id": rule.agency_id}


def update_rule(session: Session, *, actor: Any, rule_id: int, data: RoutingRuleUpdate) -> FeedbackRoutingRule:
    """Change the fields given (``null`` clears a condition); the whole rule is checked again."""
    rule = get_rule(session, rule_id=rule_id)
    changes = data.model_dump(exclude_unset=True)
    position = changes.pop("position", None)
    merged = _current(rule, session)
    if "agency_code" in changes or "agency_id" in changes:
        merged.pop("agency_id")
    merged.update({k: v for k, v in changes.items() if v is not None or k not in ("name", "active")})
    for name, value in _values(session, merged).items():
        if getattr(rule, name) != value:
            setattr(rule, name, value)
    if position is not None:
        _place(session, rule, position)
    session.flush()
    return rule


def delete_rule(session: Session, *, actor: Any, rule_id: int) -> None:
    """Remove a rule (the history of the reports it routed keeps its name)."""
    session.delete(get_rule(session, rule_id=rule_id))
    session.flush()
    for number, item in enumerate(list_rules(session), start=1):
        if item.position != number:
            item.position = number
    session.flush()


def reorder(session: Session, *, actor: Any, ids: list[int]) -> list[FeedbackRoutingRule]:
    """Number the rules in the order of ``ids``, which must name every rule exactly once."""
    rules = {r.id: r for r in list_rules(session)}
    if len(ids) != len(set(ids)) or set(ids) != set(rules):
        raise InvalidRoutingRule([{"field": "ids", "message": "list every rule's id exactly once"}],
                                 "The new order must list every rule exactly once")
    for number, rule_id in enumerate(ids, start=1):
        if rules[rule_id].position != number:
            rules[rule_id].position = number
    session.flush()
    return [rules[i] for i in ids]
