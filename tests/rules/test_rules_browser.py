"""The rule editor in a real browser: the kind selector shows only the chosen kind's fields, a rule is
saved disabled, tested against last week, then enabled from the list (Debian's Chromium via Playwright).

With ``SAOLA_SCREENSHOT_DIR`` set, the test also saves ``rules-editor.png`` there (the editor with a backtest).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser import offline_page, sign_in
from tests.web.test_browser import chromium  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_operator_writes_a_rule_tests_it_and_enables_it(live_server: str, chromium: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    browser = offline_page(chromium, live_server)
    page = browser.page
    sign_in(page, live_server, "operator", "/console/rules")

    page.get_by_test_id("new-rule").click()
    threshold, no_data = page.locator("fieldset[data-kind=threshold]"), page.locator("fieldset[data-kind=no_data]")
    expect(threshold).to_be_visible()
    expect(no_data).to_be_hidden()
    page.locator("select[name=kind]").select_option("no_data")
    expect(threshold).to_be_hidden()
    expect(no_data).to_be_visible()
    expect(page.locator("fieldset[data-kind=composite]")).to_be_hidden()

    page.locator("input[name=name]").fill("Đèn mất tín hiệu")
    page.locator("input[name=entity_type]").fill("Streetlight")
    page.locator("input[name=c_no_data_after_seconds]").fill("3600")
    page.get_by_test_id("test").click()
    expect(page.get_by_test_id("firings")).to_contain_text("0")
    expect(page.locator("input[name=c_no_data_after_seconds]")).to_have_value("3600")
    expect(page.locator("fieldset[data-kind=no_data]")).to_be_visible()
    if os.environ.get("SAOLA_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(os.environ["SAOLA_SCREENSHOT_DIR"]) / "rules-editor.png"), full_page=True)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Đã lưu quy tắc ở trạng thái tắt")
    expect(page.get_by_test_id("state")).to_contain_text("Đã vô hiệu hóa")

    page.goto(live_server + "/console/rules")
    row = page.locator("tr[data-rule]")
    expect(row).to_contain_text("no_data")
    row.get_by_role("button", name="Bật").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Đã bật quy tắc")
    expect(page.locator("tr[data-rule]").get_by_role("button", name="Tắt")).to_be_visible()
    assert browser.errors == []
    assert browser.outside == []
    browser.context.close()
