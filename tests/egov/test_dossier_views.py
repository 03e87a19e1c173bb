"""Who sees a dossier, the slip (page and PDF), the dossier page and forms, the public lookup and the rating."""

from __future__ import annotations

import re
from datetime import timedelta

from saola.cases.models import Case
from saola.core.auth import service as auth
from saola.core.db import unit_of_work, utcnow
from saola.egov import dossiers
from saola.egov.dossiers import Applicant
from saola.egov.models import Dossier
from tests.core.helpers import problem_code


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _receive(client, token, **extra) -> dict:
    body = {"procedure_code": "9.000001", "applicant_name": "Đỗ Minh Châu", "applicant_phone": "0987654321",
            "applicant_address": "12 Ngô Gia Tự, Bắc Ninh", "applicant_email": "chau@example.vn",
            "applicant_id_number": "027190001234", **extra}
    response = client.post("/api/v1/dossiers", headers=bearer(token("clerk")), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _move(client, token, user: str, dossier_id: int, to: str, **extra) -> dict:
    response = client.post(f"/api/v1/dossiers/{dossier_id}/transitions", headers=bearer(token(user)),
                           json={"to": to, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_centre_and_the_processing_agency_see_the_dossier_and_no_one_else(client, token, procedure_id) -> None:
    created = _receive(client, token)
    url = f"/api/v1/dossiers/{created['id']}"
    for user in ("clerk", "staff", "viewer", "operator", "admin"):  # centre, SXD staff and viewer, all-agency roles
        assert client.get(url, headers=bearer(token(user))).status_code == 200, user
        listed = client.get("/api/v1/dossiers", headers=bearer(token(user))).json()
        assert [d["code"] for d in listed] == [created["code"]], user
    other = client.get(url, headers=bearer(token("staff2")))  # Sở Y tế
    assert (other.status_code, problem_code(other)) == (404, "dossier-not-found")
    assert client.get("/api/v1/dossiers", headers=bearer(token("staff2"))).json() == []
    assert client.get(f"/api/v1/dossiers/{created['id']}/slip.pdf", headers=bearer(token("staff2"))).status_code == 404


def test_the_dossier_page_shows_the_timeline_and_only_the_users_own_actions(login, client, token, procedure_id) -> None:
    created = _receive(client, token)
    clerk_page = login("clerk").client.get(f"/console/dossiers/{created['id']}").text
    assert 'data-move="in_processing"' in clerk_page and 'data-move="extended"' not in clerk_page
    staff_page = login("staff").client.get(f"/console/dossiers/{created['id']}").text
    assert 'data-move=' not in staff_page  # the centre hands it over first
    _move(client, token, "clerk", created["id"], "in_processing")
    staff_page = login("staff").client.get(f"/console/dossiers/{created['id']}").text
    assert 'data-move="result_ready"' in staff_page and 'data-move="extended"' in staff_page
    assert 'data-to="in_processing"' in staff_page  # the timeline
    viewer_page = login("viewer").client.get(f"/console/dossiers/{created['id']}").text
    assert "data-move=" not in viewer_page
    assert login("staff2").client.get(f"/console/dossiers/{created['id']}").status_code == 404


def test_the_console_form_moves_a_dossier_and_a_refusal_produces_form_03(login, client, token, procedure_id) -> None:
    created = _receive(client, token)
    clerk = login("clerk")
    response = clerk.post_form(f"/console/dossiers/{created['id']}/transition",
                               {"to": "refused", "reason": "Không thuộc thẩm quyền giải quyết"},
                               follow_redirects=False)
    assert response.status_code == 303
    page = clerk.client.get(response.headers["location"]).text
    event_id = re.search(rf"/console/dossiers/{created['id']}/forms/(\d+)", page).group(1)
    form = clerk.client.get(f"/console/dossiers/{created['id']}/forms/{event_id}")
    assert form.status_code == 200
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in form.text
    assert "Không thuộc thẩm quyền giải quyết" in form.text
    missing = clerk.post_form(f"/console/dossiers/{created['id']}/transition", {"to": "returned", "reason": ""})
    assert missing.status_code == 409


def test_the_slip_page_and_pdf_carry_the_code_appointment_and_qr(login, client, token, procedure_id) -> None:
    created = _receive(client, token)
    clerk = login("clerk")
    page = clerk.client.get(f"/console/dossiers/{created['id']}/slip")
    assert page.status_code == 200
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in page.text
    assert created["code"] in page.text and "<svg" in page.text
    assert "Đỗ Minh Châu" in page.text
    pdf = clerk.client.get(f"/console/dossiers/{created['id']}/slip.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    subject = re.search(rb"/Subject \(([^)]*)\)", pdf.content)
    assert subject and subject.group(1).decode() == created["code"]
    title = re.search(rb"/Title <([0-9a-f]+)>", pdf.content)
    assert created["code"] in bytes.fromhex(title.group(1).decode()).decode("utf-16")
    api_pdf = client.get(f"/api/v1/dossiers/{created['id']}/slip.pdf", headers=bearer(token("staff")))
    assert api_pdf.content.startswith(b"%PDF-")


def test_the_public_lookup_shows_progress_and_no_personal_data(client, token, procedure_id) -> None:
    created = _receive(client, token)
    page = client.get(f"/portal/dossiers/lookup?code={created['code'].lower()}")
    assert page.status_code == 200
    assert 'data-status="received"' in page.text
    api = client.get(f"/api/v1/dossiers/lookup?code={created['code']}")
    assert api.status_code == 200
    assert set(api.json()) == {"code", "procedure_code", "procedure_name", "status", "received_at", "appointment_at",
                               "closed_at", "outcome"}
    for private in ("Đỗ Minh Châu", "0987654321", "Ngô Gia Tự", "chau@example.vn", "027190001234"):
        assert private not in page.text and private not in api.text
    unknown = client.get("/portal/dossiers/lookup?code=HS-1999-000001")
    assert unknown.status_code == 404 and 'data-code="dossier-not-found"' in unknown.text


def _pin(app, code: str) -> str:
    with unit_of_work(app.state.session_factory) as session:
        return session.query(Dossier).filter_by(code=code).one().pin


def _rate(client, code: str, pin: str, **values):
    page = client.get(f"/portal/dossiers/lookup?code={code}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"csrf_token": csrf, "code": code, "pin": pin, "timeliness": "5", "attitude": "4", "visits": "1",
            **values}
    return client.post("/portal/dossiers/rate", data=data, follow_redirects=False)


def test_a_rating_is_accepted_only_after_return_with_the_slips_code_and_once(app, client, token, procedure_id,
                                                                             login) -> None:
    created = _receive(client, token)
    pin = _pin(app, created["code"])
    assert _rate(client, created["code"], pin).status_code == 409  # not returned yet
    _move(client, token, "clerk", created["id"], "in_processing")
    _move(client, token, "staff", created["id"], "result_ready")
    assert _rate(client, created["code"], pin).status_code == 409  # ready, not yet handed back
    _move(client, token, "clerk", created["id"], "returned")
    page = client.get(f"/portal/dossiers/lookup?code={created['code']}&pin={pin}")
    assert 'data-testid="rating-form"' in page.text and f'value="{pin}"' in page.text
    assert _rate(client, created["code"], "WRONG1").status_code == 403
    assert _rate(client, created["code"], pin, timeliness="9").status_code == 422
    done = _rate(client, created["code"], pin.lower(), comment="Nhanh, chu đáo")
    assert done.status_code == 303
    assert 'data-testid="already-rated"' in client.get(done.headers["location"]).text
    assert _rate(client, created["code"], pin).status_code == 409
    staff_page = login("clerk").client.get(f"/console/dossiers/{created['id']}").text
    assert "Nhanh, chu đáo" in staff_page


def test_an_overdue_dossier_without_apology_is_flagged_to_the_centre(app, login, procedure_id) -> None:
    with unit_of_work(app.state.session_factory) as session:
        clerk = auth.principal_for(auth.get_user(session, username="clerk"))
        old, _case = dossiers.receive(session, procedure_id=procedure_id, applicant=Applicant(name="Vũ Văn Dũng"),
                                      actor=clerk, now=utcnow() - timedelta(days=30))
        fresh, _case = dossiers.receive(session, procedure_id=procedure_id, applicant=Applicant(name="Hồ Thị Én"),
                                        actor=clerk, now=utcnow())
        old_code, fresh_code = old.code, fresh.code
    page = login("clerk").client.get("/console/dossiers").text
    assert 'data-testid="apology-flag"' in page
    assert "1 hồ sơ quá hạn chưa có văn bản xin lỗi (mẫu 04)." in page
    assert re.search(rf'data-code="{old_code}" data-flag="needs-apology"', page)
    assert f'data-code="{fresh_code}" data-flag' not in page
    with unit_of_work(app.state.session_factory) as session:
        case = session.query(Case).filter_by(code=old_code).one()
        assert dossiers.open_status(case, utcnow()) == "overdue"


def test_every_move_is_audited(client, token, procedure_id) -> None:
    created = _receive(client, token)
    _move(client, token, "clerk", created["id"], "in_processing")
    audit = client.get("/api/v1/audit?object_type=cases&limit=500", headers=bearer(token("admin"))).json()["items"]
    changes = [e for e in audit if (e.get("after") or {}).get("status") == "in_processing"]
    assert changes and changes[0]["actor"] == "clerk"
    dossier_rows = client.get("/api/v1/audit?object_type=egov_dossiers&limit=500",
                              headers=bearer(token("admin"))).json()["items"]
    assert dossier_rows
