"""The 查办 list of the complaint tab (002 制度3 第十三条): late complaints 待查办 and those 已查办.

Rows come from :func:`huifang_desktop.services.complaints.inquiries` (the complaints closed after their
处理期限, or open N working days past it, and every complaint with a 查办 record). Selecting one shows it in
the detail pane, on its 查办 page, where a supervisor enters the record.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLabel, QVBoxLayout, QWidget

from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services.complaints import InquiryRow
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP
from huifang_desktop.ui.common.table_model import RowTableModel
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.complaints.model import INQUIRY_COLORS, SEVERITY_COLORS, full_time

Index = QModelIndex | QPersistentModelIndex
PENDING, DONE, ALL = "pending", "done", "all"
DONE_STATE = "已查办"  # complaint_follow.InquiryState.DONE


class InquiryTableModel(RowTableModel[InquiryRow]):
    COL_NUMBER, COL_SUBJECT, COL_SEVERITY, COL_HANDLER, COL_DUE, COL_CLOSED, COL_STATE, COL_DECIDED = range(8)
    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "投诉编号"),
        QT_TRANSLATE_NOOP("Column", "主题"),
        QT_TRANSLATE_NOOP("Column", "严重程度"),
        QT_TRANSLATE_NOOP("Column", "负责人"),
        QT_TRANSLATE_NOOP("Column", "处理期限"),
        QT_TRANSLATE_NOOP("Column", "关闭时间"),
        QT_TRANSLATE_NOOP("Column", "查办"),
        QT_TRANSLATE_NOOP("Column", "决定人"),
    )

    def set_rows(self, rows: list[InquiryRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def complaint_id(self, row: int) -> int | None:
        return self._rows[row].complaint_id if 0 <= row < len(self._rows) else None

    def row_of(self, complaint_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.complaint_id == complaint_id), None)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r = self.row_at(index)
        if r is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                r.number,
                r.subject,
                r.severity,
                r.handler,
                full_time(r.handling_due),
                full_time(r.closed_at) or r.state,
                r.inquiry.value,
                r.decided_by,
            )[col]
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == self.COL_STATE:
                return INQUIRY_COLORS.get(r.inquiry.value)
            if col == self.COL_SEVERITY:
                return SEVERITY_COLORS.get(r.severity)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.COL_STATE and r.reason:
                return self.tr("逾期原因：{0}\n改进措施：{1}").format(r.reason, r.measures)
            if col == self.COL_SUBJECT:
                return r.subject
        return None


class InquiryList(QWidget):
    """待查办 / 已查办 / 全部, newest deadline first; ``picked`` carries the selected complaint's id."""

    picked = Signal(int)

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.which = QComboBox()
        self.which.setObjectName("inquiryFilter")
        for label, key in ((self.tr("待查办"), PENDING), (self.tr("已查办"), DONE), (self.tr("全部"), ALL)):
            self.which.addItem(label, key)
        self.model = InquiryTableModel(self)
        self.table = record_table(self.model, "inquiryTable")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((0, 124), (2, 58), (3, 56), (4, 124), (5, 124), (6, 56), (7, 56)):
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(InquiryTableModel.COL_SUBJECT, QHeaderView.ResizeMode.Stretch)
        self.hint = QLabel()
        self.hint.setObjectName("inquiryListHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #595959;")
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("查办")))
        top.addWidget(self.which)
        top.addWidget(self.hint, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.which.currentIndexChanged.connect(lambda _i: self.reload())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)

    def mode(self) -> str:
        return str(self.which.currentData())

    def set_mode(self, key: str) -> None:
        self.which.setCurrentIndex(max(0, self.which.findData(key)))

    def reload(self, keep: int | None = None) -> None:
        mode = self.mode()
        try:
            rows = complaint_service.inquiries(self.ctx, pending_only=mode == PENDING)
        except ServiceError as exc:
            self.hint.setText(str(exc))
            return
        if mode == DONE:
            rows = [r for r in rows if r.inquiry.value == DONE_STATE]
        self.model.set_rows(rows)
        self.hint.setText(
            self.tr(
                "处理逾期的投诉（关闭晚于处理期限，或未结已逾期多日）须由主管填写查办单。共 {0} 件。"
            ).format(len(rows))
        )
        row = self.model.row_of(keep) if keep is not None else None
        if row is not None:
            self.table.selectRow(row)
        elif rows:
            self.table.selectRow(0)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        cid = self.model.complaint_id(current.row()) if current.isValid() else None
        if cid is not None:
            self.picked.emit(cid)
