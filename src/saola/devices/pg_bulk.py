"""PostgreSQL statements of the ingest core: whole columns as arrays through ``unnest``.

Measured (bench/devices_store_bench.py, cProfile): a multi-row ``VALUES`` of 500 rows is a new,
long query text per batch, and psycopg splits every such text in Python before sending it — a
quarter of a batch's time. Passing each column as one array parameter keeps every statement short
and constant (psycopg caches its parsing and prepares it after a few runs). The arrays go in
binary (``%(name)b``): psycopg's text format escapes every element with a regular expression, which
cost another third; since 2026-11-25 they are written in PostgreSQL's binary array format by
:func:`packed` (a few ``struct`` calls a column, not psycopg's Python loop over the elements).
The statements run on the session's own psycopg connection, in its transaction; their errors are
raised as SQLAlchemy's (:func:`_execute`), and :func:`pipeline` sends several of them without
waiting for each result. SQLite keeps the portable executemany statements
(:mod:`saola.devices.entity_writer`).

History rows (2026-11-25): binary ``COPY`` straight into ``ngsi_attribute_history``, inside a
savepoint. A batch is almost always new, and then ``COPY`` stores it with the least work on both sides
(measured on 15,000 rows, per message of 3 measures: client CPU 5-6 → 4.8 µs, PostgreSQL CPU 36-50 →
30-36 µs, and the array parameters' Python dumping gone — 0.7 µs an element, a fifth of the ingest
core's CPU). When a measure is already stored (a redelivered message: the unique index
``(instance_id, time_index)`` refuses the ``COPY``), the savepoint is rolled back and the batch goes
through ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, which says which measures are new.

Tried and not kept (2026-11-24): ``COPY`` into a temporary table then ``INSERT ... SELECT ... ON
CONFLICT`` for the history rows — client CPU 12 → 5 ms per 6,000 rows, the statement's time the same
within the noise of a shared machine: not worth a temporary table per connection.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from saola.devices.measures import Measure

HISTORY_INSERT = (
    "INSERT INTO ngsi_attribute_history (tenant, entity_id, attr_iri, instance_id, observed_at, modified_at, "
    "time_index, instance, deleted) "
    "SELECT v.tenant, v.entity_id, v.attr_iri, v.instance_id, v.observed, %(now)b, v.observed, v.instance::jsonb, "
    "false FROM unnest(%(tenant)b::text[], %(entity_id)b::text[], %(attr_iri)b::text[], %(instance_id)b::text[], "
    "%(observed)b::timestamptz[], %(instance)b::text[]) "
    "AS v(tenant, entity_id, attr_iri, instance_id, observed, instance) "
    "ON CONFLICT (instance_id, time_index) DO NOTHING RETURNING instance_id")

HISTORY_COPY = ("COPY ngsi_attribute_history (tenant, entity_id, attr_iri, instance_id, observed_at, modified_at, "
                "time_index, instance, deleted) FROM STDIN (FORMAT BINARY)")
HISTORY_COPY_TYPES = ("text", "text", "text", "text", "timestamptz", "timestamptz", "timestamptz", "jsonb", "bool")

# locked (in id order, so concurrent workers cannot deadlock): another worker or an NGSI-LD request
# writing the same entity waits, instead of one of the two writes being lost
ENTITIES_SELECT = ("SELECT id, entity_id, data FROM ngsi_entities WHERE tenant = %(tenant)b "
                   "AND entity_id = ANY(%(ids)b::text[]) ORDER BY id FOR UPDATE")

ENTITIES_UPDATE = ("UPDATE ngsi_entities AS e SET data = v.data::jsonb, modified_at = %(now)b "
                   "FROM unnest(%(pk)b::int[], %(data)b::text[]) AS v(pk, data) WHERE e.id = v.pk")

VALUES_DELETE = ("DELETE FROM ngsi_attribute_values AS a USING unnest(%(pk)b::int[], %(iri)b::text[]) AS v(pk, iri) "
                 "WHERE a.entity_pk = v.pk AND a.attr_iri = v.iri")

VALUES_UPDATE = (
    "UPDATE ngsi_attribute_values AS a SET num_value = v.num, text_value = v.txt, attr_type = v.kind "
    "FROM unnest(%(pk)b::int[], %(iri)b::text[], %(num)b::float8[], %(txt)b::text[], %(kind)b::text[]) "
    "AS v(pk, iri, num, txt, kind) "
    "WHERE a.entity_pk = v.pk AND a.attr_iri = v.iri AND (a.num_value IS NOT NULL OR a.text_value IS NOT NULL)")

VALUES_INSERT = (
    "INSERT INTO ngsi_attribute_values (entity_pk, tenant, attr_iri, attr_type, num_value, text_value) "
    "SELECT * FROM unnest(%(entity_pk)b::int[], %(tenant)b::text[], %(attr_iri)b::text[], %(attr_type)b::text[], "
    "%(num_value)b::float8[], %(text_value)b::text[])")

ROLLUPS_UPSERT = (
    "INSERT INTO device_rollups (tenant, entity_id, attr_iri, period, bucket, count, sum, min, max) "
    "SELECT * FROM unnest(%(tenant)b::text[], %(entity_id)b::text[], %(attr_iri)b::text[], %(period)b::int[], "
    "%(bucket)b::timestamptz[], %(count)b::bigint[], %(sum)b::float8[], %(min)b::float8[], %(max)b::float8[]) "
    "ON CONFLICT (tenant, entity_id, attr_iri, period, bucket) DO UPDATE SET "
    "count = device_rollups.count + excluded.count, sum = device_rollups.sum + excluded.sum, "
    "min = least(device_rollups.min, excluded.min), max = greatest(device_rollups.max, excluded.max)")

DEVICE_COLUMNS = ("id", "api_key", "device_id", "tenant", "entity_id", "entity_type", "attributes", "token_hash",
                  "online")  # what the ingest core reads of a device
DEVICES_SELECT = f"SELECT {', '.join(DEVICE_COLUMNS)} FROM devices WHERE device_id = ANY(%(ids)b::text[])"

DEVICES_HEALTH = (
    "UPDATE devices AS d SET "
    "last_seen = CASE WHEN v.seen IS NULL THEN d.last_seen WHEN d.last_seen IS NULL OR d.last_seen < v.seen "
    "THEN v.seen ELSE d.last_seen END, "
    "message_count = d.message_count + v.messages, measure_count = d.measure_count + v.measures, "
    "rejected_count = d.rejected_count + v.rejected, battery = coalesce(v.battery, d.battery), "
    "signal = coalesce(v.signal, d.signal), online = coalesce(v.online, d.online) "
    "FROM unnest(%(pk)b::int[], %(seen)b::timestamptz[], %(messages)b::bigint[], %(measures)b::bigint[], "
    "%(rejected)b::bigint[], %(battery)b::float8[], %(signal)b::float8[], %(online)b::boolean[]) "
    "AS v(pk, seen, messages, measures, rejected, battery, signal, online) WHERE d.id = v.pk")


class PackedArray(bytes):
    """A one-dimensional array already in PostgreSQL's binary format (:func:`packed`); one subclass per type."""


_ARRAY_TYPES: dict[str, tuple[int, str]] = {  # kind: (element oid, struct code; "" = variable length)
    "int4": (23, "i"), "int8": (20, "q"), "float8": (701, "d"), "bool": (16, "?"), "text": (25, ""),
    "timestamptz": (1184, "q")}
_ARRAY_OIDS = {"int4": 1007, "int8": 1016, "float8": 1022, "bool": 1000, "text": 1009, "timestamptz": 1185}
_ARRAY_CLASSES: dict[str, type[PackedArray]] = {}
for _kind, _oid in _ARRAY_OIDS.items():
    _cls = _ARRAY_CLASSES[_kind] = type(f"Packed_{_kind}", (PackedArray,), {})
    _cls.dumper = type(f"Packed_{_kind}_Dumper", (Dumper,), {  # type: ignore[attr-defined]
        "format": Format.BINARY, "oid": _oid, "dump": lambda self, obj: obj})
_LENGTH = struct.Struct("!i")
_NULL = _LENGTH.pack(-1)
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def packed(kind: str, values: Sequence[Any]) -> PackedArray:
    """``values`` (``None`` for NULL) as a binary ``<kind>[]`` parameter, written with a few ``struct`` calls.

    psycopg's own list dumper works element by element in Python (0.7 µs an element, measured: a third
    of the ingest core's CPU when each message of a batch is another device's, as in a large city)."""
    element_oid, code = _ARRAY_TYPES[kind]
    if kind == "timestamptz":
        values = [None if v is None else (v - _PG_EPOCH) // _MICROSECOND for v in values]
    has_null = None in values
    head = struct.pack("!iiIii", 1, 1 if has_null else 0, element_oid, len(values), 1) if values else \
        struct.pack("!iiI", 0, 0, element_oid)
    if not code:
        encoded = [_NULL if v is None else _LENGTH.pack(len(b := v.encode())) + b for v in values]
        body = b"".join(encoded)
    elif not has_null:
        size = struct.calcsize("!" + code)
        body = struct.pack("!" + ("i" + code) * len(values), *[x for v in values for x in (size, v)])
    else:
        one = struct.Struct("!i" + code)
        size = one.size - 4
        body = b"".join(_NULL if v is None else one.pack(size, v) for v in values)
    return _ARRAY_CLASSES[kind](head + body)


def _register_packed(raw: Any) -> None:
    """The dumpers of :class:`PackedArray` on this psycopg connection (once)."""
    if not getattr(raw, "_saola_packed", False):
        for cls in _ARRAY_CLASSES.values():
            raw.adapters.register_dumper(cls, cls.dumper)  # type: ignore[attr-defined]
        raw._saola_packed = True


def _execute(conn: Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    """Run ``sql`` on the session's psycopg connection (same transaction), parameters sent in binary;
    the rows it returns, if any.

    A psycopg error is raised as SQLAlchemy's (``DataError``, ``OperationalError``...), as the
    statements run through SQLAlchemy raise theirs: the ingest core tells a refused value (the batch
    stored again in halves) from an unavailable database (:class:`StoreUnavailable`) by these classes."""
    raw: Any = conn.connection.dbapi_connection
    _register_packed(raw)
    try:
        with raw.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    except psycopg.Error as exc:
        raise _wrapped(conn, raw, exc, sql) from exc


def _wrapped(conn: Connection, raw: Any, exc: psycopg.Error, sql: str) -> BaseException:
    """SQLAlchemy's exception for a psycopg error (the connection invalidated when it is lost)."""
    lost = bool(raw.broken or raw.closed)
    if lost:
        conn.invalidate(exc)
    return DBAPIError.instance(sql, None, exc, psycopg.Error, hide_parameters=True, connection_invalidated=lost,
                               dialect=conn.dialect)


@contextmanager
def pipeline(conn: Connection) -> Iterator[None]:
    """psycopg's pipeline mode on the session's connection: the statements run in the block are sent
    without waiting for their results (a statement whose rows are fetched waits for them); errors are
    raised, as SQLAlchemy's, at the latest when the block ends."""
    raw: Any = conn.connection.dbapi_connection
    try:
        with raw.pipeline():
            yield
    except psycopg.Error as exc:
        raise _wrapped(conn, raw, exc, "(pipeline)") from exc


def columns(rows: Sequence[dict[str, Any]], names: Sequence[tuple[str, str]]) -> dict[str, PackedArray]:
    """Rows as one packed array per column (the array parameters of the statements above); ``names``:
    ``(column, kind)`` pairs."""
    return {name: packed(kind, [row[name] for row in rows]) for name, kind in names}


# the JSON text of json.dumps (documents and values hold no cycles: no check for them)
_encode = json.JSONEncoder(check_circular=False).encode


def instance_json(m: Measure, now_text: str) -> str:
    """The JSON text of ``json.dumps(m.instance(now_text))``, written without building the dict
    (measured: a fifth of the cost). The times are ``now_iso`` texts: nothing to escape."""
    value = m.value
    kind = type(value)
    text = repr(value) if kind is int or kind is float else _encode(value)  # what json.dumps writes
    unit = f', "unitCode": {_encode(m.unit)}' if m.unit else ""
    return (f'{{"type": "Property", "value": {text}, "observedAt": "{m.observed_text}"{unit}, '
            f'"createdAt": "{now_text}", "modifiedAt": "{now_text}"}}')


class JsonText(str):
    """A JSON document already written as text (:func:`instance_json`): sent to a ``jsonb`` column as is."""

    __slots__ = ()


class _JsonTextBinaryDumper(Dumper):
    """``jsonb``'s binary format is a version byte then the JSON text: no encoding again in Python."""

    format = Format.BINARY
    oid = 3802  # jsonb (a built-in type: the same oid in every database)

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()


def _copy_history(conn: Connection, measures: Sequence[Measure], now: datetime, now_text: str) -> bool:
    """``COPY`` the history rows in a savepoint; False (nothing stored) when one of them is stored already."""
    raw: Any = conn.connection.dbapi_connection
    try:
        with raw.transaction(), raw.cursor() as cursor:
            cursor.adapters.register_dumper(JsonText, _JsonTextBinaryDumper)  # this cursor only
            with cursor.copy(HISTORY_COPY) as copy:
                copy.set_types(HISTORY_COPY_TYPES)
                write = copy.write_row
                for m in measures:
                    write((m.tenant, m.entity_id, m.attr_iri, m.instance_id, m.observed, now, m.observed,
                           JsonText(instance_json(m, now_text)), False))
        return True
    except pg_errors.UniqueViolation:
        return False
    except psycopg.Error as exc:
        raise _wrapped(conn, raw, exc, HISTORY_COPY) from exc


def insert_history(conn: Connection, measures: Sequence[Measure], now: datetime, now_text: str) -> set[str]:
    """Insert the history rows of ``measures``; the instance ids that were not stored yet."""
    if _copy_history(conn, measures, now, now_text):
        return {m.instance_id for m in measures}
    params: dict[str, Any] = {
        "tenant": [m.tenant for m in measures], "entity_id": [m.entity_id for m in measures],
        "attr_iri": [m.attr_iri for m in measures], "instance_id": [m.instance_id for m in measures],
        "observed": [m.observed for m in measures], "instance": [instance_json(m, now_text) for m in measures],
        "now": now}
    return {row.instance_id for row in _execute(conn, HISTORY_INSERT, params)}


def load_entities(conn: Connection, tenant: str, ids: list[str]) -> list[Any]:
    return _execute(conn, ENTITIES_SELECT, {"tenant": tenant, "ids": packed("text", ids)})


def update_entities(conn: Connection, docs: list[dict[str, Any]], now: datetime) -> None:
    _execute(conn, ENTITIES_UPDATE, {"pk": packed("int4", [d["pk"] for d in docs]),
                                     "data": packed("text", [_encode(d["doc"]) for d in docs]), "now": now})


def update_values(conn: Connection, in_place: list[dict[str, Any]], replaced: list[dict[str, Any]],
                  fresh: list[dict[str, Any]]) -> None:
    """Value-index rows: ``in_place`` updated, the rows of ``replaced`` (pk, iri) deleted, ``fresh`` inserted."""
    if in_place:
        _execute(conn, VALUES_UPDATE, columns(in_place, (("pk", "int4"), ("iri", "text"), ("num", "float8"),
                                                         ("txt", "text"), ("kind", "text"))))
    if replaced:
        _execute(conn, VALUES_DELETE, columns(replaced, (("pk", "int4"), ("iri", "text"))))
    if fresh:
        _execute(conn, VALUES_INSERT, columns(fresh, (("entity_pk", "int4"), ("tenant", "text"), ("attr_iri", "text"),
                                                      ("attr_type", "text"), ("num_value", "float8"),
                                                      ("text_value", "text"))))


def upsert_rollups(conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """``rows``: ``(tenant, entity_id, attr_iri, period, bucket, count, sum, min, max)`` tuples."""
    names = (("tenant", "text"), ("entity_id", "text"), ("attr_iri", "text"), ("period", "int4"),
             ("bucket", "timestamptz"), ("count", "int8"), ("sum", "float8"), ("min", "float8"), ("max", "float8"))
    params = {name: packed(kind, column) for (name, kind), column in zip(names, zip(*rows, strict=True), strict=True)}
    _execute(conn, ROLLUPS_UPSERT, params)


def devices_by_id(conn: Connection, device_ids: list[str]) -> list[Any]:
    return _execute(conn, DEVICES_SELECT, {"ids": packed("text", device_ids)})


def update_health(conn: Connection, params: list[dict[str, Any]]) -> None:
    _execute(conn, DEVICES_HEALTH, columns(params, (("pk", "int4"), ("seen", "timestamptz"), ("messages", "int8"),
                                                  ("measures", "int8"), ("rejected", "int8"), ("battery", "float8"),
                                                  ("signal", "float8"), ("online", "bool"))))
