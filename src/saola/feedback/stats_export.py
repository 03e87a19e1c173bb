"""The hotline statistics as files: a CSV of one table (a grouping, the agency ranking or the overdue list) and an
XLSX workbook with every table on its own sheet. Numbers stay numbers; dates are local time (Asia/Ho_Chi_Minh)."""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from saola.core.calendar import default_calendar
from saola.feedback.stats import COLUMNS, DIMENSIONS, Overdue, Row, Stats

Table = Literal["agency", "field", "category", "ward", "month", "channel", "hour", "ranking", "overdue"]
TABLES: tuple[Table, ...] = (*DIMENSIONS, "ranking", "overdue")
OVERDUE_COLUMNS = ("code", "case_id", "status", "agency", "category", "ward", "received_at", "deadline_at",
                   "overdue_hours")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _overdue_values(item: Overdue) -> list[Any]:
    tz = default_calendar().tz
    return [item.code, item.case_id, item.status, item.agency, item.category, item.ward,
            item.received_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            item.deadline_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), item.overdue_hours]


def table(stats: Stats, which: Table) -> tuple[tuple[str, ...], list[list[Any]]]:
    """The header and the rows of one table; groupings end with the total row, the ranking has a rank column."""
    if which == "overdue":
        return OVERDUE_COLUMNS, [_overdue_values(o) for o in stats.overdue]
    if which == "ranking":
        return ("rank", *COLUMNS), [[i, *_row(r)] for i, r in enumerate(stats.ranking, start=1)]
    return COLUMNS, [_row(r) for r in [*stats.groups[which], stats.total]]


def _row(row: Row) -> list[Any]:
    values = row.values()
    return [values[c] for c in COLUMNS]


def to_csv(stats: Stats, which: Table) -> str:
    header, rows = table(stats, which)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def to_xlsx(stats: Stats) -> bytes:
    """Every table of :data:`TABLES` on a sheet of its name, headers in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = True
    for which in TABLES:
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = which
        header, rows = table(stats, which)
        sheet.append(list(header))
        for values in rows:
            sheet.append(values)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
