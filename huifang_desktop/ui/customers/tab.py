"""客户档案 tab: search as you type, filters, lazily paged table, editor, archive, reassignment."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.customers import CUSTOMER_STATUSES, GRADES_ABCD
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.services import customers as customer_service
from huifang_desktop.services import handover
from huifang_desktop.services import users as user_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.services.settings import load_settings
from huifang_desktop.storage.queries import CustomerFilter
from huifang_desktop.ui.common.feedback import show_error
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.customers.dialog import CustomerDialog, ReassignDialog
from huifang_desktop.ui.customers.model import CustomerTableModel
from huifang_desktop.ui.customers.unregistered import UnregisteredDialog

SEARCH_DELAY_MS = 150


class CustomersTab(QWidget):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._build_filters()
        self._build_table()
        self._lay_out()
        self._connect()
        self.apply_filter()

    def _build_filters(self) -> None:
        """The search, the grade / category / status / owner filters and the action buttons."""
        settings = load_settings(self.ctx)
        self.search = QLineEdit()
        self.search.setObjectName("customerSearch")
        self.search.setPlaceholderText(self.tr("搜索：名称、客户编号、电话或拼音首字母（如 zs）  Ctrl+F"))
        self.search.setClearButtonEnabled(True)
        self.grade = self._combo(self.tr("全部等级"), list(GRADES_ABCD) + ["VIP", "普通", "小客户"])
        self.category = self._combo(self.tr("全部类别"), list(settings.categories))
        self.status = self._combo(self.tr("全部状态"), list(CUSTOMER_STATUSES))
        self.owner = QComboBox()
        self.owner.addItem(self.tr("全部负责人"), None)
        for u in user_service.clerks(self.ctx):
            self.owner.addItem(u.display_name, u.id)
        self.archived = QCheckBox(self.tr("含已归档"))
        self.new_button = QPushButton(self.tr("新建(&N)"))
        self.open_button = QPushButton(self.tr("打开"))
        self.archive_button = QPushButton(self.tr("归档"))
        self.reassign_button = QPushButton(self.tr("批量移交…"))
        self.reassign_button.setVisible(can(self.ctx.user.role, Permission.REASSIGN))
        self.unregistered_button = QPushButton()
        self.unregistered_button.setObjectName("unregisteredFiles")
        self.unregistered_button.setToolTip(
            self.tr("建档超过5个工作日仍未补全基本信息的新客户档案（002 客户备案）")
        )
        self._count_unregistered()
        editable = can(self.ctx.user.role, Permission.EDIT_CUSTOMERS)
        self.new_button.setEnabled(editable)
        self.archive_button.setEnabled(editable)

    def _build_table(self) -> None:
        """The customer table, its count, and the panel shown when a search finds nothing."""
        editable = can(self.ctx.user.role, Permission.EDIT_CUSTOMERS)
        self.model = CustomerTableModel(self.ctx, parent=self)
        self.table = record_table(self.model, "customerTable")
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(
            CustomerTableModel.COL_CODE, Qt.SortOrder.AscendingOrder
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, width in ((0, 90), (1, 260), (2, 50), (3, 80), (4, 80), (5, 130), (6, 80), (7, 80), (8, 60)):
            self.table.setColumnWidth(col, width)
        self.count_label = QLabel()
        # shown instead of an empty table when a search finds nothing: say so, and offer the new file
        self.empty_label = QLabel(self.tr("未找到匹配的客户"))
        self.empty_label.setObjectName("customerSearchEmpty")
        self.empty_new_button = QPushButton(self.tr("新建客户档案"))
        self.empty_new_button.setObjectName("customerSearchNew")
        self.empty_new_button.setEnabled(editable)
        self.empty_panel = QWidget()
        empty_layout = QHBoxLayout(self.empty_panel)
        empty_layout.setContentsMargins(0, 0, 0, 0)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(self.empty_new_button)
        empty_layout.addStretch(1)
        self.empty_panel.setVisible(False)

    def _lay_out(self) -> None:
        """Filters above, the table (or the empty-search panel), the buttons below."""
        filters = QHBoxLayout()
        filters.addWidget(self.search, 3)
        for w in (self.grade, self.category, self.status, self.owner, self.archived):
            filters.addWidget(w)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.open_button, self.archive_button, self.reassign_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.unregistered_button)
        buttons.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_panel)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        """The behaviour: the search (delayed), filters, buttons, Enter / double-click, Ctrl+F."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._timer.start)
        self.search.returnPressed.connect(self._open_first_or_current)
        for combo in (self.grade, self.category, self.status, self.owner):
            combo.currentIndexChanged.connect(self.apply_filter)
        self.archived.toggled.connect(self.apply_filter)
        self.new_button.clicked.connect(self.new_customer)
        self.open_button.clicked.connect(self.open_current)
        self.archive_button.clicked.connect(self.archive_current)
        self.reassign_button.clicked.connect(self.reassign)
        self.unregistered_button.clicked.connect(self.show_unregistered)
        self.empty_new_button.clicked.connect(self.new_from_search)
        # ``activated`` is a double-click or Enter on the row (Qt emits it for both); connecting
        # ``doubleClicked`` as well opened the file a second time.
        self.table.activated.connect(lambda _i: self.open_current())

        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)
        open_action = QAction(self)
        open_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        open_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        open_action.triggered.connect(self.open_current)
        self.table.addAction(open_action)

    def _combo(self, all_label: str, values: list[str]) -> QComboBox:
        combo = QComboBox()
        combo.addItem(all_label, "")
        for v in values:
            combo.addItem(v, v)
        return combo

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def current_filter(self) -> CustomerFilter:
        return replace(
            self.model.filter,
            text=self.search.text(),
            grade=self.grade.currentData() or "",
            category=self.category.currentData() or "",
            status=self.status.currentData() or "",
            owner_id=self.owner.currentData(),
            include_archived=self.archived.isChecked(),
        )

    def apply_filter(self) -> None:
        self._timer.stop()
        self.model.set_filter(self.current_filter())
        self._update_count()
        if self.model.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    def _count_unregistered(self) -> int:
        count = len(handover.unregistered_files(self.ctx))
        self.unregistered_button.setText(self.tr("未完成备案 {0}").format(count))
        self.unregistered_button.setStyleSheet("color: #d46b08;" if count else "")
        return count

    def show_unregistered(self) -> None:
        """The files past their 备案 deadline (002 §1.4), each opening from the list."""
        dialog = UnregisteredDialog(self.ctx, self)
        dialog.exec()
        self._count_unregistered()
        if dialog.changed:
            self.model.reload()
            self._update_count()

    def _update_count(self) -> None:
        self.count_label.setText(self.tr("共 {0} 位客户").format(self.model.total()))
        self.empty_panel.setVisible(bool(self.search.text().strip()) and not self.model.rowCount())

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.customer_id(rows[0].row()) if rows else None

    def _open_first_or_current(self) -> None:
        self.apply_filter()
        if self.model.rowCount():
            self.table.setFocus()
            if self.model.rowCount() == 1:
                self.open_current()

    def new_from_search(self) -> None:
        """新建客户档案 from a search that found nothing: the number (or the name) typed is filled in."""
        self.new_customer(prefill=self.search.text().strip())

    def new_customer(self, prefill: str = "") -> None:
        dialog = CustomerDialog(self.ctx, None, self, prefill=prefill)
        if dialog.exec() == CustomerDialog.DialogCode.Accepted and dialog.saved is not None:
            self.search.setText(dialog.saved.code)
            self.apply_filter()

    def open_current(self) -> None:
        cid = self.selected_id()
        if cid is None:
            return
        try:
            dialog = CustomerDialog(self.ctx, cid, self)
        except ServiceError as exc:
            show_error(self, exc)
            return
        dialog.exec()
        if dialog.changed:
            self._reload_keep(cid)

    def _reload_keep(self, cid: int) -> None:
        self.model.reload()
        self._update_count()
        row = self.model.row_of(cid)
        if row is not None:
            self.table.selectRow(row)

    def archive_current(self) -> None:
        cid = self.selected_id()
        if cid is None:
            return
        reason, ok = QInputDialog.getText(
            self, self.tr("归档客户档案"), self.tr("档案不会删除，只是不再出现在日常列表中。\n归档原因：")
        )
        if not ok:
            return
        try:
            customer_service.set_archived(self.ctx, cid, True, reason)
        except (ServiceError, ValidationError) as exc:
            show_error(self, exc)
            return
        self.model.reload()
        self._update_count()

    def reassign(self) -> None:
        dialog = ReassignDialog(self.ctx, self)
        if dialog.exec() == ReassignDialog.DialogCode.Accepted:
            QMessageBox.information(
                self, self.tr("批量移交"), self.tr("已移交 {0} 位客户。").format(dialog.moved)
            )
            self.model.reload()
            self._update_count()
