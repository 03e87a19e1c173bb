"""Reading a citizen's e-mail to the hotline (MIME, standard library ``email`` with ``policy.default``).

The subject and the text body (plain text, else the HTML with its tags removed; lines quoted with
``>`` left out) make the description; image and PDF attachments become uploads, judged by their
bytes later by the intake; other attachments (signatures, vCards) are left out. The reporter is
the ``From`` address (the envelope sender when the header has none; empty when neither is valid). A message with no
``Message-ID`` gets one from the hash of its bytes, so a mail delivered twice is still one report.
Automatic mail (``Auto-Submitted``, ``Precedence: bulk``, bounces with an empty envelope sender)
is recognised so that it is never answered (no mail loops).
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

from saola.feedback.intake import EMAIL, Upload

UPLOAD_TYPES = ("image/", "application/pdf", "application/octet-stream")
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|div|li|tr|h[1-6]|blockquote)\s*>", re.IGNORECASE)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")
_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


@dataclass
class Mail:
    """What the hotline needs of a mail."""

    message_id: str
    sender: str
    sender_name: str
    subject: str
    body: str
    uploads: list[Upload] = field(default_factory=list)
    automatic: bool = False

    @property
    def text(self) -> str:
        """The description: the subject, then the body."""
        return "\n\n".join(part for part in (self.subject.strip(), self.body.strip()) if part)


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken transfer encoding
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")  # type: ignore[union-attr]
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = _TAG.sub("", _CELL_END.sub(" ", _BLOCK_END.sub("\n", content)))
        content = "\n".join(_SPACES.sub(" ", html.unescape(line)).strip() for line in content.splitlines())
    lines = [line.rstrip() for line in content.splitlines() if not line.lstrip().startswith(">")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _uploads(message: EmailMessage) -> list[Upload]:
    uploads = []
    for part in message.iter_attachments():
        if not part.get_content_type().startswith(UPLOAD_TYPES):
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and data:
            uploads.append(Upload(file_name=(part.get_filename() or "attachment")[:200], data=data))
    return uploads


def _is_automatic(message: EmailMessage, envelope_from: str) -> bool:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (not envelope_from.strip("<> ") or auto != "no" or precedence in ("bulk", "junk", "list")
            or bool(message.get("X-Autoreply")))


def parse_mail(raw: bytes, *, envelope_from: str) -> Mail:
    """The hotline's view of the mail ``raw`` received from ``envelope_from``."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage objects
    name, address = parseaddr(str(message.get("From", "")))
    if not EMAIL.match(address or ""):
        name, address = "", envelope_from.strip("<> ")
    if not EMAIL.match(address):
        name, address = "", ""  # nobody to answer
    message_id = str(message.get("Message-ID", "")).strip()[:200] or "sha256:" + hashlib.sha256(raw).hexdigest()
    return Mail(message_id=message_id, sender=address.lower(), sender_name=name.strip()[:200],
                subject=" ".join(str(message.get("Subject", "")).split()), body=_body_text(message),
                uploads=_uploads(message), automatic=_is_automatic(message, envelope_from))
