"""Connectivity checks used by ``/readyz`` and ``saola check``."""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, text

from saola.core.migrate import current_revision, head_revision


def check_database(engine: Engine) -> dict[str, Any]:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not reachable"
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    revision = current_revision(engine)
    head = head_revision(engine.url.render_as_string(hide_password=False))
    if revision != head:
        return {"ok": False, "error": f"database at revision {revision}, code expects {head}: run 'saola migrate'"}
    return {"ok": True, "revision": revision}


def check_broker(url: str, timeout: float = 3.0) -> dict[str, Any]:
    """Open an MQTT connection (CONNECT/CONNACK) to the broker at ``url``."""
    import paho.mqtt.client as mqtt

    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    try:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
        if parts.username:
            client.username_pw_set(parts.username, parts.password)
        if parts.scheme == "mqtts":
            client.tls_set_context(ssl.create_default_context())
        client.connect(host, port, keepalive=10)
        rc = None
        sock_deadline = timeout
        import time

        start = time.monotonic()
        while time.monotonic() - start < sock_deadline:
            client.loop(timeout=0.2)
            if client.is_connected():
                rc = 0
                break
        client.disconnect()
        if rc != 0:
            return {"ok": False, "error": f"no CONNACK from {host}:{port} within {timeout}s"}
        return {"ok": True, "broker": f"{host}:{port}"}
    except (TimeoutError, OSError, ValueError) as exc:
        return {"ok": False, "error": f"{host}:{port}: {exc}"}
