"""Department visibility and the independent closing visit (policy.complaint_visibility ``reading``).

The complaint of 客服部 about 戊公司 (a customer of 销售部) is handled by 小王 of 客服部; the independence rule
keeps the closing visit from the handler and from the customer's 业务员 小张, so it is planned for 小李 of
销售部. Under department visibility 小李 sees the plan in the 回访日历 (the customer is 销售部's) and now
also reads the complaint — in the register, by number, its detail with events and attachments — and
records the visit; handling, editing and closing stay with 客服部. 小赵, 销售部 too but without the plan, still
sees nothing of it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import users as users_service
from huifang_desktop.services import visits as v
from huifang_desktop.services import workflow
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import NotFound, PermissionDenied
from huifang_desktop.services.ledgers import Ledger, named, stream
from huifang_desktop.services.policy import visited_complaints
from huifang_desktop.services.settings import load_settings, save_settings
from huifang_desktop.storage.models import Customer, Department, VisitPlan
from tests.conftest import PASSWORD
from tests.services.test_owner_at_close import LATE_DELIVERY_HANDLING, late_delivery, wu_company

HANDLING = LATE_DELIVERY_HANDLING


def finished_cross_department_complaint(
    ctx: ServiceContext, admin: UserInfo, cctx: ServiceContext
) -> cs.ComplaintDetail:
    """The complaint above, handled and finished by 小王 (cctx): 待回访, the visit planned for 小李."""
    zhang = users_service.create_user(ctx.as_user(admin), "xiaozhang", "小张", Role.CLERK, PASSWORD, "销售部")
    with ctx.sessions() as s:
        service_dept = s.execute(select(Department.id).where(Department.name == "客服部")).scalar_one()
    complaint_id = late_delivery(ctx, cctx, wu_company(ctx.as_user(zhang)), cctx.user.id, service_dept)
    cs.attach(cctx, [complaint_id], "送货单.txt", "送货单".encode(), "其他")
    cs.save_handling(cctx, complaint_id, HANDLING)
    return cs.finish_handling(cctx, complaint_id)


def department_only(mctx: ServiceContext) -> None:
    save_settings(mctx, replace(load_settings(mctx), visibility="department"))


@pytest.fixture
def setup(ctx, admin, mctx, cctx, c2ctx):
    d = finished_cross_department_complaint(ctx, admin, cctx)
    department_only(mctx)
    zhao = users_service.create_user(ctx.as_user(admin), "xiaozhao", "小赵", Role.CLERK, PASSWORD, "销售部")
    return d, ctx.as_user(zhao)


def _ledger_numbers(ctx: ServiceContext) -> list[str]:
    return [named(Ledger.COMPLAINTS, r)["number"] for r in stream(ctx, Ledger.COMPLAINTS)]


def _plan_key(ctx: ServiceContext, plan_id: int) -> str:
    with ctx.sessions() as s:
        return s.execute(select(VisitPlan.source_key).where(VisitPlan.id == plan_id)).scalar_one()


def test_the_planned_visitor_of_another_department_reads_the_complaint(setup, ctx, cctx, c2ctx) -> None:
    d, _zhao = setup
    assert d.department_id != c2ctx.user.department_id and d.row.handler == "小王"
    plan = v.get_plan(ctx, d.visit_plan_id)
    assert plan.owner == "小李" and plan.state == "待回访"
    # the 回访日历 shows the plan (the customer is 销售部's), and the plan leads to the complaint
    mine = v.list_plans(c2ctx, start=date(2026, 11, 1), end=date(2026, 11, 30), owner_id=c2ctx.user.id)
    assert [p.id for p in mine] == [plan.id]
    assert cs.complaint_id_for_plan(_plan_key(ctx, plan.id)) == d.id
    assert visited_complaints(c2ctx) == [d.id]

    detail = cs.get_complaint(c2ctx, d.id)
    assert detail.row.number == d.row.number and detail.content == "晚到"
    assert [e.action for e in detail.events] == [e.action for e in cs.get_complaint(cctx, d.id).events]
    assert [a.name for a in detail.attachments] == ["送货单.txt"]
    assert cs.attachment_data(c2ctx, detail.attachments[0].id) == ("送货单.txt", "送货单".encode())
    assert cs.history(c2ctx, d.id) == list(detail.events)
    # the register: the list, the search by number, the counts and the 投诉台账 agree
    assert [r.id for r in cs.list_complaints(c2ctx)] == [d.id]
    assert [r.id for r in cs.list_complaints(c2ctx, cs.ComplaintFilter(text=d.row.number))] == [d.id]
    assert cs.find_id(c2ctx, d.row.number) == d.id
    assert cs.state_counts(c2ctx)["待回访"] == 1
    assert _ledger_numbers(c2ctx) == [d.row.number]


def test_the_planned_visitor_only_records_the_visit(setup, ctx, cctx, c2ctx) -> None:
    d, _zhao = setup
    detail = cs.get_complaint(c2ctx, d.id)
    assert detail.actions == frozenset({"visit"})  # read-only but for the closing visit
    assert "handle" in cs.get_complaint(cctx, d.id).actions  # the handler's are unchanged
    refused = [
        lambda: cs.save_handling(c2ctx, d.id, HANDLING),
        lambda: cs.close(c2ctx, d.id),
        lambda: cs.withdraw(c2ctx, d.id, "客户撤回"),
        lambda: cs.attach(c2ctx, [d.id], "x.txt", b"x"),
        lambda: cs.detach(c2ctx, d.id, detail.attachments[0].id),
        lambda: cs.add_occurrence(c2ctx, d.id, complainant="张经理", phone="13812345678", note="又来电"),
        lambda: cs.chase(c2ctx, d.id),
    ]
    for step in refused:
        with pytest.raises(PermissionDenied):
            step()
    assert cs.get_complaint(ctx, d.id).version == detail.version  # nothing changed

    done = workflow.record_closing_visit(
        c2ctx, d.id, cs.ClosingVisitDraft(satisfaction="满意", note="客户认可"), detail.version
    )
    assert done.row.state == "已关闭" and v.get_record(ctx, done.visit_record_id).visitor == "小李"
    # the plan is done: 小李 still reads the complaint they visited, and still may not work on it
    after = cs.get_complaint(c2ctx, d.id)
    assert after.row.state == "已关闭" and after.actions == frozenset()
    with pytest.raises(PermissionDenied):
        cs.reopen_linked(c2ctx, d.id, content="仍不满意")


def test_a_colleague_without_the_plan_still_sees_nothing(setup, c2ctx) -> None:
    d, zhao = setup
    assert visited_complaints(zhao) == []
    with pytest.raises(NotFound):
        cs.find_id(zhao, d.row.number)
    with pytest.raises(PermissionDenied, match="其他部门"):
        cs.get_complaint(zhao, d.id)
    with pytest.raises(PermissionDenied):
        cs.attachment_data(zhao, cs.get_complaint(c2ctx, d.id).attachments[0].id)
    assert cs.list_complaints(zhao) == [] and cs.state_counts(zhao)["待回访"] == 0
    assert _ledger_numbers(zhao) == []


def test_a_cancelled_or_handed_on_plan_gives_no_access(setup, ctx, sctx, c2ctx) -> None:
    d, _zhao = setup
    cs.get_complaint(c2ctx, d.id)
    with ctx.sessions() as s, s.begin():  # the plan given to somebody else (as a transfer would)
        s.get(VisitPlan, d.visit_plan_id).owner_id = sctx.user.id
    with pytest.raises(PermissionDenied):
        cs.get_complaint(c2ctx, d.id)
    with pytest.raises(NotFound):
        cs.find_id(c2ctx, d.row.number)
    with ctx.sessions() as s, s.begin():
        plan = s.get(VisitPlan, d.visit_plan_id)
        plan.owner_id, plan.state = c2ctx.user.id, "已取消"
    with pytest.raises(PermissionDenied):
        cs.get_complaint(c2ctx, d.id)
    assert cs.list_complaints(c2ctx) == []


def test_without_department_visibility_nothing_changes(ctx, admin, cctx, c2ctx) -> None:
    d = finished_cross_department_complaint(ctx, admin, cctx)  # the office-wide default
    assert [r.id for r in cs.list_complaints(c2ctx)] == [d.id]
    assert cs.get_complaint(c2ctx, d.id).actions == frozenset({"visit"})


def test_a_visitor_who_cannot_see_the_customer_file_reads_but_is_not_offered_the_visit(
    ctx, admin, mctx, cctx, c2ctx
) -> None:
    """When the customer file is 客服部's too, the visit is a 回访记录表 in a file 小李 may not see (nor the plan
    in the calendar): the complaint reads, but 登记结案回访 is not offered and is refused with the reason."""
    d = finished_cross_department_complaint(ctx, admin, cctx)
    with ctx.sessions() as s, s.begin():
        s.get(Customer, d.row.customer_id).department_id = d.department_id
    department_only(mctx)
    assert v.get_plan(ctx, d.visit_plan_id).owner == "小李"
    detail = cs.get_complaint(c2ctx, d.id)
    assert detail.actions == frozenset()
    with pytest.raises(PermissionDenied, match="客户 .* 属于其他部门"):
        workflow.record_closing_visit(c2ctx, d.id, cs.ClosingVisitDraft(satisfaction="满意"), detail.version)
