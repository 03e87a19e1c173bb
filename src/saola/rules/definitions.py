"""What a rule says, as data: the schema of a rule's definition (stored as JSON, one per version).

A rule watches the entities of one NGSI-LD type (optionally narrowed by id pattern and area) and
raises an alert on a *subject* — the entity, or for a composite rule the area — when its condition
holds; it clears the alert when the condition no longer holds. Condition kinds:

* ``threshold``: an attribute compared with a value, held for ``for_seconds`` (PM2.5 > 55 for 15 min);
  ``clear_value`` gives hysteresis (raise above 55, clear only below 45);
* ``rate_of_change``: the attribute's change per ``per_seconds`` beyond ``value`` (rising river);
* ``anomaly``: a value outside the band learned from the attribute's recent distribution, by a
  robust z-score (median and MAD over the last ``window`` samples) above ``score``;
* ``no_data``: no new value of the attribute (or of any attribute) for ``after_seconds``; checked on
  a schedule, not only on events;
* ``device_offline``: the device feeding the entity is marked offline (``device.offline`` event);
* ``geofence``: the entity's location enters, leaves, is inside or outside an area;
* ``composite``: ``all``/``any`` of several parts, each a condition on entities of its own type in
  the rule's area, true when at least ``min_entities`` of them satisfy it; the subject is the area.

Common behaviour: ``active_windows`` (local time, Asia/Ho_Chi_Minh; a window may cross midnight),
``clear_after_seconds`` (the condition must stay false this long before the alert clears) and
``cooldown_seconds`` (after a clear, no new alert for the same subject this long), so that a noisy
signal does not flap. Attribute and type names are NGSI-LD terms (expanded with the core
@context's default vocabulary) or absolute IRIs.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["critical", "major", "minor", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("critical", "major", "minor", "warning", "info")  # most severe first
Comparison = Literal[">", ">=", "<", "<=", "==", "!="]
Weekday = Literal[0, 1, 2, 3, 4, 5, 6]  # Monday = 0

_TERM = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]*$|^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_term(value: str) -> str:
    if not _TERM.match(value):
        raise ValueError(f"{value!r} is not an NGSI-LD term or IRI")
    return value


class Area(_Strict):
    """Where a rule applies: a ward/commune by its official code, or a GeoJSON (Multi)Polygon."""

    ward_code: str | None = Field(None, pattern=r"^\d{5}$", description="Official code of a ward or commune")
    geometry: dict[str, Any] | None = Field(None, description="GeoJSON Polygon or MultiPolygon (WGS 84)")
    name: str = Field("", max_length=200, description="A name for people (\"Khu vực ngập Suối Hang\")")

    @model_validator(mode="after")
    def _one_of(self) -> Area:
        if (self.ward_code is None) == (self.geometry is None):
            raise ValueError("give exactly one of ward_code and geometry")
        if self.geometry is not None and self.geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise ValueError("geometry must be a GeoJSON Polygon or MultiPolygon")
        return self


class TimeWindow(_Strict):
    """Local hours on some weekdays when the rule is active; ``end`` before ``start`` crosses midnight."""

    weekdays: list[Weekday] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])
    start: time
    end: time


class Threshold(_Strict):
    kind: Literal["threshold"] = "threshold"
    attribute: str
    op: Comparison
    value: float | str | bool
    for_seconds: int = Field(0, ge=0, le=7 * 86400, description="How long the condition must hold before raising")
    clear_value: float | None = Field(None, description="Hysteresis: clear only once the value passes this back")

    _attr = field_validator("attribute")(_check_term)


class RateOfChange(_Strict):
    kind: Literal["rate_of_change"] = "rate_of_change"
    attribute: str
    per_seconds: int = Field(60, ge=1, le=86400)
    op: Literal[">", "<"] = ">"
    value: float = Field(description="Change per per_seconds (negative for a fall with op '<')")

    _attr = field_validator("attribute")(_check_term)


class Anomaly(_Strict):
    kind: Literal["anomaly"] = "anomaly"
    attribute: str
    window: int = Field(100, ge=10, le=10_000, description="Recent samples the band is learned from")
    min_samples: int = Field(30, ge=5, le=10_000)
    score: float = Field(3.5, gt=0, description="Robust z-score (0.6745·|x − median| / MAD) that is anomalous")

    _attr = field_validator("attribute")(_check_term)


class NoData(_Strict):
    kind: Literal["no_data"] = "no_data"
    attribute: str | None = Field(None, description="None: no update of the entity at all")
    after_seconds: int = Field(ge=10, le=30 * 86400)


class DeviceOffline(_Strict):
    kind: Literal["device_offline"] = "device_offline"


class Geofence(_Strict):
    kind: Literal["geofence"] = "geofence"
    area: Area
    on: Literal["enter", "leave", "inside", "outside"] = "enter"
    attribute: str = "location"


SimpleCondition = Annotated[Threshold | RateOfChange | Anomaly | NoData | DeviceOffline | Geofence,
                            Field(discriminator="kind")]


class CompositePart(_Strict):
    entity_type: str
    condition: SimpleCondition
    min_entities: int = Field(1, ge=1, le=100_000)

    _type = field_validator("entity_type")(_check_term)


class Composite(_Strict):
    kind: Literal["composite"] = "composite"
    mode: Literal["all", "any"] = "all"
    parts: list[CompositePart] = Field(min_length=2, max_length=10)


Condition = Annotated[Threshold | RateOfChange | Anomaly | NoData | DeviceOffline | Geofence | Composite,
                      Field(discriminator="kind")]


class IncidentAction(_Strict):
    """Open an incident of this type automatically when the rule raises a critical or major alert."""

    incident_type: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")


class RuleDefinition(_Strict):
    """One version of a rule. Identity, version number and enabled flag are kept beside it, not in it."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    severity: Severity
    entity_type: str = Field(description="NGSI-LD type watched (for a composite: the area's subject type label)")
    tenant: str = Field("", max_length=255, description="NGSILD-Tenant; empty is the default tenant")
    id_pattern: str | None = Field(None, max_length=500, description="Regular expression on entity ids")
    area: Area | None = None
    condition: Condition
    active_windows: list[TimeWindow] = Field(default_factory=list, description="Empty: always active")
    clear_after_seconds: int = Field(0, ge=0, le=86400)
    cooldown_seconds: int = Field(0, ge=0, le=7 * 86400)
    message_vi: str = Field("", max_length=500, description="Alert text; {entity} (its name, else its id), {id}, "
                            "{value}, {attribute} filled in")
    message_en: str = Field("", max_length=500)
    owner_agency: str | None = Field(None, max_length=40, description="Agency code notified of the alerts")
    open_incident: IncidentAction | None = None

    _type = field_validator("entity_type")(_check_term)

    @field_validator("id_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"id_pattern is not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _composite_needs_area(self) -> RuleDefinition:
        if isinstance(self.condition, Composite) and self.area is None:
            raise ValueError("a composite rule needs an area: its parts are evaluated over the area's entities")
        return self
