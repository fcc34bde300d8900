"""The office's holidays (issue 19 item 10): a notice replaces its year, single days by hand, audited, for
MANAGE_SETTINGS only; the years planning reaches without data. Clock fixed at 2026-11-24 (conftest)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.holiday_notice import parse_notice
from huifang_desktop.domain.workcal import HOLIDAY, WORKDAY, WorkCalendar
from huifang_desktop.services import holidays, policy, visits
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.services.settings import load_settings, save_settings
from huifang_desktop.storage.models import AuditLog
from tests.domain.notices import NOTICE_2027_EXAMPLE, NOTICES


def _audit(ctx: ServiceContext) -> list[AuditLog]:
    with ctx.sessions() as s:
        return list(
            s.execute(select(AuditLog).where(AuditLog.entity == "setting").order_by(AuditLog.id)).scalars()
        )


def test_a_notice_enters_a_year_the_program_does_not_know(ctx: ServiceContext, admin: UserInfo) -> None:
    actx = ctx.as_user(admin)
    before = holidays.year_holidays(ctx, 2027)
    assert (before.source, before.known, before.days) == (holidays.FROM_NOWHERE, False, ())
    assert policy.work_calendar(ctx).is_workday(date(2027, 2, 8))  # a Monday, 春节 unknown

    year = holidays.save_notice(actx, parse_notice(NOTICE_2027_EXAMPLE))
    assert (year.source, year.known) == (holidays.FROM_OFFICE, True)
    assert len(year.of_kind(HOLIDAY)) == 28 and len(year.of_kind(WORKDAY)) == 6
    assert year.days[0] == holidays.HolidayDay(date(2027, 1, 1), HOLIDAY, "元旦")
    cal = policy.work_calendar(ctx)
    assert not cal.is_workday(date(2027, 2, 8)) and cal.is_workday(date(2027, 2, 20))  # 调休 Saturday
    assert cal.add_workdays(date(2027, 9, 30), 1) == date(2027, 10, 8)  # 国庆节 skipped
    assert holidays.entered_years(ctx) == [2027]

    row = _audit(ctx)[-1]
    assert (row.action, row.label, row.username) == ("录入节假日", "2027 年节假日（国务院通知）", "admin")
    assert json.loads(row.old or "null") == {"holidays": "", "workdays": ""}
    new = json.loads(row.new or "null")
    assert new["holidays"].startswith("2027-01-01至01-03、2027-02-05至02-12、")
    assert new["workdays"].startswith("2027-02-14、2027-02-20、")


def test_saving_a_notice_again_replaces_the_whole_year(ctx: ServiceContext, admin: UserInfo) -> None:
    actx = ctx.as_user(admin)
    holidays.save_notice(actx, parse_notice(NOTICE_2027_EXAMPLE))
    holidays.set_day(actx, date(2027, 12, 24), HOLIDAY, "单位假日")
    short = parse_notice(
        "国务院办公厅关于2027年部分节假日安排的通知 一、元旦：1月1日（周五）放假1天，不调休。"
    )
    year = holidays.save_notice(actx, short)
    assert year.days == (holidays.HolidayDay(date(2027, 1, 1), HOLIDAY, "元旦"),)
    assert policy.work_calendar(ctx).is_workday(date(2027, 12, 24))


def test_the_real_2026_notice_saved_over_the_package_changes_nothing(ctx: ServiceContext) -> None:
    package = holidays.year_holidays(ctx, 2026)
    assert package.source == holidays.FROM_PACKAGE and package.known
    saved = holidays.save_notice(ctx, parse_notice(NOTICES[2026]))
    assert saved.source == holidays.FROM_OFFICE
    assert [(d.day, d.kind) for d in saved.days] == [(d.day, d.kind) for d in package.days]
    assert policy.work_calendar(ctx).days_of(2026) == WorkCalendar.china().days_of(2026)


def test_single_days_by_hand(ctx: ServiceContext, supervisor: UserInfo) -> None:
    sctx = ctx.as_user(supervisor)
    # a packaged year is copied first: adding a day keeps all of the rest
    year = holidays.set_day(sctx, date(2026, 12, 31), HOLIDAY, "公司年会")
    assert {d.day for d in year.days} == {d for d, _k in WorkCalendar.china().days_of(2026)} | {
        date(2026, 12, 31)
    }
    assert year.source == holidays.FROM_OFFICE and year.known
    assert not policy.work_calendar(ctx).is_workday(date(2026, 12, 31))
    assert _audit(ctx)[-1].label == "2026-12-31 改为放假"
    # a 调休 Saturday made an ordinary day again: it rests
    year = holidays.set_day(sctx, date(2026, 10, 10), None)
    assert date(2026, 10, 10) not in {d.day for d in year.days}
    assert not policy.work_calendar(ctx).is_workday(date(2026, 10, 10))
    assert _audit(ctx)[-1].label == "2026-10-10 恢复为平常日"
    # back to the program's calendar
    assert holidays.clear_year(sctx, 2026).source == holidays.FROM_PACKAGE
    assert policy.work_calendar(ctx).is_workday(date(2026, 10, 10))


@pytest.mark.parametrize(
    ("day", "kind", "message"),
    [
        (date(2026, 12, 30), WORKDAY, "调休上班日只能是周六或周日"),
        (date(2026, 12, 30), None, "不是节假日，也不是调休上班日"),
        (date(2026, 10, 1), HOLIDAY, "已经是放假日"),
        (date(2026, 10, 1), "休息", "应为“放假”或“上班”"),
    ],
)
def test_a_hand_edit_that_makes_no_sense_is_refused(
    ctx: ServiceContext, day: date, kind: str | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        holidays.set_day(ctx, day, kind)
    assert holidays.entered_years(ctx) == []


def test_a_year_started_by_hand_is_still_unknown(ctx: ServiceContext) -> None:
    year = holidays.set_day(ctx, date(2028, 1, 1), HOLIDAY, "元旦")
    assert (year.source, year.known) == (holidays.FROM_OFFICE, False)
    cal = policy.work_calendar(ctx)
    assert not cal.is_workday(date(2028, 1, 1)) and not cal.covers(2028)
    year = holidays.set_day(ctx, date(2028, 1, 1), None)  # the last day removed: still a partial year
    assert year.days == () and not year.known


def test_clerks_cannot_change_holidays(ctx: ServiceContext, cctx: ServiceContext) -> None:
    with pytest.raises(PermissionDenied):
        holidays.save_notice(cctx, parse_notice(NOTICE_2027_EXAMPLE))
    with pytest.raises(PermissionDenied):
        holidays.set_day(cctx, date(2027, 1, 1), HOLIDAY)
    assert holidays.year_holidays(cctx, 2026).known  # reading is for everybody


def test_the_settings_page_saving_later_keeps_a_saved_notice(ctx: ServiceContext, admin: UserInfo) -> None:
    """The 单位信息 page keeps the settings it read; saving them after a notice was saved must not undo it."""
    actx = ctx.as_user(admin)
    stale = load_settings(actx)
    holidays.save_notice(actx, parse_notice(NOTICE_2027_EXAMPLE))
    save_settings(actx, replace(stale, company="宁波甬江精工有限公司"))
    assert load_settings(ctx).company == "宁波甬江精工有限公司"
    assert holidays.entered_years(ctx) == [2027] and policy.work_calendar(ctx).covers(2027)


def test_unknown_years_reached_by_the_date_plans_and_deadlines(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    assert holidays.unknown_years(ctx, date(2026, 6, 1)) == ()
    assert holidays.unknown_years(ctx) == (2027,)  # 2026-11-24: from November the next year is near
    assert holidays.unknown_years(ctx, date(2027, 12, 1)) == (2027, 2028)
    customer = register_customer(
        cctx, CustomerDraft(name="甲公司", contacts=(ContactDraft(name="张三", mobile="13800000001"),))
    )
    visits.add_manual_plan(cctx, customer.id, "专项", "电话", "2029-03-01")
    assert holidays.unknown_years(ctx, date(2026, 6, 1)) == (2027, 2028, 2029)
    holidays.save_notice(ctx, parse_notice(NOTICE_2027_EXAMPLE))
    assert holidays.unknown_years(ctx, date(2026, 6, 1)) == (2028, 2029)
