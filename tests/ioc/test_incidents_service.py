"""The incident service and workflow as data: every status reachable, closed terminal, each move's guard checked
before anything changes; types and SOP checklists loaded from the data file; the console's queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from saola.cases.actors import SystemActor
from saola.core.db import unit_of_work, utcnow
from saola.core.i18n import gettext
from saola.ioc import incident_workflow as workflow
from saola.ioc import incidents
from saola.ioc.after_action import build, duration_text
from saola.ioc.errors import IncidentClosed, InvalidIncidentTransition, ReasonRequired, ResolutionRequired
from saola.ioc.incident_models import Incident, IncidentEvent
from saola.ioc.incident_types import SEVERITIES, UNIT_KINDS, incident_types
from tests.ioc.incident_helpers import POINT

SYSTEM = SystemActor(name="system: test")


def test_every_status_is_reachable_and_only_closed_is_terminal() -> None:
    assert workflow.reachable() == set(workflow.STATUSES)
    assert {"closed"} == workflow.TERMINAL and workflow.moves_from("closed") == ()
    for status in set(workflow.STATUSES) - workflow.TERMINAL:
        assert workflow.moves_from(status), status
    guarded = {(s, t) for s, moves in workflow.TRANSITIONS.items() for t, m in moves.items()
               if workflow.RESOLUTION in m.guards}
    assert {t for _s, t in guarded} == {"resolved", "closed"} and all(
        workflow.RESOLUTION in workflow.TRANSITIONS[s][t].guards for s in workflow.TRANSITIONS
        for t in workflow.TRANSITIONS[s] if t in ("resolved", "closed"))


@pytest.mark.parametrize(("source", "target", "resolution", "reason", "error"), [
    ("open", "open", "", "", InvalidIncidentTransition),
    ("in_progress", "dispatched", "", "", InvalidIncidentTransition),
    ("closed", "in_progress", "x", "x", InvalidIncidentTransition),
    ("in_progress", "resolved", " ", "", ResolutionRequired),
    ("open", "closed", "", "", ResolutionRequired), ("resolved", "in_progress", "x", "", ReasonRequired),
])
def test_a_move_is_refused_with_its_error(source, target, resolution, reason, error) -> None:
    with pytest.raises(error):
        workflow.check(source, target, resolution=resolution, reason=reason)


def test_every_type_has_names_and_a_bilingual_sop_checklist() -> None:
    types = incident_types()
    assert list(types) == ["flood", "power_outage", "traffic_accident", "lighting_failure", "air_pollution", "fire",
                           "other"]
    for kind in types.values():
        assert kind.name_vi and kind.name_en and kind.default_severity in SEVERITIES
        assert len(kind.checklist) >= 5 and set(kind.suggested_units) <= set(UNIT_KINDS)
        assert all(len(step.vi) > 20 and len(step.en) > 20 for step in kind.checklist)


def test_a_refused_close_changes_nothing_and_a_closed_incident_is_frozen(app) -> None:
    now = utcnow()
    with unit_of_work(app.state.session_factory) as session:
        incident = incidents.open_incident(session, incident_type="power_outage", title="Mất điện phường Kinh Bắc",
                                           severity="critical", actor=SYSTEM, now=now, location=POINT,
                                           ward_code="09187", owner_agency="SXD")
        incident_id = incident.id
    with unit_of_work(app.state.session_factory) as session, pytest.raises(ResolutionRequired):
        incidents.close(session, incident_id=incident_id, resolution="", actor=SYSTEM, now=now)
    with app.state.session_factory() as session:
        stored = session.get(Incident, incident_id)
        assert stored.status == "open" and stored.closed_at is None
        assert session.scalar(select(func.count(IncidentEvent.id)).where(
            IncidentEvent.incident_id == incident_id)) == 1
    later = now + timedelta(hours=2, minutes=5)
    with unit_of_work(app.state.session_factory) as session:
        incidents.close(session, incident_id=incident_id, resolution="Đã đóng điện lại lúc 16:05", actor=SYSTEM,
                        now=later)
    with unit_of_work(app.state.session_factory) as session, pytest.raises(IncidentClosed):
        incidents.dispatch_unit(session, incident_id=incident_id, name="Đội điện", kind="electricity", actor=SYSTEM,
                                now=later)
    with app.state.session_factory() as session:
        details = incidents.details(session, incident_id=incident_id, actor=SYSTEM)
        assert incidents.open_count(session) == 0
        assert incidents.open_incidents_geojson(session)["features"] == []
    report = build(details, lang="vi")
    assert report.status == gettext("vi", "Closed") and report.resolution == "Đã đóng điện lại lúc 16:05"
    assert dict(report.durations)["Thời gian đến khi đóng"] == "2 giờ 5 phút"
    assert duration_text(timedelta(days=1, minutes=3), "en") == "1 d 3 min"
