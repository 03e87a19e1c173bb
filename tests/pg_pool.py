"""PostgreSQL databases for the tests: copies of the migrated template, reset and reused within a run.

``CREATE DATABASE … TEMPLATE`` costs PostgreSQL about half a second of CPU for Saola's schema (about
250 relations) — per PostgreSQL test, more than most tests themselves. So each test process keeps a
few copies and, before handing one out again, brings it back to exactly the template's state:

* every connection to it is ended (as ``DROP DATABASE … WITH (FORCE)`` would);
* if its schema changed in any way (a test or the app made a table, a partition, an index, a
  function, a large object, statistics…), it is dropped and a fresh copy is made instead;
* otherwise every table holding rows is emptied (``DELETE``; ``TRUNCATE`` for large tables, and for
  all of them once the dead rows add up), the template's rows (the seeded agencies, users, audit
  rows, ``alembic_version``) are copied back with triggers off, and every sequence is set to the
  template's value — so ids, rows and counters are those of a fresh copy.

A database is reset when it is handed out (not when it is returned), so anything a stray thread of an
earlier test wrote in between is removed too; the copies are used in turn, and dropped at the end.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

# Catalogues whose size and newest object tell whether the schema is still the template's.
_FINGERPRINT = sql.SQL(", ").join(
    sql.SQL("(SELECT count(*) FROM pg_catalog.{c}), (SELECT max(oid) FROM pg_catalog.{c})").format(c=sql.Identifier(c))
    for c in ("pg_class", "pg_type", "pg_proc", "pg_constraint", "pg_namespace", "pg_attrdef", "pg_trigger",
              "pg_extension", "pg_largeobject_metadata", "pg_rewrite", "pg_policy", "pg_collation", "pg_operator",
              "pg_event_trigger", "pg_publication")
)
_FINGERPRINT_QUERY = sql.SQL(
    "SELECT {}, (SELECT count(*) FROM pg_catalog.pg_attribute), (SELECT count(*) FROM pg_catalog.pg_index), "
    "(SELECT count(*) FROM pg_catalog.pg_inherits), (SELECT count(*) FROM pg_catalog.pg_statistic), "
    "(SELECT count(*) FROM pg_catalog.pg_depend), "
    "(SELECT coalesce(string_agg(array_to_string(setconfig, ','), ';'), '') FROM pg_catalog.pg_db_role_setting "
    "WHERE setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))"
).format(_FINGERPRINT)

_TABLES = ("SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
           "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
           "AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1, 2")
_BIG = 1000  # a table with this many rows is truncated rather than emptied with DELETE
_DEAD_ROWS = 20000  # rows a copy may have deleted before all its used tables are truncated
_SEQUENCES = "SELECT schemaname, sequencename, start_value, last_value FROM pg_catalog.pg_sequences ORDER BY 1, 2"


def _conninfo(url: str) -> str:
    """A libpq connection string from a SQLAlchemy URL (``postgresql+psycopg://…``)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@dataclass
class _Pristine:
    """What a fresh copy of the template looks like."""

    fingerprint: tuple[Any, ...]
    tables: list[tuple[str, str]]
    rows: dict[tuple[str, str], tuple[list[str], bytes]]  # table → (columns, COPY binary data)
    sequences: list[tuple[str, str, int, int | None]]


def read_pristine(url: str) -> _Pristine:
    """Read the template's state (connect to it only while nothing copies it)."""
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        fingerprint = tuple(conn.execute(_FINGERPRINT_QUERY).fetchone() or ())
        tables = [(s, t) for s, t in conn.execute(_TABLES).fetchall()]
        rows: dict[tuple[str, str], tuple[list[str], bytes]] = {}
        for schema, table in tables:
            ident = sql.Identifier(schema, table)
            if conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(ident)).fetchone()[0]:
                columns = [r[0] for r in conn.execute(
                    "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                    "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                    (sql.Identifier(schema, table).as_string(conn),)).fetchall()]
                data = bytearray()
                copy_out = sql.SQL("COPY {} ({}) TO STDOUT (FORMAT binary)").format(
                    ident, sql.SQL(", ").join(map(sql.Identifier, columns)))
                with conn.cursor().copy(copy_out) as copy:
                    for chunk in copy:
                        data += chunk
                rows[(schema, table)] = (columns, bytes(data))
        sequences = [tuple(r) for r in conn.execute(_SEQUENCES).fetchall()]
    return _Pristine(fingerprint, tables, rows, sequences)  # type: ignore[arg-type]


@dataclass
class DatabasePool:
    """Copies of one template database for this test process (see the module docstring)."""

    admin_url: str  # a database to connect to for CREATE/DROP DATABASE (``postgres``)
    url_of: Any  # name → SQLAlchemy URL of that database
    template: str
    pristine: _Pristine
    size: int = 2
    _idle: deque[str] = field(default_factory=deque)
    _all: list[str] = field(default_factory=list)
    _counter: int = 0
    _dead: dict[str, int] = field(default_factory=dict)  # rows deleted (not truncated) per copy
    resets: int = 0  # copies handed out again after a reset
    copies: int = 0  # copies made (the first ones, and after a schema change)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(_conninfo(self.admin_url), autocommit=True)

    def _create(self, admin: psycopg.Connection) -> str:
        self._counter += 1
        name = f"{self.template}_c{self._counter}"
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                        sql.Identifier(self.template)))
        self._all.append(name)
        self.copies += 1
        return name

    def _drop(self, admin: psycopg.Connection, name: str) -> None:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self._all.remove(name)

    def acquire(self) -> str:
        """The name of a database in the template's state, for one test."""
        with self._admin() as admin:
            if len(self._all) < self.size or not self._idle:
                return self._create(admin)
            name = self._idle.popleft()
            admin.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_catalog.pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            try:
                if self._reset(name):
                    self.resets += 1
                    return name
            except psycopg.Error:
                pass
            self._drop(admin, name)
            return self._create(admin)

    def release(self, name: str) -> None:
        """The test is over: the database is reset before its next use."""
        self._idle.append(name)

    def _reset(self, name: str) -> bool:
        pristine = self.pristine
        with psycopg.connect(_conninfo(self.url_of(name))) as conn:
            if tuple(conn.execute(_FINGERPRINT_QUERY).fetchone() or ()) != pristine.fingerprint:
                return False
            probes = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {}, (SELECT count(*) FROM (SELECT FROM {} LIMIT {}) x) WHERE EXISTS (SELECT FROM {})")
                .format(sql.Literal(i), sql.Identifier(s, t), sql.Literal(_BIG), sql.Identifier(s, t))
                for i, (s, t) in enumerate(pristine.tables))
            counts = {pristine.tables[i]: n for i, n in conn.execute(probes).fetchall()}
            used = set(counts) | set(pristine.rows)
            conn.execute("SET LOCAL session_replication_role = replica")  # no triggers, no FK checks
            # DELETE is cheapest for a few rows; TRUNCATE (new files for each table) for many, or once the
            # dead rows left by earlier DELETEs add up.
            dead = self._dead.get(name, 0) + sum(counts.values())
            big = sorted(used) if dead > _DEAD_ROWS else sorted(t for t, n in counts.items() if n >= _BIG)
            if big:
                conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(sql.Identifier(*t) for t in big)))
                dead = 0 if dead > _DEAD_ROWS else dead - sum(counts[t] for t in big if t in counts)
            for table in sorted(used - set(big)):
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(*table)))
            self._dead[name] = dead
            for (schema, table), (columns, data) in pristine.rows.items():
                copy_in = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
                    sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, columns)))
                with conn.cursor().copy(copy_in) as copy:
                    copy.write(data)
            if pristine.sequences:
                conn.execute(sql.SQL("SELECT {}").format(sql.SQL(", ").join(
                    sql.SQL("setval({}, {}, {})").format(
                        sql.Literal(sql.Identifier(s, q).as_string(conn)), sql.Literal(last if last is not None
                                                                                       else start),
                        sql.Literal(last is not None))
                    for s, q, start, last in pristine.sequences)))
            conn.commit()
        return True

    def close(self) -> None:
        """Drop every copy."""
        with self._admin() as admin:
            for name in list(self._all):
                self._drop(admin, name)
        self._idle.clear()
