"""``saola feedback anonymise [--dry-run]``: erase reporters' personal data past the retention period now.

The work is :func:`saola.feedback.retention.anonymise` (imported when the command runs, so
``saola --help`` stays fast); the app also runs it daily by itself.
"""

from __future__ import annotations

from typing import Annotated

import typer

from saola.feedback.cli import feedback_app


@feedback_app.command("anonymise")
def anonymise_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be erased; change nothing")] = False,
) -> None:
    """Erase the personal data of reporters of reports answered or rejected longer than the retention ago."""
    from saola.core.db import make_engine, make_session_factory, unit_of_work, utcnow
    from saola.core.settings import load_settings
    from saola.feedback.retention import BATCH, anonymise

    settings = load_settings()
    days = settings.feedback_retention_days
    if days <= 0:
        typer.echo("SAOLA_FEEDBACK_RETENTION_DAYS is 0: personal data is kept forever; nothing to do.")
        return
    engine = make_engine(settings.effective_database_url)
    factory = make_session_factory(engine)
    reports = reporters = 0
    try:
        while True:
            with unit_of_work(factory) as session:
                run = anonymise(session, now=utcnow(), retention_days=days, dry_run=dry_run)
            reports, reporters = reports + run.reports, reporters + run.reporters
            if dry_run or run.reports < BATCH:
                break
    finally:
        engine.dispose()
    cutoff = run.cutoff.date().isoformat() if run.cutoff else "-"
    if dry_run:
        typer.echo(f"Dry run: {reports} reports settled before {cutoff} would be anonymised "
                   f"({reporters} reporters' personal data erased). Nothing was changed.")
    else:
        typer.echo(f"Anonymised {reports} reports settled before {cutoff} ({reporters} reporters' personal data "
                   "erased).")
