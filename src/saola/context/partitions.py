"""Monthly partitions of the NGSI-LD attribute history on PostgreSQL: create ahead, split DEFAULT, drop old.

``ngsi_attribute_history`` is ``PARTITION BY RANGE (time_index)`` (migration 0005). Partitions
live in the ``ngsi_history`` schema, named ``ngsi_attribute_history_pYYYYMM``, each holding one UTC
month; the DEFAULT partition takes any row no month partition covers, so an insert never fails
(a far-past ``observedAt`` loaded through the temporal API, or a month nobody created yet).

:func:`ensure_partitions` creates the months around now and moves rows parked in DEFAULT into
partitions of their own; :func:`drop_expired_partitions` drops whole months older than a cutoff
(instant, no row-by-row delete). Both do nothing on SQLite or on an unpartitioned table. They run
in the migration, in ``saola context maintain-history`` and before ``saola context purge-history``;
every statement runs on the given connection and the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

SCHEMA = "ngsi_history"
TABLE = "ngsi_attribute_history"
DEFAULT_PARTITION = f"{TABLE}_default"
MONTHS_AHEAD = 3
MONTHS_BEHIND = 1
MAX_SPLITS = 240  # months moved out of DEFAULT per call, so one call stays bounded
_NAME = re.compile(rf"^{TABLE}_p(\d{{4}})(\d{{2}})$")


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime
    end: datetime


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def month_of(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(text("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             "WHERE n.nspname = current_schema() AND c.relname = :t"), {"t": TABLE}).scalar()
    return kind == "p"


def partitions(conn: Connection) -> list[Partition]:
    """The month partitions (not DEFAULT), oldest first."""
    if not is_partitioned(conn):
        return []
    names = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
        "WHERE p.relname = :t AND n.nspname = current_schema()"), {"t": TABLE}).scalars()
    out = []
    for name in names:
        match = _NAME.match(name)
        if match:
            start = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
            out.append(Partition(name, start, _add_months(start, 1)))
    return sorted(out, key=lambda p: p.start)


def _create_month(conn: Connection, start: datetime) -> None:
    """Create the partition of the month at ``start``, first moving that month's rows out of DEFAULT.

    PostgreSQL refuses a new partition while DEFAULT holds rows of its range, so the rows are
    moved into a standalone table that is then attached (which builds its indexes).
    """
    end = _add_months(start, 1)
    name = f"{TABLE}_p{start:%Y%m}"
    bounds = {"lo": start, "hi": end}
    conn.execute(text(f"CREATE TABLE {SCHEMA}.{name} (LIKE {TABLE} INCLUDING DEFAULTS)"))
    conn.execute(text(
        f"WITH moved AS (DELETE FROM {SCHEMA}.{DEFAULT_PARTITION} WHERE time_index >= :lo AND time_index < :hi "
        f"RETURNING *) INSERT INTO {SCHEMA}.{name} SELECT * FROM moved"), bounds)
    conn.execute(text(f"ALTER TABLE {SCHEMA}.{name} ADD CONSTRAINT {name}_range "
                      f"CHECK (time_index >= '{start.isoformat()}' AND time_index < '{end.isoformat()}')"))
    conn.execute(text(f"ALTER TABLE {TABLE} ATTACH PARTITION {SCHEMA}.{name} "
                      f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"))
    conn.execute(text(f"ALTER TABLE {SCHEMA}.{name} DROP CONSTRAINT {name}_range"))


def ensure_partitions(conn: Connection, *, now: datetime, ahead: int = MONTHS_AHEAD,
                      behind: int = MONTHS_BEHIND) -> list[str]:
    """Create the month partitions from ``behind`` months before now to ``ahead`` after, and one for
    every month that has rows waiting in DEFAULT; the names created."""
    if not is_partitioned(conn):
        return []
    existing = {p.start for p in partitions(conn)}
    current = month_of(now)
    wanted = {_add_months(current, k) for k in range(-behind, ahead + 1)}
    parked = conn.execute(text(
        f"SELECT DISTINCT date_trunc('month', time_index AT TIME ZONE 'UTC') FROM {SCHEMA}.{DEFAULT_PARTITION} "
        f"LIMIT {MAX_SPLITS}")).scalars()
    wanted |= {m.replace(tzinfo=UTC) for m in parked}
    created = []
    for start in sorted(wanted - existing):
        _create_month(conn, start)
        created.append(f"{TABLE}_p{start:%Y%m}")
    return created


def drop_expired_partitions(conn: Connection, *, cutoff: datetime) -> int:
    """Drop the month partitions that end at or before ``cutoff``; the number of rows they held."""
    dropped_rows = 0
    for part in partitions(conn):
        if part.end > cutoff:
            break
        dropped_rows += conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.{part.name}")).scalar() or 0
        conn.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {SCHEMA}.{part.name}"))
        conn.execute(text(f"DROP TABLE {SCHEMA}.{part.name}"))
    return dropped_rows
