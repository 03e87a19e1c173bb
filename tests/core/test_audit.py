"""The audit log: every write through the API is recorded with who, when, what, before and after;
sign-ins are recorded; administrators (only) search it by actor, action, object type and time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_PASSWORD, csrf_from
from tests.core.helpers import problem_code

SXD, SYT = 2, 3


def audit(browser_or_client: Any, **filters: str) -> list[dict[str, Any]]:
    client = getattr(browser_or_client, "client", browser_or_client)
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in {"limit": "500", **filters}.items())
    response = client.get(f"/api/v1/audit?{query}")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_creating_changing_and_deleting_a_contact_is_audited_with_before_and_after(login) -> None:
    operator = login("operator")
    admin = login("admin")
    started = datetime.now(UTC)
    created = operator.api("POST", "/api/v1/contacts", json={"agency_id": SYT, "name": "Trực ban", "phone": "0222 1"})
    assert created.status_code == 201
    contact = created.json()
    cid = str(contact["id"])
    changed = operator.api("PATCH", f"/api/v1/contacts/{cid}", json={"phone": "0222 2", "on_duty": True})
    assert changed.status_code == 200
    assert operator.api("DELETE", f"/api/v1/contacts/{cid}").status_code == 204
    finished = datetime.now(UTC)

    entries = audit(admin, object_type="agency_contacts", object_id=cid)
    assert [e["action"] for e in entries] == ["delete", "update", "create"]  # newest first
    delete, update, create = entries
    me = operator.client.get("/api/v1/me").json()
    request_ids = {created.headers["x-request-id"], changed.headers["x-request-id"]}
    for entry in entries:
        assert entry["actor"] == "operator"
        assert entry["actor_id"] == me["id"]
        assert entry["agency_id"] == SYT
        assert started - timedelta(seconds=1) <= datetime.fromisoformat(entry["at"]) <= finished + timedelta(seconds=1)
        assert entry["ip"]
    assert {create["request_id"], update["request_id"]} == request_ids

    assert create["before"] is None
    assert create["after"]["name"] == "Trực ban"
    assert create["after"]["phone"] == "0222 1"
    assert update["before"]["phone"] == "0222 1"
    assert update["after"]["phone"] == "0222 2"
    assert update["before"]["on_duty"] is False
    assert update["after"]["on_duty"] is True
    assert "name" not in update["after"]  # only what changed
    assert delete["before"]["phone"] == "0222 2"
    assert delete["after"] is None


def test_a_token_write_is_audited_under_the_tokens_user(client: TestClient, token, login) -> None:
    created = client.post("/api/v1/contacts", headers={"Authorization": f"Bearer {token('staff')}"},
                          json={"agency_id": SXD, "name": "Kỹ sư"})
    assert created.status_code == 201
    entries = audit(login("admin"), object_type="agency_contacts", object_id=str(created.json()["id"]))
    assert [(e["actor"], e["action"]) for e in entries] == [("staff", "create")]


def test_a_user_update_is_audited_with_the_old_and_new_values(login) -> None:
    admin = login("admin")
    clerk_id = next(u["id"] for u in admin.client.get("/api/v1/users").json() if u["username"] == "clerk")
    response = admin.api("PATCH", f"/api/v1/users/{clerk_id}", json={"role": "viewer", "full_name": "Chị Lan"})
    assert response.status_code == 200
    [entry] = audit(admin, object_type="users", object_id=str(clerk_id), action="update")
    assert entry["actor"] == "admin"
    assert entry["before"] == {"role": "clerk", "full_name": "Clerk"}
    assert entry["after"] == {"role": "viewer", "full_name": "Chị Lan"}


def test_a_refused_write_leaves_no_audit_entry(login) -> None:
    admin, viewer = login("admin"), login("viewer")
    before = audit(admin)
    assert viewer.api("POST", "/api/v1/contacts", json={"agency_id": SXD, "name": "X"}).status_code == 403
    assert admin.api("POST", "/api/v1/contacts", json={"agency_id": 99, "name": "X"}).status_code == 404
    assert admin.api("PATCH", "/api/v1/users/1", json={"role": "emperor"}).status_code == 400
    assert audit(admin) == before


def test_sign_in_sign_out_and_failed_sign_in_are_audited(app, client: TestClient, login) -> None:
    csrf = csrf_from(client)
    failed = client.post("/login", data={"username": "staff2", "password": "not-the-one", "csrf_token": csrf})
    assert failed.status_code == 401
    unknown = client.post("/login", data={"username": "nobody", "password": "whatever1", "csrf_token": csrf})
    assert unknown.status_code == 401
    staff2 = login("staff2")
    staff2_id = str(staff2.client.get("/api/v1/me").json()["id"])
    assert staff2.post_form("/logout", {}, follow_redirects=False).status_code == 303

    admin = login("admin")
    fails = audit(admin, action="login-failed")
    # A known account is named by its id; what was typed for an unknown one is never stored
    # (people type passwords into the username field).
    assert [(e["object_id"], e["actor"], e["after"]) for e in fails] == [
        ("", "anonymous", {"known_user": False}), (staff2_id, "anonymous", None)]
    assert "nobody" not in str(audit(admin))
    assert all(e["ip"] and e["request_id"] for e in fails)
    [sign_in] = audit(admin, action="login", actor="staff2")
    assert sign_in["object_id"] == staff2_id
    [sign_out] = audit(admin, action="logout")
    assert sign_out["object_id"] == staff2_id
    assert sign_out["actor"] == "staff2"  # who signed out, not "anonymous"


def test_admins_filter_the_audit_log_by_actor_action_object_type_and_time(login) -> None:
    operator, staff, admin = login("operator"), login("staff"), login("admin")
    operator.api("POST", "/api/v1/contacts", json={"agency_id": SYT, "name": "A"})
    between = datetime.now(UTC)
    staff_contact = staff.api("POST", "/api/v1/contacts", json={"agency_id": SXD, "name": "B"}).json()
    staff.api("PATCH", f"/api/v1/contacts/{staff_contact['id']}", json={"name": "B2"})

    by_staff = audit(admin, actor="staff")
    assert [(e["action"], e["object_type"]) for e in by_staff if e["object_type"] == "agency_contacts"] == [
        ("update", "agency_contacts"), ("create", "agency_contacts")]
    assert "login" in {e["action"] for e in by_staff}
    assert {e["actor"] for e in by_staff} == {"staff"}
    assert {e["actor"] for e in audit(admin, action="create", object_type="agency_contacts")} == {"operator", "staff"}
    assert [e["actor"] for e in audit(admin, action="update", object_type="agency_contacts")] == ["staff"]
    since = audit(admin, since=between.isoformat(), object_type="agency_contacts")
    assert [(e["actor"], e["action"]) for e in since] == [("staff", "update"), ("staff", "create")]
    until = audit(admin, until=between.isoformat(), object_type="agency_contacts")
    assert [(e["actor"], e["action"]) for e in until] == [("operator", "create")]
    assert audit(admin, since=(between + timedelta(days=1)).isoformat()) == []
    assert audit(admin, actor="nobody") == []

    page = admin.client.get("/api/v1/audit?limit=2&offset=1&object_type=agency_contacts").json()
    assert page["total"] == 3
    assert [e["action"] for e in page["items"]] == ["create", "create"]


def test_the_audit_page_filters_like_the_api(login) -> None:
    operator, admin = login("operator"), login("admin")
    operator.api("POST", "/api/v1/contacts", json={"agency_id": SYT, "name": "Người trực đêm"})
    page = admin.client.get("/console/audit?actor=operator&action=create&object_type=agency_contacts")
    assert page.status_code == 200
    rows = _table_rows(page.text)
    assert len(rows) == 1
    assert "operator" in rows[0]
    assert "agency_contacts" in rows[0]
    assert "Người trực đêm" in rows[0]  # values shown as written, not as \u escapes
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    empty = admin.client.get("/console/audit", params={"actor": "operator", "since": later})
    assert empty.status_code == 200
    assert "agency_contacts" not in "".join(_table_rows(empty.text))


def _table_rows(html: str) -> list[str]:
    body = html.split('data-testid="audit-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in body.split("<tr")[1:] if 'colspan="6"' not in row]


@pytest.mark.parametrize("username", ["operator", "staff", "clerk", "viewer"])
def test_only_administrators_read_the_audit_log(login, client: TestClient, token, username: str) -> None:
    browser = login(username)
    response = browser.client.get("/api/v1/audit")
    assert response.status_code == 403
    assert problem_code(response) == "permission-denied"
    assert client.get("/api/v1/audit", headers={"Authorization": f"Bearer {token(username)}"}).status_code == 403
    page = browser.client.get("/console/audit", follow_redirects=False)
    assert page.status_code == 403
    assert 'data-error-code="permission-denied"' in page.text


def test_a_token_without_the_audit_scope_cannot_read_the_audit_log(client: TestClient, token) -> None:
    secret = token("admin", scopes=["contacts:read"])
    response = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403


def test_secrets_never_reach_the_audit_log(app, login, client: TestClient) -> None:
    admin = login("admin")
    password, new_password = "Mat-Khau-Ban-Dau-77", "Mat-Khau-Moi-88"
    created = admin.api("POST", "/api/v1/users", json={"username": "an.nguyen", "password": password,
                                                        "role": "agency_staff", "agency_id": SXD})
    user_id = created.json()["id"]
    admin.api("POST", f"/api/v1/users/{user_id}/password", json={"password": new_password})
    csrf = csrf_from(client)
    client.post("/login", data={"username": "an.nguyen", "password": new_password, "csrf_token": csrf})
    secret = client.post("/api/v1/tokens", json={"name": "sync"},
                         headers={"X-CSRF-Token": csrf}).json()["token"]

    with app.state.session_factory() as session:
        from sqlalchemy import select

        from saola.core.audit.models import AuditEntry
        from saola.core.auth.models import ApiToken, BrowserSession, User

        rows = session.scalars(select(AuditEntry)).all()
        hashes = [*session.scalars(select(User.password_hash)), *session.scalars(select(ApiToken.token_hash)),
                  *session.scalars(select(BrowserSession.token_hash))]
    dumped = json.dumps([[r.actor, r.action, r.object_id, r.before, r.after] for r in rows], ensure_ascii=False)
    for value in (password, new_password, DEMO_PASSWORD, secret, *hashes):
        assert value not in dumped
    assert "$argon2" not in dumped
    [change] = [r for r in rows if r.action == "update" and r.object_id == str(user_id)
                and r.object_type == "users" and "password_hash" in (r.after or {})]
    assert change.before == change.after == {"password_hash": "(changed)"}  # that it changed, never what to
    [token_row] = [r for r in rows if r.object_type == "api_tokens" and r.action == "create"]
    assert "token_hash" not in token_row.after
