"""Guards and effects of moves: reasons, resolutions, assignees, forwarding, supplements, extensions, outcomes."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from saola.cases import service
from saola.cases.actors import SYSTEM
from saola.cases.errors import (
    AssigneeRequired,
    CaseNotFound,
    ExtensionTooLate,
    InvalidAssignee,
    InvalidDeadline,
    ReasonRequired,
    ResolutionRequired,
    TargetAgencyRequired,
    TransitionRepeated,
)
from saola.core.db import take_committed_events
from tests.cases.conftest import NOW, vn
from tests.cases.helpers import new_case, saved


def test_rejecting_a_report_requires_a_reason_and_saves_nothing_without_one(db: Session, people, agencies) -> None:
    case = new_case(db, "feedback_report", agencies["SXD"])
    before = saved(db, case.id)
    for reason in (None, "", "   "):
        with pytest.raises(ReasonRequired) as err:
            service.transition(db, case_id=case.id, to="rejected", actor=people["staff"], now=NOW, reason=reason)
        assert err.value.code == "reason-required" and err.value.status == 422
    assert saved(db, case.id) == before
    done = service.transition(db, case_id=case.id, to="rejected", actor=people["staff"], now=NOW,
                              reason="Không thuộc thẩm quyền")
    assert done.status == "rejected" and done.closed_at == NOW and done.outcome == "early"


def test_resolving_requires_the_resolution_text(db: Session, people, agencies) -> None:
    case = new_case(db, "feedback_report", agencies["SXD"], status="in_progress")
    before = saved(db, case.id)
    with pytest.raises(ResolutionRequired):
        service.transition(db, case_id=case.id, to="resolved", actor=people["staff"], now=NOW, resolution="  ")
    assert saved(db, case.id) == before
    done = service.transition(db, case_id=case.id, to="resolved", actor=people["staff"], now=NOW,
                              resolution=" Đã thay bóng đèn ")
    assert done.resolution == "Đã thay bóng đèn" and done.outcome == "early"


def test_the_assigned_status_requires_an_assignee_of_the_owner_agency(db: Session, people, agencies) -> None:
    case = new_case(db, "feedback_report", agencies["SXD"], status="triaged")
    with pytest.raises(AssigneeRequired):
        service.transition(db, case_id=case.id, to="assigned", actor=people["operator"], now=NOW)
    with pytest.raises(InvalidAssignee):  # staff2 works for another agency
        service.transition(db, case_id=case.id, to="assigned", actor=people["operator"], now=NOW,
                           assignee_id=people["staff2"].id)
    assert saved(db, case.id)[0] == "triaged"
    moved = service.transition(db, case_id=case.id, to="assigned", actor=people["operator"], now=NOW,
                               assignee_id=people["staff"].id)
    assert moved.assignee_id == people["staff"].id


def test_forwarding_changes_the_owner_agency_and_clears_the_assignee(db: Session, people, agencies) -> None:
    case = new_case(db, "feedback_report", agencies["SXD"], status="assigned")
    case.assignee_id = people["staff"].id
    for target in (None, agencies["SXD"], 999_999):
        with pytest.raises(TargetAgencyRequired):
            service.transition(db, case_id=case.id, to="forwarded", actor=people["staff"], now=NOW,
                               reason="Thuộc ngành y tế", target_agency_id=target)
    moved = service.transition(db, case_id=case.id, to="forwarded", actor=people["staff"], now=NOW,
                               reason="Thuộc ngành y tế", target_agency_id=agencies["SYT"])
    assert (moved.agency_id, moved.assignee_id) == (agencies["SYT"], None)
    with pytest.raises(CaseNotFound):  # no longer the sender's case
        service.get_case(db, case_id=case.id, actor=people["staff"])
    assert service.get_case(db, case_id=case.id, actor=people["staff2"]).status == "forwarded"


def test_another_agencys_case_cannot_be_moved_and_does_not_leak(db: Session, people, agencies) -> None:
    case = new_case(db, "feedback_report", agencies["SYT"])
    with pytest.raises(CaseNotFound) as err:
        service.transition(db, case_id=case.id, to="triaged", actor=people["staff"], now=NOW)
    assert err.value.status == 404 and err.value.code == "case-not-found"
    with pytest.raises(CaseNotFound):
        service.transition(db, case_id=123_456, to="triaged", actor=people["admin"], now=NOW)


def test_reopening_clears_the_outcome_and_resolving_again_sets_it(db: Session, people, agencies) -> None:
    case = new_case(db, "feedback_report", agencies["SXD"], status="resolved", days=1)
    case.closed_at, case.outcome = NOW, "early"
    moved = service.transition(db, case_id=case.id, to="reopened", actor=people["operator"], now=NOW,
                               reason="Người dân chưa hài lòng")
    assert (moved.closed_at, moved.outcome) == (None, None)
    service.transition(db, case_id=case.id, to="in_progress", actor=people["staff"], now=NOW,
                       assignee_id=people["staff"].id)
    late = vn(2026, 12, 1, 9)
    done = service.transition(db, case_id=case.id, to="resolved", actor=people["staff"], now=late, resolution="Xong")
    assert (done.closed_at, done.outcome) == (late, "late")


def test_a_supplement_pauses_the_clock_once_and_supplementing_moves_the_deadline(db: Session, people,
                                                                                 agencies) -> None:
    case = new_case(db, "admin_dossier", agencies["TTPVHCC"], days=3)
    assert case.deadline_at == vn(2026, 11, 27, 17)
    clerk = people["clerk"]
    paused = service.transition(db, case_id=case.id, to="supplement_requested", actor=clerk, now=vn(2026, 11, 24, 10),
                                reason="Thiếu bản sao giấy tờ")
    assert paused.paused_at == vn(2026, 11, 24, 10)
    resumed = service.transition(db, case_id=case.id, to="in_processing", actor=clerk, now=vn(2026, 11, 25, 10))
    assert resumed.paused_at is None and resumed.paused_seconds == 8 * 3600
    assert resumed.deadline_at == vn(2026, 11, 30, 17)
    kinds = [e.kind for e in service.history(db, case_id=case.id, actor=clerk)]
    assert kinds == ["created", "transition", "transition", "deadline-changed"]
    before = saved(db, case.id)
    with pytest.raises(TransitionRepeated) as err:
        service.transition(db, case_id=case.id, to="supplement_requested", actor=clerk, now=vn(2026, 11, 26, 9),
                           reason="Lần nữa")
    assert err.value.code == "transition-repeated"
    assert saved(db, case.id) == before


def _dossier_in_processing(db: Session, agencies) -> int:
    return new_case(db, "admin_dossier", agencies["SXD"], status="in_processing", days=3).id  # due Fri 27/11


def test_an_extension_needs_an_apology_and_a_later_appointment(db: Session, people, agencies) -> None:
    case_id, staff = _dossier_in_processing(db, agencies), people["staff"]
    later = vn(2026, 12, 2, 17)
    with pytest.raises(ReasonRequired):
        service.transition(db, case_id=case_id, to="extended", actor=staff, now=NOW, new_deadline=later)
    for bad in (None, vn(2026, 11, 27, 17), vn(2026, 11, 26, 17)):
        with pytest.raises(InvalidDeadline):
            service.transition(db, case_id=case_id, to="extended", actor=staff, now=NOW, reason="Xin lỗi",
                               new_deadline=bad)
    moved = service.transition(db, case_id=case_id, to="extended", actor=staff, now=NOW,
                               reason="Xin lỗi ông/bà vì hồ sơ cần xác minh thêm", new_deadline=later)
    assert moved.deadline_at == later
    change = service.history(db, case_id=case_id, actor=staff)[-1]
    assert change.kind == "deadline-changed" and change.data["deadline_to"] == later.isoformat()
    done = service.transition(db, case_id=case_id, to="result_ready", actor=staff, now=vn(2026, 12, 1, 9))
    assert done.outcome == "early"  # measured against the extended appointment


def test_an_extension_is_refused_on_the_due_day(db: Session, people, agencies) -> None:
    case_id = _dossier_in_processing(db, agencies)
    before = saved(db, case_id)
    with pytest.raises(ExtensionTooLate) as err:
        service.transition(db, case_id=case_id, to="extended", actor=people["staff"], now=vn(2026, 11, 27, 8),
                           reason="Xin lỗi", new_deadline=vn(2026, 12, 4, 17))
    assert err.value.code == "extension-too-late"
    assert saved(db, case_id) == before


def test_an_extension_is_allowed_only_once(db: Session, people, agencies) -> None:
    case_id = _dossier_in_processing(db, agencies)
    service.transition(db, case_id=case_id, to="extended", actor=people["staff"], now=NOW, reason="Xin lỗi",
                       new_deadline=vn(2026, 12, 2, 17))
    from saola.cases.models import Case

    db.get(Case, case_id).status = "in_processing"  # even if it came back somehow
    with pytest.raises(TransitionRepeated):
        service.transition(db, case_id=case_id, to="extended", actor=people["staff"], now=NOW, reason="Xin lỗi",
                           new_deadline=vn(2026, 12, 9, 17))


def test_a_transition_event_is_published_only_after_commit(app, people, agencies) -> None:
    db = app.state.session_factory()
    try:
        case = new_case(db, "feedback_report", agencies["SXD"])
        db.commit()
        take_committed_events(db)
        service.transition(db, case_id=case.id, to="triaged", actor=people["staff"], now=NOW)
        assert take_committed_events(db) == []
        db.rollback()
        assert take_committed_events(db) == []
        service.transition(db, case_id=case.id, to="triaged", actor=SYSTEM, now=NOW)
        db.commit()
        [(topic, payload)] = take_committed_events(db)
        assert topic == "case.transitioned"
        assert payload == {"case_id": case.id, "code": case.code, "case_type": "feedback_report",
                           "agency_id": agencies["SXD"], "status": "triaged", "from_status": "received",
                           "to_status": "triaged", "actor_id": None}
    finally:
        db.close()
