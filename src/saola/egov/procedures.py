"""Use cases of the procedures catalogue: browse, create, change, import and export (CSV and JSON).

The exchange format is the same for CSV and JSON (the fields of
:class:`~saola.egov.procedures_schemas.ProcedureIn`). In CSV, ``documents`` holds one document per
line of the cell and ``steps`` one ``AGENCY:DAYS:title`` per line, so a spreadsheet can edit them.
Importing is all or nothing: one bad row rejects the file, naming the row, and saves nothing.
Records are matched by their national code: an existing code is updated, a new one created.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable
from importlib import resources
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.core.text import fold
from saola.egov.errors import InvalidCatalogue, InvalidProcedure, ProcedureExists, ProcedureNotFound
from saola.egov.models import Procedure
from saola.egov.procedures_schemas import ImportReport, ProcedureIn, ProcedureOut

CSV_FIELDS = ("code", "name_vi", "name_en", "field", "level", "processing_days", "day_kind", "fee", "online_level",
              "supplement_clock", "extension_allowed", "documents", "steps", "legal_basis", "source_url", "active")
MAX_ROWS = 5000
DEMO_FILE = "procedures.csv"


def _nfc(value: Any) -> Any:
    """Vietnamese text in composed form (sources mix NFC and NFD; searching needs one)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


# --- reading ----------------------------------------------------------------------------------


def list_procedures(session: Session, *, q: str | None = None, level: str | None = None, field: str | None = None,
                    active_only: bool = True, limit: int = 50, offset: int = 0) -> tuple[list[Procedure], int]:
    """Procedures by code, filtered; ``q`` matches code or either name, accents and case ignored."""
    stmt = select(Procedure)
    if level:
        stmt = stmt.where(Procedure.level == level)
    if field:
        stmt = stmt.where(Procedure.field == _nfc(field))
    if active_only:
        stmt = stmt.where(Procedure.active.is_(True))
    rows = list(session.scalars(stmt.order_by(Procedure.code)))
    key = fold(q or "")
    if key:  # a catalogue holds a few thousand procedures: matched here, the same on every database
        rows = [p for p in rows if key in fold(f"{p.code} {p.name_vi} {p.name_en}")]
    return rows[offset:offset + limit], len(rows)


def fields(session: Session) -> list[str]:
    return [f for f in session.scalars(select(Procedure.field).distinct().order_by(Procedure.field)) if f]


def get_procedure(session: Session, *, procedure_id: int) -> Procedure:
    procedure = session.get(Procedure, procedure_id)
    if procedure is None:
        raise ProcedureNotFound()
    return procedure


def get_by_code(session: Session, *, code: str) -> Procedure:
    procedure = session.scalar(select(Procedure).where(Procedure.code == code))
    if procedure is None:
        raise ProcedureNotFound("No procedure with code '{code}'", code=code[:40])
    return procedure


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Procedure)) or 0)


# --- writing ----------------------------------------------------------------------------------


def _values(data: ProcedureIn) -> dict[str, Any]:
    values = _nfc(data.model_dump())
    values["steps"] = [dict(s) for s in values["steps"]]
    values["documents"] = [d for d in values["documents"] if d]
    return values


def create_procedure(session: Session, *, actor: Any, data: ProcedureIn) -> Procedure:
    """A new procedure; :class:`ProcedureExists` when its code is taken."""
    values = _values(data)
    if session.scalar(select(Procedure.id).where(Procedure.code == values["code"])) is not None:
        raise ProcedureExists("A procedure with code '{code}' already exists", field="code", code=values["code"])
    procedure = Procedure(**values)
    session.add(procedure)
    session.flush()
    return procedure


def update_procedure(session: Session, *, actor: Any, procedure_id: int, data: ProcedureIn) -> Procedure:
    """Replace every field of the procedure (its code may change if the new one is free)."""
    procedure = get_procedure(session, procedure_id=procedure_id)
    values = _values(data)
    clash = session.scalar(select(Procedure.id).where(Procedure.code == values["code"], Procedure.id != procedure.id))
    if clash is not None:
        raise ProcedureExists("A procedure with code '{code}' already exists", field="code", code=values["code"])
    for name, value in values.items():
        setattr(procedure, name, value)
    session.flush()
    return procedure


def import_procedures(session: Session, *, actor: Any, records: Iterable[ProcedureIn]) -> ImportReport:
    """Create or update (by code) every record; the caller's transaction makes it all or nothing."""
    created = updated = 0
    existing = {p.code: p for p in session.scalars(select(Procedure))}
    for record in records:
        values = _values(record)
        procedure = existing.get(values["code"])
        if procedure is None:
            procedure = Procedure(**values)
            session.add(procedure)
            existing[procedure.code] = procedure
            created += 1
        else:
            for name, value in values.items():
                setattr(procedure, name, value)
            updated += 1
    session.flush()
    return ImportReport(created=created, updated=updated)


# --- the exchange format ------------------------------------------------------------------------


def _validate(rows: Iterable[dict[str, Any]]) -> list[ProcedureIn]:
    out, seen = [], set()
    for number, row in enumerate(rows, start=1):
        if number > MAX_ROWS:
            raise InvalidCatalogue("A catalogue file holds at most {limit} procedures", limit=MAX_ROWS)
        try:
            record = ProcedureIn.model_validate(row)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "row"
            raise InvalidCatalogue("Procedure {row} is not valid: {where}: {error}", row=number, where=where,
                                   error=first["msg"]) from None
        if record.code in seen:
            raise InvalidCatalogue("Procedure {row} repeats the code {code}", row=number, code=record.code)
        seen.add(record.code)
        out.append(record)
    return out


def _csv_row(row: dict[str, str | None]) -> dict[str, Any]:
    """A CSV row (all text) as the fields of :class:`ProcedureIn`."""
    if None in row:
        raise InvalidCatalogue("A CSV row has more cells than the header")
    data: dict[str, Any] = {k: (v or "").strip() for k, v in row.items() if k in CSV_FIELDS}
    steps = []
    for line in (data.get("steps") or "").splitlines():
        if not line.strip():
            continue
        parts = line.split(":", 2)
        if len(parts) < 2:
            raise InvalidCatalogue("A step must read AGENCY:DAYS:title, not '{line}'", line=line[:80])
        steps.append({"agency": parts[0].strip(), "days": parts[1].strip(),
                      "title": parts[2].strip() if len(parts) > 2 else ""})
    data["steps"] = steps
    data["documents"] = [d.strip() for d in (data.get("documents") or "").splitlines() if d.strip()]
    if data.get("fee") == "":
        data["fee"] = None
    for flag in ("extension_allowed", "active"):
        if flag in data:
            text = str(data[flag]).lower()
            data[flag] = True if text in ("", "true", "1", "yes", "có") else (
                False if text in ("false", "0", "no", "không") else data[flag])
    return data


def parse_csv(text: str) -> list[ProcedureIn]:
    """Records of a CSV catalogue (header row with the :data:`CSV_FIELDS` names; extra columns ignored)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"code", "name_vi", "level", "processing_days"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidCatalogue("The CSV header lacks the columns {columns}", columns=", ".join(sorted(missing)))
    try:
        return _validate(_csv_row(row) for row in reader)
    except csv.Error as exc:
        raise InvalidCatalogue("The CSV file is malformed: {error}", error=str(exc)) from None


def parse_json(text: str) -> list[ProcedureIn]:
    """Records of a JSON catalogue: a list of procedures, or ``{"procedures": [...]}``."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidCatalogue("The file is not valid JSON") from None
    if isinstance(data, dict):
        data = data.get("procedures")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InvalidCatalogue("The JSON must be a list of procedures or an object with a 'procedures' list")
    return _validate(data)


def parse(text: str, *, fmt: str) -> list[ProcedureIn]:
    return parse_json(text) if fmt == "json" else parse_csv(text)


def _out(rows: Iterable[Procedure]) -> list[dict[str, Any]]:
    return [ProcedureOut.model_validate(p).model_dump(exclude={"id"}) for p in rows]


def to_json(rows: Iterable[Procedure]) -> str:
    return json.dumps({"procedures": _out(rows)}, ensure_ascii=False, indent=2) + "\n"


def to_csv(rows: Iterable[Procedure]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in _out(rows):
        record["documents"] = "\n".join(record["documents"])
        record["steps"] = "\n".join(f"{s['agency']}:{s['days']}:{s['title']}" for s in record["steps"])
        record["fee"] = "" if record["fee"] is None else record["fee"]
        record["extension_allowed"] = str(record["extension_allowed"]).lower()
        record["active"] = str(record["active"]).lower()
        writer.writerow(record)
    return buffer.getvalue()


def export(session: Session, *, fmt: str) -> str:
    rows = session.scalars(select(Procedure).order_by(Procedure.code))
    return to_json(rows) if fmt == "json" else to_csv(rows)


def load_demo_catalogue(session: Session) -> ImportReport:
    """The 30 real procedures shipped in ``saola/data/egov/procedures.csv``; existing codes are left alone."""
    text = resources.files("saola.data.egov").joinpath(DEMO_FILE).read_text("utf-8")
    known = set(session.scalars(select(Procedure.code)))
    records = [r for r in parse_csv(text) if r.code not in known]
    return import_procedures(session, actor=None, records=records)



def from_form(values: dict[str, str]) -> ProcedureIn:
    """A record from the console's edit form (same cell formats as the CSV); :class:`InvalidProcedure` if wrong."""
    try:
        data = _csv_row({k: values.get(k, "") for k in CSV_FIELDS})
        data["extension_allowed"] = values.get("extension_allowed", "") == "true"
        data["active"] = values.get("active", "") == "true"
        return ProcedureIn.model_validate(data)
    except InvalidCatalogue as exc:
        raise InvalidProcedure(exc.template, field="steps", **exc.params) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else ""
        raise InvalidProcedure("{where}: {error}", field=where, where=where, error=first["msg"]) from None
