"""Fixtures of the one-stop-shop tests: a test procedure processed by Sở Xây dựng (SXD), services' actors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from saola.core.auth import service as auth
from saola.core.db import unit_of_work
from saola.egov import procedures
from saola.egov.procedures_schemas import ProcedureIn

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def procedure_record(**overrides: Any) -> ProcedureIn:
    values: dict[str, Any] = {
        "code": "9.000001", "name_vi": "Cấp giấy phép sửa chữa nhà ở", "name_en": "House repair permit",
        "field": "Hoạt động xây dựng", "level": "province", "processing_days": 5, "day_kind": "working",
        "fee": 50000, "online_level": "partial", "supplement_clock": "pause", "extension_allowed": True,
        "documents": ["Đơn đề nghị", "Bản vẽ thiết kế"],
        "steps": [{"agency": "SXD", "days": 4, "title": "Thẩm định"}, {"agency": "SXD", "days": 1, "title": "Ký"}],
        "legal_basis": "56/QĐ-BXD", "source_url": "",
    }
    values.update(overrides)
    return ProcedureIn.model_validate(values)


@pytest.fixture
def make_procedure(app) -> Callable[..., int]:
    """``make_procedure(code="...", ...)`` → the id of a new procedure (committed)."""

    def _make(**overrides: Any) -> int:
        with unit_of_work(app.state.session_factory) as session:
            return procedures.create_procedure(session, actor=None, data=procedure_record(**overrides)).id

    return _make


@pytest.fixture
def procedure_id(make_procedure) -> int:
    return make_procedure()


@pytest.fixture
def actor(app) -> Callable[[Session, str], Any]:
    """``actor(session, "clerk")`` → the principal of that seeded user, for calling services directly."""

    def _actor(session: Session, username: str) -> Any:
        return auth.principal_for(auth.get_user(session, username=username))

    return _actor


def local(text: str) -> datetime:
    """An instant written in Hà Nội time, e.g. ``local("2026-04-29 10:00")``."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
