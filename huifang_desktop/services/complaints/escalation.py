"""Overdue complaints (run at start): the 催办 ladder, 督办, and the follow-up notices of the reminder.

A complaint not answered by its satisfying-reply deadline (``reply_due``, 002 制度9) gets one 催办 as well, and
so does an urgent one not dispatched or not reported back in time (002 制度5 §2, §5).
An overdue complaint is **not** taken from its handler (002 制度3 第十三条: 总经理室 “开具催办单催促有关部门
处理”): the rungs of the office's ladder (:class:`~huifang_desktop.domain.complaint_follow.FollowPolicy`) send a
催办 to the handler and the responsible department's head, then report upwards (上报) to the next level and
the manager, each rung once per missed deadline. Only a supervisor's explicit 转交 (:func:`reassign`) moves a
case. A manager may put a 重大 case under 督办 (:func:`supervise`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_follow import (
    ChaseRung,
    FollowPolicy,
    NoticeKind,
    Recipient,
    overdue_workdays,
    rungs_due,
)
from huifang_desktop.domain.complaints import ComplaintState, MessageKind, Severity, escalated_role
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role
from huifang_desktop.domain.validation import clean_text
from huifang_desktop.services.complaints.common import _event, _label, _load, _pick_user, _user_name
from huifang_desktop.services.complaints.model import (
    _OPEN,
    ComplaintDetail,
    EscalationResult,
    Notices,
    load_policy,
)
from huifang_desktop.services.complaints.notices import FOLLOW_KEY, follow_policy_in, queue, unseen_count
from huifang_desktop.services.complaints.reading import _detail
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit
from huifang_desktop.services.policy import work_calendar
from huifang_desktop.services.settings import get_value, set_value
from huifang_desktop.storage.models import Complaint, ComplaintNotice, Department

# --- settings ----------------------------------------------------------------------------------------


def load_follow_policy(ctx: ServiceContext) -> FollowPolicy:
    data = get_value(ctx, FOLLOW_KEY)
    return FollowPolicy() if not data else FollowPolicy.from_dict(data)


def save_follow_policy(ctx: ServiceContext, policy: FollowPolicy) -> None:
    """Store the 首问 feedback hours, the 催办 ladder and the 查办 days (supervisor/admin)."""
    FollowPolicy.from_dict(policy.to_dict())  # validates
    set_value(ctx, FOLLOW_KEY, policy.to_dict(), what="投诉催办与查办规则")


# --- the 催办 ladder ----------------------------------------------------------------------------------


def _recipients(s: Session, c: Complaint, who: Recipient) -> list[int]:
    if who is Recipient.HANDLER:
        return [c.handler_id] if c.handler_id else []
    if who is Recipient.FIRST_RESPONDER:
        return [c.first_responder_id] if c.first_responder_id else []
    if who is Recipient.DEPARTMENT_HEAD:
        dep = s.get(Department, c.department_id) if c.department_id else None
        head = (
            dep.head_id
            if dep is not None and dep.head_id
            else _pick_user(s, Role.SUPERVISOR, c.department_id)
        )
        return [head] if head else []
    if who is Recipient.NEXT_LEVEL:
        up = escalated_role(Role(c.handler_role))
        person = _pick_user(s, up, c.department_id) if up is not None else None
        return [person] if person else []
    person = _pick_user(s, Role.MANAGER, c.department_id)
    return [person] if person else []


def _send_rung(s: Session, c: Complaint, rung: ChaseRung, late_days: int, now: datetime) -> list[str]:
    """Queue one rung's notices (one per person, however many roles they fill); the names told."""
    assert c.deadline is not None
    ids: list[int] = []
    for who in rung.notify:
        ids += [i for i in _recipients(s, c, who) if i not in ids]
    verb = "催办" if rung.kind is NoticeKind.CHASE else "逾期上报"
    note = (
        f"{c.number} 已逾期（期限 {c.deadline:%Y-%m-%d %H:%M}，逾期 {late_days} 个工作日），{verb}："
        f"{c.subject}"
    )
    for user_id in ids:
        queue(s, c, user_id, rung.kind, note, now)
        if user_id == c.handler_id:
            c.escalation_seen = False
    return [_user_name(s, i) for i in ids]


def escalate_overdue(ctx: ServiceContext, now: datetime | None = None) -> EscalationResult:
    """Run the 催办 ladder over every open overdue complaint: each rung reached and not yet sent for the
    current deadline notifies its people (催办 → ``chase_count``, 上报 → ``escalation_level``), recorded and
    audited as the system. The handler keeps the case. Run at start (and by ``plan``)."""
    policy = load_policy(ctx)
    if not policy.escalate_overdue:
        return EscalationResult(())
    now = now or ctx.now()
    cal = work_calendar(ctx)
    system = ctx.as_user(SYSTEM_USER)
    out: list[tuple[str, str, str]] = []
    with ctx.sessions() as s, s.begin():
        follow = follow_policy_in(s)
        q = (
            select(Complaint)
            .where(
                Complaint.state.in_(_OPEN),
                Complaint.deadline < now,
                Complaint.kind == MessageKind.COMPLAINT.value,
            )
            .order_by(Complaint.deadline, Complaint.id)
        )
        for c in s.execute(q).scalars():
            assert c.deadline is not None
            if c.escalated_deadline != c.deadline:  # a new missed deadline: the ladder starts again
                c.chase_rung = 0
            late = overdue_workdays(c.deadline, now, cal)
            due = rungs_due(follow.ladder, c.chase_rung, late)
            for index, rung in due:
                names = _send_rung(s, c, rung, late, now)
                if rung.kind is NoticeKind.CHASE:
                    c.chase_count += 1
                else:
                    c.escalation_level += 1
                told = "、".join(n for n in names if n) or "（无此级别人员）"
                note = f"逾期（期限 {c.deadline:%Y-%m-%d %H:%M}）第 {index + 1} 级{rung.kind.value}：{told}"
                _event(s, system, c, f"逾期{rung.kind.value}", note=note)
                audit(
                    s,
                    system,
                    f"逾期{rung.kind.value}",
                    "complaint",
                    c.id,
                    _label(c),
                    new={"level": index + 1, "handler": _user_name(s, c.handler_id)},
                    note=note,
                )
                out.append((c.number, rung.kind.value, told))
                c.chase_rung = index + 1
            if due:
                c.escalated_at, c.escalated_deadline = now, c.deadline
        out += _chase_late_replies(s, system, now)
        out += _chase_urgent(s, system, now)
    return EscalationResult(tuple(out))


def _chase_late_replies(s: Session, system: ServiceContext, now: datetime) -> list[tuple[str, str, str]]:
    """002 制度9 五: “二个工作日内给予客户满意回覆”. An open complaint past its ``reply_due`` with no reply
    recorded gets one 催办 (the handler and the department head) while its current deadline still stands —
    past that, the ladder chases it already; the handler keeps the case."""
    q = (
        select(Complaint)
        .where(
            Complaint.state.in_(_OPEN),
            Complaint.kind == MessageKind.COMPLAINT.value,
            Complaint.reply_due < now,
            Complaint.replied_at.is_(None),
            Complaint.reply_chased_at.is_(None),
            or_(Complaint.deadline.is_(None), Complaint.deadline >= now),
        )
        .order_by(Complaint.reply_due, Complaint.id)
    )
    out: list[tuple[str, str, str]] = []
    for c in s.execute(q).scalars():
        assert c.reply_due is not None
        out.append(
            _chase_once(
                s,
                system,
                c,
                now,
                f"{c.number} 未在满意答复期限（{c.reply_due:%Y-%m-%d %H:%M}）前答复客户，催办：{c.subject}",
                "答复逾期催办",
                f"满意答复逾期（期限 {c.reply_due:%Y-%m-%d %H:%M}）催办",
            )
        )
        c.reply_chased_at = now
    return out


def _chase_urgent(s: Session, system: ServiceContext, now: datetime) -> list[tuple[str, str, str]]:
    """002 制度5 §2 “于12小时内向相关部门传递” and §5 “处理妥善后，须于2小时内反馈客户中心”: an urgent complaint
    still 待受理 past its ``dispatch_due``, or still 处理中 past its ``report_back_due``, gets one 催办 each (the
    handler and the department head); the handler keeps the case."""
    out: list[tuple[str, str, str]] = []
    dispatch = select(Complaint).where(
        Complaint.urgent.is_(True),
        Complaint.state == ComplaintState.PENDING.value,
        Complaint.dispatch_due < now,
        Complaint.dispatch_chased_at.is_(None),
    )
    for c in s.execute(dispatch.order_by(Complaint.dispatch_due, Complaint.id)).scalars():
        assert c.dispatch_due is not None
        due = f"{c.dispatch_due:%Y-%m-%d %H:%M}"
        note = f"{c.number} 紧急事项未在派工期限（{due}）前受理，催办：{c.subject}"
        out.append(_chase_once(s, system, c, now, note, "紧急派工催办", f"紧急派工逾期（期限 {due}）催办"))
        c.dispatch_chased_at = now
    report = select(Complaint).where(
        Complaint.urgent.is_(True),
        Complaint.state == ComplaintState.IN_PROGRESS.value,
        Complaint.report_back_due < now,
        Complaint.report_back_chased_at.is_(None),
    )
    for c in s.execute(report.order_by(Complaint.report_back_due, Complaint.id)).scalars():
        assert c.report_back_due is not None
        due = f"{c.report_back_due:%Y-%m-%d %H:%M}"
        note = f"{c.number} 紧急事项处理后未在反馈期限（{due}）前办结反馈，催办：{c.subject}"
        out.append(_chase_once(s, system, c, now, note, "紧急反馈催办", f"紧急反馈逾期（期限 {due}）催办"))
        c.report_back_chased_at = now
    return out


def _chase_once(
    s: Session, system: ServiceContext, c: Complaint, now: datetime, note: str, action: str, text: str
) -> tuple[str, str, str]:
    """One 催办 to the handler and the department head, recorded and audited as the system."""
    ids: list[int] = []
    for who in (Recipient.HANDLER, Recipient.DEPARTMENT_HEAD):
        ids += [i for i in _recipients(s, c, who) if i not in ids]
    for user_id in ids:
        queue(s, c, user_id, NoticeKind.CHASE, note, now)
        if user_id == c.handler_id:
            c.escalation_seen = False
    told = "、".join(n for n in (_user_name(s, i) for i in ids) if n) or "（无此级别人员）"
    c.chase_count += 1
    _event(s, system, c, action, note=f"{text}：{told}")
    audit(
        s,
        system,
        action,
        "complaint",
        c.id,
        _label(c),
        new={"handler": _user_name(s, c.handler_id)},
        note=f"{text}：{told}",
    )
    return (c.number, NoticeKind.CHASE.value, told)


def supervise(ctx: ServiceContext, complaint_id: int, note: str = "") -> ComplaintDetail:
    """督办: the manager puts a 重大 complaint under his supervision (an event, notices to the handler and the
    首问责任人); the handler keeps it."""
    ctx.require(Permission.SUPERVISE_COMPLAINTS, "督办投诉")
    text = clean_text(note)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        if c.severity != Severity.MAJOR.value or c.state not in _OPEN:
            raise ValidationError(
                FieldError("severity", "严重程度", f"只有未结的重大投诉才能督办（{c.number}）")
            )
        now = ctx.now()
        message = f"{c.number} 由{ctx.user.display_name}督办：{c.subject}" + (f"（{text}）" if text else "")
        for user_id in {c.handler_id, c.first_responder_id} - {None, ctx.user.id}:
            queue(s, c, user_id, NoticeKind.SUPERVISE, message, now)
        c.escalation_seen = c.handler_id == ctx.user.id
        c.updated_at = now
        _event(s, ctx, c, "督办", note=text)
        audit(s, ctx, "督办", "complaint", c.id, _label(c), note=text)
        s.flush()
        return _detail(s, ctx, c)


# --- notices -----------------------------------------------------------------------------------------


def notices(ctx: ServiceContext) -> Notices:
    """For the start-up reminder and the tray: complaints chased or given to me and not yet seen, my overdue
    ones, my open ones, and my unseen follow-up notices (首问 feedback, 催办, 上报, 督办, 查办)."""
    me = ctx.user.id or -1
    now = ctx.now()
    with ctx.sessions() as s:
        mine = select(func.count(Complaint.id)).where(Complaint.handler_id == me, Complaint.state.in_(_OPEN))
        unseen = s.execute(mine.where(Complaint.escalation_seen.is_(False))).scalar() or 0
        overdue = s.execute(mine.where(Complaint.deadline < now)).scalar() or 0
        total = s.execute(mine).scalar() or 0
        follow = unseen_count(s, me)
    return Notices(int(unseen), int(overdue), int(total), follow)


def mark_notices_seen(ctx: ServiceContext) -> int:
    """The user opened the register: the complaints chased or given to them and their notices are seen."""
    me = ctx.user.id
    if not me:
        return 0
    with ctx.sessions() as s, s.begin():
        rows = (
            s.execute(
                select(Complaint).where(Complaint.handler_id == me, Complaint.escalation_seen.is_(False))
            )
            .scalars()
            .all()
        )
        for c in rows:
            c.escalation_seen = True
        done = cast(
            CursorResult[Any],
            s.execute(
                update(ComplaintNotice)
                .where(ComplaintNotice.user_id == me, ComplaintNotice.seen_at.is_(None))
                .values(seen_at=ctx.now())
            ),
        )  # an UPDATE's result is a CursorResult (it has rowcount)
        return len(rows) + int(done.rowcount or 0)
