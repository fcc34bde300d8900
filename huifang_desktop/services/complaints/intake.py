"""Intake (投诉登记): validation, numbering and routing of a new complaint, 咨询 or 建议, a repeat occurrence,
converting a message into a complaint, and a new complaint when the customer rejects a result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_rules import rule_book_deadlines
from huifang_desktop.domain.complaints import (
    Channel,
    ComplaintPolicy,
    ComplaintState,
    MessageKind,
    Severity,
    deadlines,
    handler_role,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, reaches_level
from huifang_desktop.domain.validation import (
    already,
    clean_text,
    require_text,
)
from huifang_desktop.services.complaints.common import (
    _check_can_work,
    _check_version,
    _choice,
    _event,
    _guarded,
    _label,
    _load,
    _number,
    _parse_moment,
    _phone,
    _pick_user,
    _refresh_deadline,
    _text,
    _user_name,
)
from huifang_desktop.services.complaints.model import ComplaintDetail, IntakeDraft, load_policy
from huifang_desktop.services.complaints.notices import _first_responder
from huifang_desktop.services.complaints.reading import _detail
from huifang_desktop.services.complaints.rules import dispatch_due_of, load_complaint_rules, reply_due_of
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import (
    LockedError,
)
from huifang_desktop.services.policy import work_calendar
from huifang_desktop.storage.models import (
    Complaint,
    ComplaintOccurrence,
    Customer,
    Department,
    User,
)

# --- intake ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CleanIntake:
    kind: MessageKind
    received_at: datetime
    channel: Channel
    complainant: str
    anonymous: bool
    phone: str
    customer_id: int | None
    subject: str
    content: str
    category: str
    severity: Severity
    special: bool
    reply_only: bool


def _validate_intake(
    s: Session, ctx: ServiceContext, d: IntakeDraft, policy: ComplaintPolicy
) -> _CleanIntake:
    errors: list[FieldError] = []
    kind = _choice(d.kind, [k.value for k in MessageKind], "类型", "kind", errors)
    channel = _choice(d.channel, [c.value for c in Channel], "渠道", "channel", errors)
    severity = _choice(d.severity, [v.value for v in Severity], "严重程度", "severity", errors)
    received = _parse_moment(d.received_at, "受理时间", "received_at", errors) or ctx.now()
    if received > ctx.now() + timedelta(minutes=5):
        errors.append(FieldError("received_at", "受理时间", "不能晚于现在"))
    try:
        subject = require_text(d.subject, label="主题", field="subject", max_len=200)
    except ValidationError as exc:
        errors += exc.errors
        subject = ""
    content = _text(d.content, "内容", "content", errors)
    complainant = "" if d.anonymous else _text(d.complainant, "投诉人", "complainant", errors, limit=50)
    phone = _phone(d.phone, errors)
    is_complaint = kind == MessageKind.COMPLAINT.value
    if is_complaint and not d.anonymous and not complainant and d.customer_id is None:
        errors.append(FieldError("complainant", "投诉人", "请填写投诉人，或勾选“匿名”"))
    if is_complaint and not d.anonymous and not phone and d.customer_id is None:
        errors.append(FieldError("phone", "联系方式", "请填写联系方式（匿名投诉可不填）"))
    category = clean_text(d.category)
    if is_complaint and category not in policy.categories:
        errors.append(FieldError("category", "类别", f"请选择类别（{'、'.join(policy.categories)}）"))
    if d.customer_id is not None:
        cust = s.get(Customer, d.customer_id)
        if cust is None:
            errors.append(FieldError("customer_id", "客户", "所选客户档案不存在"))
    if errors:
        raise ValidationError(errors)
    return _CleanIntake(
        MessageKind(kind),
        received,
        Channel(channel),
        complainant,
        bool(d.anonymous),
        phone,
        d.customer_id,
        subject,
        content,
        category,
        Severity(severity),
        bool(d.special),
        bool(d.reply_only),
    )


def _route(
    s: Session,
    ctx: ServiceContext,
    clean: _CleanIntake,
    policy: ComplaintPolicy,
    department_id: int | None,
    handler_id: int | None,
) -> tuple[Role, int | None, int | None]:
    role = handler_role(clean.severity, policy)
    customer = s.get(Customer, clean.customer_id) if clean.customer_id else None
    dep = department_id or (customer.department_id if customer else None) or ctx.user.department_id
    if handler_id is not None:
        u = s.get(User, handler_id)
        if u is None or not u.active:
            raise ValidationError(FieldError("handler_id", "负责人", "所选负责人不存在或已停用"))
        if not reaches_level(Role(u.role), role):
            raise ValidationError(
                FieldError(
                    "handler_id",
                    "负责人",
                    f"{clean.severity}投诉须由{role.label}或更高级别负责，{u.display_name}是"
                    f"{Role(u.role).label}",
                )
            )
        return role, handler_id, dep
    prefer: list[int | None] = []
    if role is Role.CLERK:
        prefer = [customer.owner_id if customer else None, ctx.user.id or None]
    elif ctx.user.role is role:
        prefer = [ctx.user.id]
    return role, _pick_user(s, role, dep, prefer), dep


def _promised_on(raw: date | str | None) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(clean_text(raw))
    except ValueError:
        raise ValidationError(FieldError("promised_reply_on", "答复日期", f"“{raw}”不是日期")) from None


def register(ctx: ServiceContext, draft: IntakeDraft) -> ComplaintDetail:
    """Log a complaint, 咨询 or 建议: numbered, routed by severity, with its deadlines. One transaction."""
    ctx.require(Permission.EDIT_CUSTOMERS, "登记投诉")
    policy = load_policy(ctx)
    cal = work_calendar(ctx)
    with ctx.sessions() as s, s.begin():
        clean = _validate_intake(s, ctx, draft, policy)
        if draft.department_id is not None and s.get(Department, draft.department_id) is None:
            raise ValidationError(FieldError("department_id", "责任部门", "所选部门不存在"))
        role, handler, dep = _route(s, ctx, clean, policy, draft.department_id, draft.handler_id)
        linked = None
        if draft.linked_to_id is not None:
            linked = _load(s, ctx, draft.linked_to_id)
        rules = load_complaint_rules(ctx)
        dl = rule_book_deadlines(
            clean.received_at,
            clean.kind,
            clean.severity,
            policy,
            rules,
            cal,
            special=clean.special,
            promised_on=_promised_on(draft.promised_reply_on),
            origin=draft.origin,
        )
        now = ctx.now()
        c = Complaint(
            number=_number(s, clean.kind, policy, clean.received_at),
            kind=clean.kind.value,
            received_at=clean.received_at,
            channel=clean.channel.value,
            complainant=clean.complainant,
            anonymous=clean.anonymous,
            phone=clean.phone,
            customer_id=clean.customer_id,
            subject=clean.subject,
            content=clean.content,
            category=clean.category,
            severity=clean.severity.value,
            special=clean.special,
            reply_only=clean.reply_only,
            department_id=dep,
            handler_id=handler,
            handler_role=role.value,
            state=ComplaintState.PENDING.value,
            first_reply_due=dl.first_reply,
            handling_due=dl.handling,
            deadline=dl.first_reply,
            investigation="",
            cause="",
            measures="",
            result="",
            reply_way="",
            reply_text="",
            visit_round=0,
            satisfaction="",
            visit_note="",
            withdraw_reason="",
            escalation_level=0,
            escalation_seen=handler == (ctx.user.id or None),
            chase_count=0,
            linked_to_id=linked.id if linked else None,
            converted_from="",
            occurrences=1,
            created_by_id=ctx.user.id or None,
            created_at=now,
            updated_at=now,
            review_status="",
            supervisor_comment="",
            content_hash="",
            revision=0,
        )
        c.first_responder_id = _first_responder(s, ctx, draft.first_responder_id)
        c.reply_due = reply_due_of(
            clean.kind,
            clean.received_at,
            dl.handling,
            special=clean.special,
            rules=rules,
            policy=policy,
            cal=cal,
        )
        if draft.urgent:  # 002 制度5 §2: passed to the department within N clock hours
            c.urgent, c.dispatch_due = True, dispatch_due_of(clean.kind, clean.received_at, rules)
        s.add(c)
        s.flush()
        s.add(
            ComplaintOccurrence(
                complaint_id=c.id,
                received_at=clean.received_at,
                channel=clean.channel.value,
                complainant=clean.complainant,
                phone=clean.phone,
                received_by=ctx.user.display_name,
                note="",
                created_by_id=ctx.user.id or None,
                created_at=now,
            )
        )
        handler_name = _user_name(s, handler)
        note = (
            f"负责人：{handler_name or '（未指定）'}（{role.label}），处理期限 {dl.handling:%Y-%m-%d %H:%M}"
        )
        if linked is not None:
            note += f"；客户不认可 {linked.number} 的处理结果"
            _event(s, ctx, linked, "客户不认可", note=f"新投诉 {c.number}")
        _event(s, ctx, c, f"登记{clean.kind.value}", to_state=c.state, note=note)
        audit(
            s,
            ctx,
            f"登记{clean.kind.value}",
            "complaint",
            c.id,
            _label(c),
            new={
                "number": c.number,
                "severity": c.severity,
                "handler": handler_name,
                "deadline": dl.handling.isoformat(sep=" "),
            },
        )
        s.flush()
        return _detail(s, ctx, c)


def add_occurrence(
    ctx: ServiceContext,
    complaint_id: int,
    *,
    received_at: datetime | str | None = None,
    channel: str = Channel.PHONE.value,
    complainant: str = "",
    phone: str = "",
    received_by: str = "",
    note: str = "",
) -> ComplaintDetail:
    """The same matter complained about again (maybe to another department): one record, one more occurrence."""
    ctx.require(Permission.EDIT_CUSTOMERS, "登记重复投诉")
    errors: list[FieldError] = []
    ch = _choice(channel, [c.value for c in Channel], "渠道", "channel", errors)
    when = _parse_moment(received_at, "受理时间", "received_at", errors) or ctx.now()
    digits = _phone(phone, errors)
    who = _text(complainant, "投诉人", "complainant", errors, limit=50)
    by = _text(received_by, "受理部门", "received_by", errors, limit=50)
    text = _text(note, "说明", "note", errors)
    if errors:
        raise ValidationError(errors)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        if ComplaintState(c.state).is_final:
            raise ValidationError(
                FieldError(
                    "complaint",
                    "投诉",
                    f"投诉 {c.number} {already(c.state)}，不能再附加；请新建投诉并关联原投诉",
                )
            )
        s.add(
            ComplaintOccurrence(
                complaint_id=c.id,
                received_at=when,
                channel=ch,
                complainant=who,
                phone=digits,
                received_by=by or ctx.user.display_name,
                note=text,
                created_by_id=ctx.user.id or None,
                created_at=ctx.now(),
            )
        )
        c.occurrences += 1
        c.updated_at = ctx.now()
        _event(
            s,
            ctx,
            c,
            "重复投诉",
            note=f"第 {c.occurrences} 次，{ch}，{when:%Y-%m-%d %H:%M}" + (f"：{text}" if text else ""),
        )
        audit(
            s,
            ctx,
            "登记重复投诉",
            "complaint",
            c.id,
            _label(c),
            new={"occurrence": c.occurrences, "channel": ch, "received_at": when.isoformat(sep=" ")},
        )
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def convert_to_complaint(
    ctx: ServiceContext,
    complaint_id: int,
    *,
    severity: str = Severity.NORMAL.value,
    category: str = "",
    expected_version: int | None = None,
) -> ComplaintDetail:
    """A 咨询 or 建议 turns out to be a complaint: it gets a complaint number, severity, routing and deadlines
    (counted from now); the old number is kept in ``converted_from``."""
    ctx.require(Permission.EDIT_CUSTOMERS, "转为投诉")
    policy = load_policy(ctx)
    cal = work_calendar(ctx)
    errors: list[FieldError] = []
    sev = _choice(severity, [v.value for v in Severity], "严重程度", "severity", errors)
    if clean_text(category) not in policy.categories:
        errors.append(FieldError("category", "类别", f"请选择类别（{'、'.join(policy.categories)}）"))
    if errors:
        raise ValidationError(errors)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "转为投诉")
        if c.kind == MessageKind.COMPLAINT.value:
            raise ValidationError(FieldError("kind", "类型", f"{c.number} 已经是投诉"))
        if ComplaintState(c.state).is_final:
            raise LockedError(f"{c.kind} {c.number} {already(c.state)}，不能再转为投诉；请新建投诉。")
        old_number, old_kind = c.number, c.kind
        now = ctx.now()
        clean = _CleanIntake(
            MessageKind.COMPLAINT,
            now,
            Channel(c.channel),
            c.complainant,
            c.anonymous,
            c.phone,
            c.customer_id,
            c.subject,
            c.content,
            clean_text(category),
            Severity(sev),
            c.special,
            c.reply_only,
        )
        role, handler, dep = _route(s, ctx, clean, policy, c.department_id, None)
        dl = deadlines(now, MessageKind.COMPLAINT, Severity(sev), policy, cal, special=c.special)
        c.kind, c.severity, c.category = MessageKind.COMPLAINT.value, sev, clean.category
        c.number = _number(s, MessageKind.COMPLAINT, policy, now)
        c.converted_from = old_number
        c.handler_role, c.handler_id, c.department_id = role.value, handler, dep
        c.first_reply_due, c.handling_due = dl.first_reply, dl.handling
        c.reply_due = reply_due_of(
            MessageKind.COMPLAINT,
            now,
            dl.handling,
            special=c.special,
            rules=load_complaint_rules(ctx),
            policy=policy,
            cal=cal,
        )
        c.state = ComplaintState.PENDING.value
        c.escalation_level, c.escalated_deadline = 0, None
        c.updated_at = now
        _refresh_deadline(c, policy)
        _event(
            s,
            ctx,
            c,
            "转为投诉",
            to_state=c.state,
            note=f"由{old_kind} {old_number} 转为投诉，负责人：{_user_name(s, handler)}",
        )
        audit(
            s,
            ctx,
            "转为投诉",
            "complaint",
            c.id,
            _label(c),
            old={"number": old_number, "kind": old_kind},
            new={"number": c.number, "kind": c.kind, "severity": sev},
        )
        s.flush()
        return _detail(s, ctx, c)


def reopen_linked(
    ctx: ServiceContext,
    complaint_id: int,
    *,
    content: str = "",
    received_at: datetime | str | None = None,
    channel: str = Channel.PHONE.value,
) -> ComplaintDetail:
    """The customer rejects the result of a closed complaint: a new complaint linked to the original."""
    with ctx.sessions() as s:
        c = _load(s, ctx, complaint_id)
        if c.state != ComplaintState.CLOSED.value or c.kind != MessageKind.COMPLAINT.value:
            raise ValidationError(FieldError("state", "状态", "只有已关闭的投诉才能因客户不认可而重新投诉"))
        draft = IntakeDraft(
            subject=f"（不认可处理结果）{c.subject}"[:200],
            received_at=received_at,
            channel=channel,
            complainant=c.complainant,
            anonymous=c.anonymous,
            phone=c.phone,
            customer_id=c.customer_id,
            content=clean_text(content) or f"客户不认可投诉 {c.number} 的处理结果。",
            category=c.category,
            severity=c.severity,
            department_id=c.department_id,
            linked_to_id=c.id,
        )
    return register(ctx, draft)
