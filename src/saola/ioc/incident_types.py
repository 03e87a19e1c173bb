"""Incident types and their standard operating procedure (SOP) checklists, read from ``data/ioc/incident_types.json``.

Each type has Vietnamese and English names, a default severity, the kinds of units usually sent and
an ordered checklist of steps (``key``, ``vi``, ``en``). An incident copies its type's checklist when
it is opened, so a later change of the file does not rewrite the history of older incidents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

SEVERITIES = ("critical", "major", "minor", "warning", "info")
SEVERITY_LABELS = {"critical": "Critical", "major": "Major", "minor": "Minor", "warning": "Warning", "info": "Info"}
UNIT_KINDS = {
    "fire": "Fire and rescue police",
    "ambulance": "Ambulance",
    "traffic_police": "Traffic police",
    "police": "Police",
    "electricity": "Power company crew",
    "public_works": "Public works crew",
    "rescue": "Search and rescue",
    "environment": "Environment inspectors",
    "other": "Other unit",
}


@dataclass(frozen=True)
class ChecklistStep:
    key: str
    vi: str
    en: str

    def text(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


@dataclass(frozen=True)
class IncidentType:
    code: str
    name_vi: str
    name_en: str
    default_severity: str
    suggested_units: tuple[str, ...]
    checklist: tuple[ChecklistStep, ...]

    def name(self, lang: str) -> str:
        return self.name_vi if lang == "vi" else self.name_en


@cache
def incident_types() -> dict[str, IncidentType]:
    """Every incident type by code, in the file's order."""
    raw = json.loads(resources.files("saola.data.ioc").joinpath("incident_types.json").read_text("utf-8"))
    out: dict[str, IncidentType] = {}
    for item in raw["types"]:
        steps = tuple(ChecklistStep(s["key"], s["vi"], s["en"]) for s in item["checklist"])
        if len({s.key for s in steps}) != len(steps):
            raise ValueError(f"incident type {item['code']!r}: duplicate checklist keys")
        if item["default_severity"] not in SEVERITIES or not set(item["suggested_units"]) <= set(UNIT_KINDS):
            raise ValueError(f"incident type {item['code']!r}: unknown severity or unit kind")
        out[item["code"]] = IncidentType(item["code"], item["name_vi"], item["name_en"], item["default_severity"],
                                         tuple(item["suggested_units"]), steps)
    return out


def get_type(code: str) -> IncidentType | None:
    return incident_types().get(code)


def type_name(code: str, lang: str) -> str:
    found = get_type(code)
    return found.name(lang) if found else code
