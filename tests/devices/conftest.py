"""Fixtures of the device tests: a provisioning token, a provisioned group and devices, the ingestor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from saola.core.db import unit_of_work
from saola.devices import service
from saola.devices.ingest import Ingestor, Message
from saola.devices.schemas import DeviceIn, ServiceIn

APIKEY = "aq-key"
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MAPPINGS = [{"object_id": "t", "name": "temperature", "type": "Number", "unit": "CEL"},
            {"object_id": "h", "name": "relativeHumidity", "type": "Number", "unit": "P1"},
            {"object_id": "b", "name": "batteryLevel", "type": "Number"}]


@pytest.fixture
def iot_token(token) -> str:
    return token("operator", scopes=["devices:read", "devices:write", "context:read"])


@pytest.fixture
def iot_headers(iot_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {iot_token}"}


@pytest.fixture
def provision(app) -> Callable[..., None]:
    """``provision(devices=[{...}], autoprovision=False)``: a service group with key ``aq-key`` and devices."""

    def _provision(devices: list[dict[str, Any]] = (), *, autoprovision: bool = False, apikey: str = APIKEY,
                   tenant: str = "") -> None:
        with unit_of_work(app.state.session_factory) as session:
            service.create_groups(session, tenant=tenant, service_path="/", services=[ServiceIn(
                apikey=apikey, entity_type="AirQualityObserved", attributes=MAPPINGS, autoprovision=autoprovision)])
            if devices:
                service.create_devices(session, tenant=tenant, service_path="/",
                                       devices=[DeviceIn.model_validate(d) for d in devices])

    return _provision


@pytest.fixture
def ingestor(app) -> Ingestor:
    return Ingestor(app.state.session_factory, app.state.settings)


def msg(device_id: str, payload: str | bytes, fmt: str = "json", *, at: datetime = T0, api_key: str = APIKEY,
        attribute: str | None = None, token: str | None = None) -> Message:
    data = payload.encode() if isinstance(payload, str) else payload
    return Message(api_key=api_key, device_id=device_id, payload=data, format=fmt,  # type: ignore[arg-type]
                   transport="mqtt", received_at=at, attribute=attribute, token=token)
