"""Shared helpers of the queue tests (no tests here): a small centre, a clock in Vietnamese time, sign-in.

``centre(app)`` adds three services (A land, B business registration with 2 bookings per 30-minute
slot, P priority-free civil status) and three counters (1 serves A, 2 serves A and B, 3 serves B),
counters 1 and 2 open; it returns their ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from saola.core.auth import service as auth
from saola.core.auth.service import Principal
from saola.core.db import unit_of_work
from saola.egov.queue import service as queue
from saola.egov.queue import setup

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant given in Vietnamese local time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=VN)


@dataclass(frozen=True)
class Centre:
    land: int
    business: int
    civil: int
    counter1: int
    counter2: int
    counter3: int


def centre(app) -> Centre:
    with unit_of_work(app.state.session_factory) as session:
        land = setup.create_service(session, actor=None, prefix="A", name="Đất đai", name_en="Land")
        business = setup.create_service(session, actor=None, prefix="B", name="Đăng ký kinh doanh",
                                        name_en="Business registration", slot_minutes=30, slot_capacity=2)
        civil = setup.create_service(session, actor=None, prefix="D", name="Hộ tịch", name_en="Civil status")
        c1 = setup.create_counter(session, actor=None, number=1, name="Đất đai", service_ids=[land.id])
        c2 = setup.create_counter(session, actor=None, number=2, name="Chung", service_ids=[land.id, business.id])
        c3 = setup.create_counter(session, actor=None, number=3, name="Kinh doanh", service_ids=[business.id])
        for c in (c1, c2):
            queue.set_counter_open(session, counter_id=c.id, is_open=True, actor=None)
        return Centre(land.id, business.id, civil.id, c1.id, c2.id, c3.id)


def principal(app, username: str) -> Principal:
    with unit_of_work(app.state.session_factory) as session:
        return auth.principal_for(auth.get_user(session, username=username))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def run(app, fn, /, **kwargs):  # type: ignore[no-untyped-def]
    """Call a queue service function in its own committed transaction and return its result."""
    with unit_of_work(app.state.session_factory) as session:
        return fn(session, **kwargs)
