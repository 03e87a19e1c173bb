"""Sign-in, sign-out, sessions and API tokens through HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import csrf_from


def test_login_with_right_password_opens_the_console(login) -> None:
    browser = login("operator")
    page = browser.client.get("/console")
    assert page.status_code == 200
    assert "Operator" in page.text


def test_login_with_wrong_password_is_refused_and_names_no_user(client: TestClient) -> None:
    csrf = csrf_from(client)
    response = client.post("/login", data={"username": "operator", "password": "wrong-pass", "csrf_token": csrf})
    assert response.status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_login_is_throttled_after_repeated_failures(client: TestClient, settings) -> None:
    csrf = csrf_from(client)
    for _ in range(settings.login_max_failures):
        r = client.post("/login", data={"username": "clerk", "password": "nope-nope", "csrf_token": csrf})
        assert r.status_code == 401
    r = client.post("/login", data={"username": "clerk", "password": "saola-demo", "csrf_token": csrf})
    assert r.status_code == 429


def test_logout_ends_the_session(login) -> None:
    browser = login("viewer")
    assert browser.client.get("/api/v1/me").status_code == 200
    r = browser.post_form("/logout", {}, follow_redirects=False)
    assert r.status_code == 303
    assert browser.client.get("/api/v1/me").status_code == 401
    assert browser.client.get("/console", follow_redirects=False).status_code == 303


def test_bearer_token_authenticates_machine_clients(client: TestClient, token) -> None:
    secret = token("staff")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["username"] == "staff"
    assert me.json()["via"] == "token"


def test_token_scopes_limit_what_it_can_do(client: TestClient, token) -> None:
    secret = token("staff", scopes=["contacts:read"])
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/contacts", headers=headers).status_code == 200
    created = client.post("/api/v1/contacts", headers=headers, json={"agency_id": 2, "name": "A"})
    assert created.status_code == 403
    assert created.json()["code"] == "permission-denied"


def test_unknown_token_is_rejected(client: TestClient) -> None:
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer saola_not-a-real-token"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
