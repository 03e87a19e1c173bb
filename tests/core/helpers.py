"""Helpers of the core test suite: the app's routes, database snapshots, JSON log capture, services.

Routes are read from the application itself (``fastapi.routing.iter_route_contexts``), so a
test that walks "every route" also covers the routes other packages add later.
"""

from __future__ import annotations

import enum
import io
import json
import logging
import os
import socket
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import Engine, MetaData, select

from saola.core.errors import PROBLEM_JSON
from saola.core.logs import JsonFormatter

IN_CI = os.environ.get("CI", "").lower() == "true"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/v1/"


# --- services the tests need -------------------------------------------------------------


def mqtt_url() -> str:
    """The real Mosquitto of the test run (``SAOLA_TEST_MQTT_URL``, default ``mqtt://127.0.0.1:1883``)."""
    return os.environ.get("SAOLA_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def require_server(url: str, default_port: int, variable: str) -> tuple[str, int]:
    """``(host, port)`` of a test server (MQTT, Redis, NATS...); skip when it is unreachable, except in CI
    (``CI=true``) where that is a failure."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return host, port
    except OSError as exc:
        message = f"{url} ({variable}) is unreachable: {exc}"
        if IN_CI:
            pytest.fail(message + " — CI=true requires it")
        pytest.skip(message)


def require_broker() -> str:
    """The test broker's URL; skip when it is unreachable, except in CI where that is a failure."""
    url = mqtt_url()
    require_server(url, 1883, "SAOLA_TEST_MQTT_URL")
    return url


UNREACHABLE_BROKER = "mqtt://127.0.0.1:1"
UNREACHABLE_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/x"


# --- routes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteInfo:
    """One (path, method) of the application with what it takes."""

    path: str
    method: str
    in_schema: bool
    path_params: dict[str, Any] = field(default_factory=dict)  # name -> annotation
    query_params: dict[str, Any] = field(default_factory=dict)
    form_params: tuple[str, ...] = ()
    has_body: bool = False

    @property
    def is_api(self) -> bool:
        return self.path.startswith(API_PREFIX)

    @property
    def is_console(self) -> bool:
        return self.path == "/console" or self.path.startswith("/console/")

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def url(self, *, ids: int = 1, **values: str) -> str:
        """The path with each parameter replaced by ``values[name]`` or a plausible value."""
        url = self.path
        for name, annotation in self.path_params.items():
            value = values.get(name, plausible(annotation, ids=ids))
            url = url.replace("{" + name + "}", quote(str(value), safe=""))
            url = url.replace("{" + name + ":path}", quote(str(value), safe="/"))
        return url

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def plausible(annotation: Any, *, ids: int = 1) -> str:
    """A value of the right type for a path parameter (ids default to 1, the first seeded row)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return str(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str(next(iter(annotation)).value)
    if annotation is int:
        return str(ids)
    return "1"


def app_routes(app: FastAPI) -> list[RouteInfo]:
    """Every (path, method) served by a FastAPI route, including ``include_in_schema=False`` ones."""
    out: list[RouteInfo] = []
    for ctx in iter_route_contexts(app.routes):
        if not isinstance(ctx.original_route, APIRoute):
            continue  # /openapi.json, /docs, the /static mount
        dependant = ctx.dependant
        path_params = {p.name: p.field_info.annotation for p in dependant.path_params}
        query_params = {p.alias: p.field_info.annotation for p in dependant.query_params}
        forms = tuple(p.alias for p in dependant.body_params if type(p.field_info).__name__ in ("Form", "File"))
        has_body = bool(dependant.body_params) and not forms
        for method in sorted(ctx.methods or ()):
            out.append(RouteInfo(ctx.path, method, bool(ctx.include_in_schema), path_params, query_params,
                                 forms, has_body))
    return out


# /api/v1 routes that outside systems call with a signature instead of a Saola token or session: neither a
# cookie nor a bearer token opens them, so the token and CSRF checks do not apply (each has its own tests).
SIGNED_API: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/feedback/gateways/{provider}/messages"):
        "SMS/chat providers' webhook, HMAC-SHA256 of the body with the provider's secret "
        "(tests/feedback/test_channels_gateway.py, tests/core/test_security.py)",
}


def api_write_routes(app: FastAPI) -> list[RouteInfo]:
    return [r for r in app_routes(app) if r.is_api and r.method in UNSAFE and r.key not in SIGNED_API]


# --- responses --------------------------------------------------------------------------------


def problem_code(response: Any) -> str:
    """The ``code`` of a problem+json answer (fails when the answer is not problem+json)."""
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith(PROBLEM_JSON), (
        f"{response.request.method} {response.request.url} answered {response.status_code} "
        f"with {content_type!r}, not {PROBLEM_JSON}: {response.text[:300]}"
    )
    body = response.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert body["status"] == response.status_code, body
    return body["code"]


def describe(response: Any) -> str:
    return f"{response.request.method} {response.request.url} → {response.status_code}: {response.text[:300]}"


# --- database ---------------------------------------------------------------------------------


def db_snapshot(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table (reflected, so other packages' tables count too), to compare."""
    metadata = MetaData()
    metadata.reflect(engine)
    snapshot: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            snapshot[table.name] = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
    return snapshot


def snapshot_diff(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, Any]:
    """What changed between two snapshots, table by table (empty when nothing did)."""
    diff: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            diff[name] = {"removed": sorted(old - new)[:5], "added": sorted(new - old)[:5]}
    return diff


# --- logs --------------------------------------------------------------------------------------


@contextmanager
def json_log_lines(level: int = logging.DEBUG) -> Iterator[list[str]]:
    """The JSON lines the app's log handler writes, formatted when emitted (with the request id).

    Attached to the root logger beside the app's own stderr handler, with the same formatter.
    """
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, old_level))
    lines: list[str] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        lines.extend(line for line in stream.getvalue().splitlines() if line)


def parsed(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


# Tables the application's background workers (NGSI-LD and context-source notifiers, messaging outbox, device
# health and commands) poll on their own schedule: statements on them are not part of any request, so query
# counts leave them out.
BACKGROUND_TABLES = ("ngsi_subscriptions", "ngsi_notifications", "messaging_outbox", "ngsi_csource_subscriptions",
                     "ngsi_csource_notifications", "device_commands", "devices")


def is_background_statement(statement: str) -> bool:
    return any(table in statement for table in BACKGROUND_TABLES)
