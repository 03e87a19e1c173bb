"""The entity browser in a real browser: pick a type, open an entity, see its marker and its history chart.

Same set-up as :mod:`tests.web.test_browser` (uvicorn on a free port, Debian's Chromium through
Playwright, nothing loaded from outside Saola). Entities are created through the NGSI-LD API with
an operator's token; one lamp's illuminance is updated several times so the chart has a history.

With ``SAOLA_SCREENSHOT_DIR`` set, the test also saves ``entities.png`` there (the README's
screenshot: ``SAOLA_SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest tests/web/test_entity_browser.py``).
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.browser import offline_page, sign_in
from tests.web.test_browser import chromium  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

NGSI = "/ngsi-ld/v1"
LAMP = "urn:ngsi-ld:Streetlight:bn-{:03d}"
# Around the Bắc Ninh provincial square.
PLACES = [(106.0763, 21.1861), (106.0781, 21.1849), (106.0745, 21.1873), (106.0802, 21.1838)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _seed(client: TestClient, secret: str) -> None:
    headers = {"Authorization": f"Bearer {secret}"}
    lamps: list[dict[str, Any]] = [{
        "id": LAMP.format(n), "type": "Streetlight",
        "name": {"type": "Property", "value": f"Đèn đường Lý Thái Tổ {n}"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": list(PLACES[n - 1])}},
        "powerState": {"type": "Property", "value": "on"},
        "illuminanceLevel": {"type": "Property", "value": 0.6, "unitCode": "C62"},
        "refStreetlightControlCabinet": {"type": "Relationship", "object": "urn:ngsi-ld:StreetlightControlCabinet:c1"},
    } for n in range(1, 5)]
    sensors = [{"id": "urn:ngsi-ld:AirQualityObserved:bn-aq1", "type": "AirQualityObserved",
                "pm25": {"type": "Property", "value": 42, "unitCode": "GQ"}}]
    r = client.post(f"{NGSI}/entityOperations/create", json=lamps + sensors, headers=headers)
    assert r.status_code == 201, r.text
    now = datetime.now(UTC)
    for hours, level in ((20, 0.9), (14, 0.7), (8, 0.35), (3, 0.2), (0.5, 0.8)):
        r = client.patch(f"{NGSI}/entities/{LAMP.format(1)}/attrs", headers=headers, json={
            "illuminanceLevel": {"type": "Property", "value": level, "unitCode": "C62",
                                 "observedAt": _iso(now - timedelta(hours=hours))}})
        assert r.status_code == 204, r.text


def _no_horizontal_scroll(page: Any) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_operator_browses_a_type_opens_an_entity_and_sees_its_map_and_history(
    live_server: str, chromium: Any, client: TestClient, token: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    _seed(client, token("operator", ["context:read", "context:write"]))
    browser = offline_page(chromium, live_server, width=1440)
    page = browser.page
    sign_in(page, live_server, "operator")

    # The navigation leads to the browser; the types are listed with their counts.
    page.locator(".side-nav").get_by_role("link", name="Thực thể đô thị").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thực thể đô thị")
    types = page.get_by_test_id("entity-types")
    expect(types.locator("[data-type=Streetlight] .badge")).to_have_text("4")
    expect(types.locator("[data-type=AirQualityObserved] .badge")).to_have_text("1")

    # Pick a type: its entities are listed and drawn on the map (clustered markers).
    types.locator("[data-type=Streetlight]").click()
    expect(page.get_by_test_id("entity-table").locator("tbody tr")).to_have_count(4)
    list_map = page.get_by_test_id("entities-map")
    expect(list_map).to_have_attribute("data-loaded", "true")
    expect(list_map).to_have_attribute("data-markers", "4")
    assert page.evaluate("() => window.saolaMaps['entities-map'].saolaEntities.getLayers().length") == 4

    # A q filter narrows the list; a bad one shows the broker's message.
    page.get_by_label("Truy vấn (q)").fill("powerState==")
    page.get_by_role("button", name="Lọc").click()
    expect(page.get_by_test_id("query-error")).to_contain_text("Truy vấn không hợp lệ")
    page.get_by_label("Truy vấn (q)").fill('powerState=="on"')
    page.get_by_role("button", name="Lọc").click()
    expect(page.get_by_test_id("entity-table").locator("tbody tr")).to_have_count(4)

    # Open an entity: its attributes, its marker on the map, the history chart.
    page.get_by_role("link", name=LAMP.format(1)).click()
    expect(page.get_by_test_id("entity-title")).to_have_text("Đèn đường Lý Thái Tổ 1")
    expect(page.get_by_test_id("attributes").locator("tr[data-attribute=illuminanceLevel]")).to_contain_text("0,8")
    entity_map = page.get_by_test_id("entity-map")
    expect(entity_map).to_have_attribute("data-markers", "1")
    expect(entity_map.locator(".leaflet-marker-icon")).to_have_count(1)
    centre = page.evaluate("() => { const c = window.saolaMaps['entity-map'].getCenter(); return [c.lng, c.lat]; }")
    assert abs(centre[0] - PLACES[0][0]) < 0.01 and abs(centre[1] - PLACES[0][1]) < 0.01

    chart = page.get_by_test_id("history-chart")
    expect(chart).to_have_attribute("data-state", "ready")
    # The last day: the five observations and the value set at creation.
    expect(chart).to_have_attribute("data-points", "6")
    drawn = page.evaluate("""() => {
        const c = document.getElementById('history-chart')._chart;
        return {values: c.data.datasets[0].data.map(p => p.y), label: c.data.datasets[0].label,
                width: c.width, height: c.height};
    }""")
    assert drawn["values"] == [0.9, 0.7, 0.35, 0.2, 0.8, 0.6]
    assert drawn["label"] == "illuminanceLevel (C62)"
    assert drawn["width"] > 300 and drawn["height"] > 150
    # Local times, day first: "24/11 07:15 – 25/11 07:15 · 6 giá trị".
    expect(page.get_by_test_id("history-status")).to_have_text(
        re.compile(r"^\d{2}/\d{2} \d{2}:\d{2} – \d{2}/\d{2} \d{2}:\d{2} · 6 giá trị$"))

    # Another time range redraws the chart from the temporal store.
    page.get_by_test_id("history-range").select_option("hour")
    expect(chart).to_have_attribute("data-points", "2")
    assert "range=hour" in page.url
    page.get_by_test_id("history-range").select_option("custom")
    page.locator("input[name=start]").fill("2026-11-24T10:00")
    page.locator("input[name=end]").fill("2026-11-24T09:00")
    page.get_by_role("button", name="Xem").click()
    expect(page.get_by_test_id("history-error")).to_contain_text("Thời điểm kết thúc phải sau thời điểm bắt đầu")
    page.get_by_test_id("history-range").select_option("week")
    expect(chart).to_have_attribute("data-points", "6")
    expect(page.get_by_test_id("history-error")).to_be_hidden()

    screenshots = os.environ.get("SAOLA_SCREENSHOT_DIR")
    if screenshots:
        page.get_by_test_id("history-range").select_option("day")
        expect(chart).to_have_attribute("data-points", "6")
        page.wait_for_timeout(300)
        page.screenshot(path=Path(screenshots) / "entities.png")

    # At phone width the pages fit the screen (tables scroll inside their card).
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(chart).to_have_attribute("data-state", "ready")
    assert _no_horizontal_scroll(page)
    page.goto(live_server + "/console/entities?type=Streetlight")
    expect(page.get_by_test_id("entities-map")).to_have_attribute("data-markers", "4")
    assert _no_horizontal_scroll(page)

    assert not browser.errors, browser.errors
    assert not browser.outside, browser.outside
    browser.context.close()
