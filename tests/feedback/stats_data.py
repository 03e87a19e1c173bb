"""A known set of hotline reports for the statistics tests, made through the services with explicit instants.

March 2026 (local time, Asia/Ho_Chi_Minh), demo categories: street-lighting (Sở Xây dựng, 3 working days),
road-damage (Sở Xây dựng, 5 working days), food-safety (Sở Y tế, 3 working days), one without a category (triage,
IOC). Each report's deadline is checked when it is made, so the expected figures below follow from the table.

| key | category | channel | ward | received | deadline | then |
|---|---|---|---|---|---|---|
| H | street-lighting | web | Kinh Bắc | Fri 27 Feb 09:00 | Wed 4 Mar 17:00 | resolved Mon 2 Mar 16:00: early, 79 h |
| A | street-lighting | phone | Kinh Bắc | Mon 2 Mar 09:00 | Thu 5 Mar 17:00 | resolved Tue 3 Mar 10:00: early, 25 h; |
|   |   |   |   |   |   | rated satisfied Tue 3 Mar 12:00 |
| B | street-lighting | web | Bắc Giang | Mon 2 Mar 14:00 | Thu 5 Mar 17:00 | resolved Thu 5 Mar 15:00: on time, 73 h |
| C | road-damage | app | Kinh Bắc | Tue 3 Mar 08:30 | Tue 10 Mar 17:00 | resolved Wed 11 Mar 09:30: late, 193 h |
| D | food-safety | phone | Bắc Giang | Wed 4 Mar 20:15 | Tue 10 Mar 17:00 | resolved Fri 6 Mar 16:15; |
|   |   |   |   |   |   | rated not satisfied Sat 7 Mar: reopened, open, overdue |
| G | street-lighting | web | Bắc Giang | Tue 10 Mar 10:00 | — | rejected Tue 10 Mar 11:00 |
| E | street-lighting | sms | Kinh Bắc | Mon 16 Mar 09:00 | Thu 19 Mar 17:00 | open, overdue |
| F | (none) | email | Kinh Bắc | Fri 20 Mar 22:40 | — | open (triage), no deadline |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from saola.cases import service as cases
from saola.core.auth import service as auth
from saola.core.db import unit_of_work
from saola.feedback import rating, reports
from saola.feedback.intake import Submission
from tests.feedback.conftest import BAC_GIANG, KINH_BAC

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SECRET_NAME = "Nguyễn Văn Bímật"
SECRET_PHONE = "0912345678"
SECRET_EMAIL = "bimat@example.vn"
SECRET_WORDS = "chuyenriengtu"  # in every description: descriptions are never published
INTERNAL_NOTE = "Ghi chú nội bộ không công khai"
PUBLIC_REPLY = "Đội chiếu sáng đã thay bóng đèn"
RESOLUTION = "Đã xử lý xong"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@dataclass(frozen=True)
class Spec:
    key: str
    service_code: str | None
    channel: str
    point: tuple[float, float]
    received: str
    deadline: str | None


SPECS = [
    Spec("H", "street-lighting", "web", KINH_BAC, "2026-02-27 09:00", "2026-03-04 17:00"),
    Spec("A", "street-lighting", "phone", KINH_BAC, "2026-03-02 09:00", "2026-03-05 17:00"),
    Spec("B", "street-lighting", "web", BAC_GIANG, "2026-03-02 14:00", "2026-03-05 17:00"),
    Spec("C", "road-damage", "app", KINH_BAC, "2026-03-03 08:30", "2026-03-10 17:00"),
    Spec("D", "food-safety", "phone", BAC_GIANG, "2026-03-04 20:15", "2026-03-10 17:00"),
    Spec("G", "street-lighting", "web", BAC_GIANG, "2026-03-10 10:00", "2026-03-13 17:00"),
    Spec("E", "street-lighting", "sms", KINH_BAC, "2026-03-16 09:00", "2026-03-19 17:00"),
    Spec("F", None, "email", KINH_BAC, "2026-03-20 22:40", None),
]


def _resolve(session: Session, case_id: int, at: datetime, username: str = "staff") -> None:
    """The agency's staff member takes the report and answers it at ``at``."""
    staff = auth.principal_for(auth.get_user(session, username=username))
    for to in ("assigned", "in_progress"):
        cases.transition(session, case_id=case_id, to=to, actor=staff, now=at, assignee_id=staff.id)
    cases.transition(session, case_id=case_id, to="resolved", actor=staff, now=at, resolution=RESOLUTION)


def make_reports(app, *, shift: timedelta | None = None) -> dict[str, int]:
    """The reports of the table (``shift`` moves every instant, e.g. into the last weeks); key → case id."""
    move = (lambda when: when + shift) if shift is not None else (lambda when: when)
    out: dict[str, int] = {}
    with unit_of_work(app.state.session_factory) as session:
        admin = auth.principal_for(auth.get_user(session, username="admin"))
        made = {}
        for spec in SPECS:
            contact = spec.key in ("A", "D")
            item = reports.submit(session, submission=Submission(
                channel=spec.channel, service_code=spec.service_code, lat=spec.point[0], lon=spec.point[1],
                description=f"Phản ánh {spec.key}: {SECRET_WORDS} {SECRET_PHONE if contact else ''}",
                answers={"lamp_state": "off"} if spec.service_code == "street-lighting" else {},
                name=SECRET_NAME if contact else "", phone=SECRET_PHONE if contact else "",
                email=SECRET_EMAIL if contact else "", consent=contact,
            ), actor=None, now=move(local(spec.received)), settings=app.state.settings)
            if shift is None:  # shifted, the working days (and so the deadlines) fall differently
                expected = local(spec.deadline) if spec.deadline else None
                assert item.case.deadline_at == expected, (spec.key, item.case.deadline_at)
            made[spec.key] = item
            out[spec.key] = item.case.id
        _resolve(session, out["H"], move(local("2026-03-02 16:00")))
        _resolve(session, out["A"], move(local("2026-03-03 10:00")))
        _resolve(session, out["B"], move(local("2026-03-05 15:00")))
        _resolve(session, out["C"], move(local("2026-03-11 09:30")))
        _resolve(session, out["D"], move(local("2026-03-06 16:15")), "staff2")
        cases.transition(session, case_id=out["G"], to="rejected", actor=admin, now=move(local("2026-03-10 11:00")),
                         reason="Trùng với phản ánh khác")
        cases.add_note(session, case_id=out["A"], actor=admin, text=PUBLIC_REPLY, public=True,
                       now=move(local("2026-03-03 10:05")))
        cases.add_note(session, case_id=out["A"], actor=admin, text=INTERNAL_NOTE, public=False,
                       now=move(local("2026-03-03 10:06")))
        rating.rate(session, tracking_code=made["A"].case.code, proof=made["A"].report.token, satisfied=True,
                    reason="", now=move(local("2026-03-03 12:00")))
        rating.rate(session, tracking_code=made["D"].case.code, proof=SECRET_EMAIL, satisfied=False,
                    reason="Chưa kiểm tra cơ sở", now=move(local("2026-03-07 09:00")))
    return out


# What March 2026 must show for someone who sees every agency (computed by hand from the table above).
MARCH_TOTAL = {"received": 7, "resolved": 4, "early": 2, "on_time": 1, "late": 1, "on_time_rate": 75.0,
               "late_rate": 25.0, "rejected": 1, "open": 3, "overdue": 2, "avg_hours": 92.5, "median_hours": 76.0,
               "rated": 2, "satisfied": 1, "satisfaction_rate": 50.0}
MARCH_BY_AGENCY = {"SXD": {"received": 5, "resolved": 4, "on_time_rate": 75.0, "open": 1, "overdue": 1,
                           "rated": 1, "satisfaction_rate": 100.0},
                   "SYT": {"received": 1, "resolved": 0, "on_time_rate": None, "open": 1, "overdue": 1,
                           "rated": 1, "satisfaction_rate": 0.0},
                   "IOC": {"received": 1, "resolved": 0, "open": 1, "overdue": 0, "rated": 0}}
MARCH_BY_CHANNEL = {"phone": 2, "web": 2, "app": 1, "sms": 1, "email": 1}
MARCH_BY_HOUR = {"08": 1, "09": 2, "10": 1, "14": 1, "20": 1, "22": 1}
MARCH_BY_WARD = {"09187": 4, "07210": 3}
MARCH_BY_CATEGORY = {"street-lighting": (4, 3), "road-damage": (1, 1), "food-safety": (1, 0), "-": (1, 0)}
