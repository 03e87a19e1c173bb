"""Reassignment: staff handling a report give it to another agency with a reason, through the case engine;
the reason is kept in the history and the audit log; no reason, an unknown agency or someone else's report
is refused and changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from saola.cases.models import Case, CaseEvent
from saola.core.audit.models import AuditEntry
from tests.core.helpers import problem_code
from tests.feedback.conftest import IOC, SXD, SYT, bearer, report_json


def _report(client, token) -> int:
    """A street-lighting report (routed to the Department of Construction, SXD); its case id."""
    created = client.post("/api/v1/reports", headers=bearer(token("operator")), json=report_json())
    assert created.status_code == 201, created.text
    code = created.json()["tracking_code"]
    with client.app.state.session_factory() as session:
        return session.scalar(select(Case.id).where(Case.code == code))


def _case(app, case_id: int) -> Case:
    with app.state.session_factory() as session:
        case = session.get(Case, case_id)
        session.expunge(case)
        return case


def _reassign(browser, case_id: int, **body: Any):
    return browser.api("POST", f"/api/v1/reports/{case_id}/reassign", json=body)


def test_staff_give_their_report_to_another_agency_with_a_reason(app, client, token, login, categories) -> None:
    case_id = _report(client, token)
    staff = login("staff")
    moved = _reassign(staff, case_id, agency_code="SYT", reason="Ngộ độc thực phẩm, không phải chiếu sáng")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["agency_code"]) == ("forwarded", "SYT")
    case = _case(app, case_id)
    assert (case.agency_id, case.status) == (SYT, "forwarded")
    with app.state.session_factory() as session:
        event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.to_status ==
                                                        "forwarded")).one()
        assert event.reason == "Ngộ độc thực phẩm, không phải chiếu sáng"
        assert (event.data["agency_from"], event.data["agency_to"], event.data["reassigned"]) == (SXD, SYT, True)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "reassign")).one()
        assert (entry.actor, entry.object_id, entry.before, entry.after) == (
            "staff", str(case_id), {"agency_id": SXD},
            {"agency_id": SYT, "reason": "Ngộ độc thực phẩm, không phải chiếu sáng"})
    assert staff.client.get(f"/api/v1/reports/{case_id}").status_code == 404  # no longer theirs
    # The new owner may pass it on again: it is taken back from "forwarded" first.
    again = _reassign(login("staff2"), case_id, agency_id=IOC, reason="Chuyển trung tâm điều hành")
    assert again.status_code == 200, again.text
    assert (_case(app, case_id).agency_id, _case(app, case_id).status) == (IOC, "forwarded")


def test_the_hotline_centre_reassigns_straight_into_the_new_agency_queue(app, client, token, login,
                                                                         categories) -> None:
    case_id = _report(client, token)
    moved = _reassign(login("operator"), case_id, agency_code="SYT", reason="Thuộc lĩnh vực y tế")
    assert moved.status_code == 200, moved.text
    assert (_case(app, case_id).agency_id, _case(app, case_id).status) == (SYT, "triaged")


def test_a_missing_or_blank_reason_is_a_422_and_changes_nothing(app, client, token, login, categories) -> None:
    case_id = _report(client, token)
    staff = login("staff")
    for body in ({"agency_code": "SYT"}, {"agency_code": "SYT", "reason": ""}, {"agency_code": "SYT", "reason": "  "}):
        refused = _reassign(staff, case_id, **body)
        assert refused.status_code == 422, body
        assert "reason" in {e["field"].rsplit(".", 1)[-1] for e in refused.json()["errors"]}
    assert (_case(app, case_id).agency_id, _case(app, case_id).status) == (SXD, "triaged")


def test_an_unknown_or_the_same_agency_is_refused(app, client, token, login, categories) -> None:
    case_id = _report(client, token)
    staff = login("staff")
    unknown = _reassign(staff, case_id, agency_code="NOPE", reason="Lý do")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "agency_code"
    both = _reassign(staff, case_id, agency_code="SYT", agency_id=SYT, reason="Lý do")
    assert both.status_code == 422
    same = _reassign(staff, case_id, agency_code="SXD", reason="Lý do")
    assert same.status_code == 409 and problem_code(same) == "reassign-not-allowed"
    assert (_case(app, case_id).agency_id, _case(app, case_id).status) == (SXD, "triaged")


def test_other_agencies_and_readers_may_not_reassign(app, client, token, login, categories) -> None:
    case_id = _report(client, token)
    other = _reassign(login("staff2"), case_id, agency_code="SYT", reason="Lấy về")
    assert other.status_code == 404 and problem_code(other) == "report-not-found"
    reader = _reassign(login("viewer"), case_id, agency_code="SYT", reason="Lấy về")
    assert reader.status_code == 403 and problem_code(reader) == "permission-denied"
    assert (_case(app, case_id).agency_id, _case(app, case_id).status) == (SXD, "triaged")


def test_a_settled_report_cannot_be_reassigned(app, client, token, login, categories) -> None:
    case_id = _report(client, token)
    staff = login("staff")
    rejected = staff.api("POST", f"/api/v1/reports/{case_id}/transition", json={"to": "rejected", "reason": "Trùng"})
    assert rejected.status_code == 200
    refused = _reassign(staff, case_id, agency_code="SYT", reason="Lý do")
    assert refused.status_code == 409 and problem_code(refused) == "invalid-transition"
