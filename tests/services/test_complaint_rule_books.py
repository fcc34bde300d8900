"""Scenario tests of issue #20's measured complaint cases against the rule books (fixed clock 2026-11-24 10:00,
the holiday calendar of the office): numbering, repeats, deadlines, independent verification."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from huifang_desktop.domain.complaint_rules import ComplaintRules
from huifang_desktop.domain.complaints import MONTHLY_NUMBER_PATTERN
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.settings import set_value
from huifang_desktop.storage.db import make_engine, make_session_factory
from huifang_desktop.storage.models import Counter


def _intake(**kw: object) -> cs.IntakeDraft:
    base: dict[str, object] = {
        "subject": "空调漏水",
        "complainant": "王女士",
        "phone": "139 0571 2233",
        "category": "维修",
        "content": "客厅空调漏水",
    }
    base.update(kw)
    return cs.IntakeDraft(**base)  # type: ignore[arg-type]


def _monthly(ctx: ServiceContext) -> None:
    cs.save_policy(ctx, replace(cs.load_policy(ctx), number_pattern=MONTHLY_NUMBER_PATTERN))


# --- numbering (domain.md §7 / 002: YYMM + serial restarting monthly) ----------------------------------


def test_a_month_after_a_busy_one_numbers_with_three_digits_from_its_first_case(
    ctx: ServiceContext, sctx: ServiceContext, cctx: ServiceContext
) -> None:
    _monthly(sctx)
    with ctx.sessions() as s, s.begin():
        s.add(Counter(name="complaint:投诉:month:2026-10", value=120))  # October: 120 complaints
    first = cs.register(cctx, _intake(subject="电梯异响"))
    assert first.number == "2611001"
    with ctx.sessions() as s, s.begin():
        s.query(Counter).filter(Counter.name == "complaint:投诉:month:2026-11").update({"value": 99})
    assert cs.register(cctx, _intake(subject="门禁失灵")).number == "2611100"  # the 100th: same width


def test_a_month_already_under_way_keeps_its_width_and_numbers_never_collide(
    ctx: ServiceContext, sctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo
) -> None:
    _monthly(sctx)
    with ctx.sessions() as s, s.begin():
        s.add(
            Counter(name="complaint:投诉:month:2026-11", value=2)
        )  # 261101, 261102 given before the upgrade
    other_pc = make_engine(ctx.engine.url)  # a second PC on the same database
    try:
        cctx2 = ServiceContext(other_pc, make_session_factory(other_pc), clock=ctx.clock).as_user(clerk)
        numbers = [
            cs.register(c, _intake(subject=f"第{i}件")).number for i in range(6) for c in (cctx, cctx2)
        ]
    finally:
        other_pc.dispose()
    assert numbers[0] == "261103" and len(set(numbers)) == 12 and {len(n) for n in numbers} == {6}


# --- repeats (measured miss: “空调漏水” vs “空调维修后仍然漏水”, same phone, same week) -------------------


def test_a_longer_wording_of_the_same_matter_from_the_same_phone_is_a_repeat(cctx: ServiceContext) -> None:
    first = cs.register(cctx, _intake(received_at="2026-11-20 09:00"))
    hits = cs.find_repeats(cctx, phone="13905712233", subject="空调维修后仍然漏水")
    assert [h.number for h in hits] == [first.number] and hits[0].similarity >= 0.6
    assert cs.find_repeats(cctx, phone="13905712233", subject="物业费发票开错") == []
    assert cs.find_repeats(cctx, phone="13800000000", subject="空调维修后仍然漏水") == []  # another caller


# --- deadlines (002 制度11 “24小时答复”, 制度6/15 domestic/foreign, 建议 reply date) ------------------------


def test_a_consultation_before_national_day_is_not_due_on_the_holiday(cctx: ServiceContext) -> None:
    d = cs.register(
        cctx, _intake(kind="咨询", subject="保修期多久", category="", received_at="2026-09-30 16:00")
    )
    assert d.handling_due.date() not in {date(2026, 10, d_) for d_ in range(1, 8)}  # 国庆 10-01…10-07
    assert d.handling_due == datetime(2026, 10, 8, 15, 0)  # 1.5 h on 09-30, 6.5 h on 10-08


def test_a_suggestion_is_due_on_the_date_promised(cctx: ServiceContext) -> None:
    d = cs.register(
        cctx, _intake(kind="建议", subject="希望增加夜间保安", category="", promised_reply_on="2026-12-04")
    )
    assert d.handling_due == datetime(2026, 12, 4, 17, 30)


def test_foreign_customers_get_the_longer_limit_the_office_sets(
    sctx: ServiceContext, cctx: ServiceContext
) -> None:
    cs.save_complaint_rules(sctx, ComplaintRules(origin_days={"国内": 13, "国外": 17}))  # 002 制度6 第十条
    home = cs.register(cctx, _intake(subject="包装破损", origin="国内", received_at="2026-11-24 09:00"))
    abroad = cs.register(cctx, _intake(subject="包装破损", origin="国外", received_at="2026-11-24 09:00"))
    assert home.handling_due == datetime(2026, 12, 7, 17, 30)  # 12-07 is a Monday
    assert abroad.handling_due == datetime(2026, 12, 11, 17, 30)


# --- independent verification (002 制度5 §5: 客户中心跟进验证; 制度9) -------------------------------------


def test_the_closing_visit_goes_to_somebody_other_than_the_handler(
    cctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo, sctx: ServiceContext
) -> None:
    customer = register_customer(
        cctx,
        CustomerDraft(
            name="杭州明达贸易",
            created_on="2026-01-05",
            contacts=(ContactDraft(name="张经理", mobile="13812345678"),),
        ),
    )
    d = cs.register(cctx, _intake(customer_id=customer.id))
    assert d.row.handler_id == clerk.id
    cs.accept(cctx, d.id)
    cs.save_handling(cctx, d.id, cs.HandlingDraft(investigation="排水管堵", result="已疏通"))
    d = cs.finish_handling(cctx, d.id)
    plan = v.get_plan(cctx, d.visit_plan_id)  # type: ignore[arg-type]
    assert plan.owner_id == clerk2.id  # another 客服专员, not the handler

    # the one switch (001 篇11, 设置 → 回访规则) off: the handler keeps the closing visit
    set_value(sctx, "independent_visitor", False, what="回访人独立性检查")
    assert _closing_visitor(cctx, customer.id, "楼道灯不亮") == clerk.id


def _closing_visitor(cctx: ServiceContext, customer_id: int, subject: str) -> int | None:
    """Who the closing visit of a new complaint (handled by the acting clerk) is planned for."""
    d = cs.register(cctx, _intake(customer_id=customer_id, subject=subject))
    cs.accept(cctx, d.id)
    cs.save_handling(cctx, d.id, cs.HandlingDraft(investigation="查明原因", result="已处理"))
    d = cs.finish_handling(cctx, d.id)
    return v.get_plan(cctx, d.visit_plan_id).owner_id  # type: ignore[arg-type]


def test_the_office_wide_switch_and_its_visit_types_decide_the_closing_visitor(
    cctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo, sctx: ServiceContext, supervisor: UserInfo
) -> None:
    customer = register_customer(
        cctx,
        CustomerDraft(name="杭州明达贸易", contacts=(ContactDraft(name="张经理", mobile="13812345678"),)),
    )
    # the complaint rules' verifier level is asked first while independence covers complaint visits
    cs.save_complaint_rules(sctx, ComplaintRules(verifier_role=Role.SUPERVISOR))
    assert _closing_visitor(cctx, customer.id, "空调漏水") == supervisor.id

    # an older program's stored rules with their own switch off: the key is ignored, the one switch decides
    set_value(
        sctx,
        cs.RULES_KEY,
        {**cs.load_complaint_rules(sctx).to_dict(), "independent_closing_visit": False},
        what="投诉核决权限与时限",
    )
    assert cs.load_complaint_rules(sctx).verifier_role is Role.SUPERVISOR
    assert _closing_visitor(cctx, customer.id, "电梯异响") == supervisor.id

    # 投诉 taken out of the types the check covers: the handler keeps it
    v.save_options(sctx, replace(v.load_options(sctx), independent_visit_types=("满意度",)))
    assert _closing_visitor(cctx, customer.id, "门禁失灵") == clerk.id

    v.save_options(sctx, v.VisitOptions())  # 投诉 among the default types again
    assert "投诉" in v.VisitOptions().independent_visit_types
    set_value(sctx, v.INDEPENDENT_KEY, False, what="回访人独立性检查")
    assert _closing_visitor(cctx, customer.id, "楼道灯不亮") == clerk.id
    set_value(sctx, v.INDEPENDENT_KEY, True, what="回访人独立性检查")
    assert _closing_visitor(cctx, customer.id, "水管爆裂") not in (clerk.id, None)
