"""The engine worker through the real application: NGSI-LD changes in, alerts out (through the alerts'
functions), rules reloaded on change, errors shown, state kept across a restart — on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from saola.app import create_app
from saola.core.db import unit_of_work
from saola.core.settings import Settings, load_settings
from saola.rules import alerts
from saola.rules.alert_models import AlertEvent
from saola.rules.engine_models import RuleState

SCOPES = ["context:read", "context:write", "rules:read", "rules:write"]
ENTITY = "urn:ngsi-ld:AirQualityObserved:bn-07210-1"


@pytest.fixture
def engine_settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=database_url, data_dir=tmp_path, env="test", log_json=True,
                         secret_key="test-secret-key-0123456789abcdef0123456789", rules_tick_seconds=0.1,
                         rules_checkpoint_seconds=0.1, rules_update_seconds=3600)


@pytest.fixture
def running(engine_settings: Settings) -> Iterator[Callable[[], TestClient]]:
    """``running()`` → a started application (lifespan, engine worker) on the test database; several in turn."""
    clients: list[TestClient] = []

    def start() -> TestClient:
        client = TestClient(create_app(engine_settings), base_url="http://127.0.0.1")
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        stop(client)


def stop(client: TestClient) -> None:
    """Stop an application started by ``running()`` (its lifespan ends: the engine saves its state)."""
    if not getattr(client, "stopped", False):
        client.stopped = True  # type: ignore[attr-defined]
        client.__exit__(None, None, None)


def bearer(app: Any) -> dict[str, str]:
    from saola.core.auth import service as auth

    with unit_of_work(app.state.session_factory) as session:
        user = auth.get_user(session, username="admin")
        _row, secret = auth.create_token(session, user=user, scopes=SCOPES)
    return {"Authorization": f"Bearer {secret}"}


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def create_rule(client: TestClient, headers: dict[str, str], condition: dict[str, Any], **extra: Any) -> int:
    definition = {"name": "PM2.5 cao", "severity": "major", "entity_type": "AirQualityObserved",
                  "condition": condition, "message_vi": "PM2.5 tại {entity}: {value}", **extra}
    response = client.post("/api/v1/rules", json={"definition": definition, "enabled": True}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def set_pm25(client: TestClient, headers: dict[str, str], value: Any) -> None:
    response = client.patch(f"/ngsi-ld/v1/entities/{ENTITY}/attrs", json={"pm25": {"value": value}}, headers=headers)
    assert response.status_code == 204, response.text


def create_entity(client: TestClient, headers: dict[str, str], pm25: Any) -> None:
    entity = {"id": ENTITY, "type": "AirQualityObserved", "pm25": {"type": "Property", "value": pm25},
              "refWard": {"type": "Property", "value": "07210"},
              "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [106.1935, 21.2811]}}}
    response = client.post("/ngsi-ld/v1/entities", json=entity, headers=headers)
    assert response.status_code == 201, response.text


def open_alerts(client: TestClient, rule_id: int) -> list[Any]:
    with unit_of_work(client.app.state.session_factory) as session:
        return alerts.list_alerts(session, rule_id=rule_id, states=["active", "acknowledged"])


def engine_of(client: TestClient) -> Any:
    return client.app.state.rules_engine


def test_an_entity_update_raises_and_clears_an_alert_end_to_end(running):
    client = running()
    headers = bearer(client.app)
    rule_id = create_rule(client, headers, {"kind": "threshold", "attribute": "pm25", "op": ">", "value": 55})
    wait_for(lambda: engine_of(client).status()["rules"] == 1)  # rule.changed reloaded the rules
    create_entity(client, headers, 30)
    set_pm25(client, headers, 80)
    (alert,) = wait_for(lambda: open_alerts(client, rule_id))
    assert alert.subject == ENTITY and alert.severity == "major" and alert.value == 80
    assert alert.title_vi == f"PM2.5 tại {ENTITY}: 80"
    assert alert.location == {"type": "Point", "coordinates": [106.1935, 21.2811]}
    set_pm25(client, headers, 20)
    wait_for(lambda: not open_alerts(client, rule_id))
    status = client.get("/api/v1/rule-engine/status", headers=headers).json()
    assert status["running"] is True and status["events"] >= 3 and status["decisions"] == 2
    assert status["applied"] == 2 and status["errors"] == 0


def test_an_evaluation_error_is_shown_and_other_rules_still_fire(running):
    client = running()
    headers = bearer(client.app)
    numeric = create_rule(client, headers, {"kind": "threshold", "attribute": "pm25", "op": ">", "value": 55})
    textual = create_rule(client, headers, {"kind": "threshold", "attribute": "pm25", "op": "==", "value": "n/a"})
    wait_for(lambda: engine_of(client).status()["rules"] == 2)
    create_entity(client, headers, "n/a")
    wait_for(lambda: open_alerts(client, textual))
    errors = wait_for(lambda: client.get(f"/api/v1/rules/{numeric}/errors", headers=headers).json())
    assert errors[0]["subject"] == ENTITY and "not a number" in errors[0]["message"] and errors[0]["count"] == 1
    assert client.get("/api/v1/rules/999999/errors", headers=headers).json()["code"] == "rule-not-found"
    assert client.get("/api/v1/rule-engine/status").status_code == 401


def test_disabling_a_rule_clears_its_alerts(running):
    client = running()
    headers = bearer(client.app)
    rule_id = create_rule(client, headers, {"kind": "threshold", "attribute": "pm25", "op": ">", "value": 55})
    wait_for(lambda: engine_of(client).status()["rules"] == 1)
    create_entity(client, headers, 90)
    wait_for(lambda: open_alerts(client, rule_id))
    assert client.post(f"/api/v1/rules/{rule_id}/disable", headers=headers).status_code == 200
    wait_for(lambda: not open_alerts(client, rule_id))


def test_state_survives_a_restart(running):
    first = running()
    headers = bearer(first.app)
    plain = create_rule(first, headers, {"kind": "threshold", "attribute": "pm25", "op": ">", "value": 55})
    held = create_rule(first, headers, {"kind": "threshold", "attribute": "pm25", "op": ">", "value": 55,
                                        "for_seconds": 2})
    wait_for(lambda: engine_of(first).status()["rules"] == 2)
    create_entity(first, headers, 80)
    wait_for(lambda: open_alerts(first, plain))
    assert not open_alerts(first, held)  # its timer runs: 2 s
    stop(first)  # the engine checkpoints its state
    with unit_of_work(first.app.state.session_factory) as session:
        saved = {(r.rule_id, r.subject): r.state for r in session.scalars(select(RuleState))}
    assert saved[(plain, ENTITY)]["active"] is True and "true_since" in saved[(held, ENTITY)]

    second = running()  # a new process on the same database
    wait_for(lambda: engine_of(second).status()["rules"] == 2)
    set_pm25(second, headers, 85)  # the condition still holds: not raised again
    (alert,) = wait_for(lambda: open_alerts(second, held), timeout=10)  # the timer went on after the restart
    (kept,) = open_alerts(second, plain)
    with unit_of_work(second.app.state.session_factory) as session:
        raised = session.scalars(select(AlertEvent).where(AlertEvent.alert_id == kept.id,
                                                          AlertEvent.kind == "raised")).all()
    assert len(raised) == 1
    assert engine_of(second).status()["decisions"] == 1  # only the held rule's raise
    assert alert.subject == ENTITY


def test_a_device_going_offline_raises_an_alert_and_back_online_clears_it(running):
    client = running()
    headers = bearer(client.app)
    rule_id = create_rule(client, headers, {"kind": "device_offline"}, severity="minor")
    wait_for(lambda: engine_of(client).status()["rules"] == 1)
    bus = client.app.state.event_bus
    device = {"tenant": "", "device_id": "bn-07210-1", "entity_id": ENTITY, "entity_type": "AirQualityObserved"}
    client.portal.call(bus.publish, "device.offline", device)
    (alert,) = wait_for(lambda: open_alerts(client, rule_id))
    assert alert.subject == ENTITY and alert.severity == "minor"
    client.portal.call(bus.publish, "device.online", device)
    wait_for(lambda: not open_alerts(client, rule_id))


def test_the_engine_can_be_switched_off_in_a_process(engine_settings):
    settings = engine_settings.model_copy(update={"rules_engine": "off"})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        assert client.app.state.rules_engine is None
        status = client.get("/api/v1/rule-engine/status", headers=bearer(client.app)).json()
        assert status["running"] is False and status["events"] == 0
