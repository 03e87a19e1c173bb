"""The built-in workflow definitions: ``feedback_report`` (1022 hotline) and ``admin_dossier`` (one-stop shop).

``admin_dossier`` follows the one-stop-shop lifecycle of Decree 118/2025/NĐ-CP and Circular
03/2025/TT-VPCP (which replaced Decree 61/2018 and Circular 01/2018): a supplement may be requested
once (form 02) and stops the clock until the applicant supplements; an extension (a new appointment
date, with the apology letter of form 04) may be asked once, no later than one working day before
the due date; the dossier ends returned to the applicant, refused (form 03), or stopped (form 05).
Which side makes each move — the receiving centre or the processing agency — is decided by
:mod:`saola.egov.dossiers`; the roles here are the outer limit. Labels are the Vietnamese names
shown to staff.
"""

from __future__ import annotations

from saola.cases.workflow import (
    ASSIGNEE_REQUIRED,
    AT_MOST_ONCE,
    CHANGE_AGENCY,
    EXTEND_DEADLINE,
    EXTENSION_NOTICE,
    FINISH,
    NEW_DEADLINE_REQUIRED,
    PAUSE_CLOCK,
    REASON_REQUIRED,
    REOPEN,
    RESOLUTION_REQUIRED,
    RESUME_CLOCK,
    TARGET_AGENCY_REQUIRED,
    WorkflowDefinition,
    register_workflow,
    rule,
)

# --- feedback_report: a citizen report to the 1022 hotline ---------------------------------------

_HANDLERS = ("admin", "operator", "agency_staff")
_reject = rule(*_HANDLERS, guards=[REASON_REQUIRED], effects=[FINISH])
_forward = rule(*_HANDLERS, guards=[REASON_REQUIRED, TARGET_AGENCY_REQUIRED], effects=[CHANGE_AGENCY])
_hold = rule(*_HANDLERS, guards=[REASON_REQUIRED])
_assign = rule(*_HANDLERS, guards=[ASSIGNEE_REQUIRED])
_start = rule(*_HANDLERS, guards=[ASSIGNEE_REQUIRED])

FEEDBACK_REPORT = register_workflow(WorkflowDefinition(
    name="feedback_report",
    code_prefix="PA",
    states=("received", "triaged", "assigned", "in_progress", "on_hold", "forwarded", "resolved", "closed",
            "reopened", "rejected"),
    initial="received",
    terminal=frozenset({"rejected"}),
    transitions={
        "received": {"triaged": rule(*_HANDLERS, "system"), "rejected": _reject, "forwarded": _forward},
        "triaged": {"assigned": _assign, "rejected": _reject, "forwarded": _forward, "on_hold": _hold},
        "assigned": {"in_progress": _start, "rejected": _reject, "forwarded": _forward, "on_hold": _hold},
        "in_progress": {"resolved": rule(*_HANDLERS, guards=[RESOLUTION_REQUIRED], effects=[FINISH]),
                        "forwarded": _forward, "on_hold": _hold},
        "on_hold": {"assigned": _assign, "in_progress": _start},
        "forwarded": {"triaged": rule(*_HANDLERS), "rejected": _reject},
        "resolved": {"closed": rule("admin", "operator", "system"),
                     "reopened": rule(*_HANDLERS, "system", guards=[REASON_REQUIRED], effects=[REOPEN])},
        "closed": {"reopened": rule("admin", "operator", "system", guards=[REASON_REQUIRED], effects=[REOPEN])},
        "reopened": {"assigned": _assign, "in_progress": _start},
    },
    labels={
        "received": "Đã tiếp nhận", "triaged": "Đã phân loại", "assigned": "Đã giao xử lý",
        "in_progress": "Đang xử lý", "on_hold": "Tạm dừng", "forwarded": "Đã chuyển đơn vị khác",
        "resolved": "Đã xử lý xong", "closed": "Đã đóng", "reopened": "Mở lại", "rejected": "Từ chối",
    },
))

# --- admin_dossier: an administrative procedure dossier at the one-stop shop ---------------------

_DOSSIER = ("admin", "clerk", "agency_staff")
_refuse = rule(*_DOSSIER, guards=[REASON_REQUIRED], effects=[FINISH])
_stop = rule(*_DOSSIER, "system", guards=[REASON_REQUIRED], effects=[FINISH])
_supplement = rule(*_DOSSIER, guards=[REASON_REQUIRED, AT_MOST_ONCE], effects=[PAUSE_CLOCK])
_result = rule(*_DOSSIER, effects=[FINISH])

ADMIN_DOSSIER = register_workflow(WorkflowDefinition(
    name="admin_dossier",
    code_prefix="HS",
    states=("received", "supplement_requested", "in_processing", "extended", "result_ready", "returned",
            "refused", "stopped"),
    initial="received",
    terminal=frozenset({"returned", "refused", "stopped"}),
    transitions={
        "received": {"in_processing": rule(*_DOSSIER), "supplement_requested": _supplement, "refused": _refuse,
                     "stopped": _stop},
        "supplement_requested": {
            "received": rule("admin", "clerk", effects=[RESUME_CLOCK]),
            "in_processing": rule(*_DOSSIER, effects=[RESUME_CLOCK]),
            "refused": rule(*_DOSSIER, guards=[REASON_REQUIRED], effects=[RESUME_CLOCK, FINISH]),
            "stopped": rule(*_DOSSIER, "system", guards=[REASON_REQUIRED], effects=[RESUME_CLOCK, FINISH]),
        },
        "in_processing": {
            "supplement_requested": _supplement,
            "extended": rule("admin", "agency_staff",
                             guards=[REASON_REQUIRED, AT_MOST_ONCE, NEW_DEADLINE_REQUIRED, EXTENSION_NOTICE],
                             effects=[EXTEND_DEADLINE]),
            "result_ready": _result, "refused": _refuse, "stopped": _stop,
        },
        "extended": {"result_ready": _result, "refused": _refuse, "stopped": _stop},
        "result_ready": {"returned": rule("admin", "clerk", "system")},
    },
    labels={
        "received": "Đã tiếp nhận", "supplement_requested": "Yêu cầu bổ sung", "in_processing": "Đang giải quyết",
        "extended": "Gia hạn (xin lỗi, hẹn lại)", "result_ready": "Đã có kết quả", "returned": "Đã trả kết quả",
        "refused": "Từ chối giải quyết", "stopped": "Dừng xử lý",
    },
))
