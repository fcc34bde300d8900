"""设置 → 节假日 (issue 19 item 10): paste the State Council's notice, 解析 shows every range and 调休 working
day, 保存 replaces the year; single days added and removed by hand; read-only for clerks. Clock 2026-11-24."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QDate, Qt
from sqlalchemy import select

from huifang_desktop.services import holidays
from huifang_desktop.services.settings import load_settings
from huifang_desktop.storage.models import AuditLog
from huifang_desktop.ui.settings import SettingsDialog
from tests.domain.notices import NOTICE_2027_EXAMPLE


@pytest.fixture
def open_page(qtbot, ctx):
    def _open(user):
        dialog = SettingsDialog(ctx.as_user(user))
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.show_page("节假日")
        return dialog, dialog.holidays_page

    return _open


def _cells(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_paste_parse_and_save_a_notice(qtbot, ctx, admin, open_page):
    dialog, page = open_page(admin)
    assert "2027 年的节假日尚未录入" in page.summary.text()  # November: next year is near and unknown
    assert "本页只供查看" not in page.notes.text() and "粘贴" in page.notice_help.text()
    assert not page.save_button.isEnabled()

    page.notice_text.setPlainText(NOTICE_2027_EXAMPLE)
    qtbot.mouseClick(page.parse_button, Qt.MouseButton.LeftButton)
    rows = _cells(page.notice_table)
    assert rows[:2] == [
        ["放假", "元旦", "2027-01-01 至 2027-01-03", "3"],
        ["放假", "春节", "2027-02-05 至 2027-02-12", "8"],
    ]
    assert ["放假", "端午节", "2027-06-09", "1"] in rows
    assert rows[7:9] == [
        ["调休上班", "春节", "2027-02-14（周日）", "1"],
        ["调休上班", "春节", "2027-02-20（周六）", "1"],
    ]
    assert len(rows) == 7 + 6
    assert "读到 2027 年：7 个节日共 28 天放假，6 天调休上班" in page.notice_message.text()
    assert holidays.entered_years(ctx) == []  # 解析 stores nothing
    assert page.save_button.isEnabled() and page.save_button.text() == "保存 2027 年安排"

    with qtbot.waitSignal(page.holidays_saved) as saved:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert saved.args == [2027]
    assert holidays.entered_years(ctx) == [2027]
    assert not holidays.office_calendar(ctx).is_workday(date(2027, 2, 8))
    assert "已保存 2027 年的放假安排：放假 28 天，调休上班 6 天。" in page.notice_message.text()
    assert "尚未录入" not in page.summary.text()
    assert page.year_box.currentData() == 2027 and page.days.rowCount() == 34
    assert _cells(page.days)[0] == ["2027-01-01", "周五", "放假", "元旦"]
    assert page.year_source.text().startswith("本单位录入；放假 28 天，调休上班 6 天")
    with ctx.sessions() as s:
        assert (
            s.execute(select(AuditLog.label).order_by(AuditLog.id.desc())).scalars().first()
            == "2027 年节假日（国务院通知）"
        )

    # 确定 afterwards: the 单位信息 page read the settings before the notice was saved and must not undo it
    dialog.office_page.company.setText("甬达物流")
    assert dialog.apply()
    assert load_settings(ctx).company == "甬达物流" and holidays.entered_years(ctx) == [2027]


def test_text_that_cannot_be_read_is_named_and_nothing_is_saved(qtbot, ctx, admin, open_page):
    _dialog, page = open_page(admin)
    page.notice_text.setPlainText(NOTICE_2027_EXAMPLE.replace("（周五）至3日", "（周六）至3日"))
    qtbot.mouseClick(page.parse_button, Qt.MouseButton.LeftButton)
    text = page.notice_message.text()
    assert text.startswith("未能读取通知，没有保存任何内容：“元旦”：1月1日 标注为“周六”")
    assert not page.save_button.isEnabled() and page.notice_table.rowCount() == 0
    page.notice_text.setPlainText(NOTICE_2027_EXAMPLE)
    qtbot.mouseClick(page.parse_button, Qt.MouseButton.LeftButton)
    assert page.save_button.isEnabled()
    page.notice_text.insertPlainText("二")  # changed after 解析: read it again before saving
    assert not page.save_button.isEnabled() and "请重新解析" in page.notice_message.text()
    assert holidays.entered_years(ctx) == []


def test_add_and_remove_single_days(qtbot, ctx, supervisor, open_page):
    _dialog, page = open_page(supervisor)
    page.tabs.setCurrentWidget(page.year_tab)
    page.year_box.setCurrentIndex(page.year_box.findData(2026))
    assert page.year_source.text().startswith("程序自带；")
    before = page.days.rowCount()
    page.day_edit.setDate(QDate(2026, 12, 31))
    page.name_edit.setText("公司年会")
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert page.day_message.text() == "已将 2026-12-31 改为放假。"
    assert page.days.rowCount() == before + 1 and _cells(page.days)[-1] == [
        "2026-12-31",
        "周四",
        "放假",
        "公司年会",
    ]
    assert page.year_source.text().startswith("本单位录入；") and page.clear_button.isVisible()

    page.day_edit.setDate(QDate(2026, 12, 30))
    page.kind_box.setCurrentIndex(page.kind_box.findData("上班"))
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert "调休上班日只能是周六或周日" in page.day_message.text()

    page.days.selectRow(page.days.rowCount() - 1)
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert page.day_message.text() == "已将 2026-12-31 恢复为平常日。"
    assert page.days.rowCount() == before
    assert holidays.office_calendar(ctx).is_workday(date(2026, 12, 31))

    qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)
    assert holidays.entered_years(ctx) == [] and page.year_source.text().startswith("程序自带；")


def test_clerks_see_the_years_but_change_nothing(qtbot, ctx, clerk, open_page):
    _dialog, page = open_page(clerk)
    assert page.notice_text.isReadOnly()
    assert not page.parse_button.isEnabled() and not page.add_button.isEnabled()
    assert not page.remove_button.isEnabled()
    assert page.year_box.isEnabled()
    page.year_box.setCurrentIndex(page.year_box.findData(2025))
    assert page.days.rowCount() == 33 and _cells(page.days)[0][:3] == ["2025-01-01", "周三", "放假"]
