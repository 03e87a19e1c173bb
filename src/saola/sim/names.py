"""Vietnamese names for the demo city's synthetic streets and schools.

Street names are those commonly given to streets in Bắc Ninh and across Vietnam (kings of the Lý
dynasty, born in Bắc Ninh; national figures); the synthetic streets are not the real ones.
"""

from __future__ import annotations

STREETS: tuple[str, ...] = (
    "Đường Lý Thái Tổ", "Đường Lý Thánh Tông", "Đường Lý Nhân Tông", "Đường Lý Anh Tông", "Đường Lý Thường Kiệt",
    "Đường Trần Hưng Đạo", "Đường Nguyễn Gia Thiều", "Đường Ngô Gia Tự", "Đường Kinh Dương Vương",
    "Đường Lê Thái Tổ", "Đường Nguyễn Trãi", "Đường Hai Bà Trưng", "Đường Thiên Đức", "Đường Bình Than",
    "Đường Hồ Ngọc Lân", "Đường Nguyễn Văn Cừ", "Đường Lê Văn Thịnh", "Đường Huyền Quang", "Đường Âu Cơ",
    "Đường Lạc Long Quân", "Đường Minh Khai", "Đường Trần Phú", "Đường Hàn Thuyên", "Đường Nguyễn Đăng Đạo",
    "Đường Ngọc Hân Công Chúa", "Đường Đấu Mã", "Đường Vũ Kiệt", "Đường Nguyễn Cao", "Đường Lê Quang Đạo",
    "Đường Hoàng Quốc Việt", "Đường Phù Đổng Thiên Vương", "Đường Cao Lỗ Vương", "Đường Nguyễn Quyền",
    "Đường Tô Hiến Thành", "Đường Trần Lựu", "Đường Lê Phụng Hiểu", "Đường Nguyễn Du", "Đường Quang Trung",
    "Đường Xương Giang", "Đường Hùng Vương", "Đường Lê Lợi", "Đường Ngô Quyền", "Đường Đinh Tiên Hoàng",
    "Đường Phạm Văn Đồng", "Đường Võ Nguyên Giáp", "Đường Trường Chinh", "Đường Nguyễn Văn Linh",
    "Đường Lê Duẩn", "Đường Tôn Đức Thắng", "Đường Chu Văn An",
)

_SCHOOLS = (
    ("primary", 600, "Trường Tiểu học {ward}"),
    ("lowerSecondary", 500, "Trường THCS {ward}"),
    ("kindergarten", 250, "Trường Mầm non {ward}"),
    ("upperSecondary", 900, "Trường THPT {ward}"),
)


def school_name(k: int, ward: str) -> tuple[str, int, str]:
    """(educationLevel, base student count, name) of the ``k``-th school of a ward."""
    level, students, pattern = _SCHOOLS[k % len(_SCHOOLS)]
    suffix = f" số {k // len(_SCHOOLS) + 1}" if k >= len(_SCHOOLS) else ""
    return level, students, pattern.format(ward=ward) + suffix
