"""Customer table model: frozen rows, pages of 500 fetched lazily with keyset paging, sorting in SQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from huifang_desktop.services import customers as customer_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import CustomerRow
from huifang_desktop.storage.queries import CustomerFilter
from huifang_desktop.ui.common.table_model import RowTableModel

IdRole = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex


class CustomerTableModel(RowTableModel[CustomerRow]):
    COL_CODE, COL_NAME, COL_GRADE, COL_CATEGORY, COL_CONTACT, COL_PHONE, COL_REGION, COL_OWNER, COL_STATUS, \
        COL_CREATED = range(10)
    HEADERS = ("客户编号", "客户名称", "等级", "类别", "联系人", "电话", "区域", "负责人", "状态", "建档日期")
    # column -> sort key understood by the query builder (None: not sortable)
    SORT_KEYS = {COL_CODE: "code", COL_NAME: "name", COL_GRADE: "grade", COL_CATEGORY: "category",
                 COL_REGION: "region", COL_STATUS: "status", COL_CREATED: "created_on"}

    def __init__(self, ctx: ServiceContext, page_size: int = customer_service.PAGE_SIZE, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.ctx = ctx
        self.page_size = page_size
        self.filter = CustomerFilter()
        self._exhausted = True
        self._total: int | None = None

    # --- loading ---------------------------------------------------------------------------------------
    def set_filter(self, f: CustomerFilter) -> None:
        self.beginResetModel()
        self.filter = f
        self._rows = customer_service.list_customers(self.ctx, f, None, self.page_size)
        self._exhausted = len(self._rows) < self.page_size
        self._total = None
        self.endResetModel()

    def reload(self) -> None:
        self.set_filter(self.filter)

    def total(self) -> int:
        """Rows matching the filter (counted in SQL once per filter)."""
        if self._total is None:
            self._total = len(self._rows) if self._exhausted else customer_service.count_customers(
                self.ctx, self.filter)
        return self._total

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or not self._rows:
            return
        last = self._rows[-1]
        page = customer_service.list_customers(self.ctx, self.filter, (last.sort_key, last.id), self.page_size)
        self._exhausted = len(page) < self.page_size
        if page:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()

    # --- Qt model API ------------------------------------------------------------------------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == IdRole:
            return row.id
        if role == Qt.ItemDataRole.ForegroundRole and (row.archived or row.status in ("流失", "注销")):
            return QColor("#8c8c8c")
        if role == Qt.ItemDataRole.ToolTipRole and col == self.COL_GRADE and row.grade_pinned:
            return self.tr("等级由主管手动指定")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.COL_GRADE, self.COL_CREATED):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _display(self, row: CustomerRow, col: int) -> str:
        if col == self.COL_CODE:
            return row.code
        if col == self.COL_NAME:
            return row.name + (self.tr("（已归档）") if row.archived else "")
        if col == self.COL_GRADE:
            return row.grade + ("*" if row.grade_pinned else "")
        return {
            self.COL_CATEGORY: row.category, self.COL_CONTACT: row.contact, self.COL_PHONE: row.phone,
            self.COL_REGION: row.region, self.COL_OWNER: row.owner, self.COL_STATUS: row.status,
            self.COL_CREATED: row.created_on.isoformat() if row.created_on else "",
        }.get(col, "")

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self.SORT_KEYS.get(column)
        if key is None:
            return
        self.set_filter(replace(self.filter, sort=key, descending=order == Qt.SortOrder.DescendingOrder))

    def customer_id(self, row: int) -> int | None:
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def row_of(self, customer_id: int) -> int | None:
        for i, r in enumerate(self._rows):
            if r.id == customer_id:
                return i
        return None
