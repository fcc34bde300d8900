"""Table models of the import wizard: the sheet preview and the validation report's problems."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from huifang_desktop.services.importing import IssueKind, RowIssue, column_letter
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP
from huifang_desktop.ui.common.table_model import RowTableModel

Index = QModelIndex | QPersistentModelIndex
HEADER_ROW_COLOR = QColor("#ffe58f")  # the detected header row in the preview
DUPLICATE_COLOR = QColor("#8c6d1f")
ERROR_COLOR = QColor("#a8071a")


class PreviewModel(QAbstractTableModel):
    """The first rows of a sheet as Excel shows them: columns A, B, …, rows numbered from 1; the header
    row highlighted and bold."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: tuple[tuple[str, ...], ...] = ()
        self._width = 0
        self.header_row: int | None = None

    def set_rows(self, rows: tuple[tuple[str, ...], ...], width: int, header_row: int | None) -> None:
        self.beginResetModel()
        self._rows, self._width, self.header_row = rows, width, header_row
        self.endResetModel()

    def set_header_row(self, header_row: int | None) -> None:
        self.header_row = header_row
        if self._rows and self._width:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self._width - 1))
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, len(self._rows) - 1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._width

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            not index.isValid()
            or not (0 <= index.row() < len(self._rows))
            or not 0 <= index.column() < self._width
        ):
            return None
        is_header = self.header_row == index.row() + 1
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            row = self._rows[index.row()]
            return row[index.column()] if index.column() < len(row) else ""
        if role == Qt.ItemDataRole.BackgroundRole and is_header:
            return QBrush(HEADER_ROW_COLOR)
        if role == Qt.ItemDataRole.FontRole and is_header:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < self._width:
            return column_letter(section)
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None


class IssueModel(RowTableModel[RowIssue]):
    """The problems of the validation report: 行号, 列, 问题, 类型 (errors red, duplicates brown)."""

    COL_ROW, COL_COLUMN, COL_MESSAGE, COL_KIND = range(4)
    HEADERS: ClassVar[tuple[str, ...]] = (
        QT_TRANSLATE_NOOP("Column", "行号"),
        QT_TRANSLATE_NOOP("Column", "列"),
        QT_TRANSLATE_NOOP("Column", "问题"),
        QT_TRANSLATE_NOOP("Column", "类型"),
    )

    def set_issues(self, issues: tuple[RowIssue, ...]) -> None:
        self.beginResetModel()
        self._rows = list(issues)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        issue = self.row_at(index)
        if issue is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if col == self.COL_ROW:
                return issue.row
            if col == self.COL_COLUMN:
                return issue.where
            if col == self.COL_MESSAGE:
                return issue.message
            if col == self.COL_KIND:
                return issue.kind.value
        if role == Qt.ItemDataRole.ForegroundRole and col == self.COL_KIND:
            return QBrush(DUPLICATE_COLOR if issue.kind is IssueKind.DUPLICATE else ERROR_COLOR)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.COL_ROW:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
