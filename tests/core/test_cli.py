"""The ``saola`` command, run as the real console script against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from saola.core.db import make_engine
from saola.core.models import Base
from tests.conftest import free_port, sign_in
from tests.core.helpers import UNREACHABLE_BROKER, UNREACHABLE_DATABASE, require_broker

SAOLA = str(Path(sys.executable).with_name("saola"))


def saola_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``saola`` process: this database, this data directory, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAOLA_")}
    env.update(SAOLA_DATABASE_URL=database_url, SAOLA_DATA_DIR=str(data_dir), SAOLA_ENV="test",
               SAOLA_LOG_LEVEL="WARNING", SAOLA_CONFIG_FILE=str(data_dir / "saola.toml"))
    (data_dir / "saola.toml").touch()
    env.update(extra)
    return env


@pytest.fixture
def saola(database_url: str, tmp_path: Path):
    """``saola("users", "list")`` → the finished process (text output), run on the test database."""

    def _run(*args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SAOLA, *args], env=saola_env(database_url, tmp_path, **env), cwd=tmp_path,
                              input=input, capture_output=True, text=True, timeout=60)

    return _run


def test_help_lists_the_commands(saola) -> None:
    result = saola("--help")
    assert result.returncode == 0
    for command in ("serve", "migrate", "demo", "users", "token", "check"):
        assert command in result.stdout
    users = saola("users", "--help")
    for command in ("create", "list", "disable", "enable", "reset-password"):
        assert command in users.stdout


def test_users_are_created_listed_disabled_enabled_and_given_new_passwords(saola, app) -> None:
    created = saola("users", "create", "mai.tran", "--role", "agency_staff", "--agency", "SYT",
                    "--password", "Hoa-Sen-2025", "--full-name", "Trần Thị Mai")
    assert created.returncode == 0, created.stderr
    assert "Created user mai.tran (agency_staff)" in created.stdout

    listed = saola("users", "list")
    assert listed.returncode == 0
    [row] = [line for line in listed.stdout.splitlines() if line.startswith("mai.tran ")]
    assert row.split()[1:4] == ["agency_staff", "SYT", "yes"]
    assert sign_in(app, "mai.tran", "Hoa-Sen-2025").client.get("/api/v1/me").json()["agency_id"] == 3

    assert saola("users", "disable", "mai.tran").returncode == 0
    [row] = [line for line in saola("users", "list").stdout.splitlines() if line.startswith("mai.tran ")]
    assert row.split()[3] == "no"
    with pytest.raises(AssertionError):
        sign_in(app, "mai.tran", "Hoa-Sen-2025")

    assert saola("users", "enable", "mai.tran").returncode == 0
    reset = saola("users", "reset-password", "mai.tran", "--password", "Sen-Hong-2026")
    assert reset.returncode == 0, reset.stderr
    assert "Hoa-Sen-2025" not in reset.stdout + reset.stderr
    with pytest.raises(AssertionError):
        sign_in(app, "mai.tran", "Hoa-Sen-2025")
    assert sign_in(app, "mai.tran", "Sen-Hong-2026").client.get("/api/v1/me").status_code == 200


def test_users_create_prompts_for_the_password_when_not_given(saola, app) -> None:
    created = saola("users", "create", "binh.le", "--role", "clerk", "--agency", "TTPVHCC",
                    input="Mot-Cua-2025\nMot-Cua-2025\n")
    assert created.returncode == 0, created.stderr
    assert "Mot-Cua-2025" not in created.stdout
    assert sign_in(app, "binh.le", "Mot-Cua-2025").client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "create", "x.y", "--role", "emperor", "--agency", "SXD", "--password", "long-enough-1"],
         "Unknown role 'emperor'"),
        (["users", "create", "x.y", "--role", "clerk", "--agency", "NOPE", "--password", "long-enough-1"],
         "No agency with code 'NOPE'"),
        (["users", "create", "x.y", "--role", "clerk", "--password", "long-enough-1"], "must belong to an agency"),
        (["users", "create", "x.y", "--role", "clerk", "--agency", "SXD", "--password", "short"], "at least 8"),
        (["users", "create", "staff", "--role", "clerk", "--agency", "SXD", "--password", "long-enough-1"],
         "already exists"),
        (["users", "disable", "nobody"], "No user named 'nobody'"),
        (["users", "reset-password", "viewer", "--password", "1234567890"], "only digits"),
    ],
)
def test_user_commands_refuse_bad_input_with_a_clear_message(saola, args: list[str], message: str) -> None:
    result = saola(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_token_create_prints_the_token_alone_on_the_last_line_and_it_works(saola, app) -> None:
    result = saola("token", "create", "--user", "staff", "--name", "sensor gateway")
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("saola_") and " " not in secret
    with TestClient(app) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["username"] == "staff"
    assert me.json()["via"] == "token"


def test_token_scopes_limit_the_token(saola, app) -> None:
    result = saola("token", "create", "--user", "operator", "--scope", "contacts:read", "--scope", "directory:read")
    assert result.returncode == 0, result.stderr
    assert "contacts:read, directory:read" in result.stdout
    headers = {"Authorization": f"Bearer {result.stdout.strip().splitlines()[-1]}"}
    with TestClient(app) as client:
        assert sorted(client.get("/api/v1/me", headers=headers).json()["permissions"]) == [
            "contacts:read", "directory:read"]
        assert client.post("/api/v1/contacts", headers=headers, json={"agency_id": 1, "name": "X"}).status_code == 403


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "viewer", "--scope", "users:manage"], "Scopes not allowed for role 'viewer': users:manage"),
        (["--user", "staff", "--scope", "contacts:read", "--scope", "launch:missiles"],
         "Scopes not allowed for role 'agency_staff': launch:missiles"),
        (["--user", "ghost"], "No user named 'ghost'"),
    ],
)
def test_token_create_refuses_scopes_beyond_the_role_and_unknown_users(saola, args: list[str], message: str) -> None:
    result = saola("token", "create", *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "saola_" not in result.stdout


def test_check_passes_on_a_good_database(saola) -> None:
    result = saola("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database: ok" in result.stdout
    assert "broker: not configured" in result.stdout


def test_check_fails_clearly_when_the_database_is_unreachable(saola) -> None:
    result = saola("check", SAOLA_DATABASE_URL=UNREACHABLE_DATABASE)
    assert result.returncode == 1
    assert "database: ERROR OperationalError" in result.stdout
    assert "127.0.0.1:1" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_check_fails_clearly_when_the_database_is_not_migrated(saola, tmp_path: Path) -> None:
    result = saola("check", SAOLA_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert "run 'saola migrate'" in result.stdout


def test_check_fails_clearly_when_the_broker_is_unreachable(saola) -> None:
    result = saola("check", SAOLA_MQTT_URL=UNREACHABLE_BROKER)
    assert result.returncode == 1
    assert "database: ok" in result.stdout
    assert "broker: ERROR 127.0.0.1:1" in result.stdout


def test_check_passes_with_the_real_broker(saola) -> None:
    result = saola("check", SAOLA_MQTT_URL=require_broker())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broker: ok" in result.stdout


def test_check_reports_a_configuration_error(saola) -> None:
    result = saola("check", SAOLA_SESSION_HOURS="forever")
    assert result.returncode == 1
    assert "configuration: ERROR" in result.stdout
    assert "session_hours" in result.stdout


def test_config_hides_secrets_and_passwords_in_urls(saola) -> None:
    result = saola("config", SAOLA_SECRET_KEY="k" * 40, SAOLA_MQTT_URL="mqtt://iot:Broker-Pass-1@127.0.0.1:1883",
                   SAOLA_DATABASE_URL="postgresql+psycopg://saola:Db-Pass-2@db.local:5432/saola")
    assert result.returncode == 0, result.stderr
    assert "k" * 40 not in result.stdout
    assert "Broker-Pass-1" not in result.stdout
    assert "Db-Pass-2" not in result.stdout
    assert "db.local:5432/saola" in result.stdout


def test_migrate_creates_every_table_in_an_empty_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'saola.db'}"
    result = subprocess.run([SAOLA, "migrate"], env=saola_env(url, tmp_path), cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    again = subprocess.run([SAOLA, "migrate"], env=saola_env(url, tmp_path), cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 0, again.stderr


# --- two instances ----------------------------------------------------------------------------------



@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[list[tuple[str, str]]]:
    """Two ``saola serve`` processes: one on the test database, one on a fresh SQLite file of its own.

    Yields ``(base_url, token)`` for each; the token is created in that instance's database.
    """
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    second_url = f"sqlite:///{second_dir / 'saola.db'}"
    env2 = saola_env(second_url, second_dir)
    for args in (["migrate"], ["users", "create", "root", "--role", "admin", "--password", "Root-Pass-2025"]):
        done = subprocess.run([SAOLA, *args], env=env2, cwd=second_dir, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    instances = [(database_url, tmp_path, "admin"), (second_url, second_dir, "root")]
    processes: list[subprocess.Popen[bytes]] = []
    out: list[tuple[str, str]] = []
    try:
        for url, folder, user in instances:
            env = saola_env(url, folder)
            made = subprocess.run([SAOLA, "token", "create", "--user", user], env=env, cwd=folder,
                                  capture_output=True, text=True, timeout=60)
            assert made.returncode == 0, made.stderr
            port = free_port()
            processes.append(subprocess.Popen([SAOLA, "serve", "--port", str(port)], env=env, cwd=folder,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            out.append((f"http://127.0.0.1:{port}", made.stdout.strip().splitlines()[-1]))
        for base, _token in out:
            _wait_ready(base)
        yield out
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_ready(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"saola serve at {base} did not become ready within {timeout}s")


def test_two_instances_on_two_databases_serve_side_by_side(servers: list[tuple[str, str]]) -> None:
    (first, first_token), (second, second_token) = servers
    me1 = httpx.get(f"{first}/api/v1/me", headers={"Authorization": f"Bearer {first_token}"})
    me2 = httpx.get(f"{second}/api/v1/me", headers={"Authorization": f"Bearer {second_token}"})
    assert (me1.status_code, me1.json()["username"]) == (200, "admin")
    assert (me2.status_code, me2.json()["username"]) == (200, "root")
    # each database knows only its own users and tokens
    assert httpx.get(f"{second}/api/v1/me", headers={"Authorization": f"Bearer {first_token}"}).status_code == 401
    assert httpx.get(f"{first}/api/v1/me", headers={"Authorization": f"Bearer {second_token}"}).status_code == 401
    users2 = httpx.get(f"{second}/api/v1/users", headers={"Authorization": f"Bearer {second_token}"}).json()
    assert [u["username"] for u in users2] == ["root"]
    users1 = httpx.get(f"{first}/api/v1/users", headers={"Authorization": f"Bearer {first_token}"}).json()
    assert {"admin", "operator", "viewer"} <= {u["username"] for u in users1}
