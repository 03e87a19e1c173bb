"""The ingest core's PostgreSQL statements: packed binary array parameters read back as sent (NULLs,
empty arrays, every element type used), and a history batch holding an already stored measure (the
binary COPY refused) still stores the new ones once and says which they are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from saola.core.db import make_engine, make_session_factory
from saola.core.migrate import upgrade
from saola.devices import pg_bulk
from saola.devices.measures import Measure, instance_id

CASES = {
    "int4": [1, -5, None, 2**31 - 1],
    "int8": [2**40, None, 0],
    "float8": [1.5, None, -1e300, 3],
    "bool": [True, None, False],
    "text": ["a", "", None, "Bắc Ninh ✓", "x" * 300],
    "timestamptz": [datetime(2026, 11, 25, 1, 2, 3, 456000, tzinfo=UTC), None,
                    datetime(1999, 1, 1, tzinfo=timezone(timedelta(hours=7)))],
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_packed_arrays_read_back_as_sent(pg_url: str, kind: str) -> None:
    engine = make_engine(pg_url)
    try:
        with make_session_factory(engine)() as session:
            conn = session.connection()
            values = CASES[kind]
            for sent in (values, [v for v in values if v is not None], []):
                [row] = pg_bulk._execute(conn, f"SELECT %(a)b::{kind}[] AS a", {"a": pg_bulk.packed(kind, sent)})
                assert row.a == [float(v) if kind == "float8" and v is not None else v for v in sent]
    finally:
        engine.dispose()


def _measure(entity: str, seconds: int) -> Measure:
    observed = datetime(2026, 11, 25, 3, 0, seconds, tzinfo=UTC)
    text_ = observed.isoformat(timespec="milliseconds")[:-6] + "Z"
    iri = "https://uri.etsi.org/ngsi-ld/default-context/temperature"
    return Measure(1, "", entity, iri, 20 + seconds, "CEL", observed, text_,
                   instance_id("", entity, iri, text_, observed), None)


def test_a_history_batch_with_a_stored_measure_stores_only_the_new_ones(pg_url: str) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    now = datetime.now(UTC)
    try:
        first = [_measure("urn:ngsi-ld:T:1", s) for s in range(3)]
        with make_session_factory(engine)() as session:
            new = pg_bulk.insert_history(session.connection(), first, now, "2026-11-25T03:00:00.000Z")
            session.commit()
        assert new == {m.instance_id for m in first}  # all new: stored by COPY
        again = [*first[1:], _measure("urn:ngsi-ld:T:1", 10)]
        with make_session_factory(engine)() as session:
            new = pg_bulk.insert_history(session.connection(), again, now, "2026-11-25T03:00:00.000Z")
            session.commit()
        assert new == {again[-1].instance_id}  # COPY refused, the fallback said which one was new
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT instance_id, instance->>'value' FROM ngsi_attribute_history "
                                     "ORDER BY observed_at")).all()
        assert [(r[0], int(r[1])) for r in rows] == [(m.instance_id, m.value) for m in [*first, again[-1]]]
    finally:
        engine.dispose()
