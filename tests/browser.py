"""What every browser test shares: a page that may load nothing from outside Saola, and signing in.

``offline_page`` opens a fresh browser context (its own cookies) whose requests to anything but the
live server are refused and recorded in ``outside`` (the UI must work with no internet: no CDN), and
whose page errors are recorded in ``errors``; a test ends by asserting both are empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import DEMO_PASSWORD


@dataclass
class OfflinePage:
    page: Any
    context: Any
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def offline_page(chromium: Any, live_server: str, *, width: int = 1280, height: int = 900,
                 timeout_ms: int = 8000) -> OfflinePage:
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    context.set_default_timeout(timeout_ms)
    opened = OfflinePage(page=None, context=context)
    local = re.compile(r"^" + re.escape(live_server) + r"/")
    context.route(lambda url: not local.match(url) and not url.startswith("data:"),
                  lambda route: (opened.outside.append(route.request.url), route.abort()))
    opened.page = context.new_page()
    opened.page.on("pageerror", lambda exc: opened.errors.append(str(exc)))
    return opened


def sign_in(page: Any, live_server: str, username: str, next_path: str = "/console") -> None:
    """Sign in through the (Vietnamese) form and land on ``next_path``."""
    from playwright.sync_api import expect

    page.goto(f"{live_server}/login?next={next_path}")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(live_server + next_path)
