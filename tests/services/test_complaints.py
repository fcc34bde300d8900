"""Complaint register service: intake, numbering, repeats, routing, deadlines, escalation, workflow, closing
visit through the visit calendar, reply-only/anonymous, 咨询/建议, 催办, linked reopen, attachments, ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import ledgers as lg
from huifang_desktop.services import visits as v
from huifang_desktop.services import workflow
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import ConflictError, LockedError, PermissionDenied
from huifang_desktop.services.settings import set_value
from huifang_desktop.storage.models import AuditLog, Complaint, ComplaintEvent, VisitPlan, VisitRecord

AsUser = Callable[[ServiceContext, UserInfo], ServiceContext]
NOW = datetime(2026, 11, 24, 10, 0)


@pytest.fixture(autouse=True)
def _visitor_independence_off(ctx: ServiceContext) -> None:
    """These tests follow the complaint workflow with one clerk who is handler and customer owner; the
    independence of closing visits (on by default, 001 篇11) is tested in tests/services/test_visit_rules.py."""
    set_value(ctx, "independent_visitor", False, what="回访人独立性检查")


@pytest.fixture
def customer_id(cctx: ServiceContext) -> int:
    c = register_customer(
        cctx,
        CustomerDraft(
            name="杭州明达贸易",
            kind="单位",
            category="经销商",
            created_on="2026-01-05",
            contacts=(ContactDraft(name="张经理", mobile="13812345678"),),
        ),
    )
    return c.id


def _intake(**kw: object) -> cs.IntakeDraft:
    base: dict[str, object] = {
        "subject": "送货延误三天",
        "complainant": "张经理",
        "phone": "138 1234 5678",
        "category": "交付物流",
        "content": "货车晚到三天，影响开工。",
    }
    base.update(kw)
    return cs.IntakeDraft(**base)  # type: ignore[arg-type]


def _at(ctx: ServiceContext, when: datetime) -> ServiceContext:
    return ServiceContext(ctx.engine, ctx.sessions, ctx.user, lambda: when)


def _handled(ctx: ServiceContext, complaint_id: int) -> cs.ComplaintDetail:
    d = cs.accept(ctx, complaint_id)
    return cs.save_handling(
        ctx,
        d.id,
        cs.HandlingDraft(
            investigation="司机绕路",
            cause="调度失误",
            measures="调整线路",
            result="已赔偿运费并致歉",
            replied_at="2026-11-24 10:00",
            reply_way="电话",
        ),
    )


# --- intake -----------------------------------------------------------------------------------------


def test_register_numbers_routes_and_sets_working_day_deadlines(
    cctx: ServiceContext, clerk: UserInfo, customer_id: int
) -> None:
    d = cs.register(cctx, _intake(customer_id=customer_id, received_at="2026-11-24 09:00"))
    assert d.number == "TS20261124-001"
    assert d.state == "待受理"
    assert d.row.handler_id == clerk.id and d.handler_role == "clerk"
    assert d.row.phone == "138 1234 5678"
    # first reply 1 working day, handling 3 working days, ending at 17:30
    assert d.first_reply_due == datetime(2026, 11, 25, 17, 30)
    assert d.handling_due == datetime(2026, 11, 27, 17, 30)
    assert d.row.deadline == d.first_reply_due
    assert [o.channel for o in d.occurrences] == ["电话"]
    assert d.events[0].action == "登记投诉"
    assert cs.register(cctx, _intake(subject="另一件事")).number == "TS20261124-002"


def test_register_deadline_skips_national_day_holiday_and_counts_the_makeup_saturday(
    cctx: ServiceContext,
) -> None:
    # received 09-30 after hours → counts from 10-08 (国庆 10-01…10-07); 10-10 is a 调休 working Saturday
    d = cs.register(_at(cctx, datetime(2026, 9, 30, 18, 0)), _intake(received_at="2026-09-30 18:00"))
    assert d.first_reply_due == datetime(2026, 10, 9, 17, 30)
    assert d.handling_due == datetime(2026, 10, 12, 17, 30)


def test_register_major_routes_to_manager_and_important_to_supervisor(
    cctx: ServiceContext, supervisor: UserInfo, manager: UserInfo
) -> None:
    important = cs.register(cctx, _intake(severity="重要"))
    major = cs.register(cctx, _intake(subject="产品起火", severity="重大", category="产品质量"))
    assert (important.row.handler_id, important.handler_role) == (supervisor.id, "supervisor")
    assert (major.row.handler_id, major.handler_role) == (manager.id, "manager")


def test_register_reports_every_bad_field_and_writes_nothing(cctx: ServiceContext) -> None:
    with pytest.raises(ValidationError) as info:
        cs.register(
            cctx,
            cs.IntakeDraft(
                subject=" ", phone="12", category="没有这类", received_at="2026-13-40", channel="飞鸽"
            ),
        )
    fields = {e.field for e in info.value.errors}
    assert {"subject", "phone", "category", "received_at", "channel"} <= fields
    with cctx.sessions() as s:
        assert s.execute(select(func.count(Complaint.id))).scalar() == 0


def test_anonymous_complaint_needs_no_name_or_phone(cctx: ServiceContext) -> None:
    d = cs.register(cctx, _intake(anonymous=True, complainant="", phone=""))
    assert d.row.complainant == "匿名" and d.row.anonymous


def test_admin_cannot_register(ctx: ServiceContext, admin: UserInfo, as_user: AsUser) -> None:
    with pytest.raises(PermissionDenied):
        cs.register(as_user(ctx, admin), _intake())


def test_number_pattern_yymm_restarts_monthly(
    ctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo, as_user: AsUser
) -> None:
    policy = cs.load_policy(ctx)
    from dataclasses import replace

    cs.save_policy(as_user(ctx, supervisor), replace(policy, number_pattern="{yymm}{seq:02}"))
    assert cs.register(cctx, _intake()).number == "261101"
    assert cs.register(cctx, _intake(subject="二")).number == "261102"
    dec = _at(cctx, datetime(2026, 12, 1, 9, 0))
    assert cs.register(dec, _intake(subject="三")).number == "261201"


# --- repeats ----------------------------------------------------------------------------------------


def test_find_repeats_by_phone_and_similar_subject_then_attach_occurrence(cctx: ServiceContext) -> None:
    first = cs.register(cctx, _intake(subject="送货延误三天"))
    cs.register(cctx, _intake(subject="发票开错", category="收费"))
    hits = cs.find_repeats(cctx, phone="13812345678", subject="送货延误了三天")
    assert [h.number for h in hits] == [first.number]
    assert cs.find_repeats(cctx, phone="13999999999", subject="送货延误三天") == []

    d = cs.add_occurrence(cctx, first.id, channel="来访", received_by="销售部", note="客户又到店反映")
    assert d.row.occurrences == 2
    assert [o.channel for o in d.occurrences] == ["电话", "来访"]
    assert d.events[-1].action == "重复投诉"
    with cctx.sessions() as s:
        assert s.execute(select(func.count(Complaint.id))).scalar() == 2  # no new record


# --- workflow and the closing visit ---------------------------------------------------------------


def test_full_flow_with_closing_visit_in_the_calendar(
    cctx: ServiceContext, clerk: UserInfo, customer_id: int
) -> None:
    d = cs.register(cctx, _intake(customer_id=customer_id))
    d = _handled(cctx, d.id)
    assert d.state == "处理中" and d.row.deadline == d.handling_due
    d = cs.finish_handling(cctx, d.id)
    assert d.state == "待回访"
    plan = v.get_plan(cctx, d.visit_plan_id)  # type: ignore[arg-type]
    assert plan.visit_type == "投诉" and plan.owner_id == clerk.id
    assert plan.due == d.visit_due == date(2026, 11, 27)

    # the clerk records the visit in the 回访日历's 回访记录表
    draft = v.prefill_record(cctx, plan.id).to_draft(
        result="成功", satisfaction="满意", content="客户认可赔偿"
    )
    rec = workflow.record_visit(cctx, draft)
    d = cs.get_complaint(cctx, d.id)
    assert d.state == "已关闭" and d.visit_record_id == rec.id and d.row.satisfaction == "满意"
    assert [e.action for e in d.events][-2:] == ["结案回访", "关闭"]
    with pytest.raises(ValidationError, match="已关闭"):
        cs.accept(cctx, d.id)


def test_unsatisfied_closing_visit_goes_back_with_next_visit_planned(
    cctx: ServiceContext, customer_id: int
) -> None:
    d = _handled(cctx, cs.register(cctx, _intake(customer_id=customer_id)).id)
    d = cs.finish_handling(cctx, d.id)
    first_plan = d.visit_plan_id
    d = workflow.record_closing_visit(
        cctx, d.id, cs.ClosingVisitDraft(satisfaction="不满意", note="赔偿太少")
    )
    assert d.state == "处理中"
    assert d.visit_plan_id != first_plan
    nxt = v.get_plan(cctx, d.visit_plan_id)  # type: ignore[arg-type]
    assert nxt.state == "待回访" and nxt.attempt == 2
    # handled again: the pending plan is re-dated, not duplicated
    d = cs.finish_handling(cctx, d.id)
    assert d.visit_plan_id == nxt.id
    with cctx.sessions() as s:
        n = s.execute(
            select(func.count(VisitPlan.id)).where(VisitPlan.source_key.like(f"complaint:{d.id}#%"))
        ).scalar()
    assert n == 2
    d = workflow.record_closing_visit(cctx, d.id, cs.ClosingVisitDraft(satisfaction="满意"))
    assert d.state == "已关闭"


def test_unreached_closing_visit_keeps_waiting(cctx: ServiceContext, customer_id: int) -> None:
    d = cs.finish_handling(cctx, _handled(cctx, cs.register(cctx, _intake(customer_id=customer_id)).id).id)
    d = workflow.record_closing_visit(cctx, d.id, cs.ClosingVisitDraft(result="未接通"))
    assert d.state == "待回访" and d.visit_satisfied is None
    assert v.get_plan(cctx, d.visit_plan_id).attempt == 2  # type: ignore[arg-type]


def test_closing_visit_with_a_customer_file_is_a_visit_record_through_the_workflow(
    cctx: ServiceContext, customer_id: int
) -> None:
    """With a customer file the closing visit is a 回访记录表 (services.workflow); complaints alone refuses it
    rather than keep it on the complaint."""
    d = cs.finish_handling(cctx, _handled(cctx, cs.register(cctx, _intake(customer_id=customer_id)).id).id)
    plan = cs.closing_visit_plan(cctx, d.id)
    assert plan is not None and (plan.customer_id, plan.plan_id) == (customer_id, d.visit_plan_id)
    with pytest.raises(ValidationError, match="回访记录表"):
        cs.record_closing_visit(cctx, d.id, cs.ClosingVisitDraft(satisfaction="满意"))
    assert cs.get_complaint(cctx, d.id).state == "待回访"
    d = workflow.record_closing_visit(cctx, d.id, cs.ClosingVisitDraft(satisfaction="满意"))
    assert d.state == "已关闭" and d.visit_record_id is not None
    assert v.get_record(cctx, d.visit_record_id).visit_type == "投诉"


def test_clerk_cannot_close_without_closing_visit_even_directly(
    cctx: ServiceContext, customer_id: int
) -> None:
    d = _handled(cctx, cs.register(cctx, _intake(customer_id=customer_id)).id)
    with pytest.raises(ValidationError, match="结案回访"):
        cs.close(cctx, d.id)
    d = cs.finish_handling(cctx, d.id)
    with pytest.raises(ValidationError, match="尚未完成结案回访"):
        cs.close(cctx, d.id)
    assert cs.get_complaint(cctx, d.id).state == "待回访"


def test_clerk_cannot_close_major_complaint_even_by_calling_the_service(
    ctx: ServiceContext, cctx: ServiceContext, mctx: ServiceContext, customer_id: int, clerk: UserInfo
) -> None:
    d = cs.register(cctx, _intake(customer_id=customer_id, severity="重大", category="产品质量"))
    d = _handled(mctx, d.id)
    with pytest.raises(ValidationError, match="公司经理"):
        # a clerk who somehow got hold of it (handler reassigned in the database) still cannot finish/close
        with ctx.sessions() as s, s.begin():
            s.get(Complaint, d.id).handler_id = clerk.id  # type: ignore[union-attr]
        cs.finish_handling(cctx, d.id)
    d = cs.finish_handling(mctx, d.id)
    # the clerk records a satisfied visit: it is kept, but the complaint waits for the manager
    with ctx.sessions() as s, s.begin():
        s.get(Complaint, d.id).handler_id = clerk.id  # type: ignore[union-attr]
    d = workflow.record_closing_visit(cctx, d.id, cs.ClosingVisitDraft(satisfaction="满意"))
    assert d.state == "待回访" and d.visit_satisfied is True
    assert d.events[-1].action == "待关闭"
    with pytest.raises(ValidationError, match="公司经理"):
        cs.close(cctx, d.id)
    assert cs.close(mctx, d.id).state == "已关闭"


def test_anonymous_and_reply_only_close_with_reply_letter(cctx: ServiceContext) -> None:
    d = _handled(cctx, cs.register(cctx, _intake(anonymous=True, complainant="", phone="")).id)
    with pytest.raises(ValidationError, match="不做回访"):
        cs.finish_handling(cctx, d.id)
    with pytest.raises(ValidationError, match="答复函"):
        cs.close(cctx, d.id)
    cs.attach(cctx, [d.id], "答复函.pdf", b"%PDF-1.4 reply", "答复函")
    assert cs.close(cctx, d.id).state == "已关闭"

    r = _handled(cctx, cs.register(cctx, _intake(subject="上级转办", channel="上级转办", reply_only=True)).id)
    assert "close" not in r.actions
    cs.attach(cctx, [r.id], "reply.docx", b"PK...", "答复函")
    assert "close" in cs.get_complaint(cctx, r.id).actions
    assert cs.close(cctx, r.id).state == "已关闭"


def test_public_letter_attached_to_several_complaints(cctx: ServiceContext) -> None:
    a = cs.register(cctx, _intake(anonymous=True, complainant="", phone="", subject="小区噪音"))
    b = cs.register(cctx, _intake(anonymous=True, complainant="", phone="", subject="小区噪音扰民"))
    att = cs.attach(cctx, [a.id, b.id], "公开信.pdf", b"%PDF letter", "公开信")
    da, db = cs.get_complaint(cctx, a.id), cs.get_complaint(cctx, b.id)
    assert [x.id for x in da.attachments] == [x.id for x in db.attachments] == [att]
    assert da.attachments[0].shared == 2
    assert cs.attachment_data(cctx, att) == ("公开信.pdf", b"%PDF letter")
    cs.detach(cctx, a.id, att)
    assert cs.attachment_data(cctx, att)[1] == b"%PDF letter"  # still on b


def test_attachment_too_big_or_empty_is_refused(cctx: ServiceContext) -> None:
    d = cs.register(cctx, _intake())
    with pytest.raises(ValidationError, match="上限"):
        cs.attach(cctx, [d.id], "big.jpg", b"x" * (cs.MAX_ATTACHMENT_BYTES + 1), "照片")
    with pytest.raises(ValidationError, match="空的"):
        cs.attach(cctx, [d.id], "empty.jpg", b"", "照片")


def test_withdraw_needs_reason_and_cancels_the_pending_visit(cctx: ServiceContext, customer_id: int) -> None:
    d = cs.finish_handling(cctx, _handled(cctx, cs.register(cctx, _intake(customer_id=customer_id)).id).id)
    with pytest.raises(ValidationError, match="撤销原因"):
        cs.withdraw(cctx, d.id, "")
    d = cs.withdraw(cctx, d.id, "客户撤回投诉")
    assert d.state == "已撤销" and d.withdraw_reason == "客户撤回投诉"
    assert v.get_plan(cctx, d.visit_plan_id).state == "已取消"  # type: ignore[arg-type]


def test_stale_version_is_a_conflict(cctx: ServiceContext) -> None:
    d = cs.register(cctx, _intake())
    cs.accept(cctx, d.id, d.version)
    with pytest.raises(ConflictError):
        cs.save_handling(cctx, d.id, cs.HandlingDraft(result="x"), d.version)


def test_other_clerk_cannot_work_on_my_complaint(
    ctx: ServiceContext, cctx: ServiceContext, clerk2: UserInfo, as_user: AsUser
) -> None:
    d = cs.register(cctx, _intake())
    with pytest.raises(PermissionDenied, match="其他人负责"):
        cs.accept(as_user(ctx, clerk2), d.id)


def test_closed_complaint_is_locked_for_handling_edits(cctx: ServiceContext) -> None:
    d = _handled(cctx, cs.register(cctx, _intake(anonymous=True, complainant="", phone="")).id)
    cs.attach(cctx, [d.id], "答复函.pdf", b"%PDF", "答复函")
    cs.close(cctx, d.id)
    with pytest.raises(LockedError):
        cs.save_handling(cctx, d.id, cs.HandlingDraft(result="改一下"))


# --- escalation, 催办, notices -------------------------------------------------------------------------


def test_overdue_complaint_is_chased_once_per_deadline_and_keeps_its_handler(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo
) -> None:
    """002 制度3 第十三条: an overdue case gets a 催办; the handler keeps it (issue 20)."""
    d = cs.register(cctx, _intake(received_at="2026-11-24 09:00"))
    later = datetime(2026, 11, 26, 9, 0)  # first reply was due 11-25 17:30
    assert next(r.id for r in cs.list_complaints(_at(cctx, later))) == d.id
    result = cs.escalate_overdue(_at(ctx, later))
    assert result.escalated == ((d.number, "催办", "小王、李主管"),)
    d = cs.get_complaint(ctx, d.id)
    assert (d.row.handler_id, d.handler_role, d.row.chase_count) == (clerk.id, "clerk", 1)
    assert d.events[-1].action == "逾期催办"
    assert cs.escalate_overdue(_at(ctx, later)).escalated == ()  # same missed deadline: no second 催办
    assert cs.notices(sctx).follow_unseen == 1
    assert cs.mark_notices_seen(sctx) == 1 and cs.notices(sctx).follow_unseen == 0
    with ctx.sessions() as s:
        row = s.execute(select(AuditLog).where(AuditLog.action == "逾期催办")).scalar_one()
        assert row.username == "system"


def test_chase_only_overdue_and_by_supervisor(cctx: ServiceContext, sctx: ServiceContext) -> None:
    d = cs.register(cctx, _intake(received_at="2026-11-24 09:00"))
    with pytest.raises(ValidationError, match="未逾期"):
        cs.chase(sctx, d.id)
    later = _at(sctx, datetime(2026, 11, 27, 9, 0))
    with pytest.raises(PermissionDenied):
        cs.chase(_at(cctx, datetime(2026, 11, 27, 9, 0)), d.id)
    d = cs.chase(later, d.id, "请今天内答复")
    assert d.row.chase_count == 1 and d.events[-1].action == "催办"


# --- 咨询 / 建议, conversion, linked reopen -----------------------------------------------------------


def test_consultation_reply_deadline_and_reply_closes(cctx: ServiceContext) -> None:
    d = cs.register(cctx, _intake(kind="咨询", subject="保修期多久", category=""))
    assert d.number.startswith("ZX20261124-")
    assert d.handling_due == datetime(2026, 11, 25, 9, 0)  # 8 office hours (08:30–17:30), issue #20 item 6
    with pytest.raises(ValidationError, match="不走投诉流程"):
        cs.accept(cctx, d.id)
    d = cs.reply_message(cctx, d.id, "整车保修三年或十万公里", "电话")
    assert d.state == "已关闭" and d.row.deadline is None


def test_suggestion_converts_into_complaint(cctx: ServiceContext) -> None:
    d = cs.register(cctx, _intake(kind="建议", subject="希望延长营业时间", category=""))
    assert d.number.startswith("JY")
    c = cs.convert_to_complaint(cctx, d.id, severity="一般", category="服务态度")
    assert c.number.startswith("TS20261124-") and c.converted_from == d.number
    assert c.row.kind == "投诉" and c.state == "待受理"


def test_customer_rejecting_result_opens_linked_complaint(cctx: ServiceContext) -> None:
    d = _handled(cctx, cs.register(cctx, _intake(anonymous=True, complainant="", phone="")).id)
    cs.attach(cctx, [d.id], "答复函.pdf", b"%PDF", "答复函")
    cs.close(cctx, d.id)
    n = cs.reopen_linked(cctx, d.id, content="不接受赔偿方案")
    assert n.linked_to_id == d.id and n.linked_to_number == d.number and n.state == "待受理"
    assert cs.get_complaint(cctx, d.id).events[-1].action == "客户不认可"


# --- register view and ledger ----------------------------------------------------------------------


def test_list_filters_counts_and_overdue_first(cctx: ServiceContext) -> None:
    old = cs.register(
        _at(cctx, datetime(2026, 11, 16, 9, 0)), _intake(subject="旧投诉", received_at="2026-11-16 09:00")
    )
    new = cs.register(cctx, _intake(subject="新投诉", category="收费"))
    rows = cs.list_complaints(cctx)
    assert [r.id for r in rows] == [old.id, new.id] and rows[0].overdue and not rows[1].overdue
    assert [r.id for r in cs.list_complaints(cctx, cs.ComplaintFilter(overdue_only=True))] == [old.id]
    assert [r.id for r in cs.list_complaints(cctx, cs.ComplaintFilter(categories=frozenset({"收费"})))] == [
        new.id
    ]
    assert [r.id for r in cs.list_complaints(cctx, cs.ComplaintFilter(text="旧"))] == [old.id]
    assert [r.id for r in cs.list_complaints(cctx, cs.ComplaintFilter(text="5678"))] == [old.id, new.id]
    counts = cs.state_counts(cctx)
    assert counts["待受理"] == 2 and counts["逾期"] == 1 and counts["已关闭"] == 0


def test_export_ledger_has_required_columns(cctx: ServiceContext, customer_id: int, tmp_path: Path) -> None:
    d = cs.register(cctx, _intake(customer_id=customer_id))
    out = tmp_path / "投诉台账.xlsx"
    assert lg.export_complaints(cctx, out).rows == 1  # the 投诉台账 of services/ledgers, every column
    ws = load_workbook(out).active
    header = [c.value for c in ws[2]]
    for name in (
        "投诉编号",
        "投诉日期",
        "投诉主题",
        "投诉内容",
        "投诉人",
        "联系方式",
        "类别",
        "严重程度",
        "负责人",
        "处理期限",
        "处理状态",
        "是否逾期",
        "回访结果",
    ):
        assert name in header
    row = dict(zip(header, [c.value for c in ws[3]], strict=True))
    assert row["投诉编号"] == d.number and row["投诉人"] == "张经理" and row["是否逾期"] == "否"
    assert isinstance(row["投诉日期"], datetime)


def test_export_to_missing_folder_is_a_clear_error(cctx: ServiceContext, tmp_path: Path) -> None:
    with pytest.raises(lg.LedgerError, match="文件夹不存在"):
        lg.export_complaints(cctx, tmp_path / "nope" / "x.xlsx")


def test_every_change_leaves_events_and_audit(cctx: ServiceContext, customer_id: int) -> None:
    d = cs.finish_handling(cctx, _handled(cctx, cs.register(cctx, _intake(customer_id=customer_id)).id).id)
    with cctx.sessions() as s:
        events = (
            s.execute(
                select(ComplaintEvent.action)
                .where(ComplaintEvent.complaint_id == d.id)
                .order_by(ComplaintEvent.id)
            )
            .scalars()
            .all()
        )
        actions = set(s.execute(select(AuditLog.action).where(AuditLog.entity == "complaint")).scalars())
        records = s.execute(select(func.count(VisitRecord.id))).scalar()
    assert events == ["登记投诉", "受理", "答复客户", "处理记录", "办结转回访"]
    assert {"登记投诉", "受理", "填写处理情况", "办结转回访"} <= actions
    assert records == 0
