"""Take the screenshots in ``docs/screenshots/`` of the portal, the sign-in page and the console.

Runs Saola on a temporary SQLite database (``saola migrate`` + ``saola demo``), signs in as the
demo administrator in headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright)
and saves ``login.png``, ``portal.png``, ``console.png`` and ``users.png`` at 1440×900, and the 1022
console's ``feedback-reports.png`` and ``feedback-report.png`` at 1280×800.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--lang vi|en]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                 "--no-first-run"]
VIEWPORT = {"width": 1440, "height": 900}
FEEDBACK_VIEWPORT = {"width": 1280, "height": 800}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _saola(env: dict[str, str], *args: str) -> None:
    cli = Path(sys.executable).with_name("saola")
    subprocess.run([str(cli), *args], env=env, check=True, cwd=env["SAOLA_DATA_DIR"])


def _wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"saola serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("saola serve did not start")


def _shoot(base: str, out: Path, lang: str, password: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, locale="vi-VN" if lang == "vi" else "en-GB",
                                      extra_http_headers={"Accept-Language": lang})
        page = context.new_page()

        page.goto(base + "/")
        page.wait_for_selector("[data-saola-map][data-loaded=true]")
        page.screenshot(path=out / "portal.png")
        print("portal.png")

        page.goto(base + "/login")
        page.screenshot(path=out / "login.png")
        print("login.png")

        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", password)
        page.click("form[data-testid=login-form] button[type=submit]")
        page.wait_for_url(base + "/console")
        page.wait_for_selector("[data-saola-map][data-loaded=true]")
        page.wait_for_timeout(300)  # let the map finish its fit animation
        page.screenshot(path=out / "console.png")
        print("console.png")

        page.goto(base + "/console/users")
        page.screenshot(path=out / "users.png")
        print("users.png")

        _shoot_feedback_console(page, base, out)
        browser.close()


def _shoot_feedback_console(page, base: str, out: Path) -> None:
    """The 1022 console at 1280×800: the list of reports and the page of one being handled (demo reports)."""
    page.set_viewport_size(FEEDBACK_VIEWPORT)
    page.goto(base + "/console/feedback/reports")
    page.screenshot(path=out / "feedback-reports.png")
    print("feedback-reports.png")
    page.goto(base + "/console/feedback/reports?status=in_progress")
    first = page.locator("[data-testid=reports-table] tbody tr[data-code] a").first
    if first.count():
        first.click()
        page.wait_for_selector("[data-testid=report-code]")
        if page.locator("[data-testid=report-map]").count():
            page.wait_for_selector("[data-testid=report-map][data-pinned=true]")
        page.wait_for_timeout(300)  # let the map settle
        page.screenshot(path=out / "feedback-report.png")
        print("feedback-report.png")
    page.set_viewport_size(VIEWPORT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="where to save the PNGs")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi", help="language of the pages")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="saola-shots-") as tmp:
        # Run in the empty temporary folder (no saola.toml there) with only the settings needed.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAOLA_")}
        env.update(SAOLA_DATA_DIR=tmp, SAOLA_ENV="development", SAOLA_LOG_LEVEL="WARNING")
        password = "saola-demo"  # the default demo password
        _saola(env, "migrate")
        _saola(env, "demo")
        port = _free_port()
        cli = Path(sys.executable).with_name("saola")
        server = subprocess.Popen([str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=tmp)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base, server)
            _shoot(base, args.out, args.lang, password)
        finally:
            server.terminate()
            server.wait(10)
    print(f"saved in {args.out}")


if __name__ == "__main__":
    main()
