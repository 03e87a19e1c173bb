"""What the display board shows, and the server-sent-events framing of its live stream.

:func:`board_state` reads the day's state (each counter's current ticket, the last calls, how many
wait per service); :func:`sse_event` and :func:`sse_comment` frame text for ``text/event-stream``
(a multi-line HTML fragment becomes several ``data:`` lines, joined back by the browser).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.egov.queue.models import CALLED, WAITING, QueueCall, QueueCounter, QueueService, QueueTicket
from saola.egov.queue.numbering import CENTRE_TZ, local_day

LAST_CALLS = 8


def board_state(session: Session, *, now: datetime, tz: str = CENTRE_TZ) -> dict[str, Any]:
    """``{"day", "counters", "last_calls", "waiting"}`` — plain data, for the board page, its stream and the API."""
    day = local_day(now, tz)
    serving = dict(session.execute(select(QueueTicket.counter_id, QueueTicket.code)
                                   .where(QueueTicket.day == day, QueueTicket.status == CALLED)).all())
    counters = [{"number": c.number, "name": c.name, "is_open": c.is_open, "ticket": serving.get(c.id)}
                for c in session.scalars(select(QueueCounter).where(QueueCounter.active.is_(True))
                                         .order_by(QueueCounter.number))]
    calls = session.execute(
        select(QueueTicket.code, QueueCounter.number, QueueCall.called_at)
        .join(QueueTicket, QueueTicket.id == QueueCall.ticket_id)
        .join(QueueCounter, QueueCounter.id == QueueCall.counter_id)
        .where(QueueCall.day == day).order_by(QueueCall.called_at.desc(), QueueCall.id.desc()).limit(LAST_CALLS))
    local = ZoneInfo(tz)
    last_calls = [{"code": code, "counter_number": number, "called_at": at,
                   "time": at.astimezone(local).strftime("%H:%M")} for code, number, at in calls]
    counts = dict(session.execute(select(QueueTicket.service_id, func.count())
                                  .where(QueueTicket.day == day, QueueTicket.status == WAITING)
                                  .group_by(QueueTicket.service_id)).all())
    waiting = [{"service_id": s.id, "prefix": s.prefix, "name": s.name, "name_en": s.name_en,
                "waiting": int(counts.get(s.id, 0))}
               for s in session.scalars(select(QueueService).where(QueueService.active.is_(True))
                                        .order_by(QueueService.position, QueueService.prefix))]
    return {"day": day, "counters": counters, "last_calls": last_calls, "waiting": waiting}


def sse_event(event: str, data: str, *, event_id: str | None = None) -> str:
    """One server-sent event; every line of ``data`` gets its own ``data:`` field."""
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in (data.splitlines() or [""])]
    return "\n".join(lines) + "\n\n"


def sse_comment(text: str) -> str:
    """A comment line: keeps proxies and the browser's connection alive, ignored by ``EventSource``."""
    return f": {text}\n\n"
