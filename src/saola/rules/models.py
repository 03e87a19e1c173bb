"""Tables of the rules store: ``rules`` (one row per rule, with its current definition) and ``rule_versions``.

A rule's definition (:class:`saola.rules.definitions.RuleDefinition`, as JSON) is never changed in
place: each change adds a version, and ``rules.definition`` is a copy of the current one so that the
engine loads the enabled rules with one query. A deleted rule is *archived* (``archived_at`` set,
disabled) rather than removed, so that alerts and incidents that name it keep a valid reference and
its history stays readable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from saola.context.models import JSON_DOCUMENT
from saola.core.db import Base, UTCDateTime, utcnow


class Rule(Base):
    """A rule: its name, whether it is enabled, and its current version's definition."""

    __tablename__ = "rules"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="system")
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_by: Mapped[str] = mapped_column(String(80), default="system")
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class RuleVersion(Base):
    """One version of a rule's definition, kept for ever (who wrote it and when)."""

    __tablename__ = "rule_versions"

    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="system")
