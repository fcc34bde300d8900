"""Issue 19 items 3 and 8 (domain.md §9): "An event is charged to whoever owned the plan when its window closed,
never backdated to before a class change or hand-over" — and item 7: the closing visit the planner gave to
somebody independent of the handler (001 篇11) is recorded by that person, from the complaint as from the
calendar.

Scenarios with the clock fixed (tests/conftest.py: 2026-11-24 10:00); the hand-over and the reassignment are
made on an earlier fixed day (a context whose clock says so). Rule book: *001 §3.2* (例行回访未按期, 50 元),
*002 §1.1* (工作交接)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.stats import EventKind, month_period
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import handover, stats, workflow
from huifang_desktop.services import users as users_service
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import reassign_customers, register_customer
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.services.settings import set_value
from huifang_desktop.storage.models import Complaint, Customer, Department, PlanOwnerChange, VisitPlan
from tests.conftest import PASSWORD

OCTOBER, NOVEMBER = month_period(2026, 10), month_period(2026, 11)
_serial = count(1)


def on(ctx: ServiceContext, day: date) -> ServiceContext:
    """The same user and database with the clock at 10:00 on ``day``."""
    return replace(ctx, clock=lambda: datetime(day.year, day.month, day.day, 10))


@pytest.fixture
def colleague(ctx: ServiceContext, admin: UserInfo) -> UserInfo:
    """小张, a second 客服专员 in 小王's department (客服部)."""
    return users_service.create_user(ctx.as_user(admin), "xiaozhang", "小张", Role.CLERK, PASSWORD, "客服部")


def _customer(ctx: ServiceContext, owner: UserInfo) -> int:
    with ctx.sessions() as s, s.begin():
        dep = s.execute(select(Department.id).where(Department.name == owner.department)).scalar()
        n = next(_serial)
        c = Customer(
            code=f"KH{n:06d}",
            name=f"客户{n}",
            initials="kh",
            grade="A",
            category="普通",
            created_on=date(2026, 1, 15),
            owner_id=owner.id,
            department_id=dep,
            primary_phone="13800000000",
            primary_contact="张经理",
            updated_at=datetime(2026, 1, 15),
        )
        s.add(c)
        s.flush()
        return c.id


def _plan(
    ctx: ServiceContext,
    customer_id: int,
    owner: UserInfo,
    due: date,
    *,
    visit_type: str = "例行",
    rule_key: str = "routine",
) -> int:
    with ctx.sessions() as s, s.begin():
        p = VisitPlan(
            customer_id=customer_id,
            source_key=f"t:{next(_serial)}",
            rule_key=rule_key,
            visit_type=visit_type,
            method="电话",
            earliest=due,
            due=due,
            owner_id=owner.id,
            attempt=1,
            state="待回访",
            cancel_reason="",
            manual=False,
            created_at=datetime(2026, 9, 1),
        )
        s.add(p)
        s.flush()
        return p.id


def _charged(ctx: ServiceContext, month: Any) -> dict[int, int]:
    """plan id → the user charged a 例行回访未按期 for it."""
    return {
        e.source_id: e.owner_id
        for e in stats.compute_assessment(ctx, month).events
        if e.kind is EventKind.MISSED_VISIT and e.source_id is not None
    }


def _owner(ctx: ServiceContext, plan_id: int) -> int | None:
    with ctx.sessions() as s:
        return s.execute(select(VisitPlan.owner_id).where(VisitPlan.id == plan_id)).scalar()


# --- charged to the owner when the window closed ---------------------------------------------------------


def test_a_window_closed_before_the_hand_over_is_the_leavers_after_it_the_successors(
    ctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo, colleague: UserInfo
) -> None:
    # 小王 leaves on 2026-10-15; his two routine visits of October were never made (001 §3.2)
    c = _customer(ctx, clerk)
    before = _plan(ctx, c, clerk, date(2026, 10, 8))  # window closed a week before the hand-over
    after = _plan(ctx, c, clerk, date(2026, 10, 20))  # closes five days after it: 小张's to make
    result = handover.hand_over(on(sctx, date(2026, 10, 15)), clerk.id, [colleague.id], "离职")
    assert result.plans == 2
    assert _owner(ctx, before) == _owner(ctx, after) == colleague.id  # both pending plans moved
    # the 考核 asks who held each plan on the day its window closed, not who holds it now
    assert _charged(ctx, OCTOBER) == {before: clerk.id, after: colleague.id}
    by_clerk = {x.clerk_id: x for x in stats.compute_assessment(ctx, OCTOBER).clerks}
    wang, zhang = by_clerk[clerk.id], by_clerk[colleague.id]
    assert (wang.count, wang.amount) == (1, 50) and (zhang.count, zhang.amount) == (1, 50)


def test_a_plan_done_late_by_the_successor_is_still_the_leavers_miss(
    ctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo, colleague: UserInfo
) -> None:
    c = _customer(ctx, clerk)
    plan = _plan(ctx, c, clerk, date(2026, 10, 8))
    handover.hand_over(on(sctx, date(2026, 10, 15)), clerk.id, [colleague.id])
    with ctx.sessions() as s, s.begin():  # 小张 made the visit on 10-16, eight days late
        p = s.get(VisitPlan, plan)
        assert p is not None
        p.state, p.done_on = "已回访", date(2026, 10, 16)
    assert _charged(ctx, OCTOBER) == {plan: clerk.id}


def test_reassigning_a_customer_moves_its_pending_plans_and_the_later_miss_is_the_new_owners(
    ctx: ServiceContext,
    admin: UserInfo,
    sctx: ServiceContext,
    clerk: UserInfo,
    clerk2: UserInfo,
    colleague: UserInfo,
) -> None:
    # measured (issue 19): "reassigning customers leaves their pending plans … with the leaver, who keeps
    # being charged". 小王's customer goes to 小李 on 2026-11-15.
    c = _customer(ctx, clerk)
    overdue = _plan(ctx, c, clerk, date(2026, 11, 10))  # already missed on the day of the reassignment
    later = _plan(ctx, c, clerk, date(2026, 11, 20))  # missed after it
    theirs = _plan(ctx, c, colleague, date(2026, 11, 18))  # somebody else's visit stays theirs
    satisfaction = _plan(
        ctx, c, clerk, date(2026, 11, 30), visit_type="满意度", rule_key="delivery_satisfaction"
    )
    assert reassign_customers(on(sctx, date(2026, 11, 15)), clerk.id, [clerk2.id], "小王调岗") == 1

    assert (_owner(ctx, overdue), _owner(ctx, later), _owner(ctx, theirs)) == (
        clerk2.id,
        clerk2.id,
        colleague.id,
    )
    # independence (on by default, 001 篇11): the satisfaction visit never goes to the new 业务员 — nor back
    # to the one who handed the customer over
    assert _owner(ctx, satisfaction) not in (clerk2.id, clerk.id, None)
    with ctx.sessions() as s:
        rows = s.execute(select(PlanOwnerChange).where(PlanOwnerChange.plan_id == later)).scalars().all()
        assert [(r.old_owner_id, r.new_owner_id, r.changed_on, r.reason) for r in rows] == [
            (clerk.id, clerk2.id, date(2026, 11, 15), "客户移交：小王调岗")
        ]
        assert s.execute(select(PlanOwnerChange).where(PlanOwnerChange.plan_id == theirs)).first() is None
    assert handover.open_work(ctx.as_user(admin), clerk.id)["plans"] == 0
    charged = _charged(ctx, NOVEMBER)
    assert charged[overdue] == clerk.id  # its window closed on 11-10, before the reassignment
    assert charged[later] == clerk2.id  # the new owner had it from 11-15 and missed it on 11-20
    assert charged[theirs] == colleague.id


# --- the planned visitor records the closing visit ---------------------------------------------------------


LATE_DELIVERY_HANDLING = cs.HandlingDraft(
    investigation="绕路",
    cause="调度",
    measures="调整",
    result="已致歉",
    replied_at="2026-11-24 10:00",
    reply_way="电话",
)


def wu_company(filer: ServiceContext) -> int:
    """戊公司, filed by ``filer`` (its 业务员)."""
    return register_customer(
        filer,
        CustomerDraft(
            name="戊公司",
            kind="单位",
            category="经销商",
            created_on="2026-11-01",
            address="杭州市西湖区文三路 1 号",
            contacts=(ContactDraft(name="张经理", mobile="13912340000"),),
        ),
    ).id


def late_delivery(
    ctx: ServiceContext,
    cctx: ServiceContext,
    customer_id: int,
    handler_id: int,
    department_id: int | None = None,
) -> int:
    """送货延误 about ``customer_id``, registered by ``cctx``, given to ``handler_id`` and accepted."""
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="送货延误",
            complainant="张经理",
            phone="13812345678",
            category="交付物流",
            content="晚到",
            customer_id=customer_id,
            department_id=department_id,
        ),
    )
    with ctx.sessions() as s, s.begin():
        k = s.get(Complaint, d.id)
        assert k is not None
        k.handler_id = handler_id
    cs.accept(cctx, d.id)
    return d.id


def closing_case(
    ctx: ServiceContext, cctx: ServiceContext, colleague: UserInfo, clerk: UserInfo
) -> cs.ComplaintDetail:
    """戊公司 (its 业务员 ``colleague``), a complaint registered by ``cctx`` and handled by ``clerk``, finished:
    its closing visit is planned for somebody else (visitor independence). Shared with the GUI test
    (tests/ui/test_closing_visitor_gui.py) and tests/services/test_complaint_visitor.py."""
    complaint_id = late_delivery(ctx, cctx, wu_company(ctx.as_user(colleague)), clerk.id)
    cs.save_handling(cctx, complaint_id, LATE_DELIVERY_HANDLING)
    return cs.finish_handling(cctx, complaint_id)


def _visit(**kw: Any) -> cs.ClosingVisitDraft:
    base: dict[str, Any] = {
        "result": "成功",
        "satisfaction": "满意",
        "method": "电话",
        "visited_at": "2026-11-24 09:30",
        "note": "客户认可",
    }
    base.update(kw)
    return cs.ClosingVisitDraft(**base)


def test_the_planned_visitor_records_the_closing_visit_from_the_complaint(
    ctx: ServiceContext,
    cctx: ServiceContext,
    c2ctx: ServiceContext,
    colleague: UserInfo,
    clerk: UserInfo,
    clerk2: UserInfo,
) -> None:
    # measured: with independence on (the default) the closing visit is planned for 小李, but only the
    # handler (小王, refused for independence) could use 登记结案回访
    d = closing_case(ctx, cctx, colleague, clerk)
    assert v.get_plan(ctx, d.visit_plan_id).owner == "小李"  # type: ignore[arg-type]
    handler_view = cs.get_complaint(cctx, d.id)
    assert "visit" not in handler_view.actions and "handle" in handler_view.actions
    assert "visit" in cs.get_complaint(c2ctx, d.id).actions
    assert (
        "visit" not in cs.get_complaint(ctx.as_user(colleague), d.id).actions
    )  # neither planned nor handler

    with pytest.raises(ValidationError) as refused:
        workflow.record_closing_visit(cctx, d.id, _visit())
    assert "回访人不得为该投诉的处理人本人" in str(refused.value) and "已安排由 小李 登记" in str(
        refused.value
    )
    with pytest.raises(PermissionDenied):
        workflow.record_closing_visit(ctx.as_user(colleague), d.id, _visit())
    assert cs.get_complaint(cctx, d.id).state == "待回访"

    done = workflow.record_closing_visit(c2ctx, d.id, _visit(), expected_version=d.version)
    assert done.state == "已关闭" and done.visit_record_id is not None
    assert v.get_record(ctx, done.visit_record_id).visitor == "小李"


def test_re_planning_a_closing_visit_for_somebody_else_keeps_the_owner_change(
    ctx: ServiceContext,
    cctx: ServiceContext,
    c2ctx: ServiceContext,
    colleague: UserInfo,
    clerk: UserInfo,
    clerk2: UserInfo,
) -> None:
    d = closing_case(ctx, cctx, colleague, clerk)
    back = workflow.record_closing_visit(c2ctx, d.id, _visit(satisfaction="不满意", note="还要赔偿"))
    assert back.state == "处理中" and back.visit_plan_id not in (None, d.visit_plan_id)
    nxt = back.visit_plan_id
    assert nxt is not None
    with (
        ctx.sessions() as s,
        s.begin(),
    ):  # planned for the customer's 业务员 (say, before independence was on)
        p = s.get(VisitPlan, nxt)
        assert p is not None
        p.owner_id = colleague.id
    cs.finish_handling(cctx, d.id)  # handled again: the closing visit is re-planned, independently
    assert _owner(ctx, nxt) == clerk2.id
    with ctx.sessions() as s:
        rows = s.execute(select(PlanOwnerChange).where(PlanOwnerChange.plan_id == nxt)).scalars().all()
        assert [(r.old_owner_id, r.new_owner_id, r.changed_on) for r in rows] == [
            (colleague.id, clerk2.id, date(2026, 11, 24))
        ]
        assert "重新安排结案回访" in rows[0].reason


def test_without_independence_the_handler_records_it_again(
    ctx: ServiceContext,
    cctx: ServiceContext,
    sctx: ServiceContext,
    colleague: UserInfo,
    clerk: UserInfo,
    clerk2: UserInfo,
) -> None:
    set_value(sctx, "independent_visitor", False, what="回访人独立性检查")
    d = closing_case(ctx, cctx, colleague, clerk)
    assert "visit" in cs.get_complaint(cctx, d.id).actions
    assert workflow.record_closing_visit(cctx, d.id, _visit()).state == "已关闭"
