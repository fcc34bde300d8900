"""Item models of the complaint tab: the 投诉台账 (paged, overdue first) and the detail pane's small tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services.complaints import (
    AttachmentRow,
    ComplaintFilter,
    ComplaintRow,
    EventRow,
    OccurrenceRow,
    RepeatRow,
)
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP
from huifang_desktop.ui.common.table_model import RowTableModel

IdRole = Qt.ItemDataRole.UserRole + 1
# rows read at a time: the register shows 20–40 on screen and reads on as it scrolls (fetchMore); 200 like
# the 台账 tab (500 cost 65 ms of a 146 ms first page on the 10,000-customer office)
PAGE_SIZE = 200

Index = QModelIndex | QPersistentModelIndex

OVERDUE_TEXT = QColor("#d9363e")
OVERDUE_BACKGROUND = QColor("#ffe4e1")
FINAL_TEXT = QColor("#8c8c8c")
SEVERITY_COLORS = {"重要": QColor("#d46b08"), "重大": QColor("#d9363e")}
NOT_LATE, INQUIRY_NONE, INQUIRY_PENDING = "否", "无需", "待查办"  # complaint_follow.Lateness / InquiryState
INQUIRY_COLORS = {"待查办": QColor("#d46b08"), "已查办": QColor("#389e0d")}
STATE_COLORS = {
    "待受理": QColor("#d46b08"),
    "处理中": QColor("#1f6feb"),
    "待回访": QColor("#722ed1"),
    "已关闭": QColor("#389e0d"),
    "已撤销": QColor("#8c8c8c"),
}


def short_time(value: datetime | None, now: datetime) -> str:
    """``11-24 09:30`` within the current year, ``2025-11-24`` before: the table stays narrow."""
    if value is None:
        return ""
    return f"{value:%m-%d %H:%M}" if value.year == now.year else f"{value:%Y-%m-%d}"


def full_time(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1048576:.1f} MB"


class ComplaintTableModel(RowTableModel[ComplaintRow]):
    """The register: rows come from :func:`complaints.list_complaints` a page (500) at a time, in the
    service's queue order (overdue first, then open by deadline, then closed newest first)."""

    (
        COL_NUMBER,
        COL_KIND,
        COL_RECEIVED,
        COL_COMPLAINANT,
        COL_SUBJECT,
        COL_CATEGORY,
        COL_SEVERITY,
        COL_HANDLER,
        COL_FIRST_RESPONDER,
        COL_DEADLINE,
        COL_STATE,
        COL_OVERDUE,
        COL_INQUIRY,
        COL_OCCURRENCES,
    ) = range(14)
    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "投诉编号"),
        QT_TRANSLATE_NOOP("Column", "类型"),
        QT_TRANSLATE_NOOP("Column", "受理时间"),
        QT_TRANSLATE_NOOP("Column", "投诉人"),
        QT_TRANSLATE_NOOP("Column", "主题"),
        QT_TRANSLATE_NOOP("Column", "类别"),
        QT_TRANSLATE_NOOP("Column", "严重程度"),
        QT_TRANSLATE_NOOP("Column", "负责人"),
        QT_TRANSLATE_NOOP("Column", "首问责任人"),
        QT_TRANSLATE_NOOP("Column", "期限"),
        QT_TRANSLATE_NOOP("Column", "状态"),
        QT_TRANSLATE_NOOP("Column", "是否逾期"),
        QT_TRANSLATE_NOOP("Column", "查办"),
        QT_TRANSLATE_NOOP("Column", "重复"),
    )
    CENTERED = frozenset({COL_KIND, COL_SEVERITY, COL_STATE, COL_OVERDUE, COL_INQUIRY, COL_OCCURRENCES})

    def __init__(
        self, ctx: ServiceContext, page_size: int = PAGE_SIZE, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page_size = page_size
        self.filter = ComplaintFilter()
        self._exhausted = True
        self._total: int | None = None
        self._now = ctx.now()
        self._bold = QFont()
        self._bold.setBold(True)

    # --- loading ---------------------------------------------------------------------------------------
    def set_filter(self, f: ComplaintFilter) -> None:
        self.beginResetModel()
        self.filter = f
        self._now = self.ctx.now()
        self._rows = complaint_service.list_complaints(self.ctx, f, limit=self.page_size, offset=0)
        self._exhausted = len(self._rows) < self.page_size
        self._total = None
        self.endResetModel()

    def reload(self) -> None:
        self.set_filter(self.filter)

    def total(self) -> int:
        """Rows matching the filter (counted in SQL once per filter, only when not all are loaded)."""
        if self._total is None:
            self._total = (
                len(self._rows)
                if self._exhausted
                else complaint_service.count_complaints(self.ctx, self.filter)
            )
        return self._total

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted:
            return
        page = complaint_service.list_complaints(
            self.ctx, self.filter, limit=self.page_size, offset=len(self._rows)
        )
        self._exhausted = len(page) < self.page_size
        known = {r.id for r in self._rows}
        page = [r for r in page if r.id not in known]  # a row that moved up while paging is not shown twice
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
        if role == Qt.ItemDataRole.BackgroundRole and row.overdue:
            return OVERDUE_BACKGROUND
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == self.COL_OVERDUE:
                return OVERDUE_TEXT if row.lateness != NOT_LATE else FINAL_TEXT
            if col == self.COL_INQUIRY:
                return INQUIRY_COLORS.get(row.inquiry)
            if row.state in ("已关闭", "已撤销"):
                return FINAL_TEXT
            if col == self.COL_SEVERITY:
                return SEVERITY_COLORS.get(row.severity)
            if col == self.COL_STATE:
                return STATE_COLORS.get(row.state)
            if col == self.COL_DEADLINE and row.overdue:
                return OVERDUE_TEXT
            return None
        if (
            role == Qt.ItemDataRole.FontRole
            and col in (self.COL_OVERDUE, self.COL_INQUIRY)
            and (row.overdue or row.inquiry == INQUIRY_PENDING)
        ):
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and col in self.CENTERED:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, col)
        return None

    def _display(self, row: ComplaintRow, col: int) -> str:
        if col == self.COL_RECEIVED:
            return short_time(row.received_at, self._now)
        if col == self.COL_DEADLINE:
            return short_time(row.deadline, self._now) if row.state not in ("已关闭", "已撤销") else ""
        if col == self.COL_OVERDUE:  # 否 / 逾期办结 / 逾期未办 (投诉台账's 是否逾期)
            return row.lateness if row.kind == "投诉" or row.lateness != NOT_LATE else ""
        if col == self.COL_INQUIRY:  # 待查办 / 已查办; nothing when no 查办 is needed
            return "" if row.inquiry == INQUIRY_NONE else row.inquiry
        if col == self.COL_OCCURRENCES:
            return str(row.occurrences) if row.occurrences > 1 else ""
        if col == self.COL_COMPLAINANT:
            return row.complainant or row.customer_name
        return {
            self.COL_NUMBER: row.number,
            self.COL_KIND: row.kind,
            self.COL_SUBJECT: row.subject,
            self.COL_CATEGORY: row.category,
            self.COL_SEVERITY: row.severity if row.kind == "投诉" else "",
            self.COL_HANDLER: row.handler,
            self.COL_FIRST_RESPONDER: row.first_responder,
            self.COL_STATE: row.state,
        }.get(col, "")

    def _tooltip(self, row: ComplaintRow, col: int) -> str | None:
        if col == self.COL_NUMBER:
            return f"{row.number}　{row.kind}"
        if col == self.COL_RECEIVED:
            return full_time(row.received_at) + f"　{row.channel}"
        if col == self.COL_DEADLINE and row.deadline is not None:
            return self.tr("当前期限：{0}").format(full_time(row.deadline))
        if col == self.COL_SUBJECT:
            return row.subject
        if col == self.COL_COMPLAINANT:
            parts = [p for p in (row.complainant, row.phone, row.customer_name) if p]
            return "　".join(parts) or None
        if col == self.COL_HANDLER and row.escalation_level:
            return self.tr("已逾期升级 {0} 级").format(row.escalation_level)
        if col == self.COL_FIRST_RESPONDER and row.first_responder:
            return self.tr("首问责任人：{0}（跟进本件，每步处理都会通知）").format(row.first_responder)
        if col == self.COL_INQUIRY and row.inquiry == INQUIRY_PENDING:
            return self.tr("处理逾期，待主管填写查办单")
        if col == self.COL_OCCURRENCES and row.occurrences > 1:
            return self.tr("同一事项共投诉 {0} 次").format(row.occurrences)
        return None

    def complaint_id(self, row: int) -> int | None:
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def row_of(self, complaint_id: int) -> int | None:
        for i, r in enumerate(self._rows):
            if r.id == complaint_id:
                return i
        return None


class RepeatTableModel(RowTableModel[RepeatRow]):
    """Likely repeats shown beside the intake form."""

    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "投诉编号"),
        QT_TRANSLATE_NOOP("Column", "受理日期"),
        QT_TRANSLATE_NOOP("Column", "主题"),
        QT_TRANSLATE_NOOP("Column", "状态"),
        QT_TRANSLATE_NOOP("Column", "相似度"),
    )

    def set_rows(self, rows: list[RepeatRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def repeat(self, row: int) -> RepeatRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r = self.row_at(index)
        if r is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (r.number, f"{r.received_at:%Y-%m-%d}", r.subject, r.state, f"{r.similarity * 100:.0f}%")[
                index.column()
            ]
        if role == IdRole:
            return r.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{r.number}　{r.complainant}\n{r.subject}"
        return None


class OccurrenceTableModel(RowTableModel[OccurrenceRow]):
    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "受理时间"),
        QT_TRANSLATE_NOOP("Column", "渠道"),
        QT_TRANSLATE_NOOP("Column", "投诉人"),
        QT_TRANSLATE_NOOP("Column", "联系方式"),
        QT_TRANSLATE_NOOP("Column", "受理人"),
        QT_TRANSLATE_NOOP("Column", "说明"),
    )
    _now = datetime.min

    def set_rows(self, rows: tuple[OccurrenceRow, ...], now: datetime | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._now = now or datetime.min
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        o = self.row_at(index)
        if o is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            shown = (
                full_time(o.received_at)
                if role == Qt.ItemDataRole.ToolTipRole
                else short_time(o.received_at, self._now)
            )
            return (shown, o.channel, o.complainant, o.phone, o.received_by, o.note)[index.column()]
        return None


class EventTableModel(RowTableModel[EventRow]):
    """The complaint's full history: every state change with who and when."""

    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "时间"),
        QT_TRANSLATE_NOOP("Column", "操作人"),
        QT_TRANSLATE_NOOP("Column", "操作"),
        QT_TRANSLATE_NOOP("Column", "状态变化"),
        QT_TRANSLATE_NOOP("Column", "说明"),
    )
    _now = datetime.min  # times in this year show without the year

    def set_rows(self, rows: tuple[EventRow, ...], now: datetime | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._now = now or (rows[-1].at if rows else datetime.min)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        e = self.row_at(index)
        if e is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if e.from_state and e.to_state:
                change = f"{e.from_state} → {e.to_state}"
            else:
                change = e.to_state
            if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
                return full_time(e.at)
            return (short_time(e.at, self._now), e.user, e.action, change, e.note)[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and e.action in ("逾期升级", "催办"):
            return OVERDUE_TEXT
        return None


class AttachmentTableModel(RowTableModel[AttachmentRow]):
    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "文件名"),
        QT_TRANSLATE_NOOP("Column", "类型"),
        QT_TRANSLATE_NOOP("Column", "大小"),
        QT_TRANSLATE_NOOP("Column", "添加时间"),
        QT_TRANSLATE_NOOP("Column", "附于"),
    )
    _now = datetime.min

    def set_rows(self, rows: tuple[AttachmentRow, ...], now: datetime | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._now = now or datetime.min
        self.endResetModel()

    def attachment(self, row: int) -> AttachmentRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        a = self.row_at(index)
        if a is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            shared = self.tr("{0} 件投诉").format(a.shared) if a.shared > 1 else self.tr("本件")
            return (a.name, a.kind, file_size(a.size), short_time(a.created_at, self._now), shared)[
                index.column()
            ]
        if role == IdRole:
            return a.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{a.name}\n{full_time(a.created_at)}"
        return None
