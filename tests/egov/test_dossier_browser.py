"""The one-stop shop in a real browser: a clerk receives a dossier and prints the slip, the agency resolves it,
the clerk returns the result, and the citizen looks it up by code and rates it.

Drives Debian's Chromium with Playwright against a real uvicorn server (fixtures of tests/web/test_browser.py).
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import DEMO_PASSWORD
from tests.web.test_browser import chromium  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def _sign_in(context, base: str, username: str):
    page = context.new_page()
    page.goto(base + "/login?next=%2Fconsole%2Fdossiers")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/console/dossiers")
    return page


def test_a_dossier_goes_from_the_counter_to_the_citizens_rating(live_server: str, chromium,  # noqa: F811
                                                                 procedure_id: int) -> None:
    from playwright.sync_api import expect

    base = live_server
    local = re.compile(r"^" + re.escape(base) + r"/")
    outside: list[str] = []

    def new_context():
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        context.set_default_timeout(8000)
        context.route(lambda url: not local.match(url) and not url.startswith("data:"),
                      lambda route: (outside.append(route.request.url), route.abort()))
        return context

    # The clerk receives the dossier at the counter.
    clerk = _sign_in(new_context(), base, "clerk")
    clerk.get_by_test_id("receive-dossier").click()
    clerk.get_by_test_id("procedure-select").select_option(str(procedure_id))
    clerk.get_by_label("Họ và tên người nộp").fill("Nguyễn Văn An")
    clerk.get_by_test_id("intake-submit").click()
    expect(clerk.get_by_test_id("notice")).to_have_text("Đã tiếp nhận hồ sơ")
    code = clerk.get_by_test_id("dossier-code").inner_text().strip()
    assert re.fullmatch(r"HS-\d{4}-\d{6}", code)
    dossier_url = clerk.url.split("?")[0]

    # ... prints the slip (form 01), with its QR code and PDF.
    clerk.get_by_test_id("print-slip").click()
    expect(clerk.get_by_test_id("slip-code")).to_have_text(code)
    expect(clerk.get_by_test_id("slip-qr").locator("svg")).to_be_visible()
    pin = clerk.get_by_test_id("slip-pin").inner_text().strip()
    pdf = clerk.request.get(base + clerk.get_by_test_id("slip-pdf").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF-")
    clerk.goto(dossier_url)
    clerk.get_by_test_id("move-in_processing").click()
    expect(clerk.get_by_test_id("dossier-status")).to_contain_text("Đang giải quyết")

    # The processing agency (Sở Xây dựng) resolves it.
    staff = _sign_in(new_context(), base, "staff")
    expect(staff.locator(f"tr[data-code='{code}']")).to_be_visible()
    staff.locator(f"tr[data-code='{code}'] a").first.click()
    staff.get_by_test_id("move-result_ready").click()
    expect(staff.get_by_test_id("dossier-status")).to_contain_text("Đã có kết quả")

    # The centre hands the result back.
    clerk.reload()
    clerk.get_by_test_id("move-returned").click()
    expect(clerk.get_by_test_id("dossier-status")).to_contain_text("Đã trả kết quả")
    expect(clerk.get_by_test_id("dossier-status")).to_contain_text("Trước hạn")

    # The citizen looks the dossier up by its code and rates the service.
    citizen = new_context().new_page()
    citizen.goto(base + "/portal/dossiers/lookup")
    citizen.get_by_label("Mã hồ sơ").fill(code)
    citizen.get_by_role("button", name="Tra cứu").click()
    expect(citizen.get_by_test_id("lookup-status")).to_contain_text("Đã trả kết quả")
    expect(citizen.get_by_test_id("lookup-result")).not_to_contain_text("Nguyễn Văn An")
    citizen.get_by_label("Mã bảo mật trên giấy hẹn").fill(pin)
    citizen.locator("input[name=attitude][value='4']").check()
    citizen.get_by_label("Góp ý").fill("Cán bộ hướng dẫn tận tình")
    citizen.get_by_test_id("rating-submit").click()
    expect(citizen.get_by_test_id("notice")).to_have_text("Cảm ơn ông/bà đã đánh giá")
    expect(citizen.get_by_test_id("already-rated")).to_be_visible()

    clerk.reload()
    expect(clerk.get_by_test_id("rating")).to_contain_text("Cán bộ hướng dẫn tận tình")
    assert outside == []
