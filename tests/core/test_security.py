"""The security test set: sign-in everywhere, least privilege, agency isolation, CSRF, secrets, cookies.

Routes are enumerated from the running application, so routes other packages add later
are held to the same rules without editing this file.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from saola.app import create_app
from saola.core.auth.permissions import permissions_for
from saola.core.settings import load_settings
from tests.conftest import DEMO_PASSWORD, Browser, csrf_from
from tests.core.helpers import (
    SIGNED_API,
    UNSAFE,
    api_write_routes,
    app_routes,
    db_snapshot,
    describe,
    json_log_lines,
    problem_code,
    snapshot_diff,
)

SXD, SYT = 2, 3

# Writes a viewer may make: their own API tokens. A token never carries more than the
# viewer's read-only permissions (checked below), and only the caller's own tokens can be
# revoked, so these do not let a viewer change city data.
VIEWER_OWN_WRITES = {("POST", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/{token_id}")}

# Console forms a viewer may post: their own account (name, language, password, tokens).
VIEWER_OWN_PAGES = "/console/account"

# /api/v1 routes that answer anonymous callers, each with its reason. Only reads of public
# information belong here; a route added to this list is a security-review question.
PUBLIC_API: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/calendar/add"): "working-day arithmetic on the official public calendar",
    ("GET", "/api/v1/calendar/count"): "working-day arithmetic on the official public calendar",
    ("GET", "/api/v1/calendar/holidays"): "the official holidays and days off are public",
    ("GET", "/api/v1/queue/services"): "the services of the centre's kiosk are shown to every visitor",
    ("GET", "/api/v1/queue/board"): "the display board hangs in the centre's hall: ticket codes and counters only",
    ("GET", "/api/v1/queue/slots"): "free appointment times are public so citizens can book them",
    ("GET", "/api/v1/procedures"): "the procedures catalogue is public (National Public Service Portal)",
    ("GET", "/api/v1/procedures/export"): "the procedures catalogue is public (National Public Service Portal)",
    ("GET", "/api/v1/procedures/{code}"): "the procedures catalogue is public (National Public Service Portal)",
    ("GET", "/api/v1/dossiers/lookup"): "a dossier's status and appointment by its code, no personal data",
    ("GET", "/api/v1/reports/similar"): "open 1022 reports near a point, shown to citizens before they submit; "
                                        "public fields only, no personal data",
}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def form_values(names: tuple[str, ...]) -> dict[str, str]:
    """Plausible values for a form's fields (what a user might submit)."""
    sample = {"username": "admin", "password": DEMO_PASSWORD, "lang": "en", "next": "/console", "role": "viewer",
              "agency_id": "2", "active": "false", "language": "en", "new_password": "another-pass-1",
              "confirm_password": "another-pass-1", "current_password": DEMO_PASSWORD}
    return {name: sample.get(name, "x-value") for name in names}


# --- nothing answers without sign-in -------------------------------------------------------------


def test_every_console_page_sends_anonymous_visitors_to_sign_in(app, client: TestClient) -> None:
    pages = [r for r in app_routes(app) if r.is_console]
    assert {"/console", "/console/audit"} <= {r.path for r in pages}
    for route in pages:
        url = route.url() + ("?page=2" if route.method == "GET" else "")
        response = client.request(route.method, url, follow_redirects=False)
        assert response.status_code == 303, describe(response)
        assert response.headers["location"] == "/login?next=" + quote(url, safe=""), describe(response)


def test_an_api_token_does_not_open_console_pages(app, client: TestClient, token) -> None:
    headers = bearer(token("admin"))
    for route in app_routes(app):
        if route.is_console and route.method == "GET":
            response = client.get(route.url(), headers=headers, follow_redirects=False)
            assert response.status_code == 303, describe(response)
            assert response.headers["location"].startswith("/login?next=")


def test_every_api_route_answers_401_problem_to_anonymous_callers(app, client: TestClient) -> None:
    before = db_snapshot(app.state.engine)
    routes = [r for r in app_routes(app) if r.is_api and r.key not in PUBLIC_API and r.key not in SIGNED_API]
    assert len(routes) >= 15
    for route in routes:
        for headers in ({}, bearer("saola_not-a-token"), {"Authorization": "Basic YWRtaW46c2FvbGEtZGVtbw=="}):
            response = client.request(route.method, route.url(), headers=headers,
                                      json={} if route.has_body else None)
            assert response.status_code == 401, describe(response)
            assert problem_code(response) == "not-authenticated"
            assert response.headers["www-authenticate"] == "Bearer"
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}


def test_the_only_public_api_routes_are_the_listed_reads(app, client: TestClient) -> None:
    served = {r.key for r in app_routes(app) if r.is_api}
    for key in PUBLIC_API:
        assert key in served, f"{key} is listed as public but not served any more"
        method, path = key
        assert method == "GET"
        assert client.get(path).status_code != 401


def test_a_disabled_users_session_and_tokens_open_nothing(login, token, client: TestClient) -> None:
    viewer = login("viewer")
    secret = token("viewer")
    admin = login("admin")
    viewer_id = viewer.client.get("/api/v1/me").json()["id"]
    assert admin.api("PATCH", f"/api/v1/users/{viewer_id}", json={"active": False}).status_code == 200
    assert viewer.client.get("/api/v1/me").status_code == 401
    assert viewer.client.get("/console", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


# --- a viewer reads but does not write ---------------------------------------------------------------


@pytest.mark.parametrize("via", ["session", "token"])
def test_a_viewer_cannot_write_anything_through_the_api(
    app, login, token, client: TestClient, via: str
) -> None:
    viewer = login("viewer")
    secret = token("viewer")

    def call(method: str, url: str, **kw: Any):
        if via == "session":
            return viewer.api(method, url, **kw)
        return client.request(method, url, headers=bearer(secret), **kw)

    before = db_snapshot(app.state.engine)
    routes = [r for r in api_write_routes(app) if r.key not in VIEWER_OWN_WRITES]
    assert len(routes) >= 6
    for route in routes:
        for ids in (1, 2, 999999):
            response = call(route.method, route.url(ids=ids), json={} if route.has_body else None)
            assert response.status_code == 403, describe(response)
            assert problem_code(response) == "permission-denied"
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}


def test_a_viewer_cannot_write_anything_through_console_forms(app, login) -> None:
    viewer = login("viewer")
    before = db_snapshot(app.state.engine)
    forms = [r for r in app_routes(app) if r.is_console and r.method in UNSAFE
             and not r.path.startswith(VIEWER_OWN_PAGES)]
    assert forms, "no console forms to check"
    for route in forms:
        for ids in (1, 999999):
            response = viewer.post_form(route.url(ids=ids), form_values(route.form_params), follow_redirects=False)
            assert response.status_code == 403, describe(response)
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}


def test_a_viewer_manages_only_their_own_tokens_and_cannot_widen_them(login, token, client) -> None:
    viewer = login("viewer")
    refused = viewer.api("POST", "/api/v1/tokens", json={"name": "wider", "scopes": ["contacts:write"]})
    assert refused.status_code == 400
    assert problem_code(refused) == "scope-not-allowed"
    created = viewer.api("POST", "/api/v1/tokens", json={"name": "reports"})
    assert created.status_code == 201, created.text
    own = created.json()
    me = client.get("/api/v1/me", headers=bearer(own["token"])).json()
    assert set(me["permissions"]) == set(permissions_for("viewer"))
    write = client.post("/api/v1/contacts", headers=bearer(own["token"]), json={"agency_id": SXD, "name": "X"})
    assert write.status_code == 403

    staff_secret = token("staff")
    staff_token_id = client.get("/api/v1/tokens", headers=bearer(staff_secret)).json()[0]["id"]
    assert [t["id"] for t in viewer.client.get("/api/v1/tokens").json()] == [own["id"]]
    other = viewer.api("DELETE", f"/api/v1/tokens/{staff_token_id}")
    assert other.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(staff_secret)).status_code == 200

    assert viewer.api("DELETE", f"/api/v1/tokens/{own['id']}").status_code == 204
    assert client.get("/api/v1/me", headers=bearer(own["token"])).status_code == 401


# --- agency-private data --------------------------------------------------------------------------


@pytest.fixture
def syt_contact(client: TestClient, token) -> dict[str, Any]:
    """A contact of Sở Y tế (SYT), created by an administrator."""
    response = client.post("/api/v1/contacts", headers=bearer(token("admin")),
                           json={"agency_id": SYT, "name": "Bác sĩ Trực", "phone": "0222 3822 111"})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("via", ["session", "token"])
def test_staff_cannot_list_read_change_or_delete_another_agencys_contacts(
    app, login, token, client: TestClient, syt_contact: dict[str, Any], via: str
) -> None:
    staff = login("staff")  # Sở Xây dựng (SXD)
    secret = token("staff")

    def call(method: str, url: str, **kw: Any):
        if via == "session":
            return staff.api(method, url, **kw)
        return client.request(method, url, headers=bearer(secret), **kw)

    own = call("POST", "/api/v1/contacts", json={"agency_id": SXD, "name": "Kỹ sư Trực"})
    assert own.status_code == 201, own.text
    listed = call("GET", "/api/v1/contacts")
    assert [c["id"] for c in listed.json()] == [own.json()["id"]]
    assert call("GET", f"/api/v1/contacts?agency_id={SYT}").json() == []

    before = db_snapshot(app.state.engine)
    url = f"/api/v1/contacts/{syt_contact['id']}"
    for method, body in (("GET", None), ("PATCH", {"name": "Hacked"}), ("DELETE", None)):
        response = call(method, url, json=body)
        assert response.status_code == 404, describe(response)  # existence does not leak
        assert problem_code(response) == "unknown-contact"
    planted = call("POST", "/api/v1/contacts", json={"agency_id": SYT, "name": "Planted"})
    assert planted.status_code == 403
    assert problem_code(planted) == "permission-denied"
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}


def test_a_viewer_does_not_see_another_agencys_contacts(login, syt_contact: dict[str, Any]) -> None:
    viewer = login("viewer")  # SXD
    assert viewer.client.get("/api/v1/contacts").json() == []
    assert viewer.client.get(f"/api/v1/contacts/{syt_contact['id']}").status_code == 404


def test_the_owning_agency_sees_its_contacts(login, syt_contact: dict[str, Any]) -> None:
    staff2 = login("staff2")  # SYT
    assert [c["id"] for c in staff2.client.get("/api/v1/contacts").json()] == [syt_contact["id"]]
    assert staff2.api("PATCH", f"/api/v1/contacts/{syt_contact['id']}", json={"on_duty": True}).status_code == 200


@pytest.mark.parametrize("username", ["operator", "admin"])
def test_users_with_all_agencies_read_change_and_delete_any_agencys_contacts(
    login, syt_contact: dict[str, Any], username: str
) -> None:
    browser = login(username)
    assert "agencies:all" in browser.client.get("/api/v1/me").json()["permissions"]
    url = f"/api/v1/contacts/{syt_contact['id']}"
    assert syt_contact["id"] in [c["id"] for c in browser.client.get("/api/v1/contacts").json()]
    assert browser.client.get(url).json()["name"] == "Bác sĩ Trực"
    changed = browser.api("PATCH", url, json={"name": "Bác sĩ Trực Ban"})
    assert changed.status_code == 200
    assert changed.json()["name"] == "Bác sĩ Trực Ban"
    assert browser.api("DELETE", url).status_code == 204
    assert browser.client.get(url).status_code == 404


# --- CSRF ---------------------------------------------------------------------------------------


def form_routes(app) -> list:
    # NGSI-LD routes are a JSON API with its own error format; browser sessions cannot write there at all
    # (tests/context/test_access.py). Open311 (GeoReport v2) authenticates each POST by the `api_key` form field,
    # never by the browser's cookies, so a forged cross-site form gains nothing; it answers in the spec's own error
    # format (tests/feedback/test_open311.py checks a session without api_key is refused with 403). The IoT Agent
    # API (/iot/) is JSON for machines: devices send their API key, provisioning takes a bearer token, and a
    # browser session without the CSRF header is refused in JSON (test_iot_provisioning_refuses_a_session_...).
    return [r for r in app_routes(app) if not r.is_api and not r.path.startswith(("/ngsi-ld/", "/open311/", "/iot/"))
            and r.method in UNSAFE]


def test_every_form_post_without_or_with_a_wrong_csrf_token_is_refused(app, login) -> None:
    admin = login("admin")
    routes = form_routes(app)
    assert {"/login", "/logout", "/language"} <= {r.path for r in routes}
    before = db_snapshot(app.state.engine)
    for route in routes:
        data = form_values(route.form_params)
        wrong = admin.csrf[:-1] + ("1" if admin.csrf.endswith("0") else "0")  # one character off, never equal
        for sent in ({}, {"csrf_token": "forged"}, {"csrf_token": wrong}):
            response = admin.client.request(route.method, route.url(), data={**data, **sent},
                                            follow_redirects=False)
            assert response.status_code == 403, describe(response)
            assert 'data-error-code="csrf-failed"' in response.text, describe(response)
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}
    assert admin.client.get("/api/v1/me").status_code == 200  # the refused /logout did not sign out


def test_a_csrf_token_only_works_with_the_browser_it_was_issued_to(app, login) -> None:
    victim = login("staff")
    attacker_client = TestClient(app, base_url="http://127.0.0.1")
    attacker_token = csrf_from(attacker_client)
    before = db_snapshot(app.state.engine)
    response = victim.client.post("/logout", data={"csrf_token": attacker_token}, follow_redirects=False)
    assert response.status_code == 403
    no_cookie = TestClient(app, base_url="http://127.0.0.1")
    login_post = no_cookie.post("/login", data={"username": "staff", "password": DEMO_PASSWORD,
                                                "csrf_token": victim.csrf})
    assert login_post.status_code == 403
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}
    attacker_client.close()
    no_cookie.close()


def test_the_same_form_posts_with_the_csrf_token_are_accepted(app, login) -> None:
    browser = login("viewer")
    assert browser.post_form("/language", {"lang": "en", "next": "/console"},
                             follow_redirects=False).status_code == 303
    assert browser.client.get("/api/v1/me").json()["language"] == "en"
    assert browser.post_form("/logout", {}, follow_redirects=False).status_code == 303
    assert browser.client.get("/api/v1/me").status_code == 401


def test_session_calls_to_write_apis_need_the_csrf_header(app, login) -> None:
    admin = login("admin")
    before = db_snapshot(app.state.engine)
    for route in api_write_routes(app):
        for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
            response = admin.client.request(route.method, route.url(), headers=headers,
                                            json={} if route.has_body else None)
            assert response.status_code == 403, describe(response)
            assert problem_code(response) == "csrf-failed"
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}


def test_bearer_token_calls_need_no_csrf(app, client: TestClient, token) -> None:
    headers = bearer(token("admin"))
    for route in api_write_routes(app):
        response = client.request(route.method, route.url(ids=999999), headers=headers,
                                  json={} if route.has_body else None)
        assert response.status_code < 500, describe(response)
        if response.status_code == 403:
            assert problem_code(response) != "csrf-failed", describe(response)
    created = client.post("/api/v1/contacts", headers=headers, json={"agency_id": SXD, "name": "Không cần CSRF"})
    assert created.status_code == 201


# --- secrets never leak ------------------------------------------------------------------------------


def _walk_keys(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in _walk_keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in _walk_keys(v)}
    return set()


def test_passwords_never_appear_in_logs_or_responses(app, login, client: TestClient, token) -> None:
    first, second, wrong, weak = "Tr4m-Bien-Hoa-2025", "Cau-Long-Bien-9981", "Sai-Mat-Khau-4417", "weakpw7"
    admin = login("admin")
    responses = []
    with json_log_lines() as lines:
        created = admin.api("POST", "/api/v1/users", json={"username": "thu.ha", "password": first,
                                                            "role": "clerk", "agency_id": 4})
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        responses.append(created)
        responses.append(admin.api("POST", "/api/v1/users", json={"username": "weak.one", "password": weak,
                                                                   "role": "clerk", "agency_id": 4}))
        assert responses[-1].status_code == 400
        # PostgreSQL refuses the NUL at INSERT time: the logged error must not carry the row (its hash)
        responses.append(admin.api("POST", "/api/v1/users", json={"username": "nul.name", "password": first,
                                                                   "full_name": "Nul\x00Name", "role": "clerk",
                                                                   "agency_id": 4}))
        assert responses[-1].status_code in (201, 400)
        for password in (wrong, first):
            form = csrf_from(client)
            responses.append(client.post("/login", data={"username": "thu.ha", "password": password,
                                                          "csrf_token": form}, follow_redirects=False))
        assert [r.status_code for r in responses[-2:]] == [401, 303]
        responses.append(admin.api("POST", f"/api/v1/users/{user_id}/password", json={"password": second}))
        assert responses[-1].status_code == 204
        responses.append(admin.api("POST", f"/api/v1/users/{user_id}/password", json={"password": weak}))
        assert responses[-1].status_code == 400
        responses.append(admin.client.get(f"/api/v1/users/{user_id}"))
        responses.append(admin.client.get("/api/v1/users"))
        responses.append(admin.client.get("/api/v1/audit?limit=500"))
        responses.append(admin.client.get("/console/audit"))
    assert any('"request"' in line for line in lines), "the request log lines were not captured"
    log_text = "\n".join(lines)
    assert "$argon2" not in log_text
    for password in (first, second, wrong, weak):
        assert password not in log_text
        for response in responses:
            assert password not in response.text, describe(response)
            assert password not in json.dumps(dict(response.headers))
    for response in responses:
        assert "$argon2" not in response.text, describe(response)


def test_user_and_token_answers_and_audit_entries_carry_no_hashes(app, login, client: TestClient) -> None:
    admin = login("admin")
    created = admin.api("POST", "/api/v1/tokens", json={"name": "export"})
    secret = created.json()["token"]
    answers = [created.json(), client.get("/api/v1/me", headers=bearer(secret)).json(),
               admin.client.get("/api/v1/users").json(), admin.client.get("/api/v1/users/1").json(),
               admin.client.get("/api/v1/tokens").json()]
    audit = admin.client.get("/api/v1/audit?limit=500").json()["items"]
    assert audit, "the writes above are audited"
    for data in [*answers, audit]:
        keys = _walk_keys(data)
        assert not {"password", "token_hash"} & keys, keys
        text = json.dumps(data, ensure_ascii=False)
        assert "$argon2" not in text
    for data in [*answers[1:], audit]:
        assert secret not in json.dumps(data)
    for entry in audit:  # a changed secret is recorded as changed, never by value
        for side in (entry["before"] or {}, entry["after"] or {}):
            assert side.get("password_hash", "(changed)") == "(changed)", entry
    assert "password_hash" not in _walk_keys(answers)


def test_database_errors_never_carry_the_statements_values(app) -> None:
    """Errors are logged; the values of the failed statement (personal data, hashes) are not in them."""
    with pytest.raises(SQLAlchemyError) as caught, app.state.engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table WHERE secret = :secret"), {"secret": "Ba-Mươi-Sáu-Phố"})
    assert "Ba-Mươi-Sáu-Phố" not in str(caught.value)
    assert "hidden due to hide_parameters" in str(caught.value)


# --- cookies -----------------------------------------------------------------------------------------


def _cookie_attrs(response: Any, name: str) -> set[str]:
    """The attributes of the ``name`` cookie set by ``response``, lower case (``httponly``, ``samesite=lax``)."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return {part.strip().lower().replace(" ", "") for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie set: {response.headers.get_list('set-cookie')}")


def _sign_in_response(app, base_url: str = "http://127.0.0.1"):
    client = TestClient(app, base_url=base_url)
    form = client.get("/login")
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "viewer", "password": DEMO_PASSWORD, "csrf_token": csrf},
                           follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    client.close()
    return form, response


def test_session_and_csrf_cookies_are_httponly_samesite_lax_and_not_secure_on_a_laptop(app) -> None:
    form, signed_in = _sign_in_response(app)
    for response, name in ((signed_in, "saola_session"), (form, "saola_csrf")):
        attrs = _cookie_attrs(response, name)
        assert "httponly" in attrs
        assert "samesite=lax" in attrs
        assert "secure" not in attrs


@pytest.mark.parametrize("overrides", [{"env": "production"}, {"cookie_secure": True}], ids=["production", "forced"])
def test_cookies_are_secure_in_production_or_when_configured(settings, overrides: dict[str, Any]) -> None:
    secure = load_settings(**{**settings.model_dump(), **overrides})
    form, signed_in = _sign_in_response(create_app(secure), base_url="https://127.0.0.1")
    for response, name in ((signed_in, "saola_session"), (form, "saola_csrf")):
        attrs = _cookie_attrs(response, name)
        assert {"httponly", "secure", "samesite=lax"} <= attrs


def test_production_refuses_the_default_secret(settings) -> None:
    values = settings.model_dump(exclude={"secret_key"})
    with pytest.raises(ValidationError, match="SAOLA_SECRET_KEY"):
        load_settings(**{**values, "env": "production"})
    with pytest.raises(ValidationError, match="SAOLA_SECRET_KEY"):
        load_settings(**{**values, "env": "production", "secret_key": "short"})
    with pytest.raises(ValidationError, match="SAOLA_COOKIE_SECURE"):
        load_settings(**{**values, "env": "production", "secret_key": "k" * 40, "cookie_secure": False})
    assert load_settings(**{**values, "env": "production", "secret_key": "k" * 40}).secure_cookies


def test_signing_out_clears_the_session_cookie(login) -> None:
    browser: Browser = login("viewer")
    response = browser.post_form("/logout", {}, follow_redirects=False)
    cleared = [h for h in response.headers.get_list("set-cookie") if h.startswith("saola_session=")]
    assert cleared and ("max-age=0" in cleared[0].lower() or "expires=" in cleared[0].lower())


def test_iot_provisioning_refuses_a_session_without_the_csrf_header(app, login) -> None:
    admin = login("admin")
    before = db_snapshot(app.state.engine)
    body = {"devices": [{"device_id": "csrf-probe", "entity_type": "AirQualityObserved"}]}
    for route in ("/iot/devices", "/iot/services"):
        answer = admin.client.post(route, json=body if route == "/iot/devices" else {"services": []},
                                   headers={"fiware-service": "bacninh"})
        assert answer.status_code == 403, describe(answer)
        assert problem_code(answer) == "csrf-failed"
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}


def test_signed_webhooks_are_not_opened_by_a_session_or_a_token(settings, token) -> None:
    from fastapi.testclient import TestClient

    from saola.app import create_app
    from saola.core.messaging.gateways import GatewayConfig

    gateway = GatewayConfig(name="sms", kind="sms", secret="s" * 32, reply_url="http://127.0.0.1:9/reply")
    app = create_app(settings.model_copy(update={"feedback_gateways": [gateway]}))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        secret = token("admin")
        before = db_snapshot(app.state.engine)
        body = {"message_id": "m-1", "sender": "0912345678", "text": "Đèn đường trước nhà số 12 không sáng"}
        for route in SIGNED_API:
            url = route[1].replace("{provider}", "sms")
            for headers in ({}, bearer(secret)):
                answer = client.post(url, json=body, headers=headers)
                assert answer.status_code == 401, describe(answer)
                assert problem_code(answer) == "gateway-signature-missing"
        assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}

