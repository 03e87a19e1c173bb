"""``saola feedback mail-listener``: run the hotline's SMTP listener until stopped (Ctrl-C or SIGTERM)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer


def mail_listener(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default SAOLA_FEEDBACK_SMTP_HOST)")] = None,
    port: Annotated[int, typer.Option(help="Port to listen on")] = 2525,
) -> None:
    """Take citizens' e-mails to SAOLA_FEEDBACK_MAIL_ADDRESS in over SMTP and turn them into reports."""
    from saola.core.db import make_engine, make_session_factory
    from saola.core.settings import load_settings
    from saola.feedback.mail_listener import make_listener

    settings = load_settings()
    try:
        listener = make_listener(make_session_factory(make_engine(settings.effective_database_url)), settings,
                                 host=host or settings.feedback_smtp_host, port=port)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    listener.start()
    typer.echo(f"1022 mail listener on {listener.hostname}:{listener.port} for {settings.feedback_mail_address}")
    try:
        stop.wait()
    finally:
        listener.stop()
