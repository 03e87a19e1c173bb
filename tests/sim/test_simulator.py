"""The simulator: its schedule, ``saola simulate``, the simulator beside ``saola serve`` (HTTP when there is no
broker), and end to end: telemetry through the real Mosquitto into ingestion, the demo rules raising alerts
and opening incidents."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from saola.app import create_app
from saola.core.db import unit_of_work
from saola.devices.models import Device
from saola.sim import load
from saola.sim.city import City
from saola.sim.runner import MqttSender, Simulator
from saola.sim.scenario import Scenario
from tests.conftest import free_port
from tests.devices.mqtt_fixtures import require_broker, wait_until, worker_settings

WARDS = ["09169", "09187", "09190"]  # Vũ Ninh (Cầu river), Kinh Bắc, Võ Cường
EVENING = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)  # 19:30 in Bắc Ninh: lamps on, evening traffic


@pytest.fixture(scope="module")
def city() -> City:
    return load.demo_city().subset(WARDS)


class Recorder:
    description = "recorder"
    tick = 0.1

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self, batch: list[tuple[str, dict[str, Any]]]) -> int:
        self.sent += batch
        return len(batch)

    async def close(self) -> None:
        return None


def _load(app: Any, city: City, *, api_key: str = load.API_KEY) -> None:
    with unit_of_work(app.state.session_factory) as session:
        load.store_entities(session, city)
        load.provision_devices(session, city, api_key=api_key)
        load.create_rules(session, load.demo_rules())


def _seen(app: Any, api_key: str = load.API_KEY) -> int:
    with unit_of_work(app.state.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(Device).where(
            Device.api_key == api_key, Device.message_count > 0)) or 0)


def test_the_schedule_keeps_to_the_rate_and_reports_what_an_event_touches_at_once(city: City) -> None:
    scenario = Scenario(city, seed=3)
    sim = Simulator(city, Recorder(), rate=50, seed=3, scenario=scenario, model_start=EVENING)
    events = {e.kind: e for e in scenario.wave(0)}
    jam, outage, camera = events["congestion"], events["power_outage"], events["camera_offline"]
    device_of = {e.id: e.device_id for e in city.entities}
    sent: list[tuple[float, str, dict[str, Any]]] = []
    for tenth in range(0, 7000):  # 700 s in rounds of 0.1 s, at most 5 messages a round (50/s)
        t = tenth / 10
        batch = sim.round(t, 5)
        assert len(batch) <= 5
        sent += [(t, device, payload) for device, payload in batch]
    firsts: dict[str, float] = {}
    for t, device, _payload in sent:
        firsts.setdefault(device, t)
    assert set(firsts) == {e.device_id for e in city.entities if e.has_device}  # every device reported
    jammed = [(t, p) for t, d, p in sent if d == device_of[jam.targets[0]] and jam.start <= t < jam.end]
    assert jammed[0][0] - jam.start < 0.5 and all(p["cl"] == "jam" for _t, p in jammed)
    assert len(jammed) >= (jam.end - jam.start) / 6  # reported every 5 s while it matters
    # lamps report every 10 minutes, but at once (as fast as the rate allows) when their ward loses power
    for target in outage.targets:
        first_after = min(t for t, d, _p in sent if d == device_of[target] and t >= outage.start)
        assert first_after - outage.start < len(outage.targets) / 50 + 1
    cam = [(t, p) for t, d, p in sent if d == device_of[camera.targets[0]] and camera.start <= t < camera.end]
    assert cam and all(p == {"st": "offline"} for _t, p in cam)
    assert all(t - camera.start <= 10 for t, _p in cam)  # then silent: the no-data rule's business
    per_type = Counter(next(e.type for e in city.entities if e.device_id == d) for _t, d, _p in sent)
    assert per_type["TrafficFlowObserved"] > 8 * sum(1 for e in city.entities if e.type == "TrafficFlowObserved")


def test_when_more_is_due_than_the_rate_allows_the_event_still_goes_first(city: City) -> None:
    scenario = Scenario(city, seed=3)
    sim = Simulator(city, Recorder(), rate=20, acceleration=600, seed=3, scenario=scenario, model_start=EVENING)
    lamp = next(e for e in scenario.wave(0) if e.kind == "lamp_failure")
    device = next(e.device_id for e in city.entities if e.id == lamp.targets[0])
    reports = []
    for tenth in range(0, 100):  # 10 s; at ×600 every device is due every second: far more than 2 a round
        for sent_device, payload in sim.round(tenth / 10, 2):
            if sent_device == device:
                reports.append((tenth / 10, payload))
    assert sim.stats.lag_seconds > 3  # the regular reports lag behind...
    assert reports[0][0] - lamp.start < 0.2 and reports[0][1]["st"] == "defectiveLamp"  # ...the fault does not


def test_simulate_command_sends_the_demo_telemetry_over_http_to_a_running_saola(app, live_server: str,
                                                                                 database_url: str, tmp_path,
                                                                                 city: City) -> None:
    from saola.cli import app as cli

    env = {"SAOLA_DATABASE_URL": database_url, "SAOLA_DATA_DIR": str(tmp_path), "SAOLA_LOG_JSON": "false"}
    runner = CliRunner()
    refused = runner.invoke(cli, ["simulate", "--duration", "1"], env=env)
    assert refused.exit_code == 1 and "run `saola demo` first" in refused.output
    _load(app, city.subset(["09187"]))
    result = runner.invoke(cli, ["simulate", "--wards", "09187", "--transport", "http", "--http-url", live_server,
                                 "--rate", "400", "--duration", "4", "--seed", "9"], env=env)
    assert result.exit_code == 0, result.output
    assert f"sending over HTTP {live_server}" in result.output and "Sent " in result.output
    assert _seen(app) >= 20
    bad = runner.invoke(cli, ["simulate", "--wards", "99999"], env=env)
    assert bad.exit_code == 2 and "unknown ward codes" in bad.output


def test_serve_runs_the_simulator_in_process_over_http_when_no_broker_answers(settings, city: City, capsys) -> None:
    quiet = settings.model_copy(update={"simulator": "on", "simulator_rate": 400.0,
                                        "mqtt_url": f"mqtt://127.0.0.1:{free_port()}"})
    app = create_app(quiet)  # its log handler writes to the captured stderr
    _load(app, city)
    with TestClient(app):
        wait_until(lambda: _seen(app) >= 50, timeout=30, what="messages from the in-process simulator")
    log = capsys.readouterr().err
    assert "no MQTT broker at 127.0.0.1:" in log and "sending over HTTP (in-process) instead" in log
    assert '"message": "simulator stopped"' in log  # stopped with the server: nothing left running


class SimulatorThread:
    """The simulator on its own event loop (as `saola simulate` runs it), publishing to Mosquitto."""

    def __init__(self, city: City, api_key: str, scenario: Scenario) -> None:
        self.city, self.api_key, self.scenario = city, api_key, scenario
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True, name="sim-test")
        self.thread.start()
        assert self.ready.wait(15), "the simulator did not start"
        if self.error:
            raise self.error

    async def _main(self) -> None:
        host, port = require_broker()
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        try:
            sender = MqttSender(host, port, self.api_key)
            await sender.connect()
        except BaseException as exc:  # surfaced in the test thread
            self.error = exc
            self.ready.set()
            return
        self.simulator = Simulator(self.city, sender, rate=300, seed=5, scenario=self.scenario, hot_seconds=1.0,
                                   model_start=EVENING)
        self.ready.set()
        try:
            await self.simulator.run(stop=self.stop)
        finally:
            await sender.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(15)


def test_simulated_telemetry_through_mosquitto_raises_the_demo_alerts_and_opens_incidents(
        settings, token, city: City) -> None:
    require_broker()
    app = create_app(worker_settings(settings, mqtt_ingest="on"))
    api_key = f"sim{uuid.uuid4().hex[:10]}"  # the broker is shared by the tests running at the same time
    _load(app, city, api_key=api_key)
    scenario = Scenario(city, seed=5, first_wave_scale=0.5, rise_m_per_s=0.15)
    events = {e.kind: e for e in scenario.wave(0)}
    lamp = events["lamp_failure"].targets[0]
    substations = [t for t in events["power_outage"].targets if "Substation" in t]
    camera = events["camera_offline"].targets[0]
    sensors = list(events["river_rise"].targets)
    headers = {"Authorization": f"Bearer {token('operator')}"}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        started = time.monotonic()
        sim = SimulatorThread(city, api_key, scenario)
        try:
            def alerts() -> dict[str, dict[str, Any]]:
                response = client.get("/api/v1/alerts", params={"limit": 500}, headers=headers)
                assert response.status_code == 200, response.text
                return {a["subject"]: a for a in response.json()["items"]}

            expected = {lamp, camera, "area:09169", *substations, *sensors}
            wait_until(lambda: expected <= set(alerts()), timeout=60,
                       what=f"alerts on {sorted(expected)} (have {sorted(alerts())})")
            elapsed = time.monotonic() - started
            found = alerts()
            assert found[lamp]["severity"] == "minor" and found[camera]["severity"] == "minor"
            assert all(found[s]["severity"] == "critical" for s in substations)
            assert found["area:09169"]["severity"] == "critical"

            def incident_types() -> set[str]:
                response = client.get("/api/v1/incidents", headers=headers)
                assert response.status_code == 200, response.text
                return {i["incident_type"] for i in response.json()["items"]}

            wait_until(lambda: {"power_outage", "flood"} <= incident_types(), timeout=20, what="incidents")
            # Beyond the devices the events touch, the rest of the city reports too (through the same path).
            wait_until(lambda: _seen(app, api_key) >= 50, timeout=30, what="messages from 50 devices")
        finally:
            sim.close()
    assert elapsed < 60  # the console is alive within a minute
