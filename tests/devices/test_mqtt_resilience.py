"""Zero loss: the database cut in the middle of a stream (a TCP proxy in front of PostgreSQL that the test
cuts and restores), and two workers sharing one subscription without losing or double-storing messages."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from saola.core.db import make_engine, make_session_factory
from tests.devices.mqtt_fixtures import (
    DbProxy,
    Publisher,
    measures_of,
    provision,
    publisher,  # noqa: F401 - fixture
    start_worker,  # noqa: F401 - fixture
    wait_until,
    worker_settings,
)


def stream(pub: Publisher, key: str, devices: list[str], count: int, *, pause: float = 0.0) -> None:
    """``count`` messages of 3 measures, each with its own TimeInstant (so none is a duplicate)."""
    infos = []
    for i in range(count):
        body = {"t": 20 + i % 10, "h": 50, "p": 1000 + i, "TimeInstant": f"2026-11-24T08:{i // 60:02d}:{i % 60:02d}Z"}
        infos.append(pub.send(f"/{key}/{devices[i % len(devices)]}/attrs", json.dumps(body), wait=False))
        if pause:
            time.sleep(pause)
    for info in infos:
        info.wait_for_publish(30)


@pytest.fixture
def database_url(pg_url: str) -> str:
    """These tests run on PostgreSQL only (its connections go through a TCP proxy; required in CI)."""
    return pg_url


@pytest.fixture
def proxy(database_url: str) -> Iterator[DbProxy]:
    url = make_url(database_url)
    running = DbProxy((url.host or "127.0.0.1", url.port or 5432))
    yield running
    running.close()


def test_a_database_outage_mid_stream_loses_nothing(app, settings, database_url: str, proxy: DbProxy,
                                                    start_worker, publisher: Publisher) -> None:  # noqa: F811
    key = provision(app.state.session_factory, [{"device_id": f"s-{n}"} for n in range(5)])
    through_proxy = make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False)
    engine = make_engine(through_proxy)
    try:
        running = start_worker(worker_settings(settings, mqtt_batch_size=50), make_session_factory(engine))
        total = 600
        sender = threading.Thread(target=stream, args=(publisher, key, [f"s-{n}" for n in range(5)], total),
                                  kwargs={"pause": 0.004})
        sender.start()
        wait_until(lambda: measures_of(app.state.session_factory, key) >= 150, what="the stream started")
        proxy.cut()
        time.sleep(2.0)
        during = measures_of(app.state.session_factory, key)
        assert running.worker.stats.paused_since is not None or running.worker.stats.store_retries > 0
        proxy.restore()
        sender.join(60)
        wait_until(lambda: measures_of(app.state.session_factory, key) == total * 3, timeout=60,
                   what=f"all {total * 3} measures stored")
        assert during < total * 3
        assert running.worker.stats.store_retries > 0
        assert running.worker.stats.paused_since is None
        assert running.reasons(key) == []
    finally:
        engine.dispose()


def test_two_workers_share_the_subscription_without_loss_or_double_storage(
        app, settings, start_worker, publisher: Publisher) -> None:  # noqa: F811
    shared = worker_settings(settings)
    first, second = start_worker(shared), start_worker(shared)
    devices = [f"w-{n}" for n in range(8)]
    key = provision(app.state.session_factory, [{"device_id": d} for d in devices])
    total = 400
    stream(publisher, key, devices, total)
    wait_until(lambda: measures_of(app.state.session_factory, key) == total * 3, timeout=30,
               what="every measure stored")
    got = [w.worker.stats.accepted for w in (first, second)]
    assert sum(got) == total, got  # each message went to exactly one worker
    assert min(got) > 0, got  # and both took part
    assert first.worker.stats.duplicates + second.worker.stats.duplicates == 0
