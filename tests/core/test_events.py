"""The event bus: topic patterns, bounded queues for slow consumers, closing; events after commit."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from saola.core.auth.service import Principal
from saola.core.db import queue_event, take_committed_events, writer_lock
from saola.core.deps import DbSession, require
from saola.core.directory.models import AgencyContact
from saola.core.errors import Conflict
from saola.core.events import Event, MemoryEventBus, make_event_bus, topic_matches
from saola.core.session_route import SessionRoute

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=5))


def drain(sub: Any) -> list[Event]:
    """Everything queued for ``sub`` right now (without waiting)."""
    out = []
    while not sub.queue.empty():
        item = sub.queue.get_nowait()
        if item is not None:
            out.append(item)
    return out


@pytest.mark.parametrize(
    ("pattern", "topic", "matches"),
    [
        ("alert.raised", "alert.raised", True),
        ("alert.raised", "alert.cleared", False),
        ("alert.raised", "alert.raised.extra", False),
        ("alert.*", "alert.raised", True),
        ("alert.*", "alert.raised.critical", True),
        ("alert.*", "alert", False),
        ("alert.*", "alerts.raised", False),
        ("alert.*", "entity.changed", False),
        ("*", "entity.changed", True),
        ("*", "x", True),
    ],
)
def test_topic_patterns_match_exactly_by_prefix_or_everything(pattern: str, topic: str, matches: bool) -> None:
    assert topic_matches(pattern, topic) is matches


def test_subscribers_receive_the_events_their_pattern_matches_in_order() -> None:
    async def scenario() -> dict[str, list[tuple[str, dict[str, Any]]]]:
        bus = MemoryEventBus()
        subs = {p: bus.subscribe(p) for p in ("alert.raised", "alert.*", "*", "case.*")}
        await bus.publish("alert.raised", {"n": 1})
        await bus.publish("entity.changed", {"n": 2})
        await bus.publish("alert.cleared", {"n": 3})
        await bus.close()
        received = {}
        for pattern, sub in subs.items():
            received[pattern] = [(e.topic, e.payload) async for e in sub]
        return received

    received = run(scenario())
    assert received["alert.raised"] == [("alert.raised", {"n": 1})]
    assert received["alert.*"] == [("alert.raised", {"n": 1}), ("alert.cleared", {"n": 3})]
    assert received["*"] == [("alert.raised", {"n": 1}), ("entity.changed", {"n": 2}), ("alert.cleared", {"n": 3})]
    assert received["case.*"] == []


def test_events_carry_an_aware_timestamp() -> None:
    async def scenario() -> Event:
        bus = MemoryEventBus()
        sub = bus.subscribe("*")
        await bus.publish("x.y", {})
        return await anext(aiter(sub))

    event = run(scenario())
    assert event.at.tzinfo is not None


def test_a_slow_consumer_loses_counted_events_without_blocking_publishers() -> None:
    async def scenario() -> tuple[int, int, list[int], list[int], int]:
        bus = MemoryEventBus()
        slow = bus.subscribe("tick", max_queue=3)
        fast = bus.subscribe("tick", max_queue=100)
        for n in range(10):  # nobody reads "slow": publish must still return at once
            await asyncio.wait_for(bus.publish("tick", {"n": n}), timeout=0.5)
        slow_got = [e.payload["n"] for e in drain(slow)]
        fast_got = [e.payload["n"] for e in drain(fast)]
        return slow.dropped, fast.dropped, slow_got, fast_got, bus.published

    slow_dropped, fast_dropped, slow_got, fast_got, published = run(scenario())
    assert slow_got == [0, 1, 2]  # the oldest are kept, the overflow is dropped and counted
    assert slow_dropped == 7
    assert fast_got == list(range(10))
    assert fast_dropped == 0
    assert published == 10


def test_closing_a_subscription_ends_its_iteration_and_stops_delivery() -> None:
    async def scenario() -> tuple[list[int], int]:
        bus = MemoryEventBus()
        sub = bus.subscribe("*")
        got: list[int] = []

        async def consume() -> None:
            async for event in sub:
                got.append(event.payload["n"])

        consumer = asyncio.create_task(consume())
        await bus.publish("a", {"n": 1})
        await asyncio.sleep(0)
        await sub.close()
        await asyncio.wait_for(consumer, timeout=1)  # the waiting loop ends
        await bus.publish("a", {"n": 2})
        return got, sub.queue.qsize()

    got, left = run(scenario())
    assert got == [1]
    assert left == 0


def test_closing_the_bus_ends_every_subscription_even_with_a_full_queue() -> None:
    async def scenario() -> list[list[int]]:
        bus = MemoryEventBus()
        subs = [bus.subscribe("*", max_queue=1), bus.subscribe("x.*")]
        await bus.publish("x.1", {"n": 1})
        await bus.close()
        return [[e.payload["n"] async for e in sub] for sub in subs]

    assert run(scenario()) == [[1], [1]]


def test_an_unknown_bus_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event bus backend"):
        make_event_bus("carrier-pigeon")


# --- events after commit -----------------------------------------------------------------------------


def test_queued_events_are_released_only_by_a_commit(db) -> None:
    queue_event(db, "contact.created", {"id": 1})
    db.add(AgencyContact(agency_id=2, name="A"))
    db.flush()
    assert take_committed_events(db) == []  # flushed is not committed
    db.commit()
    assert take_committed_events(db) == [("contact.created", {"id": 1})]
    assert take_committed_events(db) == []  # taken once


def test_queued_events_are_dropped_on_rollback(db) -> None:
    queue_event(db, "contact.created", {"id": 1})
    db.add(AgencyContact(agency_id=2, name="A"))
    db.flush()
    db.rollback()
    db.commit()
    assert take_committed_events(db) == []


@pytest.fixture(params=["route", "session-route"])
def event_app(app: FastAPI, request: pytest.FixtureRequest) -> FastAPI:
    """The app with a small route that writes a contact, queues an event and may then fail: a plain route
    (the session ends in the dependency) and a SessionRoute (the session ends in the handler's thread)."""
    router = APIRouter(route_class=SessionRoute) if request.param == "session-route" else APIRouter()

    @router.post("/test/contacts")
    def add_contact(
        session: DbSession, _: Annotated[Principal, Depends(require("contacts:write"))], fail: bool = False
    ) -> dict[str, int]:
        contact = AgencyContact(agency_id=2, name="Evented")
        session.add(contact)
        session.flush()
        queue_event(session, "contact.created", {"id": contact.id})
        if fail:
            raise Conflict("Failing on purpose, after queueing the event")
        return {"id": contact.id}

    app.include_router(router)
    return app


def _subscribe(client: TestClient, bus: Any, pattern: str) -> Any:
    async def _sub() -> Any:
        return bus.subscribe(pattern)

    return client.portal.call(_sub)


def test_a_requests_events_are_published_after_its_commit(event_app: FastAPI, token) -> None:
    with TestClient(event_app, base_url="http://127.0.0.1") as client:
        sub = _subscribe(client, event_app.state.event_bus, "contact.*")
        response = client.post("/test/contacts", headers={"Authorization": f"Bearer {token('staff')}"})
        assert response.status_code == 200, response.text
        events = client.portal.call(_adrain, sub)
    assert [(e.topic, e.payload) for e in events] == [("contact.created", {"id": response.json()["id"]})]
    with event_app.state.session_factory() as session:  # what the event names is committed and visible
        assert session.get(AgencyContact, response.json()["id"]) is not None


def test_a_failed_requests_events_are_never_published(event_app: FastAPI, token) -> None:
    with TestClient(event_app, base_url="http://127.0.0.1") as client:
        sub = _subscribe(client, event_app.state.event_bus, "*")
        response = client.post("/test/contacts?fail=true", headers={"Authorization": f"Bearer {token('staff')}"})
        assert response.status_code == 409
        events = client.portal.call(_adrain, sub)
    assert events == []
    with event_app.state.session_factory() as session:
        assert session.scalars(select(AgencyContact).where(AgencyContact.name == "Evented")).all() == []


def test_the_sqlite_writer_lock_is_free_again_after_a_write_and_after_a_failed_one(event_app: FastAPI,
                                                                                  token) -> None:
    engine = event_app.state.session_factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        return  # (PostgreSQL writers need no lock of ours: nothing to check there)
    headers = {"Authorization": f"Bearer {token('staff')}"}
    with TestClient(event_app, base_url="http://127.0.0.1") as client:
        for path, status in (("/test/contacts", 200), ("/test/contacts?fail=true", 409), ("/test/contacts", 200)):
            assert client.post(path, headers=headers).status_code == status
            assert not writer_lock(engine).locked()


async def _adrain(sub: Any) -> list[Event]:
    return drain(sub)


def test_batches_take_what_is_queued_without_waiting_for_more() -> None:
    async def scenario() -> None:
        bus = MemoryEventBus()
        sub = bus.subscribe("ngsi.entity.*")
        for n in range(7):
            await bus.publish("ngsi.entity.updated", {"n": n})
        batches = sub.batches(5)
        assert [e.payload["n"] for e in await batches.__anext__()] == [0, 1, 2, 3, 4]
        assert [e.payload["n"] for e in await batches.__anext__()] == [5, 6]
        await bus.publish("ngsi.entity.created", {"n": 7})  # a later event starts the next batch
        assert [e.payload["n"] for e in await batches.__anext__()] == [7]
        await sub.close()
        assert [batch async for batch in batches] == []

    run(scenario())
