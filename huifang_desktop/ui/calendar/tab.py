"""回访日历 tab: month / week / day views of planned, done and overdue visits; today's and overdue list."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.visits import can_change_plan, change_needs_supervisor
from huifang_desktop.services import policy
from huifang_desktop.services import printing as printing_service
from huifang_desktop.services import users as user_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.services.visits import RECORD_RETURNED, PlanRow
from huifang_desktop.ui.calendar.models import DayGridModel, PlanTableModel
from huifang_desktop.ui.calendar.record_dialog import VisitRecordDialog
from huifang_desktop.ui.common.feedback import show_error
from huifang_desktop.ui.common.print_preview import PrintPreviewDialog, preview_document
from huifang_desktop.ui.common.progress import CancelledFn, ProgressFn, ProgressTask, run_with_progress
from huifang_desktop.ui.common.tables import record_table

MONTH, WEEK, DAY = "month", "week", "day"
SCOPE_MINE, SCOPE_TEAM = "mine", "team"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


class CalendarTab(QWidget):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.today = ctx.today()
        self.anchor = self.today  # the day the view is built around
        self.selected: date | None = None  # a day picked in the grid; None: today + overdue
        self.mode = MONTH
        self.preview: PrintPreviewDialog | None = None
        self.dialog: QDialog | None = None  # a returned record being corrected (open(), not exec())
        self.print_task: ProgressTask | None = None
        self._build_ui()
        self._connect()
        self.refresh()

    # --- layout (widgets only; the behaviour is wired in _connect) -------------------------------------
    def _build_ui(self) -> None:
        view_box = self._build_controls()
        self._build_views()
        self._lay_out(view_box)

    def _build_controls(self) -> QHBoxLayout:
        """The scope, the month / week / day switch, the period arrows and the labels above the grid."""
        self.scope = QComboBox()
        self.scope.setObjectName("scope")
        self.scope.addItem(self.tr("我的回访"), SCOPE_MINE)
        self.scope.addItem(self.tr("全组"), SCOPE_TEAM)
        for u in user_service.clerks(self.ctx):
            if u.id != self.ctx.user.id:
                self.scope.addItem(u.display_name, u.id)
        if can(self.ctx.user.role, Permission.WORK_FOR_OTHERS):  # supervisors and managers start on the team
            self.scope.setCurrentIndex(1)
        self.views = QButtonGroup(self)
        view_box = QHBoxLayout()
        for mode, label in ((MONTH, self.tr("月")), (WEEK, self.tr("周")), (DAY, self.tr("日"))):
            b = QPushButton(label)
            b.setCheckable(True)
            b.setProperty("mode", mode)
            b.setChecked(mode == MONTH)
            self.views.addButton(b)
            view_box.addWidget(b)
        self.prev_button = QPushButton("◀")
        self.today_button = QPushButton(self.tr("今天"))
        self.next_button = QPushButton("▶")
        self.period_label = QLabel()
        self.period_label.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.rates_label = QLabel()
        self.rates_label.setObjectName("rates")
        self.calendar_note = QLabel()
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setStyleSheet("color: #d46b08;")
        self.calendar_note.setStyleSheet("color: #8c8c8c;")

        return view_box

    def _build_views(self) -> None:
        """The day grid, the plan list and the buttons under it."""
        self.grid_model = DayGridModel(self)
        self.grid = QTableView()
        self.grid.setObjectName("dayGrid")
        self.grid.setModel(self.grid_model)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.verticalHeader().setVisible(False)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setAcceptDrops(True)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.grid.setDropIndicatorShown(True)
        self.grid.setWordWrap(True)

        self.list_title = QLabel()
        self.list_title.setStyleSheet("font-weight: bold;")
        self.plans = PlanTableModel(self)
        self.list = record_table(self.plans, "planList")
        self.list.setDragEnabled(True)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.list.horizontalHeader().setStretchLastSection(True)
        for col, width in ((0, 90), (1, 56), (2, 84), (3, 200), (4, 40), (5, 120), (6, 70), (7, 44), (8, 64)):
            self.list.setColumnWidth(col, width)
        self.record_button = QPushButton(self.tr("填写回访记录(&R)"))
        self.move_button = QPushButton(self.tr("改期…"))
        self.cancel_button = QPushButton(self.tr("取消计划…"))
        self.close_chain_button = QPushButton(self.tr("结束再次回访…"))
        self.report_button = QPushButton(self.tr("回访报告表…"))
        self.report_button.setToolTip(self.tr("汇总昨天（或所选期间）的回访，提交主管审阅"))
        self.print_blank_button = QPushButton(self.tr("打印空白回访记录表…"))
        self.print_blank_button.setToolTip(
            self.tr(
                "所选计划的回访记录表：预印客户、联系人和电话，上门回访时请客户签字；"
                "已回访的计划打印填好的记录"
            )
        )
        self.print_day_button = QPushButton(self.tr("批量打印当日计划…"))
        self.print_day_button.setToolTip(
            self.tr("所选日期（未选则今天）的每个回访计划一份回访记录表，合成一个 PDF")
        )

    def _lay_out(self, view_box: QHBoxLayout) -> None:
        top = QHBoxLayout()
        top.addWidget(self.scope)
        top.addLayout(view_box)
        top.addWidget(self.prev_button)
        top.addWidget(self.today_button)
        top.addWidget(self.next_button)
        top.addWidget(self.period_label)
        top.addStretch(1)
        top.addWidget(self.rates_label)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.list_title)
        right_layout.addWidget(self.notice)
        right_layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        for b in (self.record_button, self.move_button, self.cancel_button, self.close_chain_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.print_blank_button)
        buttons.addWidget(self.print_day_button)
        buttons.addWidget(self.report_button)
        right_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.grid)
        splitter.addWidget(right)
        splitter.setSizes([560, 720])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.calendar_note)

    # --- behaviour ---------------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.scope.currentIndexChanged.connect(self.refresh)
        self.views.buttonClicked.connect(lambda b: self.set_mode(b.property("mode")))
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.today_button.clicked.connect(self.go_today)
        self.grid.clicked.connect(self._day_clicked)
        self.grid_model.plans_dropped.connect(self._plans_dropped)
        self.list.doubleClicked.connect(lambda _i: self.record_current())
        self.record_button.clicked.connect(self.record_current)
        self.move_button.clicked.connect(self.move_current)
        self.cancel_button.clicked.connect(self.cancel_current)
        self.close_chain_button.clicked.connect(self.close_chain_current)
        self.report_button.clicked.connect(self.write_report)
        self.print_blank_button.clicked.connect(self.print_blank_current)
        self.print_day_button.clicked.connect(self.print_day)
        enter = QAction(self)
        enter.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        enter.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        enter.triggered.connect(self.record_current)
        self.list.addAction(enter)
        self.list.selectionModel().selectionChanged.connect(lambda *_a: self._update_actions())

    def _update_actions(self) -> None:
        """改期 and 取消计划 only for a plan the user may change (domain.visits.can_change_plan: pending, their
        own or they may reassign, and past its due day only for who may edit overdue plans — a miss stands)."""
        plan = self.current_plan()
        may = plan is not None and can_change_plan(
            self.ctx.user.role,
            plan.state,
            plan.due,
            self.today,
            own=plan.owner_id in (None, self.ctx.user.id),
        )
        note = ""
        if plan is not None and plan.state == "待回访" and change_needs_supervisor(plan.due, self.today):
            note = (
                self.tr("计划已过期：改期或取消须说明原因，未按期回访照常计入考核")
                if may
                else self.tr("计划已过期：只有主管才能改期或取消，未按期回访照常计入考核")
            )
        for button in (self.move_button, self.cancel_button):
            button.setEnabled(may)
            button.setToolTip(note)
        self._update_close_chain(plan)

    def _update_close_chain(self, plan: PlanRow | None) -> None:
        """结束再次回访 (000 §1.9: visit again until reached, or a supervisor ends the chain with a reason):
        only a pending later attempt (第2次起), only for who may reassign (services.visits.close_chain)."""
        supervisor = can(self.ctx.user.role, Permission.REASSIGN)
        follow_up = plan is not None and plan.state == "待回访" and plan.attempt > 1
        self.close_chain_button.setEnabled(supervisor and follow_up)
        if not supervisor:
            tip = self.tr("只有主管才能结束再次回访（须说明原因）")
        elif not follow_up:
            tip = self.tr("所选计划不是待回访的再次回访（第2次起）；第一次回访请用“取消计划”")
        else:
            tip = self.tr("结束这条再次回访：取消本次计划、不再安排下一次，须说明原因，记入审计日志")
        self.close_chain_button.setToolTip(tip)

    # --- scope and period -----------------------------------------------------------------------------
    def _owner_and_team(self) -> tuple[int | None, bool]:
        data = self.scope.currentData()
        if data == SCOPE_MINE:
            return self.ctx.user.id or None, False
        if data == SCOPE_TEAM:
            return None, True
        return int(data), False

    def period(self) -> tuple[date, date, date, int]:
        """(first shown day, last shown day, first day of the grid, weeks in the grid)."""
        a = self.anchor
        if self.mode == MONTH:
            first = a.replace(day=1)
            nxt = (first + timedelta(days=32)).replace(day=1)
            grid_first = first - timedelta(days=first.weekday())
            weeks = ((nxt - grid_first).days + 6) // 7
            return first, nxt - timedelta(days=1), grid_first, weeks
        monday = a - timedelta(days=a.weekday())
        if self.mode == WEEK:
            return monday, monday + timedelta(days=6), monday, 1
        return a, a, monday, 1

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if mode == DAY:
            self.selected = self.anchor
        self.refresh()

    def step(self, direction: int) -> None:
        if self.mode == MONTH:
            month = self.anchor.month - 1 + direction
            self.anchor = date(self.anchor.year + month // 12, month % 12 + 1, 1)
        else:
            self.anchor += timedelta(days=7 if self.mode == WEEK else 1) * direction
            if self.mode == DAY:
                self.selected = self.anchor
        self.refresh()

    def go_today(self) -> None:
        self.anchor = self.today
        self.selected = self.today if self.mode == DAY else None
        self.refresh()

    def refresh(self) -> None:
        self.notice.clear()
        start, end, grid_first, weeks = self.period()
        owner, team = self._owner_and_team()
        grid_last = grid_first + timedelta(days=weeks * 7 - 1)
        counts = visit_service.day_counts(self.ctx, grid_first, grid_last, owner, team=team)
        self.grid_model.set_days(
            grid_first, weeks, start.month if self.mode == MONTH else 0, counts, self.today
        )
        self._show_calendar_coverage(grid_first, grid_last)
        if self.mode == MONTH:
            self.period_label.setText(self.tr("{0}年{1}月").format(start.year, start.month))
        elif self.mode == WEEK:
            self.period_label.setText(f"{start.isoformat()} – {end.isoformat()}")
        else:
            self.period_label.setText(start.isoformat())
        rates = visit_service.rates(self.ctx, start, end)
        if rates:
            r = rates[0]
            target = self.tr("　目标 {0}").format(_pct(r.target)) if r.target is not None else ""
            self.rates_label.setText(
                self.tr("计划 {0}　完成 {1}　逾期 {2}　回访率 {3}　及时率 {4}{5}").format(
                    r.planned, r.done, r.overdue, _pct(r.visit_rate), _pct(r.on_time_rate), target
                )
            )
        else:
            self.rates_label.setText(self.tr("本期没有回访计划"))
        self._load_list()

    def _load_list(self) -> None:
        owner, team = self._owner_and_team()
        if self.selected is not None:
            rows = visit_service.list_plans(
                self.ctx, start=self.selected, end=self.selected, owner_id=owner, team=team
            )
            self.list_title.setText(self.tr("{0} 的回访（{1}）").format(self.selected.isoformat(), len(rows)))
            index = self.grid_model.index_of(self.selected)
            if index.isValid():
                self.grid.setCurrentIndex(index)
        else:  # today's and overdue visits, and visited ones whose record came back to be corrected
            year = timedelta(days=365)
            rows = visit_service.list_plans(
                self.ctx,
                start=self.today - year,
                end=self.today,
                owner_id=owner,
                team=team,
                states={"待回访"},
            )
            due_today = sum(1 for r in rows if r.due == self.today)
            # every returned record of mine, however old: the same items as 审阅's 我的退回 (visit records)
            returned = visit_service.list_plans(
                self.ctx, start=date.min, end=date.max, owner_id=owner, team=team, states={RECORD_RETURNED}
            )
            title = self.tr("今日待回访 {0}，逾期 {1}").format(due_today, len(rows) - due_today)
            if returned:
                title += self.tr("，退回待修改 {0}").format(len(returned))
            self.list_title.setText(title)
            rows.sort(key=lambda r: (r.display_state != "逾期", r.due, r.customer_code))
            rows = [*rows[: len(rows) - due_today], *returned, *rows[len(rows) - due_today :]]
        self.plans.set_rows(rows)
        if rows:
            self.list.selectRow(0)
        self._update_actions()

    def _show_calendar_coverage(self, first: date, last: date) -> None:
        """The years the calendar knows; in orange the years without data that planning, a deadline or the
        days shown (``first`` … ``last``) reach."""
        from huifang_desktop.services import holidays as holiday_service

        cal = policy.work_calendar(self.ctx)
        span = cal.covered_range()
        shown = cal.unknown_years(range(first.year, last.year + 1))
        missing = sorted({*holiday_service.unknown_years(self.ctx, self.today), *shown})
        known = (
            self.tr("节假日与调休：已知 {0}–{1} 年").format(*span)
            if span
            else self.tr("节假日：没有任何年份的数据")
        )
        if missing:
            self.calendar_note.setStyleSheet("color: #ad6800;")
            self.calendar_note.setText(
                self.tr(
                    "{0}；{1} 年的节假日尚未录入，到期日只按周末顺延。国务院公布后请在"
                    "“设置 → 节假日”粘贴通知录入。"
                ).format(known, "、".join(str(y) for y in missing))
            )
        else:
            self.calendar_note.setStyleSheet("color: #8c8c8c;")
            self.calendar_note.setText(self.tr("{0}。").format(known))

    # --- actions ----------------------------------------------------------------------------------------
    def _day_clicked(self, index: QModelIndex) -> None:
        day = self.grid_model.day_at(index)
        if day is None:
            return
        self.selected = None if day == self.selected and self.mode != DAY else day
        self._load_list()

    def current_plan(self) -> PlanRow | None:
        rows = self.list.selectionModel().selectedRows()
        return self.plans.plan(rows[0].row()) if rows else None

    def record_current(self) -> None:
        """Enter / double-click: the 回访记录表 of a pending plan; a visited plan's record (to correct when
        the supervisor returned it to its visitor, else its filled form in the preview)."""
        plan = self.current_plan()
        if plan is None:
            return
        if plan.state == "已回访" and plan.record_id is not None:
            self.open_record(plan.record_id)
            return
        if plan.state != "待回访":
            reason = self.tr("：{0}").format(plan.cancel_reason) if plan.cancel_reason else ""
            QMessageBox.information(
                self, self.tr("回访记录"), self.tr("该计划的状态是“{0}”{1}。").format(plan.state, reason)
            )
            return
        try:
            dialog = VisitRecordDialog(self.ctx, plan.id, parent=self)
        except ServiceError as exc:
            show_error(self, exc)
            return
        if dialog.exec() == VisitRecordDialog.DialogCode.Accepted:
            self.refresh()
            self.notice.setText("".join(dialog.notes))

    def open_record(self, record_id: int) -> None:
        from huifang_desktop.ui.review.dialogs import RecordCorrectionDialog

        try:
            row = visit_service.get_record(self.ctx, record_id)
        except ServiceError as exc:
            show_error(self, exc)
            return
        mine = row.visitor_id == self.ctx.user.id or can(self.ctx.user.role, Permission.SIGN_OFF)
        if row.status != RECORD_RETURNED or not mine:
            self.print_blank_current()  # the filled form, read-only
            return
        dialog = RecordCorrectionDialog(self.ctx, row, row.supervisor_comment, self)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._corrected(row.number))
        dialog.open()

    def _corrected(self, number: str) -> None:
        self.refresh()
        self.notice.setText(self.tr("已修改回访记录 {0}，重新提交审阅。").format(number))

    def move_current(self) -> None:
        plan = self.current_plan()
        if plan is None:
            return
        text, ok = QInputDialog.getText(
            self, self.tr("改期"), self.tr("新的计划日期（如 2026-12-01）："), text=plan.due.isoformat()
        )
        if ok:
            self._move([{"id": plan.id, "version": plan.version}], text)

    def _plans_dropped(self, payload: list, day: date) -> None:
        self._move(payload, day)

    def _move(self, payload: list, day: date | str) -> None:
        messages = []
        reason = ""  # an overdue plan: a supervisor says why once for the lot (a miss stands, domain.md §9)
        for item in payload:
            try:
                try:
                    result = visit_service.move_plan(self.ctx, item["id"], day, item["version"], reason)
                except ValidationError as exc:
                    if reason or "reason" not in exc.fields:
                        raise
                    reason, ok = QInputDialog.getText(
                        self, self.tr("调整已过期的计划"), self.tr("计划已过期，调整须说明原因（必填）：")
                    )
                    if not ok:
                        break
                    result = visit_service.move_plan(self.ctx, item["id"], day, item["version"], reason)
            except (ValidationError, ServiceError) as exc:
                show_error(self, exc)
                break
            if result.shifted:
                messages.append(result.message)
        self.refresh()
        if messages:  # a holiday or weekend was skipped: say so without blocking the work
            self.notice.setText("；".join(messages))

    def cancel_current(self) -> None:
        plan = self.current_plan()
        if plan is None or plan.state != "待回访":
            return
        reason, ok = QInputDialog.getText(self, self.tr("取消回访计划"), self.tr("取消原因（必填）："))
        if not ok:
            return
        try:
            visit_service.cancel_plan(self.ctx, plan.id, reason, plan.version)
        except (ValidationError, ServiceError) as exc:
            show_error(self, exc)
            return
        self.refresh()

    def close_chain_current(self) -> None:
        """A supervisor ends the selected follow-up chain with a reason (audited)."""
        plan = self.current_plan()
        if plan is None or plan.state != "待回访" or plan.attempt <= 1:
            return
        reason, ok = QInputDialog.getText(
            self,
            self.tr("结束再次回访"),
            self.tr("{0} {1} 第{2}次回访：结束后不再安排下一次回访。\n结束原因（必填）：").format(
                plan.customer_code, plan.customer_name, plan.attempt
            ),
        )
        if not ok:
            return
        try:
            visit_service.close_chain(self.ctx, plan.id, reason)
        except (ValidationError, ServiceError) as exc:
            show_error(self, exc)
            return
        self.refresh()
        self.notice.setText(
            self.tr("已结束 {0} {1} 的再次回访。").format(plan.customer_code, plan.customer_name)
        )

    def write_report(self) -> None:
        from huifang_desktop.ui.calendar.report_dialog import VisitReportDialog

        dialog = VisitReportDialog(self.ctx, self)
        if dialog.exec() == VisitReportDialog.DialogCode.Accepted and dialog.saved is not None:
            self.notice.setText(self.tr("回访报告表 {0} 已提交审阅。").format(dialog.saved.number))

    # --- printing ---------------------------------------------------------------------------------------
    def print_blank_current(self) -> None:
        """Preview the 回访记录表 of the selected plan: blank (customer pre-printed) or, once visited, filled."""
        plan = self.current_plan()
        if plan is None:
            self.notice.setText(self.tr("请先在列表中选择一个回访计划。"))
            return
        try:
            doc = printing_service.plan_form_pdf(self.ctx, plan.id)
        except (ValidationError, ServiceError) as exc:
            self.notice.setText(str(exc))
            return
        self.preview = preview_document(self, self.ctx, doc)

    def print_day(self) -> None:
        """All plans of the selected day (today when none is selected) in one PDF, made off the GUI thread."""
        day = self.selected or self.today
        owner, team = self._owner_and_team()
        ctx = self.ctx

        def work(progress: ProgressFn, cancelled: CancelledFn) -> printing_service.PrintedDocument:
            return printing_service.day_plans_pdf(
                ctx, day, owner, team=team, progress=progress, cancelled=cancelled
            )

        self.notice.clear()
        self.print_day_button.setEnabled(False)
        self.print_task = run_with_progress(
            self,
            self.tr("批量打印"),
            self.tr("正在生成 {0} 的回访记录表…").format(day.isoformat()),
            work,
            self._day_printed,
            self._day_print_failed,
            self._day_print_cancelled,
        )

    def _day_printed(self, doc: printing_service.PrintedDocument) -> None:
        self.print_day_button.setEnabled(True)
        self.preview = preview_document(self, self.ctx, doc)

    def _day_print_failed(self, exc: Exception) -> None:
        self.print_day_button.setEnabled(True)
        self.notice.setText(str(exc))

    def _day_print_cancelled(self) -> None:
        self.print_day_button.setEnabled(True)
        self.notice.setText(self.tr("已取消批量打印。"))
