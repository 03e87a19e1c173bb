"""Vietnamese first, English too: every message has its Vietnamese text, and the language follows the request.

The catalogue checks read the whole ``saola`` package (every template of every package, every
error class, every navigation entry), so a module added later is held to the same rule.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import saola
from saola.core.auth.permissions import PERMISSIONS, ROLE_NAMES
from saola.core.errors import DomainError
from saola.core.i18n import catalog, choose_language, format_day, format_dt, format_number, parse_accept_language

SRC = Path(saola.__file__).parent
# _("...") or _('...') in a template; the literal is the message id.
TEMPLATE_MESSAGE = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
SKIP_MODULES = ("saola.core.migrations",)


def _import_everything() -> None:
    """Import every module of ``saola`` so that every error class and navigation entry exists."""
    for info in pkgutil.walk_packages(saola.__path__, "saola."):
        if not info.name.startswith(SKIP_MODULES):
            importlib.import_module(info.name)


def _template_messages() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.html"):
        if "templates" not in path.parts:
            continue
        for match in TEMPLATE_MESSAGE.finditer(path.read_text("utf-8")):
            message = match.group(1) if match.group(1) is not None else match.group(2)
            found.setdefault(message, set()).add(str(path.relative_to(SRC)))
    return found


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def _untranslated(messages: object) -> list[str]:
    vi = catalog("vi")
    return sorted(m for m in messages if not vi.get(m))  # type: ignore[attr-defined]


def test_templates_are_found() -> None:
    messages = _template_messages()
    assert "Sign in" in messages
    assert len(messages) > 50


def test_every_template_message_has_a_vietnamese_translation() -> None:
    messages = _template_messages()
    missing = _untranslated(messages)
    assert not missing, "No Vietnamese for: " + "; ".join(f"{m!r} ({', '.join(sorted(messages[m]))})"
                                                          for m in missing)


def test_every_error_title_has_a_vietnamese_translation() -> None:
    _import_everything()
    errors = [cls for cls in _subclasses(DomainError) if cls.__module__.startswith("saola.")]
    assert len(errors) > 10
    titles = {cls.title: cls for cls in errors} | {DomainError.title: DomainError}
    missing = _untranslated(titles)
    assert not missing, "No Vietnamese for error titles: " + "; ".join(
        f"{t!r} ({titles[t].__module__}.{titles[t].__name__})" for t in missing)


def test_every_navigation_entry_has_a_vietnamese_label() -> None:
    _import_everything()
    from saola.web.templating import registered_nav

    labels = {item.label for item in registered_nav()}
    assert {"Home", "Overview", "Users", "Audit log"} <= labels
    assert not _untranslated(labels)


def test_role_names_and_permission_descriptions_are_translated() -> None:
    assert not _untranslated(ROLE_NAMES.values())
    assert not _untranslated(PERMISSIONS.values())


def test_translations_keep_their_placeholders() -> None:
    def fields(text: str) -> set[str]:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}

    wrong = {msgid: text for msgid, text in catalog("vi").items() if fields(msgid) != fields(text)}
    assert not wrong


def test_catalogues_are_valid_po_files() -> None:
    from babel.messages.pofile import read_po

    folder = resources.files("saola.core.locales").joinpath("vi")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".po"))
    assert {"core.po", "web.po"} <= set(names)
    for name in names:
        with folder.joinpath(name).open("rb") as fh:
            po = read_po(fh, locale="vi", abort_invalid=True)
        assert not [m.id for m in po if m.id and m.fuzzy], f"fuzzy entries in {name}"


# --- choosing the language -----------------------------------------------------------


@pytest.mark.parametrize(("header", "expected"), [
    ("en-GB,en;q=0.9", "en"),
    ("fr-FR, vi;q=0.8, en;q=0.5", "vi"),
    ("vi;q=0.2, en;q=0.9", "en"),
    ("de, fr", None),
    ("en;q=0", None),
    ("", None),
])
def test_accept_language_is_parsed_by_quality(header: str, expected: str | None) -> None:
    assert parse_accept_language(header) == expected


def test_language_is_chosen_in_order() -> None:
    assert choose_language(None, None, None, None, default="vi") == "vi"
    assert choose_language("en", "vi", None, None, default="vi") == "en"
    assert choose_language("xx", None, "en", "vi", default="vi") == "en"


def test_vietnamese_is_the_default_language_of_pages(client: TestClient) -> None:
    page = client.get("/login")
    assert '<html lang="vi">' in page.text
    assert "Đăng nhập bảng điều khiển cán bộ" in page.text
    assert page.headers["content-language"] == "vi"


def test_accept_language_and_query_switch_the_page(client: TestClient) -> None:
    en = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in en.text
    assert "Sign in to the staff console" in en.text
    assert en.headers["content-language"] == "en"
    back = client.get("/login?lang=vi", headers={"Accept-Language": "en"})
    assert "Đăng nhập bảng điều khiển cán bộ" in back.text
    forced = client.get("/login?lang=en")
    assert "Sign in to the staff console" in forced.text


def test_language_cookie_wins_over_the_browser(client: TestClient) -> None:
    client.cookies.set("saola_lang", "en")
    assert "Sign in to the staff console" in client.get("/login", headers={"Accept-Language": "vi"}).text


def test_users_preference_is_used_when_nothing_else_says(login) -> None:
    browser = login("viewer")
    browser.post_form("/console/account", {"full_name": "Viewer", "language": "en"})
    browser.client.cookies.delete("saola_lang")  # e.g. another browser: only the saved preference is left
    page = browser.client.get("/console")
    assert '<html lang="en">' in page.text
    assert "Overview" in page.text


def test_problem_json_follows_the_language(client: TestClient) -> None:
    vi = client.get("/api/v1/me")
    assert vi.status_code == 401
    assert vi.headers["content-type"].startswith("application/problem+json")
    assert vi.json()["code"] == "not-authenticated"
    assert vi.json()["title"] == "Cần đăng nhập"
    en = client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert en.json()["title"] == "Sign-in required"
    assert en.json()["code"] == "not-authenticated"
    assert client.get("/api/v1/me?lang=en").json()["title"] == "Sign-in required"
    assert client.get("/api/v1/me?lang=vi", headers={"Accept-Language": "en"}).json()["title"] == "Cần đăng nhập"


def test_domain_error_detail_is_translated_in_problem_json(client: TestClient, token) -> None:
    secret = token("viewer")
    r = client.get("/api/v1/users", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 403
    assert r.json()["title"] == "Bạn không có quyền thực hiện thao tác này"
    r = client.get("/api/v1/users", headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"})
    assert r.json()["title"] == "You do not have permission to do this"


# --- Vietnamese formats ----------------------------------------------------------------


def test_vietnamese_numbers_use_dot_thousands_and_decimal_comma() -> None:
    assert format_number(1234567, "vi") == "1.234.567"
    assert format_number(4718.6, "vi", 1) == "4.718,6"
    assert format_number(4718.6, "en", 1) == "4,718.6"
    assert format_number(None, "vi") == ""


def test_vietnamese_dates_are_day_month_year_in_local_time() -> None:
    moment = datetime(2026, 11, 24, 7, 5, tzinfo=UTC)  # 14:05 in Hà Nội
    assert format_dt(moment, "vi") == "24/11/2026 14:05"
    assert format_dt(moment, "vi", fmt="long") == "24/11/2026 14:05:00"
    assert format_day(date(2026, 9, 2), "vi") == "02/09/2026"
    assert "Sept" in format_day(date(2026, 9, 2), "en") or "Sep" in format_day(date(2026, 9, 2), "en")


def test_template_filters_format_the_vietnamese_way(app) -> None:
    from saola.web.templating import _env

    template = _env().from_string("{{ n|num }} · {{ x|num(1) }} · {{ d|day }} · {{ t|dt }}")
    values = {"n": 1234567, "x": 4718.6, "d": date(2026, 9, 2), "t": datetime(2026, 11, 24, 7, 5, tzinfo=UTC),
              "settings": app.state.settings}
    assert template.render(lang="vi", **values) == "1.234.567 · 4.718,6 · 02/09/2026 · 24/11/2026 14:05"
    assert template.render(lang="en", **values).startswith("1,234,567 · 4,718.6 · ")
