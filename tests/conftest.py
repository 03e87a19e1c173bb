"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when configured),
the application, HTTP clients signed in as each role, and API tokens.

PostgreSQL runs when ``SAOLA_TEST_DATABASE_URL`` points at a server (for example
``postgresql+psycopg://root@127.0.0.1:5432/test``); in CI (``CI=true``) it is required.
Each test gets its own database in the state of a template migrated once per run: a copy of the
SQLite file; on PostgreSQL one of a few copies of the template database that each test process
resets to the template's state before every test (tests/pg_pool.py). FastAPI's analysis of the
endpoints is done once per run instead of once per test's app (tests/route_memo.py).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from saola.app import create_app
from saola.core.db import make_engine, make_session_factory, unit_of_work
from saola.core.migrate import upgrade
from saola.core.settings import Settings, load_settings
from tests.pg_pool import DatabasePool, read_pristine

PG_URL = os.environ.get("SAOLA_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
DEMO_PASSWORD = "saola-demo"


def pytest_configure(config: pytest.Config) -> None:
    # Argon2's cheapest profile: the tests sign in hundreds of times; production keeps the default cost.
    from argon2 import PasswordHasher, profiles

    from saola.core.auth.passwords import use_hasher

    use_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))
    from tests.route_memo import install as memoise_route_analysis

    memoise_route_analysis()  # FastAPI analyses every endpoint once per run, not once per test's app
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI=true requires SAOLA_TEST_DATABASE_URL (PostgreSQL tests must run in CI)")


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


# --- template databases -------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    _seed(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _pg_admin_url() -> str:
    return make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False)


@contextmanager
def pg_scratch_database(prefix: str, template: str | None = None) -> Iterator[tuple[str, str]]:
    """A new PostgreSQL database (empty, or a copy of ``template``), dropped afterwards: (name, url)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield name, make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    with pg_scratch_database("saola_tmpl") as (name, url):
        upgrade(url)
        _seed(url)
        yield name


@pytest.fixture(scope="session")
def pg_pool(pg_template: str) -> Iterator[DatabasePool]:
    """Copies of the template this process resets and reuses (tests/pg_pool.py: a copy costs ~0.5 s of CPU)."""
    def url_of(name: str) -> str:
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    pool = DatabasePool(admin_url=_pg_admin_url(), url_of=url_of, template=pg_template,
                        pristine=read_pristine(url_of(pg_template)))
    yield pool
    pool.close()


def _seed(url: str) -> None:
    """Small, fixed reference data every test can rely on: agencies and one user per role."""
    from saola.core.auth import service as auth
    from saola.core.directory.models import Agency

    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        agencies = {
            code: Agency(code=code, name=name, name_en=name, kind="department")
            for code, name in [("IOC", "IOC"), ("SXD", "Sở Xây dựng"), ("SYT", "Sở Y tế"), ("TTPVHCC", "TTPVHCC")]
        }
        session.add_all(agencies.values())
        session.flush()
        for username, role, code in USERS:
            auth.create_user(session, username=username, password=DEMO_PASSWORD, role=role,
                             agency_id=agencies[code].id if code else None, full_name=username.title())
    engine.dispose()


USERS = [
    ("admin", "admin", None),
    ("operator", "operator", "IOC"),
    ("staff", "agency_staff", "SXD"),
    ("staff2", "agency_staff", "SYT"),
    ("clerk", "clerk", "TTPVHCC"),
    ("viewer", "viewer", "SXD"),
]


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated and seeded database for one test, on each backend (on PostgreSQL a pooled copy
    of the template, reset to the template's state before each test: tests/pg_pool.py)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "saola.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    pool: DatabasePool = request.getfixturevalue("pg_pool")
    name = pool.acquire()
    yield pool.url_of(name)
    pool.release(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=database_url, data_dir=tmp_path, env="test", log_json=True,
                         secret_key="test-secret-key-0123456789abcdef0123456789")


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def db(app) -> Iterator[Session]:
    """A session on the test database, committed at the end of each ``with`` in the test."""
    session = app.state.session_factory()
    yield session
    session.close()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """A TestClient that signed in through the login form, with its CSRF token."""

    client: TestClient
    csrf: str

    def post_form(self, url: str, data: dict[str, str], **kw: object):
        return self.client.post(url, data={**data, "csrf_token": self.csrf}, **kw)

    def api(self, method: str, url: str, **kw: object):
        headers = dict(kw.pop("headers", {}) or {})  # type: ignore[arg-type]
        headers.setdefault("X-CSRF-Token", self.csrf)
        return self.client.request(method, url, headers=headers, **kw)


def csrf_from(client: TestClient, url: str = "/login") -> str:
    page = client.get(url)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(app, username: str, password: str = DEMO_PASSWORD) -> Browser:
    client = TestClient(app, base_url="http://127.0.0.1")
    csrf = csrf_from(client)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf,
                                           "next": "/console"}, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return Browser(client, csrf)


@pytest.fixture
def login(app):
    """``login("operator")`` → a :class:`Browser` signed in as that user."""
    clients: list[TestClient] = []

    def _login(username: str, password: str = DEMO_PASSWORD) -> Browser:
        browser = sign_in(app, username, password)
        clients.append(browser.client)
        return browser

    yield _login
    for c in clients:
        c.close()


@pytest.fixture
def token(app):
    """``token("staff", scopes=[...])`` → the secret of a new API token for that user."""
    from saola.core.auth import service as auth

    def _token(username: str, scopes: list[str] | None = None) -> str:
        with unit_of_work(app.state.session_factory) as session:
            user = auth.get_user(session, username=username)
            _row, secret = auth.create_token(session, user=user, scopes=scopes)
        return secret

    return _token


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for the small real servers tests start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test app served by uvicorn on 127.0.0.1 and a free port, in a background thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-live", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A scratch PostgreSQL database for a test about PostgreSQL alone (skipped without one, failing in CI)."""
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true requires PostgreSQL (SAOLA_TEST_DATABASE_URL) for the PostgreSQL-only tests")
        pytest.skip("PostgreSQL is not configured (SAOLA_TEST_DATABASE_URL); these tests run in CI")
    with pg_scratch_database("saola_pg", request.getfixturevalue("pg_template")) as (_name, url):
        yield url


# --- fake outside services for messaging (tests/messaging_servers.py) ---------------------------

from tests.messaging_servers import mailbox, sms_gateway  # noqa: E402, F401  (fixtures)
