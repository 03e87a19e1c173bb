"""The operations centre in a real browser (the issue's check): the operator signs in, opens the console, sees the
map with its layers, receives a live alert without reloading, acknowledges it, opens an incident from it and
closes it with a resolution note. Then the entity's page shows the alert, the incident and the device commands.

Same set-up as :mod:`tests.web.test_browser` (uvicorn on a free port, Debian's Chromium through Playwright,
nothing loaded from outside Saola). The alert is raised as the rule engine raises it
(:func:`saola.rules.alerts.raise_alert` in the server's database, its event published on the server's bus).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.browser import offline_page, sign_in
from tests.ioc.test_console_layers import create, lamp, raise_alert, segment, station
from tests.ioc.test_console_sse import publish
from tests.ioc.test_kpis import provision_lamp_devices
from tests.web.test_browser import chromium  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

FAULTY = "urn:ngsi-ld:Streetlight:bn-09187-0003"


def test_operator_sees_the_live_map_acknowledges_a_live_alert_and_handles_its_incident(
    app: Any, live_server: str, chromium: Any, client: TestClient, token: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    secret = token("operator", ["context:read", "context:write", "alerts:read"])
    lamps = [lamp(n) for n in range(1, 3)] + [lamp(3, status="defectiveLamp")] + [lamp(n, power="off")
                                                                                    for n in range(4, 41)]
    create(client, secret, [*lamps, segment(1, "jam"), segment(2, "free"), station(1, 175)])
    provision_lamp_devices(app, [FAULTY])

    browser = offline_page(chromium, live_server, width=1440, timeout_ms=10000)
    page = browser.page
    sign_in(page, live_server, "operator")

    # The navigation leads to the operations centre: the map with its layers, live KPI tiles.
    page.get_by_role("link", name="Trung tâm điều hành").first.click()
    expect(page).to_have_url(live_server + "/console/ioc")
    expect(page.get_by_test_id("ioc-map")).to_have_attribute("data-loaded", "true")
    expect(page.get_by_test_id("ioc-map")).to_have_attribute("data-layers-ready", "true")
    switcher = page.get_by_test_id("layer-switcher")
    expect(switcher.get_by_test_id("layer-lamps-count")).to_have_text("(40)")
    expect(switcher.locator("[data-count='lamps:faulty']")).to_have_text(" 1")
    expect(switcher.get_by_test_id("layer-traffic-count")).to_have_text("(2)")
    expect(page.locator(".ioc-cluster-lamps").first).to_be_visible()  # 40 lamps are clustered
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("kpi-lamps-value")).to_have_text("3")
    expect(page.get_by_test_id("kpi-traffic-value")).to_have_text("1")
    expect(page.get_by_test_id("kpi-aqi-value")).to_have_text("175")
    expect(page.get_by_test_id("kpi-alerts-value")).to_have_text("0")
    expect(page.get_by_test_id("feed-empty")).to_be_visible()

    # A layer can be hidden; search finds an entity by its id (or name, address) and opens its popup.
    page.get_by_test_id("layer-traffic").uncheck()
    page.get_by_test_id("search").fill("Streetlight:bn-09187-0003")
    results = page.get_by_test_id("search-results")
    expect(results.locator("li")).to_have_count(1)
    results.locator("li").first.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text(FAULTY)
    page.keyboard.press("Escape")

    # A live alert arrives without reloading: the feed shows it on top and the tile counts it.
    page.evaluate("() => { window.notReloaded = true; }")
    alert_id, events = raise_alert(app, subject=FAULTY, severity="critical", title="Đèn hỏng trên đường Lý Thái Tổ",
                                   location={"type": "Point", "coordinates": [106.0766, 21.1861]})
    publish(app, events)
    item = page.get_by_test_id("feed-item").first
    expect(item).to_contain_text("Đèn hỏng trên đường Lý Thái Tổ")
    expect(item).to_have_attribute("data-state", "active")
    expect(page.get_by_test_id("kpi-alerts-value")).to_have_text("1")
    expect(page.get_by_test_id("kpi-alerts")).to_contain_text("1 nghiêm trọng")
    assert page.evaluate("() => window.notReloaded") is True

    # Keyboard: "?" shows the shortcuts; "a" acknowledges the selected alert.
    page.locator("body").press("?")
    expect(page.get_by_test_id("help")).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("body").press("a")
    expect(item).to_have_attribute("data-state", "acknowledged")
    expect(item.get_by_test_id("feed-state")).to_have_text("Đã xác nhận")
    expect(item.get_by_test_id("ack")).to_have_count(0)

    # Open an incident from the alert, then close it with a resolution note.
    item.get_by_test_id("open-incident").click()
    expect(page).to_have_url(re.compile(rf"/console/incidents/new\?alert={alert_id}$"))
    expect(page.get_by_test_id("incident-alerts")).to_have_value(str(alert_id))
    page.get_by_test_id("incident-title").fill("Đèn hỏng Lý Thái Tổ")
    page.get_by_test_id("open-incident").click()
    expect(page.get_by_test_id("incident-status")).to_have_attribute("data-status", "open")
    incident_url = page.url
    page.get_by_test_id("resolution-closed").fill("Đã thay bóng đèn, đèn sáng trở lại")
    page.get_by_test_id("move-closed").click()
    expect(page.get_by_test_id("incident-status")).to_have_attribute("data-status", "closed")
    expect(page.get_by_test_id("incident-resolution")).to_have_text("Đã thay bóng đèn, đèn sáng trở lại")

    # The entity's page shows the alert, the incident and the device's commands; a command can be sent.
    page.goto(live_server + "/console/entities/" + FAULTY)
    panel = page.get_by_test_id("ioc-entity-panel")
    expect(panel.get_by_test_id("entity-alert")).to_have_count(1)
    expect(panel.get_by_test_id("entity-alert")).to_have_attribute("data-state", "acknowledged")
    expect(panel.get_by_test_id("entity-incident")).to_contain_text("Đèn hỏng Lý Thái Tổ")
    command = panel.get_by_test_id("command-dim")
    command.locator("input[name=value]").fill("40")
    command.get_by_role("button", name="Gửi").click()
    expect(page.get_by_test_id("command-notice")).to_be_visible()
    expect(page.get_by_test_id("command-history")).to_contain_text("PENDING")
    assert incident_url.startswith(live_server + "/console/incidents/")

    # The video wall: large text, one view at a time, rotating (every second here).
    page.goto(live_server + "/console/ioc?wall=1&rotate=1")
    expect(page.locator("body")).to_have_class(re.compile(r"\bwall\b.*\blarge-text\b"))
    body = page.locator(".ioc-body")
    expect(body).to_have_attribute("data-view", "map")
    expect(page.get_by_test_id("charts")).to_be_hidden()
    expect(body).to_have_attribute("data-view", "charts")
    expect(page.get_by_test_id("charts")).to_be_visible()
    expect(page.get_by_test_id("ioc-map")).to_be_hidden()
    expect(body).to_have_attribute("data-view", "feed")
    expect(page.get_by_test_id("feed")).to_be_visible()

    # On a laptop, large text is a toggle the browser remembers.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server + "/console/ioc")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\blarge-text\b"))
    page.get_by_test_id("large-text").click()
    expect(page.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))
    page.reload()
    expect(page.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))

    assert not browser.errors, browser.errors
    assert not browser.outside, browser.outside
    browser.context.close()
