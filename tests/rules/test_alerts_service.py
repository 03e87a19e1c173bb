"""The alert service the rule engine calls: deduplication per rule and subject, the lifecycle, counts and lists."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from saola.core.db import unit_of_work, write_intent
from saola.rules import alert_errors, alerts
from saola.rules.alert_models import Alert, AlertEvent

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SUBJECT = "urn:ngsi-ld:AirQualityObserved:bn-09190-0001"
AQ = "https://uri.etsi.org/ngsi-ld/default-context/AirQualityObserved"


def fields(**more: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "rule_id": 7, "rule_version": 1, "tenant": "", "subject": SUBJECT, "entity_type": AQ, "severity": "major",
        "title_vi": "PM2.5 vượt 55 µg/m³", "title_en": "PM2.5 above 55 µg/m³", "value": 61.5,
        "details": {"attribute": "pm25"}, "owner_agency": "SYT", "incident_type": None,
        "location": {"type": "Point", "coordinates": [106.07, 21.18]}}
    return base | more


def raise_(app, at: datetime = T0, **more: Any) -> tuple[int, list[str]]:
    events: list[tuple[str, dict[str, Any]]] = []
    with unit_of_work(app.state.session_factory, events=events) as session:
        alert = alerts.raise_alert(session, at=at, **fields(**more))
        pk = alert.id
    return pk, [topic for topic, _ in events]


def clear_(app, at: datetime, rule_id: int = 7, subject: str = SUBJECT) -> tuple[int | None, list[str]]:
    events: list[tuple[str, dict[str, Any]]] = []
    with unit_of_work(app.state.session_factory, events=events) as session:
        alert = alerts.clear_alert(session, rule_id=rule_id, subject=subject, at=at, reason="back below 45")
        pk = alert.id if alert else None
    return pk, [topic for topic, _ in events]


def get(app, pk: int) -> Alert:
    with unit_of_work(app.state.session_factory) as session:
        alert = session.get(Alert, pk)
        assert alert is not None
        session.expunge(alert)
        return alert


def kinds(app, pk: int) -> list[str]:
    with unit_of_work(app.state.session_factory) as session:
        return [e.kind for e in alerts.timeline(session, alert_id=pk)]


def test_raising_again_for_the_same_rule_and_subject_updates_the_open_alert(app) -> None:
    first, topics1 = raise_(app)
    second, topics2 = raise_(app, at=T0 + timedelta(minutes=1), value=70.2)
    assert first == second
    assert topics1 == ["alert.raised"] and topics2 == ["alert.updated"]
    alert = get(app, first)
    assert (alert.occurrences, alert.value, alert.started_at, alert.last_seen_at) == (2, 70.2, T0, T0 + timedelta(
        minutes=1))
    assert kinds(app, first) == ["raised"]


def test_another_subject_or_another_rule_gets_its_own_alert(app) -> None:
    a, _ = raise_(app)
    b, _ = raise_(app, subject="urn:ngsi-ld:AirQualityObserved:bn-09190-0002")
    c, _ = raise_(app, rule_id=8)
    assert len({a, b, c}) == 3


def test_a_severity_change_of_an_open_alert_is_recorded_in_its_timeline(app) -> None:
    pk, _ = raise_(app)
    raise_(app, at=T0 + timedelta(minutes=2), severity="critical")
    assert get(app, pk).severity == "critical"
    assert kinds(app, pk) == ["raised", "updated"]


def test_the_engine_clears_an_alert_and_a_new_firing_opens_a_new_one(app) -> None:
    pk, _ = raise_(app)
    cleared, topics = clear_(app, T0 + timedelta(minutes=5))
    assert cleared == pk and topics == ["alert.cleared"]
    alert = get(app, pk)
    assert alerts.display_state(alert) == "cleared-unacknowledged"
    assert (alert.cleared_by, alert.cleared_reason) == ("rule 7", "back below 45")
    again, topics = raise_(app, at=T0 + timedelta(minutes=9))
    assert again != pk and topics == ["alert.raised"]


def test_clearing_when_nothing_is_open_does_nothing(app) -> None:
    assert clear_(app, T0) == (None, [])
    pk, _ = raise_(app)
    clear_(app, T0 + timedelta(minutes=1))
    assert clear_(app, T0 + timedelta(minutes=2)) == (None, [])
    assert kinds(app, pk) == ["raised", "cleared"]


def test_active_acknowledged_cleared(app) -> None:
    pk, _ = raise_(app)
    with unit_of_work(app.state.session_factory) as session:
        alert = alerts.acknowledge(session, alert_id=pk, actor="operator", now=T0 + timedelta(minutes=1), note="seen")
        assert alert.state == "acknowledged"
    clear_(app, T0 + timedelta(minutes=3))
    alert = get(app, pk)
    assert (alert.state, alerts.display_state(alert), alert.acknowledged_by) == ("cleared", "cleared", "operator")
    assert kinds(app, pk) == ["raised", "acknowledged", "cleared"]


def test_a_cleared_unacknowledged_alert_can_still_be_acknowledged_once(app) -> None:
    pk, _ = raise_(app)
    clear_(app, T0 + timedelta(minutes=1))
    with unit_of_work(app.state.session_factory) as session:
        alert = alerts.acknowledge(session, alert_id=pk, actor="operator", now=T0 + timedelta(minutes=2))
        assert (alert.state, alerts.display_state(alert)) == ("cleared", "cleared")
    with pytest.raises(alert_errors.AlertAlreadyAcknowledged), unit_of_work(app.state.session_factory) as session:
        alerts.acknowledge(session, alert_id=pk, actor="operator", now=T0 + timedelta(minutes=3))
    assert kinds(app, pk) == ["raised", "cleared", "acknowledged"]


@pytest.mark.parametrize(("moves", "error"), [
    (["acknowledge", "acknowledge"], alert_errors.AlertAlreadyAcknowledged),
    (["clear", "clear"], alert_errors.AlertAlreadyCleared),
    (["acknowledge", "clear", "escalate"], alert_errors.InvalidAlertTransition),
    (["acknowledge", "escalate"], alert_errors.InvalidAlertTransition),
])
def test_illegal_moves_raise_before_anything_is_saved(app, moves: list[str], error: type[Exception]) -> None:
    pk, _ = raise_(app)
    for step, action in enumerate(moves):
        with unit_of_work(app.state.session_factory) as session:
            alert = alerts.lock_alert(session, alert_id=pk)
            if step < len(moves) - 1:
                alerts.transition(session, alert=alert, action=action, actor="operator", now=T0, note="ok")
                continue
            before = (alert.state, alert.acknowledged_at, alert.cleared_at, alert.escalation_level)
            with pytest.raises(error):
                alerts.transition(session, alert=alert, action=action, actor="operator", now=T0, note="again")
    after = get(app, pk)
    assert (after.state, after.acknowledged_at, after.cleared_at, after.escalation_level) == before
    assert len(kinds(app, pk)) == len(moves)  # raised + the legal moves, nothing for the refused one


def test_every_state_has_its_moves_and_cleared_is_terminal() -> None:
    assert set(alerts.TRANSITIONS) == {"active", "acknowledged", "cleared"}
    reachable = {to for moves in alerts.TRANSITIONS.values() for to in moves.values()}
    assert reachable == {"active", "acknowledged", "cleared"}
    assert all(alerts.TRANSITIONS["cleared"][a] == "cleared" for a in alerts.TRANSITIONS["cleared"])
    assert {"cleared"} == alerts.TERMINAL


def test_an_unknown_severity_or_empty_subject_is_refused(app) -> None:
    with pytest.raises(alert_errors.InvalidAlertValue), unit_of_work(app.state.session_factory) as session:
        alerts.raise_alert(session, at=T0, **fields(severity="urgent"))
    with pytest.raises(alert_errors.InvalidAlertValue), unit_of_work(app.state.session_factory) as session:
        alerts.raise_alert(session, at=T0, **fields(subject=" "))
    with unit_of_work(app.state.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_counts_lists_and_the_alerts_of_a_subject(app) -> None:
    a, _ = raise_(app, severity="critical")
    b, _ = raise_(app, rule_id=8, severity="major")
    c, _ = raise_(app, rule_id=9, severity="major", subject="area:09190")
    clear_(app, T0 + timedelta(minutes=1), rule_id=9, subject="area:09190")
    with unit_of_work(app.state.session_factory) as session:
        alerts.acknowledge(session, alert_id=b, actor="operator", now=T0)
        assert alerts.active_counts(session) == {"critical": 1, "major": 1, "minor": 0, "warning": 0, "info": 0}
        assert [x.id for x in alerts.list_alerts(session)] == [a, b, c]  # open first, most severe first
        assert [x.id for x in alerts.list_alerts(session, states=["cleared-unacknowledged"])] == [c]
        assert [x.id for x in alerts.list_alerts(session, states=["active"], severity="critical")] == [a]
        assert alerts.count_alerts(session, severity=["major"]) == 2
        assert [x.id for x in alerts.alerts_for_subject(session, subject=SUBJECT, limit=10)] == [b, a]  # newest first
        with pytest.raises(alert_errors.InvalidAlertValue):
            alerts.list_alerts(session, states=["open-ish"])


def test_the_event_payload_carries_what_the_console_and_incidents_need(app) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    with unit_of_work(app.state.session_factory, events=events) as session:
        alerts.raise_alert(session, at=T0, **fields(incident_type="air_pollution", severity="critical"))
    (topic, body), = events
    assert topic == "alert.raised"
    assert {"id", "rule_id", "subject", "entity_type", "severity", "state", "title_vi", "title_en", "at", "location",
            "owner_agency", "incident_type"} <= set(body)
    assert (body["incident_type"], body["state"], body["at"]) == ("air_pollution", "active", T0.isoformat())


def test_two_engines_raising_the_same_alert_at_once_make_one_alert(app) -> None:
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def worker(value: float) -> None:
        try:
            barrier.wait(5)
            with write_intent(), unit_of_work(app.state.session_factory) as session:
                alerts.raise_alert(session, at=T0, **fields(value=value))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(v,)) for v in (60.0, 62.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not failures
    with unit_of_work(app.state.session_factory) as session:
        rows = list(session.scalars(select(Alert)))
        assert len(rows) == 1 and rows[0].occurrences == 2
        assert session.scalar(select(func.count()).select_from(AlertEvent)) == 1
