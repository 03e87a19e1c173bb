"""Waiting and serving times: per ticket, and summed per counter, per service and per day.

* a ticket's **waiting time** runs from its issue to its first call;
* a ticket's **serving time** is the time counters spent on it: the sum of its calls that ended in
  *finished* or *transferred* (a no-show serves nobody);
* per counter and per service the figures come from the calls: waiting from entering that queue to
  that call (a transferred ticket waits again in its new queue), serving from call to end.

Averages are arithmetic means in seconds, over the calls that have the figure; a period is a range
of the centre's local days, both ends included.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from statistics import mean

from sqlalchemy import select
from sqlalchemy.orm import Session

from saola.core.errors import BadRequest
from saola.egov.queue.models import FINISHED, NO_SHOW, TRANSFERRED, QueueCall, QueueCounter, QueueService, QueueTicket

MAX_PERIOD_DAYS = 366


@dataclass
class Figures:
    """Totals of one group of calls."""

    key: str
    label: str
    calls: int = 0
    served: int = 0
    no_shows: int = 0
    transferred: int = 0
    waits: list[float] = field(default_factory=list, repr=False)
    serves: list[float] = field(default_factory=list, repr=False)

    def add(self, call: QueueCall) -> None:
        self.calls += 1
        self.waits.append((call.called_at - call.queued_at).total_seconds())
        if call.outcome == NO_SHOW:
            self.no_shows += 1
        elif call.outcome in (FINISHED, TRANSFERRED) and call.ended_at is not None:
            self.serves.append((call.ended_at - call.called_at).total_seconds())
            if call.outcome == FINISHED:
                self.served += 1
            else:
                self.transferred += 1

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "label": self.label, "calls": self.calls, "served": self.served,
                "no_shows": self.no_shows, "transferred": self.transferred,
                "avg_wait_seconds": round(mean(self.waits), 1) if self.waits else None,
                "max_wait_seconds": round(max(self.waits), 1) if self.waits else None,
                "avg_serve_seconds": round(mean(self.serves), 1) if self.serves else None,
                "max_serve_seconds": round(max(self.serves), 1) if self.serves else None}


@dataclass(frozen=True)
class TicketTimes:
    ticket: QueueTicket
    wait_seconds: float | None
    serve_seconds: float | None


def check_period(start: date, end: date) -> None:
    if end < start:
        raise BadRequest("The period ends before it starts", field="end")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise BadRequest("The period is longer than {days} days", field="end", days=MAX_PERIOD_DAYS)


def _calls(session: Session, start: date, end: date) -> list[QueueCall]:
    stmt = select(QueueCall).where(QueueCall.day >= start, QueueCall.day <= end)
    return list(session.scalars(stmt.order_by(QueueCall.called_at, QueueCall.id)))


def summary(session: Session, *, start: date, end: date, lang: str = "vi") -> dict[str, object]:
    """``{"period", "total", "by_service", "by_counter", "by_day", "issued"}`` for the local days start..end."""
    check_period(start, end)
    services = {s.id: s for s in session.scalars(select(QueueService))}
    counters = {c.id: c for c in session.scalars(select(QueueCounter))}
    total = Figures("all", "all")
    by_service: dict[int, Figures] = {}
    by_counter: dict[int, Figures] = {}
    by_day: dict[date, Figures] = {}
    for call in _calls(session, start, end):
        total.add(call)
        svc = services.get(call.service_id)
        svc_label = (svc.name if lang == "vi" else svc.name_en or svc.name) if svc else str(call.service_id)
        svc_key = svc.prefix if svc else str(call.service_id)
        by_service.setdefault(call.service_id, Figures(svc_key, svc_label)).add(call)
        counter = counters.get(call.counter_id)
        by_counter.setdefault(call.counter_id, Figures(str(counter.number if counter else call.counter_id),
                                                       counter.name if counter else "")).add(call)
        by_day.setdefault(call.day, Figures(call.day.isoformat(), call.day.isoformat())).add(call)
    issued: dict[str, int] = defaultdict(int)
    stmt = select(QueueTicket.issued_service_id).where(QueueTicket.day >= start, QueueTicket.day <= end)
    for service_id in session.scalars(stmt):
        svc = services.get(service_id)
        issued[svc.prefix if svc else str(service_id)] += 1
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "issued": dict(sorted(issued.items())),
        "total": total.as_dict(),
        "by_service": [f.as_dict() for _k, f in sorted(by_service.items(), key=lambda kv: kv[1].key)],
        "by_counter": [f.as_dict() for _k, f in sorted(by_counter.items(), key=lambda kv: int(kv[1].key))],
        "by_day": [f.as_dict() for _d, f in sorted(by_day.items())],
    }


def ticket_times(session: Session, *, start: date, end: date) -> list[TicketTimes]:
    """Every ticket of the period with its waiting and serving time (None when not reached yet)."""
    check_period(start, end)
    tickets = list(session.scalars(select(QueueTicket).where(QueueTicket.day >= start, QueueTicket.day <= end)
                                   .order_by(QueueTicket.issued_at, QueueTicket.id)))
    serve: dict[int, float] = defaultdict(float)
    for call in _calls(session, start, end):
        if call.outcome in (FINISHED, TRANSFERRED) and call.ended_at is not None:
            serve[call.ticket_id] += (call.ended_at - call.called_at).total_seconds()
    out = []
    for t in tickets:
        wait = (t.first_called_at - t.issued_at).total_seconds() if t.first_called_at else None
        out.append(TicketTimes(t, wait, serve.get(t.id)))
    return out


CSV_COLUMNS = ["day", "code", "service", "priority", "appointment", "status", "issued_at", "first_called_at",
               "finished_at", "wait_seconds", "serve_seconds", "counter"]


def tickets_csv(session: Session, *, start: date, end: date) -> str:
    """The period's tickets as CSV (UTF-8, one line per ticket, times in ISO 8601 UTC)."""
    prefixes = {s.id: s.prefix for s in session.scalars(select(QueueService))}
    numbers = {c.id: c.number for c in session.scalars(select(QueueCounter))}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in ticket_times(session, start=start, end=end):
        t = row.ticket
        writer.writerow([t.day.isoformat(), t.code, prefixes.get(t.service_id, ""), t.priority,
                         "yes" if t.appointment_id else "", t.status, t.issued_at.isoformat(),
                         t.first_called_at.isoformat() if t.first_called_at else "",
                         t.finished_at.isoformat() if t.finished_at else "",
                         "" if row.wait_seconds is None else f"{row.wait_seconds:.0f}",
                         "" if row.serve_seconds is None else f"{row.serve_seconds:.0f}",
                         numbers.get(t.counter_id, "") if t.counter_id else ""])
    return buffer.getvalue()
