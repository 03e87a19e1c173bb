"""The web shell through HTTP: portal, sign-in, console overview, my account, user administration."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_PASSWORD, USERS, Browser, csrf_from

ROLES_OF = {username: role for username, role, _agency in USERS}
USER_ADMIN_PAGES = ("/console/users",)


def _user_id(browser: Browser, username: str) -> int:
    users = browser.api("GET", "/api/v1/users").json()
    return next(u["id"] for u in users if u["username"] == username)


def _usernames(browser: Browser) -> list[str]:
    return sorted(u["username"] for u in browser.api("GET", "/api/v1/users").json())


def _can_sign_in(app, username: str, password: str) -> bool:
    with TestClient(app, base_url="http://127.0.0.1") as c:
        csrf = csrf_from(c)
        r = c.post("/login", data={"username": username, "password": password, "csrf_token": csrf},
                   follow_redirects=False)
        return r.status_code == 303


def _error_code(page: str) -> str | None:
    match = re.search(r'data-error-code="([^"]+)"', page)
    return match.group(1) if match else None


def _form_error_code(page: str) -> str | None:
    match = re.search(r'data-testid="form-error" data-code="([^"]+)"', page)
    return match.group(1) if match else None


def _figure(page: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">.*?<span class="tile-value">([^<]*)</span>', page, re.S)
    assert match, f"no tile {name}"
    return match.group(1)


# --- public pages and sign-in ----------------------------------------------------


def test_portal_is_public_and_vietnamese_by_default(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert page.headers["content-language"] == "vi"
    assert "Cổng thông tin công dân" in page.text
    assert 'data-saola-map' in page.text
    assert 'class="portal"' in page.text  # the portal look, not the console's


@pytest.mark.parametrize("path", ["/console", "/console/account", "/console/users", "/console/users/1?x=1"])
def test_anonymous_visitor_is_sent_to_sign_in_and_back(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path]


def test_sign_in_form_leads_to_the_page_asked_for(client: TestClient) -> None:
    csrf = csrf_from(client, "/login?next=/console/account")
    response = client.post("/login", data={"username": "viewer", "password": DEMO_PASSWORD, "csrf_token": csrf,
                                           "next": "/console/account"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/account"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(client: TestClient, target: str) -> None:
    csrf = csrf_from(client)
    response = client.post("/login", data={"username": "viewer", "password": DEMO_PASSWORD, "csrf_token": csrf,
                                           "next": target}, follow_redirects=False)
    assert response.headers["location"] == "/console"


def test_wrong_password_shows_the_form_again_with_the_error(client: TestClient) -> None:
    csrf = csrf_from(client)
    response = client.post("/login", data={"username": "viewer", "password": "wrong-pass", "csrf_token": csrf})
    assert response.status_code == 401
    assert 'data-testid="login-error"' in response.text
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.text


# --- console shell and overview --------------------------------------------------------


@pytest.mark.parametrize("username", [u for u, _r, _a in USERS])
def test_console_pages_render_for_each_role(login, username: str) -> None:
    browser = login(username)
    for path in ("/console", "/console/account"):
        page = browser.client.get(path)
        assert page.status_code == 200, path
        assert 'class="console"' in page.text
    allowed = ROLES_OF[username] in ("admin", "operator")  # users:read
    for path in USER_ADMIN_PAGES:
        page = browser.client.get(path)
        assert page.status_code == (200 if allowed else 403), (username, path)
        if not allowed:
            assert _error_code(page.text) == "permission-denied"
            assert "Bạn không có quyền thực hiện thao tác này" in page.text
    # the navigation lists only what the role may open
    home = browser.client.get("/console").text
    assert ('href="/console/users"' in home) == allowed
    assert ('href="/console/audit"' in home) == (ROLES_OF[username] == "admin")


def test_user_menu_shows_name_role_and_agency(login) -> None:
    page = login("operator").client.get("/console").text
    menu = page[page.index('data-testid="user-menu"'):]
    assert "Operator" in menu
    assert "Điều hành viên IOC" in menu
    assert "IOC" in menu
    assert 'href="/console/account"' in menu
    assert 'data-testid="logout"' in menu


def test_overview_figures_are_counted_from_the_database(login) -> None:
    admin = login("admin")
    page = admin.client.get("/console").text
    assert _figure(page, "active-users") == str(len(USERS))
    assert _figure(page, "agencies") == "4"
    assert int(_figure(page, "audit-today")) >= 1  # at least this sign-in
    admin.api("POST", "/api/v1/users", json={"username": "new.clerk", "password": "long-enough-1",
                                             "role": "clerk", "agency_id": 4})
    admin.api("PATCH", f"/api/v1/users/{_user_id(admin, 'viewer')}", json={"active": False})
    page = admin.client.get("/console").text
    assert _figure(page, "active-users") == str(len(USERS))  # one more, one fewer
    assert 'data-figure="audit-today"' not in login("operator").client.get("/console").text


def test_offline_map_layers_are_served(client: TestClient) -> None:
    for name in ("provinces", "province", "wards"):
        r = client.get(f"/geo/{name}.geojson")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/geo+json")
        assert r.json()["type"] == "FeatureCollection"
    assert client.get("/geo/secret.txt").status_code == 404


# --- my account ---------------------------------------------------------------------


def test_my_details_and_language_are_saved(login) -> None:
    browser = login("clerk")
    r = browser.post_form("/console/account", {"full_name": "Nguyễn Thị Lan", "email": "lan@example.vn",
                                               "phone": "0222 3 822 000", "language": "en"})
    assert r.status_code == 200
    assert "Your details were saved" in r.text
    assert '<html lang="en">' in r.text
    me = browser.api("GET", "/api/v1/me").json()
    assert (me["full_name"], me["email"], me["language"]) == ("Nguyễn Thị Lan", "lan@example.vn", "en")


def test_changing_my_password_needs_the_current_one(app, login) -> None:
    browser = login("staff")
    other = login("staff")
    r = browser.post_form("/console/account/password", {"current_password": "not-my-password",
                                                        "new_password": "a-new-secret-1",
                                                        "confirm_password": "a-new-secret-1"})
    assert r.status_code == 400
    assert _form_error_code(r.text) == "bad-request"
    assert "Mật khẩu hiện tại không đúng" in r.text
    assert _can_sign_in(app, "staff", DEMO_PASSWORD)

    r = browser.post_form("/console/account/password", {"current_password": DEMO_PASSWORD,
                                                        "new_password": "1234567890",
                                                        "confirm_password": "1234567890"})
    assert r.status_code == 400
    assert _form_error_code(r.text) == "weak-password"
    assert _can_sign_in(app, "staff", DEMO_PASSWORD)

    r = browser.post_form("/console/account/password", {"current_password": DEMO_PASSWORD,
                                                        "new_password": "a-new-secret-1",
                                                        "confirm_password": "a-new-secret-1"},
                          follow_redirects=False)
    assert r.status_code == 303
    assert browser.client.get("/api/v1/me").status_code == 200  # this browser stays signed in
    assert other.client.get("/api/v1/me").status_code == 401  # the other session was ended
    assert not _can_sign_in(app, "staff", DEMO_PASSWORD)
    assert _can_sign_in(app, "staff", "a-new-secret-1")


def test_token_secret_is_shown_once_and_works_as_bearer(login, client: TestClient) -> None:
    browser = login("staff")
    r = browser.post_form("/console/account/tokens", {"name": "lighting import", "scopes": ["contacts:read"]})
    assert r.status_code == 201
    secret = re.search(r'data-testid="token-secret">([^<]+)<', r.text).group(1)
    assert secret.startswith("saola_")
    assert secret not in browser.client.get("/console/account").text  # shown once
    bearer = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/v1/me", headers=bearer).json()
    assert (me["username"], me["permissions"]) == ("staff", ["contacts:read"])
    assert client.post("/api/v1/contacts", headers=bearer, json={"agency_id": 2, "name": "A"}).status_code == 403

    token_id = browser.api("GET", "/api/v1/tokens").json()[0]["id"]
    r = browser.post_form(f"/console/account/tokens/{token_id}/revoke", {}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_token_beyond_my_role_is_refused(login) -> None:
    browser = login("viewer")
    r = browser.post_form("/console/account/tokens", {"name": "x", "scopes": ["users:manage"]})
    assert r.status_code == 400
    assert _form_error_code(r.text) == "scope-not-allowed"
    assert browser.api("GET", "/api/v1/tokens").json() == []


# --- user administration -------------------------------------------------------------


NEW_USER = {"username": "tran.van.b", "password": "mat-khau-dai", "role": "agency_staff", "agency_id": "2",
            "full_name": "Trần Văn B", "email": "b@example.vn", "phone": ""}


def test_admin_creates_a_user_through_the_form(app, login) -> None:
    admin = login("admin")
    r = admin.post_form("/console/users", NEW_USER, follow_redirects=False)
    assert r.status_code == 303
    assert re.fullmatch(r"/console/users/\d+\?done=user-created", r.headers["location"])
    page = admin.client.get(r.headers["location"])
    assert "Đã tạo người dùng" in page.text
    assert "Trần Văn B" in page.text
    assert _can_sign_in(app, "tran.van.b", "mat-khau-dai")


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"password": "short"}, 400, "weak-password"),
    ({"username": "staff"}, 409, "user-exists"),
    ({"agency_id": ""}, 400, "agency-required"),
    ({"role": "mayor"}, 400, "unknown-role"),
    ({"username": "Bad Name!"}, 400, "bad-request"),
    ({"agency_id": "99999"}, 400, "bad-request"),
])
def test_a_rejected_new_user_is_shown_in_the_form_and_changes_nothing(
    login, change: dict[str, str], status: int, code: str
) -> None:
    admin = login("admin")
    before = _usernames(admin)
    r = admin.post_form("/console/users", {**NEW_USER, **change})
    assert r.status_code == status
    assert _form_error_code(r.text) == code
    assert 'data-testid="create-user-form"' in r.text
    assert f'value="{NEW_USER["full_name"]}"' in r.text  # what was typed is kept
    assert _usernames(admin) == before


def test_operator_may_list_users_but_not_change_them(login) -> None:
    operator = login("operator")
    page = operator.client.get("/console/users")
    assert page.status_code == 200
    assert 'data-testid="create-user-form"' not in page.text
    assert "clerk" in page.text
    r = operator.post_form("/console/users", NEW_USER)
    assert r.status_code == 403
    viewer_id = _user_id(operator, "viewer")
    assert operator.client.get(f"/console/users/{viewer_id}").status_code == 200
    assert operator.post_form(f"/console/users/{viewer_id}/active", {"active": "0"}).status_code == 403


def test_admin_changes_role_agency_and_details(login) -> None:
    admin = login("admin")
    uid = _user_id(admin, "viewer")
    r = admin.post_form(f"/console/users/{uid}", {"role": "clerk", "agency_id": "4", "full_name": "Lê Thị C",
                                                  "email": "c@example.vn", "phone": "0912"})
    assert r.status_code == 200
    assert "Đã lưu thay đổi" in r.text
    user = admin.api("GET", f"/api/v1/users/{uid}").json()
    assert (user["role"], user["agency_id"], user["full_name"]) == ("clerk", 4, "Lê Thị C")

    r = admin.post_form(f"/console/users/{uid}", {"role": "nobody", "agency_id": "4", "full_name": "X"})
    assert r.status_code == 400
    assert _form_error_code(r.text) == "unknown-role"
    assert admin.api("GET", f"/api/v1/users/{uid}").json()["full_name"] == "Lê Thị C"


def test_admin_disables_and_enables_a_user(app, login) -> None:
    admin = login("admin")
    staff = login("staff")
    uid = _user_id(admin, "staff")
    r = admin.post_form(f"/console/users/{uid}/active", {"active": "0"})
    assert r.status_code == 200
    assert "Đã vô hiệu hóa người dùng" in r.text
    assert staff.client.get("/api/v1/me").status_code == 401
    assert not _can_sign_in(app, "staff", DEMO_PASSWORD)
    admin.post_form(f"/console/users/{uid}/active", {"active": "1"})
    assert _can_sign_in(app, "staff", DEMO_PASSWORD)


def test_admin_cannot_disable_themself(login) -> None:
    admin = login("admin")
    r = admin.post_form(f"/console/users/{_user_id(admin, 'admin')}/active", {"active": "0"})
    assert r.status_code == 400
    assert admin.client.get("/api/v1/me").status_code == 200


def test_admin_resets_a_password(app, login) -> None:
    admin = login("admin")
    clerk = login("clerk")
    uid = _user_id(admin, "clerk")
    r = admin.post_form(f"/console/users/{uid}/password", {"password": "123", "confirm_password": "123"})
    assert r.status_code == 400
    assert _form_error_code(r.text) == "weak-password"
    assert "Mật khẩu phải có ít nhất 8 ký tự" in r.text
    assert clerk.client.get("/api/v1/me").status_code == 200

    r = admin.post_form(f"/console/users/{uid}/password", {"password": "mot-mat-khau-moi",
                                                           "confirm_password": "mot-mat-khau-moi"})
    assert r.status_code == 200
    assert clerk.client.get("/api/v1/me").status_code == 401
    assert not _can_sign_in(app, "clerk", DEMO_PASSWORD)
    assert _can_sign_in(app, "clerk", "mot-mat-khau-moi")


def test_unknown_user_page_is_a_friendly_404(login) -> None:
    page = login("admin").client.get("/console/users/987654")
    assert page.status_code == 404
    assert _error_code(page.text) == "unknown-user"
    assert "Không tìm thấy người dùng" in page.text


# --- CSRF -----------------------------------------------------------------------------


def test_forms_without_csrf_token_are_refused_and_change_nothing(app, login) -> None:
    admin = login("admin")
    uid = _user_id(admin, "viewer")
    attempts = [
        ("/console/users", NEW_USER),
        (f"/console/users/{uid}", {"role": "admin", "full_name": "Hacked"}),
        (f"/console/users/{uid}/active", {"active": "0"}),
        (f"/console/users/{uid}/password", {"password": "hacked-password", "confirm_password": "hacked-password"}),
        ("/console/account", {"full_name": "Hacked", "language": "en"}),
        ("/console/account/password", {"current_password": DEMO_PASSWORD, "new_password": "hacked-password",
                                       "confirm_password": "hacked-password"}),
        ("/console/account/tokens", {"name": "stolen"}),
        ("/logout", {}),
    ]
    before_users = admin.api("GET", "/api/v1/users").json()
    for url, data in attempts:
        r = admin.client.post(url, data=data)
        assert r.status_code == 403, url
        assert _error_code(r.text) == "csrf-failed", url
        r = admin.client.post(url, data={**data, "csrf_token": "forged"})
        assert r.status_code == 403, url
    assert admin.api("GET", "/api/v1/users").json() == before_users
    assert admin.api("GET", "/api/v1/tokens").json() == []
    assert _can_sign_in(app, "viewer", DEMO_PASSWORD)
    assert _can_sign_in(app, "admin", DEMO_PASSWORD)


# --- language switch and error pages ----------------------------------------------------


def test_anonymous_visitor_switches_language(client: TestClient) -> None:
    csrf = csrf_from(client, "/")
    r = client.post("/language", data={"lang": "en", "next": "/?lang=vi", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"  # a ?lang= in the page address would undo the choice
    page = client.get("/")
    assert '<html lang="en">' in page.text
    assert "Citizen portal" in page.text
    client.post("/language", data={"lang": "vi", "next": "/", "csrf_token": csrf})
    assert '<html lang="vi">' in client.get("/").text


def test_signed_in_language_choice_is_remembered_on_the_user(login) -> None:
    browser = login("viewer")
    r = browser.post_form("/language", {"lang": "en", "next": "/console"})
    assert r.status_code == 200
    assert "Overview" in r.text
    assert browser.api("GET", "/api/v1/me").json()["language"] == "en"


def test_error_pages_are_friendly_in_both_languages(app, client: TestClient) -> None:
    vi = client.get("/no-such-page")
    assert vi.status_code == 404
    assert "Không tìm thấy" in vi.text and "Quay lại" in vi.text
    en = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert "Not found" in en.text and "Go back" in en.text

    unauthorized = client.get("/console", headers={"Authorization": "Bearer saola_nope"})
    assert unauthorized.status_code == 401
    assert _error_code(unauthorized.text) == "not-authenticated"
    assert "Cần đăng nhập" in unauthorized.text

    invalid = client.get("/geo/x", params={"lang": "en"})
    assert invalid.status_code == 404

    async def boom() -> None:
        raise RuntimeError("kaput")

    app.add_api_route("/test-boom", boom)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        for lang, text in (("vi", "Lỗi hệ thống"), ("en", "Internal error")):
            page = c.get("/test-boom", headers={"Accept-Language": lang})
            assert page.status_code == 500
            assert text in page.text
            assert "kaput" not in page.text
            assert re.search(r"<code>[0-9a-f]{32}</code>", page.text)  # the request id, to quote to support


def test_validation_errors_get_a_friendly_422_page(login) -> None:
    admin = login("admin")
    page = admin.client.get("/console/users/not-a-number")
    assert page.status_code == 422
    assert _error_code(page.text) == "validation-failed"
    assert "Một số trường thông tin không hợp lệ" in page.text
    assert 'class="console"' in page.text  # a signed-in user stays in the console


def test_language_switch_on_a_page_answering_a_form_returns_to_the_form(login) -> None:
    browser = login("viewer")
    r = browser.post_form("/console/account/tokens", {"name": "x"},
                          headers={"Referer": "http://127.0.0.1/console/account"})
    assert r.status_code == 201
    language_form = r.text[r.text.index('data-testid="language-menu"'):]
    assert re.search(r'name="next" value="([^"]+)"', language_form).group(1) == "/console/account"
    r = browser.post_form("/language", {"lang": "en", "next": "/console/account"})
    assert r.status_code == 200
    assert "My account" in r.text
