"""Take the operations centre's screenshots: ``docs/screenshots/ioc-console.png`` and ``ioc-entity.png``.

Runs Saola on a temporary SQLite database with the demo city (``saola migrate`` + ``saola demo``) and its
simulator beside the server (``SAOLA_SIMULATOR=on``, a simulated day sped up so that rules fire), signs in
as the demo operator in headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright), waits
until the console shows live alerts, and saves the console (1600×900) and the page of an entity with an
alert (1440×900).

    .venv/bin/python scripts/screenshots_ioc.py [--out docs/screenshots] [--lang vi|en] [--wait 90]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshots import CHROMIUM, CHROMIUM_ARGS, _free_port, _saola, _wait_until_up

ROOT = Path(__file__).resolve().parent.parent
CONSOLE_VIEWPORT = {"width": 1600, "height": 900}
ENTITY_VIEWPORT = {"width": 1440, "height": 900}


def _entity_with_alert(page: Any) -> str | None:
    """The subject of an open alert that is an entity (a lamp, else the most severe first), via the console's API."""
    return page.evaluate("""async () => {
        const r = await fetch('/api/v1/ioc/layers/alerts.geojson', {credentials: 'same-origin'});
        const body = await r.json();
        const order = ['critical', 'major', 'minor', 'warning', 'info'];
        const found = body.features.map(f => f.properties).filter(p => (p.subject || '').startsWith('urn:'));
        const lamp = p => (p.subject.includes(':Streetlight:') ? 0 : 1);  // a lamp shows its commands too
        found.sort((a, b) => lamp(a) - lamp(b) || order.indexOf(a.status) - order.indexOf(b.status));
        return found.length ? found[0].subject : null;
    }""")


def _faulty_lamp(page: Any) -> str | None:
    return page.evaluate("""async () => {
        const r = await fetch('/api/v1/ioc/layers/lamps.geojson', {credentials: 'same-origin'});
        const body = await r.json();
        const f = body.features.find(f => f.properties.status === 'faulty') || body.features[0];
        return f ? f.id : null;
    }""")


def _shoot(base: str, out: Path, lang: str, password: str, wait: float) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=CONSOLE_VIEWPORT, locale="vi-VN" if lang == "vi" else "en-GB",
                                      extra_http_headers={"Accept-Language": lang})
        page = context.new_page()
        page.goto(base + "/login?next=/console/ioc")
        page.fill("input[name=username]", "operator")
        page.fill("input[name=password]", password)
        page.click("form[data-testid=login-form] button[type=submit]")
        page.wait_for_url(base + "/console/ioc")
        page.wait_for_selector("#ioc-map[data-layers-ready=true]")
        page.wait_for_selector(".ioc-live[data-state=live]", timeout=30_000)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:  # the simulator's injected events make rules fire
            if int(page.evaluate("() => document.querySelector('.feed-list').dataset.count || '0'")) >= 3:
                break
            page.wait_for_timeout(2000)
        page.reload()  # a fresh page: every layer loaded with the latest data
        page.wait_for_selector("#ioc-map[data-layers-ready=true]")
        page.wait_for_selector(".ioc-live[data-state=live]", timeout=30_000)
        page.wait_for_timeout(4000)  # layers, KPI snapshot and charts
        page.screenshot(path=out / "ioc-console.png")
        print("ioc-console.png")

        page.set_viewport_size(ENTITY_VIEWPORT)
        entity = _entity_with_alert(page) or _faulty_lamp(page)
        if entity is None:
            raise SystemExit("the demo city has no entity to show")
        page.goto(base + "/console/entities/" + entity)
        page.wait_for_selector("[data-testid=ioc-entity-panel]")
        page.wait_for_selector("#history-chart[data-state=ready]", timeout=15_000)
        page.wait_for_timeout(500)
        page.screenshot(path=out / "ioc-entity.png", full_page=True)
        print("ioc-entity.png", entity)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi")
    parser.add_argument("--wait", type=float, default=90.0, help="Most seconds to wait for live alerts")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="saola-ioc-shots-") as tmp:
        env = {**os.environ, "SAOLA_DATA_DIR": tmp, "SAOLA_ENV": "development", "SAOLA_LOG_JSON": "false",
               "SAOLA_SIMULATOR": "on", "SAOLA_SIMULATOR_TRANSPORT": "http", "SAOLA_SIMULATOR_RATE": "200",
               "SAOLA_SIMULATOR_ACCELERATION": "120", "SAOLA_MQTT_INGEST": "off"}
        env.pop("SAOLA_DATABASE_URL", None)
        _saola(env, "migrate")
        _saola(env, "demo")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([str(Path(sys.executable).with_name("saola")), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], env=env, cwd=tmp)
        try:
            _wait_until_up(base, server, timeout=60)
            _shoot(base, args.out, args.lang, env.get("SAOLA_DEMO_PASSWORD", "saola-demo"), args.wait)
        finally:
            server.terminate()
            server.wait(20)


if __name__ == "__main__":
    main()
