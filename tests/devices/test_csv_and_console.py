"""Bulk CSV provisioning (API and console upload) and the console pages of devices."""

from __future__ import annotations

from tests.devices.conftest import msg

GOOD = ("device_id,entity_type,expected_interval,latitude,longitude,attributes,static_attributes\n"
        "aq-101,AirQualityObserved,300,21.18,106.07,t:temperature:Number:CEL;h:humidity:Number,ward:Text:Tu Son\n"
        "aq-102,,,,,,\n")
BAD = ("device_id,expected_interval,latitude,longitude,attributes\n"
       "aq-201,300,,,\n"
       "aq-202,-5,,,\n"
       "aq-203,,91,10,\n"
       "aq-204,,,,t:temperature\n")


def test_csv_import_provisions_every_row(client, iot_headers, provision) -> None:
    provision()
    response = client.post("/iot/devices/import", content=GOOD.encode(),
                           headers={**iot_headers, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.text
    assert response.json() == {"count": 2}
    device = client.get("/iot/devices/aq-101", headers=iot_headers).json()
    assert device["attributes"][0] == {"object_id": "t", "name": "temperature", "type": "Number", "unit": "CEL"}
    assert (device["expected_interval"], device["latitude"]) == (300, 21.18)
    entity = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:aq-101", headers=iot_headers).json()
    assert entity["ward"]["value"] == "Tu Son"


def test_one_bad_row_rejects_the_file_naming_the_rows(client, iot_headers, provision) -> None:
    provision()
    response = client.post("/iot/devices/import", content=BAD.encode(),
                           headers={**iot_headers, "Content-Type": "text/csv"})
    assert response.status_code == 422
    body = response.json()
    assert "row 3, row 4, row 5" in body["detail"]
    assert {e["field"] for e in body["errors"]} == {"row 3", "row 4", "row 5"}
    assert client.get("/iot/devices", headers=iot_headers).json()["count"] == 0
    no_header = client.post("/iot/devices/import", content=b"id,x\n1,2\n",
                            headers={**iot_headers, "Content-Type": "text/csv"})
    assert no_header.status_code == 422 and "device_id" in no_header.text


def test_console_lists_devices_with_health_and_shows_recent_measures(login, provision, ingestor) -> None:
    provision([{"device_id": "aq-001", "expected_interval": 60}, {"device_id": "aq-002"}])
    ingestor.store([msg("aq-001", '{"t": 21.5}')])
    browser = login("operator")
    page = browser.client.get("/console/devices?lang=en")
    assert page.status_code == 200
    assert 'data-device="aq-001" data-status="online"' in page.text
    assert 'data-device="aq-002" data-status="unknown"' in page.text
    assert 'href="/console/devices"' in page.text  # in the navigation
    filtered = browser.client.get("/console/devices?status=unknown")
    assert 'data-device="aq-001"' not in filtered.text and 'data-device="aq-002"' in filtered.text
    detail = browser.client.get("/console/devices/aq-001?lang=en")
    assert detail.status_code == 200
    assert "temperature" in detail.text and "21" in detail.text
    assert browser.client.get("/console/devices/ghost").status_code == 404


def test_console_csv_upload_reports_bad_rows(login, provision) -> None:
    provision()
    browser = login("operator")
    bad = browser.post_form("/console/devices/import", {}, files={"file": ("d.csv", BAD.encode(), "text/csv")})
    assert bad.status_code == 422 and 'data-testid="csv-errors"' in bad.text and "row 4" in bad.text
    good = browser.post_form("/console/devices/import", {}, files={"file": ("d.csv", GOOD.encode(), "text/csv")},
                             follow_redirects=False)
    assert good.status_code == 303
    listed = browser.client.get(good.headers["location"])
    assert 'data-device="aq-101"' in listed.text and 'data-testid="imported"' in listed.text
    viewer = login("viewer")
    assert viewer.post_form("/console/devices/import", {}, files={"file": ("d.csv", GOOD.encode(), "text/csv")},
                            follow_redirects=False).status_code == 403
