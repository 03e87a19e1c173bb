"""Storage of the NGSI-LD attribute history: the time index, monthly partitions on PostgreSQL, retention.

Every test runs on both backends. On SQLite the history is one table and the partition maintenance
does nothing; on PostgreSQL rows must land in their month's partition (or DEFAULT), none may be
lost whatever its time, and retention drops whole months.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from saola.context.cli import partition_cutoff
from saola.context.models import NgsiAttributeHistory
from saola.context.partitions import DEFAULT_PARTITION, drop_expired_partitions, ensure_partitions, partitions
from saola.core.db import make_engine
from saola.core.migrate import upgrade
from tests.conftest import PG_URL, pg_scratch_database
from tests.context.conftest import Ngsi
from tests.core.test_cli import SAOLA, saola_env

SENSOR = "urn:ngsi-ld:Sensor:history-1"
NOW = datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _load(ngsi: Ngsi, *moments: datetime, entity_id: str = SENSOR) -> None:
    readings = [{"type": "Property", "value": i, "observedAt": _iso(m)} for i, m in enumerate(moments)]
    response = ngsi.post("/temporal/entities", json={"id": entity_id, "type": "Sensor", "reading": readings})
    assert response.status_code in (201, 204), response.text


def _values(ngsi: Ngsi, entity_id: str = SENSOR) -> list[int]:
    response = ngsi.get(f"/temporal/entities/{entity_id}?options=temporalValues&attrs=reading")
    assert response.status_code == 200, response.text
    return sorted(v for v, _t in response.json()["reading"]["values"])


def _where(db: Session) -> dict[int, str]:
    """reading value → the table (partition) holding its row ("ngsi_attribute_history" on SQLite)."""
    db.rollback()
    h = NgsiAttributeHistory
    if db.get_bind().dialect.name != "postgresql":
        return {row.instance["value"]: "ngsi_attribute_history"
                for row in db.scalars(select(h).where(h.entity_id == SENSOR))}
    rows = db.execute(text("SELECT tableoid::regclass::text, instance FROM ngsi_attribute_history "
                           "WHERE entity_id = :e"), {"e": SENSOR})
    return {inst["value"]: table.split(".")[-1] for table, inst in rows}


def _maintain(db: Session, **kw: datetime) -> list[str]:
    conn: Connection = db.connection()
    created = ensure_partitions(conn, now=kw.get("now", NOW))
    db.commit()
    return created


def test_time_index_is_observed_at_else_the_recording_time(ngsi: Ngsi, db: Session) -> None:
    observed = "2026-03-02T08:00:00Z"
    ngsi.create({"id": "urn:ngsi-ld:Lamp:t1", "type": "Lamp",
                 "luminosity": {"type": "Property", "value": 40, "observedAt": observed},
                 "state": {"type": "Property", "value": "on"}})
    h = NgsiAttributeHistory
    rows = {r.attr_iri.rsplit("/", 1)[-1]: r for r in db.scalars(select(h).where(h.entity_id == "urn:ngsi-ld:Lamp:t1"))}
    assert rows["luminosity"].time_index == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert rows["state"].observed_at is None
    assert rows["state"].time_index == rows["state"].modified_at


def test_a_corrected_instance_moves_with_its_new_observed_at(ngsi: Ngsi, db: Session) -> None:
    _load(ngsi, NOW)
    instance_id = ngsi.get(f"/temporal/entities/{SENSOR}").json()["reading"][0]["instanceId"]
    response = ngsi.patch(f"/temporal/entities/{SENSOR}/attrs/reading/{instance_id}",
                          json={"reading": {"type": "Property", "value": 0, "observedAt": "1990-06-15T00:00:00Z"}})
    assert response.status_code == 204, response.text
    db.rollback()
    row = db.scalars(select(NgsiAttributeHistory).where(NgsiAttributeHistory.instance_id == instance_id)).one()
    assert row.time_index == datetime(1990, 6, 15, tzinfo=UTC)
    assert _values(ngsi) == [0]
    if db.get_bind().dialect.name == "postgresql":
        assert _where(db) == {0: DEFAULT_PARTITION}  # no partition for 1990 yet: DEFAULT keeps it


def test_rows_land_in_their_month_and_no_time_is_lost(ngsi: Ngsi, db: Session) -> None:
    far_past = datetime(1850, 1, 1, tzinfo=UTC)
    far_future = datetime(2400, 12, 31, 23, 59, tzinfo=UTC)
    _load(ngsi, NOW, far_past, far_future)
    assert _values(ngsi) == [0, 1, 2]
    where = _where(db)
    if db.get_bind().dialect.name != "postgresql":
        assert set(where.values()) == {"ngsi_attribute_history"}
        assert _maintain(db) == [] and partitions(db.connection()) == []
        return
    assert where == {0: f"ngsi_attribute_history_p{NOW:%Y%m}", 1: DEFAULT_PARTITION, 2: DEFAULT_PARTITION}
    created = _maintain(db)
    assert {"ngsi_attribute_history_p185001", "ngsi_attribute_history_p240012"} <= set(created)
    assert _where(db) == {0: f"ngsi_attribute_history_p{NOW:%Y%m}", 1: "ngsi_attribute_history_p185001",
                          2: "ngsi_attribute_history_p240012"}
    assert _values(ngsi) == [0, 1, 2]
    assert _maintain(db) == []  # idempotent


def test_months_ahead_are_created_before_they_are_needed(db: Session) -> None:
    in_a_year = NOW + timedelta(days=365)
    created = _maintain(db, now=in_a_year)
    if db.get_bind().dialect.name != "postgresql":
        assert created == []
        return
    assert f"ngsi_attribute_history_p{in_a_year:%Y%m}" in created
    starts = [p.start for p in partitions(db.connection())]
    assert starts == sorted(starts) and len(starts) == len(set(starts))


def test_retention_drops_whole_old_months(ngsi: Ngsi, db: Session) -> None:
    old = NOW - timedelta(days=400)
    _load(ngsi, NOW, old)
    _maintain(db)
    conn = db.connection()
    dropped = drop_expired_partitions(conn, cutoff=NOW - timedelta(days=100))
    db.commit()
    if db.get_bind().dialect.name != "postgresql":
        assert dropped == 0 and _values(ngsi) == [0, 1]
        return
    assert dropped == 1
    assert f"ngsi_attribute_history_p{old:%Y%m}" not in {p.name for p in partitions(db.connection())}
    assert _values(ngsi) == [0]


def test_purge_history_command_drops_partitions_and_rows(ngsi: Ngsi, db: Session, database_url: str,
                                                         tmp_path: Path) -> None:
    _load(ngsi, NOW, NOW - timedelta(days=400), NOW - timedelta(days=45))
    env = saola_env(database_url, tmp_path, SAOLA_NGSI_LD_RETENTION_DAYS="30")
    purged = subprocess.run([SAOLA, "context", "purge-history"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert purged.returncode == 0, purged.stderr
    assert "Deleted 2 history rows." in purged.stdout
    assert _values(ngsi) == [0]


def test_maintain_history_command(database_url: str, tmp_path: Path) -> None:
    done = subprocess.run([SAOLA, "context", "maintain-history"], env=saola_env(database_url, tmp_path),
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Created ") and "history partitions" in done.stdout


@pytest.mark.parametrize(("days", "per_type", "expected"), [
    (30, {}, 30), (30, {"Meter": 400}, 400), (400, {"Meter": 5}, 400), (0, {"Meter": 5}, None), (30, {"T": 0}, None),
])
def test_whole_months_are_dropped_only_past_every_retention(days: int, per_type: dict[str, int],
                                                            expected: int | None) -> None:
    cutoff = partition_cutoff(NOW, days, per_type)
    assert cutoff == (None if expected is None else NOW - timedelta(days=expected))


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def database_at_0004(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, "0004")
        yield url
        return
    with pg_scratch_database("saola_0004") as (_name, url):
        upgrade(url, "0004")
        yield url


def test_migration_0005_keeps_existing_history(database_at_0004: str) -> None:
    engine = make_engine(database_at_0004)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO ngsi_attribute_history (tenant, entity_id, attr_iri, dataset_id, instance_id, "
                "observed_at, modified_at, instance, deleted) VALUES ('', 'urn:x:1', 'a', NULL, 'i1', NULL, "
                ":m, NULL, :f), ('', 'urn:x:1', 'a', NULL, 'i2', :o, :m, NULL, :f)"),
                {"m": datetime(2026, 1, 5, tzinfo=UTC), "o": datetime(2001, 2, 3, tzinfo=UTC), "f": False})
        upgrade(database_at_0004)
        with engine.begin() as conn:
            rows = dict(conn.execute(text("SELECT instance_id, time_index FROM ngsi_attribute_history")).all())
            assert set(rows) == {"i1", "i2"}
            next_id = conn.execute(text(
                "INSERT INTO ngsi_attribute_history (tenant, entity_id, attr_iri, instance_id, modified_at, "
                "time_index, deleted) VALUES ('', 'urn:x:1', 'a', 'i3', :m, :m, :f) RETURNING id"),
                {"m": NOW, "f": False}).scalar()
            assert next_id == 3
        assert {str(v)[:10] for v in rows.values()} == {"2026-01-05", "2001-02-03"}
    finally:
        engine.dispose()
