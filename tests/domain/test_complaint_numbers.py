"""Complaint numbering: YYMM + a serial whose width is fixed per month (issue #20 item 8; domain.md §7 and 002:
“YYMM + 2-digit serial restarting monthly”). Measured before: 261199 then 2611100 at the 100th case."""

from __future__ import annotations

from datetime import date

import pytest

from huifang_desktop.domain.complaint_numbers import month_width, pattern_width, with_width
from huifang_desktop.domain.complaints import MONTHLY_NUMBER_PATTERN, format_complaint_number
from huifang_desktop.domain.errors import ValidationError

NOV = date(2026, 11, 3)


def _numbers(previous_month: int, count: int) -> list[str]:
    pattern = with_width(
        MONTHLY_NUMBER_PATTERN, month_width(pattern_width(MONTHLY_NUMBER_PATTERN), previous_month)
    )
    return [format_complaint_number(pattern, NOV, n) for n in range(1, count + 1)]


def test_a_quiet_month_keeps_two_digits() -> None:
    numbers = _numbers(previous_month=30, count=60)
    assert numbers[0] == "261101" and numbers[-1] == "261160"
    assert {len(n) for n in numbers} == {6}


def test_the_100th_case_does_not_change_the_width_when_last_month_was_busy() -> None:
    numbers = _numbers(previous_month=80, count=150)  # 80 × 2 = 160 → 3 digits from the 1st
    assert numbers[0] == "2611001" and numbers[99] == "2611100"
    assert {len(n) for n in numbers} == {7}
    assert numbers == sorted(numbers)


def test_the_1000th_case_still_gets_a_unique_number_never_cut() -> None:
    numbers = _numbers(previous_month=600, count=1200)  # 1200 → 4 digits from the 1st
    assert numbers[0] == "26110001" and numbers[999] == "26111000"
    assert len(set(numbers)) == len(numbers) and {len(n) for n in numbers} == {8}
    overflow = _numbers(previous_month=0, count=1000)  # an unexpected rush: widens only as needed
    assert len(set(overflow)) == 1000 and overflow[98] == "261199" and overflow[999] == "26111000"


def test_widths() -> None:
    assert pattern_width("{yymm}{seq:02}") == 2 and pattern_width("TS{yyyymmdd}-{seq}") == 0
    assert month_width(2, 0) == 2 and month_width(2, 49) == 2 and month_width(2, 50) == 3
    assert month_width(2, 500) == 4
    assert with_width("{yymm}{seq:02}", 3) == "{yymm}{seq:03}"
    assert with_width("TS{yyyymmdd}-{seq:03}", 0) == "TS{yyyymmdd}-{seq:03}"
    with pytest.raises(ValidationError):
        with_width("{yymm}", 3)
