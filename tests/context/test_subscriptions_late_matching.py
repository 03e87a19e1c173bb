"""A change made before a subscription existed is not notified to it, however late the matcher handles it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from saola.context import store
from saola.context.jsonld import ContextProcessor
from saola.context.subscription_matching import match_events
from saola.core.db import unit_of_work
from tests.context.conftest import Ngsi, building
from tests.context.test_subscriptions_delivery import subscribe

B1 = "urn:ngsi-ld:Building:b1"


def _matched(ngsi: Ngsi, payload: dict[str, object]) -> int:
    """How many notifications the matcher writes for ``payload`` now (nothing is kept)."""
    app = ngsi.client.app
    session = app.state.session_factory()
    try:
        return match_events(session, ContextProcessor(), [("ngsi.entity.created", payload)], app.state.settings)
    finally:
        session.rollback()
        session.close()


def test_a_change_older_than_the_subscription_is_not_notified(ngsi: Ngsi) -> None:
    ngsi.create(building())
    with unit_of_work(ngsi.client.app.state.session_factory) as session:
        entity = store.load_document(session, "", B1)
    assert entity is not None
    made = datetime.fromisoformat(entity["createdAt"])
    subscribe(ngsi, "http://127.0.0.1:9/n")  # created after the entity: what the matcher sees when it runs late
    event = {"tenant": "", "id": B1, "types": entity["type"], "changed": [], "entity": entity, "previous": None}
    assert _matched(ngsi, {**event, "at": made.isoformat()}) == 0
    assert _matched(ngsi, {**event, "at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()}) == 1
    assert _matched(ngsi, event) == 1  # an event that does not say when (older producers) is matched as before


def test_stored_changes_say_when_they_were_made(ngsi: Ngsi) -> None:
    ngsi.create(building())
    session = ngsi.client.app.state.session_factory()
    try:
        row = store.load(session, "", B1, for_update=True)
        assert row is not None
        before = datetime.now(UTC)
        store.replace_entity(session, row, {**row.data, "modifiedAt": "2026-11-25T00:00:00.000Z"})
        topic, payload = session.info["pending_events"][-1]
        assert topic == "ngsi.entity.updated"
        assert before <= datetime.fromisoformat(payload["at"]) <= datetime.now(UTC)
    finally:
        session.rollback()
        session.close()
