"""No request produces a 500: every route and method, fed garbage, anonymously and as an administrator.

The routes come from ``app.openapi()`` (and, for the pages, from the app's routes), so
modules added later are fuzzed too. Every answer must be below 500, and every 4xx under
``/api/v1`` must be problem+json with a ``code``. A fixed list of nasty values runs first;
Hypothesis then tries a bounded number of random requests (derandomised, so CI is repeatable).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from saola.core.auth import service as auth
from saola.core.db import unit_of_work
from saola.core.errors import PROBLEM_JSON
from tests.conftest import Browser
from tests.core.helpers import app_routes, describe, problem_code

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

GARBAGE: list[str] = [
    "-1", "0", "99999999999999999999", "-99999999999999999999", "9223372036854775808", "1e309", "NaN", "-inf",
    "1.5", "true", "null", "[]", "{}", "", " ", "Đắk Lắk ✓ 水 🚦", "' OR '1'='1' --", "1; DROP TABLE users",
    "<script>alert(1)</script>", "{{7*7}}", "x" * 5000, "2025-13-45", "2025-02-30T25:61:00",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1970-01-01", "\x00", "a\x00b", "../../etc/passwd",
    "%00", "\\", "\u202e",
]

# The nastiest of them, for the many query and form fields (keeps the run under a few seconds).
NASTY: list[str] = [
    "-1", "99999999999999999999", "1e309", "NaN", "", "Đắk Lắk ✓ 水 🚦", "' OR '1'='1' --",
    "<script>alert(1)</script>", "x" * 5000, "2025-13-45", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "a\x00b",
]

# Fewer still for the HTML pages, which are slower to render.
PAGE_NASTY: list[str] = ["99999999999999999999", "-1", "", "x" * 5000, "a\x00b", "<script>alert(1)</script>",
                         "0001-01-01T00:00:00+14:00", "Đắk Lắk ✓ 水 🚦"]

MALFORMED_BODIES: list[tuple[str, bytes]] = [
    ("application/json", b""),
    ("application/json", b"{"),
    ("application/json", b'{"name": '),
    ("application/json", b"\xff\xfe\x00"),
    ("application/json", b"null"),
    ("application/json", b"[]"),
    ("application/json", b"[{}]"),
    ("application/json", b'"text"'),
    ("application/json", b"123456789012345678901234567890"),
    ("application/json", b"[" * 5000 + b"]" * 5000),
    ("application/json", b'{"a": 1e999999}'),
    ("application/json", b'{"name": "\\ud800"}'),
    ("application/json", json.dumps({"x" * 1000: "y" * 100_000}).encode()),
    ("text/plain", b'{"name": "x"}'),
    ("application/xml", b"<contact><name>x</name></contact>"),
    ("application/x-www-form-urlencoded", b"name=x&agency_id=1&%%%"),
    ("multipart/form-data; boundary=zzz", b"--zzz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n"),
    ("multipart/form-data", b"no boundary"),
    ("application/json; charset=latin-1", '{"name": "Đà"}'.encode("utf-16")),
    ("", b'{"name": "x"}'),
]


def _openapi_operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    ops = []
    for path, item in app.openapi()["paths"].items():
        for method, op in item.items():
            if method.upper() in METHODS:
                ops.append((path, method.upper(), op))
    return ops


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _body_schema(op: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {})
    for media in content.values():
        return _resolve(media.get("schema", {}), spec)
    return None


def _fill(path: str, op: dict[str, Any], value: str | None = None) -> str:
    """``path`` with every path parameter replaced: by ``value``, or by a plausible one."""
    for param in op.get("parameters", []):
        if param["in"] != "path":
            continue
        schema = param.get("schema", {})
        plausible = str(schema["enum"][0]) if "enum" in schema else "1"
        path = path.replace("{" + param["name"] + "}", quote(value if value is not None else plausible, safe=""))
    return path


def _bodies(schema: dict[str, Any] | None) -> Iterator[Any]:
    """JSON bodies of the wrong shape for an object ``schema``."""
    props = list((schema or {}).get("properties", {}))
    yield {}
    yield [{}]
    yield {name: None for name in props}
    yield {name: [1, {"a": None}] for name in props}
    yield {name: {"$gt": ""} for name in props}
    yield {name: "x" * 100_000 for name in props}
    yield {name: 99999999999999999999 for name in props}
    yield {name: -1 for name in props}
    yield {name: True for name in props}
    yield {name: "a\x00b" for name in props}
    yield {name: "Đắk Lắk <b>x</b> ' OR 1=1" for name in props}
    yield {**{name: "1" for name in props}, "unexpected": 1, "__proto__": {}}


FIELD_GARBAGE: list[Any] = [None, "a\x00b", "\u202e" * 50, "x" * 100_000, 99999999999999999999, -1, 1.5, [], {},
                             "0001-01-01T00:00:00+14:00"]


def _plausible(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    schema = _resolve(schema, spec)
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return _plausible(option, spec)
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}.get(
        schema.get("type", "string"), "" if "pattern" in schema else "saola-test")


def _one_bad_field(schema: dict[str, Any] | None, spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Valid bodies (required fields only) with one field set to garbage, so it reaches the database."""
    if not schema or "properties" not in schema:
        return
    base = {name: _plausible(schema["properties"][name], spec) for name in schema.get("required", [])}
    for name in schema["properties"]:
        for value in FIELD_GARBAGE:
            yield {**base, name: value}


class AdminAuth:
    """An administrator's bearer header, renewed when fuzzing revoked the token or demoted the admin."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.secret: str | None = None

    def headers(self) -> dict[str, str]:
        if self.secret is None:
            with unit_of_work(self.app.state.session_factory) as session:
                user = auth.get_user(session, username="admin")
                auth.update_user(session, user=user, role="admin", active=True)
                _row, self.secret = auth.create_token(session, user=user, scopes=None)
        return {"Authorization": f"Bearer {self.secret}"}

    def denied(self) -> None:
        self.secret = None


class Anonymous:
    def headers(self) -> dict[str, str]:
        return {}

    def denied(self) -> None:
        pass


class Checker:
    """Sends requests and fails on any 5xx, or on a non-problem 4xx under /api/v1."""

    def __init__(self, client: TestClient, caller: AdminAuth | Anonymous) -> None:
        self.client = client
        self.caller = caller

    def __call__(self, method: str, url: str, *, body: bytes | None = None, content_type: str | None = None,
                 json_body: Any = None) -> None:
        headers = self.caller.headers()
        if content_type is not None:
            headers["content-type"] = content_type
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("content-type", "application/json")
        response = self.client.request(method, url, content=body, headers=headers, follow_redirects=False)
        assert response.status_code < 500, describe(response)
        if url.startswith("/api/v1") and 400 <= response.status_code < 500:
            if method == "HEAD":  # no body, but the same headers
                assert response.headers["content-type"] == PROBLEM_JSON, describe(response)
            else:
                problem_code(response)
        if response.status_code in (401, 403):
            self.caller.denied()


@pytest.fixture(params=["anonymous", "admin"])
def check(request: pytest.FixtureRequest, app: FastAPI, client: TestClient) -> Checker:
    return Checker(client, AdminAuth(app) if request.param == "admin" else Anonymous())


def test_garbage_in_path_parameters_never_causes_a_500(app: FastAPI, check: Checker) -> None:
    for path, method, op in _openapi_operations(app):
        if "{" not in path:
            continue
        for value in GARBAGE:
            check(method, _fill(path, op, value), json_body={} if "requestBody" in op else None)


def test_garbage_in_query_parameters_never_causes_a_500(app: FastAPI, check: Checker) -> None:
    for path, method, op in _openapi_operations(app):
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"] + ["unknown"]
        for value in NASTY:
            for name in names:
                check(method, f"{_fill(path, op)}?{name}={quote(value, safe='')}")
            everything = "&".join(f"{name}={quote(value[:500], safe='')}" for name in names)
            check(method, f"{_fill(path, op)}?{everything}&{everything}")


def test_malformed_and_misshapen_bodies_never_cause_a_500(app: FastAPI, check: Checker) -> None:
    spec = app.openapi()
    for path, method, op in _openapi_operations(app):
        if method == "GET":
            continue
        url = _fill(path, op)
        for content_type, body in MALFORMED_BODIES:
            check(method, url, body=body, content_type=content_type)
        for body in _bodies(_body_schema(op, spec)):
            check(method, url, json_body=body)
        for body in _one_bad_field(_body_schema(op, spec), spec):
            check(method, url, json_body=body)


def test_unknown_paths_and_methods_answer_4xx(app: FastAPI, check: Checker) -> None:
    for url in ("/nope", "/api/v1/nope", "/api/v1/users/1/nope", "/api/v2/users", "/console/nope",
                "/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/geo/../../pyproject.toml",
                "/" + "x" * 8000, "/api/v1/" + quote("Đắk Lắk\x00", safe=""), "//evil.example/"):
        for method in METHODS:
            check(method, url)
    for path, _method, op in _openapi_operations(app):
        for method in (*METHODS, "OPTIONS", "HEAD", "TRACE", "PROPFIND"):
            check(method, _fill(path, op))


def test_pages_and_forms_answer_garbage_without_a_500(app: FastAPI, client: TestClient, login) -> None:
    admin: Browser = login("admin")
    # The NGSI-LD trailing-slash aliases (/ngsi-ld/v1/entities/ …) are API routes kept out of the schema;
    # their documented twins get the API fuzzing below, and NGSI-LD's own robustness tests cover them.
    pages = [r for r in app_routes(app) if not r.in_schema and not r.path.startswith("/ngsi-ld/")]
    assert pages
    for route in pages:
        for value in PAGE_NASTY:
            if route.method == "GET":
                params = dict.fromkeys([*route.query_params, "next"], value)
                senders = [admin.client] if route.is_console else [admin.client, client]
                for sender in senders:
                    response = sender.get(route.url(), params=params, follow_redirects=False)
                    assert response.status_code < 500, describe(response)
            else:
                data = {**dict.fromkeys(route.form_params, value), "csrf_token": admin.csrf}
                response = admin.client.request(route.method, route.url(), data=data, follow_redirects=False)
                assert response.status_code < 500, describe(response)
            if route.path_params:
                response = admin.client.request(route.method, route.url(**dict.fromkeys(route.path_params, value)),
                                                data={"csrf_token": admin.csrf}, follow_redirects=False)
                assert response.status_code < 500, describe(response)


# --- random requests -------------------------------------------------------------------------------

_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                          st.text(max_size=50))
_json = st.recursive(_json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                     max_leaves=10)
_path_values = st.one_of(st.integers().map(str), st.text(min_size=1, max_size=30), st.sampled_from(GARBAGE))


@hsettings(max_examples=100, deadline=None, derandomize=True, database=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_requests_never_cause_a_500(app: FastAPI, check: Checker, data: st.DataObject) -> None:
    spec = app.openapi()
    path, method, op = data.draw(st.sampled_from(_openapi_operations(app)), label="operation")
    url = _fill(path, op, data.draw(_path_values, label="path value")) if "{" in path else path
    query = {p["name"]: data.draw(_path_values, label=p["name"]) for p in op.get("parameters", [])
             if p["in"] == "query" and data.draw(st.booleans())}
    if query:
        url += "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query.items())
    body = None
    if "requestBody" in op:
        props = list((_body_schema(op, spec) or {}).get("properties", {})) or ["x"]
        body = data.draw(st.one_of(_json, st.dictionaries(st.sampled_from(props), _json, max_size=len(props))),
                         label="body")
    check(method, url, json_body=body)


# --- what the garbage found ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/api/v1/users/99999999999999999999",
    "/api/v1/contacts?agency_id=-99999999999999999999",
    "/api/v1/audit?since=0001-01-01T00:00:00%2B14:00",
    "/api/v1/units?offset=99999999999999999999",
])
def test_values_the_database_cannot_take_answer_400_invalid_value(login, url: str) -> None:
    response = login("admin").client.get(url)
    assert response.status_code == 400, describe(response)
    assert problem_code(response) == "invalid-value"


def test_a_refused_write_still_answers_the_signed_in_user_properly(login, database_url: str) -> None:
    admin = login("admin")
    admin.post_form("/language", {"lang": "en"})
    response = admin.api("PATCH", "/api/v1/users/1", json={"full_name": "Nguyễn\x00Văn"})
    if database_url.startswith("postgresql"):  # PostgreSQL text cannot hold NUL; the failed flush is a 400
        assert response.status_code == 400, describe(response)
        assert problem_code(response) == "invalid-value"
        assert response.json()["title"] == "A value is out of range or contains characters that cannot be stored"
        assert admin.client.get("/api/v1/me").json()["full_name"] == "Admin"
    else:
        assert response.status_code == 200, describe(response)
