"""审阅 through the service layer: queue, sign-off with lock, return and resubmit, audited reopen, tamper check,
batch sign-off, the audit log and its export. Clock fixed at Tuesday 2026-11-24 10:00 (tests/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text, update

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.signoff import Integrity, ReviewKind, ReviewRules
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import review as rv
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import ConflictError, LockedError, PermissionDenied
from huifang_desktop.storage.models import AuditLog, Complaint, VisitRecord, VisitReport
from tests.conftest import PASSWORD

AsUser = Callable[[ServiceContext, UserInfo], ServiceContext]
RECORD, REPORT, COMPLAINT = ReviewKind.RECORD, ReviewKind.REPORT, ReviewKind.COMPLAINT
_mobiles = iter(range(20_000_000, 99_999_999))


def customer(cctx: ServiceContext, name: str = "杭州远纳运输有限公司") -> int:
    contacts = (ContactDraft(name="张倩", mobile=f"139{next(_mobiles)}"),)
    return register_customer(cctx, CustomerDraft(name=name, created_on="2026-11-01", contacts=contacts)).id


def record(
    cctx: ServiceContext, customer_id: int, at: str = "2026-11-24 09:00", **kw: Any
) -> v.VisitRecordRow:
    base: dict[str, Any] = {
        "visited_at": at,
        "satisfaction": "满意",
        "feedback": "送货及时",
        "content": "了解使用情况",
    }
    base.update(kw)
    return v.record_visit(cctx, v.VisitRecordDraft(customer_id=customer_id, result="成功", **base))


def draft_of(row: v.VisitRecordRow, **changes: Any) -> v.VisitRecordDraft:
    d = v.VisitRecordDraft(
        customer_id=row.customer_id,
        result=row.result,
        plan_id=row.plan_id,
        contact_name=row.contact_name,
        contact_phone=row.contact_phone,
        visit_type=row.visit_type,
        method=row.method,
        visited_at=row.visited_at,
        visitor_id=row.visitor_id,
        content=row.content,
        feedback=row.feedback,
        problems=row.problems,
        measures=row.measures,
        satisfaction=row.satisfaction,
        handling=row.handling,
        transfer_department=row.transfer_department,
        next_visit_on=row.next_visit_on,
        customer_signed=row.customer_signed,
    )
    return replace(d, **changes)


def report(cctx: ServiceContext, clerk_id: int, day: date = date(2026, 11, 23)) -> v.ReportRow:
    draft = v.draft_report(cctx, clerk_id, day, day)
    return v.save_report(cctx, draft, "客户总体满意", draft.problems_text, "无")


def closed_complaint(cctx: ServiceContext, subject: str = "送货延误三天") -> int:
    """An anonymous complaint closed with its reply letter (no closing visit needed): in the review queue."""
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject=subject,
            anonymous=True,
            category="交付物流",
            content="晚到三天",
            received_at="2026-11-24 09:00",
        ),
    )
    cs.accept(cctx, d.id)
    cs.save_handling(
        cctx,
        d.id,
        cs.HandlingDraft(
            investigation="司机绕路",
            cause="调度失误",
            measures="调整线路",
            result="已书面致歉",
            replied_at="2026-11-24 09:30",
            reply_way="书面",
        ),
    )
    cs.attach(cctx, [d.id], "答复函.pdf", b"%PDF-1.4 reply", "答复函")
    return cs.close(cctx, d.id).id


def audit_actions(ctx: ServiceContext, entity: str, entity_id: int) -> list[str]:
    with ctx.sessions() as s:
        q = select(AuditLog.action).where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
        return list(s.execute(q.order_by(AuditLog.id)).scalars())


# --- the queue ------------------------------------------------------------------------------------------


def test_review_queue_groups_by_clerk_and_type_oldest_first_with_overdue(
    cctx: ServiceContext, c2ctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo
) -> None:
    c = customer(cctx)
    new = record(cctx, c, "2026-11-24 09:00")
    old = record(cctx, c, "2026-11-19 09:00")  # Thursday: review due Monday 11-23, overdue today
    other = record(c2ctx, customer(c2ctx, "宁波甬达物流"), "2026-11-23 15:00")
    rep = report(cctx, clerk.id, date(2026, 11, 19))  # due_on Friday 11-20: overdue
    complaint_id = closed_complaint(cctx)

    q = rv.review_queue(sctx)

    assert (q.total, q.overdue) == (5, 2)
    assert [(g.owner, g.kind, g.count, g.overdue) for g in q.groups] == [
        ("小王", RECORD, 2, 1),
        ("小王", REPORT, 1, 1),
        ("小王", COMPLAINT, 1, 0),
        ("小李", RECORD, 1, 0),
    ]
    assert [i.id for i in q.groups[0].items] == [old.id, new.id]  # oldest first
    first = q.groups[0].items[0]
    assert (first.number, first.due, first.overdue, first.title) == (
        old.number,
        date(2026, 11, 23),
        True,
        "杭州远纳运输有限公司 · 例行回访（电话）",
    )
    assert q.groups[1].items[0].id == rep.id and q.groups[2].items[0].id == complaint_id
    assert q.groups[3].items[0].id == other.id
    assert next((o, name, len(groups)) for o, name, groups in q.by_owner())[1:] == ("小王", 3)
    counts = rv.pending_counts(sctx)
    assert (counts.pending, counts.overdue, counts.returned_to_me) == (5, 2, 0)

    summary = rv.queue_summary(sctx)  # the same groups, counts only, for a quick first paint
    assert [(g.owner, g.kind, g.count, g.overdue, g.loaded) for g in summary.groups] == [
        (g.owner, g.kind, g.count, g.overdue, False) for g in q.groups
    ]
    for g in q.groups:
        assert rv.queue_group(sctx, g.owner_id, g.kind) == g


def test_clerks_and_admins_cannot_sign_or_open_the_queue(
    ctx: ServiceContext, cctx: ServiceContext, admin: UserInfo, as_user: AsUser
) -> None:
    row = record(cctx, customer(cctx))
    for who in (cctx, as_user(ctx, admin)):
        with pytest.raises(PermissionDenied):
            rv.review_queue(who)
        with pytest.raises(PermissionDenied):
            rv.sign(who, RECORD, row.id, password=PASSWORD)
        with pytest.raises(PermissionDenied):
            rv.return_for_rework(who, RECORD, row.id, "补充")
    with pytest.raises(PermissionDenied):
        rv.reopen(cctx, RECORD, row.id, "更正")
    assert v.get_record(ctx, row.id).status == "待审阅"
    assert rv.pending_counts(cctx).pending == 0


def test_system_user_cannot_sign(ctx: ServiceContext, cctx: ServiceContext) -> None:
    row = record(cctx, customer(cctx))
    with pytest.raises(PermissionDenied, match="本人"):
        rv.sign(ctx, RECORD, row.id, password=PASSWORD)


# --- signing and the lock -----------------------------------------------------------------------------


def test_sign_stores_signer_role_time_hashes_and_audits(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, supervisor: UserInfo
) -> None:
    row = record(cctx, customer(cctx))
    item = rv.sign(sctx, RECORD, row.id, "记录完整，继续保持。", row.version, password=PASSWORD)
    assert (item.status, item.signer, item.signed_at, item.comment, item.integrity) == (
        "已签字",
        "李主管",
        datetime(2026, 11, 24, 10, 0),
        "记录完整，继续保持。",
        Integrity.INTACT,
    )
    with ctx.sessions() as s:
        rec = s.get(VisitRecord, row.id)
        assert rec is not None
        assert (rec.signed_by_id, rec.signed_role, rec.status) == (supervisor.id, "supervisor", "已签字")
        assert len(rec.content_hash) == 64 and len(rec.signature_hash) == 64
        log = s.execute(select(AuditLog).where(AuditLog.action == "签字")).scalar_one()
    new = json.loads(log.new or "{}")
    assert (log.entity, log.entity_id, log.username) == ("visit_record", row.id, "zhuguan")
    assert (new["signer"], new["role"], new["content_hash"], new["revision"]) == (
        "李主管",
        "客服主管",
        rec.content_hash,
        0,
    )
    assert rv.verify(ctx, RECORD, row.id) is Integrity.INTACT
    d = rv.detail(sctx, RECORD, row.id)
    assert d.signer_role == "客服主管" and d.actions == frozenset({"reopen"})
    assert ("客户意见/反馈", "送货及时") in d.fields
    with pytest.raises(ValidationError, match="已签字"):
        rv.sign(sctx, RECORD, row.id, password=PASSWORD)


def test_signed_record_cannot_be_edited_by_anyone(
    cctx: ServiceContext, sctx: ServiceContext, mctx: ServiceContext
) -> None:
    row = record(cctx, customer(cctx), transfer_department="售后部", problems="配件缺失")
    rv.sign(sctx, RECORD, row.id, password=PASSWORD)
    current = v.get_record(cctx, row.id)
    for who in (cctx, sctx, mctx):
        with pytest.raises(LockedError, match="签字"):
            v.update_record(who, row.id, draft_of(current, feedback="改一下"), current.version)
    with pytest.raises(LockedError):
        v.mark_transfer_answered(cctx, row.id, "已补发")
    assert v.get_record(cctx, row.id).feedback == "送货及时"
    assert rv.verify(cctx, RECORD, row.id) is Integrity.INTACT


def test_signed_report_locks_its_resave_and_the_records_it_summarises(
    cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo
) -> None:
    row = record(cctx, customer(cctx), "2026-11-23 09:00")
    rep = report(cctx, clerk.id)
    rv.sign(sctx, REPORT, rep.id, "", rep.version, password=PASSWORD)
    with pytest.raises(LockedError, match=rep.number):
        report(cctx, clerk.id)
    current = v.get_record(cctx, row.id)
    with pytest.raises(LockedError, match="回访报告"):
        v.update_record(cctx, row.id, draft_of(current, feedback="事后修改"), current.version)
    other_day = record(cctx, customer(cctx, "宁波甬达物流"), "2026-11-24 09:00")  # not in the report
    v.update_record(cctx, other_day.id, draft_of(other_day, feedback="补充"), other_day.version)


def test_signed_complaint_refuses_handling_and_attachments_until_reopened(
    cctx: ServiceContext, sctx: ServiceContext
) -> None:
    cid = closed_complaint(cctx)
    attachment_id = cs.get_complaint(cctx, cid).attachments[0].id
    rv.sign(sctx, COMPLAINT, cid, "处理得当", password=PASSWORD)
    with pytest.raises(LockedError, match="签字"):
        cs.save_handling(cctx, cid, cs.HandlingDraft(result="改结果"))
    with pytest.raises(LockedError, match="签字"):
        cs.attach(cctx, [cid], "补充.pdf", b"%PDF-1.4", "扫描件")
    with pytest.raises(LockedError, match="签字"):
        cs.detach(sctx, cid, attachment_id)
    rv.reopen(sctx, COMPLAINT, cid, "补充调查情况")
    d = cs.save_handling(
        cctx,
        cid,
        cs.HandlingDraft(
            investigation="司机绕路，已约谈",
            cause="调度失误",
            measures="调整线路",
            result="已书面致歉",
            replied_at="2026-11-24 09:30",
            reply_way="书面",
        ),
    )
    assert d.investigation == "司机绕路，已约谈" and d.state == "已关闭"
    rv.resubmit(cctx, COMPLAINT, cid)
    item = rv.sign(sctx, COMPLAINT, cid, "补充后同意", password=PASSWORD)
    assert (item.revision, item.integrity) == (1, Integrity.INTACT)


def test_closing_a_complaint_puts_it_in_review(ctx: ServiceContext, cctx: ServiceContext) -> None:
    cid = closed_complaint(cctx)
    with ctx.sessions() as s:
        assert s.get(Complaint, cid).review_status == "待审阅"  # type: ignore[union-attr]
    open_one = cs.register(cctx, cs.IntakeDraft(subject="发票开错", anonymous=True, category="收费"))
    with ctx.sessions() as s:
        assert s.get(Complaint, open_one.id).review_status == ""  # type: ignore[union-attr]


# --- return, the clerk's side, resubmit ---------------------------------------------------------------


def test_return_needs_a_reason_then_the_clerk_sees_it_and_resubmits_by_editing(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    row = record(cctx, customer(cctx))
    with pytest.raises(ValidationError) as err:
        rv.return_for_rework(sctx, RECORD, row.id, "  ")
    assert err.value.fields == ["reason"]
    rv.return_for_rework(sctx, RECORD, row.id, "客户意见记录过于简单，请补充。", row.version)

    mine = rv.returned_items(cctx)
    assert [(i.number, i.comment, i.returned_by, i.returned_at, i.status) for i in mine] == [
        (row.number, "客户意见记录过于简单，请补充。", "李主管", datetime(2026, 11, 24, 10, 0), "退回")
    ]
    assert rv.pending_counts(cctx).returned_to_me == 1
    assert rv.review_queue(sctx).total == 0
    assert rv.detail(cctx, RECORD, row.id).actions == frozenset({"resubmit", "edit"})
    with pytest.raises(ValidationError, match="已退回"):
        rv.sign(sctx, RECORD, row.id, password=PASSWORD)

    current = v.get_record(cctx, row.id)
    fixed = v.update_record(
        cctx, row.id, draft_of(current, feedback="送货及时，司机服务好，希望增加周末配送"), current.version
    )
    assert fixed.status == "待审阅"
    assert rv.returned_items(cctx) == []
    queue = rv.review_queue(sctx)
    assert [i.id for i in queue.items()] == [row.id]
    rv.sign(sctx, RECORD, row.id, "已补充，同意", queue.groups[0].items[0].version, password=PASSWORD)
    assert audit_actions(ctx, "visit_record", row.id) == ["填写回访记录", "退回修改", "修改回访记录", "签字"]


def test_returned_report_is_corrected_in_place_and_back_in_the_queue(
    cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo
) -> None:
    record(cctx, customer(cctx), "2026-11-23 09:00")
    rep = report(cctx, clerk.id)
    with pytest.raises(ValidationError):
        report(cctx, clerk.id)  # still one report per clerk and period
    rv.return_for_rework(sctx, REPORT, rep.id, "评价请写具体", rep.version)
    assert rv.get_report(cctx, rep.id).status == "退回"
    draft = v.draft_report(cctx, clerk.id, date(2026, 11, 23), date(2026, 11, 23))
    again = v.save_report(cctx, draft, "客户满意，配送及时，下周重点回访 B 级客户", "", "")
    assert (again.id, again.number, again.status) == (rep.id, rep.number, "待审阅")
    assert rv.get_report(cctx, rep.id).evaluation == "客户满意，配送及时，下周重点回访 B 级客户"
    assert [i.id for i in rv.review_queue(sctx).items() if i.kind is REPORT] == [rep.id]


def test_resubmit_without_changes_and_only_by_the_owner(
    cctx: ServiceContext, c2ctx: ServiceContext, sctx: ServiceContext
) -> None:
    row = record(cctx, customer(cctx))
    with pytest.raises(ValidationError, match="已在审阅中"):
        rv.resubmit(cctx, RECORD, row.id)
    rv.return_for_rework(sctx, RECORD, row.id, "请核实满意度")
    with pytest.raises(PermissionDenied):
        rv.resubmit(c2ctx, RECORD, row.id)
    item = rv.resubmit(cctx, RECORD, row.id, "已电话核实，满意度无误")
    assert item.status == "待审阅"


# --- reopen ------------------------------------------------------------------------------------------------


def test_reopen_needs_reason_and_rights_leaves_a_trail_and_needs_a_new_signature(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, mctx: ServiceContext
) -> None:
    row = record(cctx, customer(cctx))
    rv.sign(sctx, RECORD, row.id, "同意", password=PASSWORD)
    with pytest.raises(ValidationError) as err:
        rv.reopen(mctx, RECORD, row.id, "")
    assert err.value.fields == ["reason"]
    with pytest.raises(PermissionDenied):
        rv.reopen(cctx, RECORD, row.id, "想改")

    item = rv.reopen(mctx, RECORD, row.id, "客户来电补充了意见")
    assert (item.status, item.revision, item.signer, item.comment) == ("退回", 1, "", "客户来电补充了意见")
    assert rv.verify(ctx, RECORD, row.id) is Integrity.UNSIGNED
    assert [i.id for i in rv.returned_items(cctx)] == [row.id]

    current = v.get_record(cctx, row.id)
    v.update_record(
        cctx, row.id, draft_of(current, feedback="送货及时；客户来电补充：希望提前电话通知"), current.version
    )
    signed = rv.sign(sctx, RECORD, row.id, "补充后同意", password=PASSWORD)
    assert (signed.revision, signed.integrity) == (1, Integrity.INTACT)

    assert audit_actions(ctx, "visit_record", row.id) == [
        "填写回访记录",
        "签字",
        "撤回签字",
        "修改回访记录",
        "签字",
    ]
    with ctx.sessions() as s:
        reopened = s.execute(select(AuditLog).where(AuditLog.action == "撤回签字")).scalar_one()
        resigned = (
            s.execute(select(AuditLog).where(AuditLog.action == "签字").order_by(AuditLog.id.desc()))
            .scalars()
            .first()
        )
    old, new = json.loads(reopened.old or "{}"), json.loads(reopened.new or "{}")
    assert (reopened.username, reopened.note) == ("jingli", "客户来电补充了意见")
    assert (old["signer"], old["revision"], old["integrity"], new["revision"]) == ("李主管", 0, "签字有效", 1)
    assert json.loads(resigned.new or "{}")["revision"] == 1  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="未签字"):
        rv.reopen(mctx, RECORD, record(cctx, customer(cctx, "宁波甬达物流")).id, "无")


# --- tamper detection --------------------------------------------------------------------------------------


def test_a_signed_record_changed_by_raw_sql_is_detected(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    row = record(cctx, customer(cctx))
    rv.sign(sctx, RECORD, row.id, "同意", password=PASSWORD)
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE visit_record SET satisfaction = '很满意' WHERE id = :id"), {"id": row.id})
    assert rv.verify(ctx, RECORD, row.id) is Integrity.TAMPERED
    assert [(i.id, i.integrity.value) for i in rv.tampered_items(sctx)] == [(row.id, "签字后被修改")]
    signed = rv.signed_queue(sctx)
    assert (signed.total, signed.tampered) == (1, 1)
    assert rv.detail(sctx, RECORD, row.id).item.tampered
    # reopening keeps the finding in the log
    rv.reopen(sctx, RECORD, row.id, "核实篡改")
    with ctx.sessions() as s:
        log = s.execute(select(AuditLog).where(AuditLog.action == "撤回签字")).scalar_one()
    assert json.loads(log.old or "{}")["integrity"] == "签字后被修改" and "签字后被修改" in log.note


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE visit_record SET signed_by_id = NULL",  # the signer removed
        "UPDATE visit_record SET supervisor_comment = '同意（补）'",  # the comment changed
        "UPDATE visit_record SET status = '待审阅'",  # unsigned behind the program's back
        "UPDATE visit_record SET visited_at = '2026-11-24 08:00:00.000000'",
    ],
)
def test_every_change_of_a_signed_row_is_detected(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, sql: str
) -> None:
    row = record(cctx, customer(cctx))
    rv.sign(sctx, RECORD, row.id, "同意", password=PASSWORD)
    with ctx.engine.begin() as conn:
        conn.execute(text(sql))
    assert rv.verify(ctx, RECORD, row.id) is Integrity.TAMPERED


def test_status_forged_to_signed_by_sql_is_detected(ctx: ServiceContext, cctx: ServiceContext) -> None:
    row = record(cctx, customer(cctx))
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE visit_record SET status = '已签字'"))
    assert rv.verify(ctx, RECORD, row.id) is Integrity.TAMPERED


def test_signed_report_and_complaint_changed_by_sql_are_detected(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo
) -> None:
    record(cctx, customer(cctx), "2026-11-23 09:00")
    rep = report(cctx, clerk.id)
    cid = closed_complaint(cctx)
    rv.sign(sctx, REPORT, rep.id, password=PASSWORD)
    rv.sign(sctx, COMPLAINT, cid, password=PASSWORD)
    assert rv.verify(ctx, REPORT, rep.id) is rv.verify(ctx, COMPLAINT, cid) is Integrity.INTACT
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE visit_report SET evaluation = '很好' WHERE id = :id"), {"id": rep.id})
        conn.execute(text("DELETE FROM complaint_attachment WHERE complaint_id = :id"), {"id": cid})
    assert rv.verify(ctx, REPORT, rep.id) is Integrity.TAMPERED
    assert rv.verify(ctx, COMPLAINT, cid) is Integrity.TAMPERED
    assert {(i.kind, i.id) for i in rv.tampered_items(sctx)} == {(REPORT, rep.id), (COMPLAINT, cid)}


# --- concurrency, self-sign, batch -------------------------------------------------------------------------


def test_sign_refuses_a_version_the_supervisor_did_not_read(
    cctx: ServiceContext, sctx: ServiceContext
) -> None:
    row = record(cctx, customer(cctx))
    read = rv.detail(sctx, RECORD, row.id).item
    v.update_record(cctx, row.id, draft_of(row, feedback="悄悄改了"), row.version)
    with pytest.raises(ConflictError, match="重新阅读"):
        rv.sign(sctx, RECORD, row.id, "同意", read.version, password=PASSWORD)
    assert v.get_record(cctx, row.id).status == "待审阅"


def test_a_supervisor_does_not_sign_their_own_work_unless_the_office_allows(
    ctx: ServiceContext, sctx: ServiceContext, mctx: ServiceContext
) -> None:
    row = record(sctx, customer(sctx))
    assert rv.review_queue(sctx).total == 0  # left to someone else
    assert rv.review_queue(mctx).total == 1
    assert "sign" not in rv.detail(sctx, RECORD, row.id).actions
    with pytest.raises(PermissionDenied, match="自己的"):
        rv.sign(sctx, RECORD, row.id, password=PASSWORD)
    with pytest.raises(PermissionDenied, match="本人签字"):  # not their own limit to lift
        rv.save_review_rules(sctx, ReviewRules(allow_self_sign=True))
    rv.save_review_rules(mctx, ReviewRules(allow_self_sign=True))  # a manager's decision
    assert rv.review_queue(sctx).total == 1
    assert rv.sign(sctx, RECORD, row.id, password=PASSWORD).status == "已签字"


def test_batch_sign_signs_all_read_items_or_none(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    c = customer(cctx)
    rows = [record(cctx, c, f"2026-11-2{i} 09:00") for i in (0, 1, 3)]
    refs = [rv.ItemRef(RECORD, r.id, r.version) for r in rows]
    stale = rv.ItemRef(RECORD, rows[2].id, rows[2].version - 1)
    with pytest.raises(ConflictError):
        rv.batch_sign(sctx, [*refs[:2], stale], "已阅", password=PASSWORD)
    assert rv.review_queue(sctx).total == 3  # nothing signed
    with pytest.raises(ValidationError):
        rv.batch_sign(sctx, [], "已阅", password=PASSWORD)
    signed = rv.batch_sign(sctx, refs, "已阅", password=PASSWORD)
    assert [(i.id, i.status, i.comment) for i in signed] == [(r.id, "已签字", "已阅") for r in rows]
    assert all(rv.verify(ctx, RECORD, r.id) is Integrity.INTACT for r in rows)
    with ctx.sessions() as s:
        notes = s.execute(select(AuditLog.note).where(AuditLog.action == "签字")).scalars().all()
    assert notes == ["批量签字（共 3 份）"] * 3


def test_department_visibility_limits_the_queue(
    ctx: ServiceContext, cctx: ServiceContext, c2ctx: ServiceContext, sctx: ServiceContext
) -> None:
    from huifang_desktop.services.settings import load_settings, save_settings

    record(cctx, customer(cctx))
    theirs = record(c2ctx, customer(c2ctx, "宁波甬达物流"))  # 销售部
    save_settings(ctx, replace(load_settings(ctx), visibility="department"))
    assert [i.owner for i in rv.review_queue(sctx).items()] == ["小王"]
    with pytest.raises(PermissionDenied, match="其他部门"):
        rv.sign(sctx, RECORD, theirs.id, password=PASSWORD)


# --- the audit log -----------------------------------------------------------------------------------------


@pytest.fixture
def history(ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext) -> list[v.VisitRecordRow]:
    c = customer(cctx)
    rows = [record(cctx, c, "2026-11-23 09:00"), record(cctx, c, "2026-11-24 09:00")]
    rv.sign(sctx, RECORD, rows[0].id, "同意", password=PASSWORD)
    rv.return_for_rework(sctx, RECORD, rows[1].id, "请补充")
    return rows


def test_audit_log_filters_by_user_record_action_and_date(
    ctx: ServiceContext, sctx: ServiceContext, supervisor: UserInfo, history: list[Any]
) -> None:
    everything = rv.audit_log(sctx)
    assert everything.total >= 6 and everything.rows[0].at >= everything.rows[-1].at  # newest first
    mine = rv.audit_log(sctx, rv.AuditFilter(user_id=supervisor.id))
    assert [r.action for r in mine.rows] == ["退回修改", "签字"]
    assert mine.rows[1].user == "李主管" and mine.rows[1].object_text.startswith(
        f"回访记录 {history[0].number}"
    )
    assert "状态：已签字" in mine.rows[1].new and "签字人：李主管" in mine.rows[1].new
    assert mine.rows[1].old == "状态：待审阅"
    by_record = rv.audit_log(sctx, rv.AuditFilter(entity="visit_record", text=history[1].number))
    assert [r.action for r in by_record.rows] == ["退回修改", "填写回访记录"]
    assert rv.audit_log(sctx, rv.AuditFilter(action="签字", username="zhuguan")).total == 1
    assert rv.audit_log(sctx, rv.AuditFilter(start=date(2026, 11, 25))).total == 0
    one_day = rv.AuditFilter(start=date(2026, 11, 24), end=date(2026, 11, 24))
    assert rv.audit_log(sctx, one_day).total == everything.total
    with pytest.raises(ValidationError):
        rv.audit_log(sctx, rv.AuditFilter(start=date(2026, 11, 25), end=date(2026, 11, 24)))
    page = rv.audit_log(sctx, page=1, page_size=2)
    assert (len(page.rows), page.pages, page.rows[0].id) == (
        2,
        -(-everything.total // 2),
        everything.rows[2].id,
    )
    assert "签字" in rv.audit_actions(sctx)


def test_audit_log_is_for_supervisors_managers_and_admins(
    ctx: ServiceContext,
    cctx: ServiceContext,
    mctx: ServiceContext,
    admin: UserInfo,
    as_user: AsUser,
    history: list[Any],
) -> None:
    with pytest.raises(PermissionDenied):
        rv.audit_log(cctx)
    with pytest.raises(PermissionDenied):
        rv.export_audit(cctx, "/tmp/never.xlsx")
    assert rv.audit_log(mctx).total == rv.audit_log(as_user(ctx, admin)).total > 0


def test_export_audit_writes_the_columns_and_logs_itself(
    ctx: ServiceContext, sctx: ServiceContext, history: list[Any], tmp_path: Path
) -> None:
    out = tmp_path / "操作日志.xlsx"
    count = rv.export_audit(sctx, out, rv.AuditFilter(action="签字"))
    assert count == 1
    ws = load_workbook(out).active
    assert "操作日志" in str(ws["A1"].value)
    header = [c.value for c in ws[2]]
    assert header[:6] == ["时间", "用户", "操作", "对象", "原值", "新值"]
    row = dict(zip(header, [c.value for c in ws[3]], strict=True))
    assert (row["时间"], row["用户"], row["操作"]) == (datetime(2026, 11, 24, 10, 0), "李主管", "签字")
    assert row["对象"].startswith(f"回访记录 {history[0].number}")
    assert row["原值"] == "状态：待审阅" and "状态：已签字" in row["新值"]
    assert rv.audit_log(sctx, rv.AuditFilter(action="导出操作日志")).total == 1
    with pytest.raises(v.ExportError):
        rv.export_audit(sctx, tmp_path / "missing" / "x.xlsx")


def test_report_rows_of_the_review_match_the_stored_report(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo
) -> None:
    record(cctx, customer(cctx), "2026-11-23 09:00")
    rep = report(cctx, clerk.id)
    got = rv.get_report(cctx, rep.id)
    with ctx.sessions() as s:
        stored = s.get(VisitReport, rep.id)
    assert stored is not None
    assert (got.number, got.period_start, got.evaluation, got.summary["total"]) == (
        stored.number,
        stored.period_start,
        stored.evaluation,
        1,
    )
    with ctx.engine.begin() as conn:
        conn.execute(update(VisitReport).values(summary="not json"))
    assert rv.get_report(cctx, rep.id).summary == {}
