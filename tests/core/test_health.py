"""``/healthz`` and ``/readyz`` (database, migrations, broker), request ids and JSON log lines."""

from __future__ import annotations

import json
import logging

from fastapi.testclient import TestClient
from sqlalchemy import text

from saola.app import create_app
from saola.core.migrate import head_revision
from saola.core.settings import Settings, load_settings
from tests.core.helpers import UNREACHABLE_BROKER, UNREACHABLE_DATABASE, json_log_lines, parsed, require_broker


def app_with(settings: Settings, **overrides: object):
    return create_app(load_settings(**{**settings.model_dump(), **overrides}))


def test_healthz_says_the_process_is_alive(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_with_a_migrated_database_and_no_broker(client: TestClient, settings: Settings) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True, "revision": head_revision(settings.effective_database_url)}
    assert "broker" not in body["checks"]


def test_readyz_checks_the_real_broker_when_one_is_configured(settings: Settings) -> None:
    url = require_broker()
    with TestClient(app_with(settings, mqtt_url=url)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is True
    assert broker["broker"].endswith(":" + str(url.rsplit(":", 1)[1]))


def test_readyz_is_503_and_says_why_when_the_broker_is_unreachable(settings: Settings) -> None:
    with TestClient(app_with(settings, mqtt_url=UNREACHABLE_BROKER)) as client:
        response = client.get("/readyz")
        alive = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not-ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert "127.0.0.1:1" in body["checks"]["broker"]["error"]
    assert alive.status_code == 200  # alive, just not ready


def test_readyz_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    with TestClient(app_with(settings, database_url=UNREACHABLE_DATABASE)) as client:
        response = client.get("/readyz")
        alive = client.get("/healthz")
    assert response.status_code == 503
    database = response.json()["checks"]["database"]
    assert database["ok"] is False
    assert database["error"].startswith("OperationalError")
    assert alive.status_code == 200


def test_readyz_is_503_when_the_database_is_behind_the_code(app, client: TestClient) -> None:
    with app.state.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "run 'saola migrate'" in response.json()["checks"]["database"]["error"]


def test_every_response_carries_a_request_id_that_the_log_lines_carry_too(client: TestClient) -> None:
    with json_log_lines() as lines:
        first = client.get("/healthz")
        second = client.get("/api/v1/me")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(len(rid) == 32 for rid in ids)
    assert ids[0] != ids[1]
    requests = [line for line in parsed(lines) if line["message"] == "request"]
    assert [(r["request_id"], r["path"], r["status"]) for r in requests] == [
        (ids[0], "/healthz", 200), (ids[1], "/api/v1/me", 401)]
    for line in requests:
        assert {"time", "level", "logger", "method", "ms"} <= set(line)


def test_log_lines_written_while_handling_a_request_carry_its_id(login) -> None:
    admin = login("admin")
    with json_log_lines(logging.WARNING) as lines:
        response = admin.client.get("/api/v1/users/99999999999999999999")  # logged as a warning by the handler
    assert response.status_code == 400
    warnings = [line for line in parsed(lines) if line["level"] == "WARNING"]
    assert warnings
    assert {w["request_id"] for w in warnings} == {response.headers["x-request-id"]}


def test_a_callers_request_id_is_kept_unless_it_is_unsafe(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "gw-7f3a-0001"}).headers["x-request-id"] == "gw-7f3a-0001"
    for bad in ("x" * 65, "bad\tid"):
        rid = client.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert rid != bad
        assert len(rid) == 32


def test_the_app_writes_json_log_lines_to_stderr(settings: Settings, capsys) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz", headers={"X-Request-ID": "stderr-check-1"})
    assert response.status_code == 200
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "stderr-check-1" and line["message"] == "request" for line in lines), err
