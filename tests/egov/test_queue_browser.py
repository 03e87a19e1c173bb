"""The queue in a real browser: a citizen takes a ticket at the kiosk, and the display board shows it
called at the counter live, without reloading, when a clerk calls next from the counter page; the
clerk's next-in-line list also grows live when the next citizen takes a ticket.

Drives Debian's Chromium with Playwright against a real uvicorn server (the fixtures of
``tests/web/test_browser.py``); skipped only when Chromium is missing outside CI.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import DEMO_PASSWORD
from tests.egov.test_queue_support import centre
from tests.web.test_browser import chromium  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_a_ticket_taken_at_the_kiosk_is_called_live_on_the_board(app, live_server: str, chromium) -> None:  # noqa: F811
    from playwright.sync_api import expect

    c = centre(app)
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="vi-VN")
    context.set_default_timeout(8000)
    local = re.compile(r"^" + re.escape(live_server) + r"/")
    outside: list[str] = []
    context.route(lambda url: not local.match(url) and not url.startswith("data:"),
                  lambda route: (outside.append(route.request.url), route.abort()))
    context.add_init_script("document.addEventListener('htmx:sseOpen', () => { window.__sseOpen = true; });")
    errors: list[str] = []

    board = context.new_page()
    board.on("pageerror", lambda exc: errors.append(str(exc)))
    board.goto(live_server + "/queue/board")
    expect(board.get_by_role("heading", level=1)).to_contain_text("Bảng hiển thị số thứ tự")
    board.wait_for_function("window.__sseOpen === true")
    board.evaluate("window.__notReloaded = true")
    expect(board.get_by_test_id("counter-1-ticket")).to_have_text("")

    # A citizen takes a ticket for land matters at the kiosk.
    kiosk = context.new_page()
    kiosk.goto(live_server + "/queue/kiosk")
    kiosk.get_by_test_id("service-A").click()
    expect(kiosk.get_by_test_id("ticket-code")).to_have_text("A001")
    expect(kiosk.get_by_test_id("ahead")).to_contain_text("0")
    # The board counts them waiting, live.
    expect(board.locator("[data-testid=waiting-counts] tr[data-prefix=A] .count")).to_have_text("1")

    # A clerk signs in and calls the next ticket at counter 1.
    desk = context.new_page()
    desk.goto(live_server + f"/console/queue/counters/{c.counter1}")
    desk.get_by_label("Tên đăng nhập").fill("clerk")
    desk.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    desk.get_by_role("button", name="Đăng nhập").click()
    desk.get_by_test_id("call-next").click()
    expect(desk.get_by_test_id("current-ticket")).to_have_text("A001")

    # The board shows it called at counter 1 and announces it, without reloading.
    expect(board.get_by_test_id("counter-1-ticket")).to_have_text("A001")
    expect(board.get_by_test_id("board-flash")).to_have_text("A001 → 1")
    expect(board.get_by_test_id("last-calls")).to_contain_text("A001")
    expect(board.locator("[data-testid=waiting-counts] tr[data-prefix=A] .count")).to_have_text("0")
    assert board.evaluate("window.__notReloaded") is True

    # The next citizen's ticket appears in the clerk's next-in-line list live too.
    desk.wait_for_function("window.__sseOpen === true")
    kiosk.goto(live_server + "/queue/kiosk")
    kiosk.get_by_test_id("service-A").click()
    expect(kiosk.get_by_test_id("ticket-code")).to_have_text("A002")
    expect(desk.get_by_test_id("next-in-line")).to_contain_text("A002")
    expect(board.locator("[data-testid=waiting-counts] tr[data-prefix=A] .count")).to_have_text("1")
    assert errors == []
    assert outside == []
    context.close()
