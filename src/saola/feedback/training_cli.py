"""``saola feedback train``: retrain the report classifier from the city's classified reports (the console's
"Retrain now" and ``POST /api/v1/feedback/classifier/train`` call the same :func:`saola.feedback.training.train`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from saola.feedback.classifier import MIN_EXAMPLES_PER_LABEL


def train_command(
    output: Annotated[Path | None, typer.Option(
        help="Where to write the model (default: SAOLA_FEEDBACK_CLASSIFIER_MODEL, else "
             "<data_dir>/feedback/classifier.joblib); its card is written beside it", dir_okay=False)] = None,
    min_per_category: Annotated[int, typer.Option(
        min=MIN_EXAMPLES_PER_LABEL, max=100_000,
        help="Categories with fewer labelled reports are left out (and listed)")] = 10,
    include_demo: Annotated[bool, typer.Option(
        help="Also learn from the demo's labelled reports (written for the demo, not citizen data)")] = False,
) -> None:
    """Train the classifier on reports whose category a person gave, measure it on a held-out part, install it."""
    from saola.core.db import make_engine, make_session_factory, unit_of_work, utcnow
    from saola.core.errors import DomainError
    from saola.core.settings import load_settings
    from saola.feedback import training

    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            card = training.train(session, settings=settings, now=utcnow(), output=output,
                                  source="history+demo" if include_demo else "history",
                                  min_per_category=min_per_category)
    except DomainError as exc:
        typer.echo(f"Not trained: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    path = output or settings.effective_feedback_classifier_model
    typer.echo(f"Trained on {card.examples} labelled reports ({card.source}) in {len(card.categories)} categories.")
    if card.evaluation is not None:
        ev = card.evaluation
        typer.echo(f"Held-out ({ev.held_out} reports, {ev.method}): accuracy {ev.accuracy:.3f}, "
                   f"macro-F1 {ev.macro_f1:.3f}")
    else:
        typer.echo("Not measured: too few reports to hold any out.")
    for code, n in card.categories.items():
        typer.echo(f"  {code:<28} {n:>6}")
    if card.skipped:
        typer.echo(f"Left out (fewer than {card.min_per_category} labelled reports): "
                   + ", ".join(f"{code} ({n})" for code, n in card.skipped.items()))
    typer.echo(f"Model written to {path} (card: {training.card_path(path)}).")
