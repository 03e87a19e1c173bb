"""``saola calendar``: deadlines, counts and holidays from the command line."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, TypeVar

import typer

T = TypeVar("T")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

calendar_app = typer.Typer(help="Vietnamese working days: deadlines, counts and holidays.", no_args_is_help=True)


def _date(text: str, what: str) -> date:
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        typer.echo(f"Error: {what} must be a date as YYYY-MM-DD, not {text!r}.", err=True)
        raise typer.Exit(2) from exc


def _run(compute: Callable[[], T]) -> T:
    from saola.core.errors import DomainError

    try:
        return compute()
    except DomainError as exc:
        typer.echo(f"Error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc


@calendar_app.command("add")
def add(
    start: Annotated[str, typer.Argument(metavar="DATE", help="Start date, YYYY-MM-DD")],
    n: Annotated[int, typer.Argument(metavar="N", help="Number of working days (0 or more)")],
) -> None:
    """Print the date N working days after DATE (day 1 is the first working day after it)."""
    from saola.core.calendar.working import default_calendar

    day = _date(start, "DATE")
    typer.echo(_run(lambda: default_calendar().add_working_days(day, n)).isoformat())


@calendar_app.command("count")
def count(
    start: Annotated[str, typer.Argument(metavar="START", help="Start date, YYYY-MM-DD (not counted)")],
    end: Annotated[str, typer.Argument(metavar="END", help="End date, YYYY-MM-DD (counted)")],
) -> None:
    """Print the number of working days after START up to and including END."""
    from saola.core.calendar.working import default_calendar

    first, last = _date(start, "START"), _date(end, "END")
    typer.echo(_run(lambda: default_calendar().count_working_days(first, last)))


@calendar_app.command("holidays")
def holidays(
    year: Annotated[int, typer.Argument(help="Year")],
    lang: Annotated[str, typer.Option(help="Language of the names: vi or en")] = "vi",
) -> None:
    """List the holidays, days off and make-up working days of YEAR."""
    from saola.core.calendar.working import default_calendar

    if lang not in ("vi", "en"):
        typer.echo("Error: --lang must be vi or en.", err=True)
        raise typer.Exit(2)
    plan = _run(lambda: default_calendar().plan(year))
    if not plan.official:
        typer.echo(f"# {year}: not every notice is published; days marked * are estimates from the Labour Code")
    for day in plan.days:
        name = day.name_vi if lang == "vi" else day.name_en
        typer.echo(f"{day.date.isoformat()}  {day.kind:<11}  {name}{' *' if day.estimated else ''}")
