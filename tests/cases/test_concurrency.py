"""Concurrent writers on PostgreSQL: the row lock lets exactly one of two equal moves win; codes never repeat.

These need a real PostgreSQL server (``SAOLA_TEST_DATABASE_URL``); outside CI they are skipped
without one, and in CI the conftest refuses to run without it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session, sessionmaker

from saola.cases import service
from saola.cases.actors import SYSTEM
from saola.cases.errors import InvalidTransition
from saola.core.db import make_engine, make_session_factory, unit_of_work
from saola.core.directory.models import Agency
from tests.cases.conftest import NOW
from tests.conftest import IN_CI, PG_URL, pg_scratch_database


@pytest.fixture
def pg_factory(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true requires PostgreSQL (SAOLA_TEST_DATABASE_URL) for the concurrency tests")
        pytest.skip("PostgreSQL is not configured (SAOLA_TEST_DATABASE_URL); these tests run in CI")
    template = request.getfixturevalue("pg_template")
    with pg_scratch_database("saola_cc", template) as (_name, url):
        engine = make_engine(url)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def _agency_id(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return session.query(Agency.id).filter(Agency.code == "SXD").scalar()


def test_of_two_concurrent_equal_moves_exactly_one_wins(pg_factory: sessionmaker[Session]) -> None:
    agency = _agency_id(pg_factory)
    with unit_of_work(pg_factory) as session:
        case_id = service.open_case(session, case_type="feedback_report", title="x", agency_id=agency, actor=SYSTEM,
                                    now=NOW).id
    first_moved, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def holder() -> None:  # moves the case and keeps the row lock until told to commit
        with unit_of_work(pg_factory) as session:
            service.transition(session, case_id=case_id, to="triaged", actor=SYSTEM, now=NOW)
            first_moved.set()
            release.wait(10)
        outcomes["holder"] = "ok"

    def contender() -> None:
        first_moved.wait(10)
        try:
            with unit_of_work(pg_factory) as session:
                service.transition(session, case_id=case_id, to="triaged", actor=SYSTEM, now=NOW)
            outcomes["contender"] = "ok"
        except InvalidTransition as exc:
            outcomes["contender"] = exc.code

    threads = [threading.Thread(target=holder), threading.Thread(target=contender)]
    for t in threads:
        t.start()
    first_moved.wait(10)
    threading.Timer(0.5, release.set).start()  # the contender is blocked on the lock meanwhile
    for t in threads:
        t.join(20)
    assert outcomes == {"holder": "ok", "contender": "invalid-transition"}
    with unit_of_work(pg_factory) as session:
        events = service.history(session, case_id=case_id, actor=SYSTEM)
    assert [e.kind for e in events] == ["created", "transition"]


def test_racing_threads_each_succeed_or_fail_cleanly(pg_factory: sessionmaker[Session]) -> None:
    agency = _agency_id(pg_factory)
    with unit_of_work(pg_factory) as session:
        case_id = service.open_case(session, case_type="feedback_report", title="x", agency_id=agency, actor=SYSTEM,
                                    now=NOW).id
    barrier = threading.Barrier(2)

    def move(_: int) -> str:
        barrier.wait(10)
        try:
            with unit_of_work(pg_factory) as session:
                service.transition(session, case_id=case_id, to="triaged", actor=SYSTEM, now=NOW)
            return "ok"
        except InvalidTransition as exc:
            return exc.code

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(move, range(2)))
    assert results == ["invalid-transition", "ok"]


def test_codes_generated_concurrently_are_unique_and_consecutive(pg_factory: sessionmaker[Session]) -> None:
    agency = _agency_id(pg_factory)
    n = 16
    barrier = threading.Barrier(n)

    def open_one(_: int) -> str:
        barrier.wait(10)
        with unit_of_work(pg_factory) as session:
            return service.open_case(session, case_type="admin_dossier", title="x", agency_id=agency, actor=SYSTEM,
                                     now=NOW).code

    with ThreadPoolExecutor(n) as pool:
        codes = list(pool.map(open_one, range(n)))
    assert sorted(codes) == [f"HS-2026-{i:06d}" for i in range(1, n + 1)]
