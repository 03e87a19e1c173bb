"""Anonymisation: reporters of reports answered or rejected longer than SAOLA_FEEDBACK_RETENTION_DAYS ago lose their
personal data (the reporter row, phone numbers and e-mail addresses in the description, in the audit log and in the
outbox); everything else stays. A dry run changes nothing; each run is audited; the CLI and the daily task run it."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from saola.cases import service as cases
from saola.cases.actors import SYSTEM
from saola.cases.models import Case
from saola.core.audit.models import AuditEntry
from saola.core.auth import service as auth
from saola.core.db import unit_of_work, utcnow
from saola.core.messaging.models import OutboxMessage
from saola.feedback import duplicates, reports, retention
from saola.feedback.intake import Submission
from saola.feedback.models import FeedbackReport, FeedbackReporter
from tests.feedback.conftest import KINH_BAC, bearer

PHONE = "0912345678"
TEXT = f"Đèn đường trước nhà số 12 không sáng, gọi {PHONE} hoặc an@example.vn"


def _file(app, settings, *, days_ago: float, email: str = "an@example.vn") -> tuple[int, str]:
    with unit_of_work(app.state.session_factory) as session:
        item = reports.submit(session, submission=Submission(
            channel="phone", description=TEXT, service_code="street-lighting", lat=KINH_BAC[0], lon=KINH_BAC[1],
            answers={"lamp_state": "off"}, name="Nguyễn Văn An", phone=PHONE, email=email, consent=True),
            actor=None, now=utcnow() - timedelta(days=days_ago), settings=settings)
        return item.case.id, item.case.code


def _principal(session, username: str) -> Any:
    return auth.principal_for(auth.get_user(session, username=username))


def _settle(app, case_id: int, to: str, *, days_ago: float) -> None:
    """Reject the report, or handle, resolve and close it, ``days_ago`` days ago, through the engine."""
    when = utcnow() - timedelta(days=days_ago)
    with unit_of_work(app.state.session_factory) as session:
        staff = _principal(session, "staff")
        if to == "rejected":
            cases.transition(session, case_id=case_id, to="rejected", actor=staff, now=when, reason="Trùng")
            return
        moves: list[tuple[str, dict[str, Any]]] = [("assigned", {"assignee_id": staff.user.id}), ("in_progress", {}),
                                                   ("resolved", {"resolution": "Đã thay bóng đèn"})]
        for status, extra in moves:
            cases.transition(session, case_id=case_id, to=status, actor=staff, now=when, **extra)
        if to == "closed":
            cases.transition(session, case_id=case_id, to="closed", actor=SYSTEM, now=when)
        if to == "reopened":
            cases.transition(session, case_id=case_id, to="reopened", actor=SYSTEM, now=when, reason="Chưa hài lòng")


def _state(app, case_id: int) -> tuple[FeedbackReport, FeedbackReporter | None, Case]:
    with app.state.session_factory() as session:
        report = session.scalars(select(FeedbackReport).where(FeedbackReport.case_id == case_id)).one()
        reporter = session.scalars(select(FeedbackReporter).where(FeedbackReporter.report_id == report.id)).first()
        case = session.get(Case, case_id)
        session.expunge_all()
        return report, reporter, case


def _run(app, *, days: int = 730, dry_run: bool = False) -> retention.AnonymisationRun:
    with unit_of_work(app.state.session_factory) as session:
        return retention.anonymise(session, now=utcnow(), retention_days=days, dry_run=dry_run)


@pytest.fixture
def aged(app, settings, categories) -> dict[str, int]:
    """Reports settled long ago (rejected, closed, answered and never rated), settled recently, still open and
    reopened: name → case id."""
    out = {}
    for name, to, age in (("old_rejected", "rejected", 800), ("old_closed", "closed", 800),
                          ("old_resolved", "resolved", 800), ("recent", "rejected", 10), ("open", None, 800),
                          ("reopened", "reopened", 800)):
        case_id, _code = _file(app, settings, days_ago=age + 1)
        if to:
            _settle(app, case_id, to, days_ago=age)
        out[name] = case_id
    return out


def test_only_reports_settled_before_the_retention_period_are_anonymised(app, aged) -> None:
    run = _run(app)
    assert (run.reports, run.reporters, run.dry_run) == (3, 3, False)
    for name in ("old_rejected", "old_closed", "old_resolved"):
        report, reporter, case = _state(app, aged[name])
        assert reporter is None and report.anonymised_at is not None
        assert PHONE not in case.description and "an@example.vn" not in case.description
        assert case.description.startswith("Đèn đường trước nhà số 12 không sáng")
        assert report.ward_code == "09187" and case.status in ("rejected", "closed", "resolved")  # the rest stays
    for name in ("recent", "open", "reopened"):
        report, reporter, case = _state(app, aged[name])
        assert reporter is not None and reporter.phone == PHONE and report.anonymised_at is None
        assert PHONE in case.description
    assert _run(app).reports == 0  # done once


def test_a_dry_run_counts_and_changes_nothing(app, aged) -> None:
    run = _run(app, dry_run=True)
    assert (run.reports, run.reporters, run.dry_run) == (3, 3, True)
    report, reporter, case = _state(app, aged["old_closed"])
    assert reporter is not None and report.anonymised_at is None and PHONE in case.description
    with app.state.session_factory() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "anonymise")).first() is None


def test_retention_zero_keeps_everything(app, aged) -> None:
    assert _run(app, days=0).reports == 0
    assert _state(app, aged["old_rejected"])[1] is not None


def test_the_run_is_audited_and_the_audit_log_and_outbox_lose_the_personal_data(app, aged) -> None:
    with unit_of_work(app.state.session_factory) as session:  # a notice was sent about the report
        session.add(OutboxMessage(channel="sms", recipient=PHONE, body="x", source=f"case:{aged['old_closed']}",
                                  status="sent", data={}))
    _run(app)
    with app.state.session_factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "anonymise")).one()
        assert (entry.after["reports"], entry.after["reporters"], entry.after["retention_days"]) == (3, 3, 730)
        copies = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "cases", AuditEntry.object_id
                                                          == str(aged["old_closed"]))).all()
        assert copies and not [e for e in copies if PHONE in str(e.before) + str(e.after)]
        notices = session.scalars(select(OutboxMessage).where(OutboxMessage.source.in_(
            [f"case:{aged['old_closed']}", f"case:{aged['old_rejected']}"]))).all()
        assert len(notices) > 1 and {m.recipient for m in notices} == {""}
        assert {m.status for m in notices} <= {"sent", "failed"}
        others = session.scalars(select(OutboxMessage.recipient)
                                 .where(OutboxMessage.source == f"case:{aged['recent']}"))
        assert PHONE in set(others)
        erased = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "feedback_reporters",
                                                          AuditEntry.action == "delete")).all()
        assert len(erased) == 3 and not [e for e in erased if PHONE in str(e.before)]


def test_staff_and_public_pages_no_longer_show_the_data(app, client, token, aged) -> None:
    _run(app)
    with app.state.session_factory() as session:
        code = session.get(Case, aged["old_closed"]).code
    staff = client.get(f"/api/v1/reports/{aged['old_closed']}", headers=bearer(token("admin")))
    assert staff.status_code == 200 and staff.json()["reporter"] is None
    assert PHONE not in staff.text and "an@example.vn" not in staff.text
    page = client.get("/feedback/track", params={"code": code})
    assert page.status_code == 200 and PHONE not in page.text and "Nguyễn Văn An" not in page.text


def test_a_report_merged_into_an_open_one_waits_for_it(app, settings, categories) -> None:
    duplicate, _ = _file(app, settings, days_ago=801)
    _kept_id, kept_code = _file(app, settings, days_ago=801, email="binh@example.vn")
    with unit_of_work(app.state.session_factory) as session:
        duplicates.merge(session, case_id=duplicate, into=kept_code, actor=_principal(session, "staff"),
                         now=utcnow() - timedelta(days=800))
    assert _run(app).reports == 0  # the kept report is still open: its answer is still to be sent
    assert _state(app, duplicate)[1] is not None


def test_the_cli_anonymises_and_its_dry_run_only_counts(app, aged, settings, monkeypatch) -> None:
    from saola.cli import app as cli

    monkeypatch.setenv("SAOLA_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("SAOLA_FEEDBACK_RETENTION_DAYS", "730")
    dry = CliRunner().invoke(cli, ["feedback", "anonymise", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run: 3 reports" in dry.output and _state(app, aged["old_closed"])[1] is not None
    done = CliRunner().invoke(cli, ["feedback", "anonymise"])
    assert done.exit_code == 0 and "Anonymised 3 reports" in done.output
    assert _state(app, aged["old_closed"])[1] is None
    monkeypatch.setenv("SAOLA_FEEDBACK_RETENTION_DAYS", "0")
    kept = CliRunner().invoke(cli, ["feedback", "anonymise"])
    assert kept.exit_code == 0 and "kept forever" in kept.output


def test_the_daily_task_runs_in_the_background_and_stops(app, aged) -> None:
    worker = retention.RetentionWorker(app, interval_seconds=3600, first_delay_seconds=0)

    async def scenario() -> None:
        await worker.start()
        deadline = time.monotonic() + 20
        while not worker.runs and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await worker.stop()

    asyncio.run(scenario())
    assert [(r.reports, r.reporters) for r in worker.runs] == [(3, 3)]
    assert worker.task is not None and worker.task.done()
    assert _state(app, aged["old_rejected"])[1] is None


def test_the_cutoff_follows_the_setting(app, aged) -> None:
    assert _run(app, days=5).reports == 4  # the recent one too
    run = _run(app, days=5)
    assert run.reports == 0 and isinstance(run.cutoff, datetime)
