"""The rule engine's small value types: decisions for the worker, recorded errors, cached entity facts, counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Decision:
    """What the worker must do: raise (or refresh) an alert, update its value, or clear it."""

    action: str  # "raise" | "update" | "clear"
    rule_id: int
    rule_version: int
    tenant: str
    subject: str
    entity_type: str
    severity: str
    at: datetime
    value: Any = None
    title_vi: str = ""
    title_en: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    location: dict[str, Any] | None = None
    owner_agency: str | None = None
    incident_type: str | None = None
    reason: str = ""


@dataclass(slots=True)
class ErrorRecord:
    message: str
    at: datetime
    count: int = 1


@dataclass(slots=True)
class EntityInfo:
    """What the filters need of an entity, cached until its location or ward changes."""

    ward: str | None
    point: Any  # shapely Point or None
    location: dict[str, Any] | None
    name: str | None = None  # the entity's `name` property, for alert titles
    matches: dict[int, bool] = field(default_factory=dict)  # rule id → id pattern and area filters pass


@dataclass
class Counters:
    events: int = 0
    evaluations: int = 0
    decisions: int = 0
    errors: int = 0
