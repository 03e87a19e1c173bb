"""Ticket numbers: ``A001``, ``A002``… per service prefix, restarting every day in the centre's time zone.

One :class:`~saola.egov.queue.models.QueueDayCounter` row per service and local day.
``INSERT … ON CONFLICT DO NOTHING`` makes sure it exists, then ``UPDATE … RETURNING`` increments it.
On PostgreSQL the update holds the row lock until the transaction ends, so concurrent kiosks queue
behind each other and never get the same number; on SQLite the database write lock serialises them.
A unique constraint on (prefix, day, number) of the tickets backs this up.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from saola.egov.queue.models import QueueDayCounter

CENTRE_TZ = "Asia/Ho_Chi_Minh"


def local_day(now: datetime, tz: str = CENTRE_TZ) -> date:
    """The centre's calendar day at instant ``now`` (tickets restart at local midnight)."""
    return now.astimezone(ZoneInfo(tz)).date()


def format_code(prefix: str, number: int) -> str:
    """``A`` and 7 → ``A007``; beyond 999 the number simply grows (``A1000``)."""
    return f"{prefix}{number:03d}"


def next_number(session: Session, *, service_id: int, day: date) -> int:
    """Reserve the next ticket number of ``service_id`` on ``day`` (locks the counter row until commit)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(QueueDayCounter).values(service_id=service_id, day=day, last_number=0)
                    .on_conflict_do_nothing())
    stmt = (update(QueueDayCounter)
            .where(QueueDayCounter.service_id == service_id, QueueDayCounter.day == day)
            .values(last_number=QueueDayCounter.last_number + 1)
            .returning(QueueDayCounter.last_number)
            .execution_options(synchronize_session=False))
    return int(session.execute(stmt).scalar_one())
