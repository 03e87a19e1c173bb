"""The Decision 766/QĐ-TTg index ("Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ người dân,
doanh nghiệp trong thực hiện thủ tục hành chính, dịch vụ công theo thời gian thực trên môi trường điện
tử", 23 June 2022): its five groups with their maxima, each criterion marked computable from Saola's data
or not, and the computable ones calculated.

Groups and maxima (total 100): công khai, minh bạch 18; tiến độ, kết quả giải quyết 20; số hóa hồ sơ
22; cung cấp dịch vụ trực tuyến 22; mức độ hài lòng 18 — as published by the Nam Định Department of
Home Affairs with the decision's full text (sonoivu.namdinh.gov.vn) and the criteria as listed by
dinte.gov.vn and vietjack.me. The decision's per-criterion point split is not reproduced here, so a
group's *estimated* points are its maximum × the mean of its computable criteria rates; the groups
with no computable criterion score nothing and say so. This module owns the catalogue of criteria
and :func:`compute_index`, a pure function of :class:`IndexInputs`; :func:`gather` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saola.egov import stats
from saola.egov.models import Procedure

DECISION = "766/QĐ-TTg"


@dataclass(frozen=True)
class Criterion:
    key: str
    name_vi: str
    name_en: str
    computable: bool
    formula: str = ""
    formula_vi: str = ""


@dataclass(frozen=True)
class Group:
    key: str
    name_vi: str
    name_en: str
    maximum: int
    criteria: tuple[Criterion, ...]


NOT_HELD = "Not computable: Saola does not hold this data"
GROUPS: tuple[Group, ...] = (
    Group("transparency", "Công khai, minh bạch", "Publicity and transparency", 18, (
        Criterion("published_on_time", "Tỷ lệ TTHC công bố đúng hạn", "Procedures announced on time", False),
        Criterion("updated_on_time", "Tỷ lệ TTHC được cập nhật, công khai đúng hạn",
                  "Procedures updated and published on time", False),
        Criterion("complete_procedures", "Tỷ lệ TTHC công khai đầy đủ các bộ phận tạo thành",
                  "Procedures published with all their components", True,
                  "active procedures with documents, steps, fee and legal basis / active procedures",
                  "TTHC đang áp dụng có đủ thành phần hồ sơ, quy trình, phí và căn cứ pháp lý / TTHC đang áp dụng"),
        Criterion("synced_to_national_portal", "Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia",
                  "Dossiers synchronised to the National Public Service Portal", False),
    )),
    Group("timeliness", "Tiến độ, kết quả giải quyết", "Progress and results of processing", 20, (
        Criterion("on_time", "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn", "Dossiers processed early or on time", True,
                  "100 − (resolved late + open overdue) / (resolved + open) × 100",
                  "100 − (đã giải quyết trễ hạn + đang xử lý quá hạn) / (đã giải quyết + đang xử lý) × 100"),
    )),
    Group("digitisation", "Số hóa hồ sơ", "Digitisation of dossiers", 22, (
        Criterion("digitised_dossiers", "Tỷ lệ số hóa hồ sơ, kết quả giải quyết TTHC",
                  "Dossiers digitised", True, "received dossiers with a digitised file / received dossiers",
                  "hồ sơ tiếp nhận có tệp số hóa / hồ sơ tiếp nhận"),
        Criterion("electronic_results", "Tỷ lệ cấp kết quả giải quyết TTHC điện tử",
                  "Results issued electronically", False),
        Criterion("data_reuse", "Tỷ lệ khai thác, sử dụng lại thông tin, dữ liệu số hóa",
                  "Reuse of digitised data", False),
    )),
    Group("online", "Cung cấp dịch vụ trực tuyến", "Online service provision", 22, (
        Criterion("online_procedures", "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến",
                  "Procedures offered online", True, "active procedures with online level partial or full / active",
                  "TTHC cung cấp trực tuyến một phần hoặc toàn trình / TTHC đang áp dụng"),
        Criterion("online_dossiers", "Tỷ lệ hồ sơ trực tuyến", "Dossiers submitted online", True,
                  "online submissions / received dossiers", "hồ sơ nộp trực tuyến / hồ sơ tiếp nhận"),
        Criterion("online_payment", "Tỷ lệ thanh toán trực tuyến", "Fees paid online", False),
    )),
    Group("satisfaction", "Mức độ hài lòng", "Satisfaction", 18, (
        Criterion("feedback_on_time", "Tỷ lệ phản ánh, kiến nghị xử lý đúng hạn",
                  "Citizen feedback handled on time", False),
        Criterion("feedback_satisfaction", "Tỷ lệ hài lòng trong xử lý phản ánh, kiến nghị",
                  "Satisfaction with feedback handling", False),
        Criterion("dossier_satisfaction", "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC",
                  "Satisfaction with dossier handling", True,
                  "(resolved − rated dissatisfied) / resolved; dissatisfied: timeliness or attitude ≤ 2 of 5",
                  "(đã giải quyết − bị đánh giá không hài lòng) / đã giải quyết; không hài lòng: tiến độ hoặc thái độ "
                  "≤ 2/5"),
    )),
)


@dataclass(frozen=True)
class IndexInputs:
    """The counts the index needs, for one period and one actor's view."""

    resolved: int = 0
    late: int = 0
    open: int = 0
    open_overdue: int = 0
    received: int = 0
    online: int = 0
    digitised: int = 0
    dissatisfied: int = 0
    procedures: int = 0
    complete_procedures: int = 0
    online_procedures: int = 0


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    rate: float | None  # percent; None when not computable or nothing to count


@dataclass(frozen=True)
class GroupResult:
    group: Group
    criteria: tuple[CriterionResult, ...]
    points: float | None  # estimated; None when no criterion of the group is computable here

    @property
    def computable(self) -> bool:
        return any(c.criterion.computable for c in self.criteria)


def _rates(data: IndexInputs) -> dict[str, float | None]:
    late = stats.percent(data.late + data.open_overdue, data.resolved + data.open)
    return {
        "complete_procedures": stats.percent(data.complete_procedures, data.procedures),
        "on_time": None if late is None else round(100 - late, 1),
        "digitised_dossiers": stats.percent(data.digitised, data.received),
        "online_procedures": stats.percent(data.online_procedures, data.procedures),
        "online_dossiers": stats.percent(data.online, data.received),
        "dossier_satisfaction": stats.percent(data.resolved - data.dissatisfied, data.resolved),
    }


def compute_index(data: IndexInputs) -> tuple[list[GroupResult], float, int]:
    """Each group's criteria rates and estimated points; the points reached and the maximum they are out of
    (the sum of the maxima of the groups with a computable criterion that had something to count)."""
    rates = _rates(data)
    results: list[GroupResult] = []
    reached, out_of = 0.0, 0
    for group in GROUPS:
        criteria = tuple(CriterionResult(c, rates.get(c.key) if c.computable else None) for c in group.criteria)
        known = [c.rate for c in criteria if c.rate is not None]
        points = round(group.maximum * sum(known) / len(known) / 100, 2) if known else None
        if points is not None:
            reached += points
            out_of += group.maximum
        results.append(GroupResult(group, criteria, points))
    return results, round(reached, 2), out_of


def gather(session: Session, *, actor: Any, start: datetime, end: datetime, now: datetime) -> IndexInputs:
    """Read the index's inputs: the period's dossier totals and the active catalogue."""
    _rows, total = stats.dossier_stats(session, actor=actor, start=start, end=end, now=now)
    active = Procedure.active.is_(True)
    complete = (active & (func.coalesce(Procedure.fee, -1) >= 0) & (Procedure.legal_basis != ""))
    procedures = session.scalar(select(func.count()).select_from(Procedure).where(active)) or 0
    complete_count = sum(1 for p in session.scalars(select(Procedure).where(complete)) if p.documents and p.steps)
    online_procedures = session.scalar(select(func.count()).select_from(Procedure)
                                       .where(active, Procedure.online_level != "none")) or 0
    return IndexInputs(resolved=total.resolved, late=total.counts.late, open=total.open,
                       open_overdue=total.open_overdue, received=total.received, online=total.online,
                       digitised=total.digitised, dissatisfied=total.dissatisfied, procedures=procedures,
                       complete_procedures=complete_count, online_procedures=online_procedures)
