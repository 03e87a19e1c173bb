"""Device health: last seen, rate, battery/signal, offline after twice the interval, online again (events)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from saola.devices.health import HealthMonitor, check_devices
from saola.devices.ingest import Ingestor
from saola.devices.models import Device
from tests.devices.conftest import T0, msg


def _device(app, device_id: str = "aq-001") -> Device:
    with app.state.session_factory() as session:
        return session.scalars(select(Device).where(Device.device_id == device_id)).one()


def test_silent_device_goes_offline_and_comes_back_online(app, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001", "expected_interval": 60}, {"device_id": "aq-002"}])
    ingestor.store([msg("aq-001", '{"t": 1}', at=T0), msg("aq-002", '{"t": 1}', at=T0)])
    assert check_devices(app.state.session_factory, now=T0 + timedelta(seconds=119)) == []
    events = check_devices(app.state.session_factory, now=T0 + timedelta(seconds=121))
    assert [(topic, e["device_id"], e["entity_id"]) for topic, e in events] == [
        ("device.offline", "aq-001", "urn:ngsi-ld:AirQualityObserved:aq-001")]
    assert _device(app).online is False
    assert _device(app, "aq-002").online is True  # no expected interval: never marked offline
    assert check_devices(app.state.session_factory, now=T0 + timedelta(seconds=300)) == []  # published once
    back = ingestor.store([msg("aq-001", '{"t": 2}', at=T0 + timedelta(seconds=400))])
    assert [topic for topic, _ in back.events] == ["ngsi.entity.updated", "device.online"]
    assert _device(app).online is True


def test_never_seen_device_goes_offline_after_twice_its_interval(app, provision) -> None:
    provision([{"device_id": "aq-001", "expected_interval": 30}])
    created = _device(app).created_at
    assert check_devices(app.state.session_factory, now=created + timedelta(seconds=59)) == []
    assert [t for t, _ in check_devices(app.state.session_factory, now=created + timedelta(seconds=61))] == [
        "device.offline"]


def test_rate_battery_and_signal(app, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001", "attributes": [{"object_id": "r", "name": "linkQuality", "type": "Number",
                                                       "health": "signal"}]}])
    check_devices(app.state.session_factory, now=T0)  # sets the rate mark
    ingestor.store([msg("aq-001", f'{{"t": {n}, "b": {90 - n}, "r": -70}}', at=T0 + timedelta(seconds=n))
                    for n in range(6)])
    check_devices(app.state.session_factory, now=T0 + timedelta(minutes=2))
    device = _device(app)
    assert (device.message_rate, device.battery, device.signal) == (3.0, 85, -70)
    assert device.last_seen == T0 + timedelta(seconds=5)


def test_health_monitor_publishes_offline_events_on_the_bus(app, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001", "expected_interval": 10}])
    ingestor.store([msg("aq-001", '{"t": 1}', at=T0)])

    async def run() -> list[str]:
        subscription = app.state.event_bus.subscribe("device.*")
        await HealthMonitor(app).tick(T0 + timedelta(minutes=1))
        await subscription.close()
        return [event.topic async for event in subscription]

    assert asyncio.run(run()) == ["device.offline"]
