"""节假日: which years the holiday and 调休 calendar knows, the State Council's notice pasted in to enter a
year, and single days added or removed by hand.

The page writes through :mod:`huifang_desktop.services.holidays` when its own buttons are pressed (保存该年安排,
添加, 删除所选日, 恢复程序自带) — each change is one audited step — so the dialog's 确定 / 应用 have nothing
left to store here (:meth:`save` is the default: False).
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.holiday_notice import WEEKDAYS, HolidayNotice, parse_notice
from huifang_desktop.domain.workcal import HOLIDAY, WORKDAY
from huifang_desktop.services import holidays as holiday_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.settings.page import SettingsPage

_WARN = "#ad6800"
_ERROR = "color: #d9363e;"
_OK = "color: #237804;"


def _table(object_name: str, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(object_name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    for c in range(len(headers)):
        header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _row(table: QTableWidget, cells: list[str], data: object = None, color: str | None = None) -> None:
    r = table.rowCount()
    table.insertRow(r)
    for c, text in enumerate(cells):
        item = QTableWidgetItem(text)
        if c == 0 and data is not None:
            item.setData(Qt.ItemDataRole.UserRole, data)
        if color:
            item.setForeground(QColor(color))
        table.setItem(r, c, item)


class HolidaysPage(SettingsPage):
    """The coverage of the years around today, the notice box (解析 → table → 保存) and one year's days."""

    #: emitted after the page stored a change (a notice saved, a day added or removed, a year cleared)
    holidays_saved = Signal(int)

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.notice: HolidayNotice | None = None  # the last notice 解析 read, until saved or changed

        self._build_ui()
        self._connect()

    def _build_ui(self) -> None:
        """The widgets and their layout (no signals, no service calls)."""
        self._build_coverage()
        notice_tab = self._build_notice_tab()
        self._build_year_tab()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("holiday_tabs")
        self.notice_tab = notice_tab
        self.tabs.addTab(notice_tab, self.tr("录入国务院放假通知"))
        self.tabs.addTab(self.year_tab, self.tr("逐日查看与修改"))

        self.notes = QLabel()
        self.notes.setObjectName("holiday_notes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #666;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.years)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.notes)

    def _build_coverage(self) -> None:
        """The top: what the years around today are covered by (summary line and per-year table)."""
        self.summary = QLabel()
        self.summary.setObjectName("holiday_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.years = _table("holiday_years", [self.tr("年份"), self.tr("节假日与调休")])
        self.years.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.years.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def _build_notice_tab(self) -> QWidget:
        """录入国务院通知: the pasted notice beside the table 解析 read from it, 解析 / 保存 below."""
        self.notice_text = QPlainTextEdit()
        self.notice_text.setObjectName("notice_text")
        self.notice_text.setPlaceholderText(
            self.tr(
                "把国务院办公厅的“关于YYYY年部分节假日安排的通知”全文（连同标题）复制粘贴到这里，再按“解析”。"
            )
        )
        self.parse_button = QPushButton(self.tr("解析"))
        self.parse_button.setObjectName("parse_button")
        self.save_button = QPushButton(self.tr("保存该年安排"))
        self.save_button.setObjectName("save_notice_button")
        self.save_button.setEnabled(False)
        self.notice_message = QLabel()
        self.notice_message.setObjectName("notice_message")
        self.notice_message.setWordWrap(True)
        self.notice_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice_table = _table(
            "notice_table", [self.tr("类别"), self.tr("节日"), self.tr("日期"), self.tr("天数")]
        )
        self.notice_help = QLabel(
            self.tr(
                "国务院办公厅一般在每年 11 月前后公布下一年的放假安排。把通知全文（连同标题“国务院办公厅关于YYYY年部分"
                "节假日安排的通知”）粘贴到左边，按“解析”，核对右边读到的每个节日和调休上班日，再按“保存”：该年原有的"
                "数据（程序自带或本单位录入）整体替换。也可运行 huifang-desktop holidays import 通知.txt。"
            )
        )
        self.notice_help.setObjectName("notice_help")
        self.notice_help.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.parse_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.notice_message, 1)
        sides = QHBoxLayout()
        sides.addWidget(self.notice_text, 1)
        sides.addWidget(self.notice_table, 1)
        notice_tab = QWidget()
        nl = QVBoxLayout(notice_tab)
        nl.addWidget(self.notice_help)
        nl.addLayout(sides, 1)
        nl.addLayout(buttons)
        return notice_tab

    def _build_year_tab(self) -> None:
        """One year's days, by hand: the year, its days, and a line to add or remove one."""
        self.year_box = QComboBox()
        self.year_box.setObjectName("year_box")
        self.year_box.setProperty("keep_enabled", True)  # browsing the years stays possible when read-only
        self.year_source = QLabel()
        self.year_source.setObjectName("year_source")
        self.days = _table(
            "holiday_days", [self.tr("日期"), self.tr("星期"), self.tr("放假/上班"), self.tr("节日")]
        )
        self.day_edit = QDateEdit()
        self.day_edit.setObjectName("day_edit")
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat("yyyy-MM-dd")
        self.kind_box = QComboBox()
        self.kind_box.setObjectName("kind_box")
        self.kind_box.addItem(self.tr("放假"), HOLIDAY)
        self.kind_box.addItem(self.tr("调休上班"), WORKDAY)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("day_name")
        self.name_edit.setPlaceholderText(self.tr("节日名称（可不填）"))
        self.add_button = QPushButton(self.tr("添加"))
        self.add_button.setObjectName("add_day_button")
        self.remove_button = QPushButton(self.tr("删除所选日"))
        self.remove_button.setObjectName("remove_day_button")
        self.remove_button.setToolTip(self.tr("所选日期恢复为平常日：周一至周五上班，周六、周日休息"))
        self.clear_button = QPushButton(self.tr("恢复程序自带"))
        self.clear_button.setObjectName("clear_year_button")
        self.clear_button.setToolTip(
            self.tr("删除本单位为该年录入的数据，改用程序自带的安排（没有时只按周末计算）")
        )
        self.day_message = QLabel()
        self.day_message.setObjectName("day_message")
        self.day_message.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("年份")))
        top.addWidget(self.year_box)
        top.addWidget(self.year_source, 1)
        top.addWidget(self.clear_button)
        edit = QHBoxLayout()
        edit.addWidget(self.day_edit)
        edit.addWidget(self.kind_box)
        edit.addWidget(self.name_edit, 1)
        edit.addWidget(self.add_button)
        edit.addWidget(self.remove_button)
        self.year_tab = QWidget()
        yl = QVBoxLayout(self.year_tab)
        yl.addLayout(top)
        yl.addWidget(self.days, 1)
        yl.addLayout(edit)
        yl.addWidget(self.day_message)

    def _connect(self) -> None:
        """The behaviour: what the widgets' signals do."""
        self.notice_text.textChanged.connect(self._notice_edited)
        self.parse_button.clicked.connect(self.parse)
        self.save_button.clicked.connect(self.save_notice)
        self.year_box.currentIndexChanged.connect(lambda _i: self.show_year())
        self.add_button.clicked.connect(self.add_day)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear_year)

    # --- loading -----------------------------------------------------------------------------------------
    def load(self) -> None:
        cal = holiday_service.office_calendar(self.ctx)
        entered = set(holiday_service.entered_years(self.ctx))
        this_year = self.ctx.today().year
        span = cal.covered_range()
        if span is None:
            known = self.tr("没有任何年份的放假安排：到期日只避开周末（周六、周日）。")
        else:
            known = self.tr("已知 <b>{0}–{1} 年</b> 国务院公布的放假与调休安排。").format(*span)
        if entered:
            known += self.tr(" 其中 {0} 年为本单位录入。").format("、".join(str(y) for y in sorted(entered)))
        missing = holiday_service.unknown_years(self.ctx)
        warn = ""
        if missing:
            warn = self.tr(
                "<p style='color:{0}'><b>{1} 年的节假日尚未录入</b>：这些年份的到期日只避开周末，"
                "法定节假日不顺延，调休上班的周末按休息日算。国务院公布后请在下面粘贴通知录入。</p>"
            ).format(_WARN, "、".join(str(y) for y in missing))
        self.summary.setText(f"<p>{known}</p>{warn}")

        rows = list(range(this_year - 1, this_year + 3))
        self.years.setRowCount(0)
        for year in rows:
            if year in entered:
                state = (
                    self.tr("本单位录入")
                    if cal.covers(year)
                    else self.tr("本单位录入了部分日期：仍按未录入提醒")
                )
            elif cal.covers(year):
                state = self.tr("程序自带")
            else:
                state = self.tr("尚未录入：只按周末计算")
            _row(
                self.years, [self.tr("{0} 年").format(year), state], color=None if cal.covers(year) else _WARN
            )
        self.years.setFixedHeight(
            self.years.horizontalHeader().height()
            + sum(self.years.rowHeight(r) for r in range(len(rows)))
            + 4
        )

        wanted = self.year_box.currentData() or (missing[0] if missing else this_year)
        shown = sorted(set(rows) | entered | set(missing))
        self.year_box.blockSignals(True)
        self.year_box.clear()
        for year in shown:
            self.year_box.addItem(self.tr("{0} 年").format(year), year)
        self.year_box.setCurrentIndex(max(0, self.year_box.findData(wanted)))
        self.year_box.blockSignals(False)
        self.show_year()
        self.notes.setText(
            self.tr(
                "回访和投诉的到期日遇周末或法定节假日顺延到下一个工作日，调休上班的周末算作工作日。"
                "单位自定的假日或个别更正可在“逐日查看与修改”中添加、删除。每次修改都记入操作日志。"
            )
        )

    def show_year(self) -> None:
        year = self.year_box.currentData()
        if year is None:
            return
        data = holiday_service.year_holidays(self.ctx, int(year))
        source = {
            holiday_service.FROM_OFFICE: self.tr("本单位录入"),
            holiday_service.FROM_PACKAGE: self.tr("程序自带"),
            holiday_service.FROM_NOWHERE: self.tr("尚未录入：只按周末计算"),
        }[data.source]
        if data.source == holiday_service.FROM_OFFICE and not data.known:
            source = self.tr("本单位录入了部分日期：仍按未录入提醒")
        self.year_source.setText(
            self.tr("{0}；放假 {1} 天，调休上班 {2} 天").format(
                source, len(data.of_kind(HOLIDAY)), len(data.of_kind(WORKDAY))
            )
        )
        self.clear_button.setVisible(data.source == holiday_service.FROM_OFFICE)
        self.days.setRowCount(0)
        for d in data.days:
            kind = self.tr("放假") if d.kind == HOLIDAY else self.tr("调休上班")
            _row(
                self.days,
                [d.day.isoformat(), self.tr("周{0}").format(WEEKDAYS[d.day.weekday()]), kind, d.name],
                data=d.day.isoformat(),
            )
        if self.day_edit.date().year() != int(year):
            self.day_edit.setDate(QDate(int(year), 1, 1))

    # --- the notice ----------------------------------------------------------------------------------------
    def parse(self) -> HolidayNotice | None:
        """解析: read the pasted text and show every range and 调休 working day (nothing is stored)."""
        self.notice = None
        self.save_button.setEnabled(False)
        self.save_button.setText(self.tr("保存该年安排"))
        self.notice_table.setRowCount(0)
        text = self.notice_text.toPlainText()
        if not text.strip():
            self._say(self.notice_message, self.tr("请先粘贴通知全文。"), _ERROR)
            return None
        try:
            notice = parse_notice(text)
        except ValidationError as exc:
            self._say(
                self.notice_message,
                self.tr("未能读取通知，没有保存任何内容：{0}").format(
                    "；".join(e.message for e in exc.errors)
                ),
                _ERROR,
            )
            return None
        for r in notice.ranges:
            span = (
                r.first.isoformat()
                if r.length == 1
                else self.tr("{0} 至 {1}").format(r.first.isoformat(), r.last.isoformat())
            )
            _row(self.notice_table, [self.tr("放假"), r.name, span, str(r.length)])
        for w in notice.workdays:
            _row(
                self.notice_table,
                [
                    self.tr("调休上班"),
                    w.name,
                    self.tr("{0}（周{1}）").format(w.day.isoformat(), WEEKDAYS[w.day.weekday()]),
                    "1",
                ],
            )
        before = holiday_service.year_holidays(self.ctx, notice.year)
        replaces = {
            holiday_service.FROM_OFFICE: self.tr("保存将替换本单位原先录入的 {0} 年数据。"),
            holiday_service.FROM_PACKAGE: self.tr("保存将替换程序自带的 {0} 年数据。"),
        }.get(before.source, "").format(notice.year)
        self._say(
            self.notice_message,
            self.tr("读到 {0} 年：{1} 个节日共 {2} 天放假，{3} 天调休上班。请核对后保存。{4}").format(
                notice.year,
                len(notice.ranges),
                len(notice.holiday_dates()),
                len(notice.workday_dates()),
                replaces,
            ),
            "",
        )
        self.notice = notice
        self.save_button.setText(self.tr("保存 {0} 年安排").format(notice.year))
        self.save_button.setEnabled(not self.notice_text.isReadOnly())
        return notice

    def save_notice(self) -> bool:
        """保存: store the notice 解析 read, replacing that year (one audited step)."""
        notice = self.notice
        if notice is None:
            return False
        try:
            holiday_service.save_notice(self.ctx, notice)
        except (ServiceError, ValidationError) as exc:
            self._say(self.notice_message, self.tr("未保存：{0}").format(exc), _ERROR)
            return False
        self.notice = None
        self.save_button.setEnabled(False)
        self.year_box.blockSignals(True)
        self.year_box.setCurrentIndex(-1)
        self.year_box.blockSignals(False)
        self.load()
        self.year_box.setCurrentIndex(max(0, self.year_box.findData(notice.year)))
        self._say(
            self.notice_message,
            self.tr("已保存 {0} 年的放假安排：放假 {1} 天，调休上班 {2} 天。").format(
                notice.year, len(notice.holiday_dates()), len(notice.workday_dates())
            ),
            _OK,
        )
        self.holidays_saved.emit(notice.year)
        return True

    def _notice_edited(self) -> None:
        if self.notice is not None:
            self.notice = None
            self.save_button.setEnabled(False)
            self.save_button.setText(self.tr("保存该年安排"))
            self._say(self.notice_message, self.tr("文字已改动，请重新解析。"), "")

    # --- single days ---------------------------------------------------------------------------------------
    def add_day(self) -> bool:
        q = self.day_edit.date()
        day = date(q.year(), q.month(), q.day())
        return self._change(day, str(self.kind_box.currentData()), self.name_edit.text())

    def remove_selected(self) -> bool:
        rows = self.days.selectionModel().selectedRows()
        if not rows:
            self._say(self.day_message, self.tr("请先在表中选择要删除的日期。"), _ERROR)
            return False
        item = self.days.item(rows[0].row(), 0)
        if item is None:
            return False
        return self._change(date.fromisoformat(str(item.data(Qt.ItemDataRole.UserRole))), None, "")

    def clear_year(self) -> bool:
        year = int(self.year_box.currentData())
        try:
            holiday_service.clear_year(self.ctx, year)
        except (ServiceError, ValidationError) as exc:
            self._say(self.day_message, str(exc), _ERROR)
            return False
        self._reload(year)
        self._say(self.day_message, self.tr("{0} 年已恢复为程序自带的安排。").format(year), _OK)
        return True

    def _change(self, day: date, kind: str | None, name: str) -> bool:
        try:
            holiday_service.set_day(self.ctx, day, kind, name)
        except (ServiceError, ValidationError) as exc:
            text = "；".join(e.message for e in exc.errors) if isinstance(exc, ValidationError) else str(exc)
            self._say(self.day_message, text, _ERROR)
            return False
        self._reload(day.year)
        what = (
            self.tr("恢复为平常日")
            if kind is None
            else self.tr("改为{0}").format(self.tr("放假") if kind == HOLIDAY else self.tr("调休上班"))
        )
        self._say(self.day_message, self.tr("已将 {0} {1}。").format(day.isoformat(), what), _OK)
        self.name_edit.clear()
        return True

    def _reload(self, year: int) -> None:
        self.load()
        self.year_box.setCurrentIndex(max(0, self.year_box.findData(year)))
        self.holidays_saved.emit(year)

    @staticmethod
    def _say(label: QLabel, text: str, style: str) -> None:
        label.setStyleSheet(style)
        label.setText(text)
