"""Anonymisation of 1022 reporters after the retention period (``SAOLA_FEEDBACK_RETENTION_DAYS``).

A report settled (``resolved``, ``closed`` or ``rejected``) longer than the retention period ago,
counted from ``closed_at`` (the moment it was answered or rejected), loses its reporter's personal
data. ``resolved`` counts because nothing closes an answer the citizen never rated, and the
14-day rating window is long over by then. The :class:`~saola.feedback.models.FeedbackReporter`
row (name, phone, e-mail, device and account ids, consent) is deleted — nothing in it is worth
keeping once the person cannot be told anything more, and an empty shell would only look like
data — and the report is stamped ``anonymised_at``. The report itself, its case, history,
category, place and answer stay for statistics. Phone numbers and e-mail addresses typed into the
description are replaced by ``[…]`` (:func:`saola.feedback.reports.redact`, the masking public
pages use), in the case and in the audit log's copies of it, and the recipients of the notices
about the case are blanked in the outbox (one still waiting is not sent: it is marked failed). A
report merged into another that is still open is kept until that one is settled too (its
reporter is still waiting for the answer). Retention 0 keeps everything. Each run is audited
with its counts. :class:`RetentionWorker` runs it daily inside the app; ``saola feedback
anonymise [--dry-run]`` runs it by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from saola.cases.models import Case
from saola.core.audit import service as audit
from saola.core.audit.models import AuditEntry
from saola.core.db import unit_of_work, utcnow
from saola.core.messaging.models import OutboxMessage
from saola.core.periodic import PeriodicJob
from saola.feedback.models import FeedbackReport, FeedbackReporter
from saola.feedback.reports import CASE_TYPE, redact

log = logging.getLogger(__name__)

SETTLED = ("resolved", "closed", "rejected")
BATCH = 5_000


@dataclass(frozen=True)
class AnonymisationRun:
    """What a run erased (or, in a dry run, would erase)."""

    reports: int
    reporters: int
    cutoff: datetime | None
    dry_run: bool = False


def _due(session: Session, *, cutoff: datetime, limit: int) -> list[tuple[FeedbackReport, Case]]:
    kept = aliased(Case)
    stmt = (select(FeedbackReport, Case).join(Case, Case.id == FeedbackReport.case_id)
            .outerjoin(kept, kept.id == FeedbackReport.merged_into_case_id)
            .where(Case.case_type == CASE_TYPE, Case.status.in_(SETTLED), Case.closed_at.is_not(None),
                   Case.closed_at <= cutoff, FeedbackReport.anonymised_at.is_(None),
                   or_(kept.id.is_(None), kept.status.in_(SETTLED)))
            .order_by(Case.closed_at, Case.id).limit(limit))
    return [(r, c) for r, c in session.execute(stmt)]


def _scrub_audit(session: Session, case_ids: list[int]) -> None:
    """Mask phone numbers and e-mail addresses in the audit log's copies of the cases' descriptions."""
    stmt = select(AuditEntry).where(AuditEntry.object_type == "cases",
                                    AuditEntry.object_id.in_([str(i) for i in case_ids]))
    for entry in session.scalars(stmt):
        values: dict[str, Any] = {}
        for side in ("before", "after"):
            snapshot = getattr(entry, side)
            if isinstance(snapshot, dict) and isinstance(snapshot.get("description"), str):
                values[side] = {**snapshot, "description": redact(snapshot["description"])}
        if values and any(values[k] != getattr(entry, k) for k in values):
            session.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(**values)
                            .execution_options(synchronize_session=False))


def anonymise(session: Session, *, now: datetime, retention_days: int, dry_run: bool = False,
              limit: int = BATCH) -> AnonymisationRun:
    """Erase the reporters' personal data of reports settled more than ``retention_days`` before ``now``."""
    if retention_days <= 0:
        return AnonymisationRun(reports=0, reporters=0, cutoff=None, dry_run=dry_run)
    cutoff = now - timedelta(days=retention_days)
    rows = _due(session, cutoff=cutoff, limit=limit)
    reporters = list(session.scalars(select(FeedbackReporter).where(
        FeedbackReporter.report_id.in_([r.id for r, _ in rows])))) if rows else []
    run = AnonymisationRun(reports=len(rows), reporters=len(reporters), cutoff=cutoff, dry_run=dry_run)
    if dry_run or not rows:
        return run
    for reporter in reporters:
        session.delete(reporter)  # audited as a deletion; its personal fields are never written to the log
    case_ids = [c.id for _, c in rows]
    for report, case in rows:
        report.anonymised_at = now
        scrubbed = redact(case.description)
        if scrubbed != case.description:  # written directly: the audit log must not keep the original text
            session.execute(update(Case).where(Case.id == case.id).values(description=scrubbed)
                            .execution_options(synchronize_session=False))
            set_committed_value(case, "description", scrubbed)
    _scrub_audit(session, case_ids)
    sources = [f"case:{i}" for i in case_ids]
    session.execute(update(OutboxMessage).where(OutboxMessage.source.in_(sources), OutboxMessage.status == "pending")
                    .values(status="failed", last_error="recipient erased after the retention period")
                    .execution_options(synchronize_session=False))
    session.execute(update(OutboxMessage).where(OutboxMessage.source.in_(sources)).values(recipient="")
                    .execution_options(synchronize_session=False))
    audit.record(session, action="anonymise", object_type="feedback_reports",
                 after={"reports": run.reports, "reporters": run.reporters, "retention_days": retention_days,
                        "cutoff": cutoff.isoformat()})
    session.flush()
    return run


class RetentionWorker(PeriodicJob):
    """Runs :func:`anonymise` once a day in the app (the first run a while after start-up)."""

    name = "anonymisation run"

    def __init__(self, app: FastAPI, *, interval_seconds: float = 86_400.0, first_delay_seconds: float = 600.0,
                 ) -> None:
        self.factory = app.state.session_factory
        self.settings = app.state.settings
        self.runs: list[AnonymisationRun] = []
        super().__init__(interval_seconds=interval_seconds, first_delay_seconds=first_delay_seconds)

    def run_once(self) -> AnonymisationRun:
        """One run now (blocking), until no report is left to anonymise."""
        total_reports = total_reporters = 0
        while True:
            with unit_of_work(self.factory) as session:
                run = anonymise(session, now=utcnow(), retention_days=self.settings.feedback_retention_days)
            total_reports += run.reports
            total_reporters += run.reporters
            if run.reports < BATCH:
                break
        done = AnonymisationRun(reports=total_reports, reporters=total_reporters, cutoff=run.cutoff)
        self.runs.append(done)
        if done.reports:
            log.info("reporters anonymised", extra={"reports": done.reports, "reporters": done.reporters})
        return done
