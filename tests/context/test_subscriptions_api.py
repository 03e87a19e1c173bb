"""Subscriptions CRUD and validation (clause 5.8, 6.10, 6.11)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.context.conftest import Ngsi

ENDPOINT = {"uri": "http://127.0.0.1:9/notify", "accept": "application/json"}


def subscription(**extra: Any) -> dict[str, Any]:
    return {"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"endpoint": ENDPOINT},
            **extra}


def create(ngsi: Ngsi, body: dict[str, Any], **kw: Any) -> str:
    response = ngsi.post("/subscriptions", json=body, **kw)
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def test_create_retrieve_list_patch_delete(ngsi: Ngsi) -> None:
    sub_id = create(ngsi, subscription(id="urn:ngsi-ld:Subscription:s1", watchedAttributes=["height"],
                                       q="height>100"))
    assert sub_id == "urn:ngsi-ld:Subscription:s1"
    body = ngsi.get(f"/subscriptions/{sub_id}").json()
    assert body["id"] == sub_id and body["type"] == "Subscription"
    assert body["status"] == "active" and "isActive" not in body
    assert body["notificationTrigger"] == ["attributeCreated", "attributeUpdated"]
    assert "timesSent" not in body["notification"] and body["notification"]["format"] == "normalized"
    assert body["watchedAttributes"] == ["height"] and body["q"] == "height>100"

    generated = create(ngsi, subscription())
    assert generated.startswith("urn:ngsi-ld:Subscription:")
    listed = ngsi.get("/subscriptions?count=true&limit=1")
    assert listed.status_code == 200 and listed.headers["NGSILD-Results-Count"] == "2"
    assert [s["id"] for s in listed.json()] == [sub_id]
    assert [s["id"] for s in ngsi.get("/subscriptions?offset=1").json()] == [generated]

    assert ngsi.patch(f"/subscriptions/{sub_id}", json={"isActive": False, "throttling": 5}).status_code == 204
    body = ngsi.get(f"/subscriptions/{sub_id}").json()
    assert body["status"] == "paused" and body["throttling"] == 5 and body["q"] == "height>100"
    # notification is replaced as a whole (clause 5.8.2): without its mandatory endpoint it is refused
    refused = ngsi.patch(f"/subscriptions/{sub_id}", json={"notification": {"format": "keyValues"}})
    assert refused.status_code == 400 and "endpoint" in refused.json()["detail"]
    assert ngsi.patch(f"/subscriptions/{sub_id}", json={
        "notification": {"format": "keyValues", "endpoint": ENDPOINT}}).status_code == 204
    body = ngsi.get(f"/subscriptions/{sub_id}").json()
    assert body["notification"]["format"] == "keyValues" and body["notification"]["endpoint"]["uri"] == ENDPOINT["uri"]

    assert ngsi.delete(f"/subscriptions/{sub_id}").status_code == 204
    assert ngsi.get(f"/subscriptions/{sub_id}").status_code == 404
    assert ngsi.delete(f"/subscriptions/{sub_id}").status_code == 404
    assert ngsi.patch(f"/subscriptions/{sub_id}", json={"isActive": True}).status_code == 404


def test_duplicate_id_is_409(ngsi: Ngsi) -> None:
    create(ngsi, subscription(id="urn:ngsi-ld:Subscription:dup"))
    response = ngsi.post("/subscriptions", json=subscription(id="urn:ngsi-ld:Subscription:dup"))
    assert response.status_code == 409
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists"


@pytest.mark.parametrize("body", [
    {"type": "Subscription", "entities": [{"type": "Building"}]},  # no notification
    subscription(type="Other"),
    {"type": "Subscription", "notification": {"endpoint": ENDPOINT}},  # neither entities nor watchedAttributes
    subscription(entities=[{"id": "urn:ngsi-ld:Building:b1"}]),  # no type
    subscription(entities=[{"type": "Building", "idPattern": "(["}]),
    subscription(watchedAttributes=[]),
    subscription(q="height>>"),
    subscription(geoQ={"georel": "near;maxDistance==10", "geometry": "Point"}),
    subscription(geoQ={"georel": "within", "geometry": "Polygon", "coordinates": [[1, 2]]}),
    subscription(expiresAt="2000-01-01T00:00:00Z"),
    subscription(expiresAt="tomorrow"),
    subscription(timeInterval=10, watchedAttributes=["height"]),
    subscription(throttling=0),
    subscription(notificationTrigger=["entityExploded"]),
    subscription(isActive="yes"),
    subscription(id="not a uri"),
    subscription(notification={"endpoint": {"uri": "nowhere"}}),
    subscription(notification={"endpoint": {"uri": "ftp://x/y"}}),
    subscription(notification={"endpoint": ENDPOINT, "format": "fancy"}),
    subscription(notification={"endpoint": {**ENDPOINT, "accept": "text/plain"}}),
    subscription(notification={"endpoint": {**ENDPOINT, "receiverInfo": [{"key": "a b", "value": "x"}]}}),
    subscription(unknownMember=1),
    [subscription()],
])
def test_invalid_subscriptions_are_400(ngsi: Ngsi, body: Any) -> None:
    response = ngsi.post("/subscriptions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"


def test_invalid_patch_is_400_and_keeps_the_subscription(ngsi: Ngsi) -> None:
    sub_id = create(ngsi, subscription())
    assert ngsi.patch(f"/subscriptions/{sub_id}", json={"q": "(("}).status_code == 400
    assert ngsi.patch(f"/subscriptions/{sub_id}", json={"id": "urn:x:other"}).status_code == 400
    assert ngsi.patch(f"/subscriptions/{sub_id}", json=[]).status_code == 400
    assert "q" not in ngsi.get(f"/subscriptions/{sub_id}").json()


def test_subscriptions_are_tenant_scoped(ngsi: Ngsi) -> None:
    sub_id = create(ngsi, subscription(), headers={"NGSILD-Tenant": "t1"})
    assert ngsi.get(f"/subscriptions/{sub_id}").status_code == 404
    assert ngsi.get(f"/subscriptions/{sub_id}", headers={"NGSILD-Tenant": "t1"}).status_code == 200
    assert ngsi.get("/subscriptions").json() == []


def test_terms_are_expanded_with_the_context_and_ld_json(ngsi: Ngsi, suite_link: str) -> None:
    url = suite_link[1:suite_link.index(">")]
    body = {**subscription(watchedAttributes=["name"]), "@context": url}
    response = ngsi.post("/subscriptions", json=body, headers={"Content-Type": "application/ld+json"})
    assert response.status_code == 201, response.text
    sub_id = response.headers["location"].rsplit("/", 1)[1]
    got = ngsi.get(f"/subscriptions/{sub_id}", headers={"Accept": "application/ld+json", "Link": suite_link})
    assert got.json()["@context"] == url and got.json()["watchedAttributes"] == ["name"]


def test_access_needs_a_token(client) -> None:
    assert client.get("/ngsi-ld/v1/subscriptions").status_code == 401
    assert client.post("/ngsi-ld/v1/subscriptions", json=subscription()).status_code == 401


def test_limits_are_checked(ngsi: Ngsi) -> None:
    assert ngsi.get("/subscriptions?limit=-1").status_code == 400
    assert ngsi.get("/subscriptions?limit=abc").status_code == 400
    assert ngsi.get("/subscriptions?limit=100000").status_code == 403
    assert ngsi.get("/subscriptions", headers={"Accept": "text/csv"}).status_code == 406
