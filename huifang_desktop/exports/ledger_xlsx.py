"""Any 台账 (ledger) as an .xlsx workbook an office can hand to its leadership, written in write-only mode.

Sheet 1 (the ledger): row 1 the title (``company title（period）``, merged over the columns), row 2 the
header (bold, shaded, frozen, with an auto-filter over the data), the data from row 3 as real Excel values
(``date``/``datetime`` become date cells, ``int``/``Decimal`` numbers; money columns show ``#,##0.00``),
then a 合计 row summing the columns marked ``total``. Column widths come from the columns.
Sheet 2 (说明): what the sheet holds — the filter used, who exported it and when, the number of rows.

The service passes plain rows (tuples in column order) and stops the export by raising from its row
iterator (cancel); this module never touches the database. The file is written next to the target as
``*.part`` and moved into place at the end, so a failed or cancelled export never leaves a half-written
workbook behind (nor an earlier file of that name damaged).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huifang_desktop.exports.files import discard_sheet, through_part_file
from huifang_desktop.exports.sheets import print_setup, risky, row_risky, set_text, text_cell

if TYPE_CHECKING:
    from openpyxl import Workbook

MONEY_FORMAT = "#,##0.00"
INTEGER_FORMAT = "#,##0"
NOTES_TITLE = "说明"
TOTALS_LABEL = "合计"
MAX_WIDTH = 40.0  # no column wider (Excel characters): longer text wraps
WRAP_FROM = 20.0  # a text column this wide holds long text (names, addresses, problems): it wraps
WIDTH_SAMPLE = 500  # rows read ahead to fit the column widths to what they hold
PAGE_WIDTH = 180.0  # a landscape A4 one page wide at about 85 % (Excel characters)
WRAP_MIN_WIDTH = 16.0  # a long-text column gives up width down to this on a wide sheet
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"  # times in ledgers are to the minute
LINE_HEIGHT = 14.5  # points per line of wrapped text (11 pt)
MAX_LINES = 8  # a row grows up to this many lines for its wrapped text

_X: Any = (
    None  # openpyxl and the styles, loaded by the first export: the program's start-up does not import it
)


def _xl() -> Any:
    global _X
    if _X is None:
        from types import SimpleNamespace

        from openpyxl import Workbook
        from openpyxl.cell import Cell, WriteOnlyCell
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.dimensions import RowDimension

        class ReusedCell(Cell):
            """A styled cell handed to ``append`` row after row. openpyxl's write-only ``append`` first tries
            any value as a cell value and, for a cell, formats its repr into the ValueError it then catches:
            a constant repr keeps that cheap (about 145,000 such cells in a 100,000-row 回访台账)."""

            __slots__ = ()

            def __repr__(self) -> str:
                return "<ReusedCell>"

        thin = Side(style="thin", color="999999")
        _X = SimpleNamespace(
            Workbook=Workbook,
            Cell=WriteOnlyCell,
            CellType=Cell,
            ReusedCell=ReusedCell,
            RowDimension=RowDimension,
            letter=get_column_letter,
            title_font=Font(bold=True, size=14),
            bold=Font(bold=True),
            header_fill=PatternFill("solid", fgColor="DDEBF7"),
            totals_fill=PatternFill("solid", fgColor="F2F2F2"),
            header_border=Border(bottom=thin),
            totals_border=Border(top=thin),
            center=Alignment(horizontal="center", vertical="center"),
            center_wrap=Alignment(horizontal="center", vertical="center", wrap_text=True),
            wrap=Alignment(wrap_text=True, vertical="top"),
            wrap_cell=Alignment(wrap_text=True),
        )
    return _X


@dataclass(frozen=True, slots=True)
class XlsxColumn:
    """One column: header text, width in Excel characters, the number format of its cells ('' = Excel's
    own; dates always get a date format) and whether the 合计 row sums it."""

    label: str
    width: float = 12.0
    number_format: str = ""
    total: bool = False


@dataclass(frozen=True, slots=True)
class LedgerWritten:
    rows: int
    totals: tuple[Any, ...]  # per column: the sum for ``total`` columns, else None


_NARROW = re.compile(
    "[^\u2e80-\U0010ffff]+"
)  # runs of characters a cell shows one wide (below the CJK range)


def _shown_width(value: Any) -> int:
    """Excel characters ``value`` takes in a cell: CJK characters two, others one; dates as openpyxl
    formats them (``yyyy-mm-dd``, ``yyyy-mm-dd h:mm:ss``), numbers with thousands separators."""
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value) + len(_NARROW.sub("", value))  # what is left of the text: its wide characters
    if isinstance(value, datetime):
        return len(DATETIME_FORMAT)
    if isinstance(value, date):
        return 10
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return len(f"{value:,.2f}") if isinstance(value, float | Decimal) else len(f"{value:,}")
    return len(str(value))


def _lines(text: str, width: float) -> int:
    """Lines ``text`` wraps onto in a column ``width`` wide (a CJK character prints about 1.7 digits wide)."""
    return -(-int(_shown_width(text) * 0.85) // max(int(width - 1), 1))


def fitted_widths(columns: Sequence[XlsxColumn], sample: Sequence[Sequence[Any]]) -> list[float]:
    """Column widths fitted to what the first rows hold, so that a wide ledger still prints large enough
    on one page width: no narrower than half its header (which wraps onto two lines) or its widest date or
    number (which cannot wrap), no wider than its widest text or the column's own width (capped at
    :data:`MAX_WIDTH`; longer text wraps there). On a sheet wider than :data:`PAGE_WIDTH` the long-text
    columns give up width first, down to :data:`WRAP_MIN_WIDTH`: their text wraps onto more lines."""
    out: list[float] = []
    floors: list[float] = []
    for i, col in enumerate(columns):
        text = fixed = 0
        for row in sample:
            value = row[i] if i < len(row) else None
            if isinstance(value, str):
                text = max(text, _shown_width(value))
            elif value is not None:
                fixed = max(fixed, _shown_width(value))
        header = (_shown_width(col.label) + 1) // 2 + 2
        floor = max(header, fixed + 2, 6)
        top = max(min(col.width, MAX_WIDTH), floor)
        out.append(float(min(max(text + 2, floor), top)))
        floors.append(float(max(floor, WRAP_MIN_WIDTH) if col.width >= WRAP_FROM else out[-1]))
    excess = sum(out) - PAGE_WIDTH
    slack = sum(w - f for w, f in zip(out, floors, strict=True))
    if excess > 0 and slack > 0:
        share = min(excess / slack, 1.0)
        out = [round(w - (w - f) * share) for w, f in zip(out, floors, strict=True)]
    return out


def write_ledger(
    rows: Iterable[Sequence[Any]],
    out_path: Path | str,
    *,
    title: str,
    company: str,
    period_text: str,
    columns: Sequence[XlsxColumn],
    notes: Sequence[tuple[str, Any]] = (),
    totals_label: str = TOTALS_LABEL,
    count_row: bool = True,
) -> LedgerWritten:
    """Write the workbook and return the row count and the column sums. ``notes``: (item, value) lines of
    the 说明 sheet, to which the row count is added. ``count_row``: without summed columns, the 合计 row
    still says how many rows there are (``共 N 条``); False leaves it out. Raises ``OSError`` when the file cannot be written and
    lets any exception of ``rows`` (a cancelled export) through, leaving no file behind."""
    with through_part_file(Path(out_path)) as part:
        return _write(
            rows,
            part,
            title=title,
            company=company,
            period_text=period_text,
            columns=columns,
            notes=notes,
            totals_label=totals_label,
            count_row=count_row,
        )


def _write(
    rows: Iterable[Sequence[Any]],
    part: Path,
    *,
    title: str,
    company: str,
    period_text: str,
    columns: Sequence[XlsxColumn],
    notes: Sequence[tuple[str, Any]],
    totals_label: str,
    count_row: bool = True,
) -> LedgerWritten:
    wb = _xl().Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    try:
        return _fill(
            wb,
            ws,
            rows,
            part,
            title=title,
            company=company,
            period_text=period_text,
            columns=columns,
            notes=notes,
            totals_label=totals_label,
            count_row=count_row,
        )
    except BaseException:
        discard_sheet(ws)
        raise


def _fill(
    wb: Workbook,
    ws: Any,
    rows: Iterable[Sequence[Any]],
    part: Path,
    *,
    title: str,
    company: str,
    period_text: str,
    columns: Sequence[XlsxColumn],
    notes: Sequence[tuple[str, Any]],
    totals_label: str,
    count_row: bool,
) -> LedgerWritten:
    x = _xl()
    n = len(columns)
    last_col = x.letter(max(n, 1))
    rows = iter(rows)
    sample = list(islice(rows, WIDTH_SAMPLE))
    widths = fitted_widths(columns, sample)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[x.letter(index)].width = width
    ws.freeze_panes = "A3"
    heading = f"{company} {title}".strip() + (f"（{period_text}）" if period_text else "")
    print_setup(ws, columns=n, title_rows="1:2", footer_left=heading)

    title_cell = x.Cell(ws)
    set_text(title_cell, heading)
    title_cell.font = x.title_font
    ws.append([title_cell])
    ws.merged_cells.add(f"A1:{last_col}1")
    header = []
    for col in columns:
        cell = x.Cell(ws)
        set_text(cell, col.label)
        cell.font, cell.fill, cell.border, cell.alignment = (
            x.bold,
            x.header_fill,
            x.header_border,
            x.center_wrap,
        )
        header.append(cell)
    if any(_shown_width(col.label) > widths[i] - 1 for i, col in enumerate(columns)):
        ws.row_dimensions[2].height = 2 * LINE_HEIGHT  # a long header wraps onto two lines
    ws.append(header)

    formats = {i: c.number_format for i, c in enumerate(columns) if c.number_format}
    for i in range(n):  # date-and-time columns: to the minute (openpyxl's default shows seconds, 3 more wide)
        if i not in formats and any(i < len(r) and isinstance(r[i], datetime) for r in sample):
            formats[i] = DATETIME_FORMAT
    formatted = list(formats)
    # One styled cell per formatted or wrapped column, reused row after row: write-only mode writes each
    # appended row at once, so the cell is free again for the next row (a new styled cell per value costs
    # ~40 % more). Long text wraps within its column: only a string longer than the column gets the
    # wrapping cell, the rest stay plain values (the cheapest cells there are).
    styled: dict[int, Any] = {}
    for i in formatted:
        styled[i] = x.ReusedCell(ws)
        styled[i].number_format = formats[i]
    wrapped = {
        i: max(int(widths[i] / 2), 1)
        for i, c in enumerate(columns)
        if not c.number_format and c.width >= WRAP_FROM
    }
    wrap_cells: dict[int, Any] = {}
    for i in wrapped:
        wrap_cells[i] = x.ReusedCell(ws)
        wrap_cells[i].alignment = x.wrap_cell  # at the bottom like the row's other cells
    # A wrapped row's height: one row dimension per line count, lent to each row as it is written (openpyxl
    # writes a row's dimension with the row; a new one per row cost ~0.5 s in a 100,000-row export)
    heights: dict[int, Any] = {}
    dims = ws.row_dimensions
    summed = [i for i, c in enumerate(columns) if c.total]
    sums: list[Any] = [0] * n
    count = 0
    append = ws.append
    cell_type = x.CellType
    small_ints = {i for i in formatted if formats[i] == INTEGER_FORMAT}
    wrapped_items = list(wrapped.items())
    pad = [None] * n
    for row in chain(sample, rows):
        count += 1
        protected = row_risky(row)
        if protected:  # a string a spreadsheet would evaluate, or a control character: text cells
            values = [
                text_cell(ws, v, wrap_cells.get(i)) if type(v) is str and risky(v) else v
                for i, v in enumerate(row)
            ]
        elif not formatted and not summed and not wrapped:
            append(row)
            continue
        else:
            values = list(row)
        if len(values) < n:  # a short row: the missing cells are empty (openpyxl writes no cell for None)
            values += pad[len(values) :]
        for i in summed:
            v = values[i]
            t = type(v)
            if (
                t is int
                or t is Decimal
                or t is float
                or (t is not bool and isinstance(v, int | Decimal | float))
            ):
                sums[i] += v
        for i in formatted:
            v = values[i]
            if v is None or (protected and isinstance(v, cell_type)):
                continue
            if i in small_ints and type(v) is int and -1000 < v < 1000:
                continue  # "#,##0" shows a number under 1,000 as a plain cell does: no styled cell needed
            cell = styled[i]
            cell.value = v
            values[i] = cell
        lines = 1
        for i, limit in wrapped_items:
            v = values[i]
            if type(v) is str:
                if len(v) > limit:
                    cell = wrap_cells[i]
                    cell.value = v
                    values[i] = cell
                    k = _lines(v, widths[i])
                    lines = max(lines, k)
            elif protected and isinstance(v, cell_type) and v.alignment.wrap_text and type(v.value) is str:
                lines = max(lines, _lines(v.value, widths[i]))
        if lines > 1:  # the spreadsheet does not grow the row itself (LibreOffice keeps it one line high)
            lines = min(lines, MAX_LINES)
            dim = heights.get(lines)
            if dim is None:
                dim = heights[lines] = x.RowDimension(ws, ht=lines * LINE_HEIGHT)
            dims[count + 2] = dim
            append(values)
            del dims[count + 2]  # written with the row: keep no per-row state
        else:
            append(values)
    ws.auto_filter.ref = f"A2:{last_col}{count + 2}"
    totals: list[Any] = [sums[i] if columns[i].total else None for i in range(n)]
    if summed or count_row:
        cells = []
        label_at = next((i for i in range(n) if not columns[i].total), None)
        count_at = (
            None if summed else next((i for i in range(n) if label_at is not None and i > label_at), None)
        )
        for i, col in enumerate(columns):
            value = (
                totals[i]
                if col.total
                else totals_label
                if i == label_at
                else f"共 {count} 条"
                if i == count_at
                else None
            )
            cell = x.Cell(ws, value=value)
            cell.font, cell.fill, cell.border = x.bold, x.totals_fill, x.totals_border
            if col.total and col.number_format:
                cell.number_format = col.number_format
            cells.append(cell)
        append(cells)

    info = wb.create_sheet(NOTES_TITLE)
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = 70
    print_setup(info, columns=2, footer_left=heading)
    head = x.Cell(info)
    set_text(head, heading)
    head.font = x.title_font
    info.append([head])
    for item, value in [*notes, ("行数", count)]:
        key = x.Cell(info, value=item)
        key.font = x.bold
        cell = x.Cell(info)
        if isinstance(value, str):
            set_text(cell, value)
        else:
            cell.value = value
        cell.alignment = x.wrap
        info.append([key, cell])
    wb.save(part)
    return LedgerWritten(count, tuple(totals))


__all__ = [
    "INTEGER_FORMAT",
    "MONEY_FORMAT",
    "NOTES_TITLE",
    "TOTALS_LABEL",
    "LedgerWritten",
    "XlsxColumn",
    "write_ledger",
]
