"""``saola context``: maintenance of the NGSI-LD broker (history retention)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

context_app = typer.Typer(help="NGSI-LD broker maintenance: purge old attribute history.", no_args_is_help=True)


@context_app.command("purge-history")
def purge_history_command() -> None:
    """Delete attribute history older than SAOLA_NGSI_LD_RETENTION_DAYS / SAOLA_NGSI_LD_RETENTION_BY_TYPE."""
    from saola.context.temporal import parse_retention_overrides, purge_history
    from saola.core.db import make_engine, make_session_factory
    from saola.core.settings import load_settings

    try:
        settings = load_settings()
        overrides = parse_retention_overrides(settings.ngsi_ld_retention_by_type)
    except Exception as exc:  # pydantic ValidationError or a bad override: show it plainly and stop
        typer.echo(f"Configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if settings.ngsi_ld_retention_days == 0 and not any(overrides.values()):
        typer.echo("Retention is not configured (SAOLA_NGSI_LD_RETENTION_DAYS=0): nothing to purge.")
        return
    engine = make_engine(settings.effective_database_url)
    try:
        with make_session_factory(engine)() as session:
            deleted = purge_history(session, now=datetime.now(UTC), days=settings.ngsi_ld_retention_days,
                                    per_type=overrides)
            session.commit()
    finally:
        engine.dispose()
    typer.echo(f"Deleted {deleted} history rows.")
