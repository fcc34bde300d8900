"""回访台账 (visit ledger) as an .xlsx workbook, written with openpyxl's write-only mode.

The service passes plain rows (tuples in the order of :data:`LEDGER_HEADERS`); this module never touches the
database. Dates and times stay real Excel date cells, text stays text. The workbook has the layout of
every ledger (:mod:`huifang_desktop.exports.ledger_xlsx`), which also writes it next to the target as
``*.part`` and moves it into place at the end, so a failed export never leaves a half-written workbook.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

LEDGER_TITLE = "回访台账"
LEDGER_HEADERS: tuple[str, ...] = (
    "编号", "客户编号", "客户名称", "等级", "回访类型", "回访方式", "计划日期", "回访时间", "回访人", "结果",
    "满意度", "状态", "负责人", "问题点", "转交部门", "签字单",
)
LEDGER_WIDTHS: tuple[float, ...] = (17, 11, 28, 6, 9, 9, 12, 18, 9, 11, 9, 16, 9, 36, 12, 8)


def write_visit_ledger(rows: Iterable[Sequence[Any]], out_path: Path | str, *, company: str, period_text: str,
                       headers: Sequence[str] = LEDGER_HEADERS, widths: Sequence[float] = LEDGER_WIDTHS,
                       title: str = LEDGER_TITLE, notes: Sequence[tuple[str, Any]] = (),
                       count_row: bool = True) -> int:
    """Write the ledger and return the number of data rows — the layout of every ledger
    (:func:`huifang_desktop.exports.ledger_xlsx.write_ledger`): row 1 the title (``company 回访台账（period）``,
    merged over the columns), row 2 the header, frozen, repeated on every printed page and with an
    autofilter, data from row 3 (text stays text; ``date`` / ``datetime`` values become date cells), then
    a 合计 row with the row count (``count_row``), and a 说明 sheet (``notes`` and the row count); printed
    on A4, one page wide. Raises ``OSError`` when the file cannot be written."""
    from huifang_desktop.exports.ledger_xlsx import XlsxColumn, write_ledger

    columns = [XlsxColumn(name, widths[i] if i < len(widths) else 12.0) for i, name in enumerate(headers)]
    base = [("台账", title), ("单位", company), ("期间", period_text)]
    written = write_ledger(rows, out_path, title=title, company=company, period_text=period_text,
                           columns=columns, notes=[*base, *notes], count_row=count_row)
    return written.rows
