"""The backtest replays recorded history through the engine: how often a rule would have fired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saola.core.db import unit_of_work, utcnow
from saola.rules.backtest import backtest
from tests.rules.engine_support import definition

SCOPES = ["context:read", "context:write", "rules:read", "rules:write"]
PM25 = {"kind": "threshold", "attribute": "pm25", "op": ">", "value": 55}


def _headers(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token('admin', scopes=SCOPES)}"}


def _record(client, headers, entity_id: str, ward: str, lon: float, lat: float, series) -> None:
    entity = {"id": entity_id, "type": "AirQualityObserved", "pm25": {"type": "Property", "value": 0},
              "refWard": {"type": "Property", "value": ward},
              "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}}
    assert client.post("/ngsi-ld/v1/entities", json=entity, headers=headers).status_code == 201
    instances = [{"type": "Property", "value": v, "observedAt": t.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
                 for t, v in series]
    response = client.post(f"/ngsi-ld/v1/temporal/entities/{entity_id}/attrs", json={"pm25": instances},
                           headers=headers)
    assert response.status_code == 204, response.text


@pytest.fixture
def recorded(client, token):
    """Two stations: one in ward 07210 (two high stretches, 30 and 10 minutes), one in 07228 (always high)."""
    headers = _headers(token)
    base = (utcnow() - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    values = [30] * 12 + [80] * 6 + [30] * 12 + [80] * 2 + [30] * 4  # every 5 minutes
    series = [(base + timedelta(minutes=5 * i), v) for i, v in enumerate(values)]
    _record(client, headers, "urn:ngsi-ld:AirQualityObserved:bn-07210-1", "07210", 106.1935, 21.2811, series)
    _record(client, headers, "urn:ngsi-ld:AirQualityObserved:bn-07228-1", "07228", 106.16, 21.30,
            [(t, 90) for t, _v in series])
    return base, headers


def test_a_threshold_held_for_15_minutes_fires_once_on_the_long_stretch(app, recorded):
    base, _headers = recorded
    rule = definition({**PM25, "for_seconds": 900}, area={"ward_code": "07210"})
    with unit_of_work(app.state.session_factory) as session:
        result = backtest(session, definition=rule, start=utcnow() - timedelta(days=7), end=utcnow())
    assert result.firings == 1 and result.subjects == 1 and result.samples == 36 + 1  # + the entity's creation
    fired = base + timedelta(minutes=60 + 15)
    assert result.first is not None and abs((result.first - fired).total_seconds()) <= 60  # a tick of the clock
    assert result.examples[0]["subject"] == "urn:ngsi-ld:AirQualityObserved:bn-07210-1"
    assert sum(result.per_day.values()) == 1


def test_without_a_duration_every_stretch_fires_and_the_area_narrows_the_stations(app, recorded):
    with unit_of_work(app.state.session_factory) as session:
        result = backtest(session, definition=definition(PM25), start=utcnow() - timedelta(days=7), end=utcnow())
        narrowed = backtest(session, definition=definition(PM25, area={"ward_code": "07210"}),
                            start=utcnow() - timedelta(days=7), end=utcnow())
    assert (result.firings, result.subjects) == (3, 2)  # two stretches + the always-high station
    assert (narrowed.firings, narrowed.subjects) == (2, 1)
    assert [e["value"] for e in narrowed.examples] == [80, 80]


def test_no_data_fires_on_gaps_and_cooldown_counts(app, recorded):
    rule = definition({"kind": "no_data", "attribute": "pm25", "after_seconds": 3600},
                      area={"ward_code": "07210"})
    with unit_of_work(app.state.session_factory) as session:
        result = backtest(session, definition=rule, start=utcnow() - timedelta(days=2), end=utcnow())
    assert result.firings == 2  # before the first sample of the window, and after the last one
    # a rule that never holds: nothing
    with unit_of_work(app.state.session_factory) as session:
        quiet = backtest(session, definition=definition({**PM25, "value": 1000}),
                         start=utcnow() - timedelta(days=2), end=utcnow())
    assert quiet.firings == 0 and quiet.first is None and quiet.per_day == {}


def test_the_rules_api_replays_an_unsaved_definition(client, recorded):
    _base, headers = recorded
    body = {"definition": {"name": "PM2.5", "severity": "minor", "entity_type": "AirQualityObserved",
                           "condition": {**PM25, "for_seconds": 900}}}
    response = client.post("/api/v1/rules/test?days=7", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["firings"] == 2  # the long stretch + the always-high station
