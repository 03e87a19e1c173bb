"""Checks every channel applies to a submission before anything is saved: text, contact, point, files, consent.

All problems are collected and raised together as :class:`~saola.feedback.errors.InvalidReport`
(422, one entry per field), so a client learns everything that is wrong in one answer.
Attachments are judged by their bytes (JPEG, PNG, WebP, PDF), never by their name or declared type.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from saola.feedback.models import CHANNELS

MIN_DESCRIPTION = 10
MAX_DESCRIPTION = 5000
MAX_FILES = 5
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
PHONE = re.compile(r"^\+?[0-9][0-9 .-]{7,18}[0-9]$")
EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    file_name: str
    data: bytes


@dataclass
class Submission:
    """One report as any channel received it (the channel's own parsing done)."""

    channel: str
    description: str
    service_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    consent: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)

    @property
    def has_contact(self) -> bool:
        return any((self.name, self.phone, self.email, self.device_id, self.account_id))


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, or ``None``."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((content_type for magic, content_type in SIGNATURES if data.startswith(magic)), None)


def _text(value: str, name: str, limit: int, errors: list[dict[str, str]]) -> str:
    value = " ".join(value.split()) if name != "description" else value.strip()
    if CONTROL.search(value):
        errors.append({"field": name, "message": "contains control characters"})
    elif len(value) > limit:
        errors.append({"field": name, "message": f"at most {limit} characters"})
    return value


def normalise(sub: Submission, *, max_file_bytes: int) -> tuple[Submission, list[dict[str, str]], list[str]]:
    """The cleaned submission, the errors found, and the sniffed type of each upload."""
    errors: list[dict[str, str]] = []
    if sub.channel not in CHANNELS:
        errors.append({"field": "channel", "message": f"one of: {', '.join(CHANNELS)}"})
    sub.description = _text(sub.description or "", "description", MAX_DESCRIPTION, errors)
    if len(sub.description) < MIN_DESCRIPTION:
        errors.append({"field": "description", "message": f"describe the problem in at least {MIN_DESCRIPTION} "
                                                          "characters"})
    sub.address = _text(sub.address or "", "address", 300, errors)
    sub.name = _text(sub.name or "", "name", 200, errors)
    sub.phone = _text(sub.phone or "", "phone", 40, errors)
    sub.email = _text(sub.email or "", "email", 200, errors).lower()
    sub.device_id = _text(sub.device_id or "", "device_id", 200, errors)
    sub.account_id = _text(sub.account_id or "", "account_id", 200, errors)
    if sub.phone and not PHONE.match(sub.phone):
        errors.append({"field": "phone", "message": "a phone number of 9 to 20 digits"})
    if sub.email and not EMAIL.match(sub.email):
        errors.append({"field": "email", "message": "an e-mail address like ten@example.vn"})
    if sub.has_contact and not sub.consent:
        errors.append({"field": "consent", "message": "agree that your contact details are kept, or leave them out"})
    _check_point(sub, errors)
    if sub.lat is None and not sub.address:
        errors.append({"field": "location", "message": "give a point on the map or an address"})
    types = _check_files(sub.uploads, max_file_bytes, errors)
    return sub, errors, types


def _check_point(sub: Submission, errors: list[dict[str, str]]) -> None:
    if (sub.lat is None) != (sub.lon is None):
        errors.append({"field": "lat" if sub.lat is None else "long", "message": "give both latitude and longitude"})
        return
    if sub.lat is None or sub.lon is None:
        return
    if not (math.isfinite(sub.lat) and -90 <= sub.lat <= 90):
        errors.append({"field": "lat", "message": "a latitude between -90 and 90"})
    if not (math.isfinite(sub.lon) and -180 <= sub.lon <= 180):
        errors.append({"field": "long", "message": "a longitude between -180 and 180"})


def _check_files(uploads: list[Upload], max_bytes: int, errors: list[dict[str, str]]) -> list[str]:
    if len(uploads) > MAX_FILES:
        errors.append({"field": "media", "message": f"attach at most {MAX_FILES} files"})
        return []
    types = []
    for upload in uploads:
        content_type = sniff(upload.data)
        if len(upload.data) > max_bytes:
            errors.append({"field": "media", "message": f"'{upload.file_name[:80]}' is larger than "
                                                        f"{max_bytes // (1024 * 1024)} MB"})
        elif content_type is None:
            errors.append({"field": "media", "message": f"'{upload.file_name[:80]}' is not a JPEG, PNG, WebP "
                                                        "or PDF file"})
        types.append(content_type or "")
    return types
