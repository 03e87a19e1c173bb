"""The after-action report of an incident: what happened, when, who was sent, what was done, how it ended.

:func:`build` turns an incident's details into :class:`AfterActionReport` (data shared by the print
page and the PDF); :func:`pdf` renders it as an A4 PDF with ``fpdf2`` and the DejaVu Sans font shipped
in ``saola/data/egov/fonts`` (it covers Vietnamese), in Vietnamese or English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from fpdf import FPDF

from saola.core.i18n import gettext
from saola.ioc.incident_types import SEVERITY_LABELS, UNIT_KINDS, type_name
from saola.ioc.incident_workflow import STATUS_LABELS
from saola.ioc.incidents import IncidentDetails

EVENT_LABELS = {"created": "Incident opened", "transition": "Status changed", "reopened": "Reopened",
                "note": "Note", "unit-dispatched": "Unit dispatched", "unit-arrived": "Unit arrived on site",
                "unit-released": "Unit released", "linked": "Linked", "unlinked": "Link removed",
                "checklist": "Checklist step"}
LINK_LABELS = {"alert": "Alert", "report": "Citizen report", "entity": "Entity"}


@dataclass(frozen=True)
class Row:
    at: datetime | None
    who: str
    what: str
    text: str


@dataclass(frozen=True)
class AfterActionReport:
    lang: str
    code: str
    title: str
    type_name: str
    severity: str
    status: str
    agency: str
    ward_code: str
    address: str
    opened_at: datetime
    dispatched_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    durations: tuple[tuple[str, str], ...]
    resolution: str
    description: str
    created_by: str
    units: tuple[Row, ...]
    checklist: tuple[tuple[bool, str, str], ...]
    links: tuple[tuple[str, str, str], ...]
    timeline: tuple[Row, ...]


def duration_text(delta: timedelta | None, lang: str) -> str:
    if delta is None:
        return "—"
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    unit = ("ngày", "giờ", "phút") if lang == "vi" else ("d", "h", "min")
    parts = [f"{days} {unit[0]}" if days else "", f"{hours} {unit[1]}" if hours else "", f"{minutes} {unit[2]}"]
    return " ".join(p for p in parts if p)


def _since(start: datetime, end: datetime | None) -> timedelta | None:
    return end - start if end is not None else None


def build(details: IncidentDetails, *, lang: str) -> AfterActionReport:
    inc = details.incident

    def _(text: str) -> str:
        return gettext(lang, text)

    arrivals = [u.arrived_at for u in details.units if u.arrived_at]
    durations = (
        (_("Time to dispatch"), duration_text(_since(inc.opened_at, inc.dispatched_at), lang)),
        (_("Time to first unit on site"), duration_text(_since(inc.opened_at, min(arrivals) if arrivals else None),
                                                         lang)),
        (_("Time to resolve"), duration_text(_since(inc.opened_at, inc.resolved_at), lang)),
        (_("Time to close"), duration_text(_since(inc.opened_at, inc.closed_at), lang)),
    )
    units = tuple(Row(u.dispatched_at, u.name, _(UNIT_KINDS.get(u.kind, u.kind)),
                      " · ".join(p for p in (
                          f"{_('Arrived')}: {local(u.arrived_at, lang)}" if u.arrived_at else "",
                          f"{_('Released')}: {local(u.released_at, lang)}" if u.released_at else "", u.note) if p))
                  for u in details.units)
    timeline = tuple(Row(e.at, e.actor_name, _event_text(e.kind, e.from_status, e.to_status, lang), e.text)
                     for e in details.events)
    return AfterActionReport(
        lang=lang, code=inc.code, title=inc.title, type_name=type_name(inc.incident_type, lang),
        severity=_(SEVERITY_LABELS.get(inc.severity, inc.severity)),
        status=_(STATUS_LABELS.get(inc.status, inc.status)),
        agency=(details.agency.name if details.agency else "—"), ward_code=inc.ward_code or "—",
        address=inc.address or "", opened_at=inc.opened_at, dispatched_at=inc.dispatched_at,
        resolved_at=inc.resolved_at, closed_at=inc.closed_at, durations=durations, resolution=inc.resolution,
        description=inc.description, created_by=inc.created_by_name, units=units,
        checklist=tuple((c.done_at is not None, c.text_vi if lang == "vi" else c.text_en,
                         f"{local(c.done_at, lang)} · {c.done_by_name}" if c.done_at else "")
                        for c in details.checklist),
        links=tuple((_(LINK_LABELS.get(link.kind, link.kind)), link.ref, link.label) for link in details.links),
        timeline=timeline)


def _event_text(kind: str, source: str | None, target: str | None, lang: str) -> str:
    label = gettext(lang, EVENT_LABELS.get(kind, kind))
    if kind in ("transition", "reopened") and source and target:
        return f"{label}: {gettext(lang, STATUS_LABELS.get(source, source))} → " \
               f"{gettext(lang, STATUS_LABELS.get(target, target))}"
    return label


def local(at: datetime | None, lang: str, tz: str = "Asia/Ho_Chi_Minh") -> str:
    if at is None:
        return "—"
    value = at.astimezone(ZoneInfo(tz))
    return value.strftime("%d/%m/%Y %H:%M") if lang == "vi" else value.strftime("%Y-%m-%d %H:%M")


def pdf(report: AfterActionReport, *, tz: str) -> bytes:
    """The after-action report as an A4 PDF."""
    lang = report.lang

    def _(text: str) -> str:
        return gettext(lang, text)

    fonts = resources.files("saola.data.egov").joinpath("fonts")
    doc = FPDF(format="A4")
    doc.set_title(f"{_('After-action report')} {report.code}: {report.title}")
    doc.set_creator("Saola")
    doc.set_subject(report.code)
    doc.add_font("DejaVu", "", str(fonts.joinpath("DejaVuSans.ttf")))
    doc.add_font("DejaVu", "B", str(fonts.joinpath("DejaVuSans-Bold.ttf")))
    doc.set_margins(16, 14, 16)
    doc.set_auto_page_break(True, margin=14)
    doc.add_page()
    width = doc.w - doc.l_margin - doc.r_margin

    def line(text: str, size: int = 10, bold: bool = False, height: float = 5.5) -> None:
        doc.set_font("DejaVu", "B" if bold else "", size)
        doc.multi_cell(width, height, text, new_x="LMARGIN", new_y="NEXT")

    def heading(text: str) -> None:
        doc.ln(2)
        line(text.upper(), 11, bold=True, height=7)

    line(_("INTELLIGENT OPERATIONS CENTER"), 9, bold=True)
    doc.ln(2)
    line(_("After-action report"), 15, bold=True, height=8)
    line(f"{report.code} — {report.title}", 12, bold=True, height=6.5)
    doc.ln(1)
    facts = [(_("Type"), report.type_name), (_("Severity"), report.severity), (_("Status"), report.status),
             (_("Owner agency"), report.agency), (_("Ward code"), report.ward_code),
             (_("Address"), report.address or "—"), (_("Opened by"), report.created_by),
             (_("Opened"), local(report.opened_at, lang, tz)), (_("Units dispatched"), local(report.dispatched_at,
                                                                                             lang, tz)),
             (_("Resolved"), local(report.resolved_at, lang, tz)), (_("Closed"), local(report.closed_at, lang, tz))]
    for label, value in facts + list(report.durations):
        line(f"{label}: {value}")
    if report.description:
        heading(_("Description"))
        line(report.description)
    heading(_("Resolution"))
    line(report.resolution or "—")
    heading(_("Dispatched units"))
    for unit in report.units or (Row(None, "—", "", ""),):
        line(f"• {unit.who} ({unit.what}) — {_('Dispatched')}: {local(unit.at, lang, tz)}"
             + (f" · {unit.text}" if unit.text else ""))
    heading(_("Standard operating procedure"))
    for done, text, when in report.checklist:
        line(f"[{'x' if done else ' '}] {text}" + (f" ({when})" if when else ""))
    heading(_("Linked alerts, reports and entities"))
    for kind, ref, label in report.links or (("—", "", ""),):
        line(f"• {kind}: {ref}" + (f" — {label}" if label and label != ref else ""))
    heading(_("Timeline"))
    for row in report.timeline:
        line(f"{local(row.at, lang, tz)} · {row.who} · {row.what}" + (f": {row.text}" if row.text else ""), 9,
             height=5)
    doc.ln(6)
    line(_("Prepared by the operator on duty"), 10, bold=True)
    return bytes(doc.output())
