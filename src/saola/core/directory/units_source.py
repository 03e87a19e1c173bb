"""Vietnam's administrative units, read from the ``vietnamadminunits`` package (never typed by hand).

Source
------
The PyPI package ``vietnamadminunits`` (MIT, https://github.com/tranngocminhhieu/vietnamadminunits,
version pinned by the project's dependencies) ships, under ``vietnamadminunits/data/``:

* ``dataset.db`` (SQLite), table ``admin_units``: the two-level units in force since 1 July 2025
  (Resolution 202/2025/QH15): 34 provinces, 3,321 wards/communes/special zones, one row per ward
  with its province (``provinceCode``, ``province``, ``provinceShort``, ``wardCode``, ``ward``,
  ``wardShort``, ``wardType``, ``provinceKey``, ``wardKey``...);
* the same file, table ``admin_units_legacy``: the three-level units before that date: 63 provinces,
  696 districts, 10,035 wards (10,040 rows: five island districts have no ward row);
* ``converter_2025.json``: how each former ward became current ones, keyed by the package's
  normalised keys: ``DICT_PROVINCE_WARD_NO_DIVIDED`` (new province key → new ward key → former
  ``"province_district_ward"`` keys taken over whole) and ``DICT_PROVINCE_WARD_DIVIDED`` (new province
  key → former key → the new wards sharing it, one flagged ``isDefaultNewWard``).

The files are found with ``importlib.util.find_spec`` (importing the package itself loads its
parsers, about 0.5 s) and opened read-only (SQLite ``mode=ro&immutable=1``); nothing is
downloaded. Address parsing (:func:`parse_address`) uses the package's offline parsers; its
``convert_address`` is not used because it geocodes street addresses through an online service.

What this module adds to the source
-----------------------------------
* English names: the source has none, so ``name_en`` is the ASCII transliteration of the name
  followed by the English unit type (``Phường Kinh Bắc`` → ``Kinh Bac Ward``; numbered names put
  the type first: ``Phường 5`` → ``Ward 5``), the convention of the thanglequoc/vietnamese-provinces-
  database data set: 3,297 of the 3,320 current wards both have agree exactly (the other 23: 13
  ``Special Zone`` where it writes ``Special administrative region``, and 10 Đồng Nai units, below).
* Unit types come from the official full name when the source's type column disagrees with it
  (4 current wards, e.g. 10543 ``Phường Việt Hòa`` typed ``Xã``; 3 former wards, e.g. 15061
  ``Thị trấn Ngọc Lặc`` and 27046 ``Phường 5`` typed ``Xã``), and type words are written in their
  usual case (5 former wards and 5 former districts, e.g. ``Thị Trấn Ái Tử`` → ``Thị trấn Ái Tử``,
  ``Thành Phố Bắc Kạn`` → ``Thành phố Bắc Kạn``).
* The five island districts without ward rows (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo)
  are loaded as districts, and their successions point from the district code (3 digits) to the
  special zone (``Đặc khu``) that replaced them.

Checks and gaps (package version 1.0.4, checked when this module was written)
------------------------------------------------------------------------------
* Counts: 34 provinces and 3,321 current wards (687 phường, 2,621 xã, 13 đặc khu); Bắc Ninh (24)
  has 99; 63 provinces, 696 districts and 10,035 wards before.
* Every former ward (and island district) has at least one successor, every current ward at least
  one predecessor, each former ward exactly one default successor; 471 former wards were divided
  (10,602 succession rows). All 313 former wards of Bắc Giang (legacy code 24) and Bắc Ninh (legacy
  27) map into the new Bắc Ninh (24); no former ward lacks a mapping.
* Compared with thanglequoc/vietnamese-provinces-database (commit cd58063, a later snapshot; the 99
  Bắc Ninh wards of ``data/geo/bac_ninh_wards.geojson`` come from it): all ward codes agree except
  Xã Ba Chẽ (Quảng Ninh): 06970 here (the code of former Thị trấn Ba Chẽ), 06978 there. That snapshot
  lists Đồng Nai as ``Thành phố`` with ten of its communes as ``Phường`` (a change after 1 July 2025
  this package does not have yet); 190 other names differ only in where the tone mark sits
  (``Hòa`` here, ``Hoà`` there) and one in case (its ``xã Bắc Sơn``, 06325).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

CURRENT = "2025"
LEGACY = "legacy"
SOURCE_PACKAGE = "vietnamadminunits"

# Official unit types, as they are written, longest first so "Thành phố" wins over shorter words.
UNIT_TYPES_EN: dict[str, str] = {
    "Thành phố": "City",
    "Thị trấn": "Township",
    "Đặc khu": "Special Zone",
    "Thị xã": "Town",
    "Phường": "Ward",
    "Huyện": "District",
    "Quận": "District",
    "Tỉnh": "Province",
    "Xã": "Commune",
}
_TYPES_BY_LENGTH = sorted(UNIT_TYPES_EN, key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """One administrative unit as loaded into ``admin_units``."""

    edition: str
    code: str
    level: str  # province | district | ward
    name: str
    full_name: str
    name_en: str
    unit_type: str
    parent_code: str | None
    province_code: str


@dataclass(frozen=True, slots=True)
class SuccessionRecord:
    """A former ward (or island district) and a current ward that took it over, wholly or partly."""

    former_code: str
    current_code: str
    is_default: bool


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """Official codes recognised in an address by the package's parsers (``None`` when absent)."""

    current_province: str | None
    current_ward: str | None
    current_street: str | None
    legacy_province: str | None
    legacy_district: str | None
    legacy_ward: str | None
    legacy_street: str | None


# --- reading the package's files ---------------------------------------------


def _data_file(name: str) -> Path:
    """A file of the package's ``data/`` folder, found without importing the package (its import is slow)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"The '{SOURCE_PACKAGE}' package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / name


@contextmanager
def _dataset() -> Iterator[sqlite3.Connection]:
    uri = f"{_data_file('dataset.db').resolve().as_uri()}?mode=ro&immutable=1"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        yield conn


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", (text or "").strip())


def ascii_name(text: str) -> str:
    """``Bắc Ninh`` → ``Bac Ninh`` (case kept, ``đ`` → ``d``)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")


def split_type(full_name: str, fallback: str | None) -> tuple[str, str]:
    """``(unit_type, full_name)`` with the type taken from the full name and written in its usual case."""
    full_name = _nfc(full_name)
    lowered = full_name.lower()
    for unit_type in _TYPES_BY_LENGTH:
        if lowered.startswith(unit_type.lower() + " "):
            return unit_type, unit_type + full_name[len(unit_type):]
    fallback = _nfc(fallback)
    canonical = next((t for t in UNIT_TYPES_EN if t.lower() == fallback.lower()), fallback)
    return canonical, full_name


def english_name(unit_type: str, full_name: str) -> str:
    """``Phường Kinh Bắc`` → ``Kinh Bac Ward``; numbered: ``Phường Hà Giang 1`` → ``Ward Ha Giang 1``."""
    en_type = UNIT_TYPES_EN.get(unit_type, "")
    rest = full_name[len(unit_type):].strip() if full_name.startswith(unit_type) else full_name
    rest = ascii_name(rest)
    if not en_type:
        return rest
    return f"{en_type} {rest}" if any(ch.isdigit() for ch in rest) else f"{rest} {en_type}"


def _unit(edition: str, code: str, level: str, name: str, full_name: str, type_column: str | None,
          parent_code: str | None, province_code: str) -> UnitRecord:
    unit_type, full = split_type(full_name, type_column)
    return UnitRecord(edition=edition, code=code, level=level, name=_nfc(name), full_name=full,
                      name_en=english_name(unit_type, full), unit_type=unit_type,
                      parent_code=parent_code, province_code=province_code)


# --- units and successions ----------------------------------------------------


@cache
def current_units() -> tuple[UnitRecord, ...]:
    """The 34 provinces and 3,321 wards/communes in force since 1 July 2025, ordered by code."""
    provinces: dict[str, UnitRecord] = {}
    wards: list[UnitRecord] = []
    with _dataset() as db:
        for r in db.execute(
            "SELECT provinceCode, province, provinceShort, wardCode, ward, wardShort, wardType"
            " FROM admin_units ORDER BY provinceCode, wardCode"
        ):
            pcode = r["provinceCode"]
            if pcode not in provinces:
                provinces[pcode] = _unit(CURRENT, pcode, "province", r["provinceShort"], r["province"], None,
                                         None, pcode)
            wards.append(_unit(CURRENT, r["wardCode"], "ward", r["wardShort"], r["ward"], r["wardType"],
                               pcode, pcode))
    return (*provinces.values(), *wards)


@cache
def legacy_units() -> tuple[UnitRecord, ...]:
    """The 63 provinces, 696 districts and 10,035 wards in force until 30 June 2025, ordered by code."""
    provinces: dict[str, UnitRecord] = {}
    districts: dict[str, UnitRecord] = {}
    wards: list[UnitRecord] = []
    with _dataset() as db:
        rows = db.execute(
            "SELECT provinceCode, province, provinceShort, districtCode, district, districtShort, districtType,"
            " wardCode, ward, wardShort, wardType FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode"
        )
        for r in rows:
            pcode, dcode = r["provinceCode"], r["districtCode"]
            if pcode not in provinces:
                provinces[pcode] = _unit(LEGACY, pcode, "province", r["provinceShort"], r["province"], None,
                                         None, pcode)
            if dcode not in districts:
                districts[dcode] = _unit(LEGACY, dcode, "district", r["districtShort"], r["district"],
                                         r["districtType"], pcode, pcode)
            if r["wardCode"]:
                wards.append(_unit(LEGACY, r["wardCode"], "ward", r["wardShort"], r["ward"], r["wardType"],
                                   dcode, pcode))
    return (*provinces.values(), *districts.values(), *wards)


@cache
def successions() -> tuple[SuccessionRecord, ...]:
    """Former ward (or island district) code → current ward code, ordered by former code, default first."""
    with _dataset() as db:
        current = {(r[0], r[1]): r[2] for r in db.execute("SELECT provinceKey, wardKey, wardCode FROM admin_units")}
        former = {
            f"{r[0]}_{r[1]}_{r[2] or ''}": r[3] or r[4]
            for r in db.execute(
                "SELECT provinceKey, districtKey, wardKey, wardCode, districtCode FROM admin_units_legacy"
            )
        }
    converter = json.loads(_data_file("converter_2025.json").read_text("utf-8"))
    found: dict[tuple[str, str], bool] = {}
    for province_key, new_wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, former_keys in new_wards.items():
            for key in former_keys:
                pair = (former[key], current[(province_key, ward_key)])
                found[pair] = True
    for province_key, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for key, parts in divided.items():
            for part in parts:
                pair = (former[key], current[(province_key, part["newWardKey"])])
                found[pair] = found.get(pair, False) or bool(part["isDefaultNewWard"])
    ordered = sorted(found.items(), key=lambda item: (item[0][0], not item[1], item[0][1]))
    return tuple(SuccessionRecord(former_code=f, current_code=c, is_default=d) for (f, c), d in ordered)


# --- address parsing ----------------------------------------------------------

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def parse_address(address: str) -> ParsedAddress:
    """Codes the package's offline parsers find in ``address``, read the new way and the old way.

    The parsers (about 0.3 s to import, 1-5 ms a call) are imported on first use; results are cached.
    """
    from vietnamadminunits.parser.parser_from_2025 import parse_address_from_2025
    from vietnamadminunits.parser.parser_legacy import parse_address_legacy

    text = _SPACES.sub(" ", _nfc(address))
    new = parse_address_from_2025(text, keep_street=True, level=2)
    old = parse_address_legacy(text, keep_street=True, level=3)
    return ParsedAddress(
        current_province=new.province_code, current_ward=new.ward_code, current_street=new.street,
        legacy_province=old.province_code, legacy_district=old.district_code, legacy_ward=old.ward_code,
        legacy_street=old.street,
    )
