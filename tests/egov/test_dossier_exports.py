"""Dossier statistics completion: the official late rate, online and digitisation rates, citizen hours saved,
grouping by month, and the XLSX export beside CSV (API and console)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from saola.core.auth import service as auth
from saola.core.db import unit_of_work
from saola.egov import dossiers, public
from saola.egov.dossiers import Applicant
from saola.egov.files import Upload
from tests.egov.conftest import PDF_BYTES, local

PERIOD = "start=2026-03-01&end=2026-03-31"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _march(app, procedure_id: int, tmp_path) -> None:
    """March 2026 (5-working-day procedure): A finished early and was returned and rated badly, B finished late,
    C is still open and overdue at the end of March, D was received online with a scanned file and is open
    within its deadline; E was received in February and is still open and overdue."""
    with unit_of_work(app.state.session_factory) as session:
        clerk = auth.principal_for(auth.get_user(session, username="clerk"))
        staff = auth.principal_for(auth.get_user(session, username="staff"))

        def counter(when: str) -> int:
            dossier, _case = dossiers.receive(session, procedure_id=procedure_id, applicant=Applicant(name="A"),
                                              actor=clerk, now=local(when))
            dossiers.move(session, dossier_id=dossier.id, to="in_processing", actor=clerk, now=local(when))
            return dossier.id

        a, b, _c = counter("2026-03-02 09:00"), counter("2026-03-03 09:00"), counter("2026-03-04 09:00")
        counter("2026-02-02 09:00")
        dossiers.move(session, dossier_id=a, to="result_ready", actor=staff, now=local("2026-03-05 10:00"))
        dossiers.move(session, dossier_id=a, to="returned", actor=clerk, now=local("2026-03-06 10:00"))
        dossiers.move(session, dossier_id=b, to="result_ready", actor=staff, now=local("2026-03-20 10:00"))
        online, _case = dossiers.receive(session, procedure_id=procedure_id, applicant=Applicant(name="D"),
                                         actor=dossiers.SYSTEM, now=local("2026-03-30 09:00"), channel="online")
        dossiers.attach_files(session, dossier_id=online.id, actor=dossiers.SYSTEM, data_dir=tmp_path,
                              uploads=[Upload("scan.pdf", PDF_BYTES)], now=local("2026-03-30 09:01"))
        rated = session.get(dossiers.Dossier, a)
        public.rate(session, code=rated.code, pin=rated.pin, timeliness=2, attitude=5, visits=1, comment="",
                    now=local("2026-03-07 10:00"))


def test_the_official_late_rate_counts_open_overdue_dossiers(app, client, token, procedure_id, tmp_path) -> None:
    _march(app, procedure_id, tmp_path)
    total = client.get(f"/api/v1/dossiers/stats?{PERIOD}", headers=bearer(token("clerk"))).json()["total"]
    assert (total["received"], total["resolved"], total["early"], total["late"]) == (4, 2, 1, 1)
    assert total["late_rate"] == 50.0
    assert (total["open"], total["open_overdue"]) == (3, 2)  # C and E overdue, D within its deadline
    assert total["official_late_rate"] == 60.0  # (1 late + 2 overdue) / (2 resolved + 3 open)


def test_online_digitisation_and_hours_saved(app, client, token, procedure_id, tmp_path, settings) -> None:
    _march(app, procedure_id, tmp_path)
    body = client.get(f"/api/v1/dossiers/stats?{PERIOD}", headers=bearer(token("clerk"))).json()
    total = body["total"]
    assert (total["online"], total["online_rate"]) == (1, 25.0)
    assert (total["digitised"], total["digitisation_rate"]) == (1, 25.0)
    assert total["avoided_visits"] == 1
    assert body["hours_per_avoided_visit"] == settings.egov_hours_per_avoided_visit
    assert total["hours_saved"] == settings.egov_hours_per_avoided_visit


def test_statistics_group_by_month(app, client, token, procedure_id, tmp_path) -> None:
    _march(app, procedure_id, tmp_path)
    body = client.get("/api/v1/dossiers/stats?start=2026-02-01&end=2026-03-31&by=month",
                      headers=bearer(token("admin"))).json()
    assert {r["group"]: r["received"] for r in body["rows"]} == {"2026-02": 1, "2026-03": 4}
    assert sum(r["resolved"] for r in body["rows"]) == body["total"]["resolved"] == 2


def test_the_xlsx_export_holds_the_csv_table_with_numbers(app, client, token, login, procedure_id, tmp_path) -> None:
    _march(app, procedure_id, tmp_path)
    response = client.get(f"/api/v1/dossiers/stats?{PERIOD}&format=xlsx", headers=bearer(token("clerk")))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert response.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header, last = rows[0], dict(zip(rows[0], rows[-1], strict=True))
    assert header[:3] == ["group", "name", "received"] and "official_late_rate" in header
    assert last["group"] == "total" and last["received"] == 4 and last["official_late_rate"] == 60.0
    page = login("clerk").client.get(f"/console/dossiers/stats.xlsx?{PERIOD}")
    assert page.status_code == 200 and page.content[:2] == b"PK"


def test_the_console_page_shows_the_new_rates_and_offers_both_exports(app, login, procedure_id, tmp_path) -> None:
    _march(app, procedure_id, tmp_path)
    page = login("clerk").client.get(f"/console/dossiers/stats?{PERIOD}&by=month")
    assert page.status_code == 200
    assert 'data-group="2026-03"' in page.text and "stats.xlsx?" in page.text
    assert '<td data-col="official_late_rate">60,0 %</td>' in page.text  # Vietnamese decimal comma


def test_an_unknown_export_format_or_grouping_is_a_clear_4xx(client, token, login) -> None:
    headers = bearer(token("clerk"))
    assert client.get(f"/api/v1/dossiers/stats?{PERIOD}&format=pdf", headers=headers).status_code == 422
    assert client.get(f"/api/v1/dossiers/stats?{PERIOD}&by=colour", headers=headers).status_code == 422
    assert login("clerk").client.get(f"/console/dossiers/stats.pdf?{PERIOD}").status_code in (404, 422)
