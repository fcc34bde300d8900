"""Statistics reports as PDF: the tables through the forms renderer, the charts on the pages after them.

A report (:class:`~huifang_desktop.domain.stats.StatsReport`) prints with a form template of ``forms/``
(``stats_month.toml`` — 月度回访统计表, ``stats_quarter.toml`` — 季度客户服务报告), which an office may edit
like its other forms: each table of the report is a template value named by its key (``summary``,
``groups``, ``rules``, ``trend``, ``assessment`` …) holding the rows as printed text, so a template may
reorder, drop or relabel tables without code. The charts (:class:`~huifang_desktop.domain.stats.ChartSpec`)
are drawn with reportlab's own chart library (reportlab.graphics: no extra dependency) two to a page after
the form pages (附图), with the same title, company and page footer style.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from huifang_desktop.domain.stats import ChartKind, ChartSpec, ReportTable, StatsReport
from huifang_desktop.printing.draw import _draw_page, _footer_texts, _write
from huifang_desktop.printing.fonts import register_font
from huifang_desktop.printing.layout import layout_form
from huifang_desktop.printing.measure import MM, _metrics
from huifang_desktop.printing.pages import BOLD, GREY, Output, PageLayout, RenderCancelled
from huifang_desktop.printing.render import _paint_form
from huifang_desktop.printing.templates import FormTemplate

PALETTE = (
    colors.HexColor("#2f6fb0"),
    colors.HexColor("#e07b28"),
    colors.HexColor("#3f9b5a"),
    colors.HexColor("#b8433f"),
    colors.HexColor("#7a5aa6"),
)
CHARTS_PER_PAGE = 2
APPENDIX = "附图"

ProgressFn = Callable[[int, int], bool]


def report_values(report: StatsReport) -> dict[str, Any]:
    """The template values of a report: every table's rows as printed text under the table's key, its note
    under ``<key>_note``, plus period, dates and notes."""
    values: dict[str, Any] = {
        "period": report.period.label,
        "range": f"{report.period.start:%Y-%m-%d} 至 {report.period.end:%Y-%m-%d}",
        "generated_at": report.generated_at,
        "company": report.company,
        "title": report.title,
    }
    notes = []
    for table in report.tables:
        values[table.key] = [list(row) for row in table.text_rows()]
        values[f"{table.key}_title"] = table.title
        values[f"{table.key}_note"] = table.note
        if table.note and table.note not in report.notes:
            notes.append(f"{table.title}：{table.note}")
    values["notes"] = "\n".join([*report.notes, *notes])
    return values


def _label_format(percent: bool) -> Callable[[float], str]:
    if percent:
        return lambda v: f"{v * 100:.0f}%"
    return lambda v: f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.1f}"


def _series(table: ReportTable, spec: ChartSpec) -> list[list[float | None]]:
    out = []
    for col in spec.series_columns:
        values: list[float | None] = []
        for row in table.rows:
            v = row[col]
            values.append(float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None)
        out.append(values)
    return out


def _value_range(data: Sequence[Sequence[float | None]], percent: bool) -> tuple[float, float, float]:
    if percent:
        return 0.0, 1.0, 0.2
    top = max((v for s in data for v in s if v is not None), default=0.0)
    if top <= 0:
        return 0.0, 1.0, 1.0
    raw = top / 5
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return 0.0, step * (int(top / step) + 1), float(step)


def chart_drawing(report: StatsReport, spec: ChartSpec, width: float, height: float) -> Drawing:
    """One chart as a reportlab Drawing (``width`` × ``height`` points): title, axes, series, legend."""
    font = register_font()
    table = report.chart_table(spec)
    d = Drawing(width, height)
    # the renderer's starting font: else it sets (and references) Helvetica (an attribute renderPDF reads,
    # which the stubs leave out)
    d.initialFontName = font  # type: ignore[attr-defined]
    d.add(String(width / 2, height - 14, spec.title, fontName=font, fontSize=11, textAnchor="middle"))
    categories = [str(r[spec.category_column]) for r in table.rows]
    pairs = [
        (table.headers[c], s)
        for c, s in zip(spec.series_columns, _series(table, spec), strict=True)
        if any(v is not None for v in s)
    ]  # a series without a single value is left out
    if not categories or not pairs:
        d.add(
            String(
                width / 2,
                height / 2,
                "（本期无数据）",
                fontName=font,
                fontSize=9,
                textAnchor="middle",
                fillColor=colors.grey,
            )
        )
        return d
    names = [name for name, _s in pairs]
    data = [s for _name, s in pairs]
    chart: Any = HorizontalLineChart() if spec.kind is ChartKind.LINE else VerticalBarChart()
    legend_h = 16
    many = len(categories) > 8 or max(len(c) for c in categories) > 6
    bottom = 46 if many else 30
    chart.x, chart.y = 46, bottom + legend_h
    chart.width, chart.height = width - 62, height - 30 - bottom - legend_h
    if spec.kind is ChartKind.LINE:
        chart.data = [tuple(v for v in s) for s in data]
        chart.joinedLines = 1
        for i in range(len(data)):
            chart.lines[i].strokeColor = PALETTE[i % len(PALETTE)]
            chart.lines[i].strokeWidth = 1.6
            from reportlab.graphics.widgets.markers import makeMarker

            chart.lines[i].symbol = makeMarker("FilledCircle", size=3.5, fillColor=PALETTE[i % len(PALETTE)])
    else:
        chart.data = [tuple(0.0 if v is None else v for v in s) for s in data]
        chart.groupSpacing = 6
        chart.barSpacing = 1
        for i in range(len(data)):
            chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
            chart.bars[i].strokeColor = None
    low, high, step = _value_range(data, spec.percent)
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = low, high, step
    chart.valueAxis.labelTextFormat = _label_format(spec.percent)
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    chart.valueAxis.gridStrokeWidth = 0.4
    chart.categoryAxis.categoryNames = categories
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    if many:
        chart.categoryAxis.labels.angle = 35
        chart.categoryAxis.labels.boxAnchor = "ne"
        chart.categoryAxis.labels.dy = -2
    d.add(chart)
    if spec.y_title:
        d.add(
            String(
                chart.x - 4,
                chart.y + chart.height + 4,
                spec.y_title,
                fontName=font,
                fontSize=7,
                textAnchor="end",
                fillColor=colors.grey,
            )
        )
    legend = Legend()
    legend.fontName = font
    legend.fontSize = 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.boxAnchor = "s"
    legend.x, legend.y = width / 2 - 30 * (len(names) - 1), 6  # type: ignore[assignment]  # stubs: int
    legend.dx = legend.dy = 7
    legend.deltax = 70
    legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], name) for i, name in enumerate(names)]
    d.add(legend)
    return d


def _paint_charts(
    c: Canvas,
    report: StatsReport,
    charts: Sequence[ChartSpec],
    printed_at: datetime,
    progress: ProgressFn | None,
    done_before: int,
    total_steps: int,
    pages_before: int = 0,
) -> int:
    """The 附图 pages: company, title and period on top, two charts a page, the footer (numbered on from
    the ``pages_before`` form pages); returns the pages."""
    m = _metrics()
    font = m.font
    page_w, page_h = A4
    margin = 15 * MM
    width = page_w - 2 * margin
    pages = [charts[i : i + CHARTS_PER_PAGE] for i in range(0, len(charts), CHARTS_PER_PAGE)]
    for number, page_charts in enumerate(pages, start=1):
        chrome = PageLayout()
        top = page_h - 12 * MM
        if report.company:
            chrome.text(margin + (width - m.width(report.company, 12)) / 2, top - 12, report.company, 12)
        heading = f"{report.title}　{APPENDIX}"
        chrome.text(margin + (width - m.width(heading, 16)) / 2, top - 36, heading, 16, BOLD)
        sub = f"统计期间：{report.period.label}"
        chrome.text(margin + (width - m.width(sub, 9)) / 2, top - 52, sub, 9, GREY)
        _footer_texts(
            chrome,
            m,
            margin,
            width,
            12 * MM + 8 * 0.3,
            8,
            printed_at,
            pages_before + number,
            pages_before + len(pages),
            f"{APPENDIX} {number}/{len(pages)}",
        )
        _draw_page(c, font, chrome)
        area_top = top - 64
        area_bottom = 12 * MM + 8 * 2.2
        slot = (area_top - area_bottom) / CHARTS_PER_PAGE
        for k, spec in enumerate(page_charts):
            drawing = chart_drawing(report, spec, width, slot - 10)
            renderPDF.draw(drawing, c, margin, area_top - (k + 1) * slot + 5)
        c.showPage()
        if progress is not None and progress(done_before + number, total_steps) is False:
            raise RenderCancelled()
    return len(pages)


def render_stats_report(
    template: FormTemplate,
    report: StatsReport,
    out: Output,
    *,
    printed_at: datetime,
    progress: ProgressFn | None = None,
) -> int:
    """Print ``report`` with ``template`` (title and layout of the form pages) and its charts after them;
    returns the page count. ``progress(done, total)`` returning False cancels (:class:`RenderCancelled`)."""
    values: Mapping[str, Any] = report_values(report)
    layout = layout_form(template, values, company=report.company)
    charts = list(report.charts)
    chart_pages = -(-len(charts) // CHARTS_PER_PAGE)
    total = 1 + chart_pages

    def paint(c: Canvas) -> int:
        if progress is not None and progress(0, total) is False:
            raise RenderCancelled()
        pages = _paint_form(
            c,
            layout,
            draft=False,
            revision=0,
            printed_at=printed_at,
            total_pages=layout.page_count + chart_pages,
        )
        if progress is not None and progress(1, total) is False:
            raise RenderCancelled()
        return pages + _paint_charts(c, report, charts, printed_at, progress, 1, total, pages)

    return _write(out, template.title, layout.company, A4, paint)


__all__ = ["chart_drawing", "render_stats_report", "report_values"]
