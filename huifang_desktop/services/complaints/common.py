"""Helpers every complaint workflow step shares: parsing, visibility, loading, events, routing, moving state."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.complaint_numbers import month_width, pattern_width, with_width
from huifang_desktop.domain.complaints import (
    ComplaintPolicy,
    ComplaintState,
    Deadlines,
    MessageKind,
    Severity,
    TransitionFacts,
    check_transition,
    current_deadline,
    format_complaint_number,
    number_counter,
    number_pattern,
    pick_user,
    sequence_scope,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, reaches_level
from huifang_desktop.domain.validation import (
    already,
    clean_text,
    normalize_phone,
    optional_text,
)
from huifang_desktop.services.complaints.model import (
    REPLY_KINDS,
    REVIEW_PENDING,
    REVIEW_RETURNED,
    REVIEW_SIGNED,
)
from huifang_desktop.services.complaints.notices import _queue_feedback
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit, recent_changes
from huifang_desktop.services.errors import (
    ConflictError,
    LockedError,
    NotFound,
    PermissionDenied,
)
from huifang_desktop.services.policy import complaint_visibility
from huifang_desktop.storage.counters import next_serial
from huifang_desktop.storage.models import (
    Attachment,
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    Counter,
    User,
)

# --- helpers -----------------------------------------------------------------------------------------


def _parse_moment(
    raw: datetime | date | str | None, label: str, name: str, errors: list[FieldError]
) -> datetime | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, datetime):
        return raw.replace(microsecond=0, tzinfo=None)
    if isinstance(raw, date):
        return datetime.combine(raw, time(9, 0))
    text = clean_text(raw).replace("/", "-").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    errors.append(FieldError(name, label, f"“{raw}”不是有效的时间，请按 2026-11-24 09:30 的格式填写"))
    return None


def _phone(raw: str, errors: list[FieldError], *, label: str = "联系方式", name: str = "phone") -> str:
    if not clean_text(raw):
        return ""
    try:
        return normalize_phone(raw, label=label, field=name)
    except ValidationError as exc:
        errors += exc.errors
        return ""


def _text(raw: str, label: str, name: str, errors: list[FieldError], *, limit: int = 4000) -> str:
    try:
        return optional_text(raw, label=label, field=name, max_len=limit)
    except ValidationError as exc:
        errors += exc.errors
        return ""


def _choice(value: Any, options: Sequence[str], label: str, name: str, errors: list[FieldError]) -> str:
    text = clean_text(str(value or ""))
    if text not in options:
        errors.append(FieldError(name, label, f"“{text}”不是有效的选项（可选：{'、'.join(options)}）"))
    return text


def _load(
    s: Session, ctx: ServiceContext, complaint_id: int, *, for_update: bool = True, reading: bool = False
) -> Complaint:
    """The complaint, if the acting user sees it. ``reading``: to read it or record its closing visit, which
    the planned visitor may although the complaint is another department's (policy.complaint_visibility)."""
    c = s.get(Complaint, complaint_id)
    if c is None:
        raise NotFound(f"投诉 {complaint_id} 不存在。")
    if not _sees(s, ctx, c, reading=reading):
        raise PermissionDenied(f"投诉 {c.number} 属于其他部门，需经理授权才能查看。")
    return c


def _sees(s: Session, ctx: ServiceContext, c: Complaint, *, reading: bool = False) -> bool:
    """The complaint is within the acting user's visibility (``reading``: as :func:`_load`)."""
    cond = complaint_visibility(ctx, reading=reading, db=s)
    return (
        cond is None or s.execute(select(Complaint.id).where(Complaint.id == c.id, cond)).first() is not None
    )


def _check_version(
    c: Complaint, expected: int | None, s: Session | None = None, me: int | None = None
) -> None:
    if expected is not None and c.version != expected:
        what = recent_changes(s, "complaint", c.id, c.version - expected, me) if s is not None else ""
        raise ConflictError(
            f"投诉 {c.number} 已被其他人修改（版本 {expected} → {c.version}），您这次的操作未保存。"
            "请刷新后再操作。" + (f"\n对方的修改：\n{what}" if what else "")
        )


def _role(ctx: ServiceContext) -> Role:
    return ctx.user.role


def _check_can_work(ctx: ServiceContext, c: Complaint, what: str) -> None:
    """The handler, or a supervisor/manager, may work on a complaint; admins do not handle complaints."""
    if ctx.user is SYSTEM_USER:
        return
    ctx.require(Permission.EDIT_CUSTOMERS, what)
    if c.handler_id == ctx.user.id or ctx.may(Permission.WORK_FOR_OTHERS):
        return
    if c.handler_id is None and reaches_level(ctx.user.role, Role(c.handler_role)):
        return
    raise PermissionDenied(f"投诉 {c.number} 由其他人负责处理，您不能{what}；如需转交请联系主管。")


def _event(
    s: Session,
    ctx: ServiceContext,
    c: Complaint,
    action: str,
    *,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
) -> None:
    s.add(
        ComplaintEvent(
            complaint_id=c.id,
            at=ctx.now(),
            user_id=ctx.user.id or None,
            username=ctx.user.display_name or ctx.user.username,
            action=action,
            from_state=from_state,
            to_state=to_state,
            note=note,
        )
    )
    _queue_feedback(s, ctx, c, action, note)  # every step is reported back to the 首问责任人


def _label(c: Complaint) -> str:
    return f"{c.number} {c.subject}"[:200]


def _deadlines(c: Complaint) -> Deadlines:
    return Deadlines(c.first_reply_due, c.handling_due)


def _refresh_deadline(c: Complaint, policy: ComplaintPolicy) -> None:
    visit_due = datetime.combine(c.visit_due, policy.workday_end) if c.visit_due else None
    c.deadline = current_deadline(ComplaintState(c.state), _deadlines(c), visit_due)


def _pick_user(
    s: Session, role: Role, department_id: int | None, prefer: Sequence[int | None] = ()
) -> int | None:
    """An active user of ``role``: a preferred one first, then one in the department, then anyone."""
    rows = s.execute(
        select(User.id, User.department_id)
        .where(User.active.is_(True), User.role == role.value)
        .order_by(User.id)
    ).all()
    return pick_user([(r.id, r.department_id) for r in rows], department_id, prefer)


def _user_name(s: Session, user_id: int | None) -> str:
    if user_id is None:
        return ""
    return s.execute(select(User.display_name).where(User.id == user_id)).scalar() or ""


def _number(s: Session, kind: MessageKind, policy: ComplaintPolicy, when: datetime) -> str:
    pattern = number_pattern(kind, policy)
    counter = number_counter(kind, pattern, when.date())
    if sequence_scope(pattern, when.date()).startswith("month:"):
        pattern = with_width(pattern, _month_width(s, kind, pattern, when.date(), counter))
    return format_complaint_number(pattern, when.date(), next_serial(s, counter))


def _month_width(s: Session, kind: MessageKind, pattern: str, day: date, counter: str) -> int:
    """The serial width of a monthly sequence, fixed at the month's first number (kept as a counter row
    ``<counter>#width``) from the previous month's volume (:func:`month_width`). A month already under way
    when this rule came keeps the pattern's width, so its numbers do not change width mid-month."""
    key = f"{counter}#width"
    for _ in range(3):
        stored = s.execute(select(Counter.value).where(Counter.name == key)).scalar()
        if stored is not None:
            return int(stored)
        started = s.execute(select(Counter.value).where(Counter.name == counter)).scalar()
        previous = number_counter(kind, pattern, day.replace(day=1) - timedelta(days=1))
        count = s.execute(select(Counter.value).where(Counter.name == previous)).scalar() or 0
        width = pattern_width(pattern) if started else month_width(pattern_width(pattern), int(count))
        try:
            with s.begin_nested():
                s.add(Counter(name=key, value=width))
            return width
        except IntegrityError:  # another PC fixed it first: read theirs
            continue
    raise RuntimeError(f"could not fix the serial width of {counter!r}")


def _facts(s: Session, c: Complaint, **extra: Any) -> TransitionFacts:
    has_letter = s.execute(
        select(Attachment.id)
        .join(ComplaintAttachment, ComplaintAttachment.attachment_id == Attachment.id)
        .where(ComplaintAttachment.complaint_id == c.id, Attachment.kind.in_(sorted(REPLY_KINDS)))
    ).first()
    base: dict[str, Any] = {
        "anonymous": c.anonymous,
        "reply_only": c.reply_only,
        "reply_letter_attached": has_letter is not None,
        "closing_visit_satisfied": c.visit_satisfied,
        "handling_result": c.result,
    }
    base.update(extra)
    return TransitionFacts(**base)


def _actor_role(ctx: ServiceContext) -> Role:
    return Role.MANAGER if ctx.user is SYSTEM_USER else ctx.user.role


def _move(
    s: Session,
    ctx: ServiceContext,
    c: Complaint,
    target: ComplaintState,
    policy: ComplaintPolicy,
    *,
    action: str,
    note: str = "",
    facts: TransitionFacts | None = None,
) -> None:
    """Check (domain rules, level) and apply a state change with its event and audit row."""
    check_transition(
        ComplaintState(c.state),
        target,
        actor_role=_actor_role(ctx),
        severity=Severity(c.severity),
        facts=facts or _facts(s, c),
        policy=policy,
    )
    before = c.state
    c.state = target.value
    now = ctx.now()
    if target is ComplaintState.CLOSED:
        c.closed_at = now
        c.review_status = REVIEW_PENDING  # the closed complaint file goes to the supervisor's review (审阅)
    c.updated_at = now
    _refresh_deadline(c, policy)
    _event(s, ctx, c, action, from_state=before, to_state=c.state, note=note)
    audit(
        s, ctx, action, "complaint", c.id, _label(c), old={"state": before}, new={"state": c.state}, note=note
    )


def _guarded(fn: Any) -> Any:
    """Turn an optimistic-lock failure into a clear Chinese message (the wrapper keeps the step's name, module,
    docstring and signature)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StaleDataError:
            raise ConflictError("该投诉刚被其他人修改，请刷新后再操作。") from None

    return wrapper


def _check_unlocked(c: Complaint, what: str) -> None:
    """A signed complaint file (审阅签字) is locked until a supervisor reopens it; a closed or withdrawn one
    can be corrected only while its review returned it (退回, also after a reopen)."""
    if c.review_status == REVIEW_SIGNED:
        raise LockedError(f"投诉 {c.number} 已由主管签字，{what}；如需更正请主管撤回签字。")
    if ComplaintState(c.state).is_final and c.review_status != REVIEW_RETURNED:
        raise LockedError(f"投诉 {c.number} {already(c.state)}，{what}。")


def _require_complaint(c: Complaint, what: str) -> None:
    if c.kind != MessageKind.COMPLAINT.value:
        raise ValidationError(
            FieldError("kind", "类型", f"{c.kind}不走投诉流程，不能{what}：请直接答复，或先转为投诉")
        )


def _plain(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else value
