"""The demo centre's queue: the usual services of a provincial Public Administration Service Centre and
ten counters (a ``saola demo`` step; adds only what is missing)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from saola.egov.queue import setup
from saola.egov.queue.models import QueueCounter, QueueService

# prefix, Vietnamese name, English name, slot minutes, bookings per slot
DEMO_SERVICES: list[tuple[str, str, str, int, int]] = [
    ("A", "Đất đai", "Land", 30, 3),
    ("B", "Đăng ký kinh doanh", "Business registration", 30, 3),
    ("C", "Xây dựng", "Construction", 30, 2),
    ("D", "Tư pháp – Hộ tịch", "Justice and civil status", 20, 2),
    ("E", "Bảo hiểm xã hội", "Social insurance", 20, 2),
    ("F", "Nội vụ, lao động, việc làm", "Home affairs, labour and employment", 30, 2),
    ("G", "Y tế", "Health", 30, 2),
    ("H", "Thuế", "Tax", 20, 2),
    ("T", "Trả kết quả", "Collection of results", 15, 0),
]

# counter number, name, prefixes served
DEMO_COUNTERS: list[tuple[int, str, tuple[str, ...]]] = [
    (1, "Đất đai 1", ("A",)),
    (2, "Đất đai 2", ("A",)),
    (3, "Đăng ký kinh doanh", ("B",)),
    (4, "Xây dựng", ("C",)),
    (5, "Tư pháp – Hộ tịch", ("D",)),
    (6, "Bảo hiểm xã hội", ("E",)),
    (7, "Nội vụ – Y tế", ("F", "G")),
    (8, "Thuế", ("H", "B")),
    (9, "Trả kết quả", ("T",)),
    (10, "Quầy chung", ("A", "B", "C", "D", "E", "F", "G", "H", "T")),
]


def load_queue_demo(ctx: Any) -> None:
    """Add the demo services and counters that are missing (``ctx`` is a :class:`saola.sim.demo.DemoContext`)."""
    session = ctx.session
    existing = {s.prefix: s for s in session.scalars(select(QueueService))}
    added = 0
    for position, (prefix, name, name_en, minutes, capacity) in enumerate(DEMO_SERVICES):
        if prefix not in existing:
            existing[prefix] = setup.create_service(session, actor=None, prefix=prefix, name=name, name_en=name_en,
                                                    slot_minutes=minutes, slot_capacity=capacity, position=position)
            added += 1
    ctx.report.add("queue services", added)
    numbers = set(session.scalars(select(QueueCounter.number)))
    added = 0
    for number, name, prefixes in DEMO_COUNTERS:
        if number not in numbers:
            setup.create_counter(session, actor=None, number=number, name=name,
                                 service_ids=[existing[p].id for p in prefixes])
            added += 1
    ctx.report.add("queue counters", added)
