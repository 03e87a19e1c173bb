"""Staff are reminded of deadlines and overdue cases are escalated, by e-mail, once each, in office time.

The e-mails go through the real outbox to a real SMTP server on 127.0.0.1; the clock is explicit
and the calendar is the working-day calendar (New Year 2027: Friday 1 January is a holiday).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.app import create_app
from saola.cases.models import Case, CaseEvent
from saola.cases.reminders import ReminderRun, send_reminders
from saola.core.auth import service as auth
from saola.core.auth.models import User
from saola.core.calendar import default_calendar
from saola.core.db import unit_of_work
from saola.core.directory.models import Agency, AgencyContact
from saola.core.messaging.models import OutboxMessage
from saola.core.messaging.worker import MessagingWorker
from saola.egov import dossiers, procedures
from saola.egov.dossiers import Applicant
from tests.cases.conftest import vn
from tests.cases.helpers import new_case, saved
from tests.egov.conftest import procedure_record
from tests.messaging_servers import messaging_settings, wait_for

PUBLIC_URL = "https://saola.bacninh.gov.vn"
STAFF, STAFF_NO_MAIL, VIEWER, OPERATOR, ADMIN = ("staff@sxd.vn", "", "viewer@sxd.vn", "ioc@bacninh.vn",
                                                 "admin@bacninh.vn")


@pytest.fixture
def app(settings, mailbox, sms_gateway):
    """The application with its mail gateway pointing at the test SMTP server."""
    return create_app(messaging_settings(settings, mailbox[1], sms_gateway.url))


@pytest.fixture
def staff_mail(db: Session, agencies: dict[str, int]) -> None:
    """E-mail addresses for the seeded users, and a second SXD staff member without one."""
    for username, email in (("staff", STAFF), ("viewer", VIEWER), ("operator", OPERATOR), ("admin", ADMIN)):
        auth.get_user(db, username=username).email = email
    auth.create_user(db, username="staff3", password="x" * 12, role="agency_staff", agency_id=agencies["SXD"])
    db.commit()


def _case(db: Session, agency_id: int, deadline: datetime, *, status: str = "assigned",
          assignee: str | None = None, case_type: str = "feedback_report") -> Case:
    case = new_case(db, case_type, agency_id, status=status)
    case.deadline_at = deadline
    case.assignee_id = auth.get_user(db, username=assignee).id if assignee else None
    db.commit()
    return case


def _run(app: Any, now: datetime, **kw: Any) -> ReminderRun:
    """One reminder run committed, then the outbox delivered to the SMTP server."""
    with unit_of_work(app.state.session_factory) as session:
        run = send_reminders(session, now=now, calendar=default_calendar(), settings=app.state.settings, **kw)
    MessagingWorker(app).run_once()
    return run


def _mails(mailbox: Any) -> list[tuple[str, str, str]]:
    """(recipient, subject, body) of every mail received, in order."""
    return [(rcpt[0], str(mail["Subject"]), mail.get_content()) for rcpt, mail in
            zip(mailbox[0].recipients, mailbox[0].mails, strict=True)]


def _events(app: Any, case_id: int) -> list[tuple[str, dict[str, Any]]]:
    with app.state.session_factory() as session:
        rows = session.execute(select(CaseEvent.kind, CaseEvent.data).where(
            CaseEvent.case_id == case_id, CaseEvent.kind.in_(("reminder", "escalation"))).order_by(CaseEvent.id))
        return [(kind, dict(data)) for kind, data in rows]


def test_a_report_due_soon_mails_its_assignee_once(app, db, agencies, staff_mail, mailbox) -> None:
    case = _case(db, agencies["SXD"], vn(2026, 12, 30, 17), assignee="staff")
    before = saved(db, case.id)

    assert _run(app, vn(2026, 12, 29, 8)) == ReminderRun()  # 1.5 days of office time left: nothing yet
    run = _run(app, vn(2026, 12, 29, 17))  # one working day left
    assert (run.reminders, run.escalations, run.messages) == (1, 0, 1)
    [(to, subject, body)] = _mails(mailbox)
    assert to == STAFF
    assert subject == f"Hồ sơ/phản ánh {case.code} sắp đến hạn (30/12/2026 17:00)"
    assert "Đèn đường hỏng" in body and f"{PUBLIC_URL}/console/feedback/reports/{case.id}" in body

    assert _run(app, vn(2026, 12, 30, 9)) == ReminderRun()  # never twice
    assert len(mailbox[0].mails) == 1
    db.expire_all()
    assert saved(db, case.id) == (before[0], before[1] + 1)  # one history event, the status unchanged
    assert _events(app, case.id) == [("reminder", {"kind": "due_soon", "deadline_at": case.deadline_at.isoformat(),
                                                   "recipients": 1})]


def test_due_soon_counts_office_time_across_the_new_year_holiday(app, db, agencies, staff_mail, mailbox) -> None:
    case = _case(db, agencies["SXD"], vn(2027, 1, 4, 17), assignee="staff")  # Monday after New Year
    assert _run(app, vn(2026, 12, 31, 10)).reminders == 0  # 13.5 office hours left
    assert _run(app, vn(2026, 12, 31, 17)).reminders == 1  # 8 office hours left, 4 days before
    assert [kind for kind, _ in _events(app, case.id)] == ["reminder"]


def test_an_overdue_report_without_assignee_mails_the_agency_staff(app, db, agencies, staff_mail, mailbox) -> None:
    case = _case(db, agencies["SXD"], vn(2026, 12, 31, 17), status="triaged")
    _case(db, agencies["SYT"], vn(2027, 2, 26, 17), status="triaged")  # another agency, far from due

    run = _run(app, vn(2027, 1, 4, 9), levels=())
    assert (run.reminders, run.messages, run.skipped) == (1, 1, 1)  # staff3 has no e-mail address
    [(to, subject, body)] = _mails(mailbox)  # not the viewer, not the IOC
    assert to == STAFF
    assert subject == f"Hồ sơ/phản ánh {case.code} đã quá hạn (hạn 31/12/2026 17:00)"
    assert "chưa hoàn thành" in body
    assert [d["kind"] for _, d in _events(app, case.id)] == ["overdue"]
    db.expire_all()
    assert saved(db, case.id)[0] == "triaged"


def test_escalations_reach_each_level_in_office_time(app, db, agencies, staff_mail, mailbox) -> None:
    agency = db.get(Agency, agencies["SXD"])
    agency.email = "sxd@bacninh.gov.vn"
    db.add_all([AgencyContact(agency_id=agency.id, name="Trực ban", email="trucban@sxd.vn", on_duty=True),
                AgencyContact(agency_id=agency.id, name="Nghỉ", email="nghi@sxd.vn", on_duty=False)])
    db.commit()
    case = _case(db, agencies["SXD"], vn(2026, 12, 31, 17), assignee="staff")  # Thursday before New Year

    run = _run(app, vn(2027, 1, 2, 12))  # Saturday after the holiday: overdue, but no office time yet
    assert (run.reminders, run.escalations) == (1, 1)
    assert sorted(to for to, _, _ in _mails(mailbox)) == sorted([STAFF, "sxd@bacninh.gov.vn", "trucban@sxd.vn"])
    escalation = next(body for to, _, body in _mails(mailbox) if to == "trucban@sxd.vn")
    assert "lãnh đạo cơ quan chủ trì" in escalation and "Sở Xây dựng" in escalation

    assert _run(app, vn(2027, 1, 5, 16)) == ReminderRun()  # 15 office hours overdue
    run = _run(app, vn(2027, 1, 5, 17))  # 16 office hours overdue
    assert (run.reminders, run.escalations, run.messages) == (0, 1, 1)
    to, subject, _ = _mails(mailbox)[-1]
    assert to == OPERATOR and subject == f"Báo cáo vượt cấp: {case.code} đã quá hạn 16,0 giờ hành chính"
    assert [(k, d.get("level")) for k, d in _events(app, case.id)] == [
        ("reminder", None), ("escalation", "agency-head"), ("escalation", "leadership")]
    assert _run(app, vn(2027, 1, 8, 17)) == ReminderRun()


def test_leadership_falls_back_to_administrators_without_an_operator_address(app, db, agencies, mailbox) -> None:
    auth.get_user(db, username="admin").email = ADMIN
    db.commit()
    _case(db, agencies["SXD"], vn(2026, 12, 31, 17), assignee="staff")
    run = _run(app, vn(2027, 1, 6, 17))
    # the assignee and the agency's staff have no address; the operator neither: the administrator is told
    assert (run.reminders, run.escalations, run.messages) == (1, 2, 1)
    assert [to for to, _, _ in _mails(mailbox)] == [ADMIN]


def test_paused_and_finished_cases_get_nothing(app, db, agencies, staff_mail, mailbox) -> None:
    held = _case(db, agencies["SXD"], vn(2026, 12, 31, 17), status="on_hold", assignee="staff")
    held.paused_at = vn(2026, 12, 30, 9)
    done = _case(db, agencies["SXD"], vn(2026, 12, 31, 17), status="resolved", assignee="staff")
    done.closed_at, done.outcome = vn(2026, 12, 30, 9), "early"
    db.commit()
    assert _run(app, vn(2027, 1, 8, 9)) == ReminderRun()
    assert mailbox[0].mails == [] and _events(app, held.id) == [] and _events(app, done.id) == []


def test_a_moved_deadline_is_reminded_again(app, db, agencies, staff_mail, mailbox) -> None:
    case = _case(db, agencies["SXD"], vn(2026, 12, 30, 17), assignee="staff")
    assert _run(app, vn(2026, 12, 30, 9)).reminders == 1
    case.deadline_at = vn(2027, 1, 6, 17)  # extended
    db.commit()
    assert _run(app, vn(2026, 12, 30, 10)).reminders == 0
    assert _run(app, vn(2027, 1, 6, 9)).reminders == 1
    assert len(mailbox[0].mails) == 2


def test_a_dossier_is_reminded_with_its_console_page_in_the_users_language(app, db, agencies, people, staff_mail,
                                                                           mailbox, login) -> None:
    auth.get_user(db, username="staff").language = "en"
    procedure = procedures.create_procedure(db, actor=None, data=procedure_record())
    dossier, case = dossiers.receive(db, procedure_id=procedure.id, applicant=Applicant(name="Trần Thị Bình"),
                                     actor=people["clerk"], now=vn(2026, 12, 21, 9))
    db.commit()
    assert case.agency_id == agencies["SXD"] and case.assignee_id is None

    assert case.deadline_at == vn(2026, 12, 28, 17)  # five working days
    run = _run(app, vn(2026, 12, 28, 9))
    assert (run.reminders, run.messages) == (1, 1)
    [(to, subject, body)] = _mails(mailbox)  # the SXD handler, not the viewer nor the clerk of the centre
    assert to == STAFF and subject.startswith(f"Case {case.code} is due soon")
    assert f"{PUBLIC_URL}/console/dossiers/{dossier.id}" in body
    db.expire_all()
    assert saved(db, case.id)[0] == "received"
    page = login("viewer").client.get(f"/console/dossiers/{dossier.id}")  # the timeline shows the reminder
    assert page.status_code == 200 and 'data-kind="reminder"' in page.text and "Đã gửi nhắc hạn xử lý" in page.text


def test_the_app_sends_reminders_in_the_background(settings, mailbox, sms_gateway, db, agencies,
                                                   staff_mail) -> None:
    from fastapi.testclient import TestClient

    app = create_app(messaging_settings(settings, mailbox[1], sms_gateway.url, cases_reminder_seconds=0.2))
    with app.state.session_factory() as session:
        case = new_case(session, "feedback_report", agencies["SXD"], status="assigned")
        case.assignee_id = session.scalar(select(User.id).where(User.username == "staff"))
        case.deadline_at = vn(2026, 1, 5, 17)
        session.commit()
    with TestClient(app):
        wait_for(lambda: len(mailbox[0].mails) >= 1)
    assert mailbox[0].recipients[0] == [STAFF]
    with app.state.session_factory() as session:
        rows = session.scalars(select(OutboxMessage.source).where(OutboxMessage.source == f"case-staff:{case.id}"))
        assert list(rows)
