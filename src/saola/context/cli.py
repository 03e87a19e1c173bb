"""``saola context``: maintenance of the NGSI-LD broker (history partitions and retention)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer

context_app = typer.Typer(help="NGSI-LD broker maintenance: history partitions, purge old attribute history.",
                          no_args_is_help=True)


def partition_cutoff(now: datetime, days: int, per_type: dict[str, int]) -> datetime | None:
    """Before this instant every history row is past every retention, so whole months can be dropped;
    ``None`` when some history is kept forever (``days`` 0 or a type with 0)."""
    if days <= 0 or any(keep <= 0 for keep in per_type.values()):
        return None
    return now - timedelta(days=max([days, *per_type.values()]))


@context_app.command("maintain-history")
def maintain_history_command() -> None:
    """Create the monthly history partitions around now (PostgreSQL) and file rows parked in DEFAULT."""
    from saola.context.partitions import ensure_partitions
    from saola.core.db import make_engine
    from saola.core.settings import load_settings

    engine = make_engine(load_settings().effective_database_url)
    try:
        with engine.begin() as conn:
            created = ensure_partitions(conn, now=datetime.now(UTC))
    finally:
        engine.dispose()
    typer.echo(f"Created {len(created)} history partitions{': ' + ', '.join(created) if created else ''}.")


@context_app.command("purge-history")
def purge_history_command() -> None:
    """Delete attribute history older than SAOLA_NGSI_LD_RETENTION_DAYS / SAOLA_NGSI_LD_RETENTION_BY_TYPE.

    On PostgreSQL, months entirely past every retention are dropped as whole partitions first;
    the remaining old rows are deleted one by one.
    """
    from saola.context.partitions import drop_expired_partitions, ensure_partitions
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
    now = datetime.now(UTC)
    engine = make_engine(settings.effective_database_url)
    try:
        with engine.begin() as conn:
            ensure_partitions(conn, now=now)
            cutoff = partition_cutoff(now, settings.ngsi_ld_retention_days, overrides)
            dropped = drop_expired_partitions(conn, cutoff=cutoff) if cutoff is not None else 0
        with make_session_factory(engine)() as session:
            deleted = purge_history(session, now=now, days=settings.ngsi_ld_retention_days, per_type=overrides)
            session.commit()
    finally:
        engine.dispose()
    typer.echo(f"Deleted {dropped + deleted} history rows.")
