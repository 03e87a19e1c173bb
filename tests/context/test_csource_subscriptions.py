"""Subscriptions to context source registrations (clause 5.11) and their notifications, through HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.context.conftest import Ngsi
from tests.context.test_csource_registrations import create as create_registration
from tests.context.test_csource_registrations import registration
from tests.context.test_subscriptions_delivery import FAST, Receiver, closed_port, wait_for


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture(autouse=True)
def fast_notifier(app: Any) -> None:
    app.state.notifier_config = FAST


def subscription(uri: str = "http://127.0.0.1:9/notify", **extra: Any) -> dict[str, Any]:
    return {"type": "Subscription", "entities": [{"type": "Streetlight"}],
            "notification": {"format": "keyValues", "endpoint": {"uri": uri, "accept": "application/json"}}, **extra}


def create(ngsi: Ngsi, body: dict[str, Any], **kw: Any) -> str:
    response = ngsi.post("/csourceSubscriptions", json=body, **kw)
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def test_create_retrieve_query_update_delete(ngsi: Ngsi) -> None:
    sub_id = create(ngsi, subscription(id="urn:ngsi-ld:Subscription:c1", watchedAttributes=["powerState"]))
    body = ngsi.get(f"/csourceSubscriptions/{sub_id}").json()
    assert body == {**subscription(id=sub_id, watchedAttributes=["powerState"]), "status": "active"}
    generated = create(ngsi, subscription())
    assert generated.startswith("urn:ngsi-ld:Subscription:")
    listed = ngsi.get("/csourceSubscriptions?limit=1&count=true")
    assert [s["id"] for s in listed.json()] == [sub_id] and listed.headers["NGSILD-Results-Count"] == "2"
    assert '</ngsi-ld/v1/csourceSubscriptions?limit=1&offset=1>; rel="next"' in listed.headers["link"]
    assert [s["id"] for s in ngsi.get("/csourceSubscriptions?offset=1").json()] == [generated]

    assert ngsi.patch(f"/csourceSubscriptions/{sub_id}", json={"isActive": False}).status_code == 204
    assert ngsi.get(f"/csourceSubscriptions/{sub_id}").json()["status"] == "paused"
    assert ngsi.patch(f"/csourceSubscriptions/{sub_id}", json={"notification": {"format": "keyValues"}}
                      ).status_code == 400
    assert ngsi.delete(f"/csourceSubscriptions/{sub_id}").status_code == 204
    assert ngsi.get(f"/csourceSubscriptions/{sub_id}").status_code == 404
    assert ngsi.delete(f"/csourceSubscriptions/{sub_id}").status_code == 404
    assert ngsi.patch(f"/csourceSubscriptions/{sub_id}", json={"isActive": True}).status_code == 404
    assert ngsi.get("/csourceSubscriptions/invalidUri").json()["type"].endswith("/BadRequestData")
    assert ngsi.delete("/csourceSubscriptions/invalidUri").status_code == 400


def test_duplicate_id_and_expiry(ngsi: Ngsi) -> None:
    create(ngsi, subscription(id="urn:ngsi-ld:Subscription:dup"))
    duplicate = ngsi.post("/csourceSubscriptions", json=subscription(id="urn:ngsi-ld:Subscription:dup"))
    assert duplicate.status_code == 409 and duplicate.json()["type"].endswith("/AlreadyExists")
    sub_id = create(ngsi, subscription(expiresAt="2099-01-01T00:00:00Z"))
    assert ngsi.get(f"/csourceSubscriptions/{sub_id}").json()["status"] == "active"


@pytest.mark.parametrize("body", [
    {"type": "Subscription", "entities": [{"type": "Streetlight"}]},  # no notification
    subscription(type="RandomType"),
    subscription(q="speed>"),
    subscription(watchedAttributes=[]),
    subscription(expiresAt="2018-08-01T22:07:00Z"),
    subscription(geoQ={"georel": "within", "geometry": "Polygon"}),
    subscription(temporalQ={"timerel": "before"}),
    subscription(temporalQ={"timerel": "after", "timeAt": "2020-01-01T00:00:00Z", "timeproperty": "deletedAt"}),
    subscription(notificationTrigger=["entityCreated"]),
    subscription(uri="not a uri"),
])
def test_invalid_subscriptions(ngsi: Ngsi, body: dict[str, Any]) -> None:
    response = ngsi.post("/csourceSubscriptions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/BadRequestData")


def test_limits_and_accept(ngsi: Ngsi) -> None:
    for params in ("limit=-5&offset=2", "limit=2&offset=-3"):
        assert ngsi.get(f"/csourceSubscriptions?{params}").status_code == 400
    assert ngsi.get("/csourceSubscriptions", headers={"Accept": "application/geo+json"}).status_code == 406
    anything = ngsi.get("/csourceSubscriptions", headers={"Accept": "*/*"})
    assert anything.headers["content-type"] == "application/json" and "json-ld#context" in anything.headers["link"]


def test_tenants_are_isolated(ngsi: Ngsi) -> None:
    sub_id = create(ngsi, subscription(), headers={"NGSILD-Tenant": "bacninh"})
    assert ngsi.get(f"/csourceSubscriptions/{sub_id}").status_code == 404
    assert ngsi.get("/csourceSubscriptions").json() == []
    assert ngsi.get(f"/csourceSubscriptions/{sub_id}", headers={"NGSILD-Tenant": "bacninh"}).status_code == 200


def test_notifications_follow_the_registrations(ngsi: Ngsi, receiver: Receiver) -> None:
    create_registration(ngsi, registration("urn:r:old"))
    sub_id = create(ngsi, subscription(receiver.url + "/n"))
    initial = wait_for(lambda: receiver.bodies())[0]
    assert initial["type"] == "ContextSourceNotification" and initial["subscriptionId"] == sub_id
    assert initial["triggerReason"] == "newlyMatching" and [r["id"] for r in initial["data"]] == ["urn:r:old"]
    assert initial["data"][0]["information"][0]["entities"] == [{"type": ["Streetlight"]}]

    create_registration(ngsi, registration("urn:r:new"))
    create_registration(ngsi, registration("urn:r:other", information=[{"entities": [{"type": "Camera"}]}]))
    assert ngsi.patch("/csourceRegistrations/urn:r:new", json={"endpoint": "http://b.example"}).status_code == 204
    assert ngsi.patch("/csourceRegistrations/urn:r:new",
                      json={"information": [{"entities": [{"type": "Camera"}]}]}).status_code == 204
    assert ngsi.delete("/csourceRegistrations/urn:r:old").status_code == 204
    bodies = wait_for(lambda: len(receiver.bodies()) >= 5 and receiver.bodies())
    assert [(b["triggerReason"], b["data"][0]["id"]) for b in bodies[1:]] == [
        ("newlyMatching", "urn:r:new"), ("updated", "urn:r:new"), ("noLongerMatching", "urn:r:new"),
        ("noLongerMatching", "urn:r:old")]
    assert bodies[2]["data"][0]["endpoint"] == "http://b.example"
    _, headers, _ = receiver.received[0]
    assert headers["Content-Type"] == "application/json" and "json-ld#context" in headers["Link"]
    status = wait_for(lambda: (n := ngsi.get(f"/csourceSubscriptions/{sub_id}").json()["notification"])
                      .get("timesSent") == 5 and n)
    assert status["status"] == "ok" and "lastSuccess" in status and "timesFailed" not in status


def test_paused_subscriptions_are_not_notified_and_patches_renotify(ngsi: Ngsi, receiver: Receiver) -> None:
    sub_id = create(ngsi, subscription(receiver.url + "/n", isActive=False))
    create_registration(ngsi, registration("urn:r:1"))
    create_registration(ngsi, registration("urn:r:2", information=[{"entities": [{"type": "Camera"}]}]))
    assert ngsi.patch(f"/csourceSubscriptions/{sub_id}", json={
        "isActive": True, "entities": [{"type": "Streetlight"}, {"type": "Camera"}]}).status_code == 204
    body = wait_for(lambda: receiver.bodies())[0]
    assert body["triggerReason"] == "newlyMatching" and [r["id"] for r in body["data"]] == ["urn:r:1", "urn:r:2"]
    assert len(receiver.bodies()) == 1


def test_conditions_and_ld_json_endpoints(ngsi: Ngsi, receiver: Receiver, suite_link: str) -> None:
    create(ngsi, subscription(receiver.url + "/geo", entities=[{"type": "Building"}],
                              geoQ={"georel": "near;maxDistance==2000", "geometry": "Point",
                                    "coordinates": [-8.52, 41.2]}), headers={"Link": suite_link})
    create(ngsi, subscription(receiver.url + "/time", entities=[{"type": "Building"}],
                              temporalQ={"timerel": "after", "timeAt": "2020-06-01T22:07:00Z",
                                         "timeproperty": "createdAt"}), headers={"Link": suite_link})
    notification = {"endpoint": {"uri": receiver.url + "/ld", "accept": "application/ld+json"}}
    create(ngsi, subscription(entities=[{"type": "Building"}], watchedAttributes=["name"], q='owner=="city"',
                              notification=notification), headers={"Link": suite_link})
    create_registration(ngsi, registration("urn:r:far", information=[
        {"entities": [{"type": "Building"}], "propertyNames": ["height"]}],
        location={"type": "Point", "coordinates": [106.0, 21.0]}), headers={"Link": suite_link})
    create_registration(ngsi, registration("urn:r:near", information=[
        {"entities": [{"type": "Building"}], "propertyNames": ["name"]}],
        location={"type": "Point", "coordinates": [-8.521, 41.2]}, owner="city",
        managementInterval={"startAt": "2020-08-01T22:07:00Z", "endAt": "2021-08-01T21:07:00Z"}),
        headers={"Link": suite_link})
    bodies = wait_for(lambda: len(receiver.received) >= 3 and receiver.received)
    by_path = {path: body for path, _, body in bodies}
    assert {path: [r["id"] for r in body["data"]] for path, body in by_path.items()} == {
        "/geo": ["urn:r:near"], "/time": ["urn:r:near"], "/ld": ["urn:r:near"]}
    assert by_path["/ld"]["data"][0]["@context"] == suite_link.split(">")[0][1:]
    assert by_path["/geo"]["data"][0]["information"][0]["entities"] == [{"type": ["Building"]}]


def test_failures_are_counted(ngsi: Ngsi) -> None:
    sub_id = create(ngsi, subscription(f"http://127.0.0.1:{closed_port()}/n"))
    create_registration(ngsi, registration())
    status = wait_for(lambda: (n := ngsi.get(f"/csourceSubscriptions/{sub_id}").json()["notification"])
                      .get("timesFailed") and n)
    assert status["status"] == "failed" and status["timesSent"] >= 1 and "lastFailure" in status


def test_periodic_subscriptions(ngsi: Ngsi, receiver: Receiver) -> None:
    create_registration(ngsi, registration())
    create(ngsi, subscription(receiver.url + "/p", timeInterval=1))
    bodies = wait_for(lambda: len(receiver.bodies()) >= 2 and receiver.bodies(), timeout=15)
    assert all([r["id"] for r in b["data"]] == ["urn:ngsi-ld:ContextSourceRegistration:r1"] for b in bodies)


def test_notifications_carry_only_the_matching_registration_information(ngsi: Ngsi, receiver: Receiver) -> None:
    """Clause 5.11.7: only the RegistrationInfo items relevant to the subscription, on every trigger."""
    sub_id = create(ngsi, subscription(receiver.url + "/n", entities=[{"type": "Building"}],
                                       watchedAttributes=["name"]))
    create_registration(ngsi, registration("urn:r:mixed", information=[
        {"entities": [{"type": "Building"}], "propertyNames": ["name"]},
        {"entities": [{"type": "Bus"}]},
        {"entities": [{"type": "Building"}], "propertyNames": ["height"]},
        {"propertyNames": ["name"]}]))
    created = wait_for(lambda: receiver.bodies())[0]
    assert created["subscriptionId"] == sub_id and created["triggerReason"] == "newlyMatching"
    assert created["data"][0]["information"] == [
        {"entities": [{"type": ["Building"]}], "propertyNames": ["name"]}, {"propertyNames": ["name"]}]
    assert ngsi.patch("/csourceRegistrations/urn:r:mixed", json={"information": [
        {"entities": [{"type": "Bus"}]}, {"entities": [{"type": "Building", "id": "urn:b:1"}]}]}).status_code == 204
    assert ngsi.patch("/csourceRegistrations/urn:r:mixed", json={"information": [
        {"entities": [{"type": "Bus"}]}]}).status_code == 204
    bodies = wait_for(lambda: len(receiver.bodies()) >= 3 and receiver.bodies())
    assert [(b["triggerReason"], b["data"][0]["information"]) for b in bodies[1:]] == [
        ("updated", [{"entities": [{"type": ["Building"], "id": "urn:b:1"}]}]),
        ("noLongerMatching", [{"entities": [{"type": ["Building"], "id": "urn:b:1"}]}])]
    # the registration itself is unchanged by what a notification shows of it
    assert ngsi.get("/csourceRegistrations/urn:r:mixed").json()["information"] == [{"entities": [{"type": "Bus"}]}]


def test_items_listing_no_attributes_answer_any_watched_attribute(ngsi: Ngsi, receiver: Receiver) -> None:
    create_registration(ngsi, registration("urn:r:all", information=[
        {"entities": [{"type": "Building"}]}, {"entities": [{"type": "Bus"}]}]))
    body = {k: v for k, v in subscription(receiver.url + "/n").items() if k != "entities"}
    create(ngsi, {**body, "watchedAttributes": ["name"]})
    notified = wait_for(lambda: receiver.bodies())[0]
    assert [i["entities"] for i in notified["data"][0]["information"]] == [
        [{"type": ["Building"]}], [{"type": ["Bus"]}]]
