"""``/api/v1/rules`` through HTTP: CRUD with versions, enable/disable, archive, permissions, invalid definitions."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from saola.core.audit.models import AuditEntry
from saola.rules.models import Rule, RuleVersion

PM25 = {
    "name": "PM2.5 cao",
    "severity": "major",
    "entity_type": "AirQualityObserved",
    "condition": {"kind": "threshold", "attribute": "pm25", "op": ">", "value": 55, "for_seconds": 900,
                  "clear_value": 45},
    "message_vi": "PM2.5 {value} µg/m³ tại {entity}",
    "message_en": "PM2.5 {value} µg/m³ at {entity}",
}


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def create(client, headers: dict[str, str], definition: dict[str, Any] | None = None, **extra: Any):
    return client.post("/api/v1/rules", json={"definition": definition or PM25, **extra}, headers=headers)


def test_rule_is_created_disabled_changed_into_versions_and_archived(client, token) -> None:
    headers = auth(token("operator"))
    created = create(client, headers)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["version"], rule["enabled"], rule["kind"], rule["severity"]) == (1, False, "threshold", "major")
    assert rule["created_by"] == "operator" and rule["definition"]["condition"]["value"] == 55
    rule_id = rule["id"]

    changed = copy.deepcopy(PM25)
    changed["condition"]["value"] = 75
    changed["name"] = "PM2.5 rất cao"
    updated = client.put(f"/api/v1/rules/{rule_id}", json={"definition": changed}, headers=headers)
    assert updated.status_code == 200, updated.text
    assert (updated.json()["version"], updated.json()["name"]) == (2, "PM2.5 rất cao")

    same = client.put(f"/api/v1/rules/{rule_id}", json={"definition": changed}, headers=headers)
    assert same.json()["version"] == 2  # an identical definition stores no new version

    versions = client.get(f"/api/v1/rules/{rule_id}/versions", headers=headers).json()
    assert [(v["version"], v["current"], v["created_by"]) for v in versions] == [(2, True, "operator"),
                                                                                (1, False, "operator")]
    assert versions[1]["definition"]["condition"]["value"] == 55  # the old version is kept as it was
    one = client.get(f"/api/v1/rules/{rule_id}/versions/1", headers=headers).json()
    assert one["definition"]["name"] == "PM2.5 cao"
    diff = client.get(f"/api/v1/rules/{rule_id}/diff", params={"from": 1, "to": 2}, headers=headers).json()
    assert {(c["field"], c["before"], c["after"]) for c in diff["changes"]} == {
        ("condition.value", 55, 75), ("name", "PM2.5 cao", "PM2.5 rất cao")}

    enabled = client.post(f"/api/v1/rules/{rule_id}/enable", headers=headers)
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert [r["id"] for r in client.get("/api/v1/rules", params={"enabled": "true"}, headers=headers).json()["items"]] \
        == [rule_id]
    assert client.post(f"/api/v1/rules/{rule_id}/disable", headers=headers).json()["enabled"] is False

    assert client.delete(f"/api/v1/rules/{rule_id}", headers=headers).status_code == 204
    assert client.get("/api/v1/rules", headers=headers).json()["items"] == []
    archived = client.get("/api/v1/rules", params={"archived": "true"}, headers=headers).json()["items"]
    assert [(r["id"], r["archived"], r["enabled"]) for r in archived] == [(rule_id, True, False)]
    # An archived rule stays readable (alerts refer to it) but cannot change or come back on.
    assert client.get(f"/api/v1/rules/{rule_id}", headers=headers).json()["version"] == 2
    for method, url in [("PUT", f"/api/v1/rules/{rule_id}"), ("POST", f"/api/v1/rules/{rule_id}/enable"),
                        ("DELETE", f"/api/v1/rules/{rule_id}")]:
        answer = client.request(method, url, headers=headers, json={"definition": PM25} if method == "PUT" else None)
        assert (answer.status_code, answer.json()["code"]) == (409, "rule-archived")


def test_unknown_rules_and_versions_are_404_with_their_codes(client, token) -> None:
    headers = auth(token("operator"))
    assert client.get("/api/v1/rules/999", headers=headers).json()["code"] == "rule-not-found"
    assert client.post("/api/v1/rules/999/enable", headers=headers).json()["code"] == "rule-not-found"
    rule_id = create(client, headers).json()["id"]
    missing = client.get(f"/api/v1/rules/{rule_id}/versions/7", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "rule-version-not-found")


def _with(path: str, value: Any) -> dict[str, Any]:
    """PM25 with the value at dotted ``path`` replaced (``...`` deletes it)."""
    definition = copy.deepcopy(PM25)
    *parents, last = path.split(".")
    node = definition
    for key in parents:
        node = node.setdefault(key, {})
    if value is ...:
        node.pop(last, None)
    else:
        node[last] = value
    return definition


SQUARE = {"type": "Polygon", "coordinates": [[[106.0, 21.1], [106.1, 21.1], [106.1, 21.2], [106.0, 21.2],
                                              [106.0, 21.1]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[106.0, 21.1], [106.1, 21.2], [106.1, 21.1], [106.0, 21.2],
                                              [106.0, 21.1]]]}
COMPOSITE = {"kind": "composite", "mode": "all", "parts": [
    {"entity_type": "WeatherObserved", "condition": {"kind": "threshold", "attribute": "precipitation", "op": ">",
                                                     "value": 50}},
    {"entity_type": "FloodMonitoring", "condition": {"kind": "threshold", "attribute": "waterLevel", "op": ">",
                                                     "value": 2.5}}]}

INVALID = [
    ("unknown kind", _with("condition", {"kind": "magic", "attribute": "pm25"}), "condition"),
    ("missing field", _with("condition.attribute", ...), "attribute"),
    ("missing severity", _with("severity", ...), "severity"),
    ("unknown severity", _with("severity", "apocalyptic"), "severity"),
    ("bad regex", _with("id_pattern", "urn:(unclosed"), "id_pattern"),
    ("composite without area", _with("condition", COMPOSITE), "composite rule needs an area"),
    ("bad ward code format", _with("area", {"ward_code": "12ab"}), "ward_code"),
    ("unknown ward code", _with("area", {"ward_code": "99999"}), "no ward or commune"),
    ("geometry not a polygon", _with("area", {"geometry": {"type": "Point", "coordinates": [106, 21]}}), "Polygon"),
    ("self-crossing polygon", _with("area", {"geometry": BOWTIE}), "not valid"),
    ("coordinates off the earth", _with("area", {"geometry": {"type": "Polygon", "coordinates": [
        [[500, 21], [501, 21], [501, 22], [500, 21]]]}}), "WGS 84"),
    ("unreadable geometry", _with("area", {"geometry": {"type": "Polygon", "coordinates": "x"}}), "geometry"),
    ("bad attribute term", _with("condition.attribute", "pm 2.5"), "not an NGSI-LD term"),
    ("extra field", _with("colour", "red"), "colour"),
]


def test_every_invalid_definition_is_refused_with_invalid_rule_and_nothing_changes(client, token, db) -> None:
    headers = auth(token("operator"))
    rule_id = create(client, headers).json()["id"]
    audits = db.scalar(select(func.count()).select_from(AuditEntry))
    for case, definition, names in INVALID:
        for answer in (create(client, headers, definition),
                       client.put(f"/api/v1/rules/{rule_id}", json={"definition": definition}, headers=headers),
                       client.post("/api/v1/rules/test", json={"definition": definition}, headers=headers)):
            assert answer.status_code == 422, (case, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            problem = answer.json()
            assert problem["code"] == "invalid-rule", case
            assert names in " ".join(f"{e['field']} {e['message']}" for e in problem["errors"]), (case, problem)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Rule)) == 1
    assert db.scalar(select(func.count()).select_from(RuleVersion)) == 1
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == audits
    assert client.get(f"/api/v1/rules/{rule_id}", headers=headers).json()["version"] == 1


def test_body_that_is_not_json_is_refused(client, token) -> None:
    headers = {**auth(token("operator")), "content-type": "application/json"}
    answer = client.post("/api/v1/rules", content=b"{not json", headers=headers)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid-rule"


def test_a_valid_composite_geofence_and_polygon_area_are_accepted(client, token) -> None:
    headers = auth(token("operator"))
    flood = {**PM25, "entity_type": "Area", "area": {"ward_code": "09190", "name": "Kinh Bắc"},
             "condition": COMPOSITE}
    assert create(client, headers, flood).status_code == 201
    fence = {**PM25, "entity_type": "Vehicle", "condition": {"kind": "geofence", "on": "leave",
                                                             "area": {"geometry": SQUARE, "name": "Depot"}}}
    assert create(client, headers, fence).status_code == 201
    listed = client.get("/api/v1/rules", params={"kind": "composite"}, headers=headers).json()["items"]
    assert [r["kind"] for r in listed] == ["composite"]


def test_viewer_cannot_read_operator_writes_admin_reads(client, token) -> None:
    operator = auth(token("operator"))
    rule_id = create(client, operator).json()["id"]
    viewer = auth(token("viewer"))
    assert client.get("/api/v1/rules", headers=viewer).status_code == 403
    assert client.get(f"/api/v1/rules/{rule_id}", headers=viewer).json()["code"] == "permission-denied"
    assert create(client, viewer).status_code == 403
    assert client.get("/api/v1/rules", headers=auth(token("admin"))).status_code == 200
    staff = auth(token("staff"))  # agency staff read rules but do not change them
    assert client.get("/api/v1/rules", headers=staff).status_code == 200
    assert client.post(f"/api/v1/rules/{rule_id}/enable", headers=staff).status_code == 403
    assert client.get("/api/v1/rules").status_code == 401


def test_token_scopes_narrow_rule_permissions(client, token) -> None:
    read_only = auth(token("operator", scopes=["rules:read"]))
    assert client.get("/api/v1/rules", headers=read_only).status_code == 200
    assert create(client, read_only).status_code == 403
    other = auth(token("operator", scopes=["alerts:read"]))
    assert client.get("/api/v1/rules", headers=other).status_code == 403


def test_every_change_is_audited_with_who_and_what(client, token, db) -> None:
    headers = auth(token("operator"))
    rule_id = create(client, headers).json()["id"]
    client.put(f"/api/v1/rules/{rule_id}", json={"definition": _with("condition.value", 60)}, headers=headers)
    client.post(f"/api/v1/rules/{rule_id}/enable", headers=headers)
    client.delete(f"/api/v1/rules/{rule_id}", headers=headers)
    entries = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "rules",
                                                  AuditEntry.object_id == str(rule_id)).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["create", "update", "update", "update"]
    assert {e.actor for e in entries} == {"operator"}
    assert entries[1].before["current_version"] == 1 and entries[1].after["current_version"] == 2
    assert entries[1].after["definition"]["condition"]["value"] == 60
    assert entries[2].after == {"enabled": True, "modified_at": entries[2].after["modified_at"]}
    assert entries[3].after["archived_at"] is not None


def test_browser_session_writes_need_csrf(login) -> None:
    browser = login("operator")
    refused = browser.client.post("/api/v1/rules", json={"definition": PM25})
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf-failed")
    assert browser.api("POST", "/api/v1/rules", json={"definition": PM25}).status_code == 201


def _iso(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def record_pm25_history(client, headers: dict[str, str], values: list[float], *, days_ago: float = 3,
                        entity_id: str = "urn:ngsi-ld:AirQualityObserved:bn-09190-1") -> None:
    """An air-quality station created and updated through the NGSI-LD API, one value every 5 minutes."""
    start = datetime.now(UTC) - timedelta(days=days_ago)
    created = client.post("/ngsi-ld/v1/entities", headers=headers, json={
        "id": entity_id, "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": values[0], "observedAt": _iso(start)}})
    assert created.status_code == 201, created.text
    for i, value in enumerate(values[1:], start=1):
        moment = start + timedelta(minutes=5 * i)
        patched = client.patch(f"/ngsi-ld/v1/entities/{entity_id}/attrs", headers=headers,
                               json={"pm25": {"type": "Property", "value": value, "observedAt": _iso(moment)}})
        assert patched.status_code == 204, patched.text


def test_backtest_counts_the_firings_on_real_history(client, token) -> None:
    headers = auth(token("operator"))
    record_pm25_history(client, headers, [40, 60, 70, 40, 80, 30, 20, 90])
    record_pm25_history(client, headers, [10, 20, 30], entity_id="urn:ngsi-ld:AirQualityObserved:bn-09190-2")
    instant = _with("condition", {"kind": "threshold", "attribute": "pm25", "op": ">", "value": 55})

    unsaved = client.post("/api/v1/rules/test", json={"definition": instant}, headers=headers)
    assert unsaved.status_code == 200, unsaved.text
    result = unsaved.json()
    assert (result["firings"], result["subjects"]) == (3, 2)  # 60, 80 and 90 cross 55; station 2 never does
    assert result["samples"] >= 11 and sum(result["per_day"].values()) == 3
    assert {e["subject"] for e in result["examples"]} == {"urn:ngsi-ld:AirQualityObserved:bn-09190-1"}

    rule_id = create(client, headers, instant).json()["id"]
    saved = client.post(f"/api/v1/rules/{rule_id}/test", params={"days": 7}, headers=headers).json()
    assert saved["firings"] == 3
    # Too long ago for a one-day window; the rule stays disabled and unchanged by testing.
    assert client.post(f"/api/v1/rules/{rule_id}/test", params={"days": 1}, headers=headers).json()["firings"] == 0
    assert client.post(f"/api/v1/rules/{rule_id}/test", params={"days": 99}, headers=headers).status_code == 422
    assert client.get(f"/api/v1/rules/{rule_id}", headers=headers).json()["enabled"] is False
    assert client.post(f"/api/v1/rules/{rule_id}/test", headers=auth(token("staff"))).status_code == 403
