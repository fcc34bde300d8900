"""回访台账 (visit ledger) as an .xlsx workbook, written with openpyxl's write-only mode.

The service passes plain rows (tuples in the order of :data:`LEDGER_HEADERS`); this module never touches the
database. Dates and times stay real Excel date cells. The file is written next to the target as ``*.part``
and moved into place at the end, so a failed export never leaves a half-written workbook behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from huifang_desktop.exports.files import discard_sheet, through_part_file

LEDGER_TITLE = "回访台账"
LEDGER_HEADERS: tuple[str, ...] = (
    "编号", "客户编号", "客户名称", "等级", "回访类型", "回访方式", "计划日期", "回访时间", "回访人", "结果",
    "满意度", "状态", "负责人", "问题点", "转交部门",
)
LEDGER_WIDTHS: tuple[float, ...] = (17, 11, 28, 6, 9, 9, 12, 18, 9, 11, 9, 16, 9, 36, 12)


def write_visit_ledger(rows: Iterable[Sequence[Any]], out_path: Path | str, *, company: str, period_text: str,
                       headers: Sequence[str] = LEDGER_HEADERS, widths: Sequence[float] = LEDGER_WIDTHS,
                       title: str = LEDGER_TITLE) -> int:
    """Write the ledger and return the number of data rows.

    Row 1: title (``company 回访台账（period）``, merged over the columns); row 2: the header, frozen and
    with an autofilter; data from row 3. ``date`` / ``datetime`` values become date cells (openpyxl's
    ``yyyy-mm-dd`` / ``yyyy-mm-dd h:mm:ss``). Raises ``OSError`` when the file cannot be written.
    """
    # openpyxl is imported here, not at the top: the services import this module at the program's start
    # for the headers, and openpyxl costs about 0.15 s to import (bench/run, start-up).
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    with through_part_file(Path(out_path)) as part:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(title)
        last_col = get_column_letter(len(headers))
        for index, width in enumerate(widths[: len(headers)], start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = "A3"

        title_cell = WriteOnlyCell(ws, value=f"{company} {title}（{period_text}）")
        title_cell.font = Font(bold=True, size=14)
        ws.append([title_cell])
        ws.merged_cells.add(f"A1:{last_col}1")
        header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
        header_border = Border(bottom=Side(style="thin", color="999999"))
        center = Alignment(horizontal="center", vertical="center")
        header_cells = []
        for name in headers:
            cell = WriteOnlyCell(ws, value=name)
            cell.font, cell.fill = header_font, header_fill
            cell.border, cell.alignment = header_border, center
            header_cells.append(cell)
        ws.append(header_cells)

        count = 0
        append = ws.append
        try:
            for row in rows:
                append(row)
                count += 1
        except BaseException:  # a cancelled export
            discard_sheet(ws)
            raise
        ws.auto_filter.ref = f"A2:{last_col}{count + 2}"
        wb.save(part)
        return count
