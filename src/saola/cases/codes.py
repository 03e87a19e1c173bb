"""Human-readable case codes (``PA-2026-000123``): a counter row per prefix and year, locked while counting.

``INSERT ... ON CONFLICT DO NOTHING`` makes sure the row exists, then ``UPDATE ... RETURNING``
increments it; the update holds the row lock until the transaction ends, so concurrent
transactions never get the same number (on SQLite the database write lock serialises them).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from saola.cases.models import CaseCounter


def next_code(session: Session, *, prefix: str, year: int) -> str:
    """The next unused code of ``prefix`` and ``year``."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(CaseCounter).values(prefix=prefix, year=year, value=0).on_conflict_do_nothing())
    stmt = (update(CaseCounter).where(CaseCounter.prefix == prefix, CaseCounter.year == year)
            .values(value=CaseCounter.value + 1).returning(CaseCounter.value)
            .execution_options(synchronize_session=False))
    value = session.execute(stmt).scalar_one()
    return f"{prefix}-{year}-{value:06d}"
