"""Open311 GeoReport v2: every JSON answer validates against the specification's shapes (tests/feedback/schemas),
every XML answer is well-formed and mirrors the JSON, keys and errors follow the specification, and public
answers carry no personal data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from fastapi.testclient import TestClient

from saola.feedback.open311_format import ITEM_NAMES
from tests.feedback.conftest import HANOI, KINH_BAC, PNG, counts

SCHEMAS = Path(__file__).parent / "schemas"
BASE = "/open311/v2"
REPORTER = {"first_name": "Bình", "last_name": "Trần Thị", "phone": "0987 654 321", "email": "binh@example.vn"}


def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.json").read_text("utf-8"))


def valid(response: Any, name: str) -> Any:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    jsonschema.validate(body, schema(name), format_checker=jsonschema.FormatChecker())
    return body


def from_xml(node: ET.Element) -> Any:
    """The XML element as the JSON it mirrors (lists by their wrapper names, leaves as text)."""
    if node.tag in ITEM_NAMES:
        return [from_xml(child) for child in node]
    if len(node):
        return {child.tag: from_xml(child) for child in node}
    return node.text or ""


def as_text(value: Any) -> Any:
    """JSON with every leaf written the way XML writes it."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def mirrored(client: TestClient, path: str, **kw: Any) -> Any:
    """GET the ``.json`` and ``.xml`` forms of ``path``; assert the XML is well-formed and says the same."""
    as_json = client.get(f"{BASE}/{path}.json", **kw)
    as_xml = client.get(f"{BASE}/{path}.xml", **kw)
    assert as_json.status_code == as_xml.status_code, (as_json.text, as_xml.text)
    assert as_xml.headers["content-type"].startswith("text/xml")
    assert as_xml.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(as_xml.content)
    assert from_xml(root) == as_text(as_json.json())
    return as_json


def post(client: TestClient, api_key: str | None, fmt: str = "json", files: Any = None, **fields: str) -> Any:
    data = {"service_code": "street-lighting", "lat": str(KINH_BAC[0]), "long": str(KINH_BAC[1]),
            "description": "Đèn đường trước nhà số 12 không sáng", "attribute[lamp_state]": "off", **fields}
    if api_key is not None:
        data["api_key"] = api_key
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None},
                       files=files)


@pytest.fixture
def api_key(token) -> str:
    return token("operator", ["feedback:submit"])


def test_discovery_names_the_v2_endpoint_and_its_formats(client: TestClient, categories) -> None:
    body = valid(mirrored(client, "discovery"), "discovery")
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and set(endpoint["formats"]) == {"text/xml", "application/json"}


def test_services_list_the_active_categories_in_the_callers_language(client: TestClient, login, categories) -> None:
    services = valid(mirrored(client, "services"), "services")
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == set(categories)
    assert by_code["street-lighting"]["service_name"] == "Đèn chiếu sáng công cộng hỏng"
    assert by_code["street-lighting"]["group"] == "Hạ tầng đô thị"
    assert by_code["street-lighting"]["metadata"] is True and by_code["trees"]["metadata"] is False
    english = valid(client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"}), "services")
    assert {s["service_code"]: s["service_name"] for s in english}["street-lighting"] == "Street light out"

    admin = login("admin")
    assert admin.api("PATCH", f"/api/v1/feedback/categories/{categories['trees']}",
                     json={"active": False}).status_code == 200
    assert "trees" not in {s["service_code"] for s in client.get(f"{BASE}/services.json").json()}
    assert client.get(f"{BASE}/services/trees.json").status_code == 404


def test_a_service_definition_lists_its_questions(client: TestClient, categories) -> None:
    body = valid(mirrored(client, "services/street-lighting"), "service_definition")
    lamp = {a["code"]: a for a in body["attributes"]}["lamp_state"]
    assert lamp["datatype"] == "singlevaluelist" and lamp["required"] is True
    assert {v["key"] for v in lamp["values"]} == {"off", "flickering", "daytime", "pole"}
    assert valid(client.get(f"{BASE}/services/trees.json"), "service_definition")["attributes"] == []


@pytest.mark.parametrize("path", ["services/no-such-thing", "requests/PA-2026-999999", "tokens/unknown-token"])
def test_unknown_services_requests_and_tokens_are_404_errors_in_both_formats(client: TestClient, categories,
                                                                             path: str) -> None:
    response = mirrored(client, path)
    assert response.status_code == 404
    assert valid(response, "errors")[0]["code"] == 404


def test_posting_a_request_with_an_api_key_creates_a_report_that_can_be_read_back(
        app, client: TestClient, api_key: str, categories) -> None:
    created = post(client, api_key, **REPORTER)
    assert created.status_code == 201, created.text
    receipt = valid(created, "post_request_response")[0]
    code, token = receipt["service_request_id"], receipt["token"]
    assert code.startswith("PA-")

    request = valid(mirrored(client, f"requests/{code}"), "service_requests")[0]
    assert request["status"] == "open" and request["service_code"] == "street-lighting"
    assert request["lat"] == KINH_BAC[0] and request["expected_datetime"] is not None
    assert request["address"] == "Phường Kinh Bắc"
    assert valid(mirrored(client, f"tokens/{token}"), "tokens") == [{"service_request_id": code, "token": token}]

    xml = post(client, api_key, fmt="xml", description="Cột đèn bị nghiêng sắp đổ, rất nguy hiểm",
               **{"attribute[lamp_state]": "pole"})
    assert xml.status_code == 201
    assert ET.fromstring(xml.content).find("request/service_request_id").text.startswith("PA-")
    assert counts(app)["feedback_reports"] == 2


def test_a_request_may_carry_a_photo(app, client: TestClient, api_key: str, categories) -> None:
    created = post(client, api_key, files={"media": ("den.png", PNG, "image/png")})
    assert created.status_code == 201, created.text
    assert counts(app)["case_attachments"] == 1


@pytest.mark.parametrize("key", [None, "", "saola_not-a-real-key", "garbage"])
def test_a_missing_or_bad_api_key_is_403_and_creates_nothing(app, client: TestClient, categories,
                                                              key: str | None) -> None:
    before = counts(app)
    for fmt in ("json", "xml"):
        response = post(client, key, fmt=fmt)
        assert response.status_code == 403
    assert valid(post(client, key), "errors")[0]["code"] == 403
    assert counts(app) == before


def test_a_key_without_the_feedback_scope_or_a_browser_session_cannot_post(app, client: TestClient, token, login,
                                                                           categories) -> None:
    before = counts(app)
    narrow = token("operator", ["context:read"])
    assert valid(post(client, narrow), "errors")[0]["code"] == 403
    viewer_key = token("viewer")  # viewers never hold feedback:submit
    assert post(client, viewer_key).status_code == 403
    admin = login("admin")  # a signed-in browser without api_key: cookies do not authenticate Open311
    response = admin.client.post(f"{BASE}/requests.json", data={"service_code": "street-lighting",
                                                                 "description": "Đèn đường không sáng"})
    assert response.status_code == 403
    assert counts(app) == before


@pytest.mark.parametrize(("fields", "status"), [
    ({"service_code": "no-such-service"}, 404),
    ({"service_code": None}, 400),
    ({"description": "x"}, 400),
    ({"lat": "north"}, 400),
    ({"lat": str(HANOI[0]), "long": str(HANOI[1])}, 400),
    ({"attribute[lamp_state]": "exploded"}, 400),
    ({"email": "not-an-email"}, 400),
])
def test_bad_requests_are_answered_with_the_specs_errors_and_create_nothing(
        app, client: TestClient, api_key: str, categories, fields: dict[str, str | None], status: int) -> None:
    before = counts(app)
    response = post(client, api_key, **fields)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    errors = valid(response, "errors")
    assert {e["code"] for e in errors} == {status}
    xml = post(client, api_key, fmt="xml", **fields)  # type: ignore[arg-type]
    assert xml.status_code == status and ET.fromstring(xml.content).tag == "errors"
    assert counts(app) == before


def test_request_lists_filter_by_id_service_status_and_dates(app, client: TestClient, api_key: str, login,
                                                              categories) -> None:
    light = post(client, api_key).json()[0]["service_request_id"]
    tree = post(client, api_key, service_code="trees", description="Cây xanh gãy đổ chắn ngang đường",
                **{"attribute[lamp_state]": None}).json()[0]["service_request_id"]

    def ids(query: str) -> list[str]:
        return [r["service_request_id"] for r in valid(client.get(f"{BASE}/requests.json?{query}"),
                                                       "service_requests")]

    assert set(ids("")) == {light, tree}
    assert ids("service_code=trees") == [tree]
    assert set(ids("service_code=trees,street-lighting")) == {light, tree}
    assert ids(f"service_request_id={light}") == [light]
    assert ids("start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z") == []
    assert set(ids("status=open")) == {light, tree} and ids("status=closed") == []

    staff = login("staff")
    case_id = next(r["case_id"] for r in staff.client.get("/api/v1/reports").json() if r["tracking_code"] == tree)
    url = f"/api/v1/reports/{case_id}/transition"
    reason = {"to": "rejected", "reason": "Đã được xử lý theo phản ánh trước"}
    assert staff.api("POST", url, json=reason).status_code == 200
    assert ids("status=closed") == [tree] and ids("status=open") == [light]
    mirrored(client, "requests", params={"status": "open,closed"})


@pytest.mark.parametrize("query", ["start_date=yesterday", "end_date=2026-11-01", "status=pending",
                                   "start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z",
                                   "start_date=2026-11-01T00:00:00Z&end_date=2026-10-01T00:00:00Z"])
def test_bad_filters_are_400_errors(client: TestClient, categories, query: str) -> None:
    response = client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == 400
    assert valid(response, "errors")[0]["code"] == 400


def test_an_unknown_format_is_an_error(client: TestClient, categories) -> None:
    response = client.get(f"{BASE}/services.html")
    assert response.status_code == 404
    assert valid(response, "errors")[0]["description"]


def test_public_answers_carry_no_personal_data(client: TestClient, api_key: str, categories) -> None:
    description = "Đèn đường hỏng, liên hệ tôi 0987654321 hoặc binh@example.vn"
    code = post(client, api_key, description=description, **REPORTER).json()[0]["service_request_id"]
    answers = [client.get(f"{BASE}/requests.{fmt}") for fmt in ("json", "xml")] + [
        client.get(f"{BASE}/requests/{code}.{fmt}") for fmt in ("json", "xml")]
    for response in answers:
        assert response.status_code == 200
        text = response.content.decode("utf-8")
        for secret in ("Bình", "Trần", "0987 654 321", "0987654321", "binh@example.vn"):
            assert secret not in text, (secret, text)
    assert "Đèn đường hỏng" in answers[0].json()[0]["description"]


def test_form_fields_are_read_as_utf8_even_when_the_client_does_not_escape_them(client: TestClient, api_key: str,
                                                                               categories) -> None:
    raw = (f"api_key={api_key}&service_code=trees&lat={KINH_BAC[0]}&long={KINH_BAC[1]}"
           "&description=Cây xanh gãy đổ chắn ngang đường").encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    created = client.post(f"{BASE}/requests.json", content=raw, headers=headers)
    assert created.status_code == 201, created.text
    code = created.json()[0]["service_request_id"]
    assert client.get(f"{BASE}/requests/{code}.json").json()[0]["description"] == "Cây xanh gãy đổ chắn ngang đường"
    broken = client.post(f"{BASE}/requests.json", content=raw + b"\xff\xfe", headers=headers)
    assert broken.status_code == 400 and valid(broken, "errors")[0]["code"] == 400
