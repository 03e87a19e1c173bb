"""The receipt-and-appointment slip (form 01 of Circular 03/2025/TT-VPCP, "Giấy tiếp nhận hồ sơ và hẹn
trả kết quả") as data, its QR code (SVG, drawn by ``segno``) and its PDF (``fpdf2`` with the vendored
DejaVu Sans font, which covers Vietnamese). The printable HTML page renders the same :class:`Slip`.

The slip carries what the form asks for: the centre, the dossier code, the applicant, the procedure,
the documents received, the legal processing time, when the dossier was received and the appointment
to return the result, and a QR code linking to the public lookup page of the dossier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from urllib.parse import quote
from zoneinfo import ZoneInfo

import segno
from fpdf import FPDF

from saola.egov.models import Dossier, Procedure

FONT_DIR = "fonts"


@dataclass(frozen=True)
class Slip:
    centre_name: str
    code: str
    pin: str
    applicant_name: str
    applicant_address: str
    applicant_phone: str
    procedure_code: str
    procedure_name: str
    documents: tuple[str, ...]
    processing_days: int
    day_kind: str
    received_at: datetime
    appointment_at: datetime | None
    lookup_url: str


def lookup_path(dossier: Dossier) -> str:
    """The public lookup link of the QR code (the security code lets the applicant rate the service)."""
    return f"/portal/dossiers/lookup?code={quote(dossier.code)}&pin={quote(dossier.pin)}"


def build(dossier: Dossier, procedure: Procedure, *, received_at: datetime, centre_name: str,
          base_url: str) -> Slip:
    return Slip(centre_name=centre_name, code=dossier.code, pin=dossier.pin, applicant_name=dossier.applicant_name,
                applicant_address=dossier.applicant_address, applicant_phone=dossier.applicant_phone,
                procedure_code=procedure.code, procedure_name=procedure.name_vi, documents=tuple(procedure.documents),
                processing_days=procedure.processing_days, day_kind=procedure.day_kind, received_at=received_at,
                appointment_at=dossier.appointment_at, lookup_url=base_url.rstrip("/") + lookup_path(dossier))


def qr_svg(url: str, *, scale: int = 3) -> str:
    """An inline ``<svg>`` of the QR code of ``url`` (no external file, no script)."""
    return segno.make(url, error="m", micro=False).svg_inline(scale=scale, dark="#000", light="#fff")


def _when(at: datetime | None, tz: str) -> str:
    if at is None:
        return "—"
    local = at.astimezone(ZoneInfo(tz))
    return f"{local.hour:02d} giờ {local.minute:02d} phút, ngày {local.day:02d}/{local.month:02d}/{local.year}"


def time_text(slip: Slip) -> str:
    unit = "ngày làm việc" if slip.day_kind == "working" else "ngày"
    return f"{slip.processing_days} {unit}"


def pdf(slip: Slip, *, tz: str) -> bytes:
    """Form 01 as a one-page A4 PDF, in Vietnamese."""
    fonts = resources.files("saola.data.egov").joinpath(FONT_DIR)
    doc = FPDF(format="A4")
    doc.set_title(f"Giấy tiếp nhận hồ sơ và hẹn trả kết quả {slip.code}")
    doc.set_creator("Saola")
    doc.set_subject(slip.code)  # plain ASCII in the document information, for machines
    doc.add_font("DejaVu", "", str(fonts.joinpath("DejaVuSans.ttf")))
    doc.add_font("DejaVu", "B", str(fonts.joinpath("DejaVuSans-Bold.ttf")))
    doc.set_margins(18, 15, 18)
    doc.add_page()
    width = doc.w - doc.l_margin - doc.r_margin
    doc.set_font("DejaVu", "B", 10)
    doc.cell(width / 2, 5, slip.centre_name.upper()[:60])
    doc.cell(width / 2, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("DejaVu", "", 10)
    doc.cell(width / 2, 5, "BỘ PHẬN MỘT CỬA")
    doc.cell(width / 2, 5, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.cell(width, 6, f"Mẫu số 01 — Thông tư 03/2025/TT-VPCP · Mã hồ sơ: {slip.code}", new_x="LMARGIN",
             new_y="NEXT")
    doc.ln(4)
    doc.set_font("DejaVu", "B", 14)
    doc.cell(width, 8, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("DejaVu", "", 11)
    doc.cell(width, 6, f"Mã hồ sơ: {slip.code}", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.ln(3)
    lines = [
        f"{slip.centre_name} tiếp nhận hồ sơ của: {slip.applicant_name}",
        f"Địa chỉ: {slip.applicant_address or '—'}",
        f"Số điện thoại: {slip.applicant_phone or '—'}",
        f"Nội dung yêu cầu giải quyết: {slip.procedure_name} (mã thủ tục {slip.procedure_code})",
        "Thành phần hồ sơ:",
        *[f"   {i}. {d}" for i, d in enumerate(slip.documents, start=1)],
        f"Thời hạn giải quyết theo quy định: {time_text(slip)}",
        f"Thời gian nhận hồ sơ: {_when(slip.received_at, tz)}",
        f"Thời gian trả kết quả giải quyết hồ sơ: {_when(slip.appointment_at, tz)}",
        "Đăng ký nhận kết quả tại: Bộ phận Một cửa",
        f"Tra cứu tình trạng hồ sơ: {slip.lookup_url}",
        f"Mã bảo mật (để đánh giá mức độ hài lòng): {slip.pin}",
    ]
    for line in lines:
        doc.multi_cell(width, 6, line, new_x="LMARGIN", new_y="NEXT")
    qr = segno.make(slip.lookup_url, error="m", micro=False)
    y = doc.get_y() + 4
    size = 32
    doc.set_fill_color(0, 0, 0)
    matrix = list(qr.matrix_iter(scale=1, border=0))
    cell = size / len(matrix)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                doc.rect(doc.l_margin + col_index * cell, y + row_index * cell, cell, cell, style="F")
    doc.set_xy(doc.l_margin, y + size + 6)
    doc.set_font("DejaVu", "B", 11)
    doc.cell(width / 2, 6, "NGƯỜI NỘP HỒ SƠ", align="C")
    doc.cell(width / 2, 6, "NGƯỜI TIẾP NHẬN HỒ SƠ", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("DejaVu", "", 9)
    doc.cell(width / 2, 5, "(Ký và ghi rõ họ tên)", align="C")
    doc.cell(width / 2, 5, "(Ký và ghi rõ họ tên)", align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())
