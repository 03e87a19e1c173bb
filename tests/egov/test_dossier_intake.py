"""Receiving dossiers: at the counter (console form, API) and online (portal form), with files checked by content."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from saola.cases.models import Case, CaseAttachment
from saola.egov.models import Dossier
from tests.core.helpers import db_snapshot, problem_code, snapshot_diff
from tests.egov.conftest import JPEG_BYTES, PDF_BYTES, PNG_BYTES

CODE = re.compile(r"HS-\d{4}-\d{6}")


def test_a_clerk_receives_a_dossier_at_the_counter_with_scanned_files(login, procedure_id, db) -> None:
    clerk = login("clerk")
    response = clerk.client.post("/console/dossiers", data={
        "csrf_token": clerk.csrf, "procedure_id": str(procedure_id), "applicant_name": "Nguyễn Thị Lan",
        "applicant_phone": "0912345678", "applicant_address": "Phường Kinh Bắc, Bắc Ninh",
    }, files=[("files", ("don.pdf", PDF_BYTES, "application/pdf")), ("files", ("anh.png", PNG_BYTES, "image/png"))],
        follow_redirects=False)
    assert response.status_code == 303, response.text[:400]
    page = clerk.client.get(response.headers["location"])
    assert page.status_code == 200
    code = CODE.search(page.text).group(0)
    assert "Nguyễn Thị Lan" in page.text
    dossier = db.scalar(select(Dossier).where(Dossier.code == code))
    assert dossier.channel == "counter"
    assert dossier.receiving_agency_id == 4  # TTPVHCC, the clerk's centre
    case = db.get(Case, dossier.case_id)
    assert (case.status, case.agency_id) == ("received", 2)  # processed by SXD, the procedure's first step
    assert dossier.appointment_at == case.deadline_at
    types = sorted(db.scalars(select(CaseAttachment.content_type).where(CaseAttachment.case_id == case.id)))
    assert types == ["application/pdf", "image/png"]


def test_the_api_receives_a_dossier_for_a_clerk_token(client, token, procedure_id) -> None:
    response = client.post("/api/v1/dossiers", headers={"Authorization": f"Bearer {token('clerk')}"},
                           json={"procedure_code": "9.000001", "applicant_name": "Trần Văn Bình"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert CODE.fullmatch(body["code"])
    assert body["status"] == "received"
    assert body["open_status"] == "within"
    assert body["appointment_at"] is not None


def test_agency_staff_cannot_receive_dossiers(client, token, procedure_id) -> None:
    response = client.post("/api/v1/dossiers", headers={"Authorization": f"Bearer {token('staff')}"},
                           json={"procedure_code": "9.000001", "applicant_name": "Trần Văn Bình"})
    assert response.status_code == 403
    assert problem_code(response) == "not-receiving-centre"


def test_a_citizen_submits_online_with_a_photo(client, procedure_id, db) -> None:
    page = client.get("/portal/procedures/9.000001")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/portal/dossiers", data={
        "csrf_token": csrf, "procedure_code": "9.000001", "applicant_name": "Lê Văn Cường",
        "applicant_email": "cuong@example.vn"}, files={"files": ("cmnd.jpg", JPEG_BYTES, "image/jpeg")})
    assert response.status_code == 201, response.text[:400]
    code = CODE.search(response.text).group(0)
    dossier = db.scalar(select(Dossier).where(Dossier.code == code))
    assert dossier.channel == "online"
    assert dossier.receiving_agency_id == 4
    assert dossier.pin in response.text
    assert "<svg" in response.text  # the QR code, inline
    stored = db.scalar(select(CaseAttachment).where(CaseAttachment.case_id == dossier.case_id))
    assert (stored.file_name, stored.content_type) == ("cmnd.jpg", "image/jpeg")


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_saved(app, client, procedure_id, db) -> None:
    page = client.get("/portal/procedures/9.000001")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    before = db_snapshot(app.state.engine)
    response = client.post("/portal/dossiers", data={
        "csrf_token": csrf, "procedure_code": "9.000001", "applicant_name": "Lê Văn Cường"},
        files={"files": ("virus.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
    assert response.status_code == 422
    assert 'data-error-code="unsupported-file"' in response.text
    assert snapshot_diff(before, db_snapshot(app.state.engine)) == {}
    assert db.scalar(select(func.count()).select_from(Dossier)) == 0


def test_an_oversized_file_is_refused(client, procedure_id, monkeypatch) -> None:
    from saola.egov import dossiers_pages, files

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(dossiers_pages, "MAX_FILE_BYTES", 100)
    page = client.get("/portal/procedures/9.000001")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/portal/dossiers", data={
        "csrf_token": csrf, "procedure_code": "9.000001", "applicant_name": "Lê Văn Cường"},
        files={"files": ("big.pdf", PDF_BYTES + b"x" * 200, "application/pdf")})
    assert response.status_code == 422
    assert 'data-error-code="unsupported-file"' in response.text


def test_a_procedure_that_is_not_online_cannot_be_submitted_online(client, make_procedure) -> None:
    make_procedure(code="9.000002", online_level="none")
    page = client.get("/portal/procedures/9.000002")
    assert 'data-testid="online-form"' not in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/portal/dossiers", data={"csrf_token": csrf, "procedure_code": "9.000002",
                                                     "applicant_name": "X"})
    assert response.status_code == 404


def test_a_procedure_whose_agency_does_not_exist_cannot_be_received(client, token, make_procedure) -> None:
    make_procedure(code="9.000003", steps=[{"agency": "NOPE", "days": 3, "title": "x"}])
    response = client.post("/api/v1/dossiers", headers={"Authorization": f"Bearer {token('clerk')}"},
                           json={"procedure_code": "9.000003", "applicant_name": "Trần Văn Bình"})
    assert response.status_code == 422
    assert problem_code(response) == "procedure-not-routable"


def test_an_empty_applicant_name_is_refused(client, token, procedure_id) -> None:
    response = client.post("/api/v1/dossiers", headers={"Authorization": f"Bearer {token('clerk')}"},
                           json={"procedure_code": "9.000001", "applicant_name": "   "})
    assert response.status_code == 400
    assert problem_code(response) == "bad-request"
