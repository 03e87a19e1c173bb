"""The MQTT client id: stable per host, and distinct per process under ``saola serve --workers N``."""

from __future__ import annotations

import os
import socket

import pytest

from saola.devices.mqtt_worker import SERVE_WORKERS_ENV, default_client_id


def test_one_process_keeps_a_stable_client_id_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SERVE_WORKERS_ENV, raising=False)
    assert default_client_id("ingest") == f"saola-ingest-{socket.gethostname()}"


def test_serve_workers_get_a_client_id_each_so_they_do_not_take_each_others_place(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVE_WORKERS_ENV, "4")
    assert default_client_id("app") == f"saola-app-{socket.gethostname()}-{os.getpid()}"
    monkeypatch.setenv(SERVE_WORKERS_ENV, "1")
    assert default_client_id("app") == f"saola-app-{socket.gethostname()}"
