"""Request and response bodies of ``/api/v1/rules``; a rule's definition is :class:`RuleDefinition` itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from saola.rules.definitions import RuleDefinition
from saola.rules.models import Rule, RuleVersion


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    definition: RuleDefinition
    enabled: bool = Field(False, description="Start evaluating at once (default: stored disabled, to test first)")


class RuleChange(BaseModel):
    """A new definition for a rule: stored as its next version (the old ones are kept)."""

    model_config = ConfigDict(extra="forbid")

    definition: RuleDefinition


class RuleTest(BaseModel):
    """An unsaved definition to replay over the recent history."""

    model_config = ConfigDict(extra="forbid")

    definition: RuleDefinition


class RuleOut(BaseModel):
    id: int
    name: str
    enabled: bool
    archived: bool
    version: int = Field(description="The current version")
    kind: str = Field(description="The condition's kind (threshold, rate_of_change, …)")
    severity: str
    entity_type: str
    definition: dict[str, Any] = Field(description="The current version's RuleDefinition")
    created_at: datetime
    created_by: str
    modified_at: datetime
    modified_by: str
    archived_at: datetime | None

    @classmethod
    def of(cls, rule: Rule) -> RuleOut:
        return cls(id=rule.id, name=rule.name, enabled=rule.enabled, archived=rule.archived_at is not None,
                   version=rule.current_version, kind=rule.definition["condition"]["kind"],
                   severity=rule.definition["severity"], entity_type=rule.definition["entity_type"],
                   definition=rule.definition, created_at=rule.created_at, created_by=rule.created_by,
                   modified_at=rule.modified_at, modified_by=rule.modified_by, archived_at=rule.archived_at)


class RulePage(BaseModel):
    items: list[RuleOut]


class VersionOut(BaseModel):
    rule_id: int
    version: int
    current: bool
    definition: dict[str, Any]
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, row: RuleVersion, *, current: int) -> VersionOut:
        return cls(rule_id=row.rule_id, version=row.version, current=row.version == current,
                   definition=row.definition, created_at=row.created_at, created_by=row.created_by)


class Change(BaseModel):
    field: str = Field(description="Dotted path in the definition, e.g. condition.value")
    before: Any
    after: Any


class DiffOut(BaseModel):
    rule_id: int
    old: int
    new: int
    changes: list[Change]


class BacktestOut(BaseModel):
    """How often the rule would have fired over the window (replayed on the attribute history)."""

    start: datetime
    end: datetime
    firings: int
    subjects: int = Field(description="Subjects (entities or areas) examined")
    samples: int = Field(description="History values replayed")
    per_day: dict[str, int]
    first: datetime | None
    last: datetime | None
    examples: list[dict[str, Any]]
