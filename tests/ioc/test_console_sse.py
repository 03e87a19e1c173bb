"""The console's live stream (server-sent events) against a real server: a snapshot first, then a KPI update and
the alert itself once an alert is raised; bursts of events are coalesced; only signed-in readers may listen."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from tests.conftest import CSRF_RE, DEMO_PASSWORD
from tests.ioc.test_console_layers import raise_alert

Event = tuple[str, Any]


def publish(app: Any, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Publish committed events on the server's bus, as the request that committed them would."""
    loop = app.state.ioc_live.loop
    for topic, payload in events:
        asyncio.run_coroutine_threadsafe(app.state.event_bus.publish(topic, payload), loop).result(5)


def messages(response: httpx.Response) -> Iterator[Event]:
    """The (event, data) pairs of an event stream, as they come."""
    name, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def wait_for(stream: Iterator[Event], predicate: Callable[[Event], bool], seconds: float = 10) -> list[Event]:
    """Events read until one satisfies ``predicate`` (fails after ``seconds``)."""
    seen: list[Event] = []
    deadline = time.monotonic() + seconds
    for item in stream:
        seen.append(item)
        if predicate(item):
            return seen
        assert time.monotonic() < deadline, f"not received in {seconds} s: {seen}"
    raise AssertionError(f"the stream ended: {seen}")


def signed_in(live_server: str, username: str = "operator") -> httpx.Client:
    """A browser-like client signed in through the login form (the stream is a console page)."""
    client = httpx.Client(base_url=live_server, timeout=httpx.Timeout(20.0, read=20.0))
    csrf = CSRF_RE.search(client.get("/login").text)
    assert csrf
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": csrf.group(1),
                                    "next": "/console/ioc"})
    assert r.status_code == 303, r.text[:300]
    return client


def open_stream(live_server: str) -> Any:
    return signed_in(live_server).stream("GET", "/console/ioc/stream")


def test_the_stream_pushes_a_kpi_update_and_the_alert_when_an_alert_is_raised(
        app: Any, live_server: str) -> None:
    with open_stream(live_server) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = messages(response)
        name, snapshot = next(stream)
        assert name == "kpis" and snapshot["alerts"]["value"] == 0
        assert {"alerts", "incidents", "reports", "lamps", "devices", "aqi", "traffic", "dossiers"} <= set(snapshot)

        alert_id, events = raise_alert(app, subject="urn:ngsi-ld:Streetlight:bn-09187-0001", severity="critical")
        assert [topic for topic, _ in events] == ["alert.raised"]
        publish(app, events)
        seen = wait_for(stream, lambda e: e[0] == "kpis" and e[1].get("alerts", {}).get("value") == 1)
        alert_events = [data for name, data in seen if name == "alert"]
        assert alert_events and alert_events[0]["id"] == alert_id
        assert alert_events[0]["topic"] == "alert.raised" and alert_events[0]["severity"] == "critical"
        assert alert_events[0]["title_vi"] == "Đèn hỏng"
        assert seen[-1][1]["alerts"]["by_severity"]["critical"] == 1
        assert set(seen[-1][1]) == {"alerts"}  # only the KPIs the event concerns are recomputed


def test_a_burst_of_events_is_coalesced_into_few_pushes(app: Any, live_server: str) -> None:
    from saola.ioc.layers import iri

    with open_stream(live_server) as response:
        stream = messages(response)
        assert next(stream)[0] == "kpis"
        hub = app.state.ioc_live
        before = hub.computed
        change = {"tenant": "", "id": "urn:ngsi-ld:Streetlight:bn-09187-0001", "types": [iri("Streetlight")],
                  "changed": [iri("powerState")], "entity": {}, "previous": None}
        started = time.monotonic()
        publish(app, [("ngsi.entity.updated", change)] * 50)
        seen = wait_for(stream, lambda e: e[0] == "kpis" and "lamps" in e[1])
        assert seen[-1][1]["lamps"]["total"] == 0
        time.sleep(max(0.0, 1.5 - (time.monotonic() - started)))
        assert hub.computed - before <= 2  # 50 events, at most one computation per second


def test_the_stream_needs_a_signed_in_reader(live_server: str, token: Any) -> None:
    anonymous = httpx.get(live_server + "/console/ioc/stream", timeout=5, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    with_token = httpx.get(live_server + "/console/ioc/stream", timeout=5, follow_redirects=False,
                           headers={"Authorization": f"Bearer {token('operator')}"})
    assert with_token.status_code == 303  # a console page: machine clients read /api/v1/ioc/kpis
