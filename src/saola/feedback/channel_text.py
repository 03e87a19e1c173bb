"""What the hotline reads out of a citizen's free text (an SMS, a chat message, a mail): codes and addresses.

* a tracking code quoted anywhere (``PA-2026-000123``, any case): the message may be a follow-up;
* the place, on a line of its own starting ``Địa chỉ:`` (or ``Dia chi:``, ``Address:``), since a text
  message carries no map pin; the whole text stays the description.
"""

from __future__ import annotations

import re

TRACKING_CODE = re.compile(r"\b(PA-\d{4}-\d{6,})\b", re.IGNORECASE)
ADDRESS_LINE = re.compile(r"^\s*(?:địa chỉ|dia chi|đ/c|d/c|address)\s*[:：]\s*(.+?)\s*$",
                          re.IGNORECASE | re.MULTILINE)


def quoted_tracking_code(text: str) -> str | None:
    """The first tracking code quoted in ``text``, upper-cased, or ``None``."""
    found = TRACKING_CODE.search(text)
    return found.group(1).upper() if found else None


def address_line(text: str) -> str:
    """The address the citizen gave on an ``Địa chỉ: …`` line, or ``""``."""
    found = ADDRESS_LINE.search(text)
    return found.group(1) if found else ""


def phone_digits(value: str) -> str:
    """A phone number as digits, ``+84 912…`` and ``0912…`` alike (so two spellings of one number match)."""
    digits = re.sub(r"\D", "", value)
    return "0" + digits[2:] if digits.startswith("84") else digits
