"""``/api/v1/incidents``: opening, filters, the workflow (stable codes, nothing changed on refusal), permissions
and agency scoping, units, notes, checklist, links to real alerts, reports and entities, the PDF report."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ioc.incident_helpers import LAMP, POINT, bearer, create_entity, create_report, pdf_info, raise_alert

API = "/api/v1/incidents"


def _open(client, secret: str, **changes: Any) -> dict[str, Any]:
    body = {"incident_type": "flood", "title": "Ngập đường Lý Thái Tổ", "severity": "major", "location": POINT,
            "ward_code": "09187", "address": "Lý Thái Tổ, Kinh Bắc"}
    body.update(changes)
    created = client.post(API, headers=bearer(secret), json=body)
    assert created.status_code == 201, created.text
    return created.json()


@pytest.fixture
def operator(token) -> str:
    return token("operator")


def test_an_operator_opens_an_incident_with_its_type_checklist(client, operator) -> None:
    incident = _open(client, operator)
    assert incident["code"].startswith("SC-") and incident["status"] == "open"
    assert incident["allowed_moves"] == ["dispatched", "in_progress", "resolved", "closed"]
    keys = [c["key"] for c in incident["checklist"]]
    assert keys[:3] == ["verify", "warn", "traffic"]
    assert all(c["text_vi"] and c["text_en"] for c in incident["checklist"])
    assert incident["timeline"][0]["kind"] == "created" and incident["timeline"][0]["actor_name"] == "operator"
    types = client.get(f"{API}/types", headers=bearer(operator)).json()
    assert {t["code"] for t in types} == {"flood", "power_outage", "traffic_accident", "lighting_failure",
                                          "air_pollution", "fire", "other"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"incident_type": "alien_invasion"}, "incident_type"), ({"ward_code": "9187"}, "ward_code"),
    ({"location": {"type": "Point", "coordinates": [500, 21]}}, "location"), ({"owner_agency": "NOPE"}, "owner_agency"),
])
def test_bad_input_is_refused_with_a_stable_code_and_saves_nothing(client, operator, changes, field) -> None:
    body = {"incident_type": "flood", "title": "x", "severity": "major", **changes}
    refused = client.post(API, headers=bearer(operator), json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid-incident", refused.text
    assert client.get(API, headers=bearer(operator)).json()["total"] == 0


def test_illegal_moves_are_409_and_change_nothing(client, operator) -> None:
    incident = _open(client, operator)
    url = f"{API}/{incident['id']}"
    refused = client.post(f"{url}/status", headers=bearer(operator), json={"to": "open"})
    assert refused.status_code == 409 and refused.json()["code"] == "invalid-incident-transition"
    moved = client.post(f"{url}/status", headers=bearer(operator), json={"to": "in_progress"})
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"
    back = client.post(f"{url}/status", headers=bearer(operator), json={"to": "dispatched"})
    assert back.status_code == 409 and back.json()["code"] == "invalid-incident-transition"
    after = client.get(url, headers=bearer(operator)).json()
    assert after["status"] == "in_progress" and len(after["timeline"]) == 2


def test_closing_requires_a_resolution_note_and_nothing_changes_without_it(client, operator) -> None:
    incident = _open(client, operator)
    url = f"{API}/{incident['id']}"
    for body in ({"to": "closed"}, {"to": "closed", "resolution": "   "}, {"to": "resolved"}):
        refused = client.post(f"{url}/status", headers=bearer(operator), json=body)
        assert refused.status_code == 422 and refused.json()["code"] == "resolution-required", refused.text
    unchanged = client.get(url, headers=bearer(operator)).json()
    assert unchanged["status"] == "open" and unchanged["resolution"] == "" and unchanged["closed_at"] is None
    assert [e["kind"] for e in unchanged["timeline"]] == ["created"]

    resolved = client.post(f"{url}/status", headers=bearer(operator),
                           json={"to": "resolved", "resolution": "Đã bơm thoát nước, thông tuyến lúc 17:30"})
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_at"]
    reopen = client.post(f"{url}/status", headers=bearer(operator), json={"to": "in_progress"})
    assert reopen.status_code == 422 and reopen.json()["code"] == "reason-required"
    reopened = client.post(f"{url}/status", headers=bearer(operator),
                           json={"to": "in_progress", "reason": "Mưa lớn trở lại, ngập lại"})
    assert reopened.json()["status"] == "in_progress" and reopened.json()["resolved_at"] is None
    client.post(f"{url}/status", headers=bearer(operator), json={"to": "resolved"})  # the note is already there
    closed = client.post(f"{url}/status", headers=bearer(operator), json={"to": "closed"})
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    assert closed.json()["resolution"] == "Đã bơm thoát nước, thông tuyến lúc 17:30"
    note = client.post(f"{url}/notes", headers=bearer(operator), json={"text": "late"})
    assert note.status_code == 409 and note.json()["code"] == "incident-closed"


def test_units_move_the_incident_and_the_checklist_is_ticked(client, operator) -> None:
    url = f"{API}/{_open(client, operator)['id']}"
    unit = client.post(f"{url}/units", headers=bearer(operator),
                       json={"name": "Đội thoát nước số 2", "kind": "public_works", "note": "2 bơm lưu động"})
    assert unit.status_code == 201
    assert client.get(url, headers=bearer(operator)).json()["status"] == "dispatched"
    arrived = client.post(f"{url}/units/{unit.json()['id']}", headers=bearer(operator), json={"action": "arrived"})
    assert arrived.json()["arrived_at"]
    again = client.post(f"{url}/units/{unit.json()['id']}", headers=bearer(operator), json={"action": "arrived"})
    assert again.status_code == 409 and again.json()["code"] == "invalid-unit-move"
    ticked = client.post(f"{url}/checklist", headers=bearer(operator), json={"key": "pumps"})
    assert ticked.json()["done_at"] and ticked.json()["done_by_name"] == "operator"
    unknown = client.post(f"{url}/checklist", headers=bearer(operator), json={"key": "nope"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "checklist-item-not-found"
    client.post(f"{url}/notes", headers=bearer(operator), json={"text": "Nước rút còn 10cm"})
    detail = client.get(url, headers=bearer(operator)).json()
    assert detail["status"] == "in_progress"
    assert [e["kind"] for e in detail["timeline"]] == ["created", "unit-dispatched", "transition", "unit-arrived",
                                                       "transition", "checklist", "note"]


def test_agency_staff_see_and_change_only_their_own_agencys_incidents(client, operator, token) -> None:
    sxd = _open(client, operator, owner_agency="SXD", title="Mất điện chiếu sáng")
    _open(client, operator, owner_agency="SYT", title="Khác")
    _open(client, operator)  # no agency: the operations centre's
    staff = token("staff")  # SXD
    listed = client.get(API, headers=bearer(staff)).json()
    assert [i["id"] for i in listed["items"]] == [sxd["id"]] and listed["total"] == 1
    assert client.get(API, headers=bearer(operator)).json()["total"] == 3
    other = client.get(API, headers=bearer(token("staff2"))).json()["items"]
    assert all(i["id"] != sxd["id"] for i in other)
    hidden = client.get(f"{API}/{sxd['id']}", headers=bearer(token("staff2")))
    assert hidden.status_code == 404 and hidden.json()["code"] == "incident-not-found"
    moved = client.post(f"{API}/{sxd['id']}/status", headers=bearer(token("staff2")), json={"to": "in_progress"})
    assert moved.status_code == 404
    moved = client.post(f"{API}/{sxd['id']}/status", headers=bearer(staff), json={"to": "in_progress"})
    assert moved.status_code == 200
    own = client.post(API, headers=bearer(staff), json={"incident_type": "other", "title": "x", "severity": "info"})
    assert own.status_code == 201 and own.json()["agency_code"] == "SXD"
    foreign = client.post(API, headers=bearer(staff), json={"incident_type": "other", "title": "x", "severity": "info",
                                                            "owner_agency": "SYT"})
    assert foreign.status_code == 403


def test_reading_needs_incidents_read_and_writing_incidents_write(client, operator, token) -> None:
    incident = _open(client, operator)
    viewer = token("viewer")
    assert client.get(API, headers=bearer(viewer)).status_code == 200
    refused = client.post(f"{API}/{incident['id']}/notes", headers=bearer(viewer), json={"text": "hi"})
    assert refused.status_code == 403 and refused.json()["code"] == "permission-denied"
    read_only = token("operator", scopes=["incidents:read"])
    assert client.post(API, headers=bearer(read_only), json={"incident_type": "other", "title": "x",
                                                             "severity": "info"}).status_code == 403
    assert client.get(API).status_code == 401
    clerk = token("clerk")
    assert client.post(f"{API}/{incident['id']}/status", headers=bearer(clerk), json={"to": "in_progress"}
                       ).status_code == 403


def test_linking_a_real_alert_a_citizen_report_and_an_entity(app, client, operator) -> None:
    alert_id, _events = raise_alert(app, incident_type=None)
    code = create_report(client, operator)
    entity = create_entity(client, operator)
    incident = _open(client, operator, alert_ids=[alert_id], report_codes=[code.lower()])
    assert {(x["kind"], x["ref"]) for x in incident["links"]} == {("alert", str(alert_id)), ("report", code)}
    url = f"{API}/{incident['id']}"
    linked = client.post(f"{url}/links", headers=bearer(operator), json={"kind": "entity", "ref": entity})
    assert linked.status_code == 201 and linked.json()["label"] == "Đèn số 1 đường Kinh Dương Vương"
    twice = client.post(f"{url}/links", headers=bearer(operator), json={"kind": "entity", "ref": entity})
    assert twice.json()["id"] == linked.json()["id"]
    for kind, ref in (("alert", "999999"), ("alert", "abc"), ("report", "PA-2000-999999"),
                      ("entity", "urn:ngsi-ld:Streetlight:missing")):
        missing = client.post(f"{url}/links", headers=bearer(operator), json={"kind": kind, "ref": ref})
        assert missing.status_code == 404 and missing.json()["code"] == "incident-link-target-not-found", ref
    assert len(client.get(url, headers=bearer(operator)).json()["links"]) == 3
    assert client.delete(f"{url}/links/{linked.json()['id']}", headers=bearer(operator)).status_code == 204
    assert len(client.get(url, headers=bearer(operator)).json()["links"]) == 2
    bad = client.post(API, headers=bearer(operator), json={"incident_type": "flood", "title": "x", "severity": "major",
                                                           "alert_ids": [424242]})
    assert bad.status_code == 404 and client.get(API, headers=bearer(operator)).json()["total"] == 1


def test_filters_and_the_map_of_open_incidents(client, operator) -> None:
    flood = _open(client, operator)
    fire = _open(client, operator, incident_type="fire", severity="critical", title="Cháy kho hàng", location=None)
    closed = _open(client, operator, incident_type="other", title="Báo nhầm")
    client.post(f"{API}/{closed['id']}/status", headers=bearer(operator), json={"to": "closed",
                                                                               "resolution": "Báo nhầm"})

    def ids(query: str) -> list[int]:
        return [i["id"] for i in client.get(f"{API}?{query}", headers=bearer(operator)).json()["items"]]

    assert ids("type=fire") == [fire["id"]]
    assert ids("severity=major&open=true") == [flood["id"]]
    assert ids("status=closed") == [closed["id"]]
    assert ids("q=kho") == [fire["id"]]
    assert sorted(ids("open=true")) == sorted([flood["id"], fire["id"]])
    assert client.get(f"{API}?status=nope", headers=bearer(operator)).status_code == 422
    geo = client.get(f"{API}/map", headers=bearer(operator)).json()
    assert geo["type"] == "FeatureCollection" and [f["properties"]["id"] for f in geo["features"]] == [flood["id"]]
    assert geo["features"][0]["properties"]["status"] == "open"


def test_the_after_action_report_is_a_real_pdf_with_the_title(client, operator) -> None:
    incident = _open(client, operator, title="Ngập sâu đường Lý Thái Tổ")
    url = f"{API}/{incident['id']}"
    client.post(f"{url}/units", headers=bearer(operator), json={"name": "Đội cứu hộ", "kind": "rescue"})
    client.post(f"{url}/status", headers=bearer(operator), json={"to": "closed", "resolution": "Đã xử lý xong"})
    pdf = client.get(f"{url}/report.pdf", headers=bearer(operator))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and pdf.content.rstrip().endswith(b"%%EOF")
    assert "Ngập sâu đường Lý Thái Tổ" in pdf_info(pdf.content, "Title")
    assert pdf_info(pdf.content, "Subject") == incident["code"]
    english = client.get(f"{url}/report.pdf?lang=en", headers=bearer(operator))
    assert pdf_info(english.content, "Title").startswith("After-action report")
    assert client.get(f"{API}/424242/report.pdf", headers=bearer(operator)).status_code == 404


def test_incidents_linked_to_an_entity_are_found_by_it(app, client, operator) -> None:
    from saola.ioc.incidents import incidents_for_entity, open_count

    create_entity(client, operator)
    first = _open(client, operator, entity_ids=[LAMP])
    _open(client, operator)
    with app.state.session_factory() as session:
        assert [i.id for i in incidents_for_entity(session, entity_id=LAMP)] == [first["id"]]
        assert open_count(session) == 2


def test_ids_beyond_the_database_integer_are_simply_not_found(client, operator) -> None:
    incident = _open(client, operator)
    huge = 2**40
    assert client.get(f"{API}/{huge}", headers=bearer(operator)).json()["code"] == "incident-not-found"
    assert client.post(f"{API}/{huge}/notes", headers=bearer(operator), json={"text": "x"}).status_code == 404
    unit = client.post(f"{API}/{incident['id']}/units/{huge}", headers=bearer(operator), json={"action": "arrived"})
    assert unit.status_code == 404 and unit.json()["code"] == "incident-unit-not-found"
    link = client.post(f"{API}/{incident['id']}/links", headers=bearer(operator), json={"kind": "alert",
                                                                                        "ref": str(huge)})
    assert link.status_code == 404 and link.json()["code"] == "incident-link-target-not-found"
