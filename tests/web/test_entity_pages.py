"""The console's entity browser through HTTP: types with counts, lists with paging and filters, one
entity's attributes, its history as JSON, tenants, errors and permissions.

Entities are created through the NGSI-LD HTTP API with an operator's token, as a partner would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from saola.core.auth.permissions import ROLE_PERMISSIONS
from tests.conftest import Browser
from tests.core.helpers import is_background_statement

NGSI = "/ngsi-ld/v1"
LAMP = "urn:ngsi-ld:Streetlight:bn-{:03d}"
CABINET = "urn:ngsi-ld:StreetlightControlCabinet:bn-c1"


class Broker:
    """Writes through the NGSI-LD API with an operator's token."""

    def __init__(self, client: TestClient, secret: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {secret}"}

    def create(self, entities: list[dict[str, Any]], tenant: str = "") -> None:
        headers = {**self.headers, **({"NGSILD-Tenant": tenant} if tenant else {})}
        for start in range(0, len(entities), 100):
            r = self.client.post(f"{NGSI}/entityOperations/create", json=entities[start:start + 100], headers=headers)
            assert r.status_code == 201, r.text

    def update(self, entity_id: str, attrs: dict[str, Any]) -> None:
        r = self.client.patch(f"{NGSI}/entities/{entity_id}/attrs", json=attrs, headers=self.headers)
        assert r.status_code == 204, r.text


@pytest.fixture
def broker(client: TestClient, token: Callable[..., str]) -> Broker:
    return Broker(client, token("operator", ["context:read", "context:write"]))


def lamp(n: int, *, state: str = "on", located: bool = True) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": LAMP.format(n), "type": "Streetlight",
        "name": {"type": "Property", "value": f"Đèn {n}"},
        "powerState": {"type": "Property", "value": state},
        "illuminanceLevel": {"type": "Property", "value": 0.5 + n / 100, "unitCode": "C62"},
    }
    if located:
        entity["location"] = {"type": "GeoProperty",
                              "value": {"type": "Point", "coordinates": [106.07 + n / 1000, 21.18]}}
    return entity


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-entity-id="([^"]+)"', page)


def entity_url(entity_id: str) -> str:
    return "/console/entities/" + quote(entity_id, safe=":")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- types and lists -----------------------------------------------------------------------------


def test_types_are_listed_with_their_counts_in_the_navigation(login, broker: Broker) -> None:
    broker.create([lamp(n) for n in range(1, 4)] + [
        {"id": f"urn:ngsi-ld:AirQualityObserved:bn-{n}", "type": "AirQualityObserved",
         "pm25": {"type": "Property", "value": 30 + n}} for n in range(2)])
    page = login("operator").client.get("/console/entities")
    assert page.status_code == 200
    assert 'href="/console/entities"' in page.text  # the navigation entry
    assert "Thực thể đô thị" in page.text
    counts = dict(re.findall(r'data-type="([^"]+)">\s*<span>[^<]*</span><span class="badge">(\d+)</span>', page.text))
    assert counts == {"AirQualityObserved": "2", "Streetlight": "3"}
    assert 'data-testid="choose-type"' in page.text
    assert 'data-testid="tenant-switch"' not in page.text  # only the default tenant exists


def test_an_empty_broker_says_so(login) -> None:
    page = login("staff").client.get("/console/entities?lang=en")
    assert page.status_code == 200
    assert "This tenant has no entities yet." in page.text


def test_a_type_lists_its_entities_page_by_page_with_a_map(login, broker: Broker) -> None:
    broker.create([lamp(n, located=n % 5 != 0) for n in range(1, 26)])
    client = login("operator").client
    first = client.get("/console/entities?type=Streetlight")
    assert first.status_code == 200
    assert rows(first.text) == [LAMP.format(n) for n in range(1, 21)]
    assert "25 thực thể" in first.text
    assert 'data-testid="pager"' in first.text
    assert 'href="/console/entities?type=Streetlight&amp;page=2"' in first.text
    # The map gets the listed entities that have a location (every fifth lamp has none).
    features = re.search(r'<script type="application/json" id="entity-features">(.*?)</script>', first.text, re.S)
    assert features is not None
    assert features.group(1).count('"Feature"') == 16
    assert f'"url": "{entity_url(LAMP.format(1))}"' in features.group(1)
    second = client.get("/console/entities?type=Streetlight&page=2")
    assert rows(second.text) == [LAMP.format(n) for n in range(21, 26)]
    assert client.get("/console/entities?type=Streetlight&page=3").status_code == 200
    assert rows(client.get("/console/entities?type=Streetlight&page=3").text) == []


# The broker's notification worker matches each write against the subscriptions in the background,
# at any moment; its statements are not the pages' and are left out of the count.


@contextmanager
def _counting(engine: Any) -> Iterator[list[int]]:
    count = [0]

    def _count_statement(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not is_background_statement(statement):
            count[0] += 1

    event.listen(engine, "before_cursor_execute", _count_statement)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", _count_statement)


def test_the_list_and_an_entity_cost_the_same_queries_however_many_entities(app, login, broker: Broker) -> None:
    broker.create([lamp(n) for n in range(1, 3)])
    client = login("operator").client
    pages = ("/console/entities", "/console/entities?type=Streetlight", entity_url(LAMP.format(1)),
             entity_url(LAMP.format(1)) + "/history?range=week")
    for url in pages:
        assert client.get(url).status_code == 200  # warm-up (caches, lazy imports)
    with _counting(app.state.engine) as few:
        for url in pages:
            assert client.get(url).status_code == 200
    broker.create([lamp(n) for n in range(3, 40)])
    for n in range(5):
        broker.update(LAMP.format(1), {"illuminanceLevel": {"type": "Property", "value": n / 10}})
    with _counting(app.state.engine) as many:
        for url in pages:
            assert client.get(url).status_code == 200
    assert many[0] == few[0]


def test_id_id_pattern_and_q_filter_the_list(login, broker: Broker) -> None:
    broker.create([lamp(n, state="off" if n in (2, 7) else "on") for n in range(1, 11)])
    client = login("clerk").client
    assert rows(client.get("/console/entities", params={"id": LAMP.format(4)}).text) == [LAMP.format(4)]
    by_pattern = client.get("/console/entities", params={"type": "Streetlight", "idPattern": r"bn-00[1-3]$"})
    assert rows(by_pattern.text) == [LAMP.format(n) for n in (1, 2, 3)]
    off = client.get("/console/entities", params={"type": "Streetlight", "q": 'powerState=="off"'})
    assert rows(off.text) == [LAMP.format(2), LAMP.format(7)]
    assert "2 thực thể" in off.text
    bright = client.get("/console/entities", params={"q": "illuminanceLevel>0.58;powerState==\"on\""})
    assert rows(bright.text) == [LAMP.format(n) for n in (9, 10)]
    # The filters stay in the form and in the pager's links.
    assert 'value="illuminanceLevel&gt;0.58;powerState==&#34;on&#34;"' in bright.text


@pytest.mark.parametrize(("params", "message"), [
    ({"q": "powerState==="}, "q"),
    ({"q": "(illuminanceLevel>1"}, "q"),
    ({"idPattern": "bn-(("}, "idPattern is not a valid regular expression"),
    ({"id": "not a uri"}, "The entity id must be a URI"),
    ({"type": "A;;B"}, "type expression"),
])
def test_a_bad_filter_answers_400_with_the_brokers_message(login, broker: Broker, params: dict[str, str],
                                                           message: str) -> None:
    broker.create([lamp(1)])
    page = login("operator").client.get("/console/entities", params=params)
    assert page.status_code == 400
    error = re.search(r'data-testid="query-error" data-code="([^"]+)">(.*?)</div>\s*</div>', page.text, re.S)
    assert error is not None, page.text[-3000:]
    assert error.group(1) in ("BadRequestData", "InvalidRequest")
    assert "Truy vấn không hợp lệ" in error.group(2)
    assert message in error.group(2)
    assert rows(page.text) == []


def test_tenants_are_switched_and_kept_apart(login, broker: Broker) -> None:
    broker.create([lamp(1)])
    broker.create([{"id": "urn:ngsi-ld:ParkingSpot:ps-1", "type": "ParkingSpot",
                    "status": {"type": "Property", "value": "free"}}], tenant="bacninh")
    client = login("operator").client
    default = client.get("/console/entities")
    assert 'data-testid="tenant-switch"' in default.text
    assert 'data-type="ParkingSpot"' not in default.text
    other = client.get("/console/entities?tenant=bacninh")
    assert 'data-type="ParkingSpot"' in other.text and 'data-type="Streetlight"' not in other.text
    listed = client.get("/console/entities?tenant=bacninh&type=ParkingSpot")
    assert rows(listed.text) == ["urn:ngsi-ld:ParkingSpot:ps-1"]
    assert 'href="/console/entities/urn:ngsi-ld:ParkingSpot:ps-1?tenant=bacninh"' in listed.text
    assert client.get("/console/entities/urn:ngsi-ld:ParkingSpot:ps-1?tenant=bacninh").status_code == 200
    assert client.get("/console/entities/urn:ngsi-ld:ParkingSpot:ps-1").status_code == 404
    missing = client.get("/console/entities?tenant=nowhere")
    assert missing.status_code == 404
    assert 'data-error-code="not-found"' in missing.text


def test_entities_written_with_a_smart_data_models_context_are_browsable(login, broker: Broker) -> None:
    folder = Path(__file__).resolve().parents[1] / "data" / "smart-data-models"
    context = json.loads((folder / "context-Streetlighting.jsonld").read_text("utf-8"))
    registered = broker.client.post(f"{NGSI}/jsonldContexts", json=context, headers=broker.headers)
    assert registered.status_code == 201, registered.text
    example = json.loads((folder / "Streetlight.jsonld").read_text("utf-8"))
    example["@context"] = ["http://127.0.0.1" + registered.headers["location"]]
    created = broker.client.post(f"{NGSI}/entities", content=json.dumps(example),
                                 headers={**broker.headers, "Content-Type": "application/ld+json"})
    assert created.status_code == 201, created.text
    client = login("operator").client
    home = client.get("/console/entities")
    link = re.search(r'<a href="/console/entities\?type=([^"]+)"[^>]*data-type="Streetlight"', home.text)
    assert link is not None  # shown by its short name, linked by its IRI
    listed = client.get("/console/entities?type=" + link.group(1))
    assert rows(listed.text) == [example["id"]]
    page = client.get(entity_url(example["id"]))
    assert page.status_code == 200
    assert '<tr data-attribute="powerState"' in page.text
    assert 'title="https://smartdatamodels.org/dataModel.Streetlighting/powerState"' in page.text


# --- one entity ------------------------------------------------------------------------------------


def test_an_entity_shows_its_attributes_as_a_readable_table(login, broker: Broker) -> None:
    observed = "2026-11-20T07:30:00.000Z"
    broker.create([
        {"id": CABINET, "type": "StreetlightControlCabinet",
         "name": {"type": "Property", "value": "Tủ điện Kinh Bắc"}},
        {**lamp(1), "illuminanceLevel": {"type": "Property", "value": 0.75, "unitCode": "C62",
                                         "observedAt": observed,
                                         "accuracy": {"type": "Property", "value": 0.02}},
         "refStreetlightControlCabinet": {"type": "Relationship", "object": CABINET},
         "voltage": [{"type": "Property", "value": 229.5, "unitCode": "VLT", "datasetId": "urn:ngsi-ld:phase:L1"},
                     {"type": "Property", "value": 231, "unitCode": "VLT", "datasetId": "urn:ngsi-ld:phase:L2"}],
         "description": {"type": "LanguageProperty", "languageMap": {"vi": "Đèn đường", "en": "Street lamp"}},
         "lampModel": {"type": "Property", "value": {"brand": "Rạng Đông", "watts": 120}}},
    ])
    page = login("clerk").client.get(entity_url(LAMP.format(1)))
    assert page.status_code == 200
    html = page.text
    assert '<h1 data-testid="entity-title">Đèn 1</h1>' in html
    assert f'<code data-testid="entity-id">{LAMP.format(1)}</code>' in html

    def row(attribute: str, dataset: str | None = None) -> str:
        marker = f'<tr data-attribute="{attribute}"' + (f' data-dataset-id="{dataset}"' if dataset else "")
        start = html.index(marker)
        return html[start:html.index("</tr>", start)]

    level = row("illuminanceLevel")
    assert "0,75" in level and "C62" in level  # Vietnamese decimal comma, the unit
    assert '<time datetime="2026-11-20T07:30:00+00:00">20/11/2026 14:30:00</time>' in level  # observedAt, local time
    assert "accuracy:" in level and "0,02" in level  # a sub-attribute
    assert "229,5" in row("voltage", "urn:ngsi-ld:phase:L1")
    assert "231" in row("voltage", "urn:ngsi-ld:phase:L2")
    relation = row("refStreetlightControlCabinet")
    assert f'<a href="{entity_url(CABINET)}" data-testid="relationship">{CABINET}</a>' in relation
    assert "Đèn đường" in row("description") and "Street lamp" in row("description")
    assert "Rạng Đông" in row("lampModel")
    assert html.index('data-attribute="location"') < html.index('data-attribute="description"')  # location first
    # Numeric attributes can be charted; the first is chosen.
    assert re.findall(r'<option value="([^"]+)"[^>]*>\1</option>', html.split('data-testid="history-attr"')[1]
                      .split("</select>")[0]) == ["illuminanceLevel", "voltage"]
    assert 'data-testid="entity-map"' in html
    # The relationship leads to the target's page.
    target = login("clerk").client.get(entity_url(CABINET))
    assert target.status_code == 200 and "Tủ điện Kinh Bắc" in target.text
    assert 'data-testid="no-location"' in target.text and 'data-testid="no-numeric"' in target.text


def test_an_entity_page_in_english(login, broker: Broker) -> None:
    broker.create([lamp(3)])
    page = login("operator").client.get(entity_url(LAMP.format(3)) + "?lang=en")
    assert page.status_code == 200
    assert "Attributes" in page.text and "Last week" in page.text and "0.53" in page.text


@pytest.mark.parametrize(("path", "status", "code"), [
    ("urn:ngsi-ld:Streetlight:nowhere", 404, "not-found"),
    ("not-a-uri", 400, "bad-request"),
])
def test_an_unknown_or_invalid_entity_answers_a_4xx_page(login, broker: Broker, path: str, status: int,
                                                         code: str) -> None:
    broker.create([lamp(1)])
    client = login("operator").client
    page = client.get(entity_url(path))
    assert page.status_code == status
    assert f'data-error-code="{code}"' in page.text
    history = client.get(entity_url(path) + "/history", headers={"Accept": "application/json"})
    assert history.status_code == status
    assert history.json()["code"] == code


# --- history -----------------------------------------------------------------------------------------


def test_the_history_of_a_numeric_attribute_is_served_for_the_chart(login, broker: Broker) -> None:
    broker.create([lamp(1)])
    now = datetime.now(UTC)
    for minutes, level in ((50, 0.2), (30, 0.4), (10, 0.9)):
        broker.update(LAMP.format(1), {"illuminanceLevel": {"type": "Property", "value": level, "unitCode": "C62",
                                                            "observedAt": _iso(now - timedelta(minutes=minutes))}})
    broker.update(LAMP.format(1), {"illuminanceLevel": {"type": "Property", "value": 0.3,
                                                        "observedAt": _iso(now - timedelta(days=3))}})
    client = login("staff").client
    url = entity_url(LAMP.format(1)) + "/history"
    hour = client.get(url, params={"attr": "illuminanceLevel", "range": "hour"})
    assert hour.status_code == 200
    body = hour.json()
    assert body["attribute"] == "illuminanceLevel" and body["unit"] == "C62"
    # The three observations, then the value set at creation: it has no observedAt, so it is placed at
    # the time of the change (just now, after the observations).
    assert [p["v"] for p in body["points"]] == [0.2, 0.4, 0.9, 0.51]
    assert [p["t"] for p in body["points"]] == sorted(p["t"] for p in body["points"])
    week = client.get(url, params={"range": "week"}).json()  # the first numeric attribute by default
    assert [p["v"] for p in week["points"]] == [0.3, 0.2, 0.4, 0.9, 0.51]
    # A custom range is given in the deployment's local time (Asia/Ho_Chi_Minh).
    local = {"range": "custom", "start": _local(now - timedelta(days=4)), "end": _local(now - timedelta(days=2))}
    assert [p["v"] for p in client.get(url, params=local).json()["points"]] == [0.3]


def _local(moment: datetime) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(("params", "field"), [
    ({"range": "custom", "start": "2026-11-24T10:00", "end": "2026-11-24T09:00"}, "end"),
    ({"range": "custom", "start": "2026-11-24T10:00"}, "end"),
    ({"range": "custom", "start": "24/11/2026", "end": "2026-11-25T09:00"}, "start"),
    ({"range": "custom", "start": "2020-01-01T00:00", "end": "2026-01-01T00:00"}, "end"),
    ({"range": "forever"}, "range"),
    ({"attr": "powerState"}, "attr"),
    ({"attr": "nothing"}, "attr"),
])
def test_a_bad_history_request_answers_400(login, broker: Broker, params: dict[str, str], field: str) -> None:
    broker.create([lamp(1)])
    client = login("operator").client
    url = entity_url(LAMP.format(1))
    data = client.get(url + "/history", params=params, headers={"Accept": "application/json"})
    assert data.status_code == 400
    assert data.json()["errors"][0]["field"] == field
    page = client.get(url, params=params)
    assert page.status_code == 400
    assert 'data-error-code="bad-request"' in page.text


# --- who may see it --------------------------------------------------------------------------------------


def test_a_user_without_context_read_neither_sees_nor_opens_the_browser(
    login, broker: Broker, monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker.create([lamp(1)])
    monkeypatch.setitem(ROLE_PERMISSIONS, "viewer", ROLE_PERMISSIONS["viewer"] - {"context:read"})
    viewer: Browser = login("viewer")
    console = viewer.client.get("/console")
    assert console.status_code == 200
    assert 'href="/console/entities"' not in console.text
    for url in ("/console/entities", "/console/entities?type=Streetlight", entity_url(LAMP.format(1))):
        page = viewer.client.get(url)
        assert page.status_code == 403
        assert 'data-error-code="permission-denied"' in page.text
        assert "Đèn 1" not in page.text and "data-entity-id" not in page.text  # nothing of the data
    history = viewer.client.get(entity_url(LAMP.format(1)) + "/history", headers={"Accept": "application/json"})
    assert history.status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/console/entities?type=Streetlight", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
