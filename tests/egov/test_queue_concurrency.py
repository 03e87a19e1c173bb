"""Concurrent kiosks and counters: ticket numbers are never duplicated and no ticket is called twice.

Each thread has its own connection and transaction, started together behind a barrier. On PostgreSQL
the day-counter row lock and ``FOR UPDATE … SKIP LOCKED`` do the work; on SQLite the write lock does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from saola.core.db import unit_of_work
from saola.egov.queue import service as queue
from tests.egov.test_queue_support import centre, principal, vn

KIOSKS = 8
TICKETS_PER_KIOSK = 6
DAY = vn(2026, 11, 24, 8, 0)


def in_threads(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target(i: int) -> None:
        barrier.wait()
        try:
            out = work(i)
            with lock:
                results.extend(out)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_concurrent_kiosks_never_issue_the_same_number(app) -> None:
    c = centre(app)

    def kiosk(_i: int) -> list[str]:
        codes = []
        for _ in range(TICKETS_PER_KIOSK):
            with unit_of_work(app.state.session_factory) as session:
                codes.append(queue.issue_ticket(session, service_id=c.land, now=DAY).code)
        return codes

    codes, errors = in_threads(KIOSKS, kiosk)
    assert errors == []
    total = KIOSKS * TICKETS_PER_KIOSK
    assert sorted(codes) == [f"A{n:03d}" for n in range(1, total + 1)]


def test_concurrent_counters_never_call_the_same_ticket(app) -> None:
    c = centre(app)
    clerk = principal(app, "clerk")
    with unit_of_work(app.state.session_factory) as session:
        for minute in range(30):
            queue.issue_ticket(session, service_id=c.land, now=vn(2026, 11, 24, 7, minute))
    counters = [c.counter1, c.counter2]

    def counter(i: int) -> list[str]:
        called = []
        while True:
            with unit_of_work(app.state.session_factory) as session:
                waiting = queue.list_tickets(session, day=DAY.date(), status="waiting")
            if not waiting:
                return called
            try:
                with unit_of_work(app.state.session_factory) as session:
                    called.append(queue.call_next(session, counter_id=counters[i], actor=clerk, now=DAY).code)
                with unit_of_work(app.state.session_factory) as session:
                    queue.finish(session, counter_id=counters[i], actor=clerk, now=DAY)
            except Exception as exc:
                if getattr(exc, "code", "") == "queue-empty":
                    return called
                raise

    called, errors = in_threads(2, counter)
    assert errors == []
    assert sorted(called) == [f"A{n:03d}" for n in range(1, 31)]  # each ticket exactly once
