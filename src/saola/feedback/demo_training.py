"""The demo's ``feedback classifier`` step: the initial report classifier, trained on the demo's labelled reports.

``saola demo`` (and so ``make run``) trains it in a few seconds from ``data/feedback/demo_reports.json``
— short reports written for the demo by the Saola team, not citizen data — and installs it at
``SAOLA_FEEDBACK_CLASSIFIER_MODEL`` (default ``<data_dir>/feedback/classifier.joblib``) with its card
saying "demo labelled reports". An installed model is never replaced, so a second run adds nothing
and a model the city trained stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from saola.core.db import utcnow
from saola.feedback.training import install_demo_model

if TYPE_CHECKING:
    from saola.sim.demo import DemoContext


def demo_step(ctx: DemoContext) -> None:
    """Train and install the demo's classifier unless a model is installed already."""
    card = install_demo_model(ctx.session, settings=ctx.settings, now=utcnow())
    if card is not None:
        ctx.report.add("1022 classifier examples (demo labelled reports)", card.examples)
