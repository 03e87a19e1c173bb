"""``saola egov procedures import|export FILE``: the procedures catalogue as CSV or JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

egov_app = typer.Typer(help="The one-stop shop: procedures catalogue.", no_args_is_help=True)
procedures_app = typer.Typer(help="Import or export the procedures catalogue (CSV or JSON).", no_args_is_help=True)
egov_app.add_typer(procedures_app, name="procedures")


def _format(path: Path, given: str | None) -> str:
    fmt = (given or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in ("csv", "json"):
        typer.echo(f"Unknown format '{fmt}': use csv or json.", err=True)
        raise typer.Exit(2)
    return fmt


def _factory():
    from saola.core.db import make_engine, make_session_factory
    from saola.core.settings import load_settings

    return make_session_factory(make_engine(load_settings().effective_database_url))


@procedures_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A .csv or .json catalogue file", exists=True, dir_okay=False)],
    format: Annotated[str | None, typer.Option(help="csv or json (default: from the file name)")] = None,
) -> None:
    """Add or update procedures (matched by code); one bad row rejects the file and saves nothing."""
    from saola.core.db import unit_of_work
    from saola.core.errors import DomainError
    from saola.egov import procedures

    fmt = _format(file, format)
    try:
        text = file.read_text("utf-8-sig")
        with unit_of_work(_factory()) as session:
            report = procedures.import_procedures(session, actor=None, records=procedures.parse(text, fmt=fmt))
    except (DomainError, UnicodeDecodeError) as exc:
        typer.echo(f"Not imported: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Imported {report.created + report.updated} procedures: {report.created} new, "
               f"{report.updated} updated.")


@procedures_app.command("export")
def export_file(
    file: Annotated[Path, typer.Argument(help="Where to write: .csv or .json", dir_okay=False)],
    format: Annotated[str | None, typer.Option(help="csv or json (default: from the file name)")] = None,
) -> None:
    """Write the whole catalogue to FILE."""
    from saola.core.db import unit_of_work
    from saola.egov import procedures

    fmt = _format(file, format)
    with unit_of_work(_factory()) as session:
        text = procedures.export(session, fmt=fmt)
        n = procedures.count(session)
    file.write_text(text, "utf-8")
    typer.echo(f"Exported {n} procedures to {file}.")
