"""Dossier statistics: counts and rates by procedure, agency and level for a period, as JSON, CSV and a page."""

from __future__ import annotations

import csv
import io

from saola.core.auth import service as auth
from saola.core.db import unit_of_work
from saola.egov import dossiers
from saola.egov.dossiers import Applicant
from tests.egov.conftest import local


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _history(app, procedure_id: int) -> None:
    """March 2026: three dossiers, one finished early, one late, one still open; one received online."""
    with unit_of_work(app.state.session_factory) as session:
        clerk = auth.principal_for(auth.get_user(session, username="clerk"))
        staff = auth.principal_for(auth.get_user(session, username="staff"))
        made = []
        for when in ("2026-03-02 09:00", "2026-03-03 09:00", "2026-03-04 09:00"):
            dossier, _case = dossiers.receive(session, procedure_id=procedure_id, applicant=Applicant(name="A"),
                                              actor=clerk, now=local(when))
            dossiers.move(session, dossier_id=dossier.id, to="in_processing", actor=clerk, now=local(when))
            made.append(dossier.id)
        dossiers.move(session, dossier_id=made[0], to="result_ready", actor=staff, now=local("2026-03-05 10:00"))
        dossiers.move(session, dossier_id=made[1], to="result_ready", actor=staff, now=local("2026-03-20 10:00"))
        dossiers.receive(session, procedure_id=procedure_id, applicant=Applicant(name="B"), actor=dossiers.SYSTEM,
                         now=local("2026-03-06 09:00"), channel="online")


def test_statistics_count_outcomes_and_rates_for_the_period(app, client, token, procedure_id) -> None:
    _history(app, procedure_id)
    response = client.get("/api/v1/dossiers/stats?start=2026-03-01&end=2026-03-31", headers=bearer(token("clerk")))
    assert response.status_code == 200, response.text
    body = response.json()
    total = body["total"]
    assert (total["received"], total["online"], total["resolved"]) == (4, 1, 2)
    assert (total["early"], total["on_time"], total["late"]) == (1, 0, 1)
    assert total["early"] + total["on_time"] + total["late"] == total["resolved"]
    assert total["late_rate"] == 50.0
    assert [r["group"] for r in body["rows"]] == ["9.000001"]
    by_agency = client.get("/api/v1/dossiers/stats?start=2026-03-01&end=2026-03-31&by=agency",
                           headers=bearer(token("admin"))).json()
    assert [r["group"] for r in by_agency["rows"]] == ["SXD"]
    april = client.get("/api/v1/dossiers/stats?start=2026-04-01&end=2026-04-30", headers=bearer(token("clerk")))
    assert april.json()["total"]["received"] == 0 and april.json()["total"]["late_rate"] is None
    other = client.get("/api/v1/dossiers/stats?start=2026-03-01&end=2026-03-31", headers=bearer(token("staff2")))
    assert other.json()["total"]["received"] == 0  # Sở Y tế sees none of them


def test_statistics_export_as_csv_and_show_on_a_page(app, client, token, login, procedure_id) -> None:
    _history(app, procedure_id)
    response = client.get("/api/v1/dossiers/stats?start=2026-03-01&end=2026-03-31&format=csv",
                          headers=bearer(token("clerk")))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[-1]["group"] == "total" and rows[-1]["resolved"] == "2" and rows[-1]["late_rate"] == "50.0"
    clerk = login("clerk")
    page = clerk.client.get("/console/dossiers/stats?start=2026-03-01&end=2026-03-31&by=level")
    assert page.status_code == 200 and 'data-group="province"' in page.text
    assert clerk.client.get("/console/dossiers/stats.csv?start=2026-03-01&end=2026-03-31").text == response.text


def test_a_backwards_period_is_refused(client, token) -> None:
    response = client.get("/api/v1/dossiers/stats?start=2026-03-31&end=2026-03-01", headers=bearer(token("clerk")))
    assert response.status_code == 400


def test_the_register_book_lists_the_periods_dossiers_form_07(app, login, procedure_id) -> None:
    _history(app, procedure_id)
    page = login("clerk").client.get("/console/dossiers/register?start=2026-03-01&end=2026-03-31")
    assert page.status_code == 200
    assert "SỔ THEO DÕI HỒ SƠ" in page.text
    assert page.text.count('<tr data-code="HS-2026-') == 4
    assert "SXD" in page.text
    assert login("staff2").client.get("/console/dossiers/register?start=2026-03-01&end=2026-03-31").text.count(
        '<tr data-code="HS-') == 0
