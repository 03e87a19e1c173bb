"""Administrative units: loading them from the real source, successions, address resolution, pages.

The units are loaded once per module into a copy of the seeded template database (SQLite, and
PostgreSQL when configured); each test then gets its own copy of that, as elsewhere.
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from saola.core.db import make_engine, make_session_factory, unit_of_work
from saola.core.directory import service
from saola.core.directory.models import AdminUnit, UnitSuccession
from tests.conftest import _backends, pg_scratch_database

OLD_ADDRESS = "Phường Hoàng Văn Thụ, Thành phố Bắc Giang, Tỉnh Bắc Giang"


def _load_units(url: str) -> None:
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        service.load_units(session)
    engine.dispose()


@pytest.fixture(scope="module")
def units_sqlite_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("units") / "units.db"
    shutil.copyfile(sqlite_template, path)
    _load_units(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def units_pg_template(pg_template: str) -> Iterator[str]:
    with pg_scratch_database("saola_units", pg_template) as (name, url):
        _load_units(url)
        yield name


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The seeded test database with every administrative unit loaded (overrides the shared fixture)."""
    if request.param == "sqlite":
        path = tmp_path / "saola.db"
        shutil.copyfile(request.getfixturevalue("units_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    with pg_scratch_database("saola_t", request.getfixturevalue("units_pg_template")) as (_name, url):
        yield url


def _auth(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token('viewer')}"}


def _total(client, headers: dict[str, str], **params: str) -> int:
    response = client.get("/api/v1/units", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def _tone_style(name: str) -> str:
    """``Hoà`` and ``Hòa`` are the same name written in two tone-mark styles."""
    name = unicodedata.normalize("NFC", name)
    for new, old in (("oà", "òa"), ("oá", "óa"), ("oả", "ỏa"), ("oã", "õa"), ("oạ", "ọa"), ("uỳ", "ùy"),
                     ("uý", "úy"), ("uỷ", "ủy"), ("uỹ", "ũy"), ("uỵ", "ụy")):
        name = name.replace(new, old)
    return name


# --- loading -------------------------------------------------------------------


def test_loaded_units_count_34_provinces_3321_wards_and_99_in_bac_ninh(client, token) -> None:
    h = _auth(token)
    assert _total(client, h, level="province") == 34
    assert _total(client, h, level="ward") == 3321
    assert _total(client, h, level="ward", province_code="24") == 99
    assert _total(client, h, edition="legacy", level="province") == 63
    assert _total(client, h, edition="legacy", level="district") == 696
    assert _total(client, h, edition="legacy", level="ward") == 10035


def test_bac_ninh_wards_match_the_shipped_boundary_file(client, token) -> None:
    shipped = json.loads(resources.files("saola.data.geo").joinpath("bac_ninh_wards.geojson").read_text("utf-8"))
    expected = {f["properties"]["code"]: _tone_style(f["properties"]["fullName"]) for f in shipped["features"]}
    r = client.get("/api/v1/units", params={"province_code": "24", "level": "ward", "limit": 1000},
                   headers=_auth(token))
    loaded = {u["code"]: _tone_style(u["full_name"]) for u in r.json()["items"]}
    assert loaded == expected


def test_loading_units_again_adds_nothing(db) -> None:
    assert service.load_units(db) == service.UnitsLoaded(units=0, successions=0)
    db.rollback()


def test_every_former_bac_giang_and_bac_ninh_ward_became_part_of_province_24(db) -> None:
    former = set(db.scalars(select(AdminUnit.code).where(
        AdminUnit.edition == "legacy", AdminUnit.level == "ward", AdminUnit.province_code.in_(["24", "27"]))))
    mapped = set(db.scalars(
        select(UnitSuccession.former_code)
        .join(AdminUnit, (AdminUnit.code == UnitSuccession.current_code) & (AdminUnit.edition == "2025"))
        .where(UnitSuccession.former_code.in_(former), AdminUnit.province_code == "24")
    ))
    assert len(former) == 313
    assert former == mapped


# --- successions ---------------------------------------------------------------


def test_former_bac_giang_ward_shows_the_current_ward_it_became(client, token) -> None:
    r = client.get("/api/v1/units/legacy/07210", headers=_auth(token))
    assert r.status_code == 200
    body = r.json()
    assert body["unit"]["full_name"] == "Phường Hoàng Văn Thụ"
    assert body["unit"]["parent_code"] == "213"  # Thành phố Bắc Giang
    assert [(s["code"], s["full_name"], s["is_default"]) for s in body["successors"]] == [
        ("07210", "Phường Bắc Giang", True)
    ]
    assert body["successors"][0]["province_code"] == "24"


def test_former_bac_ninh_ward_shows_the_current_ward_it_became(client, token) -> None:
    body = client.get("/api/v1/units/legacy/09172", headers=_auth(token)).json()
    assert body["unit"]["province_code"] == "27"
    assert [(s["code"], s["full_name"]) for s in body["successors"]] == [("09187", "Phường Kinh Bắc")]


def test_divided_former_ward_lists_every_successor_default_first(client, token) -> None:
    body = client.get("/api/v1/units/legacy/31268", headers=_auth(token)).json()
    assert [(s["code"], s["is_default"]) for s in body["successors"]] == [("31288", True), ("31666", False)]


def test_current_ward_lists_the_former_wards_it_was_formed_from(client, token) -> None:
    body = client.get("/api/v1/units/2025/07210", headers=_auth(token)).json()
    assert body["unit"]["name_en"] == "Bac Giang Ward"
    names = {p["full_name"] for p in body["predecessors"]}
    assert names == {"Phường Thọ Xương", "Phường Ngô Quyền", "Phường Hoàng Văn Thụ", "Phường Trần Phú",
                     "Phường Xương Giang", "Phường Dĩnh Kế", "Phường Dĩnh Trì"}
    assert all(p["edition"] == "legacy" for p in body["predecessors"])


def test_editions_keep_codes_apart(client, token) -> None:
    h = _auth(token)
    assert client.get("/api/v1/units/legacy/24", headers=h).json()["unit"]["full_name"] == "Tỉnh Bắc Giang"
    assert client.get("/api/v1/units/2025/24", headers=h).json()["unit"]["full_name"] == "Tỉnh Bắc Ninh"
    missing = client.get("/api/v1/units/2025/99999", headers=h)
    assert missing.status_code == 404
    assert missing.json()["code"] == "unknown-unit"


def test_unit_search_ignores_accents_and_case(client, token) -> None:
    h = _auth(token)
    r = client.get("/api/v1/units", params={"q": "KINH bac", "province_code": "24"}, headers=h).json()
    assert [u["code"] for u in r["items"]] == ["09187"]
    assert client.get("/api/v1/units", params={"q": "100%_"}, headers=h).json()["total"] == 0


# --- address resolution ----------------------------------------------------------


@pytest.mark.parametrize("address", [OLD_ADDRESS, "phuong hoang van thu, tp bac giang, bac giang"])
def test_old_style_address_resolves_to_the_current_ward(client, token, address: str) -> None:
    r = client.get("/api/v1/units/resolve", params={"address": address}, headers=_auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matched_edition"] == "legacy"
    assert (body["ward"]["code"], body["ward"]["full_name"]) == ("07210", "Phường Bắc Giang")
    assert body["province"]["full_name"] == "Tỉnh Bắc Ninh"
    assert (body["former"]["edition"], body["former"]["code"]) == ("legacy", "07210")


def test_old_style_address_with_street_keeps_the_street(client, token) -> None:
    address = "12 Nguyễn Trãi, Phường Suối Hoa, Thành phố Bắc Ninh, Tỉnh Bắc Ninh"
    body = client.get("/api/v1/units/resolve", params={"address": address}, headers=_auth(token)).json()
    assert body["ward"]["full_name"] == "Phường Kinh Bắc"
    assert body["former"]["full_name"] == "Phường Suối Hoa"
    assert body["street"] == "12 Nguyễn Trãi"


def test_new_style_address_resolves_to_the_ward_it_names(client, token) -> None:
    body = client.get("/api/v1/units/resolve", params={"address": "Xã Lạng Giang, Tỉnh Bắc Ninh"},
                      headers=_auth(token)).json()
    assert body["matched_edition"] == "2025"
    assert body["ward"]["full_name"] == "Xã Lạng Giang"
    assert body["province"]["code"] == "24"
    assert body["former"] is None


def test_former_island_district_resolves_to_its_special_zone(client, token) -> None:
    body = client.get("/api/v1/units/resolve", params={"address": "Huyện Côn Đảo, Tỉnh Bà Rịa - Vũng Tàu"},
                      headers=_auth(token)).json()
    assert body["ward"]["full_name"] == "Đặc khu Côn Đảo"
    assert body["province"]["code"] == "79"


@pytest.mark.parametrize("address", ["không có chỗ này", "Hà Nội"])
def test_unresolvable_address_is_unknown_unit(client, token, address: str) -> None:
    r = client.get("/api/v1/units/resolve", params={"address": address}, headers=_auth(token))
    assert r.status_code == 404
    assert r.json()["code"] == "unknown-unit"


@pytest.mark.parametrize("params", [{}, {"address": ""}, {"address": "   "}, {"address": "x" * 301}])
def test_empty_or_too_long_address_is_refused(client, token, params: dict[str, str]) -> None:
    r = client.get("/api/v1/units/resolve", params=params, headers=_auth(token))
    assert r.status_code == 422
    assert r.json()["code"] == "validation-failed"


def test_resolving_needs_sign_in(client) -> None:
    assert client.get("/api/v1/units/resolve", params={"address": OLD_ADDRESS}).status_code == 401


# --- pages and command line ----------------------------------------------------------


def test_units_page_finds_units_without_accents(login) -> None:
    browser = login("viewer")
    page = browser.client.get("/console/units", params={"q": "bac giang", "province": "24"})
    assert page.status_code == 200
    assert 'data-unit="2025/07210"' in page.text
    assert "Phường Bắc Giang" in page.text
    former = browser.client.get("/console/units", params={"edition": "legacy", "q": "hoang van thu", "province": "24"})
    assert 'data-unit="legacy/07210"' in former.text


def test_former_ward_page_shows_its_parents_and_the_ward_it_became(login) -> None:
    browser = login("staff")
    page = browser.client.get("/console/units/legacy/07210")
    assert page.status_code == 200
    chain = page.text.split('data-testid="unit-chain"')[1].split("</nav>")[0]
    assert chain.index("Tỉnh Bắc Giang") < chain.index("Thành phố Bắc Giang")
    assert 'href="/console/units/2025/07210"' in page.text.split('data-testid="successors"')[1]


def test_former_district_page_explains_districts_are_gone_and_island_district_shows_its_zone(login) -> None:
    browser = login("viewer")
    district = browser.client.get("/console/units/legacy/213")  # Thành phố Bắc Giang
    assert 'data-testid="district-abolished"' in district.text
    assert 'data-unit="legacy/07210"' in district.text  # one of its wards
    island = browser.client.get("/console/units/legacy/755")  # Huyện Côn Đảo
    assert 'data-unit="2025/26732"' in island.text.split('data-testid="successors"')[1]


def test_current_ward_page_lists_the_former_wards_in_english_too(login) -> None:
    browser = login("staff")
    page = browser.client.get("/console/units/2025/07210", params={"lang": "en"})
    assert page.status_code == 200
    assert "Formed from" in page.text
    assert "Hoang Van Thu Ward" in page.text
    vi = browser.client.get("/console/units/2025/07210", params={"lang": "vi"})
    assert "Được hình thành từ" in vi.text
    assert "Phường Hoàng Văn Thụ" in vi.text


def test_address_lookup_page_shows_the_current_ward(login) -> None:
    browser = login("clerk")
    page = browser.client.get("/console/units/resolve", params={"address": OLD_ADDRESS})
    assert page.status_code == 200
    assert 'data-ward="07210"' in page.text
    unknown = browser.client.get("/console/units/resolve", params={"address": "không có chỗ này"})
    assert unknown.status_code == 404
    assert 'data-error-code="unknown-unit"' in unknown.text


def test_units_command_resolves_an_old_address(database_url: str, tmp_path: Path) -> None:
    from saola.cli import app

    env = {"SAOLA_DATABASE_URL": database_url, "SAOLA_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    loaded = runner.invoke(app, ["units", "load"], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert "already loaded" in loaded.output
    found = runner.invoke(app, ["units", "resolve", OLD_ADDRESS], env=env)
    assert found.exit_code == 0, found.output
    assert "Phường Bắc Giang, Tỉnh Bắc Ninh" in found.output
    assert runner.invoke(app, ["units", "resolve", "Hà Nội"], env=env).exit_code == 1
