"""The 1022 hotline in a real browser, end to end: a citizen files a report with a photo and a pin on the map,
an operator triages it and the agency resolves it through the API, the citizen sees the answer by code and rates it;
the next citizen at the same spot is offered the report to follow instead.

Drives Debian's Chromium with Playwright against a uvicorn server (fixtures of tests/web/test_browser.py).
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.feedback.conftest import KINH_BAC, PNG
from tests.web.test_browser import chromium  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def _pin(page, lat: float, lon: float) -> None:
    """Click the report map at a point, as a citizen placing the pin."""
    x, y = page.evaluate("""([lat, lon]) => {
        const m = window.saolaMaps["report-map"];
        m.setView([lat, lon], 15, {animate: false});
        const p = m.latLngToContainerPoint([lat, lon]);
        return [p.x, p.y];
    }""", [lat, lon])
    box = page.get_by_test_id("report-map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_a_citizen_reports_follows_and_rates_while_staff_triage_and_resolve(live_server, chromium,  # noqa: F811
                                                                          token, categories) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")  # a phone
    context.set_default_timeout(8000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The citizen files a report: "I don't know" the category, a pin on the map, a photo, a phone number.
    page.goto(live_server + "/feedback/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gửi phản ánh (1022)")
    expect(page.get_by_test_id("report-map")).to_have_attribute("data-loaded", "true")
    page.get_by_test_id("description").fill("Cây đổ chắn ngang đường trước nhà số 5, xe không qua được")
    _pin(page, *KINH_BAC)
    expect(page.get_by_test_id("lat")).not_to_have_value("")
    assert abs(float(page.get_by_test_id("lat").input_value()) - KINH_BAC[0]) < 0.001
    page.get_by_test_id("media").set_input_files({"name": "cay-do.png", "mimeType": "image/png", "buffer": PNG})
    page.locator("input[name=phone]").fill("0912 345 678")
    page.locator("input[name=consent]").check()
    page.get_by_test_id("report-submit").click()
    code = page.get_by_test_id("tracking-code").inner_text()
    assert re.fullmatch(r"PA-\d{4}-\d{6}", code)
    track_url = page.get_by_test_id("track-link").get_attribute("href")

    # The operator triages it to a category; the agency (Sở Xây dựng) assigns, starts and resolves it.
    with httpx.Client(base_url=live_server) as api:
        operator = {"Authorization": f"Bearer {token('operator')}"}
        (waiting,) = [r for r in api.get("/api/v1/reports?status=received", headers=operator).json()
                      if r["tracking_code"] == code]
        assert waiting["reporter"]["phone"] == "0912 345 678"
        triaged = api.post(f"/api/v1/reports/{waiting['case_id']}/category", headers=operator,
                           json={"service_code": "trees", "reason": "Cây xanh đô thị"})
        assert triaged.status_code == 200 and triaged.json()["status"] == "triaged"
        staff = {"Authorization": f"Bearer {token('staff')}"}
        me = api.get("/api/v1/me", headers=staff).json()["id"]
        url = f"/api/v1/reports/{waiting['case_id']}/transition"
        for step in ({"to": "assigned", "assignee_id": me}, {"to": "in_progress", "assignee_id": me},
                     {"to": "resolved", "resolution": "Đội cây xanh đã cắt và dọn cây đổ lúc 15 giờ"}):
            assert api.post(url, headers=staff, json=step).status_code == 200

    # Another citizen at the same spot is offered the open report to follow instead... once it is triaged.
    other = context.new_page()
    other.goto(live_server + "/feedback/new")
    expect(other.get_by_test_id("report-map")).to_have_attribute("data-loaded", "true")
    other.get_by_test_id("service-code").select_option("trees")
    other.get_by_test_id("description").fill("Cây đổ giữa đường")
    _pin(other, *KINH_BAC)
    expect(other.get_by_test_id("similar")).to_be_hidden()  # resolved: nothing left to follow
    other.close()

    # The citizen looks the report up by its link, reads the answer, sees no personal data and rates it.
    page.goto(live_server + track_url)
    expect(page.get_by_test_id("track-status")).to_have_attribute("data-status", "resolved")
    expect(page.get_by_test_id("track-answer")).to_contain_text("Đội cây xanh đã cắt và dọn cây đổ")
    expect(page.locator("main")).not_to_contain_text("0912")
    page.get_by_test_id("rate-satisfied").check()
    page.get_by_test_id("rating-reason").fill("Xử lý nhanh")
    page.get_by_test_id("rating-submit").click()
    expect(page.get_by_test_id("notice")).to_have_text("Cảm ơn ông/bà đã đánh giá")
    expect(page.get_by_test_id("track-status")).to_have_attribute("data-status", "closed")
    expect(page.get_by_test_id("rating-given")).to_contain_text("Hài lòng")
    assert not errors, errors
    context.close()


def test_the_public_form_suggests_an_open_report_nearby_before_submitting(live_server, chromium,  # noqa: F811
                                                                         token, categories) -> None:
    from playwright.sync_api import expect

    with httpx.Client(base_url=live_server) as api:
        filed = api.post("/api/v1/reports", headers={"Authorization": f"Bearer {token('operator')}"}, json={
            "service_code": "trees", "description": "Cây đổ chắn ngang đường trước nhà số 5",
            "lat": KINH_BAC[0], "long": KINH_BAC[1]})
        assert filed.status_code == 201
    code = filed.json()["tracking_code"]
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(8000)
    page = context.new_page()
    page.goto(live_server + "/feedback/new?lang=en")
    expect(page.get_by_test_id("report-map")).to_have_attribute("data-loaded", "true")
    page.get_by_test_id("service-code").select_option("trees")
    page.get_by_test_id("description").fill("A fallen tree blocks the road at number 5")
    _pin(page, KINH_BAC[0] + 0.0003, KINH_BAC[1])
    expect(page.get_by_test_id("similar")).to_be_visible()
    page.get_by_test_id("follow-similar").first.click()
    expect(page.get_by_test_id("track-result")).to_contain_text(code)
    context.close()
