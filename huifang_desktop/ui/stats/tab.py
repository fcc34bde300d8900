"""统计 tab: pick a period (month, quarter, year, custom) and a grouping; the figures, the charts and, for a
month, the 考核 assessment appear; export the 月度回访统计表 / 季度客户服务报告 as Excel or PDF, or preview it.

Everything the tab shows comes from one :func:`huifang_desktop.services.stats.build_report`, computed in a
worker thread (the service counts in SQL; a month of a big office takes well under a second). Exports and
the print preview run with a progress dialog (``run_with_progress``). Nothing here opens a modal box: errors
and results appear in the notice line under the picker.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QThread, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.stats import (
    Period,
    PeriodKind,
    StatsReport,
    custom_period,
    month_period,
    period_containing,
    quarter_period,
    year_period,
)
from huifang_desktop.services import stats as stats_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.ui.common.export_target import ask_export_path, say_exported
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated
from huifang_desktop.ui.common.print_preview import PrintPreviewDialog, preview_document
from huifang_desktop.ui.common.progress import ProgressTask, run_with_progress
from huifang_desktop.ui.common.worker import start_worker, wait_for_threads
from huifang_desktop.ui.stats.assessment import ERROR_STYLE, OK_STYLE, AssessmentPage, table_view
from huifang_desktop.ui.stats.charts import chart_widget
from huifang_desktop.ui.stats.models import ReportTableModel

# page → tables shown on it (report table keys), top to bottom
PAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("summary", QT_TRANSLATE_NOOP("StatsPage", "概况"), ("summary",)),
    ("visits", QT_TRANSLATE_NOOP("StatsPage", "回访"), ("groups", "rules")),
    ("satisfaction", QT_TRANSLATE_NOOP("StatsPage", "满意度"), ("satisfaction", "results", "types")),
    (
        "complaints",
        QT_TRANSLATE_NOOP("StatsPage", "投诉"),
        ("complaint_categories", "complaint_severities", "complaint_states"),
    ),
    ("trend", QT_TRANSLATE_NOOP("StatsPage", "趋势"), ("trend",)),
)


class PeriodPicker(QWidget):
    """月度 / 季度 / 年度 / 自定义 with the matching fields; :meth:`period` gives the chosen Period."""

    changed = Signal()

    def __init__(self, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = QComboBox()
        for kind in PeriodKind:
            self.kind.addItem(translated("Period", kind.value), kind.value)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setSuffix(self.tr(" 年"))
        self.month = QComboBox()
        for m in range(1, 13):
            self.month.addItem(self.tr("{0} 月").format(m), m)
        self.quarter = QComboBox()
        for q in range(1, 5):
            self.quarter.addItem(self.tr("第 {0} 季度").format(q), q)
        self.start = QDateEdit()
        self.end = QDateEdit()
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.to_label = QLabel(self.tr("至"))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.kind, self.year, self.month, self.quarter, self.start, self.to_label, self.end):
            row.addWidget(w)
        self.set_period(period_containing(PeriodKind.MONTH, today).previous())  # the last full month
        self.kind.currentIndexChanged.connect(self._kind_changed)
        for w in (self.year, self.month, self.quarter):
            signal = w.valueChanged if isinstance(w, QSpinBox) else w.currentIndexChanged
            signal.connect(self.changed)
        self.start.dateChanged.connect(self.changed)
        self.end.dateChanged.connect(self.changed)

    def _kind_changed(self) -> None:
        self._show_fields()
        self.changed.emit()

    def _show_fields(self) -> None:
        kind = PeriodKind(self.kind.currentData())
        self.year.setVisible(kind is not PeriodKind.CUSTOM)
        self.month.setVisible(kind is PeriodKind.MONTH)
        self.quarter.setVisible(kind is PeriodKind.QUARTER)
        for w in (self.start, self.to_label, self.end):
            w.setVisible(kind is PeriodKind.CUSTOM)

    def set_period(self, period: Period) -> None:
        for w in (self.kind, self.year, self.month, self.quarter, self.start, self.end):
            w.blockSignals(True)
        self.kind.setCurrentIndex(self.kind.findData(period.kind.value))
        self.year.setValue(period.start.year)
        self.month.setCurrentIndex(period.start.month - 1)
        self.quarter.setCurrentIndex((period.start.month - 1) // 3)
        self.start.setDate(QDate(period.start.year, period.start.month, period.start.day))
        self.end.setDate(QDate(period.end.year, period.end.month, period.end.day))
        for w in (self.kind, self.year, self.month, self.quarter, self.start, self.end):
            w.blockSignals(False)
        self._show_fields()

    def period(self) -> Period:
        kind = PeriodKind(self.kind.currentData())
        year = self.year.value()
        if kind is PeriodKind.MONTH:
            return month_period(year, int(self.month.currentData()))
        if kind is PeriodKind.QUARTER:
            return quarter_period(year, int(self.quarter.currentData()))
        if kind is PeriodKind.YEAR:
            return year_period(year)
        start, end = self.start.date(), self.end.date()
        return custom_period(
            date(start.year(), start.month(), start.day()), date(end.year(), end.month(), end.day())
        )


class TablesPage(QWidget):
    """One or more report tables, each under its title, with the table's note."""

    def __init__(self, keys: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keys = keys
        self.models: dict[str, ReportTableModel] = {}
        self.titles: dict[str, QLabel] = {}
        self.notes: dict[str, QLabel] = {}
        self.views: dict[str, QTableView] = {}
        layout = QVBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Vertical)
        for key in keys:
            box = QWidget()
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            title = QLabel()
            title.setStyleSheet("font-weight: bold;")
            model = ReportTableModel(self)
            view = table_view(model)
            note = QLabel()
            note.setWordWrap(True)
            note.setStyleSheet("color: #595959;")
            inner.addWidget(title)
            inner.addWidget(view, 1)
            inner.addWidget(note)
            splitter.addWidget(box)
            self.models[key], self.titles[key], self.notes[key], self.views[key] = model, title, note, view
        layout.addWidget(splitter)

    def show_report(self, report: StatsReport | None) -> None:
        for key in self.keys:
            table = None
            if report is not None:
                try:
                    table = report.table(key)
                except KeyError:
                    table = None
            self.models[key].set_table(table)
            self.titles[key].setText(table.title if table is not None else "")
            self.notes[key].setText(table.note if table is not None else "")
            self.notes[key].setVisible(bool(table is not None and table.note))
            self.views[key].resizeColumnsToContents()


class ChartsPage(QScrollArea):
    """The report's charts, two per row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.charts: list[QWidget] = []
        self._holder = QWidget()
        self._grid = QGridLayout(self._holder)
        self.setWidget(self._holder)

    def show_report(self, report: StatsReport | None) -> None:
        for w in self.charts:
            self._grid.removeWidget(w)
            w.deleteLater()
        self.charts = []
        if report is None:
            return
        for i, spec in enumerate(report.charts):
            w = chart_widget(report, spec, self._holder)
            self._grid.addWidget(w, i // 2, i % 2)
            self.charts.append(w)


class StatsTab(QWidget):
    """The 统计 tab (see the module doc)."""

    loaded = Signal()

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.report: StatsReport | None = None
        self.assessment_view: stats_service.AssessmentView | None = None
        self.load_thread: QThread | None = None
        self._threads: list[QThread] = []
        self.complete = False  # the previous period and the trend are in too
        self._pending = False  # a request is under way
        self._closing = False  # the window is closing: start no further work
        self._watched: QObject | None = None
        self.task: ProgressTask | None = None
        self.preview: PrintPreviewDialog | None = None
        self._generation = 0
        self.ask_export_path = self._ask_export_path

        self._build_ui()
        self._connect()
        self._set_busy(False)
        self._shown = False  # the first look at the tab loads it (nothing is computed at program start)

    # --- layout: the widgets, named and placed -------------------------------------------------------------
    def _build_ui(self) -> None:
        top = self._build_bar()
        self._build_pages()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.title)
        layout.addWidget(self.notice)
        layout.addWidget(self.pages, 1)

    def _build_bar(self) -> QHBoxLayout:
        """The period, the grouping, 统计 and the outputs in a row; the title and notice lines under it."""
        self.picker = PeriodPicker(self.ctx.today())
        self.group = QComboBox()
        for key, label in stats_service.GROUP_LABELS.items():
            self.group.addItem(self.tr("按{0}").format(label), key)
        self.refresh_button = QPushButton(self.tr("统计"))
        self.refresh_button.setToolTip(self.tr("按所选期间重新统计（F5）"))
        self.refresh_button.setShortcut("F5")
        self.xlsx_button = QPushButton(self.tr("导出 Excel…"))
        self.pdf_button = QPushButton(self.tr("导出 PDF…"))
        self.preview_button = QPushButton(self.tr("打印预览…"))
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("统计期间：")))
        top.addWidget(self.picker)
        top.addWidget(self.group)
        top.addWidget(self.refresh_button)
        top.addStretch(1)
        for b in (self.preview_button, self.xlsx_button, self.pdf_button):
            top.addWidget(b)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15px; font-weight: bold;")
        return top

    def _build_pages(self) -> None:
        """The tables by topic, the charts (second) and 考核."""
        self.pages = QTabWidget()
        self.table_pages: dict[str, TablesPage] = {}
        for slug, label, keys in PAGES:
            page = TablesPage(keys)
            self.table_pages[slug] = page
            self.pages.addTab(page, translated("StatsPage", label))
        self.charts_page = ChartsPage()
        self.pages.insertTab(1, self.charts_page, self.tr("图表"))
        self.assessment_page = AssessmentPage(self.ctx)
        self.pages.addTab(self.assessment_page, self.tr("考核"))

    # --- behaviour ---------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.refresh_button.clicked.connect(self.refresh)
        self.picker.changed.connect(self.refresh)
        self.group.currentIndexChanged.connect(self.refresh)
        self.xlsx_button.clicked.connect(lambda: self.export(".xlsx"))
        self.pdf_button.clicked.connect(lambda: self.export(".pdf"))
        self.preview_button.clicked.connect(self.print_preview)
        self.assessment_page.confirmed.connect(self.refresh)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._closing = False
        window = self.window()
        if window is not self and window is not self._watched:  # its closing ends our work first (below)
            window.installEventFilter(self)
            self._watched = window
        if not self._shown:
            self._shown = True
            self.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:  # the tab is a window of its own (tests, previews)
        self._window_closing()
        super().closeEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._watched and event.type() == QEvent.Type.Close:
            self._window_closing()
        return super().eventFilter(watched, event)

    def _window_closing(self) -> None:
        """The window is closing (also while another tab is shown): start nothing new and let the running
        work end — a thread is never killed, and one still running when the program exits would abort it."""
        self._closing = True
        self.wait(15_000)

    # --- loading -------------------------------------------------------------------------------------------
    def period(self) -> Period:
        return self.picker.period()

    def group_by(self) -> str:
        return str(self.group.currentData())

    def _say(self, text: str, style: str = "") -> None:
        self.notice.setText(text)
        self.notice.setStyleSheet(style)

    def _set_busy(self, busy: bool) -> None:
        ready = not busy and self.report is not None and self.complete  # exports need the whole report
        for b in (self.xlsx_button, self.pdf_button, self.preview_button):
            b.setEnabled(ready)

    def refresh(self) -> None:
        """Count the chosen period in a worker thread, in two steps: the period's own figures first (shown at
        once), then the previous period and the monthly trend; a newer request wins."""
        self._shown = True
        self._closing = False
        try:
            period = self.period()
        except ValidationError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        group = self.group_by()
        self._generation += 1
        generation = self._generation
        self._say(self.tr("正在统计{0}…").format(period.label))
        self.complete = False
        self._pending = True
        self._set_busy(True)

        def work() -> tuple[int, Any, Any, Any]:
            try:
                st = stats_service.statistics(self.ctx, period, group, complete=False)
                return generation, st, stats_service.report_from(self.ctx, st), None
            except (ServiceError, ValidationError) as exc:
                return generation, None, None, exc

        # bound methods (not lambdas): PySide then delivers the results on the GUI thread
        self._start(work, self._loaded)

    def _start(self, work: Any, done: Any) -> None:
        self._threads = [t for t in self._threads if t.isRunning()]
        self.load_thread = start_worker(self, work, done, self._crashed)
        self._threads.append(self.load_thread)

    def _show(
        self, report: StatsReport, view: stats_service.AssessmentView | None, *, pending: bool = False
    ) -> None:
        self.report, self.assessment_view = report, view
        self.title.setText(
            self.tr("{0} · {1}（{2} 至 {3}）").format(
                report.title,
                report.period.label,
                report.period.start.isoformat(),
                report.period.end.isoformat(),
            )
        )
        for page in self.table_pages.values():
            page.show_report(report)
        self.charts_page.show_report(report)
        self.assessment_page.show_assessment(report, view, pending=pending)

    def _loaded(self, result: tuple[int, Any, Any, Any]) -> None:
        generation, st, report, view = result
        if generation != self._generation:
            return  # a newer request is under way
        if report is None:
            self._failed(view)
            return
        self._show(report, None, pending=True)
        if self._closing:
            self._pending = False
            return
        self._say(self.tr("正在统计上期对比和月度趋势…"), "color: #595959;")

        def work() -> tuple[int, Any, Any, Any]:
            try:
                full = stats_service.complete_statistics(self.ctx, st)
                month = full.period.kind is PeriodKind.MONTH
                view = (
                    stats_service.assessment(self.ctx, full.period, figures=full.figures) if month else None
                )
                return generation, full, stats_service.report_from(self.ctx, full, view), view
            except (ServiceError, ValidationError) as exc:
                return generation, None, None, exc

        self._start(work, self._completed)

    def _completed(self, result: tuple[int, Any, Any, Any]) -> None:
        generation, _st, report, view = result
        if generation != self._generation:
            return
        if report is None:
            self._failed(view)
            return
        self._show(report, view)
        self.complete = True
        self._pending = False
        self._say(report.notes[-1] if report.notes else "", "color: #595959;")  # what the rates mean
        self._set_busy(False)
        self.loaded.emit()

    def _crashed(self, exc: Exception) -> None:
        self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        self.report = None
        self.complete = False
        self._pending = False
        for page in self.table_pages.values():
            page.show_report(None)
        self.charts_page.show_report(None)
        self.assessment_page.show_assessment(None, None)
        self.title.setText("")
        self._say(self.tr("无法统计：{0}").format(exc), ERROR_STYLE)
        self._set_busy(False)
        self.loaded.emit()

    def is_loading(self) -> bool:
        """True until both steps of the last request are in (or it failed)."""
        return self._pending or any(t.isRunning() for t in self._threads)

    # --- export and preview ----------------------------------------------------------------------------------
    def _ask_export_path(self, suffix: str) -> str:
        assert self.report is not None
        name = f"{self.report.title}-{self.report.period.key.replace('..', '至')}{suffix}"
        kinds = self.tr("Excel 工作簿 (*.xlsx)") if suffix == ".xlsx" else self.tr("PDF 文件 (*.pdf)")
        return ask_export_path(self, self.tr("导出{0}").format(self.report.title), name, suffix, kinds)

    def export(self, suffix: str) -> None:
        """导出 Excel… / 导出 PDF…: the report on screen, written off the GUI thread with a progress dialog."""
        report = self.report
        if report is None or (self.task is not None and self.task.is_running()):
            return
        path = self.ask_export_path(suffix)
        if not path:
            return

        def work(progress: Any, cancelled: Any) -> Path:
            if suffix == ".xlsx":
                progress(0, 1)
                out = stats_service.export_xlsx(self.ctx, report, path)
                progress(1, 1)
                return out
            stats_service.report_pdf(self.ctx, report, path, progress=progress, cancelled=cancelled)
            return Path(path)

        self._set_busy(True)
        self._say(self.tr("正在导出到 {0}…").format(path))
        self.task = run_with_progress(
            self,
            self.tr("导出{0}").format(report.title),
            self.tr("正在生成报表…"),
            work,
            self._exported,
            self._export_failed,
            self._cancelled,
        )

    def _exported(self, out: Path) -> None:
        self._set_busy(False)
        self.notice.setStyleSheet(OK_STYLE)
        say_exported(self.notice, self.tr("已导出到 {0}").format(out), out)

    def _export_failed(self, exc: Exception) -> None:
        self._set_busy(False)
        self._say(self.tr("导出失败：{0}").format(exc), ERROR_STYLE)

    def _cancelled(self) -> None:
        self._set_busy(False)
        self._say(self.tr("已取消，没有生成文件。"))

    def print_preview(self) -> None:
        """打印预览…: the PDF report made off the GUI thread, then the preview (print / save as PDF)."""
        report = self.report
        if report is None or (self.task is not None and self.task.is_running()):
            return

        def work(progress: Any, cancelled: Any) -> Any:
            return stats_service.report_pdf(self.ctx, report, progress=progress, cancelled=cancelled)

        self._set_busy(True)
        self.task = run_with_progress(
            self,
            self.tr("打印预览"),
            self.tr("正在生成报表…"),
            work,
            self._preview_ready,
            self._export_failed,
            self._cancelled,
        )

    def _preview_ready(self, doc: Any) -> None:
        self._set_busy(False)
        self._say("")
        self.preview = preview_document(self, self.ctx, doc)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the background work ended (tests; a window closing under a running task)."""
        return wait_for_threads(self, msecs)


__all__ = ["AssessmentPage", "ChartsPage", "PeriodPicker", "StatsTab", "TablesPage"]
