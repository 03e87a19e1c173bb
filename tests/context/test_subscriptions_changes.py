"""What notifications show (clause 5.8.6): deleted attributes as NGSI-LD Null, showChanges, pick/omit,
jsonldContext, type expressions, and the validation of those members."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.context.conftest import Ngsi, building
from tests.context.test_subscriptions_delivery import FAST, Receiver, subscribe, wait_for

B1 = "urn:ngsi-ld:Building:b1"
NULL = "urn:ngsi-ld:null"
CORE_V19 = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"


@pytest.fixture(autouse=True)
def fast_notifier(app) -> None:
    app.state.notifier_config = FAST


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _entity(receiver: Receiver, count: int = 1) -> dict[str, Any]:
    bodies = wait_for(lambda: len(receiver.bodies()) >= count and receiver.bodies())
    return bodies[count - 1]["data"][0]


def test_show_changes_adds_previous_values_to_updated_attributes(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url, notification={"showChanges": True})
    ngsi.create(building())
    created = _entity(receiver)
    assert "previousValue" not in created["height"]  # nothing came before a creation
    assert ngsi.patch(f"/entities/{B1}/attrs", json={"height": {"type": "Property", "value": 130},
                                                     "owner": {"type": "Relationship",
                                                               "object": "urn:ngsi-ld:Agency:XD"}}).status_code == 204
    updated = _entity(receiver, 2)
    assert updated["height"]["value"] == 130 and updated["height"]["previousValue"] == 120.5
    assert updated["owner"]["previousObject"] == "urn:ngsi-ld:Agency:SXD"
    assert "previousValue" not in updated["name"]  # unchanged attributes carry no previous value


def test_deleted_attribute_is_notified_as_null_with_its_previous_value(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url + "/plain", notificationTrigger=["attributeDeleted"])
    subscribe(ngsi, receiver.url + "/changes", notificationTrigger=["attributeDeleted"],
              notification={"showChanges": True})
    subscribe(ngsi, receiver.url + "/kv", notificationTrigger=["attributeDeleted"],
              notification={"format": "keyValues"})
    ngsi.create(building())
    assert ngsi.delete(f"/entities/{B1}/attrs/owner").status_code == 204
    plain = wait_for(lambda: receiver.bodies("/plain"))[0]["data"][0]
    assert plain["owner"] == {"type": "Relationship", "object": NULL} and plain["height"]["value"] == 120.5
    changes = wait_for(lambda: receiver.bodies("/changes"))[0]["data"][0]
    assert changes["owner"] == {"type": "Relationship", "object": NULL, "previousObject": "urn:ngsi-ld:Agency:SXD"}
    assert wait_for(lambda: receiver.bodies("/kv"))[0]["data"][0]["owner"] == NULL


def test_deleting_one_dataset_instance_fires_attribute_deleted(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url, notificationTrigger=["attributeDeleted"], watchedAttributes=["name"])
    ngsi.create(building(name=[{"type": "Property", "value": "Tháp"},
                               {"type": "Property", "value": "Tower", "datasetId": "urn:ngsi-ld:Dataset:en"}]))
    assert ngsi.delete(f"/entities/{B1}/attrs/name?datasetId=urn:ngsi-ld:Dataset:en").status_code == 204
    name = _entity(receiver)["name"]
    assert {"type": "Property", "value": "Tháp"} in name
    assert {"type": "Property", "value": NULL, "datasetId": "urn:ngsi-ld:Dataset:en"} in name


def test_deleting_every_instance_notifies_the_attribute_once_as_null(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url, notificationTrigger=["attributeDeleted"], notification={"showChanges": True})
    ngsi.create(building(name=[{"type": "Property", "value": "Tháp"},
                               {"type": "Property", "value": "Tower", "datasetId": "urn:ngsi-ld:Dataset:en"}]))
    assert ngsi.delete(f"/entities/{B1}/attrs/name?deleteAll=true").status_code == 204
    assert _entity(receiver)["name"] == {"type": "Property", "value": NULL, "previousValue": "Tháp"}


def test_entity_deletion_shows_watched_or_all_attributes_as_null(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url + "/watched", notificationTrigger=["attributeDeleted"], watchedAttributes=["name"],
              notification={"sysAttrs": True})
    subscribe(ngsi, receiver.url + "/all", notificationTrigger=["entityDeleted"], notification={"showChanges": True})
    subscribe(ngsi, receiver.url + "/bare", notificationTrigger=["entityDeleted"])
    ngsi.create(building())
    assert ngsi.delete(f"/entities/{B1}").status_code == 204
    watched = wait_for(lambda: receiver.bodies("/watched"))[0]["data"][0]
    assert set(watched) == {"id", "type", "createdAt", "modifiedAt", "deletedAt", "name"}
    assert watched["name"]["value"] == NULL and watched["name"]["deletedAt"] == watched["deletedAt"]
    every = wait_for(lambda: receiver.bodies("/all"))[0]["data"][0]
    assert every["height"] == {"type": "Property", "value": NULL, "previousValue": 120.5}
    assert every["location"]["previousValue"] == {"type": "Point", "coordinates": [106.65, 10.98]}
    bare = wait_for(lambda: receiver.bodies("/bare"))[0]["data"][0]
    assert set(bare) == {"id", "type", "deletedAt"}


def test_pick_and_omit_choose_the_notified_members(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url + "/pick", notification={"pick": ["id", "height"]})
    subscribe(ngsi, receiver.url + "/omit", notification={"omit": ["type", "height", "location"]})
    ngsi.create(building())
    assert wait_for(lambda: receiver.bodies("/pick"))[0]["data"][0] == {
        "id": B1, "height": {"type": "Property", "value": 120.5, "unitCode": "MTR"}}
    omitted = wait_for(lambda: receiver.bodies("/omit"))[0]["data"][0]
    assert set(omitted) == {"id", "name", "owner"}


def test_jsonld_context_compacts_notifications_and_names_the_context(ngsi: Ngsi, receiver: Receiver,
                                                                       suite_link: str) -> None:
    for path, accept in (("/ld", "application/ld+json"), ("/json", "application/json")):
        body = {"type": "Subscription", "entities": [{"type": "Building"}], "jsonldContext": CORE_V19,
                "notification": {"endpoint": {"uri": receiver.url + path, "accept": accept}}}
        assert ngsi.post("/subscriptions", json=body, headers={"Link": suite_link}).status_code == 201
    ngsi.create(building(), headers={"Link": suite_link})
    entity = wait_for(lambda: receiver.bodies("/ld"))[0]["data"][0]
    assert entity["@context"] == CORE_V19 and entity["type"] == "https://ngsi-ld-test-suite/context#Building"
    assert "https://ngsi-ld-test-suite/context#name" in entity and "name" not in entity
    wait_for(lambda: receiver.bodies("/json"))
    headers = next(h for p, h, _ in receiver.received if p == "/json")
    assert headers["Link"].startswith(f"<{CORE_V19}>")


def test_link_header_names_the_subscription_context(ngsi: Ngsi, receiver: Receiver, suite_link: str) -> None:
    url = suite_link[1:suite_link.index(">")]
    body = {"type": "Subscription", "entities": [{"type": "Building"}], "@context": [url],
            "notification": {"endpoint": {"uri": receiver.url, "accept": "application/json"}}}
    response = ngsi.post("/subscriptions", json=body, headers={"Content-Type": "application/ld+json"})
    assert response.status_code == 201, response.text
    ngsi.create(building(), headers={"Link": suite_link})
    assert _entity(receiver)["type"] == "Building"
    assert receiver.received[0][1]["Link"].startswith(f"<{url}>")


def test_times_sent_is_counted_when_the_notification_arrives(ngsi: Ngsi, receiver: Receiver) -> None:
    sub_id = subscribe(ngsi, receiver.url)
    ngsi.create(building())
    _entity(receiver)
    assert ngsi.get(f"/subscriptions/{sub_id}").json()["notification"]["timesSent"] == 1


def test_type_expression_selects_entities(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url, entities=[{"type": "(Tower|Building)"}])
    ngsi.create({"id": "urn:ngsi-ld:Road:r1", "type": "Road", "name": {"type": "Property", "value": "QL13"}})
    ngsi.create(building())
    assert _entity(receiver)["id"] == B1
    assert [b["data"][0]["id"] for b in receiver.bodies()] == [B1]


@pytest.mark.parametrize("notification, message", [
    ({"pick": ["id"], "attributes": ["height"]}, "pick cannot be combined"),
    ({"omit": ["id"], "attributes": ["height"]}, "omit cannot be combined"),
    ({"pick": ["id", "height"], "omit": ["height"]}, "name the same member"),
    ({"pick": []}, "non-empty list"),
    ({"showChanges": True, "format": "keyValues"}, "showChanges needs"),
    ({"showChanges": "yes"}, "showChanges must be"),
    ({"format": "simplified", "showChanges": True}, "showChanges needs"),
])
def test_invalid_notification_members_are_400(ngsi: Ngsi, notification: dict[str, Any], message: str) -> None:
    body = {"type": "Subscription", "entities": [{"type": "Building"}],
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}, **notification}}
    response = ngsi.post("/subscriptions", json=body)
    assert response.status_code == 400 and message in response.json()["detail"], response.text
    assert ngsi.get("/subscriptions").json() == []


def test_simplified_format_is_key_values(ngsi: Ngsi) -> None:
    body = {"type": "Subscription", "entities": [{"type": "Building"}],
            "notification": {"format": "simplified", "endpoint": {"uri": "http://127.0.0.1:9/n"}}}
    assert ngsi.post("/subscriptions", json=body).status_code == 201


def test_jsonld_context_must_be_a_uri_and_available(app, ngsi: Ngsi) -> None:
    app.state.settings.ngsi_ld_fetch_contexts = False
    body = {"type": "Subscription", "entities": [{"type": "Building"}],
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}}}
    invalid = ngsi.post("/subscriptions", json={**body, "jsonldContext": "unknownContext"})
    assert invalid.status_code == 400 and "jsonldContext" in invalid.json()["detail"]
    missing = ngsi.post("/subscriptions", json={**body, "jsonldContext": "https://example.org/none.jsonld"})
    assert missing.status_code == 504 and missing.json()["type"].endswith("LdContextNotAvailable")
    assert ngsi.get("/subscriptions").json() == []


def test_invalid_or_empty_subscription_ids_are_400(ngsi: Ngsi) -> None:
    for method in ("get", "delete"):
        response = getattr(ngsi, method)("/subscriptions/not-a-uri")
        assert response.status_code == 400 and response.json()["type"].endswith("BadRequestData")
    assert ngsi.patch("/subscriptions/not-a-uri", json={"isActive": False}).status_code == 400
    empty = ngsi.post("/subscriptions", json={"id": "", "type": "Subscription", "entities": [{"type": "Building"}],
                                              "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}}})
    assert empty.status_code == 400


def test_dataset_id_selects_the_notified_instances(ngsi: Ngsi, receiver: Receiver) -> None:
    subscribe(ngsi, receiver.url, datasetId=["urn:ngsi-ld:Dataset:en"])
    ngsi.create(building(name=[{"type": "Property", "value": "Tháp"},
                               {"type": "Property", "value": "Tower", "datasetId": "urn:ngsi-ld:Dataset:en"}]))
    fragment = {"name": {"type": "Property", "value": "Big tower", "datasetId": "urn:ngsi-ld:Dataset:en"}}
    assert ngsi.patch(f"/entities/{B1}/attrs", json=fragment).status_code == 204
    updated = _entity(receiver, 2)
    assert updated["name"] == {"type": "Property", "value": "Big tower", "datasetId": "urn:ngsi-ld:Dataset:en"}
    assert "height" not in updated  # only instances of the selected datasets
    refused = ngsi.post("/subscriptions", json={"type": "Subscription", "entities": [{"type": "Building"}],
                                                "datasetId": ["not a uri"],
                                                "notification": {"endpoint": {"uri": receiver.url}}})
    assert refused.status_code == 400 and "datasetId" in refused.json()["detail"]
