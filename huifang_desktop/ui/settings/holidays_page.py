"""节假日: which years the mainland holiday and 调休 calendar knows, and what happens beyond them (read-only)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import policy
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.settings import load_settings
from huifang_desktop.ui.settings.page import SettingsPage

_WARN = "#ad6800"


class HolidaysPage(SettingsPage):
    """Shows :meth:`WorkCalendar.covers` for the years around today; nothing to edit or save."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.summary = QLabel()
        self.summary.setObjectName("holiday_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.years = QTableWidget(0, 2)
        self.years.setObjectName("holiday_years")
        self.years.setHorizontalHeaderLabels([self.tr("年份"), self.tr("节假日与调休")])
        self.years.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.years.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.years.verticalHeader().hide()
        self.years.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.years.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.years.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #666;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.years)
        layout.addWidget(self.notes)
        layout.addStretch(1)

    def load(self) -> None:
        cal = policy.work_calendar(self.ctx)
        entered = {int(y) for y in load_settings(self.ctx).holidays if str(y).strip().isdigit()}
        this_year = self.ctx.today().year
        span = cal.covered_range()
        if span is None:
            known = self.tr("未收录任何年份的放假安排：到期日只避开周末（周六、周日）。")
        else:
            known = self.tr("已收录 <b>{0}–{1} 年</b> 国务院公布的放假与调休安排。").format(*span)
        if entered:
            known += self.tr(" 其中 {0} 年为管理员录入。").format("、".join(str(y) for y in sorted(entered)))
        missing = [y for y in (this_year, this_year + 1) if not cal.covers(y)]
        warn = ""
        if missing:
            years = "、".join(str(y) for y in missing)
            warn = self.tr("<p style='color:{0}'><b>{1} 年的放假安排尚未收录</b>：这些年份的回访到期日只避开周末，"
                           "法定节假日不会顺延，调休上班的周末也按休息日处理。</p>").format(_WARN, years)
        self.summary.setText(f"<p>{known}</p>{warn}")

        rows = list(range(this_year - 1, this_year + 3))
        self.years.setRowCount(len(rows))
        for r, year in enumerate(rows):
            if year in entered:
                state = self.tr("已收录（管理员录入）")
            elif cal.covers(year):
                state = self.tr("已收录")
            else:
                state = self.tr("未收录：只按周末计算")
            year_item = QTableWidgetItem(self.tr("{0} 年").format(year))
            state_item = QTableWidgetItem(state)
            if not cal.covers(year):
                state_item.setForeground(QColor(_WARN))
            self.years.setItem(r, 0, year_item)
            self.years.setItem(r, 1, state_item)
        self.years.setFixedHeight(self.years.horizontalHeader().height()
                                  + sum(self.years.rowHeight(r) for r in range(len(rows))) + 4)
        self.notes.setText(self.tr(
            "回访到期日遇周末或法定节假日顺延到下一个工作日，调休上班的周末算作工作日。"
            "国务院一般在每年 11 月前后公布下一年的放假安排；公布后更新本程序即可收录。"
            "本页只供查看。"))
