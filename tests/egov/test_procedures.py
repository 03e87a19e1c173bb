"""The procedures catalogue: public reading, management rights, CSV/JSON import and export (API, console, CLI)."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from saola.core.db import unit_of_work
from saola.egov import procedures
from saola.sim.demo import DemoContext, DemoReport
from tests.core.helpers import db_snapshot, problem_code, snapshot_diff


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _load_demo(app) -> None:
    from saola.egov.demo import load_procedures_demo

    with unit_of_work(app.state.session_factory) as session:
        report = DemoReport()
        load_procedures_demo(DemoContext(session=session, settings=app.state.settings, report=report, rng=None))
    assert report.created == {"procedures": 30}


def test_the_demo_ships_30_real_procedures_with_their_legal_times(app, client) -> None:
    _load_demo(app)
    page = client.get("/api/v1/procedures?limit=100").json()
    assert page["total"] == 30
    by_code = {p["code"]: p for p in page["items"]}
    assert by_code["1.001456"]["processing_days"] == 8  # ordinary passport: 8 working days
    assert by_code["1.001456"]["day_kind"] == "working"
    assert by_code["3.000333"]["processing_days"] == 10  # criminal record certificate: 10 days
    assert by_code["1.001193"]["fee"] == 0  # birth registration is free
    assert all(p["source_url"].startswith("https://dichvucong.gov.vn/") for p in page["items"])
    _load_demo_again = procedures.load_demo_catalogue
    with unit_of_work(app.state.session_factory) as session:
        assert _load_demo_again(session).created == 0  # idempotent


def test_anyone_can_search_the_catalogue_ignoring_accents(app, client) -> None:
    _load_demo(app)
    found = client.get("/api/v1/procedures?q=dang ky khai sinh").json()
    assert [p["code"] for p in found["items"]] == ["1.001193"]
    assert client.get("/api/v1/procedures/1.001193").json()["name_en"] == "Birth registration"
    assert client.get("/api/v1/procedures?level=commune").json()["total"] > 0
    missing = client.get("/api/v1/procedures/0.000000")
    assert (missing.status_code, problem_code(missing)) == (404, "procedure-not-found")
    page = client.get("/portal/procedures?q=ho chieu")
    assert page.status_code == 200 and 'data-code="1.001456"' in page.text


def test_the_catalogue_round_trips_through_csv_and_json(app, client, token) -> None:
    _load_demo(app)
    as_json = client.get("/api/v1/procedures/export?format=json")
    as_csv = client.get("/api/v1/procedures/export?format=csv")
    assert as_json.status_code == as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    records = json.loads(as_json.text)["procedures"]
    assert len(records) == 30
    assert procedures.parse_csv(as_csv.text) == procedures.parse_json(as_json.text)
    admin = bearer(token("admin"))
    before = db_snapshot(app.state.engine)
    for name, text in (("catalogue.csv", as_csv.text), ("catalogue.json", as_json.text)):
        report = client.post("/api/v1/procedures/import", headers=admin, files={"file": (name, text.encode())})
        assert report.json() == {"created": 0, "updated": 30}
    after = db_snapshot(app.state.engine)
    changed = snapshot_diff(before, after)
    assert set(changed) <= {"egov_procedures", "audit_log"}  # only updated_at moved
    assert client.get("/api/v1/procedures/export?format=json").text == as_json.text


def test_an_import_with_one_bad_row_saves_nothing_and_names_the_row(app, client, token) -> None:
    good = {"code": "9.100001", "name_vi": "Thủ tục A", "level": "province", "processing_days": 5,
            "steps": [{"agency": "SXD", "days": 5, "title": ""}]}
    bad = {**good, "code": "9.100002", "processing_days": -3}
    admin = bearer(token("admin"))
    client.get("/api/v1/me", headers=admin)  # the token's first use is recorded before the snapshot
    before = db_snapshot(app.state.engine)
    response = client.post("/api/v1/procedures/import", headers=admin,
                           files={"file": ("x.json", json.dumps([good, bad]).encode())})
    assert response.status_code == 400
    assert problem_code(response) == "invalid-catalogue"
    assert "2" in response.json()["detail"] and "processing_days" in response.json()["detail"]
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}
    garbage = client.post("/api/v1/procedures/import", headers=admin,
                          files={"file": ("x.csv", b"\xff\xfe\x00")})
    assert problem_code(garbage) == "invalid-catalogue"


def test_only_managers_change_the_catalogue(client, token) -> None:
    body = {"code": "9.100003", "name_vi": "Thủ tục B", "level": "commune", "processing_days": 3}
    for user in ("clerk", "staff", "viewer"):
        response = client.post("/api/v1/procedures", headers=bearer(token(user)), json=body)
        assert (response.status_code, problem_code(response)) == (403, "permission-denied")
    created = client.post("/api/v1/procedures", headers=bearer(token("admin")), json=body)
    assert created.status_code == 201, created.text
    again = client.post("/api/v1/procedures", headers=bearer(token("admin")), json=body)
    assert (again.status_code, problem_code(again)) == (409, "procedure-exists")
    changed = client.put("/api/v1/procedures/9.100003", headers=bearer(token("admin")),
                         json={**body, "processing_days": 2, "supplement_clock": "restart"})
    assert changed.json()["processing_days"] == 2 and changed.json()["supplement_clock"] == "restart"


def test_an_administrator_edits_a_procedure_in_the_console(login, make_procedure) -> None:
    procedure_id = make_procedure()
    admin = login("admin")
    page = admin.client.get(f"/console/procedures/{procedure_id}")
    assert 'data-testid="procedure-form"' in page.text
    response = admin.post_form(f"/console/procedures/{procedure_id}", {
        "code": "9.000001", "name_vi": "Cấp giấy phép sửa chữa nhà ở (sửa đổi)", "level": "province",
        "processing_days": "7", "day_kind": "working", "fee": "", "online_level": "full",
        "supplement_clock": "pause", "extension_allowed": "true", "active": "true",
        "documents": "Đơn đề nghị\nBản vẽ", "steps": "SXD:6:Thẩm định\nSXD:1:Ký"}, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    shown = admin.client.get(response.headers["location"]).text
    assert "(sửa đổi)" in shown
    bad = admin.post_form(f"/console/procedures/{procedure_id}", {
        "code": "9.000001", "name_vi": "X", "level": "province", "processing_days": "7", "steps": "SXD"})
    assert bad.status_code == 422 and 'data-error-code="invalid-procedure"' in bad.text
    clerk = login("clerk")
    read_only = clerk.client.get(f"/console/procedures/{procedure_id}")
    assert read_only.status_code == 200 and 'data-testid="procedure-form"' not in read_only.text
    assert clerk.post_form(f"/console/procedures/{procedure_id}", {"code": "x", "name_vi": "x", "level": "province",
                                                                   "processing_days": "1"}).status_code == 403


def test_the_cli_exports_and_imports_the_catalogue(app, database_url, tmp_path, monkeypatch) -> None:
    from saola.cli import app as cli

    _load_demo(app)
    monkeypatch.setenv("SAOLA_DATABASE_URL", database_url)
    monkeypatch.setenv("SAOLA_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    out = tmp_path / "catalogue.csv"
    exported = runner.invoke(cli, ["egov", "procedures", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "Exported 30 procedures" in exported.output
    text = out.read_text("utf-8")
    assert re.search(r"^1\.001456,", text, re.MULTILINE)
    out.write_text(text.replace("Cấp hộ chiếu phổ thông ở trong nước", "Cấp hộ chiếu phổ thông"), "utf-8")
    imported = runner.invoke(cli, ["egov", "procedures", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert "0 new, 30 updated" in imported.output
    broken = tmp_path / "broken.json"
    broken.write_text('[{"code": "x"}]', "utf-8")
    refused = runner.invoke(cli, ["egov", "procedures", "import", str(broken)])
    assert refused.exit_code == 1


def test_an_administrator_adds_and_imports_procedures_in_the_console(login) -> None:
    admin = login("admin")
    assert 'data-testid="procedure-form"' in admin.client.get("/console/procedures/new").text
    created = admin.post_form("/console/procedures", {
        "code": "9.200001", "name_vi": "Cấp phép đào đường", "level": "province", "processing_days": "10",
        "steps": "SXD:10:Thẩm định", "extension_allowed": "true", "active": "true"}, follow_redirects=False)
    assert created.status_code == 303, created.text[:300]
    csv_text = ("code,name_vi,level,processing_days,steps\n"
                "9.200002,Cấp phép chiếu sáng,commune,3,SXD:3:Xử lý\n").encode()
    imported = admin.client.post("/console/procedures/import", data={"csrf_token": admin.csrf},
                                 files={"file": ("new.csv", csv_text, "text/csv")}, follow_redirects=False)
    assert imported.status_code == 303
    listing = admin.client.get(imported.headers["location"]).text
    assert 'data-code="9.200001"' in listing and 'data-code="9.200002"' in listing
    assert 'data-testid="notice"' in listing
