"""The one date parser refuses days outside 1900-01-01 … 2200-12-31, whatever their form: 0001-01-01 would
overflow the date arithmetic of plans and periods (a traceback instead of a message)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.stats import parse_period
from huifang_desktop.domain.validation import FIRST_DAY, LAST_DAY, parse_date


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01",
        "1899-12-31",
        "2201-01-01",
        "9999-12-31",
        "99991231",
        date(1, 1, 1),
        date.max,
        datetime(1899, 12, 31, 23, 59),
    ],
)
def test_a_day_outside_the_range_is_refused_naming_the_field(raw: object) -> None:
    with pytest.raises(
        ValidationError, match="^补排日期：.*超出可用的日期范围（1900-01-01 至 2200-12-31）"
    ) as info:
        parse_date(raw, label="补排日期", field="today")  # type: ignore[arg-type]
    assert info.value.fields == ["today"]


@pytest.mark.parametrize(
    "raw", ["1900-01-01", "2200-12-31", date(1900, 1, 1), datetime(2200, 12, 31, 23, 59)]
)
def test_the_range_ends_are_accepted(raw: object) -> None:
    assert parse_date(raw) in (FIRST_DAY, LAST_DAY)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["9999Q4", "0001-01", "2201", "1899"])
def test_a_period_outside_the_range_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="统计期间"):
        parse_period(text)
