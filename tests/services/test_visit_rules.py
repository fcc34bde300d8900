"""Issue 19 items 6–9 measured cases as scenarios (clock fixed at 2026-11-24 10:00 by the ``ctx`` fixture):
follow-up chains (000 §1.9, 001 §47), independence on by default (001 篇11), a leaver's hand-over and the
5-working-day 备案 reminder (002 §1.4), office-type presets (001 篇3 §3 (7): 维修回访率 100 %)."""

from __future__ import annotations

from datetime import date, datetime
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.handover import OwnerChange, owner_on
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import handover, presets, workflow
from huifang_desktop.services import users as users_service
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.services.settings import set_value
from huifang_desktop.storage.models import (
    AuditLog,
    Complaint,
    Customer,
    PlanOwnerChange,
    User,
    VisitPlan,
    VisitReport,
)
from tests.services.test_owner_at_close import LATE_DELIVERY_HANDLING, late_delivery

PASSWORD = "Huifang#2026"
_phones = count(20_000_000)


def _customer(ctx: ServiceContext, name: str, **kw: Any) -> int:
    fields: dict[str, Any] = {
        "name": name,
        "kind": "单位",
        "category": "经销商",
        "created_on": "2026-11-01",
        "address": "杭州市西湖区文三路 1 号",
        "contacts": (ContactDraft(name="张经理", mobile=f"139{next(_phones)}"),),
    }
    fields.update(kw)
    return register_customer(ctx, CustomerDraft(**fields)).id


def _draft(customer_id: int, result: str = "成功", **fields: Any) -> v.VisitRecordDraft:
    base: dict[str, Any] = {
        "visited_at": "2026-11-24 09:00",
        "satisfaction": "满意" if result == "成功" else "",
    }
    base.update(fields)
    return v.VisitRecordDraft(customer_id=customer_id, result=result, **base)


def _plan(
    ctx: ServiceContext,
    customer_id: int,
    *,
    visit_type: str = "满意度",
    method: str = "上门",
    owner_id: int | None = None,
    key: str = "",
    due: date = date(2026, 11, 24),
) -> int:
    with ctx.sessions() as s, s.begin():
        plan = VisitPlan(
            customer_id=customer_id,
            source_key=key or f"test:{next(_phones)}",
            rule_key="delivery_satisfaction",
            visit_type=visit_type,
            method=method,
            earliest=due,
            due=due,
            owner_id=owner_id,
            attempt=1,
            state="待回访",
            cancel_reason="",
            manual=False,
            created_at=datetime(2026, 11, 1),
        )
        s.add(plan)
        s.flush()
        return plan.id


@pytest.fixture
def colleague(ctx: ServiceContext, admin: UserInfo) -> UserInfo:
    """小张, a second 客服专员 in 小王's department (客服部)."""
    return users_service.create_user(ctx.as_user(admin), "xiaozhang", "小张", Role.CLERK, PASSWORD, "客服部")


# --- item 6: follow-ups ------------------------------------------------------------------------------


def test_follow_up_chain_same_method_then_phone_until_a_supervisor_closes_it(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, colleague: UserInfo
) -> None:
    # measured: "switch to phone from the 2nd attempt, stop after the 3rd"; 000 §1.9 asks the 2nd by the
    # same method, phone only after it, "第三次甚至更多次"
    c = _customer(cctx, "甲公司")
    zctx = ctx.as_user(colleague)
    plan = _plan(ctx, c, owner_id=colleague.id)
    r1 = v.record_visit(zctx, _draft(c, "未接通", plan_id=plan, method="上门", customer_signed=True))
    p2 = v.get_plan(ctx, r1.follow_up_plan_id)  # type: ignore[arg-type]
    assert (p2.attempt, p2.method) == (2, "上门")
    r2 = v.record_visit(
        zctx,
        _draft(
            c, "不可达", plan_id=p2.id, method="上门", customer_signed=True, visited_at="2026-11-24 09:10"
        ),
    )
    p3 = v.get_plan(ctx, r2.follow_up_plan_id)  # type: ignore[arg-type]
    assert (p3.attempt, p3.method) == (3, "电话")
    r3 = v.record_visit(
        zctx, _draft(c, "未接通", plan_id=p3.id, method="电话", visited_at="2026-11-24 09:20")
    )
    p4 = v.get_plan(ctx, r3.follow_up_plan_id)  # type: ignore[arg-type]
    assert p4.attempt == 4 and p4.state == "待回访"  # no third-attempt stop
    with pytest.raises(PermissionDenied):
        v.close_chain(cctx, p4.id, "客户已出国")
    with pytest.raises(ValidationError):
        v.close_chain(sctx, p4.id, " ")  # a reason is required
    v.close_chain(sctx, p4.id, "客户已出国半年")
    closed = v.get_plan(ctx, p4.id)
    assert closed.state == "已取消"
    with ctx.sessions() as s:
        row = s.execute(select(AuditLog).where(AuditLog.action == "结束再次回访")).scalar_one()
    assert row.entity_id == p4.id and "客户已出国半年" in row.note


def test_refuser_is_contacted_again_after_seven_days_once(
    ctx: ServiceContext, cctx: ServiceContext, colleague: UserInfo
) -> None:
    # measured: "never follow a 拒绝"; 001 §47 "应积极联系客户，请客户配合完成回访"
    c = _customer(cctx, "乙公司")
    zctx = ctx.as_user(colleague)
    plan = _plan(ctx, c, owner_id=colleague.id, method="电话")
    r1 = v.record_visit(zctx, _draft(c, "拒绝", plan_id=plan, method="电话"))
    again = v.get_plan(ctx, r1.follow_up_plan_id)  # type: ignore[arg-type]
    assert (again.attempt, again.due) == (2, date(2026, 12, 1))
    r2 = v.record_visit(
        zctx, _draft(c, "拒绝", plan_id=again.id, method="电话", visited_at="2026-11-24 09:30")
    )
    assert r2.follow_up_plan_id is None  # refused again: 视为回访不通过
    set_value(ctx, "visit_rules", {"follow_up": {"refused_after_days": 3}}, what="回访规则")
    other = _plan(ctx, c, owner_id=colleague.id, method="电话")
    r3 = v.record_visit(zctx, _draft(c, "拒绝", plan_id=other, method="电话", visited_at="2026-11-24 09:40"))
    assert v.get_plan(ctx, r3.follow_up_plan_id).due == date(2026, 11, 27)  # type: ignore[arg-type]


def test_major_complaint_closing_visit_is_on_site_by_default(
    ctx: ServiceContext, cctx: ServiceContext, mctx: ServiceContext, admin: UserInfo
) -> None:
    # measured: "a 重大 complaint's closing visit is hard-coded to phone"; 000 §1.9 第三类投诉
    users_service.create_user(ctx.as_user(admin), "fujingli", "钱副经理", Role.MANAGER, PASSWORD, "经理室")
    c = _customer(cctx, "丙公司")
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="产品起火",
            complainant="张经理",
            phone="13812345678",
            category="产品质量",
            content="车厢起火",
            customer_id=c,
            severity="重大",
        ),
    )
    d = cs.accept(mctx, d.id)
    d = cs.save_handling(
        mctx,
        d.id,
        cs.HandlingDraft(
            investigation="线路老化",
            cause="装配",
            measures="更换",
            result="已赔偿",
            replied_at="2026-11-24 10:00",
            reply_way="当面",
        ),
    )
    d = cs.finish_handling(mctx, d.id)
    plan = v.get_plan(ctx, d.visit_plan_id)  # type: ignore[arg-type]
    assert plan.method == "上门"
    assert plan.owner == "钱副经理"  # independent of the handler (赵经理), still a manager (domain.md §7)


# --- item 7: independence ------------------------------------------------------------------------------


def test_satisfaction_visit_is_planned_for_an_independent_colleague_and_refused_for_the_salesperson(
    ctx: ServiceContext,
    cctx: ServiceContext,
    sctx: ServiceContext,
    clerk: UserInfo,
    colleague: UserInfo,
    clerk2: UserInfo,
) -> None:
    # measured: independence off by default, only 满意度 when on; 001 篇11 第三条(二)、第四条
    c = _customer(cctx, "丁公司")  # 小王 is the 业务员
    workflow.add_purchase(cctx, c, day="2026-11-23", product="货箱", quantity=3, kind="交货")
    plans = {
        p.rule_key: p
        for p in v.list_plans(ctx, start=date(2026, 11, 1), end=date(2027, 1, 31))
        if p.customer_id == c
    }
    assert plans["delivery_arrival"].owner == "小王"  # not an independent type: stays with the owner
    satisfaction = plans["delivery_satisfaction"]
    assert satisfaction.owner == "小张"  # a 客服 of the same department (客服部), not 小李 of 销售部
    with pytest.raises(ValidationError) as err:
        v.record_visit(cctx, _draft(c, plan_id=satisfaction.id, visit_type="满意度", method="电话"))
    assert "回访人不得为该客户的业务员" in str(err.value)
    row = v.record_visit(
        ctx.as_user(colleague), _draft(c, plan_id=satisfaction.id, visit_type="满意度", method="电话")
    )
    assert row.visitor == "小张"
    set_value(sctx, "independent_visitor", False, what="回访人独立性检查")
    assert v.record_visit(cctx, _draft(c, visit_type="满意度", method="电话")).visitor == "小王"


def test_closing_visit_refused_for_the_complaint_handler(
    ctx: ServiceContext, cctx: ServiceContext, colleague: UserInfo, clerk: UserInfo, clerk2: UserInfo
) -> None:
    c = _customer(ctx.as_user(colleague), "戊公司")  # 小张 is the 业务员
    complaint_id = late_delivery(ctx, cctx, c, clerk.id)
    cs.save_handling(cctx, complaint_id, LATE_DELIVERY_HANDLING)
    d = cs.finish_handling(cctx, complaint_id)
    plan = v.get_plan(ctx, d.visit_plan_id)  # type: ignore[arg-type]
    assert plan.owner == "小李"  # neither the handler (小王) nor the customer's 业务员 (小张)
    with pytest.raises(ValidationError, match="回访人不得为该投诉的处理人本人"):
        workflow.record_visit(
            cctx, v.prefill_record(cctx, plan.id).to_draft(result="成功", satisfaction="满意")
        )


# --- item 8: hand-over ---------------------------------------------------------------------------------


def test_disabling_a_leaver_hands_over_all_open_work_in_one_step(
    ctx: ServiceContext,
    admin: UserInfo,
    cctx: ServiceContext,
    clerk: UserInfo,
    colleague: UserInfo,
    clerk2: UserInfo,
) -> None:
    # measured: "reassigning customers leaves their pending plans and open items with the leaver, who keeps
    # being charged"
    actx = ctx.as_user(admin)
    a = _customer(cctx, "甲公司")
    b = _customer(cctx, "乙公司")
    routine = _plan(ctx, a, visit_type="例行", method="电话", owner_id=clerk.id, due=date(2026, 11, 30))
    sat = _plan(ctx, b, visit_type="满意度", method="电话", owner_id=clerk.id, due=date(2026, 11, 30))
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="送货延误",
            complainant="张经理",
            phone="13812345678",
            category="交付物流",
            content="晚到",
            customer_id=a,
        ),
    )
    with ctx.sessions() as s, s.begin():
        s.get(Complaint, d.id).handler_id = clerk.id  # type: ignore[union-attr]
        s.add(
            VisitReport(
                number="BG-draft",
                clerk_id=clerk.id,
                period_start=date(2026, 11, 23),
                period_end=date(2026, 11, 23),
                status="草稿",
                due_on=date(2026, 11, 24),
                created_at=datetime(2026, 11, 24, 9),
            )
        )
    assert handover.open_work(actx, clerk.id) == {"customers": 2, "plans": 2, "complaints": 1, "drafts": 1}
    with pytest.raises(ValidationError, match="至少选择一位接手人"):
        handover.disable_user(actx, clerk.id, [])
    result = handover.disable_user(actx, clerk.id, [colleague.id, clerk2.id], "离职")
    assert result is not None
    assert (result.customers, result.plans, result.complaints, result.drafts) == (2, 2, 1, 1)
    assert handover.open_work(actx, clerk.id) == {"customers": 0, "plans": 0, "complaints": 0, "drafts": 0}
    with ctx.sessions() as s:
        assert s.get(User, clerk.id).active is False  # type: ignore[union-attr]
        owners = {cid: s.get(Customer, cid).owner_id for cid in (a, b)}  # type: ignore[union-attr]
        assert owners == {a: colleague.id, b: clerk2.id}
        assert "2026-11-24 工作交接：由 小王 移交给 小张（离职）" in s.get(Customer, a).notes  # type: ignore[union-attr]
        assert s.get(VisitPlan, routine).owner_id == colleague.id  # type: ignore[union-attr]
        # a satisfaction visit never goes to the customer's new 业务员 (小李 owns 乙公司 now)
        assert s.get(VisitPlan, sat).owner_id == colleague.id  # type: ignore[union-attr]
        changes = s.execute(select(PlanOwnerChange).where(PlanOwnerChange.plan_id == routine)).scalars().all()
        assert [(ch.old_owner_id, ch.new_owner_id, ch.changed_on) for ch in changes] == [
            (clerk.id, colleague.id, date(2026, 11, 24))
        ]
        history = [OwnerChange(ch.changed_on, ch.old_owner_id, ch.new_owner_id) for ch in changes]
        # the 考核 asks the owner when the window closed: the leaver only before the hand-over day
        assert owner_on(colleague.id, history, date(2026, 11, 20)) == clerk.id
        assert owner_on(colleague.id, history, date(2026, 11, 30)) == colleague.id
        assert handover.plan_owners_on(s, {routine: date(2026, 11, 23), sat: date(2026, 11, 30)}) == {
            routine: clerk.id,
            sat: colleague.id,
        }
        assert s.get(Complaint, d.id).handler_id == colleague.id  # type: ignore[union-attr]
        assert s.execute(select(VisitReport.clerk_id)).scalar() == colleague.id
        actions = [r.action for r in s.execute(select(AuditLog).order_by(AuditLog.id)).scalars()][-8:]
    assert actions[-2:] == ["工作交接", "停用用户"]


def test_unregistered_new_files_after_five_working_days(ctx: ServiceContext, cctx: ServiceContext) -> None:
    # 002 §1.4: "接触到新客户后，须在5个工作日内 … 备案，填写《客户基本信息表》"
    late = _customer(cctx, "己公司", created_on="2026-11-13", address="")
    _customer(cctx, "庚公司", created_on="2026-11-13")  # complete: registered
    _customer(cctx, "辛公司", created_on="2026-11-20", address="")  # due 11-27: not late yet
    rows = handover.unregistered_files(cctx)
    assert [(r.customer_id, r.due, r.missing) for r in rows] == [(late, date(2026, 11, 20), ("地址",))]


# --- item 9: presets -----------------------------------------------------------------------------------


def test_after_sales_preset_visits_every_repair(ctx: ServiceContext, sctx: ServiceContext) -> None:
    # measured: "repair visits default to a 30 % sample (property, 000) where 001 says 100 %"
    presets.apply_preset(sctx, "after_sales")
    rules = v.load_rules(ctx)
    assert rules.rule("repair_done").sample_rate == 1.0
    assert v.independence_on(ctx) is True
    assert rules.follow_up.closing_method("重大") is not None
    presets.apply_preset(sctx, "property")
    assert v.load_rules(ctx).rule("repair_done").sample_rate == 0.3  # 000 §1.4 回访率达30%
