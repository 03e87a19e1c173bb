"""Dossier statistics for a period: received, resolved, early / on time / late (counts and rates),
online share and average processing time, grouped by procedure, processing agency or level.

A dossier counts as *received* in ``[start, end)`` by its receipt instant and as *resolved* there by
the instant it finished (result ready, refused or stopped — the engine's ``closed_at``); the
outcome is the case engine's (:func:`saola.cases.deadlines.outcome`), so ``early + on_time + late ==
resolved`` always holds (:class:`saola.cases.stats.OutcomeCounts`). Only dossiers the actor may
see are counted (:func:`saola.egov.dossiers.list_dossiers`' visibility rule).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from saola.cases.models import Case
from saola.cases.stats import OutcomeCounts
from saola.core.directory.models import Agency
from saola.egov.dossiers import visible_to
from saola.egov.models import Dossier, Procedure

GroupBy = Literal["procedure", "agency", "level"]
CSV_COLUMNS = ("group", "name", "received", "online", "resolved", "early", "on_time", "late", "early_rate",
               "on_time_rate", "late_rate", "avg_days")


@dataclass
class Row:
    key: str
    name: str
    received: int = 0
    online: int = 0
    counts: OutcomeCounts = field(default_factory=OutcomeCounts)
    processing_seconds: float = 0.0

    @property
    def resolved(self) -> int:
        return self.counts.closed

    def rate(self, outcome: str) -> float | None:
        """Share of resolved dossiers with ``outcome``, in percent (``None`` when none was resolved)."""
        return round(100 * getattr(self.counts, outcome) / self.resolved, 1) if self.resolved else None

    @property
    def avg_days(self) -> float | None:
        """Average calendar days from receipt to finish of the dossiers resolved in the period."""
        return round(self.processing_seconds / self.resolved / 86400, 1) if self.resolved else None


def _group(by: GroupBy, dossier: Dossier, case: Case, procedure: Procedure,
           agencies: dict[int, Agency]) -> tuple[str, str]:
    if by == "procedure":
        return procedure.code, procedure.name_vi
    if by == "agency":
        agency = agencies.get(case.agency_id)
        return (agency.code, agency.name) if agency else (str(case.agency_id), "")
    return procedure.level, procedure.level


def dossier_stats(session: Session, *, actor: Any, start: datetime, end: datetime,
                  by: GroupBy = "procedure") -> tuple[list[Row], Row]:
    """Rows per group, sorted by key, and the total row."""
    stmt = (select(Dossier, Case, Procedure).join(Case, Case.id == Dossier.case_id)
            .join(Procedure, Procedure.id == Dossier.procedure_id).where(visible_to(actor))
            .where(or_(and_(Case.received_at >= start, Case.received_at < end),
                       and_(Case.closed_at >= start, Case.closed_at < end))))
    agencies = {a.id: a for a in session.scalars(select(Agency))} if by == "agency" else {}
    rows: dict[str, Row] = {}
    total = Row("total", "")
    for dossier, case, procedure in session.execute(stmt):
        key, name = _group(by, dossier, case, procedure, agencies)
        row = rows.setdefault(key, Row(key, name))
        for target in (row, total):
            if start <= case.received_at < end:
                target.received += 1
                target.online += dossier.channel == "online"
            if case.closed_at is not None and start <= case.closed_at < end:
                target.counts.add(case.outcome or "on_time")
                target.processing_seconds += (case.closed_at - case.received_at).total_seconds()
    return [rows[k] for k in sorted(rows)], total


def to_csv(rows: list[Row], total: Row) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in [*rows, total]:
        writer.writerow([row.key, row.name, row.received, row.online, row.resolved, row.counts.early,
                         row.counts.on_time, row.counts.late, row.rate("early"), row.rate("on_time"),
                         row.rate("late"), row.avg_days])
    return buffer.getvalue()
