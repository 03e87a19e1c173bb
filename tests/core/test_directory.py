"""Agencies and agency contacts through the API and the console pages, agency scoping, translations.

Seeded agencies: IOC (1), SXD (2), SYT (3), TTPVHCC (4); staff and viewer belong to SXD, staff2
to SYT, operator to IOC (sees every agency), admin to none (sees every agency).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

import pytest
from sqlalchemy import event, func, select

from saola.core.directory import errors, pages
from saola.core.directory.models import AgencyContact
from saola.core.i18n import catalog
from tests.core.helpers import is_background_statement

SXD, SYT = 2, 3
PAGES = ["/console/directory", "/console/directory/2", "/console/units", "/console/contacts"]


def _bearer(token, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(username)}"}


@pytest.fixture
def contacts(client, token) -> dict[str, int]:
    """One contact of SXD and one of SYT, created by the administrator."""
    admin = _bearer(token, "admin")
    made = {}
    for key, agency_id, name in (("sxd", SXD, "Nguyễn Văn Xây"), ("syt", SYT, "Trần Thị Y")):
        r = client.post("/api/v1/contacts", headers=admin,
                        json={"agency_id": agency_id, "name": name, "phone": "0222 3822 100", "on_duty": True})
        assert r.status_code == 201, r.text
        made[key] = r.json()["id"]
    return made


def _count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(AgencyContact))


# --- agencies -------------------------------------------------------------------


def test_agencies_can_be_searched_without_accents(client, token) -> None:
    r = client.get("/api/v1/agencies", params={"q": "so xay dung"}, headers=_bearer(token, "viewer"))
    assert r.status_code == 200
    assert [a["code"] for a in r.json()] == ["SXD"]
    assert len(client.get("/api/v1/agencies", params={"kind": "police"}, headers=_bearer(token, "viewer")).json()) == 0


def test_unknown_agency_is_not_found(client, token) -> None:
    r = client.get("/api/v1/agencies/999", headers=_bearer(token, "viewer"))
    assert r.status_code == 404
    assert r.json()["code"] == "unknown-agency"


# --- contacts through the API ------------------------------------------------------


def test_staff_sees_only_their_own_agencys_contacts(client, token, contacts) -> None:
    listed = client.get("/api/v1/contacts", headers=_bearer(token, "staff")).json()
    assert [c["id"] for c in listed] == [contacts["sxd"]]
    assert client.get("/api/v1/contacts", params={"agency_id": SYT}, headers=_bearer(token, "staff")).json() == []


def test_staff_cannot_read_change_or_delete_another_agencys_contact(client, token, contacts, db) -> None:
    h = _bearer(token, "staff")
    other = f"/api/v1/contacts/{contacts['syt']}"
    for response in (client.get(other, headers=h), client.patch(other, headers=h, json={"name": "Hacked"}),
                     client.delete(other, headers=h)):
        assert response.status_code == 404
        assert response.json()["code"] == "unknown-contact"
    assert db.get(AgencyContact, contacts["syt"]).name == "Trần Thị Y"


def test_staff_cannot_add_a_contact_for_another_agency(client, token, contacts, db) -> None:
    r = client.post("/api/v1/contacts", headers=_bearer(token, "staff"), json={"agency_id": SYT, "name": "Sneaky"})
    assert r.status_code == 403
    assert r.json()["code"] == "permission-denied"
    assert _count(db) == 2


@pytest.mark.parametrize("username", ["operator", "admin"])
def test_operator_and_admin_see_every_agencys_contacts(client, token, contacts, username: str) -> None:
    h = _bearer(token, username)
    assert {c["id"] for c in client.get("/api/v1/contacts", headers=h).json()} == set(contacts.values())
    assert client.get(f"/api/v1/contacts/{contacts['syt']}", headers=h).status_code == 200


def test_viewer_cannot_change_contacts(client, token, contacts, db) -> None:
    h = _bearer(token, "viewer")
    assert client.get(f"/api/v1/contacts/{contacts['sxd']}", headers=h).status_code == 200
    r = client.post("/api/v1/contacts", headers=h, json={"agency_id": SXD, "name": "Viewer"})
    assert r.status_code == 403
    assert r.json()["code"] == "permission-denied"
    assert client.delete(f"/api/v1/contacts/{contacts['sxd']}", headers=h).status_code == 403
    assert _count(db) == 2


def test_staff_manages_their_own_agencys_contacts(client, token) -> None:
    h = _bearer(token, "staff")
    made = client.post("/api/v1/contacts", headers=h, json={"agency_id": SXD, "name": "Lê Văn Trực"})
    assert made.status_code == 201
    url = f"/api/v1/contacts/{made.json()['id']}"
    changed = client.patch(url, headers=h, json={"on_duty": True, "phone": "0912 345 678"})
    assert (changed.status_code, changed.json()["on_duty"]) == (200, True)
    assert client.delete(url, headers=h).status_code == 204
    assert client.get(url, headers=h).status_code == 404


def test_invalid_contact_is_refused_and_nothing_is_saved(client, token, db) -> None:
    h = _bearer(token, "staff")
    for body in ({"agency_id": SXD, "name": ""}, {"agency_id": SXD, "name": "A", "phone": "call me"},
                 {"agency_id": SXD, "name": "A", "agency": "x"}):
        r = client.post("/api/v1/contacts", headers=h, json=body)
        assert r.status_code == 422
        assert r.json()["code"] == "validation-failed"
    assert _count(db) == 0


def test_browser_session_writes_need_the_csrf_token(login, db) -> None:
    browser = login("staff")
    refused = browser.client.post("/api/v1/contacts", json={"agency_id": SXD, "name": "No token"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf-failed"
    assert browser.api("POST", "/api/v1/contacts", json={"agency_id": SXD, "name": "With token"}).status_code == 201
    assert _count(db) == 1


# --- console pages -----------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, "/console/contacts/1", "/console/units/2025/24"])
def test_directory_pages_send_anonymous_users_to_sign_in(client, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(("lang", "heading"), [("vi", "Danh bạ liên hệ"), ("en", "Contacts")])
def test_directory_pages_render_for_staff_in_both_languages(login, lang: str, heading: str) -> None:
    browser = login("staff")
    for path in PAGES:
        page = browser.client.get(path, params={"lang": lang})
        assert page.status_code == 200, (path, page.text[:300])
        assert page.headers["content-language"] == lang
    assert f"<h1>{heading}</h1>" in browser.client.get("/console/contacts", params={"lang": lang}).text


def test_agency_list_filters_by_kind_and_name(login) -> None:
    browser = login("viewer")
    page = browser.client.get("/console/directory", params={"q": "y te"})
    assert 'data-agency="SYT"' in page.text
    assert 'data-agency="SXD"' not in page.text
    assert 'data-agency="IOC"' in browser.client.get("/console/directory", params={"kind": "department"}).text


def test_agency_page_shows_contacts_only_to_those_who_may_see_them(login, contacts) -> None:
    staff = login("staff")
    own = staff.client.get(f"/console/directory/{SXD}")
    assert "Nguyễn Văn Xây" in own.text
    other = staff.client.get(f"/console/directory/{SYT}")
    assert other.status_code == 200
    assert "Trần Thị Y" not in other.text
    assert 'data-testid="contacts-private"' in other.text
    assert "Trần Thị Y" in login("operator").client.get(f"/console/directory/{SYT}").text


def test_contacts_page_lists_only_the_contacts_the_user_may_see(login, contacts) -> None:
    staff = login("staff").client.get("/console/contacts").text
    assert f'data-contact="{contacts["sxd"]}"' in staff
    assert f'data-contact="{contacts["syt"]}"' not in staff
    everyone = login("operator").client.get("/console/contacts").text
    assert f'data-contact="{contacts["syt"]}"' in everyone


def test_staff_adds_edits_and_deletes_a_contact_in_the_console(login, db) -> None:
    browser = login("staff")
    added = browser.post_form("/console/contacts", {"agency_id": str(SXD), "name": "Phạm Trực Ban",
                                                    "phone": "0222 111 222", "on_duty": "true"},
                              follow_redirects=False)
    assert added.status_code == 303
    listing = browser.client.get(added.headers["location"])
    assert "Phạm Trực Ban" in listing.text
    assert 'data-testid="notice"' in listing.text
    contact = db.scalar(select(AgencyContact).where(AgencyContact.name == "Phạm Trực Ban"))
    assert (contact.agency_id, contact.on_duty) == (SXD, True)
    assert browser.client.get(f"/console/contacts/{contact.id}").status_code == 200
    saved = browser.post_form(f"/console/contacts/{contact.id}", {"name": "Phạm Trực Ban", "position": "Trưởng ca"},
                              follow_redirects=False)
    assert saved.status_code == 303
    db.expire_all()
    assert (db.get(AgencyContact, contact.id).position, db.get(AgencyContact, contact.id).on_duty) == ("Trưởng ca",
                                                                                                      False)
    assert browser.post_form(f"/console/contacts/{contact.id}/delete", {}, follow_redirects=False).status_code == 303
    assert _count(db) == 0


def test_console_refuses_contacts_of_another_agency(login, contacts, db) -> None:
    browser = login("staff")
    other = contacts["syt"]
    assert browser.post_form("/console/contacts", {"agency_id": str(SYT), "name": "Sneaky"}).status_code == 403
    assert browser.client.get(f"/console/contacts/{other}").status_code == 404
    assert browser.post_form(f"/console/contacts/{other}", {"name": "Hacked"}).status_code == 404
    assert browser.post_form(f"/console/contacts/{other}/delete", {}).status_code == 404
    assert _count(db) == 2
    assert db.get(AgencyContact, other).name == "Trần Thị Y"


def test_viewer_gets_no_contact_forms(login, contacts, db) -> None:
    browser = login("viewer")
    page = browser.client.get("/console/contacts")
    assert page.status_code == 200
    assert 'data-testid="add-contact"' not in page.text
    assert browser.post_form("/console/contacts", {"agency_id": str(SXD), "name": "Viewer"}).status_code == 403
    assert browser.post_form(f"/console/contacts/{contacts['sxd']}/delete", {}).status_code == 403
    assert _count(db) == 2


@pytest.mark.parametrize("form", [{"name": ""}, {"name": "A", "phone": "call me"}, {"name": "A", "agency_id": "x"},
                                  {"name": "A" * 121}])
def test_bad_contact_form_is_refused_and_changes_nothing(login, db, form: dict[str, str]) -> None:
    browser = login("staff")
    r = browser.post_form("/console/contacts", {"agency_id": str(SXD), **form})
    assert r.status_code == 422
    assert 'data-error-code="validation-failed"' in r.text
    assert _count(db) == 0


def test_contact_form_without_csrf_token_is_refused(login, db) -> None:
    browser = login("staff")
    r = browser.client.post("/console/contacts", data={"agency_id": str(SXD), "name": "No token"})
    assert r.status_code == 403
    assert _count(db) == 0


# --- translations ---------------------------------------------------------------


def _template_messages() -> set[str]:
    folder = resources.files("saola.web").joinpath("templates", "directory")
    found: set[str] = set()
    for entry in folder.iterdir():
        if entry.name.endswith(".html"):
            found |= {m.group(2) for m in re.finditer(r"""_\(\s*(["'])(.*?)\1""", entry.read_text("utf-8"))}
    return found


def test_every_directory_message_has_a_vietnamese_translation() -> None:
    python_side = {*pages.AGENCY_KINDS.values(), *pages.LEVELS.values(), *pages.EDITIONS.values(),
                   *pages.NOTICES.values(), "Agencies", "Administrative units", "Contacts",
                   errors.UnknownAgency.title, errors.UnknownUnit.title, errors.UnknownContact.title,
                   "No ward or commune was recognised in this address"}
    messages = _template_messages() | python_side
    assert len(messages) > 50
    vi = catalog("vi")
    missing = sorted(m for m in messages if not vi.get(m))
    assert missing == []


# --- query counts ------------------------------------------------------------------


@contextmanager
def _counting(engine) -> Iterator[list[int]]:
    count = [0]

    def _count_statement(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not is_background_statement(statement):
            count[0] += 1

    event.listen(engine, "before_cursor_execute", _count_statement)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", _count_statement)


def test_contact_lists_cost_the_same_queries_however_many_contacts(app, login, client, token) -> None:
    admin = _bearer(token, "admin")
    browser = login("operator")

    def add(agency_id: int) -> None:
        r = client.post("/api/v1/contacts", headers=admin, json={"agency_id": agency_id, "name": f"C{agency_id}"})
        assert r.status_code == 201

    add(SXD)
    browser.client.get("/console/contacts")  # warm-up (caches, lazy imports)
    with _counting(app.state.engine) as few:
        assert browser.client.get("/console/contacts").status_code == 200
        assert browser.client.get("/api/v1/contacts").status_code == 200
    for agency_id in (1, SYT, 4, SYT, SXD):
        add(agency_id)
    with _counting(app.state.engine) as many:
        assert browser.client.get("/console/contacts").status_code == 200
        assert browser.client.get("/api/v1/contacts").status_code == 200
    assert many[0] == few[0]
