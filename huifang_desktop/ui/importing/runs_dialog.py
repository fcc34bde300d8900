"""导入记录: every Excel import, newest first, and 撤销所选导入 (all rows of one import, in one step).

Shown with ``open()`` (window-modal, never a blocking ``exec()``). The undo asks twice (the button's text
says what the second click deletes) and runs off the GUI thread; a refusal (a record with later work) is
shown in the dialog, and nothing is deleted then.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import importing
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.importing import ImportRunInfo
from huifang_desktop.ui.common.fit import fit_to_screen
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.common.worker import start_worker, wait_for_threads

_Index = QModelIndex | QPersistentModelIndex
UNDONE_COLOR = QColor("#8c8c8c")


class ImportRunsModel(QAbstractTableModel):
    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "序号"),
        QT_TRANSLATE_NOOP("Column", "导入时间"),
        QT_TRANSLATE_NOOP("Column", "台账"),
        QT_TRANSLATE_NOOP("Column", "文件"),
        QT_TRANSLATE_NOOP("Column", "工作表"),
        QT_TRANSLATE_NOOP("Column", "行数"),
        QT_TRANSLATE_NOOP("Column", "导入人"),
        QT_TRANSLATE_NOOP("Column", "状态"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[ImportRunInfo] = []

    def set_runs(self, runs: list[ImportRunInfo]) -> None:
        self.beginResetModel()
        self.runs = list(runs)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return translated("Column", self.HEADERS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.runs):
            return None
        r = self.runs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            state = (
                r.state
                if r.undone_at is None
                else self.tr("已撤销（{0} {1:%m-%d %H:%M}）").format(r.undone_by, r.undone_at)
            )
            return (
                str(r.id),
                f"{r.created_at:%Y-%m-%d %H:%M}",
                r.target.value,
                r.file_name,
                r.sheet,
                str(r.rows),
                r.created_by,
                state,
            )[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and r.undone_at is not None:
            return QBrush(UNDONE_COLOR)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (0, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ImportRunsDialog(QDialog):
    undone = Signal(object)  # UndoResult

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.busy = False
        self._armed_for: int | None = None
        self.setWindowTitle(self.tr("导入记录"))
        fit_to_screen(self, QSize(900, 420))
        self.model = ImportRunsModel(self)
        self.table = record_table(self.model, "importRuns")
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.undo_button = QPushButton(self.tr("撤销所选导入…"))
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self._undo_clicked)
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("关闭"))
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.undo_button)
        row.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                self.tr(
                    "最近的 Excel 导入。撤销会删除这次导入的全部记录；导入后已修改、已回访或已处理的"
                    "记录会使撤销被拒绝，此时什么也不删除。"
                )
            )
        )
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.reload()

    def reload(self) -> None:
        self.model.set_runs(importing.list_import_runs(self.ctx))
        self.table.resizeColumnsToContents()
        self._selection_changed()

    def selected(self) -> ImportRunInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.runs[rows[0].row()] if rows else None

    def _selection_changed(self, *_args: object) -> None:
        run = self.selected()
        self._armed_for = None
        self.undo_button.setText(self.tr("撤销所选导入…"))
        self.undo_button.setEnabled(not self.busy and run is not None and run.undone_at is None)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #a8071a;" if error else "color: #595959;")
        self.message.setText(text)

    def _undo_clicked(self) -> None:
        run = self.selected()
        if run is None or run.undone_at is not None or self.busy:
            return
        if self._armed_for != run.id:  # the first click says what the second one deletes
            self._armed_for = run.id
            self.undo_button.setText(self.tr("确认撤销：删除第 {0} 次导入的 {1} 行").format(run.id, run.rows))
            self._say(self.tr("再点一次按钮即撤销“{0}”的导入。").format(run.file_name))
            return
        self.busy = True
        self.undo_button.setEnabled(False)
        self._say(self.tr("正在撤销…"))
        run_id = run.id
        start_worker(self, lambda: importing.undo_import(self.ctx, run_id), self._undone, self._failed)

    def _undone(self, result: Any) -> None:
        self.busy = False
        self.reload()
        self._say(result.summary())
        self.undone.emit(result)

    def _failed(self, exc: Exception) -> None:
        self.busy = False
        self._selection_changed()
        self._say(str(exc), error=True)

    def wait(self, msecs: int = 30_000) -> bool:
        return wait_for_threads(self, msecs)

    def done(self, result: int) -> None:
        self.wait()
        super().done(result)


__all__ = ["ImportRunsDialog", "ImportRunsModel"]
