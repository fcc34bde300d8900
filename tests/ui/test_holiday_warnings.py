"""The calendar tab and the start-up reminder say when planning or a deadline reaches a year without holiday
data (issue 19 item 10); the reminder from November on for the next year. Clocks fixed."""

from __future__ import annotations

from datetime import datetime

from huifang_desktop.domain.holiday_notice import parse_notice
from huifang_desktop.services import holidays
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.ui import reminders
from huifang_desktop.ui.calendar.tab import CalendarTab
from tests.domain.notices import NOTICE_2027_EXAMPLE


def _at(ctx: ServiceContext, when: datetime) -> ServiceContext:
    return ServiceContext(ctx.engine, ctx.sessions, ctx.user, lambda: when)


def test_the_start_up_reminder_from_november(qapp, ctx, admin, clerk):
    actx = ctx.as_user(admin)
    november = reminders.collect(actx)  # 2026-11-24
    assert november.holiday_years == (2027,)
    assert (
        "2027 年节假日尚未录入，到期日只避开周末（请在“设置 → 节假日”粘贴国务院放假通知录入）"
        in reminders.reminder_text(november)
    )
    told = reminders.reminder_text(reminders.collect(ctx.as_user(clerk)))
    assert (
        "2027 年节假日尚未录入，到期日只避开周末（请告知客服主管或系统管理员在“设置 → 节假日”录入）" in told
    )
    october = reminders.collect(_at(actx, datetime(2026, 10, 31, 9, 0)))
    assert october.holiday_years == () and "节假日" not in reminders.reminder_text(october)
    holidays.save_notice(actx, parse_notice(NOTICE_2027_EXAMPLE))
    assert "节假日" not in reminders.reminder_text(reminders.collect(actx))
    assert reminders.collect(_at(actx, datetime(2027, 11, 1, 9, 0))).holiday_years == (2028,)


def test_the_calendar_names_the_years_without_data(qtbot, ctx, admin, clerk):
    tab = CalendarTab(ctx.as_user(clerk))
    qtbot.addWidget(tab)
    note = tab.calendar_note.text()
    assert note.startswith("节假日与调休：已知 2004–2026 年；2027 年的节假日尚未录入，到期日只按周末顺延。")
    assert "“设置 → 节假日”粘贴通知录入" in note
    holidays.save_notice(ctx.as_user(admin), parse_notice(NOTICE_2027_EXAMPLE))
    tab.refresh()
    assert tab.calendar_note.text() == "节假日与调休：已知 2004–2027 年。"
    for _ in range(13):  # browse to December 2027: the grid's last days are in January 2028
        tab.step(1)
    assert tab.period_label.text() == "2027年12月"
    assert "；2028 年的节假日尚未录入" in tab.calendar_note.text()
