"""The one-stop shop's demo step: the 30 real procedures of ``saola/data/egov/procedures.csv``
(National Public Service Portal, dichvucong.gov.vn), registered in :mod:`saola.sim.demo`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from saola.egov import procedures

if TYPE_CHECKING:
    from saola.sim.demo import DemoContext


def load_procedures_demo(ctx: DemoContext) -> None:
    report = procedures.load_demo_catalogue(ctx.session)
    ctx.report.add("procedures", report.created)
