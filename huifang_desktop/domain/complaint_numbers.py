"""Complaint numbers whose serial widens as needed without changing width mid-month (domain.md §7, 002:
“YYMM + 2-digit serial restarting monthly”).

The plain pattern ``{yymm}{seq:02}`` gives 261199 and then 2611100: the width changes at the 100th case of a
month. Here the width of a month's serial is fixed when its first number is drawn, from the previous month's
volume with head-room (:func:`month_width`); a month busier than that still gets unique numbers (the serial
is never cut), and only then does the width grow. Numbers already given are never changed.
"""

from __future__ import annotations

import re

from huifang_desktop.domain.complaints import validate_number_pattern

_SEQ = re.compile(r"\{seq(?::(\d+))?\}")


def pattern_width(pattern: str) -> int:
    """The serial width written in ``pattern`` (``{seq:02}`` → 2, ``{seq}`` → 0)."""
    validate_number_pattern(pattern)
    m = _SEQ.search(pattern)
    assert m is not None
    return int(m.group(1) or 0)


def month_width(min_width: int, previous_count: int, headroom: float = 2.0) -> int:
    """The serial width of a month: ``min_width``, widened so that ``headroom`` times the previous month's
    count still fits (100 last month → 3 digits from the 1st of this month)."""
    expected = int(previous_count * headroom)
    return max(min_width, len(str(expected)) if expected > 0 else 0)


def with_width(pattern: str, width: int) -> str:
    """``pattern`` with its serial written ``width`` digits wide (``{yymm}{seq:02}``, 3 → ``{yymm}{seq:03}``)."""
    validate_number_pattern(pattern)
    if width <= 0:
        return pattern
    return _SEQ.sub(f"{{seq:{width:02d}}}", pattern, count=1)


__all__ = ["month_width", "pattern_width", "with_width"]
