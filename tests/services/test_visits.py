"""Return visits through the service layer: planning, the record form, follow-ups, transfers, reports, rates.

The clock is fixed at Tuesday 2026-11-24 10:00 (tests/conftest.py); 2026-11-28/29 is a weekend.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.schedule import RuleSet
from huifang_desktop.services import ledgers, policy
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer, set_archived
from huifang_desktop.services.errors import ConflictError, LockedError, PermissionDenied
from huifang_desktop.services.settings import set_value
from huifang_desktop.services.workflow import add_purchase
from huifang_desktop.storage.models import (
    AuditLog,
    Counter,
    Customer,
    Purchase,
    VisitPlan,
    VisitRecord,
    VisitReport,
)

AsUser = Callable[[ServiceContext, UserInfo], ServiceContext]
TODAY = date(2026, 11, 24)
_mobiles = iter(range(10_000_000, 99_999_999))


def _customer(
    cctx: ServiceContext,
    name: str,
    *,
    grade: str = "D",
    created_on: str = "2026-11-01",
    category: str = "普通",
    birthday: str | None = None,
    kind: str = "单位",
) -> int:
    c = register_customer(
        cctx,
        CustomerDraft(
            name=name,
            kind=kind,
            category=category,
            created_on=created_on,
            birthday=birthday,
            contacts=(ContactDraft(name="张经理", mobile=f"139{next(_mobiles)}"),),
        ),
    )
    with cctx.sessions() as s, s.begin():
        s.execute(update(Customer).where(Customer.id == c.id).values(grade=grade))
    return c.id


def _plans(ctx: ServiceContext, customer_id: int | None = None) -> list[VisitPlan]:
    q = select(VisitPlan).order_by(VisitPlan.due, VisitPlan.id)
    if customer_id is not None:
        q = q.where(VisitPlan.customer_id == customer_id)
    with ctx.sessions() as s:
        return list(s.execute(q).scalars())


def _keys(ctx: ServiceContext, customer_id: int | None = None) -> list[str]:
    return [p.source_key for p in _plans(ctx, customer_id)]


def _snapshot(ctx: ServiceContext) -> dict[str, Any]:
    with ctx.sessions() as s:
        out: dict[str, Any] = {
            m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (VisitRecord, VisitPlan, VisitReport, AuditLog)
        }
        out["counters"] = sorted(s.execute(select(Counter.name, Counter.value)).all())
        out["plans"] = sorted(s.execute(select(VisitPlan.id, VisitPlan.state, VisitPlan.version)).all())
    return out


def _draft(customer_id: int, result: str = "成功", **fields: Any) -> v.VisitRecordDraft:
    base: dict[str, Any] = {
        "visited_at": "2026-11-24 09:00",
        "satisfaction": "满意" if result == "成功" else "",
    }
    base.update(fields)
    return v.VisitRecordDraft(customer_id=customer_id, result=result, **base)


def _add_plan(
    ctx: ServiceContext,
    customer_id: int,
    *,
    due: date,
    state: str = "待回访",
    rule_key: str = "manual",
    visit_type: str = "例行",
    owner_id: int | None = None,
    done_on: date | None = None,
    key: str = "",
) -> int:
    with ctx.sessions() as s, s.begin():
        plan = VisitPlan(
            customer_id=customer_id,
            source_key=key or f"test:{next(_mobiles)}",
            rule_key=rule_key,
            visit_type=visit_type,
            method="电话",
            earliest=due,
            due=due,
            owner_id=owner_id,
            attempt=1,
            state=state,
            cancel_reason="",
            manual=False,
            done_on=done_on,
            created_at=datetime(2026, 11, 1),
        )
        s.add(plan)
        s.flush()
        return plan.id


# --- settings ------------------------------------------------------------------------------------------


def test_rules_default_and_saved_by_supervisor(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    assert v.load_rules(ctx) == RuleSet()
    changed = RuleSet(routine_days=(("A", 7), ("B", 14)))
    with pytest.raises(PermissionDenied):
        v.save_rules(cctx, changed)
    v.save_rules(sctx, changed)
    assert v.load_rules(ctx).routine_interval("A") == 7
    assert v.load_rules(ctx).routine_interval("C") is None
    with ctx.sessions() as s:
        row = s.execute(select(AuditLog).where(AuditLog.label == "回访规则")).scalar_one()
    assert row.username == "zhuguan"


def test_work_calendar_uses_admin_entered_years(
    ctx: ServiceContext, admin: UserInfo, as_user: AsUser
) -> None:
    assert policy.work_calendar(ctx).is_workday(date(2027, 2, 8))  # a Monday; 2027 is not in the package
    from huifang_desktop.domain.holiday_notice import parse_notice
    from huifang_desktop.services import holidays

    notice = parse_notice("国务院办公厅关于2027年部分节假日安排的通知 二、春节：2月8日（周一）放假。")
    holidays.save_notice(as_user(ctx, admin), notice)  # (save_settings keeps the stored holidays)
    cal = policy.work_calendar(ctx)
    assert not cal.is_workday(date(2027, 2, 8))
    assert cal.covers(2027)


# --- catch-up planning ---------------------------------------------------------------------------------


def test_catch_up_plans_routine_and_technical_by_class(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo
) -> None:
    a = _customer(cctx, "甲公司", grade="A", created_on="2026-11-01")
    b = _customer(cctx, "乙公司", grade="B", created_on="2026-11-20")
    _customer(cctx, "丁公司", grade="D")
    archived = _customer(cctx, "丙公司", grade="C")
    set_archived(cctx, archived, True, "停业")
    result = v.plan_catch_up(ctx, TODAY)
    got = sorted(
        (r.customer_id, r.rule_key, r.visit_type, r.method, r.earliest, r.due, r.owner, r.display_state)
        for r in result.planned
    )
    assert got == [
        (a, "routine", "例行", "电话", date(2026, 11, 2), date(2026, 11, 11), "小王", "逾期"),
        (a, "technical", "技术", "上门", date(2026, 11, 2), date(2027, 2, 1), "小王", "待回访"),
        (
            b,
            "routine",
            "例行",
            "电话",
            date(2026, 11, 23),
            date(2026, 12, 7),
            "小王",
            "待回访",
        ),  # 12-05 is a Sat
    ]
    assert result.skipped == 0
    assert _keys(ctx, a) == [f"customer:{a}#routine@20261101", f"customer:{a}#technical@20261101"]
    assert all(p.owner_id == clerk.id for p in _plans(ctx))
    assert result.by_rule() == {"routine": 2, "technical": 1}


def test_catch_up_twice_makes_no_duplicates_and_keeps_manual_edits(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    a = _customer(cctx, "甲公司", grade="A", created_on="2026-11-01")
    b = _customer(cctx, "乙公司", grade="C", created_on="2026-11-10")
    first = v.plan_catch_up(ctx, TODAY)
    assert len(first.planned) == 3
    routine_a = next(r for r in first.planned if r.customer_id == a and r.rule_key == "routine")
    # overdue already (due 11-11): only a supervisor may move it, with a reason (001 §3: a miss stands)
    moved = v.move_plan(sctx, routine_a.id, date(2026, 12, 2), routine_a.version, "客户要求改期")
    routine_b = next(r for r in first.planned if r.customer_id == b)
    v.cancel_plan(cctx, routine_b.id, "客户年底停业")
    before = _snapshot(ctx)

    second = v.plan_catch_up(ctx, TODAY)
    # the cancelled routine visit is followed by the next one, 30 days after its due day (2027-01-09 is a Sat)
    assert [(r.customer_id, r.rule_key, r.due) for r in second.planned] == [(b, "routine", date(2027, 1, 11))]
    third = v.plan_catch_up(ctx, date(2026, 11, 25))
    assert (third.planned, third.moved, second.moved) == ([], 0, 0)
    assert (second.skipped, third.skipped) == (2, 3)  # held pending plans count as already there
    plans = {p.id: p for p in _plans(ctx)}
    assert (plans[routine_a.id].due, plans[routine_a.id].manual) == (date(2026, 12, 2), True)
    assert moved.plan.due == date(2026, 12, 2)
    assert (plans[routine_b.id].state, plans[routine_b.id].cancel_reason) == ("已取消", "客户年底停业")
    assert sorted(_keys(ctx, b)) == [f"customer:{b}#routine@20261110", f"customer:{b}#routine@20261210"]
    after = _snapshot(ctx)
    assert after["visit_plan"] == before["visit_plan"] + 1
    assert len(_keys(ctx)) == len(set(_keys(ctx)))


def test_a_cancelled_plan_refuses_changes_without_a_doubled_yi(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    """Issue 18: messages read "计划已已取消" (the state already says 已)."""
    b = _customer(cctx, "乙公司", grade="C", created_on="2026-11-10")
    [plan] = v.plan_catch_up(ctx, TODAY).planned
    v.cancel_plan(cctx, plan.id, "客户年底停业")
    with pytest.raises(ValidationError) as again:
        v.cancel_plan(cctx, plan.id, "又一次")
    with pytest.raises(ValidationError) as move:
        v.move_plan(cctx, plan.id, date(2026, 12, 9), v.get_plan(cctx, plan.id).version)
    for exc in (again, move):
        assert "计划已取消" in str(exc.value) and "已已" not in str(exc.value)
    assert b


def test_office_may_require_content_and_feedback_for_a_successful_visit(
    ctx: ServiceContext, cctx: ServiceContext, admin: UserInfo, as_user: AsUser
) -> None:
    """Issue 18 (001: 回访内容应记录留痕): with the office setting on, a 成功 record needs 回访内容 and 客户意见;
    an unreachable customer (未接通) does not."""
    from huifang_desktop.services import settings as office_settings

    a = _customer(cctx, "甲公司", grade="C", created_on="2026-11-01")
    office_settings.save_settings(
        as_user(ctx, admin),
        office_settings.with_value(office_settings.load_settings(ctx), "require_visit_text", "是"),
    )
    before = _snapshot(ctx)
    with pytest.raises(ValidationError) as refused:
        v.record_visit(cctx, _draft(a, satisfaction="满意"))
    assert {e.field for e in refused.value.errors} == {"content", "feedback"}
    assert "客户意见/反馈" in str(refused.value)
    assert _snapshot(ctx) == before
    v.record_visit(cctx, _draft(a, result="未接通"))
    saved = v.record_visit(
        cctx, _draft(a, satisfaction="满意", content="例行回访：询问使用情况", feedback="使用正常")
    )
    assert saved.feedback == "使用正常"
    office_settings.save_settings(
        as_user(ctx, admin),
        office_settings.with_value(office_settings.load_settings(ctx), "require_visit_text", "否"),
    )
    v.record_visit(cctx, _draft(a, satisfaction="满意"))
    with pytest.raises(ValidationError, match="是/否"):
        office_settings.with_value(office_settings.load_settings(ctx), "require_visit_text", "也许")


def test_catch_up_keeps_the_routine_plan_after_a_visit_that_does_not_count(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    """001 篇1 §3.2 / domain.md §9: only the routine contact itself satisfies a routine plan; a 到货 visit
    made without the plan neither closes nor re-dates it. A 例行 visit made without the plan closes it."""
    b = _customer(cctx, "乙公司", grade="B", created_on="2026-11-20")
    v.plan_catch_up(ctx, TODAY)
    [plan] = _plans(ctx, b)
    assert plan.due == date(2026, 12, 7)
    v.record_visit(cctx, _draft(b, visit_type="到货", visited_at="2026-11-24 09:00"))  # no plan
    result = v.plan_catch_up(ctx, TODAY)
    assert (result.planned, result.moved, result.skipped) == ([], 0, 1)
    [again] = _plans(ctx, b)
    assert (again.id, again.source_key, again.due, again.state) == (
        plan.id,
        plan.source_key,
        plan.due,
        "待回访",
    )
    rec = v.record_visit(cctx, _draft(b, visit_type="例行", visited_at="2026-11-24 09:30"))  # no plan either
    assert rec.plan_id == plan.id
    v.plan_catch_up(ctx, TODAY)
    done, nxt = _plans(ctx, b)
    assert (done.id, done.state, done.done_on, done.record_id) == (plan.id, "已回访", TODAY, rec.id)
    assert (nxt.source_key, nxt.due) == (f"customer:{b}#routine@20261124", date(2026, 12, 9))


def test_catch_up_plans_recent_purchases_only(ctx: ServiceContext, cctx: ServiceContext) -> None:
    c = _customer(cctx, "甲公司", grade="D")
    with ctx.sessions() as s, s.begin():  # written around add_purchase, as an import would
        recent = Purchase(
            customer_id=c,
            day=date(2026, 11, 23),
            kind="交货",
            product="货车",
            quantity=2,
            created_at=datetime(2026, 11, 23),
        )
        old = Purchase(
            customer_id=c,
            day=date(2026, 1, 5),
            kind="交货",
            product="货车",
            quantity=2,
            created_at=datetime(2026, 1, 5),
        )
        s.add_all([recent, old])
        s.flush()
        rid = recent.id
    result = v.plan_catch_up(ctx, TODAY)
    assert [(r.rule_key, r.visit_type, r.earliest, r.due) for r in result.planned] == [
        ("delivery_arrival", "到货", date(2026, 11, 24), date(2026, 11, 30)),
        ("delivery_usage", "使用", date(2026, 11, 30), date(2026, 11, 30)),
        ("delivery_satisfaction", "满意度", date(2026, 12, 23), date(2026, 12, 23)),
    ]
    assert {p.source_key for p in _plans(ctx)} == {
        f"purchase:{rid}#delivery_arrival",
        f"purchase:{rid}#delivery_usage",
        f"purchase:{rid}#delivery_satisfaction",
    }
    assert v.plan_catch_up(ctx, TODAY).skipped == 3


def test_catch_up_plans_upcoming_birthdays(ctx: ServiceContext, cctx: ServiceContext) -> None:
    soon = _customer(cctx, "张三", kind="个人", birthday="1980-12-06")
    _customer(cctx, "李四", kind="个人", birthday="1980-06-01")  # far off: not yet
    result = v.plan_catch_up(ctx, TODAY)
    assert [(r.customer_id, r.rule_key, r.method, r.earliest, r.due) for r in result.planned] == [
        (soon, "birthday", "短信", date(2026, 12, 3), date(2026, 12, 7))
    ]  # 12-06 is a Sunday
    assert _keys(ctx) == [f"birthday:{soon}#birthday@47"]


# --- triggers ------------------------------------------------------------------------------------------


def test_add_purchase_plans_the_delivery_visits_once(ctx: ServiceContext, cctx: ServiceContext) -> None:
    c = _customer(cctx, "甲公司")
    info = add_purchase(cctx, c, day="2026-11-23", product="货车", quantity=2)
    plans = _plans(ctx, c)
    assert [(p.rule_key, p.earliest, p.due, p.state, p.manual) for p in plans] == [
        ("delivery_arrival", date(2026, 11, 24), date(2026, 11, 30), "待回访", False),
        ("delivery_usage", date(2026, 11, 30), date(2026, 11, 30), "待回访", False),
        ("delivery_satisfaction", date(2026, 12, 23), date(2026, 12, 23), "待回访", False),
    ]
    assert v.on_purchase(cctx, info.id) == []
    assert v.plan_catch_up(ctx, TODAY).planned == []
    assert len(_plans(ctx, c)) == 3


def test_add_purchase_by_an_end_customer_uses_the_end_customer_rules(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    c = _customer(cctx, "王五", kind="个人", category="终端客户")
    add_purchase(cctx, c, day="2026-11-23", product="挖掘机", quantity=2)
    assert [(p.rule_key, p.due) for p in _plans(ctx, c)] == [
        ("end_customer_few", date(2026, 12, 23)),
        ("end_customer_few", date(2027, 2, 23)),
        ("end_customer_few", date(2027, 5, 24)),  # 2027-05-23 is a Sunday
    ]


def test_add_purchase_long_ago_plans_nothing(ctx: ServiceContext, cctx: ServiceContext) -> None:
    c = _customer(cctx, "甲公司")
    add_purchase(cctx, c, day="2026-01-05", product="货车", quantity=2)
    assert _plans(ctx, c) == []


# --- plan views and edits ------------------------------------------------------------------------------


def test_list_plans_derives_overdue_and_filters(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo
) -> None:
    c = _customer(cctx, "甲公司")
    late = _add_plan(ctx, c, due=date(2026, 11, 20), owner_id=clerk.id)
    today = _add_plan(ctx, c, due=TODAY, owner_id=clerk.id)
    done = _add_plan(
        ctx, c, due=date(2026, 11, 19), owner_id=clerk.id, state="已回访", done_on=date(2026, 11, 19)
    )
    other = _add_plan(ctx, c, due=TODAY, owner_id=clerk2.id)
    rows = v.list_plans(cctx, start=date(2026, 11, 1), end=date(2026, 11, 30), owner_id=clerk.id)
    assert [(r.id, r.state, r.display_state) for r in rows] == [
        (done, "已回访", "已回访"),
        (late, "待回访", "逾期"),
        (today, "待回访", "待回访"),
    ]
    overdue = v.list_plans(cctx, start=date(2026, 11, 1), end=date(2026, 11, 30), states={"逾期"})
    assert [r.id for r in overdue] == [late]
    team = v.list_plans(cctx, start=date(2026, 11, 1), end=date(2026, 11, 30), team=True)
    assert other not in {r.id for r in team} and len(team) == 3  # 小李 is in 销售部
    assert rows[1].customer_name == "甲公司" and rows[1].owner == "小王"


def test_day_counts_and_due_summary(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo
) -> None:
    c = _customer(cctx, "甲公司")
    _add_plan(ctx, c, due=date(2026, 11, 20), owner_id=clerk.id)
    _add_plan(ctx, c, due=date(2026, 11, 20), owner_id=clerk.id, state="已回访", done_on=date(2026, 11, 20))
    _add_plan(ctx, c, due=date(2026, 11, 20), owner_id=clerk.id, state="已取消")
    _add_plan(ctx, c, due=TODAY, owner_id=clerk.id)
    _add_plan(ctx, c, due=TODAY, owner_id=clerk2.id)
    _add_plan(ctx, c, due=date(2026, 11, 19), owner_id=clerk2.id)
    assert v.day_counts(cctx, date(2026, 11, 1), date(2026, 11, 30)) == {
        date(2026, 11, 19): v.DayCount(1, 0, 1),
        date(2026, 11, 20): v.DayCount(2, 1, 1),
        TODAY: v.DayCount(2, 0, 0),
    }
    assert v.day_counts(cctx, date(2026, 11, 1), date(2026, 11, 30), clerk.id) == {
        date(2026, 11, 20): v.DayCount(2, 1, 1),
        TODAY: v.DayCount(1, 0, 0),
    }
    assert v.due_summary(cctx, TODAY, clerk.id) == (1, 1)
    assert v.due_summary(cctx, TODAY) == (2, 2)


def test_move_plan_to_a_weekend_moves_on_and_says_so(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo
) -> None:
    c = _customer(cctx, "甲公司")
    pid = _add_plan(ctx, c, due=TODAY, owner_id=clerk.id)
    res = v.move_plan(cctx, pid, "2026-11-28", 1)
    assert (res.shifted, res.plan.due, res.plan.manual, res.plan.version) == (
        True,
        date(2026, 11, 30),
        True,
        2,
    )
    assert "2026-11-28 不是工作日，已顺延到 2026-11-30" in res.message
    with pytest.raises(ConflictError):
        v.move_plan(cctx, pid, "2026-12-01", 1)
    plain = v.move_plan(cctx, pid, "2026-12-01", 2)
    assert (plain.shifted, plain.plan.due) == (False, date(2026, 12, 1))
    with ctx.sessions() as s:
        assert (
            s.execute(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "调整回访计划", AuditLog.entity_id == pid)
            ).scalar_one()
            == 2
        )


def test_move_plan_of_another_clerk_is_refused(
    ctx: ServiceContext, c2ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo, sctx: ServiceContext
) -> None:
    c = _customer(cctx, "甲公司")
    pid = _add_plan(ctx, c, due=TODAY, owner_id=clerk.id)
    with pytest.raises(PermissionDenied):
        v.move_plan(c2ctx, pid, "2026-12-01", 1)
    assert v.move_plan(sctx, pid, "2026-12-01", 1).plan.due == date(2026, 12, 1)


def test_cancel_plan_needs_a_reason(ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo) -> None:
    c = _customer(cctx, "甲公司")
    pid = _add_plan(ctx, c, due=TODAY, owner_id=clerk.id)
    with pytest.raises(ValidationError) as err:
        v.cancel_plan(cctx, pid, "  ")
    assert err.value.fields == ["cancel_reason"]
    row = v.cancel_plan(cctx, pid, "客户已停业")
    assert (row.state, row.display_state, row.cancel_reason) == ("已取消", "已取消", "客户已停业")
    with pytest.raises(ValidationError):
        v.cancel_plan(cctx, pid, "再取消一次")


def test_add_manual_plan(ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo) -> None:
    c = _customer(cctx, "甲公司")
    row = v.add_manual_plan(cctx, c, "专项", "上门", "2026-11-29")
    assert (row.visit_type, row.method, row.due, row.owner, row.rule_key, row.manual) == (
        "专项",
        "上门",
        date(2026, 11, 30),
        "小王",
        "manual",
        True,
    )
    with pytest.raises(ValidationError) as err:
        v.add_manual_plan(cctx, c, "闲聊", "电话", "2026-11-01")
    assert sorted(err.value.fields) == ["due", "visit_type"]


# --- the record form -----------------------------------------------------------------------------------


def test_prefill_record_from_plan_and_file(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo
) -> None:
    c = _customer(cctx, "甲公司")
    pid = _add_plan(ctx, c, due=TODAY, owner_id=clerk.id, visit_type="到货")
    d = v.prefill_record(cctx, pid)
    assert (d.customer_id, d.customer_name, d.customer_code, d.grade, d.contact_name) == (
        c,
        "甲公司",
        "KH000001",
        "D",
        "张经理",
    )
    assert (d.visit_type, d.method, d.visitor_id, d.visitor, d.visited_at) == (
        "到货",
        "电话",
        clerk.id,
        "小王",
        datetime(2026, 11, 24, 10, 0),
    )
    assert d.script[0] == "货物是否已经收到？"
    assert (d.needs_signature, d.signature_text) == (False, "电话回访")
    assert d.satisfaction_levels == ("很满意", "满意", "一般", "不满意", "很不满意")


def test_record_visit_validation_failures_write_nothing(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo
) -> None:
    c = _customer(cctx, "甲公司")
    pid = _add_plan(ctx, c, due=TODAY, owner_id=clerk.id)
    before = _snapshot(ctx)
    bad = v.VisitRecordDraft(
        customer_id=c,
        plan_id=pid,
        result="成功",
        visited_at="2026-11-24 11:00",
        method="飞鸽",
        satisfaction="",
        contact_phone="12345",
        transfer_department="质量部",
        next_visit_on="2026-11-20",
    )
    with pytest.raises(ValidationError) as err:
        v.record_visit(cctx, bad)
    assert sorted(err.value.fields) == sorted(
        ["method", "visited_at", "contact_phone", "problems", "satisfaction", "next_visit_on"]
    )
    assert "回访时间：不能晚于现在" in str(err.value)
    with pytest.raises(ValidationError) as err2:
        v.record_visit(cctx, _draft(c, result="", plan_id=pid))
    assert err2.value.fields == ["result"]
    with pytest.raises(ValidationError) as err3:
        v.record_visit(cctx, _draft(c, satisfaction="还行", plan_id=pid))
    assert err3.value.fields == ["satisfaction"]
    assert _snapshot(ctx) == before


def test_record_visit_on_site_needs_the_customers_signature(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    c = _customer(cctx, "甲公司")
    before = _snapshot(ctx)
    with pytest.raises(ValidationError) as err:
        v.record_visit(cctx, _draft(c, method="上门"))
    assert [(e.field, e.message) for e in err.value.errors] == [("customer_signed", "上门回访需客户签字")]
    assert _snapshot(ctx) == before
    row = v.record_visit(cctx, _draft(c, method="上门", customer_signed=True))
    assert (row.customer_signed, row.signature_text) == (True, "已签字")
    phone = v.record_visit(cctx, _draft(c, method="电话", customer_signed=True))
    assert (phone.customer_signed, phone.signature_text) == (False, "电话回访")


def test_record_visit_saves_every_field_and_marks_the_plan(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo
) -> None:
    c = _customer(cctx, "甲公司")
    pid = _add_plan(ctx, c, due=TODAY, owner_id=clerk.id)
    row = v.record_visit(
        cctx,
        _draft(
            c,
            plan_id=pid,
            contact_name="张经理",
            contact_phone="0571-88886666",
            visit_type="例行",
            method="电话",
            content="问使用情况",
            feedback="车况良好",
            problems="发票未到",
            measures="催财务补开",
            handling="已联系财务",
            satisfaction="很满意",
        ),
    )
    assert (
        row.number,
        row.plan_id,
        row.visitor,
        row.contact_phone,
        row.result,
        row.satisfaction,
        row.status,
    ) == ("HF20261124-001", pid, "小王", "0571-88886666", "成功", "很满意", "待审阅")
    assert (row.content, row.feedback, row.problems, row.measures, row.handling) == (
        "问使用情况",
        "车况良好",
        "发票未到",
        "催财务补开",
        "已联系财务",
    )
    assert (row.offer_complaint, row.follow_up_plan_id, row.transfer_due) == (False, None, None)
    plan = v.get_plan(ctx, pid)
    assert (plan.state, plan.done_on, plan.record_number) == ("已回访", TODAY, "HF20261124-001")
    assert v.record_visit(cctx, _draft(c)).number == "HF20261124-002"
    assert v.record_visit(cctx, _draft(c, visited_at="2026-11-23 16:00")).number == "HF20261123-001"
    with pytest.raises(ValidationError) as err:
        v.record_visit(cctx, _draft(c, plan_id=pid))
    assert err.value.fields == ["plan_id"]


def test_independence_check_is_on_by_default(
    ctx: ServiceContext, cctx: ServiceContext, c2ctx: ServiceContext, sctx: ServiceContext
) -> None:
    c = _customer(cctx, "甲公司")  # owned by 小王
    with pytest.raises(ValidationError) as err:  # 001 篇11: on unless the office switches it off
        v.record_visit(cctx, _draft(c, visit_type="满意度"))
    assert err.value.fields == ["visitor_id"]
    assert "回访人不得为该客户的业务员" in str(err.value)
    set_value(sctx, "independent_visitor", False, what="回访人独立")
    v.record_visit(cctx, _draft(c, visit_type="满意度"))  # setting off: allowed
    set_value(sctx, "independent_visitor", True, what="回访人独立")
    assert v.record_visit(c2ctx, _draft(c, visit_type="满意度")).visitor == "小李"
    assert (
        v.record_visit(cctx, _draft(c, visit_type="例行")).visitor == "小王"
    )  # other types stay with the owner


def test_follow_up_chain_when_not_reached(ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo) -> None:
    c = _customer(cctx, "甲公司", grade="B", created_on="2026-11-01")
    [first] = v.plan_catch_up(ctx, TODAY).planned
    r1 = v.record_visit(cctx, _draft(c, "未接通", plan_id=first.id))
    assert r1.satisfaction == "" and r1.follow_up_plan_id is not None
    second = v.get_plan(ctx, r1.follow_up_plan_id)
    # 000 §1.9: the second visit by the same method as the first (the draft's 电话 here)
    assert (second.attempt, second.rule_key, second.method, second.earliest, second.due, second.owner) == (
        2,
        "routine",
        "电话",
        date(2026, 11, 25),
        date(2026, 11, 27),
        "小王",
    )
    assert v.get_plan(ctx, first.id).state == "已回访"
    r2 = v.record_visit(cctx, _draft(c, "不可达", plan_id=second.id, visited_at="2026-11-24 09:30"))
    third = v.get_plan(ctx, r2.follow_up_plan_id)  # type: ignore[arg-type]
    assert third.attempt == 3
    r3 = v.record_visit(cctx, _draft(c, "需再次回访", plan_id=third.id, visited_at="2026-11-24 09:40"))
    # 000 §1.9 "第三次甚至更多次": no default maximum — the chain goes on until reached or closed
    assert r3.follow_up_plan_id is not None
    first_key = f"customer:{c}#routine@20261101"
    assert sorted(_keys(ctx, c)) == [first_key, f"{first_key}#2", f"{first_key}#3", f"{first_key}#4"]


def test_unsatisfied_visit_plans_a_follow_up_and_offers_a_complaint(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    c = _customer(cctx, "甲公司")
    row = v.record_visit(
        cctx, _draft(c, satisfaction="不满意", visit_type="维修", method="上门", customer_signed=True)
    )
    assert row.offer_complaint is True
    assert row.follow_up_plan_id is not None
    plan = v.get_plan(ctx, row.follow_up_plan_id)
    assert (plan.attempt, plan.rule_key, plan.visit_type, plan.method, plan.due) == (
        2,
        "follow_up",
        "满意度",
        "上门",
        date(2026, 11, 27),
    )  # the 2nd visit as the 1st (000 §1.9)
    with ctx.sessions() as s:
        key = s.get(VisitPlan, plan.id).source_key  # type: ignore[union-attr]
    assert key == f"record:{row.id}#follow_up#2"
    so_so = v.record_visit(cctx, _draft(c, satisfaction="一般"))  # only 很满意/满意 count as satisfied
    assert so_so.offer_complaint is True and so_so.follow_up_plan_id is not None
    content = v.record_visit(cctx, _draft(c, satisfaction="很满意"))
    assert (content.offer_complaint, content.follow_up_plan_id) == (False, None)


def test_next_visit_day_makes_a_plan(ctx: ServiceContext, cctx: ServiceContext) -> None:
    c = _customer(cctx, "甲公司")
    row = v.record_visit(cctx, _draft(c, next_visit_on="2026-12-05", visit_type="使用"))
    plan = v.get_plan(ctx, row.next_plan_id)  # type: ignore[arg-type]
    assert (plan.due, plan.visit_type, plan.manual, plan.owner) == (date(2026, 12, 7), "使用", True, "小王")
    # a follow-up that is needed anyway takes the chosen day instead of making a second plan
    row2 = v.record_visit(cctx, _draft(c, "未接通", next_visit_on="2026-12-01"))
    assert row2.next_plan_id is None
    assert v.get_plan(ctx, row2.follow_up_plan_id).due == date(2026, 12, 1)  # type: ignore[arg-type]


def test_transfer_is_due_in_24_hours_and_shows_overdue(ctx: ServiceContext, cctx: ServiceContext) -> None:
    c = _customer(cctx, "甲公司")
    row = v.record_visit(
        cctx,
        _draft(c, problems="发动机异响", transfer_department="售后服务部", visited_at="2026-11-24 09:00"),
    )
    assert (row.transfer_due, row.transfer_overdue) == (datetime(2026, 11, 25, 9, 0), False)
    assert v.overdue_transfers(ctx, datetime(2026, 11, 25, 9, 0)) == []
    [late] = v.overdue_transfers(ctx, datetime(2026, 11, 25, 9, 1))
    assert (late.record_id, late.department, late.problems, late.visitor, late.overdue) == (
        row.id,
        "售后服务部",
        "发动机异响",
        "小王",
        True,
    )
    answered = v.mark_transfer_answered(cctx, row.id, "已派工检修，已告知客户")
    assert (answered.transfer_answer, answered.transfer_done_at) == (
        "已派工检修，已告知客户",
        datetime(2026, 11, 24, 10, 0),
    )
    assert v.overdue_transfers(ctx, datetime(2026, 11, 26)) == []
    plain = v.record_visit(cctx, _draft(c))
    with pytest.raises(ValidationError):
        v.mark_transfer_answered(cctx, plain.id, "无")


def test_update_record_is_refused_when_signed(ctx: ServiceContext, cctx: ServiceContext) -> None:
    c = _customer(cctx, "甲公司")
    row = v.record_visit(cctx, _draft(c))
    with ctx.sessions() as s, s.begin():
        s.execute(update(VisitRecord).where(VisitRecord.id == row.id).values(status="已签字"))
    before = _snapshot(ctx)
    with pytest.raises(LockedError):
        v.update_record(cctx, row.id, _draft(c, feedback="改一下"), row.version)
    assert _snapshot(ctx) == before


def test_update_record_with_a_stale_version_conflicts(ctx: ServiceContext, cctx: ServiceContext) -> None:
    c = _customer(cctx, "甲公司")
    row = v.record_visit(cctx, _draft(c, feedback="原意见"))
    saved = v.update_record(cctx, row.id, _draft(c, feedback="新意见", satisfaction="很满意"), row.version)
    assert (saved.feedback, saved.satisfaction, saved.version, saved.number) == (
        "新意见",
        "很满意",
        2,
        row.number,
    )
    with pytest.raises(ConflictError):
        v.update_record(cctx, row.id, _draft(c, feedback="旧窗口的修改"), row.version)
    assert v.get_record(ctx, row.id).feedback == "新意见"
    with ctx.sessions() as s:
        log = s.execute(select(AuditLog).where(AuditLog.action == "修改回访记录")).scalar_one()
    assert json.loads(log.old or "{}") == {"feedback": "原意见", "satisfaction": "满意"}
    assert json.loads(log.new or "{}") == {"feedback": "新意见", "satisfaction": "很满意"}


def test_update_record_of_someone_else_is_refused(
    ctx: ServiceContext, cctx: ServiceContext, c2ctx: ServiceContext
) -> None:
    c = _customer(cctx, "甲公司")
    row = v.record_visit(cctx, _draft(c))
    with pytest.raises(PermissionDenied):
        v.update_record(c2ctx, row.id, _draft(c, feedback="x"), row.version)


def test_list_records_pages_by_keyset(ctx: ServiceContext, cctx: ServiceContext) -> None:
    c = _customer(cctx, "甲公司")
    numbers = [
        v.record_visit(cctx, _draft(c, visited_at=f"2026-11-2{d} 09:00")).number for d in (1, 2, 3, 3, 4)
    ]
    page1 = v.list_records(ctx, limit=2)
    page2 = v.list_records(ctx, limit=2, after=(page1[-1].visited_at, page1[-1].id))
    page3 = v.list_records(ctx, limit=2, after=(page2[-1].visited_at, page2[-1].id))
    assert [r.number for r in page1 + page2 + page3] == list(reversed(numbers))
    assert [
        r.number
        for r in v.list_records(ctx, start=date(2026, 11, 22), end=date(2026, 11, 23), descending=False)
    ] == numbers[1:4]


# --- reports -------------------------------------------------------------------------------------------


def test_draft_report_counts_exactly(
    ctx: ServiceContext, cctx: ServiceContext, c2ctx: ServiceContext, clerk: UserInfo
) -> None:
    c = _customer(cctx, "甲公司")
    d = _customer(cctx, "乙公司")
    v.record_visit(cctx, _draft(c, visit_type="例行", satisfaction="很满意", visited_at="2026-11-23 09:00"))
    v.record_visit(cctx, _draft(c, visit_type="例行", satisfaction="满意", visited_at="2026-11-23 10:00"))
    v.record_visit(
        cctx,
        _draft(
            d,
            visit_type="到货",
            satisfaction="不满意",
            problems="少了一个配件",
            measures="补发配件",
            visited_at="2026-11-24 08:00",
        ),
    )
    v.record_visit(cctx, _draft(d, "未接通", visit_type="到货", visited_at="2026-11-24 08:30"))
    v.record_visit(cctx, _draft(c, visit_type="例行", visited_at="2026-11-22 09:00"))  # before the period
    v.record_visit(c2ctx, _draft(c, visit_type="例行", visited_at="2026-11-23 09:00"))  # someone else's
    draft = v.draft_report(cctx, clerk.id, date(2026, 11, 23), date(2026, 11, 24))
    assert (draft.clerk, draft.total) == ("小王", 4)
    assert draft.by_type == (("例行", 2), ("到货", 2))
    assert draft.by_result == (("成功", 3), ("未接通", 1))
    assert draft.satisfaction == (("很满意", 1), ("满意", 1), ("不满意", 1))
    assert draft.satisfied == 2
    assert draft.average_score == pytest.approx((100 + 75 + 25) / 3)
    assert [(p.customer_name, p.problems, p.measures) for p in draft.problems] == [
        ("乙公司", "少了一个配件", "补发配件")
    ]
    assert draft.problems_text.endswith("乙公司：少了一个配件")


def test_save_report_goes_to_review_with_its_due_day(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo
) -> None:
    c = _customer(cctx, "甲公司")
    v.record_visit(cctx, _draft(c, visited_at="2026-11-20 09:00"))
    draft = v.draft_report(cctx, clerk.id, date(2026, 11, 20), date(2026, 11, 20))
    with pytest.raises(ValidationError) as err:
        v.save_report(cctx, draft, "", "", "")
    assert err.value.fields == ["evaluation"]
    report = v.save_report(cctx, draft, "客户总体满意", draft.problems_text, "无")
    assert (report.number, report.status, report.due_on, report.late, report.clerk) == (
        "BG20261124-001",
        "待审阅",
        date(2026, 11, 23),
        True,
        "小王",
    )  # due the Monday after Friday
    assert report.summary["total"] == 1 and report.summary["by_type"] == {"例行": 1}
    with ctx.sessions() as s:
        stored = s.get(VisitReport, report.id)
        assert stored is not None and json.loads(stored.summary)["by_result"] == {"成功": 1}
    with pytest.raises(ValidationError):
        v.save_report(cctx, draft, "又写一遍", "", "")  # one report per clerk and period
    other = v.draft_report(cctx, clerk2.id, date(2026, 11, 24), date(2026, 11, 24))
    with pytest.raises(PermissionDenied):
        v.save_report(cctx, other, "替别人写", "", "")


# --- rates ---------------------------------------------------------------------------------------------


def test_rates_exactly_right_on_a_hand_built_set(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo
) -> None:
    a = _customer(cctx, "甲公司", grade="A")
    b = _customer(cctx, "乙公司", grade="B")
    rules = v.load_rules(ctx)
    v.save_rules(
        sctx,
        replace(
            rules,
            rules=tuple(
                replace(r, target_rate=0.5) if r.key == "delivery_arrival" else r for r in rules.rules
            ),
        ),
    )
    # November, 小王: 4 planned (one done on time, one done late, one overdue, one not yet due) + 1 cancelled
    _add_plan(ctx, a, due=date(2026, 11, 10), owner_id=clerk.id, state="已回访", done_on=date(2026, 11, 9))
    _add_plan(
        ctx,
        a,
        due=date(2026, 11, 10),
        owner_id=clerk.id,
        state="已回访",
        done_on=date(2026, 11, 12),
        rule_key="delivery_arrival",
        visit_type="到货",
    )
    _add_plan(ctx, b, due=date(2026, 11, 20), owner_id=clerk.id)
    _add_plan(
        ctx, b, due=date(2026, 11, 30), owner_id=clerk.id, rule_key="delivery_arrival", visit_type="到货"
    )
    _add_plan(ctx, b, due=date(2026, 11, 15), owner_id=clerk.id, state="已取消")
    # 小李: 1 planned in November (done on its due day), 1 in December (pending)
    _add_plan(ctx, b, due=date(2026, 11, 24), owner_id=clerk2.id, state="已回访", done_on=TODAY)
    _add_plan(ctx, a, due=date(2026, 12, 3), owner_id=clerk2.id)
    _add_plan(ctx, a, due=date(2026, 10, 30), owner_id=clerk2.id)  # outside the period

    period = (date(2026, 11, 1), date(2026, 12, 31))
    [total] = v.rates(ctx, *period)
    assert total == v.RateRow("合计", 6, 3, 2, 1, 0.5, pytest.approx(2 / 6), pytest.approx((4 + 2 * 0.5) / 6))
    by_clerk = {r.key: r for r in v.rates(ctx, *period, "clerk")}
    assert (
        by_clerk["小王"].planned,
        by_clerk["小王"].done,
        by_clerk["小王"].on_time,
        by_clerk["小王"].overdue,
    ) == (4, 2, 1, 1)
    assert (by_clerk["小王"].visit_rate, by_clerk["小王"].on_time_rate, by_clerk["小王"].target) == (
        0.5,
        0.25,
        0.75,
    )
    li = by_clerk["小李"]
    assert (li.planned, li.done, li.on_time, li.visit_rate) == (2, 1, 1, 0.5)
    assert [(r.key, r.planned, r.done) for r in v.rates(ctx, *period, "grade")] == [("A", 3, 2), ("B", 3, 1)]
    assert [(r.key, r.planned, r.done, r.on_time) for r in v.rates(ctx, *period, "type")] == [
        ("例行", 4, 2, 2),
        ("到货", 2, 1, 0),
    ]
    assert [(r.key, r.planned, r.done, r.overdue) for r in v.rates(ctx, *period, "month")] == [
        ("2026-11", 5, 3, 1),
        ("2026-12", 1, 0, 0),
    ]
    by_rule = {r.key: r for r in v.rates(ctx, *period, "rule")}
    assert (by_rule["到货回访"].planned, by_rule["到货回访"].target) == (2, 0.5)
    assert (by_rule["手动安排"].planned, by_rule["手动安排"].target) == (4, 1.0)
    assert v.rates(ctx, date(2025, 1, 1), date(2025, 12, 31)) == []
    with pytest.raises(ValidationError):
        v.rates(ctx, *period, "weekday")  # type: ignore[arg-type]


def test_export_ledger_is_logged_and_refuses_a_missing_folder(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo, tmp_path: Any
) -> None:
    from openpyxl import load_workbook

    c = _customer(cctx, "甲公司", grade="B")
    pid = _add_plan(ctx, c, due=TODAY, owner_id=clerk.id)
    v.record_visit(cctx, _draft(c, plan_id=pid))
    v.record_visit(cctx, _draft(c, "未接通", visited_at="2026-11-23 15:00"))  # without a plan
    out = tmp_path / "台账.xlsx"
    november = ledgers.LedgerFilter(start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert ledgers.export(cctx, ledgers.Ledger.VISITS, november, out).rows == 3
    ws = load_workbook(out).active
    header, *rows, total = ws.iter_rows(min_row=2, values_only=True)
    assert total[0] == "合计"
    cells = [dict(zip(header, r, strict=True)) for r in rows]
    assert [(r["编号"], r["结果"], r["状态"]) for r in cells] == [
        ("HF20261123-001", "未接通", "计划外"),
        ("HF20261124-001", "成功", "已回访"),
        (None, None, "待回访"),
    ]
    with ctx.sessions() as s:
        log = s.execute(select(AuditLog).where(AuditLog.action == "导出回访台账")).scalar_one()
    assert json.loads(log.new or "{}")["rows"] == 3 and log.username == "xiaowang"
    with pytest.raises(ledgers.LedgerError):
        ledgers.export(
            cctx, ledgers.Ledger.VISITS, ledgers.LedgerFilter(), tmp_path / "没有的文件夹" / "a.xlsx"
        )
