"""The rules store's service, as the engine and the demo use it: ``create_rule``, ``enabled_rules``, events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from saola.cases.actors import SYSTEM
from saola.core.db import take_committed_events
from saola.rules import alerts, service
from saola.rules.definitions import RuleDefinition
from saola.rules.errors import InvalidRule, RuleArchived
from saola.rules.models import Rule

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def definition(value: float = 55, **extra: object) -> RuleDefinition:
    return RuleDefinition.model_validate({
        "name": "PM2.5", "severity": "major", "entity_type": "AirQualityObserved",
        "condition": {"kind": "threshold", "attribute": "pm25", "op": ">", "value": value}, **extra})


def events(session) -> list[tuple[str, dict]]:
    session.commit()
    return take_committed_events(session)


def test_enabled_rules_follow_creation_versions_switches_and_archiving(db) -> None:
    on = service.create_rule(db, definition=definition(), actor=SYSTEM, enabled=True, now=NOW)
    off = service.create_rule(db, definition=definition(80), actor=SYSTEM, now=NOW)
    assert events(db) == [("rule.changed", {"id": on.id, "version": 1, "enabled": True, "archived": False}),
                          ("rule.changed", {"id": off.id, "version": 1, "enabled": False, "archived": False})]
    loaded = service.enabled_rules(db)
    assert loaded == [service.LoadedRule(rule_id=on.id, version=1, definition=definition())]
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded[0].version = 3  # type: ignore[misc]

    service.update_rule(db, rule_id=on.id, definition=definition(60), actor=SYSTEM, now=NOW + timedelta(hours=1))
    service.set_enabled(db, rule_id=off.id, enabled=True, actor=SYSTEM, now=NOW)
    assert events(db) == [("rule.changed", {"id": on.id, "version": 2, "enabled": True, "archived": False}),
                          ("rule.changed", {"id": off.id, "version": 1, "enabled": True, "archived": False})]
    assert [(r.rule_id, r.version, r.definition.condition.value) for r in service.enabled_rules(db)] == [
        (on.id, 2, 60), (off.id, 1, 80)]

    service.set_enabled(db, rule_id=on.id, enabled=True, actor=SYSTEM, now=NOW)  # already on: nothing to say
    service.delete_rule(db, rule_id=off.id, actor=SYSTEM, now=NOW)
    assert events(db) == [("rule.changed", {"id": off.id, "version": 1, "enabled": False, "archived": True})]
    assert [r.rule_id for r in service.enabled_rules(db)] == [on.id]
    with pytest.raises(RuleArchived):
        service.set_enabled(db, rule_id=off.id, enabled=True, actor=SYSTEM, now=NOW)
    assert [v.version for v in service.versions(db, rule_id=on.id)] == [2, 1]
    assert service.get_rule(db, rule_id=on.id).created_by == "system"


def test_a_stored_definition_that_no_longer_validates_does_not_stop_the_others(db, caplog) -> None:
    broken = service.create_rule(db, definition=definition(), actor=SYSTEM, enabled=True, now=NOW)
    fine = service.create_rule(db, definition=definition(70), actor=SYSTEM, enabled=True, now=NOW)
    db.execute(update(Rule).where(Rule.id == broken.id).values(definition={"name": "old shape"}))
    db.commit()
    assert [r.rule_id for r in service.enabled_rules(db)] == [fine.id]
    assert f"rule {broken.id} version 1 no longer validates" in caplog.text


def test_service_refuses_unknown_wards_before_storing(db) -> None:
    with pytest.raises(InvalidRule) as refused:
        service.create_rule(db, definition=definition(area={"ward_code": "00000"}), actor=SYSTEM, now=NOW)
    assert refused.value.errors[0]["field"] == "area.ward_code"
    assert service.list_rules(db) == []
    with pytest.raises(InvalidRule):
        service.parse_definition({"name": "x"})


def test_last_fired_is_the_latest_alert_of_each_rule(db) -> None:
    rule = service.create_rule(db, definition=definition(), actor=SYSTEM, enabled=True, now=NOW)
    quiet = service.create_rule(db, definition=definition(90), actor=SYSTEM, enabled=True, now=NOW)
    for minutes, subject in [(5, "urn:ngsi-ld:AirQualityObserved:a"), (30, "urn:ngsi-ld:AirQualityObserved:b")]:
        alerts.raise_alert(db, rule_id=rule.id, rule_version=1, tenant="", subject=subject,
                           entity_type="AirQualityObserved", severity="major", title_vi="PM2.5", title_en="PM2.5",
                           value=70, details={}, at=NOW + timedelta(minutes=minutes), owner_agency=None,
                           location=None, incident_type=None)
    db.commit()
    fired = service.last_fired(db, rule_ids=[rule.id, quiet.id])
    assert fired == {rule.id: NOW + timedelta(minutes=30)}
