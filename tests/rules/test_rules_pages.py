"""The console's rule pages: the editor builds every condition kind without hand-written JSON (and saving
an unchanged form stores no new version), the list with its toggles, versions with who and when, archive."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from tests.rules.test_rules_api import COMPOSITE, SQUARE, record_pm25_history


class FormReader(HTMLParser):
    """The fields a browser would send for the form ``data-testid=<testid>`` (without submit buttons)."""

    def __init__(self, testid: str) -> None:
        super().__init__(convert_charrefs=True)
        self.testid, self.inside, self.fields = testid, False, {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._chosen = False
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("data-testid") == self.testid:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select, self._first_option, self._chosen = a.get("name"), None, False
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._add(self._select, a.get("value", ""))
                self._chosen = True
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._add(self._textarea or "", "")

    def handle_data(self, data: str) -> None:
        if self.inside and self._textarea:
            self.fields[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "select" and self._select:
            if not self._chosen and self._first_option is not None:
                self._add(self._select, self._first_option)
            self._select = None
        elif tag == "textarea":
            if self._textarea:  # the newline right after <textarea> is not part of the value
                self.fields[self._textarea][-1] = self.fields[self._textarea][-1].removeprefix("\n")
            self._textarea = None
        elif tag == "form":
            self.inside = False


def read_form(html: str, testid: str = "rule-form") -> dict[str, list[str]]:
    reader = FormReader(testid)
    reader.feed(html)
    assert reader.fields, f"no form {testid}"
    return reader.fields


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


COMMON = {"name": "Quy tắc thử", "severity": "minor", "entity_type": "AirQualityObserved",
          "message_vi": "Cảnh báo {entity}", "message_en": "Alert at {entity}"}

# kind → (fields typed in the editor, the definition's condition they must give)
KINDS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "threshold": ({"c_threshold_attribute": "pm25", "c_threshold_op": ">=", "c_threshold_value": "55",
                   "c_threshold_for_seconds": "900", "c_threshold_clear_value": "45"},
                  {"kind": "threshold", "attribute": "pm25", "op": ">=", "value": 55.0, "for_seconds": 900,
                   "clear_value": 45.0}),
    "rate_of_change": ({"c_rate_of_change_attribute": "waterLevel", "c_rate_of_change_op": ">",
                        "c_rate_of_change_value": "0.3", "c_rate_of_change_per_seconds": "600"},
                       {"kind": "rate_of_change", "attribute": "waterLevel", "op": ">", "value": 0.3,
                        "per_seconds": 600}),
    "anomaly": ({"c_anomaly_attribute": "intensity", "c_anomaly_window": "200", "c_anomaly_min_samples": "40",
                 "c_anomaly_score": "4"},
                {"kind": "anomaly", "attribute": "intensity", "window": 200, "min_samples": 40, "score": 4.0}),
    "no_data": ({"c_no_data_attribute": "", "c_no_data_after_seconds": "1800"},
                {"kind": "no_data", "attribute": None, "after_seconds": 1800}),
    "device_offline": ({}, {"kind": "device_offline"}),
    "geofence": ({"c_geofence_on": "leave", "c_geofence_attribute": "location",
                  "c_geofence_geometry": '{"type": "Polygon", "coordinates": [[[106.0, 21.1], [106.1, 21.1], '
                                         '[106.1, 21.2], [106.0, 21.2], [106.0, 21.1]]]}',
                  "c_geofence_area_name": "Bãi xe"},
                 {"kind": "geofence", "on": "leave", "attribute": "location",
                  "area": {"ward_code": None, "geometry": SQUARE, "name": "Bãi xe"}}),
    "composite": ({"c_composite_json": __import__("json").dumps(COMPOSITE), "area_ward_code": "09190",
                   "area_name": "Kinh Bắc"},
                  {**COMPOSITE, "parts": [{**p, "min_entities": 1,
                                           "condition": {**p["condition"], "for_seconds": 0, "clear_value": None}}
                                          for p in COMPOSITE["parts"]]}),
}


def _round_trip(browser, kind: str) -> None:
    page = browser.client.get(f"/console/rules/new?kind={kind}")
    assert page.status_code == 200
    fields = read_form(page.text)
    assert fields["kind"] == [kind]
    typed, condition = KINDS[kind]
    fields.update({k: [v] for k, v in {**COMMON, **typed}.items()})
    fields.update({"w0_days": ["0", "1", "2", "3", "4"], "w0_start": ["22:00"], "w0_end": ["06:00"],
                   "cooldown_seconds": ["600"], "owner_agency": ["SXD"], "incident_type": ["air_pollution"]})
    saved = browser.client.post("/console/rules/new", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    rule_id = int(saved.headers["location"].split("/")[3].split("?")[0])

    stored = browser.client.get(f"/api/v1/rules/{rule_id}").json()
    d = stored["definition"]
    assert (stored["enabled"], stored["version"], d["condition"]) == (False, 1, condition)
    assert (d["name"], d["severity"], d["entity_type"], d["cooldown_seconds"], d["owner_agency"]) == (
        "Quy tắc thử", "minor", "AirQualityObserved", 600, "SXD")
    assert d["open_incident"] == {"incident_type": "air_pollution"}
    assert d["active_windows"] == [{"weekdays": [0, 1, 2, 3, 4], "start": "22:00:00", "end": "06:00:00"}]
    if kind == "composite":
        assert d["area"] == {"ward_code": "09190", "geometry": None, "name": "Kinh Bắc"}

    edit = browser.client.get(f"/console/rules/{rule_id}/edit")
    again = browser.client.post(f"/console/rules/{rule_id}/edit", data=read_form(edit.text), follow_redirects=False)
    assert again.headers["location"] == f"/console/rules/{rule_id}?done=unchanged"
    assert browser.client.get(f"/api/v1/rules/{rule_id}").json()["version"] == 1


def test_editor_builds_each_condition_kind_and_an_unchanged_form_stores_no_version(login) -> None:
    browser = login("operator")
    for kind in KINDS:
        _round_trip(browser, kind)
    kinds = [r["kind"] for r in browser.client.get("/api/v1/rules").json()["items"]]
    assert kinds == list(KINDS)


def test_editor_shows_every_problem_and_stores_nothing(login) -> None:
    browser = login("operator")
    fields = read_form(browser.client.get("/console/rules/new?kind=threshold").text)
    fields.update({"name": ["Sai"], "entity_type": ["AirQualityObserved"], "c_threshold_attribute": [""],
                   "id_pattern": ["urn:("], "area_ward_code": ["99999"]})
    refused = browser.client.post("/console/rules/new", data=fields)
    assert refused.status_code == 422
    assert 'data-code="invalid-rule"' in refused.text and "condition.threshold.attribute" in refused.text
    assert "id_pattern" in refused.text
    assert 'value="urn:("' in refused.text  # the form keeps what was typed
    assert browser.client.get("/api/v1/rules").json()["items"] == []
    bad_json = {**fields, "kind": ["composite"], "c_composite_json": ["{oops"], "id_pattern": [""],
                "area_ward_code": [""]}
    refused = browser.client.post("/console/rules/new", data=bad_json)
    assert refused.status_code == 422 and "not valid JSON" in refused.text


def test_list_toggle_history_and_archive(login) -> None:
    browser = login("operator")
    fields = read_form(browser.client.get("/console/rules/new").text)
    fields.update({k: [v] for k, v in {**COMMON, **KINDS["threshold"][0]}.items()})
    rule_id = int(browser.client.post("/console/rules/new", data=fields, follow_redirects=False)
                  .headers["location"].split("/")[3].split("?")[0])

    listing = browser.client.get("/console/rules")
    assert f'data-rule="{rule_id}"' in listing.text and "threshold" in listing.text
    toggled = browser.post_form(f"/console/rules/{rule_id}/enabled", {"enabled": "true", "back": "list"},
                                follow_redirects=False)
    assert toggled.headers["location"] == "/console/rules?done=on"
    assert browser.client.get(f"/api/v1/rules/{rule_id}").json()["enabled"] is True

    fields["c_threshold_value"] = ["80"]
    browser.client.post(f"/console/rules/{rule_id}/edit", data=fields)
    page = browser.client.get(f"/console/rules/{rule_id}")
    history = page.text.split('data-testid="versions"')[1]
    assert 'data-version="2"' in history and 'data-version="1"' in history and "operator" in history
    assert "condition.value" in history and "55.0 → 80.0" in history

    deleted = browser.post_form(f"/console/rules/{rule_id}/delete", {}, follow_redirects=False)
    assert deleted.headers["location"] == "/console/rules?done=deleted"
    assert f'data-rule="{rule_id}"' not in browser.client.get("/console/rules").text
    assert f'data-rule="{rule_id}"' in browser.client.get("/console/rules?show=archived").text
    assert browser.client.get(f"/console/rules/{rule_id}").status_code == 200  # still readable


def test_pages_follow_permissions_and_csrf(login) -> None:
    viewer = login("viewer")
    assert viewer.client.get("/console/rules").status_code == 403
    assert "/console/rules" not in viewer.client.get("/console").text
    staff = login("staff")  # reads rules, does not write them
    assert staff.client.get("/console/rules").status_code == 200
    assert 'data-testid="new-rule"' not in staff.client.get("/console/rules").text
    assert staff.client.get("/console/rules/new").status_code == 403
    operator = login("operator")
    assert 'href="/console/rules"' in operator.client.get("/console").text
    fields = read_form(operator.client.get("/console/rules/new").text)
    fields.pop("csrf_token")
    assert operator.client.post("/console/rules/new", data=fields).status_code == 403


def test_pages_are_translated(login) -> None:
    browser = login("operator")
    page = browser.client.get("/console/rules/new?lang=vi")
    assert "Quy tắc mới" in page.text and "Ngưỡng (giá trị" in page.text and "Bắt đầu lúc" in page.text
    csrf(page.text)


def test_how_often_would_this_have_fired_is_shown_before_enabling(client, login, token) -> None:
    record_pm25_history(client, {"Authorization": f"Bearer {token('operator')}"}, [40, 60, 30, 70, 20])
    browser = login("operator")
    fields = read_form(browser.client.get("/console/rules/new").text)
    fields.update({k: [v] for k, v in {**COMMON, "c_threshold_attribute": "pm25", "c_threshold_op": ">",
                                       "c_threshold_value": "55"}.items()})
    tried = browser.client.post("/console/rules/new", data={**fields, "action": "test"})
    assert tried.status_code == 200
    assert re.search(r'data-testid="firings"><b>2</b>', tried.text), tried.text[:2000]
    assert browser.client.get("/api/v1/rules").json()["items"] == []  # testing stores nothing
    assert read_form(tried.text)["c_threshold_value"] == ["55"]  # the form is kept to save next

    saved = browser.client.post("/console/rules/new", data={**fields, "action": "save"}, follow_redirects=False)
    rule_id = int(saved.headers["location"].split("/")[3].split("?")[0])
    tested = browser.post_form(f"/console/rules/{rule_id}/test", {})
    assert tested.status_code == 200 and re.search(r'data-testid="firings"><b>2</b>', tested.text)
    assert browser.client.get(f"/api/v1/rules/{rule_id}").json()["enabled"] is False
