"""Rollups (1 minute, 1 hour) from new measures only, and the series API for charts."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from saola.context.models import NgsiAttributeHistory
from saola.core.db import unit_of_work
from saola.devices import measures, rollups
from saola.devices.ingest import Ingestor
from saola.devices.models import DeviceRollup
from tests.devices.conftest import T0, msg


def test_rollups_count_new_measures_once_and_feed_the_series_api(client, iot_headers, provision,
                                                                  ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])
    batch = [msg("aq-001", f'{{"t": {v}}}', at=T0 + timedelta(seconds=s)) for s, v in
             [(0, 10), (20, 30), (40, 20), (70, 5)]]
    assert ingestor.store(batch).stored == 4
    assert ingestor.store(batch[:2]).duplicates == 2  # duplicates do not change the rollups
    response = client.get("/api/v1/devices/aq-001/series?attr=t&period=1m&from=2026-11-24T09:59:00Z"
                          "&to=2026-11-24T10:05:00Z", headers=iot_headers)
    assert response.status_code == 200, response.text
    points = response.json()["points"]
    assert points == [
        {"t": "2026-11-24T10:00:00Z", "count": 3, "min": 10.0, "max": 30.0, "avg": 20.0},
        {"t": "2026-11-24T10:01:00Z", "count": 1, "min": 5.0, "max": 5.0, "avg": 5.0},
    ]
    hourly = client.get("/api/v1/devices/aq-001/series?attr=temperature&period=1h&from=2026-11-24T10:00:00Z"
                        "&to=2026-11-24T11:00:00Z", headers=iot_headers).json()["points"]
    assert hourly == [{"t": "2026-11-24T10:00:00Z", "count": 4, "min": 5.0, "max": 30.0, "avg": 16.25}]


def test_series_api_refuses_bad_ranges_and_unknown_devices(client, iot_headers, provision) -> None:
    provision([{"device_id": "aq-001"}])
    base = "/api/v1/devices/aq-001/series?attr=t"
    assert client.get(base + "&period=5m", headers=iot_headers).status_code == 422
    assert client.get(base + "&from=2026-11-24T10:00:00Z&to=2026-11-24T09:00:00Z",
                      headers=iot_headers).status_code == 400
    assert client.get(base + "&from=2026-01-01T00:00:00Z&to=2026-11-24T09:00:00Z",
                      headers=iot_headers).status_code == 400
    assert client.get(base + "&from=someday", headers=iot_headers).status_code == 400
    assert client.get("/api/v1/devices/ghost/series?attr=t", headers=iot_headers).status_code == 404
    assert client.get(base).status_code == 401


def test_rollup_retention_drops_old_minutes_and_keeps_hours(app, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])
    ingestor.store([msg("aq-001", '{"t": 1}')])
    with unit_of_work(app.state.session_factory) as session:
        assert rollups.purge(session, now=T0 + timedelta(days=40), days_1m=31, days_1h=0) == 1
    with app.state.session_factory() as session:
        kept = rollups.series(session, tenant="", entity_id="urn:ngsi-ld:AirQualityObserved:aq-001",
                              attr_iri="https://uri.etsi.org/ngsi-ld/default-context/temperature", period="1h",
                              start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1))
    assert [p.count for p in kept] == [1]


def test_rollups_match_a_brute_force_aggregate_of_the_stored_history(app, provision, ingestor: Ingestor) -> None:
    """Minute and hour buckets (the hours derived from the batch's minute buckets) equal count, sum,
    min and max computed from the history rows, over batches with duplicates, late and non-numeric
    measures spread over several minutes and two hours."""
    provision([{"device_id": f"aq-{n:03d}"} for n in range(4)])
    rng = random.Random(7)
    sent = []
    for n in range(300):
        at = T0 + timedelta(minutes=50, seconds=rng.randrange(0, 1800), milliseconds=rng.randrange(1000))
        values = {"t": round(rng.uniform(-20, 40), 3), "h": rng.randrange(100), "b": rng.choice([90, 85.5]),
                  "s": rng.choice(["low", True, 3])}  # s: no mapping, numbers and other values
        sent.append(msg(f"aq-{n % 4:03d}", json.dumps(values), at=at))
    batches = [sent[:120], sent[100:220], sent[200:], sent[::7]]  # overlapping: duplicates
    for batch in batches:
        assert not ingestor.store(batch).rejected
    with app.state.session_factory() as session:
        history = session.execute(select(NgsiAttributeHistory.entity_id, NgsiAttributeHistory.attr_iri,
                                         NgsiAttributeHistory.instance)).all()
        stored = {(r.entity_id, r.attr_iri, r.period, r.bucket.replace(tzinfo=UTC)): (r.count, r.sum, r.min, r.max)
                  for r in session.scalars(select(DeviceRollup))}
    expected: dict[tuple[str, str, int, datetime], list[float]] = {}
    for entity_id, attr_iri, instance in history:
        value = instance["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        observed = datetime.fromisoformat(instance["observedAt"].replace("Z", "+00:00"))
        for period in (60, 3600):
            bucket = rollups.bucket_of(observed, period)
            agg = expected.setdefault((entity_id, attr_iri, period, bucket), [0, 0.0, value, value])
            agg[0] += 1
            agg[1] += value
            agg[2], agg[3] = min(agg[2], value), max(agg[3], value)
    assert len(history) == 1200
    assert {k for k in expected if k[2] == 3600} and len({k[3] for k in expected if k[2] == 3600}) == 2
    assert stored.keys() == expected.keys()
    for key, (count, total, low, high) in expected.items():
        assert stored[key][0] == count, key
        assert stored[key][1] == pytest.approx(total), key
        assert (stored[key][2], stored[key][3]) == (low, high), key


def test_instance_ids_are_the_measure_keys_hash_after_its_time_so_they_grow_with_time() -> None:
    keys = [("", "urn:ngsi-ld:Device:d1", "https://example.org/t", "2026-11-24T10:00:00.000Z"),
            ("tenant-é", "urn:ngsi-ld:X:ü€", "https://example.org/a b", "1999-01-01T00:00:00.001Z")]
    for key in keys:
        observed = datetime.fromisoformat(key[3].replace("Z", "+00:00"))
        made = uuid.UUID(measures.instance_id(*key, observed).removeprefix("urn:ngsi-ld:"))
        hashed = uuid.uuid5(measures.INSTANCE_NAMESPACE, chr(31).join(key))
        assert made.version == 8 and made.variant == uuid.RFC_4122
        assert made.int >> 80 == int(observed.timestamp() * 1000)  # the first 48 bits: the time in ms
        assert made.bytes[7:] == hashed.bytes[7:] and made.bytes[6] & 0x0F == hashed.bytes[6] & 0x0F
        assert measures.instance_id(*key, observed) == measures.instance_id(*key, observed)  # stable
    first = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    ids = [measures.instance_id("", "urn:ngsi-ld:Device:d1", "https://example.org/t", "", first + timedelta(
        milliseconds=ms)) for ms in (0, 1, 999, 60_000)]
    assert ids == sorted(ids)
