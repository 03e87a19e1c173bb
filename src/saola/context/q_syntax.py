"""The q language's syntax tree, lexical pieces and temporal literals (see :mod:`saola.context.query_language`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from saola.context.representation import StoredEntity

Expand = Callable[[str], str]
Predicate = Callable[[StoredEntity], bool]

COMPARABLE_KINDS = frozenset({"number", "string", "dateTime", "date", "time"})
CORE_MEMBERS = frozenset({
    "observedAt", "unitCode", "createdAt", "modifiedAt", "deletedAt", "datasetId", "instanceId", "objectType",
})
ENTITY_TIMESTAMPS = frozenset({"createdAt", "modifiedAt", "deletedAt"})
NOT_ATTRIBUTES = frozenset({"id", "type", "scope", "@id", "@type", "@context"})
MAX_NESTING = 64

# --- AST -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """A literal. ``kind`` is number, string, boolean, uri, dateTime, date or time.

    Temporal values are held as comparable integers (dateTime: proleptic Gregorian ordinal day
    x 86 400 000 000 + microseconds of the UTC day; date: the ordinal day; time: microseconds
    since UTC midnight), and ``text`` keeps their source spelling.
    """

    kind: str
    value: Any
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class Range:
    low: Scalar
    high: Scalar


@dataclass(frozen=True)
class ValueList:
    items: tuple[Scalar, ...]


@dataclass(frozen=True)
class Pattern:
    source: str
    regex: re.Pattern[str] = field(compare=False, repr=False)


Value = Scalar | Range | ValueList | Pattern


@dataclass(frozen=True)
class AttrPath:
    names: tuple[str, ...]
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exists:
    path: AttrPath


@dataclass(frozen=True)
class NotExists:
    path: AttrPath


@dataclass(frozen=True)
class Comparison:
    path: AttrPath
    op: str
    value: Value


@dataclass(frozen=True)
class And:
    children: tuple[QueryNode, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[QueryNode, ...]


QueryNode = And | Or | Exists | NotExists | Comparison

# --- lexical pieces ----------------------------------------------------------------------------

_END = r"(?=$|[;|),]|\.\.)"
_OFFSET = r"(Z|[+\- ]\d{2}(?::?\d{2})?)"
_CLOCK = r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
_DATETIME = re.compile(rf"(\d{{4}})-(\d{{2}})-(\d{{2}})T{_CLOCK}{_OFFSET}?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(rf"{_CLOCK}{_OFFSET}?")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_BOOLEAN = re.compile(r"true|false")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"();|,\[\]]+")
_NAME = re.compile(r"\w+(?::\w+)?")
_MEMBER = re.compile(r"\[([^\[\]]+)\]")
_OPERATORS = ("==", "!=", "!~=", "~=", ">=", "<=", ">", "<")
_DAY_US = 86_400_000_000


def _micros(groups: tuple[str | None, ...]) -> int:
    hh, mm, ss, frac, offset = groups
    hours, minutes, seconds = int(hh or 0), int(mm or 0), int(ss or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError("time out of range")
    micros = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + int((frac or "0").ljust(6, "0")[:6])
    if offset and offset != "Z":
        off_h, off_m = int(offset[1:3]), int(offset[3:].lstrip(":") or 0)
        if off_h > 23 or off_m > 59:
            raise ValueError("offset out of range")
        micros -= (1 if offset[0] in "+ " else -1) * (off_h * 60 + off_m) * 60_000_000
    return micros


def parse_temporal(kind: str, text: str) -> int | None:
    """The comparable integer of a dateTime/date/time string, or None if it is not one."""
    try:
        if kind == "dateTime" and (m := _DATETIME.fullmatch(text)):
            day = date(int(m[1]), int(m[2]), int(m[3])).toordinal()
            return day * _DAY_US + _micros(m.groups()[3:])
        if kind == "date" and (m := _DATE.fullmatch(text)):
            return date(int(m[1]), int(m[2]), int(m[3])).toordinal()
        if kind == "time" and (m := _TIME.fullmatch(text)):
            return _micros(m.groups()) % _DAY_US
    except ValueError:
        return None
    return None

