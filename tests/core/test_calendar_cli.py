"""``saola calendar add|count|holidays``, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SAOLA = str(Path(sys.executable).with_name("saola"))


def saola(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAOLA_DATA_DIR": str(tmp_path)}
    return subprocess.run([SAOLA, "calendar", *args], capture_output=True, text=True, env=env, timeout=60,
                          check=False)


@pytest.mark.parametrize(("args", "out"), [
    (("add", "2026-02-13", "3"), "2026-02-25"),
    (("add", "2026-01-09", "1"), "2026-01-10"),
    (("add", "2026-12-30", "2"), "2027-01-04"),
    (("count", "2026-02-13", "2026-02-25"), "3"),
    (("count", "2025-12-31", "2026-12-31"), "250"),
])
def test_add_and_count_print_only_the_answer(tmp_path: Path, args: tuple[str, ...], out: str) -> None:
    result = saola(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == out + "\n"


def test_holidays_lists_the_year_in_vietnamese_or_english(tmp_path: Path) -> None:
    vi = saola(tmp_path, "holidays", "2026")
    assert vi.returncode == 0, vi.stderr
    lines = vi.stdout.splitlines()
    assert "2026-01-02  day-off      Nghỉ hoán đổi Tết Dương lịch (làm bù ngày 10/01/2026)" in lines
    assert any(line.startswith("2026-01-10  working-day") for line in lines)
    assert not any(line.startswith("#") for line in lines)
    en = saola(tmp_path, "holidays", "2027", "--lang", "en")
    assert en.returncode == 0, en.stderr
    assert en.stdout.startswith("# 2027: not every notice is published")
    assert "2027-09-03  holiday      National Day (adjacent day) *" in en.stdout.splitlines()


@pytest.mark.parametrize(("args", "message"), [
    (("add", "13/02/2026", "1"), "DATE must be a date as YYYY-MM-DD"),
    (("add", "2026-02-30", "1"), "DATE must be a date as YYYY-MM-DD"),
    (("add", "2020-06-01", "1"), "covers 2021–2099"),
    (("count", "2026-03-02", "2026-03-01"), "is before the start date"),
    (("count", "2026-03-02", "soon"), "END must be a date as YYYY-MM-DD"),
    (("holidays", "2100"), "covers 2021–2099"),
    (("holidays", "2026", "--lang", "fr"), "--lang must be vi or en"),
])
def test_bad_input_exits_2_with_a_message(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = saola(tmp_path, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
