"""The hotline's console in a real browser: an operator takes a call with the keyboard, sees the caller's earlier
report and the open report nearby, saves the report, reads back its code, then triages and handles it on the
report's page.

Drives Debian's Chromium with Playwright against a uvicorn server (fixtures of tests/web/test_browser.py).
(The screenshots of these pages are taken by ``scripts/screenshots.py`` on the demo data.)
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from saola.cases.models import Case
from saola.core.db import unit_of_work, utcnow
from tests.browser import offline_page, sign_in
from tests.feedback.conftest import BAC_GIANG, KINH_BAC, report_json
from tests.web.test_browser import chromium  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def _pin(page, lat: float, lon: float) -> None:
    """Click the call map at a point, as the operator placing the pin."""
    page.get_by_test_id("call-map").scroll_into_view_if_needed()
    x, y = page.evaluate("""([lat, lon]) => {
        const m = window.saolaMaps["call-map"];
        m.setView([lat, lon], 16, {animate: false});
        const p = m.latLngToContainerPoint([lat, lon]);
        return [p.x, p.y];
    }""", [lat, lon])
    box = page.get_by_test_id("call-map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_an_operator_takes_a_call_with_the_keyboard_then_triages_and_handles_the_report(
        app, live_server, chromium, token, categories) -> None:  # noqa: F811
    from playwright.sync_api import expect

    with httpx.Client(base_url=live_server) as api:  # the caller reported a street light last week
        earlier = api.post("/api/v1/reports", headers={"Authorization": f"Bearer {token('operator')}"},
                           json=report_json(phone="0912 345 678", consent=True, name="Nguyễn Văn An"))
        assert earlier.status_code == 201
    earlier_code = earlier.json()["tracking_code"]

    browser = offline_page(chromium, live_server, height=800)
    page = browser.page
    sign_in(page, live_server, "operator", "/console/feedback/call")
    expect(page.get_by_test_id("shortcuts")).to_contain_text("Alt+M")
    expect(page.get_by_test_id("call-map")).to_have_attribute("data-loaded", "true")

    # The number first (the field has the focus): the caller's earlier report appears.
    expect(page.get_by_test_id("call-phone")).to_be_focused()
    page.keyboard.type("0912 345 678")
    expect(page.get_by_test_id("caller")).to_contain_text(earlier_code)
    page.keyboard.press("Tab")
    page.keyboard.type("Nguyễn Văn An")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("call-consent")).to_be_checked()
    page.keyboard.press("Alt+m")  # "I don't know" the category: straight to the description
    expect(page.get_by_test_id("call-description")).to_be_focused()
    page.keyboard.type("Dây điện võng thấp trước số 14, rất nguy hiểm")
    page.keyboard.press("Alt+l")
    page.keyboard.type("Số 14 đường Ngô Gia Tự, phường Kinh Bắc")
    _pin(page, KINH_BAC[0] + 0.0002, KINH_BAC[1])
    expect(page.get_by_test_id("nearby")).to_contain_text(earlier_code)  # the open report nearby
    page.keyboard.press("Alt+m")
    page.keyboard.press("Enter")  # Enter saves the report

    code = page.get_by_test_id("taken-code").inner_text()
    assert re.fullmatch(r"PA-\d{4}-\d{6}", code) and code != earlier_code
    expect(page.get_by_test_id("call-description")).to_have_value("")  # a fresh form for the next call
    expect(page.get_by_test_id("call-phone")).to_be_focused()

    # The report waits for triage; the operator gives it its category on its page.
    page.get_by_test_id("taken-link").click()
    expect(page.get_by_test_id("report-code")).to_have_text(code)
    expect(page.get_by_test_id("report-status")).to_have_attribute("data-status", "received")
    expect(page.get_by_test_id("reporter-phone")).to_have_text("0912 345 678")
    expect(page.get_by_test_id("report-map")).to_have_attribute("data-pinned", "true")
    page.get_by_test_id("triage-category").select_option("street-lighting")
    page.get_by_test_id("triage-submit").click()
    expect(page.get_by_test_id("notice")).to_be_visible()
    expect(page.get_by_test_id("report-status")).to_have_attribute("data-status", "triaged")
    expect(page.get_by_test_id("report-agency")).to_contain_text("Sở Xây dựng")

    # A move that needs a reason is refused without one, and nothing changes.
    page.get_by_test_id("move-on_hold").click()
    expect(page.get_by_test_id("form-error")).to_have_attribute("data-code", "reason-required")
    expect(page.get_by_test_id("report-status")).to_have_attribute("data-status", "triaged")

    # Assign to the agency's staff, start, reply to the citizen and resolve.
    page.get_by_test_id("assignee-assigned").select_option(label="Staff")
    page.get_by_test_id("move-assigned").click()
    expect(page.get_by_test_id("report-status")).to_have_attribute("data-status", "assigned")
    page.get_by_test_id("move-in_progress").click()
    expect(page.get_by_test_id("report-status")).to_have_attribute("data-status", "in_progress")
    page.get_by_test_id("note-text").fill("Điện lực đã cử đội kiểm tra dây điện")
    page.get_by_test_id("note-public").check()
    page.get_by_test_id("note-submit").click()
    expect(page.locator("[data-testid=notes] [data-public=true]")).to_contain_text("Điện lực đã cử đội")
    page.get_by_test_id("resolution").fill("Đã kéo căng và cố định lại dây điện")
    page.get_by_test_id("move-resolved").click()
    expect(page.get_by_test_id("report-status")).to_have_attribute("data-status", "resolved")
    expect(page.locator("[data-testid=timeline] li[data-to=resolved]")).to_have_count(1)

    # More reports for the list: a fallen tree past its deadline, and one waiting for triage.
    with httpx.Client(base_url=live_server) as api:
        operator = {"Authorization": f"Bearer {token('operator')}"}
        late = api.post("/api/v1/reports", headers=operator, json=report_json(
            service_code="trees", attributes={}, description="Cây đổ chắn ngang đường trước trường tiểu học",
            lat=BAC_GIANG[0], long=BAC_GIANG[1])).json()["tracking_code"]
        api.post("/api/v1/reports", headers=operator, json=report_json(
            service_code=None, attributes={}, description="Nước thải chảy tràn ra đường sau mưa", address="Ngõ 3"))
    with unit_of_work(app.state.session_factory) as session:
        session.execute(update(Case).where(Case.code == late).values(deadline_at=utcnow() - timedelta(hours=3)))

    page.goto(live_server + "/console/feedback/reports")
    expect(page.locator(f"tr[data-code='{code}']")).to_be_visible()
    expect(page.locator(f"tr[data-code='{earlier_code}']")).to_be_visible()
    expect(page.locator(f"tr[data-code='{late}'] [data-deadline=overdue]")).to_be_visible()
    assert not browser.errors, browser.errors
    assert not browser.outside, browser.outside
    browser.context.close()
