"""The ingest core (Ingestor.store) on SQLite and PostgreSQL: payloads, credentials, idempotency, history."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from saola.context.models import NgsiAttributeHistory
from saola.context.temporal import purge_history
from saola.core.db import make_engine, make_session_factory, unit_of_work
from saola.devices import ingest, pg_bulk
from saola.devices.ingest import Ingestor
from saola.devices.models import Device
from tests.devices.conftest import T0, msg

ENTITY = "urn:ngsi-ld:AirQualityObserved:aq-001"


def _entity(client, headers, entity_id: str = ENTITY) -> dict:
    response = client.get(f"/ngsi-ld/v1/entities/{entity_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _history_count(app) -> int:
    with app.state.session_factory() as session:
        return session.scalar(select(func.count()).select_from(NgsiAttributeHistory)
                              .where(NgsiAttributeHistory.entity_id == ENTITY)) or 0


def test_json_measures_become_entity_attributes_with_units_and_observed_at(
        app, client, iot_headers, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])
    outcome = ingestor.store([msg("aq-001", '{"t": 25.3, "h": 60, "extra": "x"}')])
    assert (outcome.stored, outcome.duplicates, outcome.rejected) == (3, 0, [])
    entity = _entity(client, iot_headers)
    assert entity["type"] == "AirQualityObserved"
    assert entity["temperature"]["value"] == 25.3
    assert entity["temperature"]["unitCode"] == "CEL"
    assert entity["temperature"]["observedAt"] == "2026-11-24T10:00:00.000Z"
    assert entity["relativeHumidity"]["value"] == 60
    assert entity["extra"]["value"] == "x"  # an unmapped object_id keeps its own name
    assert [e[0] for e in outcome.events] == ["ngsi.entity.updated"]


def test_ultralight_groups_with_timestamps_parse_numbers_by_mapping(app, client, iot_headers, provision,
                                                                     ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])
    payload = "TimeInstant|2026-11-24T09:00:00Z|t|20.5|h|55#2026-11-24T09:30:00Z|t|21.5|s|ok"
    outcome = ingestor.store([msg("aq-001", payload, "ul")])
    assert outcome.stored == 4 and not outcome.rejected
    entity = _entity(client, iot_headers)
    assert entity["temperature"]["value"] == 21.5  # the newest TimeInstant wins
    assert entity["temperature"]["observedAt"] == "2026-11-24T09:30:00.000Z"
    assert entity["relativeHumidity"]["value"] == 55
    assert entity["s"]["value"] == "ok"  # UltraLight text stays text without a Number mapping
    temporal = client.get(f"/ngsi-ld/v1/temporal/entities/{ENTITY}?attrs=temperature&options=temporalValues",
                          headers=iot_headers)
    assert temporal.status_code == 200, temporal.text
    assert [v[0] for v in temporal.json()["temperature"]["values"]] == [20.5, 21.5]


def test_json_array_with_time_instants_stores_every_measure_in_history(app, client, iot_headers, provision,
                                                                       ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])
    body = '[{"t": 1, "TimeInstant": "2026-11-24T08:00:00Z"}, {"t": 2, "TimeInstant": "2026-11-24T08:01:00Z"}]'
    assert ingestor.store([msg("aq-001", body)]).stored == 2
    assert _entity(client, iot_headers)["temperature"]["value"] == 2
    assert _history_count(app) == 2


def test_single_attribute_bare_value(app, client, iot_headers, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])
    outcome = ingestor.store([msg("aq-001", "24.5", "ul", attribute="t"), msg("aq-001", '"on"', attribute="mode")])
    assert outcome.stored == 2 and not outcome.rejected
    entity = _entity(client, iot_headers)
    assert entity["temperature"]["value"] == 24.5 and entity["mode"]["value"] == "on"


def test_duplicates_are_stored_once(app, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])
    first = ingestor.store([msg("aq-001", '{"t": 1}'), msg("aq-001", '{"t": 1}')])
    again = ingestor.store([msg("aq-001", '{"t": 1}')])
    assert (first.stored, first.duplicates) == (1, 1)
    assert (again.stored, again.duplicates) == (0, 1)
    assert _history_count(app) == 1
    with app.state.session_factory() as session:
        device = session.scalars(select(Device)).one()
        assert device.measure_count == 1 and device.message_count == 3


def test_late_measure_goes_to_history_without_overwriting_newer_value(app, client, iot_headers, provision,
                                                                       ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])
    ingestor.store([msg("aq-001", '{"t": 30}', at=T0)])
    late = ingestor.store([msg("aq-001", '{"t": 10}', at=T0 - timedelta(minutes=5))])
    assert late.stored == 1 and late.events == []
    assert _entity(client, iot_headers)["temperature"]["value"] == 30
    assert _history_count(app) == 2


def test_malformed_and_unauthorised_messages_are_rejected_without_blocking_the_batch(
        app, client, iot_headers, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}, {"device_id": "aq-002", "token": "secret-token-0123456789"}])
    batch = [msg("aq-001", "{not json"), msg("aq-001", '{"t": "warm"}'), msg("aq-001", "t|", "ul"),
             msg("nobody", '{"t": 1}'), msg("aq-001", '{"t": 1}', api_key="wrong"),
             msg("aq-002", '{"t": 5}'), msg("aq-002", '{"t": 6}', token="bad-token-0123456789"),
             msg("aq-001", '{"t": 22}', at=T0 + timedelta(seconds=1)),
             msg("aq-002", '{"t": 7}', token="secret-token-0123456789")]
    outcome = ingestor.store(batch)
    reasons = [reason.partition(":")[0] for _m, reason in outcome.rejected]
    assert reasons == ["malformed-payload", "malformed-payload", "malformed-payload", "unknown-device",
                       "wrong-api-key", "wrong-device-token", "wrong-device-token"]
    assert outcome.stored == 2 and outcome.accepted == 2
    assert _entity(client, iot_headers)["temperature"]["value"] == 22
    assert _entity(client, iot_headers, "urn:ngsi-ld:AirQualityObserved:aq-002")["temperature"]["value"] == 7
    with app.state.session_factory() as session:
        counts = {d.device_id: d.rejected_count for d in session.scalars(select(Device))}
    assert counts == {"aq-001": 3, "aq-002": 2}


def test_unknown_device_is_auto_provisioned_when_the_group_allows(app, client, iot_headers, provision,
                                                                   ingestor: Ingestor) -> None:
    provision(autoprovision=True)
    outcome = ingestor.store([msg("new-1", '{"t": 19}'), msg("new-1", '{"h": 40}', at=T0 + timedelta(seconds=1))])
    assert outcome.stored == 2 and not outcome.rejected
    entity = _entity(client, iot_headers, "urn:ngsi-ld:AirQualityObserved:new-1")
    assert entity["temperature"]["value"] == 19 and entity["relativeHumidity"]["value"] == 40
    with app.state.session_factory() as session:
        device = session.scalars(select(Device)).one()
    assert device.auto_provisioned and device.message_count == 2


def test_unknown_device_is_rejected_and_counted_when_the_group_does_not_allow(provision, ingestor: Ingestor) -> None:
    provision()
    outcome = ingestor.store([msg("new-1", '{"t": 19}')])
    assert outcome.stored == 0 and outcome.rejected[0][1].startswith("unknown-device")
    assert ingestor.counters["rejected"] == 1


def test_many_devices_in_one_batch_are_coalesced_per_entity(app, client, iot_headers, provision,
                                                           ingestor: Ingestor) -> None:
    provision([{"device_id": f"aq-{n:03d}"} for n in range(20)])
    batch = [msg(f"aq-{n:03d}", f'{{"t": {n + k}, "b": 80}}', at=T0 + timedelta(seconds=k))
             for n in range(20) for k in range(3)]
    outcome = ingestor.store(batch)
    assert outcome.stored == 120 and len(outcome.events) == 20
    assert _entity(client, iot_headers, "urn:ngsi-ld:AirQualityObserved:aq-019")["temperature"]["value"] == 21
    q = client.get("/ngsi-ld/v1/entities?type=AirQualityObserved&q=temperature>=20", headers=iot_headers)
    assert q.status_code == 200 and {e["id"] for e in q.json()} == {
        "urn:ngsi-ld:AirQualityObserved:aq-018", "urn:ngsi-ld:AirQualityObserved:aq-019"}
    with app.state.session_factory() as session:
        device = session.scalars(select(Device).where(Device.device_id == "aq-005")).one()
    assert (device.battery, device.online, device.last_seen) == (80, True, T0 + timedelta(seconds=2))


def test_queries_see_the_latest_values_after_each_batch(client, iot_headers, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}, {"device_id": "aq-002"}])
    ingestor.store([msg("aq-001", '{"t": 10, "s": "ok"}'), msg("aq-002", '{"t": 30}')])
    ingestor.store([msg("aq-001", '{"t": 40, "s": 5}', at=T0 + timedelta(minutes=1)),
                    msg("aq-002", '{"t": 20}', at=T0 + timedelta(minutes=1))])

    def ids(q: str) -> set[str]:
        response = client.get(f"/ngsi-ld/v1/entities?type=AirQualityObserved&q={q}", headers=iot_headers)
        assert response.status_code == 200, response.text
        return {e["id"].rsplit(":", 1)[1] for e in response.json()}

    assert ids("temperature>35") == {"aq-001"}
    assert ids("temperature==20") == {"aq-002"}
    assert ids("temperature==10") == set()
    assert ids("s==5") == {"aq-001"} and ids("s==%22ok%22") == set()


def test_concurrent_batches_for_one_entity_lose_nothing(client, iot_headers, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])

    def send(attr: str) -> int:
        return sum(ingestor.store([msg("aq-001", f'{{"{attr}": {n}}}', at=T0 + timedelta(seconds=n))]).stored
                   for n in range(15))

    with ThreadPoolExecutor(2) as pool:
        stored = list(pool.map(send, ["t", "h"]))
    assert stored == [15, 15]
    entity = _entity(client, iot_headers)
    assert (entity["temperature"]["value"], entity["relativeHumidity"]["value"]) == (14, 14)


def test_device_history_follows_the_retention_of_its_entity_type(app, provision, ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}])
    ingestor.store([msg("aq-001", '{"t": 1}', at=T0 - timedelta(days=10)), msg("aq-001", '{"t": 2}', at=T0)])
    with unit_of_work(app.state.session_factory) as session:
        purged = purge_history(session, now=T0 + timedelta(hours=1), per_type={"AirQualityObserved": 5})
    assert purged == 1 and _history_count(app) == 1


def test_ids_and_names_the_database_cannot_store_are_rejected_not_fatal(client, iot_headers, provision,
                                                                        ingestor: Ingestor) -> None:
    provision([{"device_id": "aq-001"}], autoprovision=True)
    outcome = ingestor.store([msg("aq\x00x", '{"t": 1}'), msg("aq-001", '{"t": 1}', api_key="k\x00"),
                              msg("aq-001", '{"a\\u0000b": 1}'), msg("aq-001", '{"a b": 1}'),
                              msg("aq-001", '{"t": 9}')])
    assert [r.partition(":")[0] for _m, r in outcome.rejected] == [
        "unknown-device", "unknown-device", "malformed-payload", "malformed-payload"]
    assert outcome.stored == 1 and _entity(client, iot_headers)["temperature"]["value"] == 9


def test_a_value_the_database_refuses_rejects_only_its_message(monkeypatch, provision, ingestor: Ingestor) -> None:
    real = ingest.write_measures

    def refusing(session, measures, **kw):  # what a database refusing one message's value does
        if any(m.entity_id.endswith("aq-003") for m in measures):
            raise DataError("INSERT ...", {}, ValueError("value out of range"))
        return real(session, measures, **kw)

    monkeypatch.setattr(ingest, "write_measures", refusing)
    provision([{"device_id": f"aq-00{n}"} for n in range(1, 6)])
    outcome = ingestor.store([msg(f"aq-00{n}", f'{{"t": {n}}}') for n in range(1, 6)])
    assert outcome.stored == 4
    assert [(m.device_id, r.partition(":")[0]) for m, r in outcome.rejected] == [("aq-003", "malformed-payload")]


def test_postgresql_bulk_statement_errors_are_raised_as_sqlalchemy_errors(pg_url: str) -> None:
    """The ingest core classifies SQLAlchemy's exception classes (a refused value → the batch stored
    again in halves; a lost database → StoreUnavailable): psycopg's own must not escape pg_bulk."""
    engine = make_engine(pg_url)
    with make_session_factory(engine)() as session:
        conn = session.connection()
        with pytest.raises(DataError) as raised:
            pg_bulk._execute(conn, "SELECT 1 / %(zero)b", {"zero": 0})
        assert not raised.value.connection_invalidated
        session.rollback()
    engine.dispose()
