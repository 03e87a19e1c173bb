"""Who may use the NGSI-LD API: tokens with context scopes and tenants, sessions read-only, the anonymous setting."""

from __future__ import annotations

from fastapi.testclient import TestClient

from saola.core.auth import service as auth
from saola.core.db import unit_of_work
from tests.context.conftest import BASE, Ngsi, building


def _tenant_token(app, tenants: list[str]) -> str:
    with unit_of_work(app.state.session_factory) as session:
        user = auth.get_user(session, username="operator")
        _row, secret = auth.create_token(session, user=user, scopes=["context:read", "context:write"],
                                         tenants=tenants)
    return secret


def test_no_or_invalid_token_is_401_with_a_problem_body(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer saola_nonsense"}):
        response = client.get(f"{BASE}/entities?type=Building", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/json")
        assert set(response.json()) == {"type", "title", "detail"}
        assert client.post(f"{BASE}/entities", json=building(), headers=headers).status_code == 401


def test_read_only_token_cannot_write(client: TestClient, token) -> None:
    reader = {"Authorization": f"Bearer {token('viewer', scopes=['context:read'])}"}
    assert client.get(f"{BASE}/entities?type=Building", headers=reader).status_code == 200
    assert client.post(f"{BASE}/entities", json=building(), headers=reader).status_code == 403
    other = {"Authorization": f"Bearer {token('admin', scopes=['directory:read'])}"}
    assert client.get(f"{BASE}/entities?type=Building", headers=other).status_code == 403


def test_roles_carry_the_context_permissions(client: TestClient, token) -> None:
    operator = {"Authorization": f"Bearer {token('operator')}"}
    assert client.post(f"{BASE}/entities", json=building(), headers=operator).status_code == 201
    for username in ("staff", "clerk", "viewer"):
        headers = {"Authorization": f"Bearer {token(username)}"}
        assert client.get(f"{BASE}/entities/urn:ngsi-ld:Building:b1", headers=headers).status_code == 200
        assert client.delete(f"{BASE}/entities/urn:ngsi-ld:Building:b1", headers=headers).status_code == 403


def test_token_limited_to_tenants(app, client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {_tenant_token(app, ['binhduong'])}"}
    allowed = {**headers, "NGSILD-Tenant": "binhduong"}
    assert client.post(f"{BASE}/entities", json=building(), headers=allowed).status_code == 201
    assert client.get(f"{BASE}/entities/urn:ngsi-ld:Building:b1", headers=allowed).status_code == 200
    assert client.get(f"{BASE}/entities?type=Building", headers={**headers, "NGSILD-Tenant": "bacninh"}
                      ).status_code == 403
    assert client.get(f"{BASE}/entities?type=Building", headers=headers).status_code == 403  # default tenant


def test_browser_sessions_read_but_do_not_write(login) -> None:
    admin = login("admin")
    assert admin.api("GET", f"{BASE}/entities?type=Building").status_code == 200
    assert admin.api("POST", f"{BASE}/entities", json=building()).status_code == 403


def test_anonymous_setting(app, client: TestClient) -> None:
    app.state.settings.ngsi_ld_anonymous = "read"
    assert client.get(f"{BASE}/entities?type=Building").status_code == 200
    assert client.post(f"{BASE}/entities", json=building()).status_code == 401
    app.state.settings.ngsi_ld_anonymous = "write"
    assert client.post(f"{BASE}/entities", json=building()).status_code == 201
    assert client.get(f"{BASE}/entities/urn:ngsi-ld:Building:b1").status_code == 200


def test_api_v1_errors_keep_saola_format(client: TestClient, ngsi: Ngsi) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["code"] == "not-authenticated"
    assert ngsi.get("/no-such-route").json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
