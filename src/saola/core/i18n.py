"""Translations (Vietnamese default, English) and Vietnamese-style dates and numbers.

Message ids are English; ``locales/vi/*.po`` (one file per package) hold the Vietnamese
text and are read with Babel at start-up (no compile step). Pick the language per request from, in order: the
``lang`` query parameter, the ``saola_lang`` cookie, the signed-in user's choice, the
``Accept-Language`` header, then the configured default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("vi", "en")
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}

Translate = Callable[..., str]


@cache
def catalog(lang: str) -> Mapping[str, str]:
    """Message id → translated text for ``lang`` (English is the identity)."""
    if lang == "en":
        return {}
    merged: dict[str, str] = {}
    folder = resources.files("saola.core.locales").joinpath(lang)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".po"):
            with entry.open("rb") as fh:
                po = read_po(fh, locale=lang)
            merged.update({str(m.id): str(m.string) for m in po if m.id and m.string})
    return merged


def gettext(lang: str, message: str, **params: Any) -> str:
    text = catalog(lang).get(message, message) if lang in LANGUAGES else message
    return text.format(**params) if params else text


def translator(lang: str) -> Translate:
    def _(message: str, **params: Any) -> str:
        return gettext(lang, message, **params)

    return _


def parse_accept_language(header: str | None) -> str | None:
    """The first supported language in an ``Accept-Language`` header, by quality."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for piece in pieces[1:]:
            key, _, value = piece.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else None


def choose_language(*candidates: str | None, default: str) -> str:
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    return default


def format_dt(value: datetime | None, lang: str, tz: str = "Asia/Ho_Chi_Minh", fmt: str = "short") -> str:
    """A datetime in local time, Vietnamese style (``24/11/2026 14:05``) or English."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(tz))
    if lang == "vi":
        return local.strftime("%d/%m/%Y %H:%M" if fmt == "short" else "%d/%m/%Y %H:%M:%S")
    return format_datetime(local, format="medium", locale=Locale.parse("en_GB"))


def format_day(value: date | None, lang: str) -> str:
    if value is None:
        return ""
    if lang == "vi":
        return value.strftime("%d/%m/%Y")
    return format_date(value, format="medium", locale=Locale.parse("en_GB"))


def format_number(value: float | int | None, lang: str, digits: int = 0) -> str:
    """``1.234,5`` in Vietnamese, ``1,234.5`` in English."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale="vi_VN" if lang == "vi" else "en_US")
