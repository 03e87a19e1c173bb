"""English labels (message ids, translated in ``locales/vi/egov.po``) of the values stored by the one-stop shop."""

from __future__ import annotations

LEVELS = {"province": "Province", "commune": "Ward/commune", "district": "District (former)",
          "central": "Central (ministry)"}
DAY_KINDS = {"working": "working days", "calendar": "calendar days"}
ONLINE_LEVELS = {"none": "Not online", "partial": "Partly online", "full": "Fully online"}
SUPPLEMENT_CLOCKS = {"pause": "Supplement pauses the clock", "restart": "Supplement restarts the clock"}
CHANNELS = {"counter": "At the counter", "online": "Online"}
STATUSES = {
    "received": "Received",
    "supplement_requested": "Supplement requested",
    "in_processing": "In processing",
    "extended": "Extended (apology sent)",
    "result_ready": "Result ready",
    "returned": "Result returned",
    "refused": "Refused",
    "stopped": "Processing stopped",
}
# The verb on the button that makes each move.
ACTIONS = {
    "received": "Supplement received",
    "supplement_requested": "Request a supplement (form 02)",
    "in_processing": "Hand over for processing",
    "extended": "Extend with an apology (form 04)",
    "result_ready": "Result ready",
    "returned": "Return the result",
    "refused": "Refuse (form 03)",
    "stopped": "Stop processing (form 05)",
}
OUTCOMES = {"early": "Early", "on_time": "On time", "late": "Late"}
OPEN_STATUSES = {"within": "Within the deadline", "due_soon": "Due soon", "overdue": "Overdue",
                 "paused": "Waiting for a supplement"}
# Forms of Circular 03/2025/TT-VPCP, Annex I, produced for a move to these statuses.
FORMS = {"supplement_requested": 2, "refused": 3, "extended": 4, "stopped": 5}
FORM_TITLES = {
    1: "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    2: "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    3: "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
    4: "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
    5: "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
    6: "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
    7: "SỔ THEO DÕI HỒ SƠ",
}

LABELS = {"levels": LEVELS, "day_kinds": DAY_KINDS, "online_levels": ONLINE_LEVELS,
          "supplement_clocks": SUPPLEMENT_CLOCKS, "channels": CHANNELS, "statuses": STATUSES, "actions": ACTIONS,
          "outcomes": OUTCOMES, "open_statuses": OPEN_STATUSES, "forms": FORMS, "form_titles": FORM_TITLES}
