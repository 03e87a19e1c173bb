"""Response bodies of the audit API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: str
    agency_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str
    ip: str


class AuditPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AuditEntryOut]
