"""Item models of the calendar tab: the plan list (drag source) and the day grid (drop target)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor

from huifang_desktop.services.visits import DayCount, PlanRow
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated
from huifang_desktop.ui.common.table_model import RowTableModel

IdRole = Qt.ItemDataRole.UserRole + 1
DateRole = Qt.ItemDataRole.UserRole + 2
PLAN_MIME = "application/x-huifang-visit-plan"

Index = QModelIndex | QPersistentModelIndex

RETURNED_STATE = "已退回"  # visited, and the record came back from review to be corrected
STATE_COLORS = {
    "逾期": QColor("#d9363e"),
    "待回访": QColor("#1f6feb"),
    "已回访": QColor("#389e0d"),
    "已取消": QColor("#8c8c8c"),
    RETURNED_STATE: QColor("#d46b08"),
}


def state_text(p: PlanRow) -> str:
    """The list's 状态: the plan's state (or 逾期), and 已退回 while its record waits for correction."""
    return RETURNED_STATE if p.state == "已回访" and p.record_status == "退回" else p.display_state


WEEKDAYS = (
    QT_TRANSLATE_NOOP("Weekday", "周一"),
    QT_TRANSLATE_NOOP("Weekday", "周二"),
    QT_TRANSLATE_NOOP("Weekday", "周三"),
    QT_TRANSLATE_NOOP("Weekday", "周四"),
    QT_TRANSLATE_NOOP("Weekday", "周五"),
    QT_TRANSLATE_NOOP("Weekday", "周六"),
    QT_TRANSLATE_NOOP("Weekday", "周日"),
)


class PlanTableModel(RowTableModel[PlanRow]):
    """Planned visits (frozen PlanRow); rows can be dragged onto a day of the grid to re-date them."""

    (
        COL_DUE,
        COL_STATE,
        COL_CODE,
        COL_NAME,
        COL_GRADE,
        COL_PHONE,
        COL_TYPE,
        COL_METHOD,
        COL_OWNER,
        COL_ATTEMPT,
    ) = range(10)
    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "计划日期"),
        QT_TRANSLATE_NOOP("Column", "状态"),
        QT_TRANSLATE_NOOP("Column", "客户编号"),
        QT_TRANSLATE_NOOP("Column", "客户名称"),
        QT_TRANSLATE_NOOP("Column", "等级"),
        QT_TRANSLATE_NOOP("Column", "电话"),
        QT_TRANSLATE_NOOP("Column", "回访类型"),
        QT_TRANSLATE_NOOP("Column", "方式"),
        QT_TRANSLATE_NOOP("Column", "回访人"),
        QT_TRANSLATE_NOOP("Column", "次数"),
    )

    def set_rows(self, rows: list[PlanRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def plan(self, row: int) -> PlanRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        p = self.row_at(index)
        if p is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                p.due.isoformat(),
                state_text(p),
                p.customer_code,
                p.customer_name,
                p.grade,
                p.phone,
                p.visit_type,
                p.method,
                p.owner,
                str(p.attempt),
            )[col]
        if role == IdRole:
            return p.id
        if role == Qt.ItemDataRole.ForegroundRole and col == self.COL_STATE:
            return STATE_COLORS.get(state_text(p))
        if role == Qt.ItemDataRole.ToolTipRole:
            window = f"{p.earliest.isoformat()} – {p.due.isoformat()}"
            extra = f"\n取消原因：{p.cancel_reason}" if p.cancel_reason else ""
            if state_text(p) == RETURNED_STATE:
                extra += self.tr("\n回访记录 {0} 被主管退回：双击按意见修改").format(p.record_number)
            return self.tr("回访窗口：{0}{1}").format(window, extra)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        p = self.plan(index.row()) if index.isValid() else None
        if p is not None and p.state == "待回访":
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base

    def mimeTypes(self) -> list[str]:
        return [PLAN_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        payload = [{"id": self._rows[r].id, "version": self._rows[r].version} for r in rows]
        mime.setData(PLAN_MIME, json.dumps(payload).encode())
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction


class DayGridModel(QAbstractTableModel):
    """A month (6 × 7) or week (1 × 7) of days with planned / done / overdue counts; accepts dropped plans."""

    plans_dropped = Signal(list, object)  # [{"id", "version"}], date

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._days: list[date] = []
        self._month = 0
        self._counts: dict[date, DayCount] = {}
        self._today = date.today()

    def set_days(
        self, first: date, weeks: int, month: int, counts: dict[date, DayCount], today: date
    ) -> None:
        self.beginResetModel()
        self._days = [first + timedelta(days=i) for i in range(weeks * 7)]
        self._month, self._counts, self._today = month, counts, today
        self.endResetModel()

    def day_at(self, index: Index) -> date | None:
        if not index.isValid():
            return None
        i = index.row() * 7 + index.column()
        return self._days[i] if 0 <= i < len(self._days) else None

    def index_of(self, day: date) -> QModelIndex:
        if day in self._days:
            i = self._days.index(day)
            return self.index(i // 7, i % 7)
        return QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._days) // 7

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else (7 if self._days else 0)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < 7
        ):
            return translated("Weekday", WEEKDAYS[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        day = self.day_at(index)
        if day is None:
            return None
        c = self._counts.get(day)
        if role == Qt.ItemDataRole.DisplayRole:
            lines = [str(day.day) if day.day != 1 else f"{day.month}月1日"]
            if c is not None and (c.planned or c.done or c.overdue):
                lines.append(self.tr("计划 {0}").format(c.planned))
                if c.done:
                    lines.append(self.tr("完成 {0}").format(c.done))
                if c.overdue:
                    lines.append(self.tr("逾期 {0}").format(c.overdue))
            return "\n".join(lines)
        if role == DateRole:
            return day
        if role == Qt.ItemDataRole.ForegroundRole:
            if c is not None and c.overdue:
                return STATE_COLORS["逾期"]
            if day.month != self._month:
                return QColor("#a0a0a0")
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            if day == self._today:
                return QColor("#e6f4ff")
            if c is not None and c.planned and c.done >= c.planned:
                return QColor("#f6ffed")
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        if role == Qt.ItemDataRole.ToolTipRole and c is not None:
            return self.tr("{0}：计划 {1}，完成 {2}，逾期 {3}").format(
                day.isoformat(), c.planned, c.done, c.overdue
            )
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDropEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [PLAN_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return data.hasFormat(PLAN_MIME) and self.day_at(parent) is not None

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        day = self.day_at(parent)
        if day is None or not data.hasFormat(PLAN_MIME):
            return False
        payload = json.loads(bytes(data.data(PLAN_MIME).data()).decode())
        self.plans_dropped.emit(payload, day)
        return False  # the move itself is done by the service; nothing to insert here
