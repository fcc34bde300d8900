"""Charts of a statistics report on screen, with QtCharts (PySide6-Addons).

Why QtCharts (measured on Linux x86-64, PyInstaller one-folder build of a small PySide6 program, against
the same program without charts): QtCharts adds 3.3 MB unpacked / 1.0 MB as tar.gz (libQt6Charts, the
QtCharts binding; its QtOpenGL bindings are excluded, as the program's build already does) and imports in
about 3 ms; pyqtgraph adds 65 MB / 24 MB (numpy, OpenGL bindings) and 0.6 s of import; matplotlib's Qt
backend adds 94 MB / 37 MB and 0.46 s (and needs QtSvg). The packaged program (136 MB, goal 150 MB) can
afford only QtCharts. The price is at build time: the PySide6-Addons wheel is 175 MB to download.

The PDF and Excel reports do not use this module: they draw the same charts with reportlab.graphics and
openpyxl.chart. Without QtCharts installed (a checkout with PySide6-Essentials only) the tab shows a note
in place of each chart; the tables and the report files work as before.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QLabel, QWidget

from huifang_desktop.domain.stats import ChartKind, ChartSpec, ReportTable, StatsReport

PALETTE = ("#2f6fb0", "#e07b28", "#3f9b5a", "#b8433f", "#7a5aa6")
MIN_HEIGHT = 260


def charts_available() -> bool:
    try:
        import PySide6.QtCharts  # noqa: F401
    except ImportError:
        return False
    return True


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _nice_max(top: float) -> float:
    if top <= 0:
        return 1.0
    step = 1.0
    while step * 10 < top:
        step *= 10
    for m in (1, 2, 2.5, 5, 10):
        if m * step >= top:
            return m * step * (1.1 if m * step == top else 1.0)
    return top


def chart_widget(report: StatsReport, spec: ChartSpec, parent: QWidget | None = None) -> QWidget:
    """A ``QChartView`` of ``spec`` (line or bar chart, legend below); a note when QtCharts is missing."""
    try:
        from PySide6.QtCharts import QChart, QChartView
    except ImportError:
        return _missing_charts_note(spec, parent)
    table = report.chart_table(spec)
    categories = [str(r[spec.category_column]) for r in table.rows]
    scale = 100.0 if spec.percent else 1.0
    chart = QChart()
    chart.setTitle(spec.title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.setMargins(QMargins(4, 4, 4, 4))
    axis_x, axis_y = _add_axes(chart, spec, categories)
    if spec.kind is ChartKind.LINE:
        top = _add_lines(chart, spec, table, axis_x, axis_y, scale)
    else:
        top = _add_bars(chart, spec, table, axis_x, axis_y, scale)
    axis_y.setRange(0.0, 100.0 if spec.percent else _nice_max(top))
    if not spec.percent:
        axis_y.applyNiceNumbers()
    view = QChartView(chart, parent)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(MIN_HEIGHT)
    view.setToolTip(spec.title)
    return view


def _missing_charts_note(spec: ChartSpec, parent: QWidget | None) -> QLabel:
    """The note shown in place of a chart when QtCharts (PySide6-Addons) is not installed."""
    note = QLabel(parent)
    note.setText(
        QCoreApplication.translate(
            "StatsTab",
            "{0}：显示图表需要 PySide6-Addons（QtCharts）；导出的 Excel 和 PDF 报表中的图表不受影响。",
        ).format(spec.title)
    )
    note.setWordWrap(True)
    note.setMinimumHeight(MIN_HEIGHT // 3)
    return note


def _add_axes(chart: Any, spec: ChartSpec, categories: list[str]) -> tuple[Any, Any]:
    """The category axis (below; slanted labels when many or long) and the value axis (left)."""
    from PySide6.QtCharts import QBarCategoryAxis, QValueAxis

    axis_x = QBarCategoryAxis()
    axis_x.append(categories or [""])
    if len(categories) > 6 or any(len(c) > 6 for c in categories):
        axis_x.setLabelsAngle(-45)  # twelve months (2026-10) or long names stay readable
        axis_x.setTruncateLabels(False)
    axis_y = QValueAxis()
    axis_y.setLabelFormat("%.0f%%" if spec.percent else "%.0f")
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    return axis_x, axis_y


def _add_lines(
    chart: Any, spec: ChartSpec, table: ReportTable, axis_x: Any, axis_y: Any, scale: float
) -> float:
    """One line per series column (a gap where a value is missing); returns the highest value drawn."""
    from PySide6.QtCharts import QLineSeries

    top = 0.0
    for k, column in enumerate(spec.series_columns):
        series = QLineSeries()
        series.setName(table.headers[column])
        series.setPointsVisible(True)
        pen = series.pen()
        pen.setColor(QColor(PALETTE[k % len(PALETTE)]))
        pen.setWidthF(2.0)
        series.setPen(pen)
        for i, row in enumerate(table.rows):
            value = _number(row[column])
            if value is not None:  # a month without plans is a gap, not a zero
                series.append(float(i), value * scale)
                top = max(top, value * scale)
        chart.addSeries(series)
        series.attachAxis(axis_x)
        series.attachAxis(axis_y)
    return top


def _add_bars(
    chart: Any, spec: ChartSpec, table: ReportTable, axis_x: Any, axis_y: Any, scale: float
) -> float:
    """One bar set per series column (a missing value is a zero bar); returns the highest value drawn."""
    from PySide6.QtCharts import QBarSeries, QBarSet

    top = 0.0
    bars = QBarSeries()
    for k, column in enumerate(spec.series_columns):
        bar_set = QBarSet(table.headers[column])
        bar_set.setColor(QColor(PALETTE[k % len(PALETTE)]))
        for row in table.rows:
            value = _number(row[column]) or 0.0
            bar_set.append(value * scale)
            top = max(top, value * scale)
        bars.append(bar_set)
    chart.addSeries(bars)
    bars.attachAxis(axis_x)
    bars.attachAxis(axis_y)
    return top


__all__ = ["chart_widget", "charts_available"]
