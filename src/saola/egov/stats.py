"""Dossier statistics for a period: received, resolved, early / on time / late (counts and rates), the
official late rate, online submission, digitisation, citizen hours saved and average processing time,
grouped by procedure, processing agency, level or month; CSV and XLSX exports.

Definitions (README, one-stop-shop section, "Statistics"):

* *received* in ``[start, end)`` by the receipt instant; *resolved* there by the instant the dossier
  finished (result ready, refused or stopped — the engine's ``closed_at``). The outcome is the case
  engine's (:func:`saola.cases.deadlines.outcome`), so ``early + on_time + late == resolved`` always
  holds (:class:`saola.cases.stats.OutcomeCounts`); ``late_rate`` is late / resolved.
* *open* at the end of the period: received before ``end`` and not finished by then; *open overdue*:
  open, not paused, with its due instant before ``min(end, now)``.
* ``official_late_rate`` = (resolved late + open overdue) / (resolved + open) × 100 — the rate of
  Decision 766/QĐ-TTg's "tiến độ, kết quả giải quyết" group and of the provinces' one-stop statistics
  ("tỉ lệ trễ hạn = (trễ đang xử lý + trễ đã xử lý) / cần xử lý"): a dossier still open past its due
  date counts as late, not only one that finished late.
* ``online_rate`` = online submissions / received; ``digitisation_rate`` = received dossiers with at
  least one digitised file (attachment) / received.
* *avoided visits*: one per online submission (the applicant did not come to hand the file in).
  Saola records no return channel, so returns are not counted. ``hours_saved`` = avoided visits ×
  ``SAOLA_EGOV_HOURS_PER_AVOIDED_VISIT``.

Only dossiers the actor may see are counted (:func:`saola.egov.dossiers.visible_to`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from saola.cases.models import Case, CaseAttachment
from saola.cases.stats import OutcomeCounts
from saola.core.calendar import default_calendar
from saola.core.directory.models import Agency
from saola.egov.dossiers import visible_to
from saola.egov.models import Dossier, DossierRating, Procedure

GroupBy = Literal["procedure", "agency", "level", "month"]
COLUMNS = ("group", "name", "received", "online", "resolved", "early", "on_time", "late", "early_rate",
           "on_time_rate", "late_rate", "open", "open_overdue", "official_late_rate", "online_rate",
           "digitised", "digitisation_rate", "avoided_visits", "hours_saved", "avg_days")
CSV_COLUMNS = COLUMNS


def percent(part: int, whole: int) -> float | None:
    """``part / whole`` in percent with one decimal, ``None`` when ``whole`` is zero."""
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Row:
    key: str
    name: str
    received: int = 0
    online: int = 0
    counts: OutcomeCounts = field(default_factory=OutcomeCounts)
    processing_seconds: float = 0.0
    open: int = 0
    open_overdue: int = 0
    digitised: int = 0
    rated: int = 0
    dissatisfied: int = 0
    hours_per_visit: float = 0.0

    @property
    def resolved(self) -> int:
        return self.counts.closed

    def rate(self, outcome: str) -> float | None:
        """Share of resolved dossiers with ``outcome``, in percent (``None`` when none was resolved)."""
        return percent(getattr(self.counts, outcome), self.resolved)

    @property
    def official_late_rate(self) -> float | None:
        """(Resolved late + open overdue) / (resolved + open), in percent."""
        return percent(self.counts.late + self.open_overdue, self.resolved + self.open)

    @property
    def online_rate(self) -> float | None:
        return percent(self.online, self.received)

    @property
    def digitisation_rate(self) -> float | None:
        return percent(self.digitised, self.received)

    @property
    def avoided_visits(self) -> int:
        return self.online

    @property
    def hours_saved(self) -> float:
        return round(self.avoided_visits * self.hours_per_visit, 1)

    @property
    def avg_days(self) -> float | None:
        """Average calendar days from receipt to finish of the dossiers resolved in the period."""
        return round(self.processing_seconds / self.resolved / 86400, 1) if self.resolved else None

    def values(self) -> dict[str, Any]:
        """The row as the export columns (:data:`COLUMNS`)."""
        return {"group": self.key, "name": self.name, "received": self.received, "online": self.online,
                "resolved": self.resolved, "early": self.counts.early, "on_time": self.counts.on_time,
                "late": self.counts.late, "early_rate": self.rate("early"), "on_time_rate": self.rate("on_time"),
                "late_rate": self.rate("late"), "open": self.open, "open_overdue": self.open_overdue,
                "official_late_rate": self.official_late_rate, "online_rate": self.online_rate,
                "digitised": self.digitised, "digitisation_rate": self.digitisation_rate,
                "avoided_visits": self.avoided_visits, "hours_saved": self.hours_saved, "avg_days": self.avg_days}


def _group(by: GroupBy, case: Case, procedure: Procedure, agencies: dict[int, Agency]) -> tuple[str, str]:
    if by == "procedure":
        return procedure.code, procedure.name_vi
    if by == "agency":
        agency = agencies.get(case.agency_id)
        return (agency.code, agency.name) if agency else (str(case.agency_id), "")
    if by == "month":
        month = case.received_at.astimezone(default_calendar().tz).strftime("%Y-%m")
        return month, month
    return procedure.level, procedure.level


def dossier_stats(session: Session, *, actor: Any, start: datetime, end: datetime, by: GroupBy = "procedure",
                  now: datetime | None = None, hours_per_visit: float = 0.0) -> tuple[list[Row], Row]:
    """Rows per group, sorted by key, and the total row. ``now`` bounds "overdue" (default: ``end``)."""
    cutoff = min(end, now) if now is not None else end
    digitised = exists().where(CaseAttachment.case_id == Case.id)
    stmt = (select(Dossier, Case, Procedure, digitised.label("digitised"), DossierRating)
            .join(Case, Case.id == Dossier.case_id).join(Procedure, Procedure.id == Dossier.procedure_id)
            .outerjoin(DossierRating, DossierRating.dossier_id == Dossier.id).where(visible_to(actor))
            .where(or_(and_(Case.received_at >= start, Case.received_at < end),
                       and_(Case.closed_at >= start, Case.closed_at < end),
                       and_(Case.received_at < end, or_(Case.closed_at.is_(None), Case.closed_at >= end)))))
    agencies = {a.id: a for a in session.scalars(select(Agency))} if by == "agency" else {}
    rows: dict[str, Row] = {}
    total = Row("total", "", hours_per_visit=hours_per_visit)
    for dossier, case, procedure, has_files, rating in session.execute(stmt):
        key, name = _group(by, case, procedure, agencies)
        row = rows.setdefault(key, Row(key, name, hours_per_visit=hours_per_visit))
        for target in (row, total):
            if start <= case.received_at < end:
                target.received += 1
                target.online += dossier.channel == "online"
                target.digitised += bool(has_files)
            if case.closed_at is not None and start <= case.closed_at < end:
                target.counts.add(case.outcome or "on_time")
                target.processing_seconds += (case.closed_at - case.received_at).total_seconds()
                if rating is not None:
                    target.rated += 1
                    target.dissatisfied += min(rating.timeliness, rating.attitude) <= 2
            elif case.closed_at is None or case.closed_at >= end:
                target.open += 1
                target.open_overdue += (case.paused_at is None and case.deadline_at is not None
                                        and case.deadline_at < cutoff)
    return [rows[k] for k in sorted(rows)], total


def to_csv(rows: list[Row], total: Row) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in [*rows, total]:
        values = row.values()
        writer.writerow([values[c] for c in COLUMNS])
    return buffer.getvalue()


def to_xlsx(rows: list[Row], total: Row, *, title: str = "dossiers") -> bytes:
    """The same table as :func:`to_csv` as an Excel workbook (one sheet, numbers as numbers)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(COLUMNS))
    for row in [*rows, total]:
        values = row.values()
        sheet.append([values[c] for c in COLUMNS])
    for cell in (*sheet[1], *sheet[sheet.max_row]):
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
