"""The console in a real browser: sign in through the form, switch languages, see the province's map.

Drives Debian's Chromium (``/usr/bin/chromium``) with Playwright against a real uvicorn server
on a migrated, seeded database. In CI (``CI=true``) the test always runs; elsewhere it is
skipped only when Chromium is not installed (``make chromium`` installs it).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from tests.conftest import DEMO_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                 "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() == "true"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One headless Chromium per test module (each test opens its own context: cookies, storage, pages)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's Chromium (make chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _ward_count() -> int:
    raw = (resources.files("saola") / "data" / "geo" / "bac_ninh_wards.geojson").read_text("utf-8")
    return len(json.loads(raw)["features"])


def test_operator_signs_in_switches_language_and_sees_the_province_map(live_server: str, chromium) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="vi-VN")
    context.set_default_timeout(8000)
    outside: list[str] = []
    local = re.compile(r"^" + re.escape(live_server) + r"/")
    # Nothing may load from outside Saola (no CDN): such requests are recorded and refused.
    context.route(lambda url: not local.match(url) and not url.startswith("data:"),
                  lambda route: (outside.append(route.request.url), route.abort()))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Anonymous: the console sends us to the sign-in form, which brings us back.
    page.goto(live_server + "/console")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fconsole$"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.get_by_label("Tên đăng nhập").fill("operator")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(live_server + "/console")

    # In Vietnamese by default.
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tổng quan")
    expect(page.locator(".side-nav")).to_contain_text("Người dùng")
    page.get_by_test_id("user-menu").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()

    # Switch to English, then back.
    page.locator("[data-testid=language-menu] button[data-lang=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.locator(".side-nav")).to_contain_text("Users")
    expect(page.get_by_test_id("user-menu")).to_contain_text("IOC operator")
    page.locator("[data-testid=language-menu] button[data-lang=vi]").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tổng quan")

    # The offline map drew the province: one SVG path per ward, the outline, the national context.
    map_el = page.get_by_test_id("console-map")
    expect(map_el).to_have_attribute("data-loaded", "true")
    wards = _ward_count()
    assert wards > 50
    expect(map_el.locator(".leaflet-overlay-pane path.leaflet-interactive")).to_have_count(wards)
    expect(map_el.locator(".leaflet-saola-outline-pane path")).to_have_count(1)
    layers = page.evaluate("""() => {
        const m = window.saolaMaps["console-map"];
        const box = m.getContainer().getBoundingClientRect();
        const outline = m.getContainer().querySelector(".leaflet-saola-outline-pane path").getBoundingClientRect();
        return {wards: m.saolaLayers.wards.getLayers().length, provinces: m.saolaLayers.provinces.getLayers().length,
                zoom: m.getZoom(), box: [box.width, box.height], outline: [outline.width, outline.height]};
    }""")
    assert layers["wards"] == wards
    assert layers["provinces"] == 34
    assert layers["zoom"] >= 8  # fitted to the province, not the whole country
    # The province outline fills most of the map in at least one direction.
    assert max(layers["outline"][0] / layers["box"][0], layers["outline"][1] / layers["box"][1]) > 0.6

    # Hovering a ward names it.
    box = map_el.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator(".leaflet-tooltip")).to_contain_text(re.compile(r"(Phường|Xã) .+ · \d{5}"))

    assert not errors, errors
    assert not outside, outside
    context.close()
