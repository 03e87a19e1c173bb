"""Fixtures of the hotline tests: the demo category tree, places in the province, counting what was saved."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from saola.cases.models import Case, CaseAttachment
from saola.core.db import unit_of_work
from saola.feedback.demo import load_categories
from saola.feedback.models import FeedbackReport, FeedbackReporter

# Points inside wards of Bắc Ninh province (shipped boundaries), and one outside it (Hà Nội).
KINH_BAC = (21.199973, 106.050204)  # Phường Kinh Bắc, code 09187
BAC_GIANG = (21.288014, 106.220658)  # Phường Bắc Giang, code 07210
HANOI = (21.0285, 105.8542)
SXD, SYT, IOC = 2, 3, 1
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def categories(app) -> dict[str, int]:
    """The demo category tree (categories of agencies the test database lacks are left out): code → id."""
    with unit_of_work(app.state.session_factory) as session:
        loaded = load_categories(session)
        assert loaded.categories > 10
        from saola.feedback.models import FeedbackCategory

        return {code: i for code, i in session.execute(select(FeedbackCategory.service_code, FeedbackCategory.id))}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def counts(app) -> dict[str, int]:
    """How many cases, reports, reporters and attachments are stored."""
    with app.state.session_factory() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Case, FeedbackReport, FeedbackReporter, CaseAttachment)}


def report_json(**changes: Any) -> dict[str, Any]:
    """A valid mobile-app report about a street light, with ``changes`` applied."""
    body: dict[str, Any] = {"service_code": "street-lighting", "description": "Đèn đường trước nhà số 12 không sáng",
                            "lat": KINH_BAC[0], "long": KINH_BAC[1], "attributes": {"lamp_state": "off"}}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}
