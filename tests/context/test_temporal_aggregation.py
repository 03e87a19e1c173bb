"""Aggregated temporal representation (clause 4.5.19) on known numbers, and history retention."""

from __future__ import annotations

import math
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.context.models import NgsiAttributeHistory
from saola.context.temporal import parse_retention_overrides, purge_history
from tests.context.conftest import Ngsi
from tests.core.test_cli import SAOLA, saola_env

METER = "urn:ngsi-ld:Meter:m1"
HOUR_0 = "2026-05-01T00:00:00Z"
HOUR_1 = "2026-05-01T01:00:00Z"
HOUR_2 = "2026-05-01T02:00:00Z"


@pytest.fixture
def meter(ngsi: Ngsi) -> None:
    """Values 1..10: 1..5 in the first hour, 6..10 in the second; one string reading."""
    readings = [{"type": "Property", "value": v, "observedAt": f"2026-05-01T{(v - 1) // 5:02d}:{v * 5:02d}:00Z"}
                for v in range(1, 11)]
    response = ngsi.post("/temporal/entities", json={"id": METER, "type": "Meter", "power": readings,
                                                     "status": {"type": "Property", "value": "ok",
                                                                "observedAt": "2026-05-01T00:10:00Z"}})
    assert response.status_code == 201, response.text


def _aggregate(ngsi: Ngsi, methods: str, **params: str) -> dict[str, object]:
    response = ngsi.get(f"/temporal/entities/{METER}", params={
        "options": "aggregatedValues", "aggrMethods": methods, "attrs": "power", **params})
    assert response.status_code == 200, response.text
    return response.json()["power"]


def test_each_method_over_the_whole_period(ngsi: Ngsi, meter: None) -> None:
    params = {"timerel": "between", "timeAt": HOUR_0, "endTimeAt": HOUR_2}
    power = _aggregate(ngsi, "totalCount,distinctCount,sum,avg,min,max,stddev,sumsq", **params)
    assert power["type"] == "Property"
    expected = {"totalCount": 10, "distinctCount": 10, "sum": 55, "avg": 5.5, "min": 1, "max": 10,
                "stddev": math.sqrt(8.25), "sumsq": 385}
    for method, value in expected.items():
        assert len(power[method]) == 1, method
        result, start, end = power[method][0]
        assert result == pytest.approx(value), method
        assert (start, end) == (HOUR_0, HOUR_2)


def test_hourly_buckets(ngsi: Ngsi, meter: None) -> None:
    params = {"timerel": "between", "timeAt": HOUR_0, "endTimeAt": HOUR_2, "aggrPeriodDuration": "PT1H"}
    power = _aggregate(ngsi, "totalCount,sum,avg,min,max,stddev,sumsq", **params)
    assert power["sum"] == [[15, HOUR_0, HOUR_1], [40, HOUR_1, HOUR_2]]
    assert power["avg"] == [[3, HOUR_0, HOUR_1], [8, HOUR_1, HOUR_2]]
    assert power["totalCount"] == [[5, HOUR_0, HOUR_1], [5, HOUR_1, HOUR_2]]
    assert [v for v, _, _ in power["min"]] == [1, 6] and [v for v, _, _ in power["max"]] == [5, 10]
    assert [v for v, _, _ in power["sumsq"]] == [55, 330]
    assert [v for v, _, _ in power["stddev"]] == pytest.approx([math.sqrt(2), math.sqrt(2)])


def test_default_period_and_non_numbers(ngsi: Ngsi, meter: None) -> None:
    power = _aggregate(ngsi, "sum")
    assert power["sum"][0][:2] == [55, "2026-05-01T00:05:00Z"]
    status = ngsi.get(f"/temporal/entities/{METER}?options=aggregatedValues&aggrMethods=totalCount,sum,max"
                      "&attrs=status").json()["status"]
    assert status["totalCount"][0][0] == 1 and status["sum"] == [] and status["max"][0][0] == "ok"
    daily = ngsi.post("/temporal/entityOperations/query?options=aggregatedValues", json={
        "type": "Query", "entities": [{"id": METER}], "attrs": ["power"], "aggrMethods": ["avg"],
        "aggrPeriodDuration": "P1D", "temporalQ": {"timerel": "after", "timeAt": "2026-05-01T00:00:00Z"}})
    assert daily.status_code == 200, daily.text
    assert daily.json()[0]["power"]["avg"] == [[5.5, HOUR_0, "2026-05-02T00:00:00Z"]]


def _rows(db: Session) -> int:
    return db.scalar(select(func.count(NgsiAttributeHistory.id))) or 0


def test_purge_history_by_age_and_type(ngsi: Ngsi, meter: None, db: Session) -> None:
    ngsi.create({"id": "urn:ngsi-ld:Sensor:s1", "type": "Sensor",
                 "temperature": {"type": "Property", "value": 1, "observedAt": "2026-05-01T00:00:00Z"}})
    assert _rows(db) == 12
    now = datetime(2026, 5, 11, tzinfo=UTC)
    assert purge_history(db, now=now, days=0) == 0
    assert purge_history(db, now=now, days=30) == 0
    assert purge_history(db, now=now, days=30, per_type={"Meter": 5}) == 11
    db.commit()
    assert _rows(db) == 1
    assert purge_history(db, now=now, days=5, per_type={"Sensor": 0}) == 0
    assert purge_history(db, now=now, days=5) == 1


def test_retention_overrides_are_parsed() -> None:
    assert parse_retention_overrides("") == {}
    assert parse_retention_overrides("Meter=5, https://x.org/T=0") == {"Meter": 5, "https://x.org/T": 0}
    with pytest.raises(ValueError):
        parse_retention_overrides("Meter")


def test_purge_history_command(ngsi: Ngsi, meter: None, db: Session, database_url: str, tmp_path: Path) -> None:
    def run(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SAOLA, "context", "purge-history"], env=saola_env(database_url, tmp_path, **env),
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)

    nothing = run()
    assert nothing.returncode == 0 and "nothing to purge" in nothing.stdout
    bad = run(SAOLA_NGSI_LD_RETENTION_BY_TYPE="Meter")
    assert bad.returncode == 2 and "TYPE=DAYS" in bad.stderr
    purged = run(SAOLA_NGSI_LD_RETENTION_DAYS="1")
    assert purged.returncode == 0, purged.stderr
    assert "Deleted 11 history rows." in purged.stdout
    db.rollback()
    assert _rows(db) == 0


@pytest.mark.parametrize("query", [
    "timerel=between&timeAt=2026-05-01T00:00:00Z&endTimeAt=2027-05-01T00:00:00Z&aggrPeriodDuration=PT1S",
    "timerel=after&timeAt=9999-12-31T23:00:00Z&aggrPeriodDuration=PT2H",
    "timerel=after&timeAt=0001-01-01T00:00:00%2B01:00", "aggrPeriodDuration=P99999999999Y",
])
def test_extreme_periods_never_fail(ngsi: Ngsi, meter: None, query: str) -> None:
    response = ngsi.get(f"/temporal/entities/{METER}?options=aggregatedValues&aggrMethods=sum&{query}")
    assert response.status_code in (200, 400), response.text
    if "P99999999999Y" in query:
        assert response.status_code == 400
    if "PT1S" in query:  # periods are only made where there are values
        assert len(response.json()["power"]["sum"]) == 10


def test_overflowing_sums_are_left_out(ngsi: Ngsi) -> None:
    huge = [{"type": "Property", "value": v, "observedAt": f"2026-05-01T00:0{i}:00Z"}
            for i, v in enumerate([1e308, 1e308, 10**400])]
    assert ngsi.post("/temporal/entities", json={"id": METER, "type": "Meter", "power": huge}).status_code == 201
    response = ngsi.get(f"/temporal/entities/{METER}?options=aggregatedValues&aggrMethods=sum,max,totalCount")
    assert response.status_code == 200, response.text
    power = response.json()
    assert power["power"]["sum"] == [] and power["power"]["max"][0][0] == 1e308
    assert power["power"]["totalCount"][0][0] == 3
