"""Table models of the 台账 tab: the ledger's rows (pages fetched lazily by keyset, sorting in SQL) and the
one-row 合计 model shown under it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from huifang_desktop.services import ledgers as ledger_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers import (
    ColumnType,
    Ledger,
    LedgerColumn,
    LedgerFilter,
    LedgerRow,
    LedgerTotals,
)
from huifang_desktop.ui.common.i18n import translated

IdRole = Qt.ItemDataRole.UserRole + 1
EntityRole = Qt.ItemDataRole.UserRole + 2
SortKeyRole = Qt.ItemDataRole.UserRole + 3

Index = QModelIndex | QPersistentModelIndex

OVERDUE_COLOR = QColor("#cf1322")
MUTED_COLOR = QColor("#8c8c8c")


def display_text(column: LedgerColumn, value: Any) -> str:
    """A value as the table shows it: dates 2026-11-24, times to the minute, money with thousands."""
    if value is None or value == "":
        return ""
    if column.type is ColumnType.DATETIME and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if column.type is ColumnType.MONEY and isinstance(value, Decimal | int | float):
        return f"{Decimal(str(value)):,.2f}"
    if column.type is ColumnType.INT and isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _alignment(column: LedgerColumn) -> int:
    if column.numeric:
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if column.type in (ColumnType.DATE, ColumnType.DATETIME) or column.width <= 8:
        return int(Qt.AlignmentFlag.AlignCenter)
    return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


class LedgerTableModel(QAbstractTableModel):
    """Every column of one ledger (the view hides the ones the user does not show). Pages come from
    :func:`huifang_desktop.services.ledgers.page` as the view scrolls (``fetchMore``)."""

    def __init__(
        self, ctx: ServiceContext, page_size: int = ledger_service.PAGE_SIZE, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page_size = page_size
        self.ledger = Ledger.CUSTOMERS
        self.columns: tuple[LedgerColumn, ...] = ledger_service.columns(self.ledger)
        self.filter = LedgerFilter()
        self._rows: list[LedgerRow] = []
        self._more = False

    # --- loading -------------------------------------------------------------------------------------
    def load(self, ledger: Ledger, f: LedgerFilter) -> None:
        """Show the first page of ``ledger`` for ``f`` (a refused filter raises before anything changes)."""
        page = ledger_service.page(self.ctx, ledger, f, None, self.page_size)
        self.beginResetModel()
        self.ledger, self.filter = ledger, f
        self.columns = ledger_service.columns(ledger)
        self._rows = list(page.rows)
        self._more = page.more
        self.endResetModel()

    def reload(self) -> None:
        self.load(self.ledger, self.filter)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or not self._more or not self._rows:
            return
        page = ledger_service.page(self.ctx, self.ledger, self.filter, self._rows[-1].key, self.page_size)
        self._more = page.more
        if page.rows:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(page.rows) - 1)
            self._rows.extend(page.rows)
            self.endInsertRows()

    def sort_by(self, sort_key: str, descending: bool) -> None:
        self.load(self.ledger, replace(self.filter, sort=sort_key, descending=descending))

    # --- Qt model API --------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return translated("Ledger", column.label)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tr("点击按此列排序") if column.sort else self.tr("此列不能排序")
        if role == SortKeyRole:
            return column.sort
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        column = self.columns[index.column()]
        value = row.values[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return display_text(column, value)
        if role == Qt.ItemDataRole.ToolTipRole and isinstance(value, str) and len(value) > 20:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.flag == "overdue":
                return OVERDUE_COLOR
            if row.flag == "muted":
                return MUTED_COLOR
        if role == IdRole:
            return row.id
        if role == EntityRole:
            return row.entity
        return None

    def row_at(self, index: Index) -> LedgerRow | None:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        return self._rows[index.row()]

    def row(self, number: int) -> LedgerRow | None:
        return self._rows[number] if 0 <= number < len(self._rows) else None

    def row_of(self, entity: str, row_id: int) -> int | None:
        for i, r in enumerate(self._rows):
            if r.id == row_id and r.entity == entity:
                return i
        return None

    def column_index(self, key: str) -> int:
        return [c.key for c in self.columns].index(key)


class TotalsModel(QAbstractTableModel):
    """The 合计 row: the count in the first shown column, the sums under their columns (computed in SQL)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns: tuple[LedgerColumn, ...] = ()
        self.totals: LedgerTotals | None = None
        self.label_column = 0
        self.loading = False

    def set_columns(self, columns: tuple[LedgerColumn, ...], label_column: int) -> None:
        self.beginResetModel()
        self.columns, self.label_column = columns, label_column
        self.totals = None
        self.loading = True
        self.endResetModel()

    def set_label_column(self, label_column: int) -> None:
        self.label_column = label_column
        if self.columns:
            self.dataChanged.emit(self.index(0, 0), self.index(0, len(self.columns) - 1))

    def set_totals(self, totals: LedgerTotals | None) -> None:
        self.totals, self.loading = totals, False
        if self.columns:
            self.dataChanged.emit(self.index(0, 0), self.index(0, len(self.columns) - 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or not self.columns else 1

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.columns)
        ):
            return translated("Ledger", self.columns[section].label)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() != 0 or not 0 <= index.column() < len(self.columns):
            return None
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == self.label_column:
                if self.totals is None:
                    return self.tr("合计：计算中…") if self.loading else self.tr("合计")
                return self.tr("合计 {0} 条").format(f"{self.totals.count:,}")
            if self.totals is not None and column.key in self.totals.values:
                return display_text(column, self.totals.values[column.key])
            return ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(column)
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and self.totals is not None:
            return self.totals.summary
        return None


__all__ = ["EntityRole", "IdRole", "LedgerTableModel", "SortKeyRole", "TotalsModel", "display_text"]
