"""查办 (inquiry into a late complaint, 002 制度3 第十三条): “对于已结案的案件，应覈查各部门处理时效，对于处理时效
逾期案件，应开具‘查办单’送有关部门追查逾期原因”.

A complaint closed after its 处理期限, or still open N working days past it, needs a 查办 record: why it was
late, the measures, who is responsible, and who decided — entered by a supervisor (Permission.RECORD_INQUIRY).
:func:`inquiries` lists the cases that need one (待查办) and those that have one (已查办).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_follow import (
    InquiryState,
    NoticeKind,
    inquiry_cutoff,
    inquiry_state,
    needs_inquiry,
)
from huifang_desktop.domain.complaints import ComplaintState, MessageKind
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.validation import clean_text
from huifang_desktop.services.complaints.common import _event, _label, _load, _user_name
from huifang_desktop.services.complaints.model import _OPEN
from huifang_desktop.services.complaints.notices import follow_policy_in, queue
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import ConflictError
from huifang_desktop.services.policy import complaint_visibility, work_calendar
from huifang_desktop.storage.models import Complaint, ComplaintInquiry


@dataclass(frozen=True, slots=True)
class InquiryDraft:
    reason: str  # 逾期原因
    measures: str  # 改进措施 / 处理意见
    responsible: str = ""  # 责任人 / 责任部门


@dataclass(frozen=True, slots=True)
class InquiryRow:
    complaint_id: int
    number: str
    subject: str
    severity: str
    state: str
    handler: str
    handling_due: datetime
    closed_at: datetime | None
    inquiry: InquiryState
    reason: str
    measures: str
    responsible: str
    decided_by: str
    decided_at: datetime | None
    version: int


def late_condition(now: datetime, cutoff: datetime) -> Any:
    """SQL: the complaint needs a 查办 (closed after its 处理期限, or open and 处理期限 before ``cutoff``)."""
    closed_late = and_(
        Complaint.state == ComplaintState.CLOSED.value, Complaint.closed_at > Complaint.handling_due
    )
    open_late = and_(Complaint.state.in_(_OPEN), Complaint.handling_due < cutoff)
    return and_(Complaint.kind == MessageKind.COMPLAINT.value, or_(closed_late, open_late))


def _row(s: Session, c: Complaint, rec: ComplaintInquiry | None, needed: bool) -> InquiryRow:
    return InquiryRow(
        c.id,
        c.number,
        c.subject,
        c.severity,
        c.state,
        _user_name(s, c.handler_id),
        c.handling_due,
        c.closed_at,
        inquiry_state(needed, rec is not None),
        rec.reason if rec else "",
        rec.measures if rec else "",
        rec.responsible if rec else "",
        rec.decided_by if rec else "",
        rec.decided_at if rec else None,
        rec.version if rec else 0,
    )


def inquiries(ctx: ServiceContext, *, pending_only: bool = False, limit: int = 1000) -> list[InquiryRow]:
    """The 查办 list: late complaints (closed late, or open N working days past the 处理期限) with their
    查办 state, and every complaint that has a 查办 record; the latest deadline first."""
    now = ctx.now()
    cal = work_calendar(ctx)
    with ctx.sessions() as s:
        policy = follow_policy_in(s)
        cutoff = inquiry_cutoff(now, policy, cal)
        late = late_condition(now, cutoff)
        recorded = ComplaintInquiry.id.is_not(None)
        q = (
            select(Complaint, ComplaintInquiry)
            .outerjoin(ComplaintInquiry, ComplaintInquiry.complaint_id == Complaint.id)
            .where(and_(late, ~recorded) if pending_only else or_(late, recorded))
            .order_by(Complaint.handling_due.desc(), Complaint.id.desc())
            .limit(limit)
        )
        visible = complaint_visibility(ctx)
        if visible is not None:
            q = q.where(visible)
        out = []
        for c, rec in s.execute(q).all():
            needed = needs_inquiry(c.kind, c.state, c.handling_due, c.closed_at, now, policy, cal)
            out.append(_row(s, c, rec, needed))
        return out


def pending_inquiry_count(ctx: ServiceContext) -> int:
    """How many late complaints wait for a 查办 (``inquiries(pending_only=True)``'s rows, counted in SQL:
    the 投诉登记 tab's 待查办 button asks on every refresh)."""
    now = ctx.now()
    cal = work_calendar(ctx)
    with ctx.sessions() as s:
        cutoff = inquiry_cutoff(now, follow_policy_in(s), cal)
        q = (
            select(func.count())
            .select_from(Complaint)
            .outerjoin(ComplaintInquiry, ComplaintInquiry.complaint_id == Complaint.id)
            .where(late_condition(now, cutoff), ComplaintInquiry.id.is_(None))
        )
        visible = complaint_visibility(ctx)
        if visible is not None:
            q = q.where(visible)
        return int(s.execute(q).scalar_one())


def get_inquiry(ctx: ServiceContext, complaint_id: int) -> InquiryRow:
    now = ctx.now()
    cal = work_calendar(ctx)
    with ctx.sessions() as s:
        c = _load(s, ctx, complaint_id, for_update=False)
        rec = s.execute(select(ComplaintInquiry).where(ComplaintInquiry.complaint_id == c.id)).scalar()
        needed = needs_inquiry(c.kind, c.state, c.handling_due, c.closed_at, now, follow_policy_in(s), cal)
        return _row(s, c, rec, needed)


def record_inquiry(
    ctx: ServiceContext, complaint_id: int, draft: InquiryDraft, expected_version: int | None = None
) -> InquiryRow:
    """Enter (or correct) the 查办 of a late complaint; the supervisor entering it is who decided. The
    handler and the 首问责任人 are told (查办 notice). Audited."""
    ctx.require(Permission.RECORD_INQUIRY, "填写查办单")
    errors: list[FieldError] = []
    reason, measures = clean_text(draft.reason), clean_text(draft.measures)
    responsible = clean_text(draft.responsible)
    if not reason:
        errors.append(FieldError("reason", "逾期原因", "请填写逾期原因"))
    if not measures:
        errors.append(FieldError("measures", "改进措施", "请填写改进措施或处理意见"))
    if len(responsible) > 50:
        errors.append(FieldError("responsible", "责任人", "不能超过 50 个字"))
    if errors:
        raise ValidationError(errors)
    now = ctx.now()
    cal = work_calendar(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        rec = s.execute(select(ComplaintInquiry).where(ComplaintInquiry.complaint_id == c.id)).scalar()
        if rec is None and not needs_inquiry(
            c.kind, c.state, c.handling_due, c.closed_at, now, follow_policy_in(s), cal
        ):
            raise ValidationError(FieldError("complaint", "投诉", f"投诉 {c.number} 未逾期，无需查办"))
        if rec is not None and expected_version is not None and rec.version != expected_version:
            raise ConflictError(f"投诉 {c.number} 的查办单已被他人修改，请刷新后再改。")
        name = ctx.user.display_name or ctx.user.username
        old = None if rec is None else {"reason": rec.reason, "measures": rec.measures}
        if rec is None:
            rec = ComplaintInquiry(complaint_id=c.id, created_at=now)
            s.add(rec)
        rec.reason, rec.measures, rec.responsible = reason, measures, responsible
        rec.decided_by_id, rec.decided_by, rec.decided_at, rec.updated_at = (
            ctx.user.id or None,
            name,
            now,
            now,
        )
        note = f"逾期原因：{reason[:60]}；措施：{measures[:60]}"
        for user_id in {c.handler_id, c.first_responder_id} - {None, ctx.user.id}:
            queue(s, c, user_id, NoticeKind.INQUIRY, f"{c.number} 已查办（{name}）：{reason[:80]}", now)
        _event(s, ctx, c, "查办", note=note)
        audit(
            s,
            ctx,
            "查办",
            "complaint",
            c.id,
            _label(c),
            old=old,
            new={"reason": reason, "measures": measures, "responsible": responsible},
        )
        s.flush()
        needed = needs_inquiry(c.kind, c.state, c.handling_due, c.closed_at, now, follow_policy_in(s), cal)
        return _row(s, c, rec, needed)
