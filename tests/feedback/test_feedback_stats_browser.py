"""The hotline's public map and staff dashboard in a real browser: the map draws the reports of the last 90 days
from the GeoJSON, clustered and coloured by status; the dashboard shows the tiles and the hour bars.

With ``SAOLA_SCREENSHOT_DIR`` set, saves ``feedback-map.png`` and ``feedback-dashboard.png`` (1280×800) there.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import DEMO_PASSWORD
from tests.feedback.stats_data import local, make_reports
from tests.web.test_browser import chromium  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_the_public_map_draws_recent_reports_and_staff_see_the_dashboard(app, live_server, chromium,  # noqa: F811
                                                                       categories) -> None:
    from playwright.sync_api import expect

    weeks = (datetime.now(UTC) - local("2026-03-21 00:00")).days // 7
    shift = timedelta(weeks=weeks)
    make_reports(app, shift=shift)  # the known reports, moved into the last weeks
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    context.set_default_timeout(10000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(live_server + "/feedback/map")
    the_map = page.get_by_test_id("reports-map")
    expect(the_map).to_have_attribute("data-loaded", "true")
    expect(the_map).to_have_attribute("data-reports-loaded", "true")
    expect(the_map).to_have_attribute("data-markers", "8")
    expect(page.locator("#reports-map .marker-cluster").first).to_be_visible()  # five reports share a point
    screenshots = os.environ.get("SAOLA_SCREENSHOT_DIR")
    if screenshots:
        page.wait_for_timeout(300)
        page.screenshot(path=Path(screenshots) / "feedback-map.png")

    page.goto(live_server + "/feedback/map?status=rejected")
    expect(page.get_by_test_id("reports-map")).to_have_attribute("data-markers", "1")

    page.goto(live_server + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[data-testid=login-form] button[type=submit]")
    page.wait_for_url(live_server + "/console")
    start = (local("2026-02-27 00:00") + shift).date().isoformat()
    end = (local("2026-03-31 00:00") + shift).date().isoformat()
    page.goto(live_server + f"/console/feedback/dashboard?start={start}&end={end}")
    expect(page.locator('[data-figure="received"] .tile-value')).to_have_text("8")
    expect(page.get_by_test_id("by-hour").locator("[data-hour]")).to_have_count(24)
    assert page.locator('[data-hour="09"]').evaluate("el => el.getBoundingClientRect().height") > 0
    if screenshots:
        page.screenshot(path=Path(screenshots) / "feedback-dashboard.png")
    assert not errors
