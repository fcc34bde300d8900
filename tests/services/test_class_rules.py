"""Issue 19 items 1–2 as scenarios with a fixed clock: what counts for a routine plan, classes over time.

Rule sources: 001 篇1 §1.4 (classes A–D by yearly volume and their cadence; the routine visit covers 市场需求、
产品技术状态、产品质量、产品价格; 技术部门 every three months for A), 001 篇1 §3.2 (50 元 per A/B/C/D routine visit
not made on time), 004 第二篇 (大客户服务计划: "识别20%的大客户"), domain.md §3 and §9 (never backdated).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.stats import EventKind
from huifang_desktop.services import classes, stats
from huifang_desktop.services import settings as office_settings
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import add_purchase, get_customer, pin_grade, register_customer
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.storage.models import Customer, VisitPlan

_phones: Iterator[int] = iter(range(10_000_000, 99_999_999))


def at(ctx: ServiceContext, moment: str) -> ServiceContext:
    """The same user and database with the clock fixed at ``moment`` (``YYYY-MM-DD HH:MM``)."""
    fixed = datetime.fromisoformat(moment)
    return replace(ctx, clock=lambda: fixed)


def _customer(cctx: ServiceContext, name: str, created_on: str, grade: str | None = None) -> int:
    c = register_customer(
        cctx,
        CustomerDraft(
            name=name,
            created_on=created_on,
            contacts=(ContactDraft(name="张经理", mobile=f"139{next(_phones)}"),),
        ),
    )
    if grade is not None:
        with cctx.sessions() as s, s.begin():
            s.execute(update(Customer).where(Customer.id == c.id).values(grade=grade))
    return c.id


def _draft(customer_id: int, visited_at: str, **fields: Any) -> v.VisitRecordDraft:
    base: dict[str, Any] = {"result": "成功", "satisfaction": "满意", "visit_type": "例行", "method": "电话"}
    base.update(fields)
    return v.VisitRecordDraft(customer_id=customer_id, visited_at=visited_at, **base)


def _plans(ctx: ServiceContext, customer_id: int, rule: str = "routine") -> list[VisitPlan]:
    with ctx.sessions() as s:
        return list(
            s.execute(
                select(VisitPlan)
                .where(VisitPlan.customer_id == customer_id, VisitPlan.rule_key == rule)
                .order_by(VisitPlan.due, VisitPlan.id)
            ).scalars()
        )


def _missed(ctx: ServiceContext, month: str, clerk: str = "小王") -> int:
    by_name = {c.clerk: c for c in stats.compute_assessment(ctx, month).clerks}
    return by_name[clerk].line(EventKind.MISSED_VISIT).count if clerk in by_name else 0


# --- item 1: what counts -------------------------------------------------------------------------------


def test_a_birthday_sms_neither_redates_nor_closes_an_overdue_routine_visit(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    """Measured: a 生日 SMS re-dated an overdue A-class routine visit 10-08 → 10-22 and the October penalty
    disappeared. 001 §3.2 asks for the routine visit itself: the plan stays due 10-08, the late 例行 visit
    closes it late, and October keeps its 例行回访未按期."""
    a = _customer(at(cctx, "2026-09-28 09:00"), "青岛欧莱德经销商", "2026-09-28", grade="A")
    v.plan_catch_up(at(ctx, "2026-09-28 08:00"), date(2026, 9, 28))
    [plan] = _plans(ctx, a)
    assert plan.due == date(2026, 10, 8)

    on_12th = at(cctx, "2026-10-12 10:00")
    with pytest.raises(ValidationError, match="生日回访不能完成例行回访计划"):
        v.record_visit(
            on_12th, _draft(a, "2026-10-12 09:00", plan_id=plan.id, visit_type="生日", method="短信")
        )
    v.record_visit(on_12th, _draft(a, "2026-10-12 09:00", visit_type="生日", method="短信"))
    result = v.plan_catch_up(at(ctx, "2026-10-12 08:00"), date(2026, 10, 12))
    assert result.moved == 0
    [still] = _plans(ctx, a)
    assert (still.id, still.due, still.state) == (plan.id, date(2026, 10, 8), "待回访")

    rec = v.record_visit(at(cctx, "2026-10-20 10:00"), _draft(a, "2026-10-20 09:00"))  # 例行, made late
    [done] = _plans(ctx, a)
    assert (done.id, done.state, done.done_on, done.record_id) == (
        plan.id,
        "已回访",
        date(2026, 10, 20),
        rec.id,
    )
    v.plan_catch_up(at(ctx, "2026-10-20 08:00"), date(2026, 10, 20))
    [_, nxt] = _plans(ctx, a)
    assert (nxt.state, nxt.due) == ("待回访", date(2026, 10, 30))  # counted from the 例行 visit
    v.record_visit(at(cctx, "2026-10-29 10:00"), _draft(a, "2026-10-29 09:00", plan_id=nxt.id))  # on time
    assert _missed(ctx, "2026-10") == 1  # the 10-08 visit: 50 元 under 001 §3.2


def test_what_counts_is_configurable(ctx: ServiceContext, cctx: ServiceContext, admin: UserInfo) -> None:
    """The office may say a 技术 visit also completes the routine plan (设置 → 回访规则 → 计入哪些计划)."""
    rules = v.load_rules(ctx)
    table = dict(rules.satisfies)
    table["技术"] = ("technical", "routine")
    v.save_rules(ctx.as_user(admin), replace(rules, satisfies=tuple(table.items())))
    a = _customer(at(cctx, "2026-11-01 09:00"), "甲经销商", "2026-11-01", grade="A")
    v.plan_catch_up(at(ctx, "2026-11-01 08:00"), date(2026, 11, 1))
    v.record_visit(
        cctx, _draft(a, "2026-11-05 09:00", visit_type="技术", method="上门", customer_signed=True)
    )
    assert [p.state for p in _plans(ctx, a)] == ["已回访"]
    assert [p.state for p in _plans(ctx, a, "technical")] == ["已回访"]


# --- item 2: classes over time -------------------------------------------------------------------------


def test_a_class_decays_when_the_volume_leaves_the_rolling_year(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    """Measured: a customer that became A in 2026-09 was still A on 2027-10-05 (a recompute gives D). 001 §1.4
    grades by 年销量; the monthly recompute at start-up now gives D, kept in the class history, and cancels
    the routine plans a D class does not have (due from the change day on)."""
    sep = at(cctx, "2026-09-10 10:00")
    a = _customer(at(cctx, "2026-01-15 10:00"), "乙经销商", "2026-01-15")
    add_purchase(sep, a, day="2026-09-10", product="货箱", quantity=120)
    assert get_customer(sep, a).grade == "A"
    v.plan_catch_up(at(ctx, "2026-09-10 10:00"))
    assert _plans(ctx, a)

    later = at(ctx, "2027-10-05 09:00")
    v.plan_catch_up(later, date(2027, 9, 25))  # a plan due after the change day exists when the class falls
    changes = classes.monthly_recompute(later)
    assert changes is not None and [(c.old, c.new, c.volume) for c in changes] == [("A", "D", 0)]
    assert classes.monthly_recompute(later) is None  # once a month
    with ctx.sessions() as s:
        c = s.get(Customer, a)
        assert c is not None and (c.grade, c.grade_since) == ("D", date(2027, 10, 5))
    history = classes.class_history(cctx, a)
    assert [(h.grade, h.since, h.source) for h in history] == [
        ("D", date(2027, 10, 5), "自动"),
        ("A", date(2026, 9, 10), "自动"),
        ("D", date(2026, 1, 15), "建档"),
    ]
    pending_after = [p for p in _plans(ctx, a) if p.state == "待回访" and p.due >= date(2027, 10, 5)]
    assert pending_after == []


def test_a_promotion_starts_the_cadence_on_the_change_day_never_before(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    """Measured: promoted to A in September, the customer got a routine plan dated from its 建档日期 2026-01-15,
    and re-running January's assessment charged 小王 a miss he could not have avoided (domain.md §9)."""
    a = _customer(at(cctx, "2026-01-15 10:00"), "丙经销商", "2026-01-15")
    v.plan_catch_up(at(ctx, "2026-01-15 10:00"), date(2026, 1, 15))
    assert _plans(ctx, a) == []  # D: no routine plan
    sep = at(cctx, "2026-09-10 10:00")
    add_purchase(sep, a, day="2026-09-10", product="货箱", quantity=100)
    v.plan_catch_up(at(ctx, "2026-09-10 10:00"), date(2026, 9, 10))
    [plan] = _plans(ctx, a)
    assert plan.source_key == f"customer:{a}#routine@20260910"
    assert plan.due >= date(2026, 9, 20) and plan.earliest == date(2026, 9, 11)
    [tech] = _plans(ctx, a, "technical")
    assert tech.source_key == f"customer:{a}#technical@20260910"
    assert _missed(ctx, "2026-01") == 0


def test_vip_is_the_top_share_by_value(ctx: ServiceContext, cctx: ServiceContext, admin: UserInfo) -> None:
    """004 第二篇: "识别20%的大客户" — under the VIP scheme the program ranks the customers by value."""
    office_settings.save_settings(
        ctx.as_user(admin), replace(office_settings.load_settings(ctx), class_scheme="VIP")
    )
    ids = [_customer(cctx, f"客户{i}", "2026-11-01") for i in range(10)]
    for i, cid in enumerate(ids[:9]):
        add_purchase(cctx, cid, day="2026-11-10", product="仪表", quantity=1, amount=str(1000 * (i + 1)))
    classes.recompute_all(ctx)
    grades = [get_customer(cctx, cid).grade for cid in ids]
    assert grades == ["普通"] * 7 + ["VIP", "VIP", "小客户"]


def test_a_supervisor_pins_a_class_with_a_reason_and_the_history_keeps_it(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    a = _customer(cctx, "丁经销商", "2026-11-01")
    with pytest.raises(PermissionDenied):
        pin_grade(cctx, a, "A", "集团战略客户")
    with pytest.raises(ValidationError, match="原因"):
        pin_grade(sctx, a, "A", " ")
    pin_grade(sctx, a, "A", "集团战略客户")
    assert classes.recompute_all(ctx) == []  # a pinned class is not recomputed
    assert get_customer(cctx, a).grade == "A"
    [pinned, start] = classes.class_history(cctx, a)
    assert (pinned.grade, pinned.source, pinned.reason, pinned.since) == (
        "A",
        "指定",
        "集团战略客户",
        date(2026, 11, 24),
    )
    assert pinned.changed_by and (start.grade, start.source) == ("D", "建档")
    pin_grade(sctx, a, None)
    assert get_customer(cctx, a).grade == "D"
    assert classes.class_history(cctx, a)[0].grade == "D"


def test_the_rule_key_the_class_module_reads_is_the_one_the_visits_store() -> None:
    from huifang_desktop.services.visits.options import RULES_KEY

    assert classes.RULES_KEY == RULES_KEY
