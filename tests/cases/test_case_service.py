"""Opening, reading, listing, assigning and annotating cases; agency scoping; codes; attachments."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.cases import service
from saola.cases.actors import SYSTEM
from saola.cases.deadlines import DeadlineRule
from saola.cases.errors import CaseNotFound, InvalidAssignee, InvalidTransition, UnknownWorkflow
from saola.cases.storage import filesystem_store
from saola.core.audit.models import AuditEntry
from saola.core.errors import BadRequest, PermissionDenied
from tests.cases.conftest import NOW, vn
from tests.cases.helpers import new_case


def test_opening_a_case_gives_a_code_per_type_and_year_a_deadline_and_a_history(db: Session, people,
                                                                                agencies) -> None:
    first = service.open_case(db, case_type="feedback_report", title=" Ổ gà đường Lê Lợi ", agency_id=agencies["SXD"],
                              actor=people["staff"], now=NOW, deadline_rule=DeadlineRule(working_days=3),
                              metadata={"channel": "phone"})
    second = new_case(db, "feedback_report", agencies["SXD"])
    dossier = new_case(db, "admin_dossier", agencies["TTPVHCC"])
    next_year = service.open_case(db, case_type="feedback_report", title="x", agency_id=agencies["SXD"],
                                  actor=SYSTEM, now=vn(2027, 1, 4, 9))
    assert [first.code, second.code, dossier.code, next_year.code] == [
        "PA-2026-000001", "PA-2026-000002", "HS-2026-000001", "PA-2027-000001"]
    assert (first.title, first.status, first.deadline_at, first.meta) == (
        "Ổ gà đường Lê Lợi", "received", vn(2026, 11, 27, 17), {"channel": "phone"})
    assert next_year.deadline_at is None
    [created] = service.history(db, case_id=first.id, actor=people["staff"])
    assert (created.kind, created.actor_name, created.actor_id) == ("created", "staff", people["staff"].id)


def test_the_year_of_a_code_is_the_vietnamese_year(db: Session, agencies) -> None:
    case = service.open_case(db, case_type="admin_dossier", title="x", agency_id=agencies["SXD"], actor=SYSTEM,
                             now=vn(2027, 1, 1, 3))  # still 2026 in UTC
    assert case.code == "HS-2027-000001"


def test_opening_is_refused_for_viewers_other_agencies_unknown_types_and_blank_titles(db: Session, people,
                                                                                      agencies) -> None:
    base = dict(case_type="feedback_report", title="x", agency_id=agencies["SXD"], now=NOW)
    with pytest.raises(PermissionDenied):
        service.open_case(db, **base, actor=people["viewer"])
    with pytest.raises(PermissionDenied):
        service.open_case(db, **(base | {"agency_id": agencies["SYT"]}), actor=people["staff"])
    with pytest.raises(UnknownWorkflow):
        service.open_case(db, **(base | {"case_type": "nope"}), actor=people["staff"])
    with pytest.raises(BadRequest):
        service.open_case(db, **(base | {"title": "  "}), actor=people["staff"])
    with pytest.raises(BadRequest):
        service.open_case(db, **(base | {"agency_id": 999_999}), actor=people["admin"])


def test_users_see_only_their_agencys_cases_unless_they_see_all(db: Session, people, agencies) -> None:
    mine = new_case(db, "feedback_report", agencies["SXD"])
    theirs = new_case(db, "feedback_report", agencies["SYT"])
    dossier = new_case(db, "admin_dossier", agencies["SXD"], status="in_processing")
    assert {c.id for c in service.list_cases(db, actor=people["staff"])} == {mine.id, dossier.id}
    assert {c.id for c in service.list_cases(db, actor=people["operator"])} == {mine.id, theirs.id, dossier.id}
    assert [c.id for c in service.list_cases(db, actor=people["operator"], agency_id=agencies["SYT"])] == [theirs.id]
    assert [c.id for c in service.list_cases(db, actor=people["staff"], case_type="admin_dossier")] == [dossier.id]
    assert [c.id for c in service.list_cases(db, actor=people["staff"], status=["received"])] == [mine.id]
    assert service.list_cases(db, actor=people["clerk"]) == []
    with pytest.raises(CaseNotFound):
        service.get_case(db, case_id=theirs.id, actor=people["staff"])
    with pytest.raises(CaseNotFound):
        service.history(db, case_id=theirs.id, actor=people["staff"])
    assert service.get_case(db, case_id=theirs.id, actor=people["operator"]).id == theirs.id


def test_list_filters_open_cases_and_assignees(db: Session, people, agencies) -> None:
    open_case = new_case(db, "feedback_report", agencies["SXD"])
    done = new_case(db, "feedback_report", agencies["SXD"], status="in_progress")
    service.assign(db, case_id=done.id, assignee_id=people["staff"].id, actor=people["staff"], now=NOW)
    service.transition(db, case_id=done.id, to="resolved", actor=people["staff"], now=NOW, resolution="Xong")
    assert [c.id for c in service.list_cases(db, actor=people["staff"], open_only=True)] == [open_case.id]
    assert [c.id for c in service.list_cases(db, actor=people["staff"], assignee_id=people["staff"].id)] == [done.id]


def test_assigning_records_history_and_checks_the_assignee(db: Session, people, agencies) -> None:
    case = new_case(db, "feedback_report", agencies["SXD"])
    with pytest.raises(InvalidAssignee):
        service.assign(db, case_id=case.id, assignee_id=people["staff2"].id, actor=people["operator"], now=NOW)
    with pytest.raises(PermissionDenied):
        service.assign(db, case_id=case.id, assignee_id=people["staff"].id, actor=people["viewer"], now=NOW)
    service.assign(db, case_id=case.id, assignee_id=people["staff"].id, actor=people["operator"], now=NOW,
                   reason="Phụ trách khu vực")
    assert case.assignee_id == people["staff"].id
    event = service.history(db, case_id=case.id, actor=SYSTEM)[-1]
    assert (event.kind, event.data, event.reason) == ("assigned", {"assignee_from": None,
                                                                   "assignee_to": people["staff"].id},
                                                      "Phụ trách khu vực")
    rejected = new_case(db, "feedback_report", agencies["SXD"], status="rejected")
    with pytest.raises(InvalidTransition):
        service.assign(db, case_id=rejected.id, assignee_id=None, actor=people["operator"], now=NOW)


def test_notes_are_internal_or_public_and_recorded(db: Session, people, agencies) -> None:
    case = new_case(db, "feedback_report", agencies["SXD"])
    service.add_note(db, case_id=case.id, actor=people["staff"], text="Đã gọi điện cho đội", public=False, now=NOW)
    reply = service.add_note(db, case_id=case.id, actor=people["staff"], text="Chúng tôi đã tiếp nhận", public=True,
                             now=NOW)
    with pytest.raises(BadRequest):
        service.add_note(db, case_id=case.id, actor=people["staff"], text=" ", public=True, now=NOW)
    with pytest.raises(PermissionDenied):
        service.add_note(db, case_id=case.id, actor=people["viewer"], text="x", public=False, now=NOW)
    with pytest.raises(CaseNotFound):
        service.add_note(db, case_id=case.id, actor=people["staff2"], text="x", public=False, now=NOW)
    assert [n.text for n in service.notes(db, case_id=case.id, actor=people["staff"])] == [
        "Đã gọi điện cho đội", "Chúng tôi đã tiếp nhận"]
    assert [n.id for n in service.notes(db, case_id=case.id, actor=people["staff"], public_only=True)] == [reply.id]
    assert [e.kind for e in service.history(db, case_id=case.id, actor=SYSTEM)] == ["created", "note", "note"]


def test_cases_and_notes_are_audited(db: Session, people, agencies) -> None:
    case = new_case(db, "feedback_report", agencies["SXD"])
    service.add_note(db, case_id=case.id, actor=people["staff"], text="Ghi chú", public=False, now=NOW)
    db.flush()
    recorded = set(db.execute(select(AuditEntry.object_type, AuditEntry.action)))
    assert {("cases", "create"), ("case_notes", "create")} <= recorded


def test_attachments_keep_metadata_and_bytes_in_the_store(db: Session, people, agencies, tmp_path) -> None:
    store = filesystem_store(tmp_path)
    case = new_case(db, "feedback_report", agencies["SXD"])
    data = b"\x89PNG fake image"
    first = service.add_attachment(db, case_id=case.id, actor=people["staff"], file_name="C:\\anh\\o-ga.png",
                                   content_type="image/png", data=data, store=store, now=NOW)
    second = service.add_attachment(db, case_id=case.id, actor=people["staff"], file_name="copy.png",
                                    content_type="image/png", data=data, store=store, now=NOW, public=True)
    assert (first.file_name, first.size, first.content_type) == ("o-ga.png", len(data), "image/png")
    assert first.storage_key == second.storage_key == first.sha256
    assert store.get(first.storage_key) == data
    assert len(list((tmp_path / "files").rglob("*"))) == 2  # one folder, one file
    with pytest.raises(KeyError):
        store.get("../../etc/passwd")
    with pytest.raises(CaseNotFound):
        service.add_attachment(db, case_id=case.id, actor=people["staff2"], file_name="x", content_type="",
                               data=b"", store=store, now=NOW)
