"""``saola feedback …``: the 1022 hotline's commands (each command lives in the module that owns its work)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from saola.feedback.mail_cli import mail_listener
from saola.feedback.training_cli import train_command

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

feedback_app = typer.Typer(help="The 1022 citizen feedback hotline.", no_args_is_help=True)
feedback_app.command("mail-listener")(mail_listener)
feedback_app.command("train")(train_command)


def session_factory() -> sessionmaker[Session]:
    """A session factory on the configured database (imported lazily so `saola --help` stays fast)."""
    from saola.core.db import make_engine, make_session_factory
    from saola.core.settings import load_settings

    return make_session_factory(make_engine(load_settings().effective_database_url))
