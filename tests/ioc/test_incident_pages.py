"""Console pages of incidents: list, the form prefilled from an alert or a citizen report, the incident's page
(checklist ticks, units, links, notes, status buttons, closing with a resolution note), the print view and PDF;
CSRF on every form; permissions and agency scoping; Vietnamese and English."""

from __future__ import annotations

import re

from tests.ioc.incident_helpers import create_report, pdf_info, raise_alert


def _id(response) -> int:
    assert response.status_code == 303, response.text[:500]
    found = re.search(r"/console/incidents/(\d+)", response.headers["location"])
    assert found
    return int(found.group(1))


def _open_by_form(browser, **changes: str) -> int:
    form = {"incident_type": "traffic_accident", "title": "Va chạm xe tải và xe máy tại ngã tư", "severity": "major",
            "ward_code": "09187", "lat": "21,1999", "lon": "106.0502", "address": "Ngã tư Lý Thái Tổ"}
    form.update(changes)
    return _id(browser.post_form("/console/incidents", form, follow_redirects=False))


def test_the_form_is_prefilled_from_an_alert_and_opens_a_linked_incident(app, login) -> None:
    alert_id, _ = raise_alert(app, severity="critical", incident_type="lighting_failure", owner_agency="SXD")
    operator = login("operator")
    page = operator.client.get(f"/console/incidents/new?alert={alert_id}")
    assert page.status_code == 200
    assert 'value="Đèn đường tắt"' in page.text and 'value="lighting_failure" selected' in page.text
    assert 'value="critical" selected' in page.text and f'value="{alert_id}"' in page.text
    assert "106.0502" in page.text
    incident_id = _open_by_form(operator, incident_type="lighting_failure", title="Đèn đường tắt",
                                severity="critical", alert_ids=str(alert_id))
    shown = operator.client.get(f"/console/incidents/{incident_id}?done=opened")
    assert f'data-kind="alert" data-ref="{alert_id}"' in shown.text
    assert "Đã mở sự cố" in shown.text  # the notice, in Vietnamese (the default language)
    missing = operator.client.get("/console/incidents/new?alert=999999")
    assert missing.status_code == 200 and 'data-testid="source-missing"' in missing.text


def test_the_form_is_prefilled_from_a_citizen_report(client, login, token) -> None:
    code = create_report(client, token("operator"))
    operator = login("operator")
    page = operator.client.get(f"/console/incidents/new?report={code}")
    assert page.status_code == 200 and f'value="{code}"' in page.text and "21.199973" in page.text
    incident_id = _open_by_form(operator, incident_type="flood", title="Ngập trước chợ", report_codes=code)
    assert f'data-kind="report" data-ref="{code}"' in operator.client.get(f"/console/incidents/{incident_id}").text


def test_an_operator_works_an_incident_from_its_page_and_closes_it_with_a_resolution(login) -> None:
    operator = login("operator")
    incident_id = _open_by_form(operator)
    url = f"/console/incidents/{incident_id}"
    page = operator.client.get(url)
    assert 'data-testid="tick-ems"' in page.text
    assert 'data-move="closed"' in page.text and 'data-move="resolved"' in page.text
    assert "Gọi cấp cứu 115" in page.text  # the SOP in Vietnamese
    assert "Call emergency medical services" in operator.client.get(url + "?lang=en").text
    assert _id(operator.post_form(f"{url}/checklist", {"key": "ems", "done": "true"}, follow_redirects=False))
    assert _id(operator.post_form(f"{url}/units", {"name": "Xe cấp cứu 115-03", "kind": "ambulance"},
                                  follow_redirects=False))
    assert _id(operator.post_form(f"{url}/notes", {"text": "Một người bị thương nhẹ"}, follow_redirects=False))
    page = operator.client.get(url)
    assert 'data-key="ems" data-done="true"' in page.text and "Xe cấp cứu 115-03" in page.text
    assert 'data-status="dispatched"' in page.text and "Một người bị thương nhẹ" in page.text

    refused = operator.post_form(f"{url}/status", {"to": "resolved", "resolution": " "}, follow_redirects=False)
    assert refused.status_code == 422
    assert 'data-status="dispatched"' in operator.client.get(url).text
    illegal = operator.post_form(f"{url}/status", {"to": "open"}, follow_redirects=False)
    assert illegal.status_code == 409

    assert _id(operator.post_form(f"{url}/status", {"to": "resolved", "resolution": "Đã giải tỏa hiện trường"},
                                  follow_redirects=False))
    assert _id(operator.post_form(f"{url}/status", {"to": "closed"}, follow_redirects=False))
    closed = operator.client.get(url)
    assert 'data-status="closed"' in closed.text and "Đã giải tỏa hiện trường" in closed.text
    assert 'data-testid="incident-actions"' not in closed.text and 'data-testid="tick-ems"' not in closed.text

    printed = operator.client.get(f"{url}/print")
    assert printed.status_code == 200 and "Báo cáo sau sự cố" in printed.text
    assert "Va chạm xe tải và xe máy tại ngã tư" in printed.text and "Đã giải tỏa hiện trường" in printed.text
    pdf = operator.client.get(f"{url}/report.pdf")
    assert pdf.content.startswith(b"%PDF-") and "Va chạm xe tải" in pdf_info(pdf.content, "Title")


def test_forms_need_the_csrf_token(login) -> None:
    operator = login("operator")
    incident_id = _open_by_form(operator)
    forged = operator.client.post(f"/console/incidents/{incident_id}/notes", data={"text": "x"},
                                  follow_redirects=False)
    assert forged.status_code == 403


def test_the_list_filters_and_agency_staff_see_only_their_agencys_incidents(login) -> None:
    operator = login("operator")
    sxd_agency = re.search(r'<option value="(\d+)"[^>]*>Sở Xây dựng', operator.client.get("/console/incidents/new")
                           .text)
    assert sxd_agency
    ours = _open_by_form(operator, title="Đèn hỏng cả tuyến", incident_type="lighting_failure",
                         owner_agency_id=sxd_agency.group(1))
    theirs = _open_by_form(operator, title="Cháy chợ", incident_type="fire", severity="critical")
    listing = operator.client.get("/console/incidents?type=fire").text
    assert "Cháy chợ" in listing and "Đèn hỏng cả tuyến" not in listing
    staff = login("staff")
    listing = staff.client.get("/console/incidents").text
    assert "Đèn hỏng cả tuyến" in listing and "Cháy chợ" not in listing
    assert staff.client.get(f"/console/incidents/{theirs}").status_code == 404
    assert staff.client.get(f"/console/incidents/{ours}").status_code == 200
    viewer = login("viewer")
    assert viewer.client.get("/console/incidents").status_code == 200
    assert viewer.client.get("/console/incidents/new").status_code == 403
    assert 'href="/console/incidents"' in operator.client.get("/console").text  # the navigation entry
