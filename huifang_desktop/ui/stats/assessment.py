"""统计 → 考核: the chosen month's 考核 — each person's line on top, the 考核明细 (every charged event with the
plan, record, customer or entry behind it) below, for the selected person or for everyone.

The manager confirms (审定) the month once its ledger deadline has passed; a confirmed month is final (there is
no 撤回): a correction is a 考核更正 with a reason, entered onto the next month. The manager also charges the
graded events of *002 制度9* here (登记考核). 打开来源 opens the customer file or the visit record an event came
from; 打印考核明细 previews the two tables (print or save as PDF). The dialogs are in :mod:`.assessment_entry`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.stats import ChargedEvent, Period, PeriodKind, ReportTable, StatsReport
from huifang_desktop.services import stats as stats_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.ui.common.print_preview import PrintPreviewDialog, preview_document
from huifang_desktop.ui.common.progress import ProgressTask, run_with_progress
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.stats.models import ReportTableModel

OK_STYLE = "color: #237804;"
ERROR_STYLE = "color: #d9363e;"
LOCKED_STYLE = "color: #237804; font-weight: bold;"
TAMPERED_STYLE = "color: #d9363e; font-weight: bold;"

#: the sources the window can open: a plan's or customer's file, a visit record's form
OPENABLE = ("visit_plan", "customer", "visit_record")


def table_view(model: ReportTableModel, *, multi: bool = True) -> Any:
    from PySide6.QtWidgets import QHeaderView

    view = record_table(model, multi=multi)  # rows copied out together
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setMinimumSectionSize(64)
    header.setStretchLastSection(False)
    return view


class AssessmentPage(QWidget):
    """考核 of the chosen month (see the module doc)."""

    confirmed = Signal()  # the month changed (confirmed, an entry added): the tab reloads

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.view: stats_service.AssessmentView | None = None
        self.report: StatsReport | None = None
        self.month: Period | None = None
        self.password_dialog: Any = None  # 签字确认, while open
        self.entry_dialog: Any = None  # 登记考核 / 考核更正, while open
        self.source_dialog: Any = None  # the customer file opened from an event
        self.preview: PrintPreviewDialog | None = None
        self.task: ProgressTask | None = None
        self.shown_events: tuple[ChargedEvent, ...] = ()  # the 考核明细 rows, in order
        self._build_views()
        self._build_buttons()
        self._lay_out()
        self._connect()
        self.manager = can(ctx.user.role, Permission.CONFIRM_ASSESSMENT)
        for w in (self.comment, self.confirm_button, self.grade_button, self.adjust_button):
            w.setVisible(self.manager)

    # --- layout: the widgets, named and placed -------------------------------------------------------------
    def _build_views(self) -> None:
        """The hint (a month not chosen), the clerks' table, the rules line and the 考核明细 list."""
        self.stack = QStackedWidget()
        self.hint = QLabel(self.tr("考核按月进行：请在上方选择“月度”和月份。"))
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.model = ReportTableModel(self)
        self.table = table_view(self.model, multi=False)
        self.rules = QLabel()
        self.rules.setWordWrap(True)
        self.rules.setStyleSheet("color: #595959;")
        self.events_title = QLabel()
        self.events_title.setStyleSheet("font-weight: bold;")
        self.events_model = ReportTableModel(self)
        self.events = table_view(self.events_model)

    def _build_buttons(self) -> None:
        self.open_button = QPushButton(self.tr("打开来源…"))
        self.open_button.setToolTip(self.tr("打开所选考核项目的客户档案或回访记录（也可双击该行）"))
        self.print_button = QPushButton(self.tr("打印考核明细…"))
        self.print_button.setToolTip(self.tr("预览本月考核表和考核明细（可打印或另存为 PDF）"))
        self.grade_button = QPushButton(self.tr("登记考核…"))
        self.grade_button.setToolTip(self.tr("按制度登记一项考核（如服务态度不佳），须写明原因"))
        self.adjust_button = QPushButton(self.tr("考核更正…"))
        self.adjust_button.setToolTip(self.tr("已审定的月份不再改变；更正须写明原因，记入下一个未审定的月份"))
        self.comment = QLineEdit()
        self.comment.setPlaceholderText(self.tr("审定意见（可不填）"))
        self.confirm_button = QPushButton(self.tr("确认考核"))
        self.confirm_button.setToolTip(
            self.tr("审定后该月考核冻结：此后的修改、导入、重新排计划都不再改变它")
        )
        self.message = QLabel()
        self.message.setWordWrap(True)

    def _lay_out(self) -> None:
        """The clerks over the events in a splitter, the 审定 row and the message; the hint as the other page."""
        event_actions = QHBoxLayout()
        event_actions.addWidget(self.open_button)
        event_actions.addWidget(self.print_button)
        event_actions.addStretch(1)
        event_actions.addWidget(self.grade_button)
        event_actions.addWidget(self.adjust_button)
        actions = QHBoxLayout()
        actions.addWidget(self.comment, 2)
        actions.addWidget(self.confirm_button)
        actions.addStretch(1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.rules)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.events_title)
        bottom_layout.addWidget(self.events, 1)
        bottom_layout.addLayout(event_actions)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        body = QWidget()
        inner = QVBoxLayout(body)
        inner.addWidget(self.status)
        inner.addWidget(splitter, 1)
        inner.addLayout(actions)
        inner.addWidget(self.message)
        self.stack.addWidget(self.hint)
        self.stack.addWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    # --- behaviour ---------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.table.selectionModel().selectionChanged.connect(self._clerk_selected)
        self.events.doubleClicked.connect(lambda _index: self.open_source())
        self.events.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.open_button.clicked.connect(self.open_source)
        self.print_button.clicked.connect(self.print_preview)
        self.grade_button.clicked.connect(self.add_graded)
        self.adjust_button.clicked.connect(self.add_adjustment)
        self.confirm_button.clicked.connect(self.confirm)

    # --- showing --------------------------------------------------------------------------------------------
    def show_assessment(
        self, report: StatsReport | None, view: stats_service.AssessmentView | None, *, pending: bool = False
    ) -> None:
        """``pending``: the month's assessment is still being counted (it comes with the second step)."""
        self.view, self.report = view, report
        self.month = view.month if view is not None else None
        if view is None or report is None:
            monthly = report is not None and report.period.kind is PeriodKind.MONTH
            self.hint.setText(
                self.tr("正在统计考核…")
                if pending and monthly
                else self.tr("考核按月进行：请在上方选择“月度”和月份。")
            )
            self.stack.setCurrentIndex(0)
            self.model.set_table(None)
            self.events_model.set_table(None)
            self.shown_events = ()
            return
        self.stack.setCurrentIndex(1)
        table = _table(report, "assessment")
        self.model.set_table(table)
        self.table.resizeColumnsToContents()
        self.rules.setText(table.note if table is not None else "")
        self._show_events(None)
        label = view.month.label
        if view.locked:
            self.status.setText(
                self.tr("{0}考核：已由{1}于 {2} 审定，已冻结（{3}）。更正请用“考核更正”，记入下月。").format(
                    label,
                    view.confirmed_by,
                    view.confirmed_at.strftime("%Y-%m-%d %H:%M") if view.confirmed_at else "",
                    view.integrity.value,
                )
            )
            self.status.setStyleSheet(
                TAMPERED_STYLE if view.integrity.value == "签字后被修改" else LOCKED_STYLE
            )
        else:
            self.status.setText(
                self.tr("{0}考核：{1}。月度台账上交期限 {2}，期限过后由公司经理审定。").format(
                    label, view.status.value, view.deadline.strftime("%Y-%m-%d")
                )
            )
            self.status.setStyleSheet("")
        self.confirm_button.setEnabled(view.can_confirm)
        self.comment.setEnabled(view.can_confirm)
        self.grade_button.setEnabled(self.manager and not view.locked)
        self.adjust_button.setEnabled(view.can_adjust and view.locked)
        self._update_buttons()

    def selected_clerk(self) -> int | None:
        """The person whose line is selected (None: nobody, or the 合计 row)."""
        if self.view is None:
            return None
        rows = self.table.selectionModel().selectedRows()
        clerks = self.view.assessment.clerks
        if not rows or not 0 <= rows[0].row() < len(clerks):
            return None
        return clerks[rows[0].row()].clerk_id

    def select_clerk(self, name: str) -> None:
        for r in range(self.model.rowCount()):
            if self.model.data(self.model.index(r, 0)) == name:
                self.table.selectRow(r)
                return

    def _clerk_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_events(self.selected_clerk())

    def _show_events(self, clerk_id: int | None) -> None:
        """The 考核明细 of one person (``clerk_id``) or of everyone."""
        table = _table(self.report, "assessment_events") if self.report is not None else None
        events = self.view.assessment.events if self.view is not None else ()
        if table is None or len(table.rows) != len(events):
            self.events_model.set_table(table)
            self.shown_events = ()
            self.events_title.setText(table.title if table is not None else "")
            return
        keep = [i for i, e in enumerate(events) if clerk_id is None or e.owner_id == clerk_id]
        self.shown_events = tuple(events[i] for i in keep)
        self.events_model.set_table(replace(table, rows=tuple(table.rows[i] for i in keep)))
        self.events.resizeColumnsToContents()
        name = (
            next((c.clerk for c in self.view.assessment.clerks if c.clerk_id == clerk_id), "")
            if self.view is not None and clerk_id is not None
            else ""
        )
        self.events_title.setText(
            self.tr("考核明细：{0}（{1} 项）").format(name, len(keep))
            if name
            else self.tr("考核明细：全部（{0} 项；选中上表的一行只看此人）").format(len(keep))
        )
        self._update_buttons()

    def current_event(self) -> ChargedEvent | None:
        rows = self.events.selectionModel().selectedRows()
        if not rows or not 0 <= rows[0].row() < len(self.shown_events):
            return None
        return self.shown_events[rows[0].row()]

    def _update_buttons(self) -> None:
        event = self.current_event()
        self.open_button.setEnabled(
            event is not None and event.source in OPENABLE and event.source_id is not None
        )
        self.print_button.setEnabled(self.report is not None and self.view is not None)

    def _say(self, text: str, style: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(style)

    # --- the source of an event -----------------------------------------------------------------------------
    def open_source(self) -> None:
        """打开来源: a plan's or a customer's event opens the customer file (the plan is listed there); a visit
        record's opens its filled form in the print preview."""
        event = self.current_event()
        if event is None or event.source not in OPENABLE or event.source_id is None:
            self._say(
                self.tr("请先在考核明细中选择一项来自回访计划、回访记录或客户档案的考核。"), ERROR_STYLE
            )
            return
        try:
            if event.source == "visit_record":
                from huifang_desktop.services import printing as printing_service

                self.preview = preview_document(
                    self, self.ctx, printing_service.visit_record_pdf(self.ctx, event.source_id)
                )
                return
            from huifang_desktop.services import visits as visit_service
            from huifang_desktop.ui.customers.dialog import CustomerDialog

            customer_id = (
                visit_service.get_plan(self.ctx, event.source_id).customer_id
                if event.source == "visit_plan"
                else event.source_id
            )
            dialog = self.source_dialog = CustomerDialog(self.ctx, customer_id, self)
        except (ServiceError, ValidationError) as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        dialog.finished.connect(lambda _r: setattr(self, "source_dialog", None))
        dialog.open()

    # --- printing ---------------------------------------------------------------------------------------------
    def assessment_report(self) -> StatsReport | None:
        """The month's report with only the 考核 table and the 考核明细 shown (one person's when selected)."""
        if self.report is None or self.view is None:
            return None
        main, details = _table(self.report, "assessment"), self.events_model.table
        tables = tuple(t for t in (main, details) if t is not None)
        return replace(self.report, tables=tables, charts=(), notes=())

    def print_preview(self) -> None:
        report = self.assessment_report()
        if report is None or (self.task is not None and self.task.is_running()):
            return
        ctx = self.ctx

        def work(progress: Any, cancelled: Any) -> Any:
            return stats_service.report_pdf(ctx, report, progress=progress, cancelled=cancelled)

        self.print_button.setEnabled(False)
        self.task = run_with_progress(
            self,
            self.tr("打印考核明细"),
            self.tr("正在生成报表…"),
            work,
            self._preview_ready,
            self._print_failed,
            self._update_buttons,
        )

    def _preview_ready(self, doc: Any) -> None:
        self._update_buttons()
        self.preview = preview_document(self, self.ctx, doc)

    def _print_failed(self, exc: Exception) -> None:
        self._update_buttons()
        self._say(self.tr("无法打印：{0}").format(exc), ERROR_STYLE)

    # --- the manager's entries ----------------------------------------------------------------------------
    def _open_entry(self, adjustment: bool) -> None:
        if self.view is None or self.month is None:
            return
        from huifang_desktop.ui.stats.assessment_entry import AdjustmentDialog, GradedEventDialog

        clerks = [(c.clerk_id, c.clerk) for c in self.view.assessment.clerks]
        chosen = self.selected_clerk()
        if adjustment:
            dialog: Any = AdjustmentDialog(self.ctx, self.month, clerks, chosen, self)
        else:
            dialog = GradedEventDialog(
                self.ctx, self.month, self.view.assessment.rules.graded, clerks, chosen, self
            )
        self.entry_dialog = dialog

        def done(accepted: bool) -> None:
            self.entry_dialog = None
            dialog.deleteLater()
            if accepted and dialog.saved is not None:
                row = dialog.saved
                self._say(
                    self.tr("已登记：{0} {1}，{2} 元，记入 {3} 的考核。").format(
                        row.clerk, row.label, row.amount, row.month
                    ),
                    OK_STYLE,
                )
                self.confirmed.emit()

        dialog.accepted.connect(lambda: done(True))
        dialog.rejected.connect(lambda: done(False))
        dialog.open()

    def add_graded(self) -> None:
        """登记考核 (002 制度9): a graded event of this month against a person."""
        self._open_entry(False)

    def add_adjustment(self) -> None:
        """考核更正 of this confirmed month, entered onto the next month that is not confirmed."""
        self._open_entry(True)

    # --- confirming -------------------------------------------------------------------------------------------
    def confirm(self) -> None:
        """确认考核 is signed like a review sign-off: the manager's password is asked each time (签字确认)."""
        if self.month is None:
            return
        from huifang_desktop.ui.review.dialogs import PasswordDialog

        month, comment = self.month, self.comment.text()
        version = self.view.version if self.view else None
        dialog = self.password_dialog = PasswordDialog(
            self, self.tr("确认{0}考核").format(month.label), ctx=self.ctx
        )

        def done(accepted: bool) -> None:
            self.password_dialog = None
            dialog.deleteLater()
            if accepted:
                self._confirm_with(month, comment, version, dialog.password.text())

        dialog.accepted.connect(lambda: done(True))
        dialog.rejected.connect(lambda: done(False))
        dialog.open()

    def _confirm_with(self, month: Period, comment: str, version: int | None, password: str) -> None:
        try:
            view = stats_service.confirm_assessment(self.ctx, month, comment, version, password=password)
        except (ServiceError, ValidationError) as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        self.comment.clear()
        self._say(
            self.tr("已审定{0}考核：{1} 次，{2} 元。该月考核已冻结。").format(
                view.month.label, view.assessment.count, view.assessment.amount
            ),
            OK_STYLE,
        )
        self.confirmed.emit()


def _table(report: StatsReport, key: str) -> ReportTable | None:
    try:
        return report.table(key)
    except KeyError:
        return None


__all__ = ["AssessmentPage", "table_view"]
