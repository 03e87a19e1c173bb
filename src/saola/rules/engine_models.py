"""Tables of the rule engine: ``rule_states`` (checkpointed per-subject state) and ``rule_errors``.

``rule_states`` holds one row per (rule, subject) with the engine's state as JSON
(:mod:`saola.rules.state`), written every few seconds and when the engine stops, and together with
the alerts a batch of decisions changes, so that after a restart an alert whose condition still
holds is not raised a second time and a running ``for_seconds`` timer goes on. ``rule_errors`` keeps
the last error of each (rule, subject) with how often it happened, for people to see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saola.context.models import JSON_DOCUMENT
from saola.core.db import Base, UTCDateTime, utcnow


class RuleState(Base):
    """The engine's state of one rule for one subject (an entity, an area, an entity in a composite part)."""

    __tablename__ = "rule_states"
    __table_args__ = (UniqueConstraint("rule_id", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(Integer, index=True)
    subject: Mapped[str] = mapped_column(String(1100))
    state: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleError(Base):
    """The last error evaluating a rule for a subject ("" for the rule itself) and how many times it happened."""

    __tablename__ = "rule_errors"
    __table_args__ = (UniqueConstraint("rule_id", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(Integer, index=True)
    subject: Mapped[str] = mapped_column(String(1100))
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    count: Mapped[int] = mapped_column(Integer, default=1)
