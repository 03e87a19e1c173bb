"""The ``saola`` command: serve, migrate, demo, users, token, check, config."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from saola.context.cli import context_app
from saola.core.calendar.cli import calendar_app
from saola.core.settings import Settings, load_settings
from saola.devices.cli import ingest_command
from saola.egov.cli import egov_app
from saola.feedback.cli import feedback_app
from saola.feedback.retention_cli import anonymise_command  # noqa: F401  (registers `saola feedback anonymise`)
from saola.sim.cli import simulate_command

app = typer.Typer(help="Saola — open smart-city operations platform.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
users_app = typer.Typer(help="Create, list, disable and enable users; reset passwords.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for machine clients.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(token_app, name="token")
app.add_typer(calendar_app, name="calendar")
app.add_typer(context_app, name="context")
app.add_typer(egov_app, name="egov")
app.add_typer(feedback_app, name="feedback")
app.command("ingest")(ingest_command)  # the MQTT ingest worker alone (saola.devices.cli)
app.command("simulate")(simulate_command)  # the demo city's telemetry (saola.sim.cli)


def _settings() -> Settings:
    try:
        return load_settings()
    except Exception as exc:  # pydantic ValidationError: show it plainly and stop
        typer.echo(f"Configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _factory(settings: Settings):
    from saola.core.db import make_engine, make_session_factory

    return make_session_factory(make_engine(settings.effective_database_url))


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL recommended above 1)")] = 1,
) -> None:
    """Serve the web console, the portal and the APIs."""
    import uvicorn

    settings = _settings()
    _check_event_bus(settings)
    typer.echo(f"Saola on http://{host}:{port}  (database: {settings.effective_database_url.split('@')[-1]})")
    from saola.devices.mqtt_worker import SERVE_WORKERS_ENV

    os.environ[SERVE_WORKERS_ENV] = str(workers)  # inherited by the worker processes (their MQTT client ids)
    uvicorn.run("saola.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=None, proxy_headers=False)


def _check_event_bus(settings: object) -> None:
    """Stop with one clear line when the shared event bus (SAOLA_EVENT_BUS=redis|nats) does not answer."""
    from saola.core.events import EventBusUnavailable, make_event_bus

    try:
        make_event_bus(settings)
    except EventBusUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def migrate() -> None:
    """Create the database or bring it up to date."""
    from saola.core.migrate import upgrade

    settings = _settings()
    upgrade(settings.effective_database_url)
    typer.echo("Database is up to date.")


@app.command()
def demo() -> None:
    """Load the demo city (idempotent): units, agencies, demo users."""
    from saola.core.db import unit_of_work
    from saola.sim.demo import DEMO_USERS, load_demo

    settings = _settings()
    if settings.env == "production":
        raise _fail("Refusing to load demo data with SAOLA_ENV=production.")
    with unit_of_work(_factory(settings)) as session:
        report = load_demo(session, settings=settings)
    typer.echo(report.summary())
    typer.echo("Demo accounts (password: " + settings.demo_password + "):")
    for username, role, _agency in DEMO_USERS:
        typer.echo(f"  {username:<10} {role}")


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[str, typer.Option(help="admin, operator, agency_staff, clerk or viewer")],
    agency: Annotated[str | None, typer.Option(help="Agency code (required except for admin)")] = None,
    password: Annotated[str | None, typer.Option(help="Password (asked when omitted)")] = None,
    full_name: Annotated[str, typer.Option(help="Full name")] = "",
    email: Annotated[str, typer.Option(help="E-mail address")] = "",
) -> None:
    """Create a user."""
    from saola.core.auth import service
    from saola.core.db import unit_of_work
    from saola.core.directory.service import get_agency_by_code
    from saola.core.errors import DomainError

    settings = _settings()
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work(_factory(settings)) as session:
            agency_id = get_agency_by_code(session, code=agency).id if agency else None
            user = service.create_user(session, username=username, password=password, role=role,
                                       agency_id=agency_id, full_name=full_name, email=email)
            typer.echo(f"Created user {user.username} ({user.role}).")
    except DomainError as exc:
        raise _fail(f"Error: {exc.detail}") from exc


@users_app.command("list")
def users_list() -> None:
    """List users."""
    from saola.core.auth import service
    from saola.core.db import unit_of_work

    with unit_of_work(_factory(_settings())) as session:
        typer.echo(f"{'username':<16} {'role':<13} {'agency':<14} {'active':<6} last login")
        for u in service.list_users(session):
            agency = u.agency.code if u.agency else "-"
            last = u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "-"
            typer.echo(f"{u.username:<16} {u.role:<13} {agency:<14} {'yes' if u.active else 'no':<6} {last}")


def _set_active(username: str, active: bool) -> None:
    from saola.core.auth import service
    from saola.core.db import unit_of_work
    from saola.core.errors import DomainError

    try:
        with unit_of_work(_factory(_settings())) as session:
            user = service.get_user(session, username=username)
            service.update_user(session, user=user, active=active)
    except DomainError as exc:
        raise _fail(f"Error: {exc.detail}") from exc
    typer.echo(f"User {username} {'enabled' if active else 'disabled'}.")


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: they are signed out and their tokens revoked."""
    _set_active(username, False)


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled user."""
    _set_active(username, True)


@users_app.command("reset-password")
def users_reset_password(
    username: str,
    password: Annotated[str | None, typer.Option(help="New password (asked when omitted)")] = None,
) -> None:
    """Set a new password for a user (signs them out everywhere)."""
    from saola.core.auth import service
    from saola.core.db import unit_of_work
    from saola.core.errors import DomainError

    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work(_factory(_settings())) as session:
            user = service.get_user(session, username=username)
            service.set_password(session, user=user, password=password)
    except DomainError as exc:
        raise _fail(f"Error: {exc.detail}") from exc
    typer.echo(f"Password of {username} changed.")


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="Username the token acts for")],
    scope: Annotated[list[str] | None, typer.Option("--scope", help="A permission; repeat for several")] = None,
    name: Annotated[str, typer.Option(help="What the token is for")] = "",
    tenant: Annotated[list[str] | None, typer.Option("--tenant", help="NGSI-LD tenant it may use")] = None,
) -> None:
    """Create an API token; the token is printed alone on the last line."""
    from saola.core.auth import service
    from saola.core.db import unit_of_work
    from saola.core.errors import DomainError

    try:
        with unit_of_work(_factory(_settings())) as session:
            owner = service.get_user(session, username=user)
            token, secret = service.create_token(session, user=owner, scopes=scope or [], name=name,
                                                 tenants=tenant or [])
            scopes = ", ".join(token.scopes) or "all permissions of role " + owner.role
    except DomainError as exc:
        raise _fail(f"Error: {exc.detail}") from exc
    typer.echo(f"Token {token.prefix}… for {user} ({scopes}). Use it as 'Authorization: Bearer TOKEN':")
    typer.echo(secret)


@app.command()
def check() -> None:
    """Verify configuration, database and broker connectivity; print what is wrong."""
    from saola.core.checks import check_broker, check_database
    from saola.core.db import make_engine

    problems = 0
    try:
        settings = load_settings()
        typer.echo(f"configuration: ok (env={settings.env})")
    except Exception as exc:
        typer.echo(f"configuration: ERROR {exc}")
        raise typer.Exit(1) from exc
    db = check_database(make_engine(settings.effective_database_url))
    where = settings.effective_database_url.split('@')[-1]
    typer.echo(f"database: {'ok' if db['ok'] else 'ERROR ' + db['error']} ({where})")
    problems += not db["ok"]
    if settings.mqtt_url:
        broker = check_broker(settings.mqtt_url)
        typer.echo(f"broker: {'ok' if broker['ok'] else 'ERROR ' + broker['error']}")
        problems += not broker["ok"]
    else:
        typer.echo("broker: not configured (SAOLA_MQTT_URL is empty)")
    if settings.env != "production" and settings.secret_key.startswith("saola-development"):
        typer.echo("secret key: development default (set SAOLA_SECRET_KEY before going to production)")
    if problems:
        raise typer.Exit(1)


@app.command()
def config(markdown: Annotated[bool, typer.Option(help="Print the README's configuration table")] = False) -> None:
    """Show the effective settings (secrets hidden)."""
    from saola.core.settings import settings_markdown_table

    if markdown:
        typer.echo(settings_markdown_table())
        return
    settings = _settings()
    for key, value in settings.model_dump().items():
        shown = "***" if "secret" in key or "password" in key else value
        if key.endswith("_url") and isinstance(value, str):
            shown = _hide_password(value)
        typer.echo(f"SAOLA_{key.upper()}={shown}")


def _hide_password(url: str) -> str:
    """``scheme://user:***@host/...``: a URL fit to print."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.netloc.rsplit('@', 1)[1]}"
    return urlunsplit(parts._replace(netloc=netloc))


units_app = typer.Typer(help="Administrative units of Vietnam: load them, resolve addresses.", no_args_is_help=True)
app.add_typer(units_app, name="units")


@units_app.command("load")
def units_load() -> None:
    """Load the current and former administrative units and their successions (idempotent)."""
    import time

    from saola.core.db import unit_of_work
    from saola.core.directory.service import load_units

    started = time.perf_counter()
    with unit_of_work(_factory(_settings())) as session:
        loaded = load_units(session)
    took = time.perf_counter() - started
    if loaded.units or loaded.successions:
        typer.echo(f"Loaded {loaded.units} administrative units and {loaded.successions} successions in {took:.1f} s.")
    else:
        typer.echo("Administrative units already loaded; nothing to add.")


@units_app.command("resolve")
def units_resolve(
    address: Annotated[str, typer.Argument(help="An address, written the old way or the new way")],
) -> None:
    """Print the current ward and province of an address."""
    from saola.core.db import unit_of_work
    from saola.core.directory.service import resolve_address
    from saola.core.errors import DomainError

    try:
        with unit_of_work(_factory(_settings())) as session:
            found = resolve_address(session, address=address)
            typer.echo(f"{found.ward.full_name}, {found.province.full_name}  (ward {found.ward.code}, "
                       f"province {found.province.code})")
            if found.former is not None:
                typer.echo(f"  written the old way: {found.former.full_name} ({found.former.code})")
            for other in found.other_wards:
                typer.echo(f"  part of it is now in: {other.full_name} ({other.code})")
    except DomainError as exc:
        raise _fail(f"Error: {exc.detail}") from exc


def main() -> None:  # pragma: no cover - console entry point alias
    app(sys.argv[1:])
