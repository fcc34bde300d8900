"""Statistics reports (月度回访统计表, 季度客户服务报告) as .xlsx workbooks with native Excel charts.

The service builds a :class:`~huifang_desktop.domain.stats.StatsReport` (tables of plain values and the
charts drawn from them); this module only writes it. Every table gets its own sheet: title and period on
top, the header frozen below them (and repeated on every printed page: A4, one page wide), real numbers with Excel number formats (rates are ratios formatted
``0.0%``, so Excel can compute with them), the table's note underneath. The sheet ``图表`` holds the charts
as native Excel charts (openpyxl.chart) referring to the data sheets, so they follow the numbers when
someone edits them. The file is written next to the target as ``*.part`` and moved into place at the end.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from huifang_desktop.domain.stats import ChartKind, ChartSpec, ColumnFormat, ReportTable, StatsReport
from huifang_desktop.exports.files import through_part_file
from huifang_desktop.exports.sheets import print_setup, set_text

CHART_SHEET = "图表"
HEADER_ROW = 4  # rows 1–2: title and period, row 3 blank
NUMBER_FORMATS: dict[ColumnFormat, str] = {
    ColumnFormat.INT: "#,##0",
    ColumnFormat.MONEY: "#,##0",
    ColumnFormat.NUMBER: "0.0",
    ColumnFormat.PERCENT: "0.0%",
}
CHART_WIDTH_CM = 16.0
CHART_HEIGHT_CM = 8.5
CHART_ROWS = 18  # rows a chart occupies on the chart sheet (with a gap)
CHART_COLUMNS = 10  # columns a chart occupies (two charts side by side)

_TITLE_FONT = Font(bold=True, size=14)
_SUB_FONT = Font(color="555555")
_HEADER_FONT = Font(bold=True)
_TOTAL_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(title: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("", title)[:28] or "表"
    name, n = base, 2
    while name in used:
        name = f"{base[:26]}{n}"
        n += 1
    used.add(name)
    return name


def _put(ws: Worksheet, row: int, column: int, value: Any) -> Any:
    """Write ``value`` into a cell; text stays text (never a formula, no control characters)."""
    cell = ws.cell(row, column)
    if isinstance(value, str):
        set_text(cell, value)
    else:
        cell.value = value
    return cell


def _heading(ws: Worksheet, report: StatsReport, title: str, columns: int) -> None:
    _put(ws, 1, 1, f"{report.company} {report.title}：{title}".strip()).font = _TITLE_FONT
    _put(
        ws,
        2,
        1,
        f"统计期间：{report.period.label}（{report.period.start:%Y-%m-%d} 至 {report.period.end:%Y-%m-%d}）"
        f"    制表时间：{report.generated_at:%Y-%m-%d %H:%M}",
    ).font = _SUB_FONT
    if columns > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=columns)


def _write_table(ws: Worksheet, report: StatsReport, table: ReportTable) -> None:
    n = len(table.headers)
    _heading(ws, report, table.title, n)
    print_setup(
        ws,
        columns=n,
        title_rows=f"1:{HEADER_ROW}",
        footer_left=f"{report.company} {report.title}：{table.title}（{report.period.label}）".strip(),
    )
    for c, name in enumerate(table.headers, start=1):
        cell = _put(ws, HEADER_ROW, c, name)
        cell.font, cell.fill, cell.border, cell.alignment = _HEADER_FONT, _HEADER_FILL, _BORDER, _CENTER
        width = table.widths[c - 1] if c - 1 < len(table.widths) else 12
        ws.column_dimensions[get_column_letter(c)].width = max(width * 1.3, len(name) * 2.2)
    for r, row in enumerate(table.rows):
        total = str(row[0]) == "合计"
        for c, value in enumerate(row, start=1):
            cell = _put(ws, HEADER_ROW + 1 + r, c, _plain(value))
            cell.border = _BORDER
            fmt = NUMBER_FORMATS.get(table.format_at(r, c - 1))
            if fmt is not None and isinstance(value, int | float) and not isinstance(value, bool):
                cell.number_format = fmt
            if total:
                cell.font, cell.fill = _TOTAL_FONT, _TOTAL_FILL
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 2 if n > 3 else 1).coordinate
    if table.note:
        note_row = HEADER_ROW + len(table.rows) + 2
        _put(ws, note_row, 1, f"说明：{table.note}").alignment = Alignment(wrap_text=False)


def _plain(value: Any) -> Any:
    """Excel cells take str, int, float, dates; anything else is written as its text; "" stays empty."""
    if isinstance(value, str) and not value:
        return None
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)


def _chart(
    report: StatsReport,
    spec: ChartSpec,
    refs: dict[str, tuple[Worksheet, int]],
    data_ws: Worksheet,
    data_col: int,
) -> tuple[Any, int]:
    """A native chart for ``spec``; its data is the table's sheet when the chart's rows are the table's
    first rows, else a copy written to the chart sheet at ``data_col``. Returns (chart, next data_col)."""
    table = report.table(spec.table)
    rows = report.chart_table(spec).rows
    ws, first = refs[spec.table]
    if tuple(table.rows[: len(rows)]) != rows:  # not a prefix: chart a copy of exactly these rows
        ws, first = data_ws, 2
        used = (spec.category_column, *spec.series_columns)
        for k, c in enumerate(used):
            _put(data_ws, 1, data_col + k, table.headers[c])
            for i, row in enumerate(rows):
                _put(data_ws, 2 + i, data_col + k, _plain(row[c]))
        cat_col, series_cols = data_col, tuple(data_col + 1 + k for k in range(len(spec.series_columns)))
        data_col += len(used) + 1
    else:
        cat_col, series_cols = spec.category_column + 1, tuple(c + 1 for c in spec.series_columns)
    chart: Any = LineChart() if spec.kind is ChartKind.LINE else BarChart()
    if spec.kind is ChartKind.BAR:
        chart.type = "col"
        chart.grouping = "clustered"
    chart.title = spec.title
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    chart.y_axis.title = spec.y_title
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    if spec.percent:
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 1
    last = first + max(len(rows), 1) - 1
    header = first - 1
    for col in series_cols:
        data = Reference(ws, min_col=col, min_row=header, max_row=last)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=cat_col, min_row=first, max_row=last))
    if spec.kind is ChartKind.LINE:
        for series in chart.series:
            series.marker.symbol = "circle"
            series.smooth = False
    return chart, data_col


def write_stats_workbook(report: StatsReport, out_path: Path | str) -> int:
    """Write ``report``; returns the number of sheets. Raises ``OSError`` when the file cannot be written."""
    with through_part_file(Path(out_path)) as part:
        wb = Workbook()
        default = wb.worksheets[0]  # the sheet a new workbook starts with
        used: set[str] = set()
        refs: dict[str, tuple[Worksheet, int]] = {}
        for table in report.tables:
            ws = wb.create_sheet(_sheet_name(table.title, used))
            _write_table(ws, report, table)
            refs[table.key] = (ws, HEADER_ROW + 1)
        if report.notes and report.tables:  # under the first table (主要指标)
            first = refs[report.tables[0].key][0]
            row = first.max_row + 2
            for note in report.notes:
                _put(first, row, 1, note).font = _SUB_FONT
                row += 1
        if report.tables:
            wb.remove(default)
        if report.charts:  # right after the first table (主要指标)
            cs = wb.create_sheet(CHART_SHEET, 1 if report.tables else 0)
            _put(cs, 1, 1, f"{report.company} {report.title}：图表".strip()).font = _TITLE_FONT
            _put(cs, 2, 1, f"统计期间：{report.period.label}").font = _SUB_FONT
            print_setup(
                cs,
                columns=2 * CHART_COLUMNS,
                footer_left=f"{report.company} {report.title}：图表（{report.period.label}）".strip(),
            )
            chart_rows = 3 + ((len(report.charts) + 1) // 2) * CHART_ROWS
            cs.print_area = f"A1:{get_column_letter(2 * CHART_COLUMNS)}{chart_rows}"
            data_col = 2 * CHART_COLUMNS + 3
            for i, spec in enumerate(report.charts):
                chart, data_col = _chart(report, spec, refs, cs, data_col)
                anchor_row = 4 + (i // 2) * CHART_ROWS
                anchor_col = 1 + (i % 2) * CHART_COLUMNS
                cs.add_chart(chart, f"{get_column_letter(anchor_col)}{anchor_row}")
        wb.save(part)
        return len(wb.sheetnames)


__all__ = ["CHART_SHEET", "HEADER_ROW", "NUMBER_FORMATS", "write_stats_workbook"]
