"""Request and response bodies of the provisioning API, in the shape of the FIWARE IoT Agent API.

Fields the IoT Agents define and Saola does not use (``cbroker``, ``trust``, ``lazy``, ...) are
accepted and ignored, so existing provisioning scripts work unchanged. Saola's extensions:
``expected_interval`` (seconds), ``latitude``/``longitude`` (the entity's location), ``token`` (a
per-device secret, written only) and ``unit`` / ``health`` on attribute mappings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME = r"^[^\s/#+|]{1,128}$"


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AttributeMapping(Loose):
    object_id: str | None = Field(None, pattern=NAME)
    name: str = Field(pattern=NAME)
    type: str = Field("Text", max_length=64)
    unit: str | None = Field(None, max_length=32, description="UN/CEFACT unit code, e.g. CEL")
    health: str | None = Field(None, pattern="^(battery|signal)$")

    @model_validator(mode="before")
    @classmethod
    def _metadata_unit(cls, data: Any) -> Any:
        """IoT Agents for NGSI-LD give the unit as ``metadata.unitCode.value``."""
        if isinstance(data, dict) and not data.get("unit"):
            meta = data.get("metadata")
            unit = meta.get("unitCode") if isinstance(meta, dict) else None
            value = unit.get("value") if isinstance(unit, dict) else unit
            if isinstance(value, str):
                data = {**data, "unit": value}
        return data

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True) | {"object_id": self.object_id or self.name}


class StaticAttribute(Loose):
    name: str = Field(pattern=NAME)
    type: str = Field("Text", max_length=64)
    value: Any = None


class Command(Loose):
    name: str = Field(pattern=NAME)
    type: str = Field("command", max_length=64)


class ServiceIn(Loose):
    apikey: str = Field(min_length=1, max_length=128, pattern=r"^[^\s/#+]+$")
    resource: str = Field("/iot/d", max_length=255)
    entity_type: str = Field("Device", pattern=NAME)
    transport: str = Field("MQTT", pattern="^(MQTT|HTTP|AMQP)$")
    protocol: str = Field("IoTA-JSON", max_length=32)
    attributes: list[AttributeMapping] = Field(default_factory=list)
    static_attributes: list[StaticAttribute] = Field(default_factory=list)
    commands: list[Command] = Field(default_factory=list)
    autoprovision: bool = False
    expected_interval: int | None = Field(None, ge=1, le=30 * 86400)


class ServicesIn(Loose):
    services: list[ServiceIn] = Field(min_length=1, max_length=100)


class ServiceUpdate(Loose):
    entity_type: str | None = Field(None, pattern=NAME)
    transport: str | None = Field(None, pattern="^(MQTT|HTTP|AMQP)$")
    protocol: str | None = Field(None, max_length=32)
    attributes: list[AttributeMapping] | None = None
    static_attributes: list[StaticAttribute] | None = None
    commands: list[Command] | None = None
    autoprovision: bool | None = None
    expected_interval: int | None = Field(None, ge=1, le=30 * 86400)


class DeviceIn(Loose):
    device_id: str = Field(min_length=1, max_length=255, pattern=r"^[^\s/#+]+$")
    entity_name: str | None = Field(None, min_length=1, max_length=1024)
    entity_type: str | None = Field(None, pattern=NAME)
    apikey: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[^\s/#+]+$")
    protocol: str | None = Field(None, max_length=32)
    transport: str | None = Field(None, pattern="^(MQTT|HTTP|AMQP)$")
    attributes: list[AttributeMapping] = Field(default_factory=list)
    static_attributes: list[StaticAttribute] = Field(default_factory=list)
    commands: list[Command] = Field(default_factory=list)
    token: str | None = Field(None, min_length=16, max_length=256)
    expected_interval: int | None = Field(None, ge=1, le=30 * 86400)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_coordinates(self) -> DeviceIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self


class DevicesIn(Loose):
    devices: list[DeviceIn] = Field(min_length=1, max_length=1000)


class DeviceUpdate(Loose):
    entity_type: str | None = Field(None, pattern=NAME)
    protocol: str | None = Field(None, max_length=32)
    transport: str | None = Field(None, pattern="^(MQTT|HTTP|AMQP)$")
    attributes: list[AttributeMapping] | None = None
    static_attributes: list[StaticAttribute] | None = None
    commands: list[Command] | None = None
    token: str | None = Field(None, min_length=16, max_length=256)
    expected_interval: int | None = Field(None, ge=1, le=30 * 86400)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)

    @field_validator("attributes", "static_attributes", "commands", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, list):
            raise ValueError("must be a list")
        return value
