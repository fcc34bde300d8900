"""台账 tab (domain.md §8): 客户台账, 回访台账, 投诉台账, 售后服务台账 and 终端客户信息台帐.

Pick a ledger on the left; filter it (text, a date range, 负责人, state, kind, grade, or one of the saved
filters — 本月, 我的…, 逾期 and the ones this user saved with 保存当前筛选); sort by clicking a sortable
column (sorting runs in SQL); choose the columns (remembered per user); the 合计 row under the table is
computed in SQL in the background. 导出 Excel… and 打印… work on what is shown (filter, order, columns), off
the GUI thread with a progress dialog and 取消. On the 售后服务台账, 新增 / 编辑 open the service record form.

Everything goes through :mod:`huifang_desktop.services.ledgers`; no dialog is ``exec()``-ed and no modal box
is shown: problems and results appear in the notice line under the filters.

Keys: Ctrl+1…Ctrl+5 pick a ledger, Ctrl+F search, F5 reload, Ctrl+E export, Ctrl+P print, Ctrl+Shift+S save
the filter, Insert (or Ctrl+N) a new service record, Enter / double-click edit it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, QThread, QTimer
from PySide6.QtGui import QAction, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import ledgers as ledger_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.services.ledgers import FilterChoices, Ledger, LedgerFilter, LedgerTotals, SavedFilter
from huifang_desktop.ui.common.export_target import ask_export_path, say_exported
from huifang_desktop.ui.common.forms import OptionalDateEdit
from huifang_desktop.ui.common.i18n import translated
from huifang_desktop.ui.common.print_preview import PrintPreviewDialog, preview_document
from huifang_desktop.ui.common.progress import ProgressTask, run_with_progress
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.common.worker import start_worker, wait_for_threads
from huifang_desktop.ui.ledgers.model import LedgerTableModel, TotalsModel
from huifang_desktop.ui.ledgers.service_dialog import ServiceRecordDialog

SEARCH_DELAY_MS = 250
MINE = "mine"
OK_STYLE = "color: #237804;"
ERROR_STYLE = "color: #d9363e;"
DEFAULT_PRESET = {Ledger.VISITS: "本月"}  # a ledger opens with this built-in filter ('全部' otherwise)
PIXELS_PER_CHAR = 8.0


class LedgersTab(QWidget):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ledger = Ledger.CUSTOMERS
        self.choices: FilterChoices | None = None
        self.saved: list[SavedFilter] = []
        self._filters: dict[Ledger, LedgerFilter] = {}  # the filter each ledger had, for switching back
        self._generation = 0
        self._loading = False
        self.totals: LedgerTotals | None = None
        self.totals_thread: QThread | None = None
        self._threads: list[QThread] = []
        self.task: ProgressTask | None = None
        self.preview: PrintPreviewDialog | None = None
        self.dialog: ServiceRecordDialog | None = None
        self.ask_export_path = self._ask_export_path  # tests replace these two (no modal dialogs in tests)
        self.ask_filter_name = self._ask_filter_name
        self._build_picker()
        self._build_filter_bar()
        self._build_table()
        self._lay_out()
        self._connect()
        self.show_ledger(self.ledger)

    def _build_picker(self) -> None:
        """The list of the five ledgers (Ctrl+1 … Ctrl+5)."""
        self.picker = QListWidget()
        self.picker.setObjectName("ledgerPicker")
        for n, ledger in enumerate(Ledger, start=1):
            item = QListWidgetItem(translated("Ledger", ledger.value))
            item.setData(Qt.ItemDataRole.UserRole, ledger.value)
            item.setToolTip(self.tr("Ctrl+{0}").format(n))
            self.picker.addItem(item)
        self.picker.setFixedWidth(150)
        self.picker.setStyleSheet("QListWidget::item { padding: 6px 4px; }")
        self.picker.setCurrentRow(0)

    def _build_filter_bar(self) -> None:
        """The search, date range, owner / state / kind / grade, saved filters and the tool buttons."""
        self.search = QLineEdit()
        self.search.setObjectName("ledgerSearch")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(self.tr("搜索：客户名称、编号、电话、拼音首字母、单号…（Ctrl+F）"))
        self.date_label = QLabel()
        self.start = OptionalDateEdit()
        self.end = OptionalDateEdit()
        self.owner = QComboBox()
        self.state = QComboBox()
        self.kind = QComboBox()
        self.grade = QComboBox()
        for combo in (self.owner, self.state, self.kind, self.grade):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.clear_button = QPushButton(self.tr("清除筛选"))
        self.saved_box = QComboBox()
        self.saved_box.setObjectName("savedFilters")
        self.saved_box.setMinimumWidth(150)
        self.saved_box.setPlaceholderText(self.tr("常用筛选…"))
        self.save_filter_button = QPushButton(self.tr("保存当前筛选…"))
        self.save_filter_button.setToolTip(
            self.tr("把当前的筛选条件保存为常用筛选（Ctrl+Shift+S），只对您自己可见")
        )
        self.delete_filter_button = QPushButton(self.tr("删除"))
        self.delete_filter_button.setToolTip(self.tr("删除所选的常用筛选（内置的不能删除）"))

        self.columns_button = QToolButton()
        self.columns_button.setText(self.tr("显示列"))
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_button.setMenu(self.columns_menu)
        self.new_button = QPushButton(self.tr("新增服务记录"))
        self.new_button.setToolTip(self.tr("登记一次售后服务（Insert 或 Ctrl+N）"))
        self.edit_button = QPushButton(self.tr("编辑"))
        self.edit_button.setToolTip(self.tr("打开所选服务记录，修改或登记跟进（Enter）"))
        self.attachments_button = QPushButton(self.tr("附件…"))
        self.attachments_button.setToolTip(
            self.tr("所选回访记录的附件：签字单扫描件、照片、录音、文档（打开、添加、删除）")
        )
        self.export_button = QPushButton(self.tr("导出 Excel…"))
        self.export_button.setObjectName("exportLedger")
        self.print_button = QPushButton(self.tr("打印…"))
        self.refresh_button = QPushButton(self.tr("刷新"))
        self.refresh_button.setToolTip(self.tr("重新读取（F5）"))

    def _build_table(self) -> None:
        """The ledger table and, under it, the 合计 row and the summary line."""
        self.model = LedgerTableModel(self.ctx, parent=self)
        self.table = record_table(self.model, "ledgerTable")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        self.totals_model = TotalsModel(self)
        self.totals_view = QTableView()
        self.totals_view.setObjectName("ledgerTotals")
        self.totals_view.setModel(self.totals_model)
        self.totals_view.horizontalHeader().setVisible(False)
        self.totals_view.horizontalHeader().setStretchLastSection(True)
        self.totals_view.verticalHeader().setVisible(False)
        self.totals_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.totals_view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.totals_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.totals_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.totals_view.setFixedHeight(28)
        self.totals_view.setStyleSheet("QTableView { background: #f5f5f5; }")
        self.totals_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("ledgerSummary")
        self.notice = QLabel()
        self.notice.setObjectName("ledgerNotice")
        self.notice.setWordWrap(True)

    def _lay_out(self) -> None:
        """Places the widgets: the picker on the left, filters, tools, table and 合计 on the right."""
        filters = QHBoxLayout()
        filters.addWidget(self.search, 3)
        filters.addWidget(self.date_label)
        filters.addWidget(self.start)
        filters.addWidget(QLabel(self.tr("至")))
        filters.addWidget(self.end)
        for w in (self.owner, self.state, self.kind, self.grade, self.clear_button):
            filters.addWidget(w)
        tools = QHBoxLayout()
        tools.addWidget(QLabel(self.tr("常用筛选")))
        tools.addWidget(self.saved_box)
        tools.addWidget(self.save_filter_button)
        tools.addWidget(self.delete_filter_button)
        tools.addStretch(1)
        for button in (
            self.new_button,
            self.edit_button,
            self.attachments_button,
            self.columns_button,
            self.export_button,
            self.print_button,
            self.refresh_button,
        ):
            tools.addWidget(button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary_label, 1)
        right = QVBoxLayout()
        right.addLayout(filters)
        right.addLayout(tools)
        right.addWidget(self.notice)
        right.addWidget(self.table, 1)
        totals_row = QHBoxLayout()
        totals_row.setSpacing(0)
        totals_row.addWidget(self.totals_view, 1)
        # as wide as the table's vertical scroll bar, so the 合计 cells stay under their columns
        self.scroll_gutter = QWidget()
        self.scroll_gutter.setFixedWidth(self.table.verticalScrollBar().sizeHint().width())
        self.scroll_gutter.setVisible(False)
        totals_row.addWidget(self.scroll_gutter)
        right.addLayout(totals_row)
        right.addLayout(bottom)
        right.setSpacing(4)
        layout = QHBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addLayout(right, 1)

    def _connect(self) -> None:
        """The behaviour: filter edits, buttons, header clicks, the 合计 row following the table, keys."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._filter_edited_later)
        self.search.returnPressed.connect(self.apply_filter)
        for combo in (self.owner, self.state, self.kind, self.grade):
            combo.currentIndexChanged.connect(self._filter_edited)
        self.start.dateChanged.connect(self._filter_edited)
        self.end.dateChanged.connect(self._filter_edited)
        self.clear_button.clicked.connect(self.clear_filter)
        self.picker.currentRowChanged.connect(self._picked)
        self.saved_box.activated.connect(self._saved_chosen)
        self.save_filter_button.clicked.connect(self.save_current_filter)
        self.delete_filter_button.clicked.connect(self.delete_current_filter)
        self.new_button.clicked.connect(self.new_record)
        self.edit_button.clicked.connect(self.edit_current)
        self.attachments_button.clicked.connect(self.open_attachments)
        self.export_button.clicked.connect(self.export)
        self.print_button.clicked.connect(self.print_ledger)
        self.refresh_button.clicked.connect(self.refresh)
        header = self.table.horizontalHeader()
        header.sectionClicked.connect(self._header_clicked)
        header.sectionResized.connect(lambda i, _old, new: self.totals_view.setColumnWidth(i, new))
        header.sectionMoved.connect(lambda *_: self._sync_totals_layout())
        self.table.horizontalScrollBar().valueChanged.connect(self.totals_view.horizontalScrollBar().setValue)
        self.table.verticalScrollBar().rangeChanged.connect(
            lambda _lo, hi: self.scroll_gutter.setVisible(hi > 0)
        )
        self.table.doubleClicked.connect(lambda _i: self.edit_current())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)
        QShortcut(QKeySequence("F5"), self, self.refresh)
        QShortcut(QKeySequence("Ctrl+E"), self, self.export)
        QShortcut(QKeySequence.StandardKey.Print, self, self.print_ledger)
        QShortcut(QKeySequence("Ctrl+Shift+S"), self, self.save_current_filter)
        QShortcut(QKeySequence(Qt.Key.Key_Insert), self, self.new_record)
        for n in range(1, len(Ledger) + 1):
            QShortcut(QKeySequence(f"Ctrl+{n}"), self, lambda row=n - 1: self.picker.setCurrentRow(row))
        edit_action = QAction(self)
        edit_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        edit_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        edit_action.triggered.connect(self.edit_current)
        self.table.addAction(edit_action)

    # --- helpers -------------------------------------------------------------------------------------
    def _say(self, text: str, style: str = "") -> None:
        self.notice.setStyleSheet(style)
        self.notice.setText(text)

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _fill(self, combo: QComboBox, all_label: str, values: tuple[str, ...]) -> None:
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(all_label, "")
        for value in values:
            combo.addItem(value, value)  # stored values are shown as stored
        combo.setVisible(bool(values))
        combo.blockSignals(False)

    @staticmethod
    def _select_data(combo: QComboBox, value: Any) -> None:
        at = combo.findData(value)
        combo.setCurrentIndex(max(at, 0))

    # --- ledgers -------------------------------------------------------------------------------------
    def _picked(self, row: int) -> None:
        if 0 <= row < len(Ledger):
            self.show_ledger(list(Ledger)[row])

    def show_ledger(self, ledger: Ledger) -> None:
        """Switch to ``ledger``: its filter bar, saved filters, columns, and its last (or default) filter."""
        if self._loading:
            return
        if self.choices is not None:  # not at start: keep the filter of the ledger we leave
            self._filters[self.ledger] = self.current_filter()
        self.ledger = ledger
        row = list(Ledger).index(ledger)
        if self.picker.currentRow() != row:
            self.picker.blockSignals(True)
            self.picker.setCurrentRow(row)
            self.picker.blockSignals(False)
        try:
            self.choices = ledger_service.choices(self.ctx, ledger)
        except ServiceError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        c = self.choices
        self.date_label.setText(translated("Ledger", c.date_label))
        self.owner.blockSignals(True)
        self.owner.clear()
        self.owner.addItem(self.tr("全部{0}").format(translated("Ledger", c.owner_label)), None)
        self.owner.addItem(self.tr("我自己"), MINE)
        for uid, name in c.owners:
            self.owner.addItem(name, uid)
        self.owner.blockSignals(False)
        self._fill(self.state, self.tr("全部{0}").format(translated("Ledger", c.state_label)), c.states)
        kinds = c.kinds if len(c.kinds) > 1 else ()  # one kind only (终端客户): nothing to choose
        self._fill(self.kind, self.tr("全部{0}").format(translated("Ledger", c.kind_label)), kinds)
        self._fill(self.grade, self.tr("全部{0}").format(translated("Ledger", c.grade_label)), c.grades)
        self.new_button.setVisible(ledger is Ledger.SERVICES)
        self.edit_button.setVisible(ledger is Ledger.SERVICES)
        self.attachments_button.setVisible(ledger is Ledger.VISITS)
        self.new_button.setEnabled(c.can_add)
        self.export_button.setEnabled(c.can_export)
        self.export_button.setToolTip(
            c.export_note or self.tr("按当前筛选、排序和显示列导出 Excel（Ctrl+E）")
        )
        self.print_button.setEnabled(c.can_export and not self._busy())
        self.print_button.setToolTip(
            c.export_note.replace("导出", "打印")
            if c.export_note
            else self.tr("按当前筛选、排序和显示列打印（Ctrl+P）")
        )
        self._load_saved()
        f = self._filters.get(ledger)
        if f is None:
            preset = DEFAULT_PRESET.get(ledger, ledger_service.ALL)
            f = next((s.filter for s in self.saved if s.name == preset), LedgerFilter())
            self.saved_box.setCurrentIndex(self.saved_box.findData(preset))
        self._set_widgets(f)
        self._build_columns_menu()
        self._load(f)

    def _load_saved(self, select: str | None = None) -> None:
        self.saved = ledger_service.saved_filters(self.ctx, self.ledger)
        self.saved_box.blockSignals(True)
        self.saved_box.clear()
        for s in self.saved:
            self.saved_box.addItem(s.name if s.builtin else f"★ {s.name}", s.name)
        self.saved_box.setCurrentIndex(self.saved_box.findData(select) if select else -1)
        self.saved_box.blockSignals(False)
        self._update_buttons()

    def _build_columns_menu(self) -> None:
        self.columns_menu.clear()
        shown = set(ledger_service.visible_columns(self.ctx, self.ledger))
        for column in ledger_service.columns(self.ledger):
            action = QAction(translated("Ledger", column.label), self.columns_menu)
            action.setCheckable(True)
            action.setChecked(column.key in shown)
            action.setData(column.key)
            action.toggled.connect(lambda _on, key=column.key: self._column_toggled(key))
            self.columns_menu.addAction(action)

    def visible_keys(self) -> list[str]:
        return [a.data() for a in self.columns_menu.actions() if a.isChecked()]

    def set_column_visible(self, key: str, visible: bool) -> None:
        for action in self.columns_menu.actions():
            if action.data() == key:
                action.setChecked(visible)

    def _column_toggled(self, key: str) -> None:
        keys = self.visible_keys()
        if not keys:
            self.set_column_visible(key, True)
            self._say(self.tr("至少显示一列。"), ERROR_STYLE)
            return
        try:
            ledger_service.save_visible_columns(self.ctx, self.ledger, keys)
        except (ServiceError, ValidationError) as exc:
            self._say(str(exc), ERROR_STYLE)
        self._apply_columns()

    def _apply_columns(self) -> None:
        shown = set(self.visible_keys())
        for i, column in enumerate(self.model.columns):
            hidden = column.key not in shown
            self.table.setColumnHidden(i, hidden)
            self.totals_view.setColumnHidden(i, hidden)
        self._sync_totals_layout()

    def _sync_totals_layout(self) -> None:
        header = self.table.horizontalHeader()
        first = next(
            (
                header.logicalIndex(v)
                for v in range(header.count())
                if not header.isSectionHidden(header.logicalIndex(v))
            ),
            0,
        )
        self.totals_model.set_label_column(first)
        totals_header = self.totals_view.horizontalHeader()
        for logical in range(header.count()):
            self.totals_view.setColumnWidth(logical, header.sectionSize(logical))
            visual = header.visualIndex(logical)
            if totals_header.visualIndex(logical) != visual:
                totals_header.moveSection(totals_header.visualIndex(logical), visual)

    # --- filters -------------------------------------------------------------------------------------
    def current_filter(self) -> LedgerFilter:
        owner = self.owner.currentData()
        start, end = self.start.day(), self.end.day()
        base = self.model.filter if self.model.ledger is self.ledger else LedgerFilter()
        return LedgerFilter(
            text=self.search.text().strip(),
            start=start,
            end=end,
            owner_id=owner if isinstance(owner, int) else None,
            mine=owner == MINE,
            state=self.state.currentData() or "",
            kind=self.kind.currentData() or "",
            grade=self.grade.currentData() or "",
            sort=base.sort,
            descending=base.descending,
        )

    def _set_widgets(self, f: LedgerFilter) -> None:
        widgets = (self.search, self.start, self.end, self.owner, self.state, self.kind, self.grade)
        for w in widgets:
            w.blockSignals(True)
        self.search.setText(f.text)
        self.start.set_day(f.start)
        self.end.set_day(f.end)
        self._select_data(self.owner, MINE if f.mine else f.owner_id)
        self._select_data(self.state, f.state)
        self._select_data(self.kind, f.kind)
        self._select_data(self.grade, f.grade)
        for w in widgets:
            w.blockSignals(False)

    def _filter_edited_later(self) -> None:
        self.saved_box.setCurrentIndex(-1)
        self._timer.start()

    def _filter_edited(self) -> None:
        self.saved_box.setCurrentIndex(-1)
        self._update_buttons()
        self.apply_filter()

    def apply_filter(self) -> None:
        self._timer.stop()
        self._load(self.current_filter())

    def clear_filter(self) -> None:
        self._set_widgets(LedgerFilter())
        self.saved_box.setCurrentIndex(self.saved_box.findData(ledger_service.ALL))
        self.apply_filter()

    def apply_saved(self, name: str) -> None:
        """Show the ledger with the saved (or built-in) filter ``name``; the sort order stays."""
        chosen = next((s for s in self.saved if s.name == name), None)
        if chosen is None:
            return
        keep = self.current_filter()
        f = replace(
            chosen.filter,
            sort=chosen.filter.sort or keep.sort,
            descending=chosen.filter.descending if chosen.filter.sort else keep.descending,
        )
        self._set_widgets(f)
        self.saved_box.setCurrentIndex(self.saved_box.findData(name))
        self._update_buttons()
        self._load(f)

    def _saved_chosen(self, index: int) -> None:
        name = self.saved_box.itemData(index)
        if name:
            self.apply_saved(name)

    def _ask_filter_name(self) -> str:
        name, ok = QInputDialog.getText(self, self.tr("保存当前筛选"), self.tr("名称（只对您自己可见）："))
        return name if ok else ""

    def save_current_filter(self, name: str | None = None) -> None:
        title = name if isinstance(name, str) and name else self.ask_filter_name()
        if not title:
            return
        try:
            self.saved = ledger_service.save_filter(self.ctx, self.ledger, title, self.current_filter())
        except (ServiceError, ValidationError) as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        self._load_saved(select=title.strip())
        self._say(self.tr("已保存常用筛选“{0}”。").format(title.strip()), OK_STYLE)

    def delete_current_filter(self) -> None:
        name = self.saved_box.currentData()
        chosen = next((s for s in self.saved if s.name == name), None)
        if chosen is None or chosen.builtin:
            return
        ledger_service.delete_filter(self.ctx, self.ledger, chosen.name)
        self._load_saved()
        self._say(self.tr("已删除常用筛选“{0}”。").format(chosen.name), OK_STYLE)

    # --- loading -------------------------------------------------------------------------------------
    def _load(self, f: LedgerFilter) -> None:
        self._loading = True
        try:
            self.model.load(self.ledger, f)
        except (ServiceError, ValidationError) as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        finally:
            self._loading = False
        self._say("")
        self._after_reset()
        self._start_totals()

    def _after_reset(self) -> None:
        header = self.table.horizontalHeader()
        if getattr(self, "_widths_for", None) is not self.ledger:
            for i, column in enumerate(self.model.columns):
                self.table.setColumnWidth(i, max(48, int(column.width * PIXELS_PER_CHAR)))
            self._widths_for = self.ledger
        self.totals_model.set_columns(self.model.columns, 0)
        self._apply_columns()
        key, descending = self._sort_state()
        col = next((i for i, c in enumerate(self.model.columns) if c.sort == key), -1)
        header.setSortIndicator(
            col, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        )
        if self.model.rowCount():
            self.table.selectRow(0)
        self.summary_label.setText(self.tr("正在统计…"))
        self._update_buttons()

    def _sort_state(self) -> tuple[str, bool]:
        c = self.choices
        if c is None:
            return "", False
        f = self.model.filter
        sorts = {key for key, _label in c.sorts}
        key = f.sort if f.sort in sorts else c.default_sort
        return key, c.default_descending if f.descending is None else bool(f.descending)

    def _start_totals(self) -> None:
        """The 合计 row in the background: counting a million rows must not hold up the first page."""
        self._generation += 1
        generation, ledger, f = self._generation, self.ledger, self.model.filter
        self.totals = None

        def done(result: Any) -> None:
            if generation == self._generation:
                self._show_totals(result)

        def failed(exc: Exception) -> None:
            if generation == self._generation:
                self.summary_label.setText(self.tr("合计未能计算：{0}").format(exc))
                self.totals_model.set_totals(None)

        self._threads = [t for t in self._threads if t.isRunning()]
        thread = start_worker(self, lambda: ledger_service.totals(self.ctx, ledger, f), done, failed)
        self._threads.append(thread)
        self.totals_thread = thread

    def _show_totals(self, totals: LedgerTotals) -> None:
        self.totals = totals
        self.totals_model.set_totals(totals)
        self.summary_label.setText(totals.summary)
        font = self.totals_view.font()
        font.setBold(True)
        metrics = QFontMetrics(font)
        for i in range(self.totals_model.columnCount()):  # a sum wider than its column widens the column
            text = self.totals_model.data(self.totals_model.index(0, i)) or ""
            needed = metrics.horizontalAdvance(text) + 16
            if text and needed > self.table.columnWidth(i):
                self.table.setColumnWidth(i, needed)

    def _header_clicked(self, section: int) -> None:
        column = self.model.columns[section] if 0 <= section < len(self.model.columns) else None
        key, descending = self._sort_state()
        if column is None or not column.sort:
            if column is not None:
                sortable = "、".join(label for _k, label in (self.choices.sorts if self.choices else ()))
                self._say(self.tr("“{0}”列不能排序；可排序的列：{1}。").format(column.label, sortable))
            self._after_sort_click(key, descending)
            return
        new_desc = not descending if column.sort == key else False
        self.sort_by(column.sort, new_desc)

    def _after_sort_click(self, key: str, descending: bool) -> None:
        col = next((i for i, c in enumerate(self.model.columns) if c.sort == key), -1)
        self.table.horizontalHeader().setSortIndicator(
            col, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        )

    def sort_by(self, key: str, descending: bool) -> None:
        """Sort in SQL (reads the first page again)."""
        self._load(replace(self.current_filter(), sort=key, descending=descending))

    def refresh(self) -> None:
        keep = self.selected()
        self._load(self.current_filter())
        if keep is not None:
            row = self.model.row_of(*keep)
            if row is not None:
                self.table.selectRow(row)

    def reload(self) -> None:
        self.refresh()

    # --- rows ----------------------------------------------------------------------------------------
    def selected(self) -> tuple[str, int] | None:
        rows = self.table.selectionModel().selectedRows()
        row = self.model.row(rows[0].row()) if rows else None
        return (row.entity, row.id) if row is not None else None

    def _update_buttons(self) -> None:
        chosen = next((s for s in self.saved if s.name == self.saved_box.currentData()), None)
        self.delete_filter_button.setEnabled(chosen is not None and not chosen.builtin)
        picked = self.selected()
        self.edit_button.setEnabled(picked is not None and picked[0] == "service_record")
        self.attachments_button.setEnabled(bool(self.selected_visit_number()))

    def selected_visit_number(self) -> str:
        """The 编号 of the visit record on the selected 回访台账 row ("" for a plan not yet done)."""
        if self.ledger is not Ledger.VISITS:
            return ""
        rows = self.table.selectionModel().selectedRows()
        row = self.model.row(rows[0].row()) if rows else None
        return str(row.values[0] or "") if row is not None else ""

    def open_attachments(self) -> None:
        """附件… of the selected visit record (viewed with the system's viewer, added by hand)."""
        from huifang_desktop.services import printing as printing_service
        from huifang_desktop.ui.scans.attachments import RecordAttachmentsDialog

        number = self.selected_visit_number()
        if not number:
            return
        try:
            record_id = printing_service.record_id_of(self.ctx, number)
        except ServiceError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        dialog = RecordAttachmentsDialog(self.ctx, record_id, number, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.attachments_dialog = dialog
        dialog.open()

    def can_add(self) -> bool:
        return self.ledger is Ledger.SERVICES and self.choices is not None and self.choices.can_add

    def new_record(self) -> None:
        if not self.can_add():
            return
        self._open_dialog(None)

    def edit_current(self) -> None:
        picked = self.selected()
        if picked is None or picked[0] != "service_record":
            return
        self._open_dialog(picked[1])

    def _open_dialog(self, record_id: int | None) -> None:
        try:
            dialog = ServiceRecordDialog(self.ctx, record_id, self)
        except ServiceError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._record_saved)
        self.dialog = dialog
        dialog.open()

    def _record_saved(self, detail: Any) -> None:
        self._load(self.current_filter())
        row = self.model.row_of("service_record", detail.id)
        if row is not None:
            self.table.selectRow(row)
        self._say(self.tr("已保存服务记录 {0}。{1}").format(detail.number, detail.visit_note), OK_STYLE)

    # --- export and print ----------------------------------------------------------------------------
    def _ask_export_path(self) -> str:
        return ask_export_path(
            self,
            self.tr("导出{0}").format(translated("Ledger", self.ledger.value)),
            ledger_service.suggested_file_name(self.ledger, self.current_filter()),
            ".xlsx",
            self.tr("Excel 工作簿 (*.xlsx)"),
        )

    def _busy(self) -> bool:
        return self.task is not None and self.task.is_running()

    def _set_busy(self, busy: bool) -> None:
        can_export = self.choices is not None and self.choices.can_export
        self.export_button.setEnabled(not busy and can_export)
        self.print_button.setEnabled(not busy and can_export)  # 绝密: printing is exporting on paper

    def export(self) -> None:
        """导出 Excel…: what is shown (filter, order, columns), written off the GUI thread, with 取消."""
        if self._busy() or not self.export_button.isEnabled():
            return
        path = self.ask_export_path()
        if not path:
            return
        ledger, f, keys = self.ledger, self.current_filter(), self.visible_keys()

        def work(progress: Any, cancelled: Any) -> Any:
            return ledger_service.export(self.ctx, ledger, f, path, progress, cancelled, columns_=keys)

        self._set_busy(True)
        self._say(self.tr("正在导出到 {0}…").format(path))
        self.task = run_with_progress(
            self,
            self.tr("导出{0}").format(translated("Ledger", ledger.value)),
            self.tr("正在写入 Excel…"),
            work,
            self._exported,
            self._failed,
            self._cancelled,
        )

    def _exported(self, result: Any) -> None:
        self._set_busy(False)
        self.notice.setStyleSheet(OK_STYLE)
        say_exported(
            self.notice, self.tr("已导出 {0} 行到 {1}").format(f"{result.rows:,}", result.path), result.path
        )

    def _failed(self, exc: Exception) -> None:
        self._set_busy(False)
        self._say(str(exc), ERROR_STYLE)

    def _cancelled(self) -> None:
        self._set_busy(False)
        self._say(self.tr("已取消，没有生成文件。"))

    def print_ledger(self) -> None:
        """打印…: the shown ledger as a landscape table, made off the GUI thread, then the print preview."""
        if self._busy() or not self.print_button.isEnabled():
            return
        ledger, f, keys = self.ledger, self.current_filter(), self.visible_keys()

        def work(progress: Any, cancelled: Any) -> Any:
            return ledger_service.print_document(
                self.ctx, ledger, f, columns_=keys, progress=progress, cancelled=cancelled
            )

        self._set_busy(True)
        self.task = run_with_progress(
            self,
            self.tr("打印{0}").format(translated("Ledger", ledger.value)),
            self.tr("正在排版…"),
            work,
            self._print_ready,
            self._failed,
            self._cancelled,
        )

    def _print_ready(self, doc: Any) -> None:
        self._set_busy(False)
        self._say("")
        self.preview = preview_document(self, self.ctx, doc)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the background work ended (tests; a window closing under a running task)."""
        return wait_for_threads(self, msecs)


__all__ = ["LedgersTab"]
