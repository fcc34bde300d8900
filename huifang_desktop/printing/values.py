"""How values print: dates, amounts, yes/no, lists; the rows of a table value and the sums of its number
columns (a form's 合计 and a ledger's 本页合计/总计)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from huifang_desktop.printing.templates import Column

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
BLANK_DATE = "年　　月　　日"
BLANK_DATETIME = "年　　月　　日　　时　　分"
CONTINUED = "（续）"


def format_value(value: Any, fmt: str = "text") -> str:
    """The printed text of a value: dates as 2026-11-22, Decimal without exponent, bool as 是/否."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime(DATE_FORMAT if fmt == "date" else DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple | set | frozenset):
        return "、".join(format_value(v, fmt) for v in value)
    return str(value)


_CN_DIGITS = "零一二三四五六七八九十"


def _cn_number(n: int) -> str:
    if 0 <= n <= 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + _CN_DIGITS[n - 10]
    return str(n)


def _table_rows(raw: Any, columns: Sequence[Column]) -> list[list[Any]]:
    """Rows of a table value as cell values: mappings go by column key, sequences by position."""
    if not isinstance(raw, list | tuple):
        return []
    rows: list[list[Any]] = []
    for item in raw:
        if isinstance(item, Mapping):
            rows.append([item.get(c.key or c.label) for c in columns])
        elif isinstance(item, list | tuple):
            cells = list(item[: len(columns)])
            if len(item) > len(columns):  # never drop a value: extra cells join the last column
                cells[-1] = "；".join(
                    format_value(v) for v in item[len(columns) - 1 :] if v not in (None, "")
                )
            rows.append(cells + [None] * (len(columns) - len(cells)))
        else:
            rows.append([item] + [None] * (len(columns) - 1))
    return rows


def _column_sums(rows: Sequence[Sequence[Any]], indexes: Iterable[int]) -> dict[int, Any]:
    """Sums of the columns whose values are all numbers (int, Decimal, float; not bool)."""
    sums: dict[int, Any] = {}
    for i in indexes:
        total: Any = 0
        numeric = False
        for row in rows:
            value = row[i] if i < len(row) else None
            if value is None or value == "":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                numeric = False
                break
            if isinstance(value, float) and isinstance(total, Decimal):
                value = Decimal(str(value))
            elif isinstance(value, Decimal) and isinstance(total, float):
                total = Decimal(str(total))
            total += value
            numeric = True
        if numeric:
            sums[i] = total
    return sums
