"""A read-only table model over one :class:`~huifang_desktop.domain.stats.ReportTable` of a report."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from huifang_desktop.domain.stats import TOTAL_LABEL, ColumnFormat, ReportTable

Index = QModelIndex | QPersistentModelIndex
TOTAL_BACKGROUND = QColor("#f2f2f2")
BELOW_TARGET = QColor("#d9363e")


class ReportTableModel(QAbstractTableModel):
    """Cells as the reports print them (``85.0%``, ``1,250``, ``—``); numbers right-aligned; the 合计 row
    bold on grey. ``UserRole`` gives the raw value (for sorting and tests)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._table: ReportTable | None = None
        self._text: tuple[tuple[str, ...], ...] = ()

    def set_table(self, table: ReportTable | None) -> None:
        self.beginResetModel()
        self._table = table
        self._text = table.text_rows() if table is not None else ()
        self.endResetModel()

    @property
    def table(self) -> ReportTable | None:
        return self._table

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._table is None else len(self._table.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._table is None else len(self._table.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if self._table is None or role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._table.headers):
            return self._table.headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        table = self._table
        if table is None or not index.isValid():
            return None
        r, c = index.row(), index.column()
        if not (0 <= r < len(table.rows) and 0 <= c < len(table.headers)):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text[r][c]
        if role == Qt.ItemDataRole.UserRole:
            return table.rows[r][c]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if table.format_at(r, c) is ColumnFormat.TEXT and c == 0:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            text = self._text[r][c]
            numeric = (
                table.format_at(r, c) is not ColumnFormat.TEXT
                or (bool(text) and text[0] in "+-—…")
                or text == "持平"
            )  # the 变化 column lines up with the figures
            return int(
                (Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft)
                | Qt.AlignmentFlag.AlignVCenter
            )
        if role == Qt.ItemDataRole.FontRole and self._is_total(r):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole and self._is_total(r):
            return QBrush(TOTAL_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole and self._text[r][c] == "未达标":
            return QBrush(BELOW_TARGET)
        return None

    def _is_total(self, row: int) -> bool:
        assert self._table is not None
        return bool(self._table.rows[row]) and self._table.rows[row][0] == TOTAL_LABEL


__all__ = ["ReportTableModel"]
