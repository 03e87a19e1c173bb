"""Tenants are isolated and created by their first write; every change is published after commit."""

from __future__ import annotations

from saola.context.store import UNWATCHED
from saola.core.events import MemoryEventBus
from tests.context.conftest import Ngsi, building

NAME = "https://uri.etsi.org/ngsi-ld/default-context/name"


def test_tenants_are_isolated_and_unknown_ones_are_404(ngsi: Ngsi) -> None:
    hcm = {"NGSILD-Tenant": "hcm"}
    assert ngsi.get("/entities?type=Building", headers=hcm).status_code == 404
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1", headers=hcm).status_code == 404
    ngsi.create(building(), headers=hcm)
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1", headers=hcm).status_code == 200
    assert ngsi.get("/entities/urn:ngsi-ld:Building:b1").status_code == 404
    assert ngsi.get("/entities?type=Building").json() == []
    ngsi.create(building())  # the same id in the default tenant
    assert ngsi.get("/types", headers=hcm).json()["typeList"] == ["Building"]
    assert ngsi.get("/entities?type=Building", headers={"NGSILD-Tenant": "bad tenant!"}).status_code == 400


def test_changes_are_published_after_commit(app, ngsi: Ngsi) -> None:
    bus: MemoryEventBus = app.state.event_bus
    sub = bus.subscribe("ngsi.entity.*")
    ngsi.create(building())
    ngsi.patch("/entities/urn:ngsi-ld:Building:b1/attrs", json={"name": {"value": "Mới"}})
    ngsi.post("/entities", json=building())  # 409: nothing published
    ngsi.delete("/entities/urn:ngsi-ld:Building:b1")
    events = []
    while not sub.queue.empty():
        events.append(sub.queue.get_nowait())
    assert [e.topic for e in events] == ["ngsi.entity.created", "ngsi.entity.updated", "ngsi.entity.deleted"]
    created, updated, deleted = (e.payload for e in events)
    assert created["previous"] is None and created["entity"]["id"] == "urn:ngsi-ld:Building:b1"
    assert created["types"] == ["https://uri.etsi.org/ngsi-ld/default-context/Building"]
    assert updated["changed"] == [NAME]
    assert updated["previous"][NAME][0]["value"] == "Tháp Bình Dương"
    assert updated["entity"][NAME][0]["value"] == "Mới"
    assert deleted["entity"] is None and deleted["tenant"] == ""


def test_on_sqlite_a_change_no_subscription_can_see_is_marked_for_the_notifier_to_skip(app, ngsi: Ngsi) -> None:
    bus: MemoryEventBus = app.state.event_bus
    sub = bus.subscribe("ngsi.entity.*")
    hcm = {"NGSILD-Tenant": "hcm"}
    watched = {"type": "Subscription", "entities": [{"type": "Building"}],
               "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}}
    assert ngsi.post("/subscriptions", json=watched, headers=hcm).status_code == 201
    ngsi.create(building())  # the default tenant: no subscription
    ngsi.create(building(), headers=hcm)
    events = []
    while not sub.queue.empty():
        events.append(sub.queue.get_nowait())
    unwatched = {e.payload["tenant"]: e.payload.get(UNWATCHED, False) for e in events if e.topic.startswith("ngsi.")}
    sqlite = app.state.engine.dialect.name == "sqlite"
    # (on PostgreSQL a subscription's transaction may overlap the change's: the notifier reads after the commit)
    assert unwatched == {"": sqlite, "hcm": False}
