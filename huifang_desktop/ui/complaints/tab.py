"""投诉登记 tab: counts by state, filters, the paged register (overdue on top), detail pane, intake, export."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QThread, QTimer
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.complaints import OPEN_STATES, ComplaintState, MessageKind, Severity
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services import ledgers as ledger_service
from huifang_desktop.services.complaints import ComplaintDetail, ComplaintFilter
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.ui.common.export_target import ask_export_path, say_exported
from huifang_desktop.ui.common.forms import OptionalDateEdit
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.common.worker import start_worker
from huifang_desktop.ui.complaints.detail import ComplaintDetailPane
from huifang_desktop.ui.complaints.detail_layout import PAGE_INQUIRY
from huifang_desktop.ui.complaints.inquiries import PENDING, InquiryList
from huifang_desktop.ui.complaints.intake import IntakeDialog
from huifang_desktop.ui.complaints.model import ComplaintTableModel

SEARCH_DELAY_MS = 250
DETAIL_WIDTH = 460  # the detail pane's first width; the register gets the rest
SUBJECT_CHARS = (
    8  # the 主题 column never gets narrower than this many characters (the register scrolls instead)
)
OPEN = "open"
OVERDUE = "逾期"
ALL = ""
COUNT_STYLE = """
QToolButton { border: 1px solid #d9d9d9; border-radius: 3px; padding: 3px 10px; background: #fafafa; }
QToolButton:checked { background: #e6f4ff; border-color: #1f6feb; color: #1f6feb; font-weight: bold; }
QToolButton#count_逾期 { color: #d9363e; }
QToolButton#count_逾期:checked { background: #fff1f0; border-color: #d9363e; }
"""


class ComplaintsTab(QWidget):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.policy = complaint_service.load_policy(ctx)
        self.intake: IntakeDialog | None = None
        self.export_thread: QThread | None = None
        # injectable for tests: where to write the ledger ("" = cancelled)
        self.ask_export_path: Callable[[], str] = self._ask_export_path
        self._shown_once = False

        self._splitter_placed = False
        self._build_ui()
        self._connect()
        self.apply_filter()

    # --- layout: the widgets, named and placed -------------------------------------------------------------
    def _build_ui(self) -> None:
        counts = self._build_counts()
        self._build_filters()
        self._build_register()
        self._build_panes()
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._lay_out(counts)

    def _build_counts(self) -> QHBoxLayout:
        """The counts by state (clickable), 查办, and 新建登记 / 导出台账 in one row."""
        self.count_group = QButtonGroup(self)
        self.count_group.setExclusive(True)
        self.count_buttons: dict[str, QToolButton] = {}
        counts = QHBoxLayout()
        counts.setSpacing(6)
        for key in (ALL, *[s.value for s in ComplaintState], OVERDUE):
            b = QToolButton()
            b.setObjectName(f"count_{key or 'all'}")
            b.setCheckable(True)
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.setStyleSheet(COUNT_STYLE)
            self.count_group.addButton(b)
            self.count_buttons[key] = b
            counts.addWidget(b)
        self.inquiry_button = QToolButton()
        self.inquiry_button.setObjectName("inquiryView")
        self.inquiry_button.setCheckable(True)
        self.inquiry_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.inquiry_button.setStyleSheet(COUNT_STYLE)
        self.inquiry_button.setToolTip(self.tr("查办列表：处理逾期的投诉，待查办 / 已查办（Ctrl+I）"))
        counts.addSpacing(10)
        counts.addWidget(self.inquiry_button)
        counts.addStretch(1)
        self.new_button = QPushButton(self.tr("新建登记(&N)"))
        self.new_button.setObjectName("newComplaint")
        self.new_button.setToolTip(self.tr("登记投诉、咨询或建议（Ctrl+N）"))
        self.export_button = QPushButton(self.tr("导出台账…"))
        self.export_button.setObjectName("exportLedger")
        self.export_button.setToolTip(self.tr("按当前筛选条件导出投诉台账（Excel）"))
        editable = can(self.ctx.user.role, Permission.EDIT_CUSTOMERS)
        self.new_button.setEnabled(editable)
        self.export_button.setEnabled(editable)
        counts.addWidget(self.new_button)
        counts.addWidget(self.export_button)
        return counts

    def _build_filters(self) -> None:
        self.search = QLineEdit()
        self.search.setObjectName("complaintSearch")
        self.search.setPlaceholderText(self.tr("搜索：编号、主题、投诉人、内容或电话  Ctrl+F"))
        self.search.setClearButtonEnabled(True)
        self.state = QComboBox()
        self.state.setObjectName("stateFilter")
        self.state.addItem(self.tr("全部状态"), ALL)
        self.state.addItem(self.tr("未结（待受理/处理中/待回访）"), OPEN)
        for s in ComplaintState:
            self.state.addItem(s.value, s.value)
        self.severity = self._combo(self.tr("全部严重程度"), [s.value for s in Severity], "severityFilter")
        self.category = self._combo(self.tr("全部类别"), list(self.policy.categories), "categoryFilter")
        self.kind = self._combo(self.tr("投诉/咨询/建议"), [k.value for k in MessageKind], "kindFilter")
        self.mine = QCheckBox(self.tr("只看我的"))
        self.mine.setObjectName("mine")
        self.overdue = QCheckBox(self.tr("只看逾期"))
        self.overdue.setObjectName("overdue")
        self.start = OptionalDateEdit("startFilter")
        self.end = OptionalDateEdit("endFilter")

    def _build_register(self) -> None:
        """The paged register: column widths, 类型 hidden, 主题 fitted to what is left (see _fit_subject)."""
        self.model = ComplaintTableModel(self.ctx, parent=self)
        self.table = record_table(self.model, "complaintTable")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        m = ComplaintTableModel
        for col, width in (
            (m.COL_NUMBER, 110),
            (m.COL_KIND, 36),
            (m.COL_RECEIVED, 78),
            (m.COL_COMPLAINANT, 58),
            (m.COL_SUBJECT, 120),
            (m.COL_CATEGORY, 60),
            (m.COL_SEVERITY, 58),
            (m.COL_HANDLER, 52),
            (m.COL_FIRST_RESPONDER, 66),
            (m.COL_DEADLINE, 78),
            (m.COL_STATE, 50),
            (m.COL_OVERDUE, 60),
            (m.COL_INQUIRY, 52),
            (m.COL_OCCURRENCES, 40),
        ):
            self.table.setColumnWidth(col, width)
        # the number's prefix tells the kind (TS 投诉, ZX 咨询, JY 建议; its tooltip too): room for 首问责任人, 查办
        self.table.setColumnHidden(m.COL_KIND, True)
        # the subject takes what is left, so every column stays in view when the pane beside is wide, but keeps
        # SUBJECT_CHARS characters on a narrow window (1920×1080 at 150 %): there the register scrolls sideways
        self.table.setHorizontalScrollMode(
            QAbstractItemView.ScrollMode.ScrollPerPixel
        )  # 投诉编号 stays in view

    def _build_panes(self) -> None:
        """The register or the 查办 list on the left, the detail (scrolling vertically) on the right."""
        self.detail = ComplaintDetailPane(self.ctx)
        self.detail.setObjectName("complaintDetail")
        self.inquiry_list = InquiryList(self.ctx)
        self.inquiry_list.setObjectName("inquiryList")
        self.left = QStackedWidget()  # the register, or the 查办 list
        self.left.addWidget(self.table)
        self.left.addWidget(self.inquiry_list)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left)
        # the detail scrolls vertically, so a short screen (1280×640 at 150 %) still fits the window
        self.detail_scroll = QScrollArea()
        self.detail_scroll.setWidget(self.detail)
        self.detail_scroll.setWidgetResizable(True)
        self.detail_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.detail_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.detail_scroll.verticalScrollBar().sizeHint().width()
        self.detail_scroll.setMinimumWidth(self.detail.minimumSizeHint().width() + bar)
        self.splitter.addWidget(self.detail_scroll)
        self.splitter.setStretchFactor(0, 1)  # a wider window widens the register (its 主题 column)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([800, DETAIL_WIDTH])

    def _lay_out(self, counts: QHBoxLayout) -> None:
        filters = QHBoxLayout()
        filters.addWidget(self.search, 3)
        for w in (self.state, self.severity, self.category, self.kind):
            filters.addWidget(w)
        filters2 = QHBoxLayout()
        filters2.addWidget(QLabel(self.tr("受理日期")))
        filters2.addWidget(self.start)
        filters2.addWidget(QLabel(self.tr("至")))
        filters2.addWidget(self.end)
        filters2.addSpacing(12)
        filters2.addWidget(self.mine)
        filters2.addWidget(self.overdue)
        filters2.addStretch(1)
        filters2.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(counts)
        layout.addLayout(filters)
        layout.addLayout(filters2)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.notice)

    # --- behaviour ---------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        for key, button in self.count_buttons.items():
            button.clicked.connect(lambda _=False, k=key: self.show_count(k))
        self.table.viewport().installEventFilter(self)
        self.table.horizontalHeader().sectionResized.connect(self._section_resized)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._timer.start)
        self.search.returnPressed.connect(self._search_entered)
        for combo in (self.state, self.severity, self.category, self.kind):
            combo.currentIndexChanged.connect(self.apply_filter)
        for box in (self.mine, self.overdue):
            box.toggled.connect(self.apply_filter)
        for edit in (self.start, self.end):
            edit.dateChanged.connect(self.apply_filter)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.new_button.clicked.connect(self.new_complaint)
        self.export_button.clicked.connect(self.export_ledger)
        self.detail.changed.connect(self._complaint_changed)
        self.detail.open_complaint.connect(self.select_complaint)
        self.inquiry_button.clicked.connect(lambda on: self.show_inquiries(PENDING if on else None))
        self.inquiry_list.picked.connect(self._inquiry_picked)
        self.inquiry_list.model.modelReset.connect(self._show_total)
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)
        # anywhere in the window while this tab shows (the main window lends it 导入 Excel…'s Ctrl+I meanwhile:
        # one key with two owners fires neither)
        self.inquiry_shortcut = QShortcut(
            QKeySequence("Ctrl+I"),
            self,
            lambda: self.show_inquiries(None if self.showing_inquiries() else PENDING),
        )
        self.inquiry_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)

    def _combo(self, all_label: str, values: list[str], name: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.addItem(all_label, "")
        for v in values:
            combo.addItem(v, v)
        return combo

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # --- filtering -----------------------------------------------------------------------------------------
    def current_filter(self) -> ComplaintFilter:
        state = self.state.currentData()
        states = (
            frozenset(s.value for s in OPEN_STATES)
            if state == OPEN
            else (frozenset({state}) if state else frozenset())
        )

        def one(combo: QComboBox) -> frozenset[str]:
            return frozenset({combo.currentData()}) if combo.currentData() else frozenset()

        return ComplaintFilter(
            text=self.search.text(),
            states=states,
            severities=one(self.severity),
            categories=one(self.category),
            kinds=one(self.kind),
            mine=self.mine.isChecked(),
            overdue_only=self.overdue.isChecked(),
            start=self.start.day(),
            end=self.end.day(),
        )

    def apply_filter(self) -> None:
        self._timer.stop()
        keep = self.detail.detail.id if self.detail.detail is not None else None
        try:
            self.model.set_filter(self.current_filter())
            self._update_counts()
        except ServiceError as exc:
            self.notice.setText(str(exc))
            return
        if keep is not None and self._select_row_of(keep):
            return
        if self.model.rowCount():
            self.table.selectRow(0)
        else:
            self.detail.load(None)

    def _select_row_of(self, complaint_id: int) -> bool:
        row = self.model.row_of(complaint_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def _update_counts(self) -> None:
        counts = complaint_service.state_counts(self.ctx, self.model.filter)
        total = sum(counts.get(s.value, 0) for s in ComplaintState)
        names = {ALL: self.tr("全部"), OVERDUE: self.tr("逾期")}  # the others are states, shown as stored
        for key, b in self.count_buttons.items():
            n = total if key == ALL else counts.get(key, 0)
            b.setText(f"{names.get(key, key)}  {n}")
        selected = OVERDUE if self.overdue.isChecked() else (self.state.currentData() or ALL)
        in_list = self.showing_inquiries()
        self.count_group.setExclusive(False)  # in the 查办 list no count is chosen
        for key, b in self.count_buttons.items():
            b.setChecked(key == selected and not in_list)
        self.count_group.setExclusive(True)
        self._show_total()
        pending = complaint_service.pending_inquiry_count(self.ctx)
        self.inquiry_button.setText(self.tr("待查办  {0}").format(pending))
        self.inquiry_button.setChecked(in_list)

    def _show_total(self) -> None:
        """共 N 件 of the list in view: the register's (as filtered) or the 查办 list's."""
        n = self.inquiry_list.model.rowCount() if self.showing_inquiries() else self.model.total()
        self.count_label.setText(self.tr("共 {0} 件").format(n))

    # --- the 查办 list ---------------------------------------------------------------------------------------
    def showing_inquiries(self) -> bool:
        return self.left.currentWidget() is self.inquiry_list

    def show_inquiries(self, mode: str | None) -> None:
        """The 查办 list (``mode``: pending / done / all) in place of the register; None: the register."""
        if mode is None:
            if self.showing_inquiries():
                self.left.setCurrentWidget(self.table)
                self._update_counts()
                cid = self.selected_id()
                if cid is not None:
                    self.detail.load(cid)
            return
        self.left.setCurrentWidget(self.inquiry_list)
        keep = self.detail.detail.id if self.detail.detail is not None else None
        self.inquiry_list.set_mode(mode)  # reloads when the mode changes
        self.inquiry_list.reload(keep)
        self._update_counts()
        if self.inquiry_list.model.rowCount() == 0:
            self.detail.load(None)
        self.inquiry_list.table.setFocus()

    def _inquiry_picked(self, complaint_id: int) -> None:
        self.detail.load(complaint_id)
        self.detail.pages.setCurrentIndex(PAGE_INQUIRY)

    def count_of(self, key: str) -> int:
        """The number on a count button (for tests and the reminder)."""
        return int(self.count_buttons[key].text().split()[-1])

    def show_count(self, key: str) -> None:
        """A click on a count: filter by that state (or overdue only; 全部 clears both)."""
        self.show_inquiries(None)
        for w in (self.state, self.overdue):
            w.blockSignals(True)
        if key == OVERDUE:
            self.overdue.setChecked(True)
            self.state.setCurrentIndex(0)
        else:
            self.overdue.setChecked(False)
            self.state.setCurrentIndex(max(0, self.state.findData(key)))
        for w in (self.state, self.overdue):
            w.blockSignals(False)
        self.apply_filter()

    def _search_entered(self) -> None:
        self.apply_filter()
        if self.model.rowCount():
            self.table.setFocus()

    # --- selection -----------------------------------------------------------------------------------------
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        cid = self.model.complaint_id(current.row()) if current.isValid() else None
        if cid is None:
            return
        if self.detail.detail is not None and self.detail.detail.id == cid and self._reselecting:
            return
        self.detail.load(cid)

    _reselecting = False

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.complaint_id(rows[0].row()) if rows else None

    def select_complaint(self, complaint_id: int) -> None:
        """Show a complaint: selected in the list when the filter shows it, in the pane in any case."""
        self.reload(keep=complaint_id)
        if self.model.row_of(complaint_id) is None:
            self.table.clearSelection()
            self.detail.load(complaint_id)

    def reload(self, keep: int | None = None) -> None:
        """Reload list and counts; keep ``keep`` (or the shown complaint) selected without reloading it."""
        if keep is None and self.detail.detail is not None:
            keep = self.detail.detail.id
        self._reselecting = True
        try:
            self.model.reload()
            self._update_counts()
            if keep is None or not self._select_row_of(keep):
                self.table.clearSelection()
        except ServiceError as exc:
            self.notice.setText(str(exc))
        finally:
            self._reselecting = False

    def _complaint_changed(self, complaint_id: int) -> None:
        self.reload(keep=complaint_id)
        if self.showing_inquiries():
            list_ = self.inquiry_list
            list_.table.selectionModel().blockSignals(True)  # the pane shows the complaint already
            list_.reload(complaint_id)
            list_.table.selectionModel().blockSignals(False)

    # --- intake --------------------------------------------------------------------------------------------
    def new_complaint(self) -> IntakeDialog:
        """新建登记 (Ctrl+N): a non-modal form; the register stays usable behind it."""
        if self.intake is not None and self.intake.isVisible():
            self.intake.raise_()
            self.intake.activateWindow()
            return self.intake
        if self.intake is not None:
            self.intake.deleteLater()
        self.intake = IntakeDialog(self.ctx, self)
        self.intake.registered.connect(lambda d: self._intake_done(d, attached=False))
        self.intake.attached.connect(lambda d: self._intake_done(d, attached=True))
        self.intake.show()
        return self.intake

    def _intake_done(self, d: ComplaintDetail, *, attached: bool) -> None:
        if attached:
            self.notice.setText(
                self.tr("已作为第 {0} 次投诉附加到 {1}（{2}），未新建记录。").format(
                    d.row.occurrences, d.number, d.row.subject
                )
            )
        else:
            deadline = d.row.deadline.strftime("%Y-%m-%d %H:%M") if d.row.deadline else "—"
            self.notice.setText(
                self.tr("已登记 {0}：负责人 {1}，当前期限 {2}。").format(
                    d.number, d.row.handler or self.tr("未指定"), deadline
                )
            )
        self.notice.setStyleSheet("color: #237804;")
        self.select_complaint(d.id)
        self.detail.present(d)  # also when it was shown already (an occurrence was added)

    # --- export --------------------------------------------------------------------------------------------
    def _ask_export_path(self) -> str:
        return ask_export_path(
            self,
            self.tr("导出投诉台账"),
            f"投诉台账-{self.ctx.today():%Y%m%d}.xlsx",
            ".xlsx",
            self.tr("Excel 工作簿 (*.xlsx)"),
        )

    def export_ledger(self) -> None:
        """导出台账… (current filter) off the GUI thread; the result or error appears in the notice line."""
        if self.export_thread is not None and self.export_thread.isRunning():
            return
        path = self.ask_export_path()
        if not path:
            return
        f = self.current_filter()
        self.export_button.setEnabled(False)
        self.notice.setStyleSheet("")
        self.notice.setText(self.tr("正在导出投诉台账到 {0}…").format(path))
        self.export_thread = start_worker(
            self,
            lambda: ledger_service.export_complaints(self.ctx, path, f).rows,
            lambda n: self._exported(path, n),
            self._export_failed,
        )

    def _exported(self, path: str, rows: int) -> None:
        self.export_button.setEnabled(True)
        self.notice.setStyleSheet("color: #237804;")
        say_exported(self.notice, self.tr("已导出投诉台账 {0} 条到 {1}").format(rows, path), path)

    def _export_failed(self, exc: Exception) -> None:
        self.export_button.setEnabled(True)
        self.notice.setStyleSheet("color: #d9363e;")
        if isinstance(exc, (ServiceError, ValidationError)):
            self.notice.setText(self.tr("导出失败：{0}").format(exc))
        else:
            self.notice.setText(self.tr("导出失败（{0}）：{1}").format(type(exc).__name__, exc))

    # --- the register's width ----------------------------------------------------------------------------
    def _subject_least(self) -> int:
        return self.table.fontMetrics().horizontalAdvance("主" * SUBJECT_CHARS) + 12

    def _fit_subject(self) -> None:
        """The 主题 column takes the room the other columns leave, and at least SUBJECT_CHARS characters."""
        header = self.table.horizontalHeader()
        subject = ComplaintTableModel.COL_SUBJECT
        others = sum(
            header.sectionSize(c)
            for c in range(header.count())
            if c != subject and not header.isSectionHidden(c)
        )
        width = max(self._subject_least(), self.table.viewport().width() - others)
        if header.sectionSize(subject) != width:
            header.resizeSection(subject, width)

    def _section_resized(self, column: int, _old: int, _new: int) -> None:
        if column != ComplaintTableModel.COL_SUBJECT:
            self._fit_subject()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_subject()
        return super().eventFilter(watched, event)

    # --- start-up notices ----------------------------------------------------------------------------------
    def _place_splitter(self) -> None:
        if not self._splitter_placed and self.isVisible() and self.splitter.width() > 2 * DETAIL_WIDTH:
            self._splitter_placed = True  # once: afterwards the user's splitter position is kept
            # on a narrow window the detail pane starts at its least width, so the register keeps its columns
            header = self.table.horizontalHeader()
            register = sum(
                header.sectionSize(c)
                for c in range(header.count())
                if c != ComplaintTableModel.COL_SUBJECT and not header.isSectionHidden(c)
            )
            register += self._subject_least() + self.table.verticalScrollBar().sizeHint().width() + 4
            room = self.splitter.width() - self.splitter.handleWidth() - register
            detail = max(self.detail.minimumSizeHint().width(), min(DETAIL_WIDTH, room))
            self.splitter.setSizes([self.splitter.width() - detail, detail])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_splitter()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._place_splitter()
        if event.spontaneous():
            return
        self.on_shown()

    def on_shown(self) -> None:
        """The handler looked at the register: escalation / 催办 notices are seen; the list is refreshed."""
        if self._shown_once:
            self.reload()
        self._shown_once = True
        try:
            n = complaint_service.notices(self.ctx)
            if n.escalated_to_me or n.follow_unseen:
                complaint_service.mark_notices_seen(self.ctx)
                self.notice.setStyleSheet("color: #d46b08;")
                text = (
                    self.tr("有 {0} 件投诉新分派或催办给您，勾选“只看我的”查看。").format(n.escalated_to_me)
                    if n.escalated_to_me
                    else ""
                )
                if n.follow_unseen:
                    text += self.tr("投诉提醒 {0} 条（首问反馈、催办、上报、督办、查办）。").format(
                        n.follow_unseen
                    )
                self.notice.setText(text)
        except ServiceError as exc:
            self.notice.setText(str(exc))
