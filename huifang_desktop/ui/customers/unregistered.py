"""未完成备案: the new customer files still without their basic information 5 working days after 建档
(002 §1.4 客户备案), listed from the start-up reminder or the 客户档案 tab; each file opens from the list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import handover
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.common.feedback import show_error
from huifang_desktop.ui.common.i18n import translated
from huifang_desktop.ui.common.tables import record_widget
from huifang_desktop.ui.customers.dialog import CustomerDialog

IdRole = Qt.ItemDataRole.UserRole + 1


class UnregisteredDialog(QDialog):
    """The list of files past their 备案 deadline; 打开 (or Enter / double-click) opens the file to complete
    it, and the list is read again afterwards (a completed file leaves it)."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.changed = False  # a file was saved from here (the caller reloads its own list)
        self.setWindowTitle(self.tr("未完成备案的新客户档案"))
        self.note = QLabel(
            self.tr(
                "002 客户备案：接触新客户后须在5个工作日内填写客户基本信息（类别、地址、联系人、"
                "联系电话、负责人）。以下档案已过期限仍未补全，双击打开补全。"
            )
        )
        self.note.setWordWrap(True)
        self.table = record_widget(
            [
                self.tr("客户编号"),
                self.tr("客户名称"),
                self.tr("负责人"),
                self.tr("建档日期"),
                self.tr("备案期限"),
                self.tr("尚缺"),
            ],
            5,
            "unregisteredTable",
            parent=self,
        )
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        for col, width in ((0, 90), (1, 220), (2, 70), (3, 90), (4, 90)):
            self.table.setColumnWidth(col, width)
        self.open_button = QPushButton(self.tr("打开档案(&O)"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.open_button.clicked.connect(self.open_current)
        self.table.itemActivated.connect(lambda _item: self.open_current())
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(780, 420)
        self.reload()

    def reload(self) -> None:
        rows = handover.unregistered_files(self.ctx)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            missing = "、".join(translated("Ledger", m) for m in r.missing)
            values = (r.code, r.name, r.owner, r.first_contact.isoformat(), r.due.isoformat(), missing)
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setData(IdRole, r.customer_id)
                self.table.setItem(i, col, item)
        if rows:
            self.table.selectRow(0)
        self.open_button.setEnabled(bool(rows))
        self.setWindowTitle(self.tr("未完成备案的新客户档案（{0}）").format(len(rows)))

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return int(item.data(IdRole)) if item is not None else None

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
            self.changed = True
            self.reload()
