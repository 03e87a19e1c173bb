"""Files attached to dossiers: the type is judged by the bytes (not the name or the browser's claim),
the size is limited, and the bytes go to the case engine's :class:`~saola.cases.storage.FileStore`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.cases.models import CaseAttachment
from saola.cases.storage import filesystem_store
from saola.egov.errors import UnsupportedFile

MAX_FILE_BYTES = 10 * 1024 * 1024  # 10 MiB per file
MAX_FILES = 10
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


@dataclass(frozen=True)
class Upload:
    file_name: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are (PDF, JPEG or PNG), or ``None``."""
    for magic, content_type in SIGNATURES:
        if data.startswith(magic):
            return content_type
    return None


def check(uploads: list[Upload]) -> list[tuple[Upload, str]]:
    """Every upload with its sniffed type; :class:`UnsupportedFile` (nothing saved) on the first bad one."""
    if len(uploads) > MAX_FILES:
        raise UnsupportedFile("Attach at most {limit} files", field="files", limit=MAX_FILES)
    out = []
    for upload in uploads:
        if len(upload.data) > MAX_FILE_BYTES:
            raise UnsupportedFile("The file '{name}' is larger than {mb} MB", field="files",
                                  name=upload.file_name[:100], mb=MAX_FILE_BYTES // (1024 * 1024))
        content_type = sniff(upload.data)
        if content_type is None:
            raise UnsupportedFile("The file '{name}' is not a PDF, JPEG or PNG", field="files",
                                  name=upload.file_name[:100])
        out.append((upload, content_type))
    return out


def attach(session: Session, *, case_id: int, uploads: list[Upload], data_dir: Path, actor: Any,
           now: datetime) -> list[CaseAttachment]:
    """Store checked uploads on the dossier's case (private: staff only)."""
    store = filesystem_store(data_dir)
    return [cases.add_attachment(session, case_id=case_id, actor=actor, file_name=u.file_name or "file",
                                 content_type=content_type, data=u.data, store=store, now=now)
            for u, content_type in check(uploads)]
