"""The provisioning API in the IoT Agent shape: /iot/services and /iot/devices (auth, shape, errors)."""

from __future__ import annotations

SERVICE = {"services": [{"apikey": "lamp-key", "entity_type": "Streetlight", "resource": "/iot/d",
                         "cbroker": "http://orion:1026", "autoprovision": False,
                         "attributes": [{"object_id": "p", "name": "powerConsumption", "type": "Number",
                                         "metadata": {"unitCode": {"type": "Text", "value": "WTT"}}}],
                         "static_attributes": [{"name": "district", "type": "Text", "value": "Tu Son"}],
                         "commands": [{"name": "on", "type": "command"}]}]}
DEVICE = {"device_id": "lamp-001", "entity_name": "urn:ngsi-ld:Streetlight:bn-001", "protocol": "PDI-IoTA-UltraLight",
          "transport": "MQTT", "latitude": 21.186, "longitude": 106.076, "expected_interval": 600,
          "attributes": [{"object_id": "s", "name": "powerState", "type": "Text"}],
          "static_attributes": [{"name": "refStreet", "type": "Relationship", "value": "urn:ngsi-ld:Road:ql1"}]}
HEADERS = {"fiware-service": "bacninh", "fiware-servicepath": "/lighting"}


def _setup(client, iot_headers) -> None:
    assert client.post("/iot/services", json=SERVICE, headers={**iot_headers, **HEADERS}).status_code == 201
    response = client.post("/iot/devices", json={"devices": [DEVICE]}, headers={**iot_headers, **HEADERS})
    assert response.status_code == 201, response.text


def test_provisioning_a_device_creates_its_ngsi_ld_entity(client, iot_headers) -> None:
    _setup(client, iot_headers)
    entity = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Streetlight:bn-001",
                        headers={**iot_headers, "NGSILD-Tenant": "bacninh"})
    assert entity.status_code == 200, entity.text
    body = entity.json()
    assert body["type"] == "Streetlight"
    assert body["district"]["value"] == "Tu Son"  # the group's static attribute
    assert body["refStreet"] == {"type": "Relationship", "object": "urn:ngsi-ld:Road:ql1"}
    assert body["location"]["value"] == {"type": "Point", "coordinates": [106.076, 21.186]}


def test_services_and_devices_are_listed_in_the_iot_agent_shape(client, iot_headers) -> None:
    _setup(client, iot_headers)
    services = client.get("/iot/services", headers={**iot_headers, **HEADERS}).json()
    assert services["count"] == 1
    group = services["services"][0]
    assert (group["apikey"], group["service"], group["subservice"]) == ("lamp-key", "bacninh", "/lighting")
    assert group["attributes"][0] == {"object_id": "p", "name": "powerConsumption", "type": "Number", "unit": "WTT"}
    devices = client.get("/iot/devices?limit=10&offset=0", headers={**iot_headers, **HEADERS}).json()
    assert devices["count"] == 1
    device = devices["devices"][0]
    assert (device["device_id"], device["entity_name"], device["entity_type"], device["apikey"]) == (
        "lamp-001", "urn:ngsi-ld:Streetlight:bn-001", "Streetlight", "lamp-key")
    assert device["health"]["status"] == "unknown"
    one = client.get("/iot/devices/lamp-001", headers={**iot_headers, **HEADERS})
    assert one.status_code == 200 and one.json()["expected_interval"] == 600
    other_tenant = client.get("/iot/devices", headers={**iot_headers, "fiware-service": "other"}).json()
    assert other_tenant == {"count": 0, "devices": []}


def test_device_ids_default_to_the_iot_agent_entity_name(client, iot_headers) -> None:
    _setup(client, iot_headers)
    assert client.post("/iot/devices", json={"devices": [{"device_id": "lamp-002"}]},
                       headers={**iot_headers, **HEADERS}).status_code == 201
    device = client.get("/iot/devices/lamp-002", headers={**iot_headers, **HEADERS}).json()
    assert device["entity_name"] == "urn:ngsi-ld:Streetlight:lamp-002"


def test_duplicate_device_is_a_conflict_that_changes_nothing(client, iot_headers) -> None:
    _setup(client, iot_headers)
    again = client.post("/iot/devices", json={"devices": [{"device_id": "lamp-009"}, DEVICE]},
                        headers={**iot_headers, **HEADERS})
    assert again.status_code == 409 and again.json()["code"] == "device-exists"
    assert client.get("/iot/devices/lamp-009", headers={**iot_headers, **HEADERS}).status_code == 404
    dup_group = client.post("/iot/services", json=SERVICE, headers={**iot_headers, **HEADERS})
    assert dup_group.status_code == 409 and dup_group.json()["code"] == "service-group-exists"


def test_bad_bodies_are_refused_with_clear_messages(client, iot_headers) -> None:
    headers = {**iot_headers, **HEADERS}
    missing = client.post("/iot/devices", json={"devices": [{"entity_type": "X"}]}, headers=headers)
    assert missing.status_code == 422 and "device_id" in missing.text
    bad_id = client.post("/iot/devices", json={"devices": [{"device_id": "a/b"}]}, headers=headers)
    assert bad_id.status_code == 422
    half = client.post("/iot/devices", json={"devices": [{"device_id": "x", "latitude": 21}]}, headers=headers)
    assert half.status_code == 422 and "latitude and longitude" in half.text
    no_group = client.post("/iot/devices", json={"devices": [{"device_id": "x"}]},
                           headers={**iot_headers, "fiware-service": "nogroup"})
    assert no_group.status_code == 400 and no_group.json()["code"] == "invalid-provisioning"
    bad_tenant = client.get("/iot/devices", headers={**iot_headers, "fiware-service": "no spaces"})
    assert bad_tenant.status_code == 400
    assert client.post("/iot/devices", content=b"{", headers={**headers, "content-type": "application/json"}) \
        .status_code == 422


def test_provisioning_needs_a_token_with_the_devices_scopes(client, token) -> None:
    assert client.get("/iot/devices").status_code == 401
    reader = {"Authorization": f"Bearer {token('operator', scopes=['devices:read'])}"}
    assert client.get("/iot/devices", headers=reader).status_code == 200
    denied = client.post("/iot/services", json=SERVICE, headers=reader)
    assert denied.status_code == 403 and denied.json()["code"] == "permission-denied"
    context_only = {"Authorization": f"Bearer {token('operator', scopes=['context:read'])}"}
    assert client.get("/iot/devices", headers=context_only).status_code == 403


def test_updating_a_device_updates_its_entity_and_deleting_keeps_the_entity(client, iot_headers) -> None:
    _setup(client, iot_headers)
    headers = {**iot_headers, **HEADERS}
    change = {"static_attributes": [{"name": "refStreet", "type": "Relationship", "value": "urn:ngsi-ld:Road:ql2"}],
              "latitude": 21.2, "longitude": 106.1, "expected_interval": 60}
    assert client.put("/iot/devices/lamp-001", json=change, headers=headers).status_code == 204
    entity = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Streetlight:bn-001",
                        headers={**iot_headers, "NGSILD-Tenant": "bacninh"}).json()
    assert entity["refStreet"]["object"] == "urn:ngsi-ld:Road:ql2"
    assert entity["location"]["value"]["coordinates"] == [106.1, 21.2]
    assert client.get("/iot/devices/lamp-001", headers=headers).json()["expected_interval"] == 60
    assert client.put("/iot/devices/nope", json={}, headers=headers).status_code == 404
    assert client.delete("/iot/devices/lamp-001", headers=headers).status_code == 204
    assert client.get("/iot/devices/lamp-001", headers=headers).status_code == 404
    assert client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Streetlight:bn-001",
                      headers={**iot_headers, "NGSILD-Tenant": "bacninh"}).status_code == 200


def test_service_groups_are_changed_and_removed_by_apikey(client, iot_headers) -> None:
    _setup(client, iot_headers)
    headers = {**iot_headers, **HEADERS}
    assert client.put("/iot/services?apikey=lamp-key&resource=/iot/d", json={"autoprovision": True},
                      headers=headers).status_code == 204
    assert client.get("/iot/services", headers=headers).json()["services"][0]["autoprovision"] is True
    assert client.put("/iot/services?apikey=nope", json={}, headers=headers).status_code == 404
    assert client.delete("/iot/services?apikey=lamp-key", headers=headers).status_code == 204
    assert client.get("/iot/services", headers=headers).json()["count"] == 0
