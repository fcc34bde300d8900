"""Complaint register (投诉登记, domain.md §7): intake, routing, deadlines, escalation, workflow, closing visit.

The rules are in :mod:`huifang_desktop.domain.complaints` (pure); this module applies them to the database.

* **Intake** (:func:`register`) numbers the complaint from a counter per number scope (``TS`` + date +
  sequence by default), so two PCs on one database never hand out the same number. Likely repeats are
  offered while typing (:func:`find_repeats`); a repeat is attached as another occurrence
  (:func:`add_occurrence`) instead of a second record.
* **Routing**: the severity picks the handler level (一般 → 客服专员, 重要 → 部门主管, 重大 → 公司经理) and the
  handler is a person of that level, preferably in the responsible department.
* **Deadlines** are working-day deadlines (same holiday calendar as the visits). ``Complaint.deadline`` always
  holds the deadline of the current state, so 逾期 is one indexed SQL condition.
* **Escalation** (:func:`escalate_overdue`, run at start): an overdue complaint goes one level up, once per
  missed deadline, audited, and the new handler sees a notice (:func:`notices`).
* **Workflow** 待受理 → 处理中 → 待回访 → 已关闭 (or 已撤销). Entering 待回访 plans the closing visit
  (``complaint:<id>#complaint_closed@<round>``) in the visit calendar when the complaint is linked to a
  customer file. Recording that visit (here, or in the calendar's 回访记录表) feeds the complaint through
  :func:`apply_closing_visit_in`: satisfied → 已关闭 (when the visitor has the level the severity asks),
  unsatisfied → back to 处理中 with the next visit already planned. Anonymous and reply-only complaints
  close with a reply letter (答复函/公开信) attached instead.
* **咨询 / 建议** use the same intake with their own reply deadline; a reply closes them, and either can be
  converted into a complaint (new TS number, the old one kept).

Every change is one transaction with its audit row and a :class:`ComplaintEvent` for the complaint's history.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.complaints import (
    OPEN_STATES,
    Channel,
    ComplaintPolicy,
    ComplaintState,
    Deadlines,
    ExistingComplaint,
    MessageKind,
    RepeatCandidate,
    Severity,
    TransitionFacts,
    check_transition,
    closing_outcome,
    closing_visit_due,
    closing_visit_role,
    current_deadline,
    deadlines,
    escalated_role,
    format_complaint_number,
    handler_role,
    is_overdue,
    likely_repeats,
    needs_chase,
    needs_closing_visit,
    sequence_scope,
    subject_similarity,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, business_roles, can, higher_level, reaches_level
from huifang_desktop.domain.schedule import plan_key
from huifang_desktop.domain.validation import (
    MAX_DB_ID,
    already,
    clean_text,
    format_phone,
    normalize_phone,
    optional_text,
    require_text,
)
from huifang_desktop.domain.visits import VisitMethod, VisitResult, VisitType
from huifang_desktop.exports.visits_xlsx import write_visit_ledger
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit, recent_changes
from huifang_desktop.services.errors import (
    ConflictError,
    LockedError,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from huifang_desktop.services.outputs import checked_target, period_text, write_failed
from huifang_desktop.services.policy import complaint_visibility, load_scale, work_calendar
from huifang_desktop.services.settings import (
    get_value,
    load_settings,
    set_value,
)
from huifang_desktop.storage.counters import next_serial
from huifang_desktop.storage.models import (
    Attachment,
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintOccurrence,
    Customer,
    Department,
    User,
    VisitPlan,
)

POLICY_KEY = "complaint_policy"
CLOSING_RULE = "complaint_closed"
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENT_KINDS: tuple[str, ...] = ("答复函", "公开信", "照片", "扫描件", "其他")
REPLY_KINDS = frozenset({"答复函", "公开信"})
REPLY_WAYS: tuple[str, ...] = ("电话", "当面", "书面", "短信", "邮件", "微信")
_KIND_PREFIX = {MessageKind.CONSULTATION: "ZX", MessageKind.SUGGESTION: "JY"}
_PLAN_KEY = re.compile(r"^complaint:(\d+)#")
_OPEN = tuple(s.value for s in OPEN_STATES)
REVIEW_PENDING, REVIEW_RETURNED, REVIEW_SIGNED = "待审阅", "退回", "已签字"  # Complaint.review_status


class ExportError(ServiceError):
    """The ledger could not be written (folder missing, no permission, disk full, file open in Excel)."""


# --- settings ----------------------------------------------------------------------------------------

def load_policy(ctx: ServiceContext) -> ComplaintPolicy:
    data = get_value(ctx, POLICY_KEY)
    return ComplaintPolicy() if not data else ComplaintPolicy.from_dict(data)


def save_policy(ctx: ServiceContext, policy: ComplaintPolicy) -> None:
    """Store the office's complaint rules (supervisor/admin); a bad value raises ValidationError."""
    ComplaintPolicy.from_dict(policy.to_dict())  # validates
    set_value(ctx, POLICY_KEY, policy.to_dict(), what="投诉规则")


# --- what the UI sends and gets ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IntakeDraft:
    """The intake form (投诉登记). Strings are accepted for the time (``2026-11-24 09:30``)."""

    subject: str
    kind: str = MessageKind.COMPLAINT.value
    received_at: datetime | str | None = None  # default: now
    channel: str = Channel.PHONE.value
    complainant: str = ""
    anonymous: bool = False
    phone: str = ""
    customer_id: int | None = None
    content: str = ""
    category: str = ""
    severity: str = Severity.NORMAL.value
    special: bool = False  # 特殊情况: the longer handling limit
    reply_only: bool = False  # 上级只要求书面答复
    department_id: int | None = None  # default: the customer's or the clerk's department
    handler_id: int | None = None  # default: chosen by the severity
    linked_to_id: int | None = None  # a customer rejecting the result of this complaint


@dataclass(frozen=True, slots=True)
class HandlingDraft:
    investigation: str = ""  # 调查情况
    cause: str = ""  # 原因
    measures: str = ""  # 处理措施
    result: str = ""  # 处理结果
    replied_at: datetime | str | None = None  # 答复客户时间
    reply_way: str = ""  # 答复方式
    reply_text: str = ""


@dataclass(frozen=True, slots=True)
class ClosingVisitDraft:
    """The closing visit (结案回访) as the complaint tab records it."""

    result: str = VisitResult.SUCCESS.value
    satisfaction: str = ""
    method: str = VisitMethod.PHONE.value
    visited_at: datetime | str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    note: str = ""  # 回访内容 / 客户意见
    customer_signed: bool = False


@dataclass(frozen=True, slots=True)
class ComplaintFilter:
    text: str = ""
    states: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    handler_id: int | None = None
    mine: bool = False  # handled by the acting user
    overdue_only: bool = False
    start: date | None = None  # received on or after
    end: date | None = None  # received on or before
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    id: int
    number: str
    kind: str
    received_at: datetime
    channel: str
    complainant: str
    anonymous: bool
    phone: str  # formatted
    customer_id: int | None
    customer_name: str
    subject: str
    category: str
    severity: str
    state: str
    handler_id: int | None
    handler: str
    department: str
    deadline: datetime | None
    overdue: bool
    escalation_level: int
    occurrences: int
    satisfaction: str
    closed_at: datetime | None
    chase_count: int


@dataclass(frozen=True, slots=True)
class OccurrenceRow:
    id: int
    received_at: datetime
    channel: str
    complainant: str
    phone: str
    received_by: str
    note: str


@dataclass(frozen=True, slots=True)
class EventRow:
    at: datetime
    user: str
    action: str
    from_state: str
    to_state: str
    note: str


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: int
    name: str
    kind: str
    size: int
    created_at: datetime
    shared: int  # number of complaints it is attached to (a 公开信 answers many)


@dataclass(frozen=True, slots=True)
class ComplaintDetail:
    row: ComplaintRow
    content: str
    special: bool
    reply_only: bool
    department_id: int | None
    handler_role: str
    first_reply_due: datetime
    handling_due: datetime
    accepted_at: datetime | None
    investigation: str
    cause: str
    measures: str
    result: str
    replied_at: datetime | None
    reply_way: str
    reply_text: str
    handled_at: datetime | None
    visit_round: int
    visit_plan_id: int | None
    visit_due: date | None
    visit_record_id: int | None
    visited_at: datetime | None
    visit_satisfied: bool | None
    visit_note: str
    withdraw_reason: str
    linked_to_id: int | None
    linked_to_number: str
    converted_from: str
    version: int
    occurrences: tuple[OccurrenceRow, ...]
    events: tuple[EventRow, ...]
    attachments: tuple[AttachmentRow, ...]
    actions: frozenset[str]  # what the acting user may do now: accept/handle/finish/visit/close/withdraw/…

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def number(self) -> str:
        return self.row.number

    @property
    def state(self) -> str:
        return self.row.state


@dataclass(frozen=True, slots=True)
class RepeatRow:
    id: int
    number: str
    received_at: datetime
    subject: str
    state: str
    complainant: str
    similarity: float


@dataclass(frozen=True, slots=True)
class EscalationResult:
    escalated: tuple[tuple[str, str, str], ...]  # (number, from role label, to handler name)


@dataclass(frozen=True, slots=True)
class Notices:
    escalated_to_me: int
    overdue_mine: int
    open_mine: int


# --- helpers -----------------------------------------------------------------------------------------

def _parse_moment(raw: datetime | date | str | None, label: str, name: str, errors: list[FieldError]
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


def _load(s: Session, ctx: ServiceContext, complaint_id: int, *, for_update: bool = True) -> Complaint:
    c = s.get(Complaint, complaint_id)
    if c is None:
        raise NotFound(f"投诉 {complaint_id} 不存在。")
    cond = complaint_visibility(ctx)
    if cond is not None and s.execute(select(Complaint.id).where(Complaint.id == c.id, cond)).first() is None:
        raise PermissionDenied(f"投诉 {c.number} 属于其他部门，需经理授权才能查看。")
    return c


def _check_version(c: Complaint, expected: int | None, s: Session | None = None, me: int | None = None
                   ) -> None:
    if expected is not None and c.version != expected:
        what = recent_changes(s, "complaint", c.id, c.version - expected, me) if s is not None else ""
        raise ConflictError(f"投诉 {c.number} 已被其他人修改（版本 {expected} → {c.version}），您这次的操作未保存。"
                            "请刷新后再操作。" + (f"\n对方的修改：\n{what}" if what else ""))


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


def _event(s: Session, ctx: ServiceContext, c: Complaint, action: str, *, from_state: str = "",
           to_state: str = "", note: str = "") -> None:
    s.add(ComplaintEvent(complaint_id=c.id, at=ctx.now(), user_id=ctx.user.id or None,
                         username=ctx.user.display_name or ctx.user.username, action=action,
                         from_state=from_state, to_state=to_state, note=note))


def _label(c: Complaint) -> str:
    return f"{c.number} {c.subject}"[:200]


def _deadlines(c: Complaint) -> Deadlines:
    return Deadlines(c.first_reply_due, c.handling_due)


def _refresh_deadline(c: Complaint, policy: ComplaintPolicy) -> None:
    visit_due = datetime.combine(c.visit_due, policy.workday_end) if c.visit_due else None
    c.deadline = current_deadline(ComplaintState(c.state), _deadlines(c), visit_due)


def _pick_user(s: Session, role: Role, department_id: int | None, prefer: Sequence[int | None] = ()
               ) -> int | None:
    """An active user of ``role``: a preferred one first, then one in the department, then anyone."""
    rows = s.execute(select(User.id, User.role, User.department_id)
                     .where(User.active.is_(True), User.role == role.value).order_by(User.id)).all()
    ids = [r[0] for r in rows]
    for uid in prefer:
        if uid is not None and uid in ids:
            return uid
    for uid, _r, dep in rows:
        if dep == department_id:
            return uid
    return ids[0] if ids else None


def _user_name(s: Session, user_id: int | None) -> str:
    if user_id is None:
        return ""
    return s.execute(select(User.display_name).where(User.id == user_id)).scalar() or ""


def _number(s: Session, kind: MessageKind, policy: ComplaintPolicy, when: datetime) -> str:
    pattern = policy.number_pattern
    if kind in _KIND_PREFIX:
        pattern = _KIND_PREFIX[kind] + "{yyyymmdd}-{seq:03}"
    scope = f"{kind.value}:{sequence_scope(pattern, when.date())}"
    return format_complaint_number(pattern, when.date(), next_serial(s, f"complaint:{scope}"))


# --- reading -----------------------------------------------------------------------------------------

def _row_select() -> Any:
    handler = aliased(User)
    return (select(Complaint.id, Complaint.number, Complaint.kind, Complaint.received_at, Complaint.channel,
                   Complaint.complainant, Complaint.anonymous, Complaint.phone, Complaint.customer_id,
                   Customer.name, Complaint.subject, Complaint.category, Complaint.severity, Complaint.state,
                   Complaint.handler_id, handler.display_name, Department.name, Complaint.deadline,
                   Complaint.escalation_level, Complaint.occurrences, Complaint.satisfaction,
                   Complaint.closed_at, Complaint.chase_count)
            .outerjoin(Customer, Customer.id == Complaint.customer_id)
            .outerjoin(handler, handler.id == Complaint.handler_id)
            .outerjoin(Department, Department.id == Complaint.department_id))


def _to_row(r: Any, now: datetime) -> ComplaintRow:
    overdue = is_overdue(ComplaintState(r[13]), r[17], now)
    return ComplaintRow(r[0], r[1], r[2], r[3], r[4], "匿名" if r[6] else r[5], bool(r[6]), format_phone(r[7]),
                        r[8], r[9] or "", r[10], r[11], r[12], r[13], r[14], r[15] or "", r[16] or "", r[17],
                        overdue, r[18], r[19], r[20], r[21], r[22])


def _filtered(ctx: ServiceContext, q: Any, f: ComplaintFilter, now: datetime) -> Any:
    cond = complaint_visibility(ctx)
    if cond is not None:
        q = q.where(cond)
    if f.states:
        q = q.where(Complaint.state.in_(sorted(f.states)))
    if f.severities:
        q = q.where(Complaint.severity.in_(sorted(f.severities)))
    if f.categories:
        q = q.where(Complaint.category.in_(sorted(f.categories)))
    if f.kinds:
        q = q.where(Complaint.kind.in_(sorted(f.kinds)))
    if f.mine:
        q = q.where(Complaint.handler_id == (ctx.user.id or -1))
    elif f.handler_id is not None:
        q = q.where(Complaint.handler_id == f.handler_id)
    if f.customer_id is not None:
        q = q.where(Complaint.customer_id == f.customer_id)
    if f.overdue_only:
        q = q.where(Complaint.state.in_(_OPEN), Complaint.deadline < now)
    if f.start is not None:
        q = q.where(Complaint.received_at >= datetime.combine(f.start, time.min))
    if f.end is not None:
        q = q.where(Complaint.received_at < datetime.combine(f.end + timedelta(days=1), time.min))
    text = clean_text(f.text)
    if text:
        like = f"%{text}%"
        digits = "".join(ch for ch in text if ch.isdigit())
        conds = [Complaint.number.like(like), Complaint.subject.like(like), Complaint.complainant.like(like),
                 Complaint.content.like(like)]
        if len(digits) >= 4:
            conds.append(Complaint.phone.like(f"%{digits}%"))
        q = q.where(or_(*conds))
    return q


def list_complaints(ctx: ServiceContext, f: ComplaintFilter = ComplaintFilter(), *, limit: int = 500,
                    offset: int = 0) -> list[ComplaintRow]:
    """The 投诉台账 view: filtered in SQL, overdue first (then by deadline), a page at a time."""
    now = ctx.now()
    # Two index-ordered reads instead of one sort over every row: open complaints by deadline (overdue ones
    # have the earliest deadlines, so they come first), then closed/withdrawn ones newest first.
    is_open = Complaint.state.in_(_OPEN)
    open_q = _filtered(ctx, _row_select(), f, now).where(is_open).order_by(Complaint.deadline, Complaint.id)
    done_q = (_filtered(ctx, _row_select(), f, now).where(~is_open)
              .order_by(Complaint.received_at.desc(), Complaint.id.desc()))
    count_open = _filtered(ctx, select(func.count(Complaint.id)), f, now).where(is_open)
    with ctx.sessions() as s:
        n_open = int(s.execute(count_open).scalar() or 0)
        rows = []
        if offset < n_open:
            rows += s.execute(open_q.limit(limit).offset(offset)).all()
        rest = limit - len(rows)
        only_open = f.overdue_only or (bool(f.states) and set(f.states) <= set(_OPEN))
        if rest > 0 and not only_open:
            rows += s.execute(done_q.limit(rest).offset(max(0, offset - n_open))).all()
        return [_to_row(r, now) for r in rows]


def count_complaints(ctx: ServiceContext, f: ComplaintFilter = ComplaintFilter()) -> int:
    now = ctx.now()
    q = _filtered(ctx, select(func.count(Complaint.id)), f, now)
    with ctx.sessions() as s:
        return int(s.execute(q).scalar() or 0)


def state_counts(ctx: ServiceContext, f: ComplaintFilter = ComplaintFilter()) -> dict[str, int]:
    """Counts by state for the filter (ignoring its state choice) plus ``"逾期"``, for the top of the tab."""
    now = ctx.now()
    base = replace(f, states=frozenset(), overdue_only=False)
    q = _filtered(ctx, select(Complaint.state, func.count(Complaint.id)), base, now).group_by(Complaint.state)
    overdue_q = _filtered(ctx, select(func.count(Complaint.id)), replace(base, overdue_only=True), now)
    with ctx.sessions() as s:
        counts = {state.value: 0 for state in ComplaintState}
        counts.update({state: int(n) for state, n in s.execute(q)})
        counts["逾期"] = int(s.execute(overdue_q).scalar() or 0)
    return counts


def get_complaint(ctx: ServiceContext, complaint_id: int) -> ComplaintDetail:
    with ctx.sessions() as s:
        c = _load(s, ctx, complaint_id)
        return _detail(s, ctx, c)


def _detail(s: Session, ctx: ServiceContext, c: Complaint) -> ComplaintDetail:
    now = ctx.now()
    r = s.execute(_row_select().where(Complaint.id == c.id)).one()
    occurrences = tuple(OccurrenceRow(o.id, o.received_at, o.channel, o.complainant, format_phone(o.phone),
                                      o.received_by, o.note)
                        for o in s.execute(select(ComplaintOccurrence).where(
                            ComplaintOccurrence.complaint_id == c.id).order_by(
                            ComplaintOccurrence.received_at, ComplaintOccurrence.id)).scalars())
    events = tuple(EventRow(e.at, e.username, e.action, e.from_state, e.to_state, e.note)
                   for e in s.execute(select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id)
                                      .order_by(ComplaintEvent.at, ComplaintEvent.id)).scalars())
    shared = (select(ComplaintAttachment.attachment_id, func.count().label("n"))
              .group_by(ComplaintAttachment.attachment_id).subquery())
    attachments = tuple(
        AttachmentRow(a.id, a.name, a.kind, a.size, a.created_at, int(n))
        for a, n in s.execute(select(Attachment, shared.c.n)
                              .join(ComplaintAttachment, ComplaintAttachment.attachment_id == Attachment.id)
                              .join(shared, shared.c.attachment_id == Attachment.id)
                              .where(ComplaintAttachment.complaint_id == c.id).order_by(Attachment.id)))
    linked_number = ""
    if c.linked_to_id:
        linked_number = s.execute(select(Complaint.number).where(Complaint.id == c.linked_to_id)).scalar() or ""
    return ComplaintDetail(
        _to_row(r, now), c.content, c.special, c.reply_only, c.department_id, c.handler_role,
        c.first_reply_due, c.handling_due, c.accepted_at, c.investigation, c.cause, c.measures, c.result,
        c.replied_at, c.reply_way, c.reply_text, c.handled_at, c.visit_round, c.visit_plan_id, c.visit_due,
        c.visit_record_id, c.visited_at, c.visit_satisfied, c.visit_note, c.withdraw_reason, c.linked_to_id,
        linked_number, c.converted_from, c.version, occurrences, events, attachments,
        _actions(ctx, c, now, any(a.kind in REPLY_KINDS for a in attachments), load_policy(ctx)))


def _actions(ctx: ServiceContext, c: Complaint, now: datetime, has_reply_letter: bool, policy: ComplaintPolicy
             ) -> frozenset[str]:
    """What the acting user may do now (the UI enables buttons from this; the services check again)."""
    try:
        _check_can_work(ctx, c, "处理")
    except (PermissionDenied, ServiceError):
        worker = False
    else:
        worker = True
    state, kind = ComplaintState(c.state), MessageKind(c.kind)
    out: set[str] = set()
    enough = reaches_level(_actor_role(ctx), handler_role(Severity(c.severity), policy))
    if state.is_open and worker:
        out.add("edit")
        if kind is not MessageKind.COMPLAINT:
            out |= {"reply", "convert"}
        elif state is ComplaintState.PENDING:
            out.add("accept")
        elif state is ComplaintState.IN_PROGRESS:
            out.add("handle")
            if needs_closing_visit(c.anonymous, c.reply_only):
                out.add("finish")
            elif has_reply_letter and enough:
                out.add("close")
        elif state is ComplaintState.AWAITING_VISIT:
            out |= {"handle", "visit"}
            if c.visit_satisfied and enough:
                out.add("close")
        if enough or state is ComplaintState.PENDING:
            out.add("withdraw")
        out.add("attach")
    if state.is_open and needs_chase(state, c.deadline, now) and ctx.may(Permission.SIGN_OFF):  # as chase()
        out.add("chase")
    if state is ComplaintState.CLOSED and kind is MessageKind.COMPLAINT and can(ctx.user.role,
                                                                                Permission.EDIT_CUSTOMERS):
        out.add("reopen_linked")
    if state.is_open and can(ctx.user.role, Permission.REASSIGN):
        out.add("reassign")
    return frozenset(out)


def find_repeats(ctx: ServiceContext, *, customer_id: int | None = None, phone: str = "", subject: str = "",
                 exclude_id: int | None = None) -> list[RepeatRow]:
    """Likely repeats of what is being typed: same customer or phone, a similar subject, open or received
    in the repeat window (90 days). Runs on every keystroke pause, so it reads a handful of rows only."""
    policy = load_policy(ctx)
    errors: list[FieldError] = []
    digits = _phone(phone, errors) if phone else ""
    if customer_id is None and not digits:
        return []
    if not clean_text(subject):
        return []
    since = datetime.combine(ctx.today() - timedelta(days=policy.repeat_window_days), time.min)
    who = []
    if customer_id is not None:
        who.append(Complaint.customer_id == customer_id)
    if digits:
        who.append(Complaint.phone == digits)
    q = (select(Complaint.id, Complaint.number, Complaint.received_at, Complaint.subject, Complaint.state,
                Complaint.complainant, Complaint.customer_id, Complaint.phone, Complaint.anonymous)
         .where(Complaint.kind == MessageKind.COMPLAINT.value, or_(*who),
                or_(Complaint.received_at >= since, Complaint.state.in_(_OPEN)))
         .order_by(Complaint.received_at.desc()).limit(200))
    if exclude_id is not None:
        q = q.where(Complaint.id != exclude_id)
    cond = complaint_visibility(ctx)
    if cond is not None:
        q = q.where(cond)
    with ctx.sessions() as s:
        rows = s.execute(q).all()
    candidate = RepeatCandidate(customer_id, digits, subject)
    existing = {r[0]: ExistingComplaint(r[6], r[7], r[3], r[2].date(), ComplaintState(r[4])) for r in rows}
    hits = likely_repeats(candidate, existing.values(), policy, ctx.now())
    by_obj = {id(e): cid for cid, e in existing.items()}
    info = {r[0]: r for r in rows}
    out = []
    for e in hits:
        r = info[by_obj[id(e)]]
        out.append(RepeatRow(r[0], r[1], r[2], r[3], r[4], "匿名" if r[8] else r[5],
                             round(subject_similarity(subject, r[3]), 2)))
    return out


def find_id(ctx: ServiceContext, number_or_id: str | int) -> int:
    """A complaint's id from its number (TS20261124-001) or its id; NotFound names what was asked for. A
    complaint the acting user may not see is not found either (the same message: no probing numbers)."""
    text = clean_text(str(number_or_id))
    cond = complaint_visibility(ctx)
    scoped = (lambda q: q) if cond is None else (lambda q: q.where(cond))
    with ctx.sessions() as s:
        found = s.execute(scoped(select(Complaint.id).where(Complaint.number == text))).scalar()
        if found is None and text.isdigit() and int(text) <= MAX_DB_ID:  # a larger number is no id
            found = s.execute(scoped(select(Complaint.id).where(Complaint.id == int(text)))).scalar()
    if found is None:
        raise NotFound(f"没有编号为 {text} 的投诉。")
    return int(found)


def history(ctx: ServiceContext, complaint_id: int) -> list[EventRow]:
    return list(get_complaint(ctx, complaint_id).events)


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


def _validate_intake(s: Session, ctx: ServiceContext, d: IntakeDraft, policy: ComplaintPolicy) -> _CleanIntake:
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
    return _CleanIntake(MessageKind(kind), received, Channel(channel), complainant, bool(d.anonymous), phone,
                        d.customer_id, subject, content, category, Severity(severity), bool(d.special),
                        bool(d.reply_only))


def _route(s: Session, ctx: ServiceContext, clean: _CleanIntake, policy: ComplaintPolicy,
           department_id: int | None, handler_id: int | None) -> tuple[Role, int | None, int | None]:
    role = handler_role(clean.severity, policy)
    customer = s.get(Customer, clean.customer_id) if clean.customer_id else None
    dep = department_id or (customer.department_id if customer else None) or ctx.user.department_id
    if handler_id is not None:
        u = s.get(User, handler_id)
        if u is None or not u.active:
            raise ValidationError(FieldError("handler_id", "负责人", "所选负责人不存在或已停用"))
        if not reaches_level(Role(u.role), role):
            raise ValidationError(FieldError(
                "handler_id", "负责人", f"{clean.severity}投诉须由{role.label}或更高级别负责，{u.display_name}是"
                                      f"{Role(u.role).label}"))
        return role, handler_id, dep
    prefer: list[int | None] = []
    if role is Role.CLERK:
        prefer = [customer.owner_id if customer else None, ctx.user.id or None]
    elif ctx.user.role is role:
        prefer = [ctx.user.id]
    return role, _pick_user(s, role, dep, prefer), dep


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
        dl = deadlines(clean.received_at, clean.kind, clean.severity, policy, cal, special=clean.special)
        now = ctx.now()
        c = Complaint(
            number=_number(s, clean.kind, policy, clean.received_at), kind=clean.kind.value,
            received_at=clean.received_at, channel=clean.channel.value, complainant=clean.complainant,
            anonymous=clean.anonymous, phone=clean.phone, customer_id=clean.customer_id, subject=clean.subject,
            content=clean.content, category=clean.category, severity=clean.severity.value,
            special=clean.special, reply_only=clean.reply_only, department_id=dep, handler_id=handler,
            handler_role=role.value, state=ComplaintState.PENDING.value, first_reply_due=dl.first_reply,
            handling_due=dl.handling, deadline=dl.first_reply, investigation="", cause="", measures="",
            result="", reply_way="", reply_text="", visit_round=0, satisfaction="", visit_note="",
            withdraw_reason="", escalation_level=0, escalation_seen=handler == (ctx.user.id or None),
            chase_count=0, linked_to_id=linked.id if linked else None, converted_from="", occurrences=1,
            created_by_id=ctx.user.id or None, created_at=now, updated_at=now, review_status="",
            supervisor_comment="", content_hash="", revision=0)
        s.add(c)
        s.flush()
        s.add(ComplaintOccurrence(complaint_id=c.id, received_at=clean.received_at, channel=clean.channel.value,
                                  complainant=clean.complainant, phone=clean.phone,
                                  received_by=ctx.user.display_name, note="", created_by_id=ctx.user.id or None,
                                  created_at=now))
        handler_name = _user_name(s, handler)
        note = f"负责人：{handler_name or '（未指定）'}（{role.label}），处理期限 {dl.handling:%Y-%m-%d %H:%M}"
        if linked is not None:
            note += f"；客户不认可 {linked.number} 的处理结果"
            _event(s, ctx, linked, "客户不认可", note=f"新投诉 {c.number}")
        _event(s, ctx, c, f"登记{clean.kind.value}", to_state=c.state, note=note)
        audit(s, ctx, f"登记{clean.kind.value}", "complaint", c.id, _label(c),
              new={"number": c.number, "severity": c.severity, "handler": handler_name,
                   "deadline": dl.handling.isoformat(sep=" ")})
        s.flush()
        return _detail(s, ctx, c)


def add_occurrence(ctx: ServiceContext, complaint_id: int, *, received_at: datetime | str | None = None,
                   channel: str = Channel.PHONE.value, complainant: str = "", phone: str = "",
                   received_by: str = "", note: str = "") -> ComplaintDetail:
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
            raise ValidationError(FieldError(
                "complaint", "投诉", f"投诉 {c.number} {already(c.state)}，不能再附加；请新建投诉并关联原投诉"))
        s.add(ComplaintOccurrence(complaint_id=c.id, received_at=when, channel=ch, complainant=who, phone=digits,
                                  received_by=by or ctx.user.display_name, note=text,
                                  created_by_id=ctx.user.id or None, created_at=ctx.now()))
        c.occurrences += 1
        c.updated_at = ctx.now()
        _event(s, ctx, c, "重复投诉", note=f"第 {c.occurrences} 次，{ch}，{when:%Y-%m-%d %H:%M}" + (f"：{text}" if text else ""))
        audit(s, ctx, "登记重复投诉", "complaint", c.id, _label(c),
              new={"occurrence": c.occurrences, "channel": ch, "received_at": when.isoformat(sep=" ")})
        s.flush()
        return _detail(s, ctx, c)


# --- workflow ----------------------------------------------------------------------------------------

def _facts(s: Session, c: Complaint, **extra: Any) -> TransitionFacts:
    has_letter = s.execute(
        select(Attachment.id).join(ComplaintAttachment, ComplaintAttachment.attachment_id == Attachment.id)
        .where(ComplaintAttachment.complaint_id == c.id, Attachment.kind.in_(sorted(REPLY_KINDS)))).first()
    base: dict[str, Any] = {"anonymous": c.anonymous, "reply_only": c.reply_only,
                            "reply_letter_attached": has_letter is not None,
                            "closing_visit_satisfied": c.visit_satisfied, "handling_result": c.result}
    base.update(extra)
    return TransitionFacts(**base)


def _actor_role(ctx: ServiceContext) -> Role:
    return Role.MANAGER if ctx.user is SYSTEM_USER else ctx.user.role


def _move(s: Session, ctx: ServiceContext, c: Complaint, target: ComplaintState, policy: ComplaintPolicy, *,
          action: str, note: str = "", facts: TransitionFacts | None = None) -> None:
    """Check (domain rules, level) and apply a state change with its event and audit row."""
    check_transition(ComplaintState(c.state), target, actor_role=_actor_role(ctx),
                     severity=Severity(c.severity), facts=facts or _facts(s, c), policy=policy)
    before = c.state
    c.state = target.value
    now = ctx.now()
    if target is ComplaintState.CLOSED:
        c.closed_at = now
        c.review_status = REVIEW_PENDING  # the closed complaint file goes to the supervisor's review (审阅)
    c.updated_at = now
    _refresh_deadline(c, policy)
    _event(s, ctx, c, action, from_state=before, to_state=c.state, note=note)
    audit(s, ctx, action, "complaint", c.id, _label(c), old={"state": before}, new={"state": c.state},
          note=note)


def _guarded(fn: Any) -> Any:
    """Turn an optimistic-lock failure into a clear Chinese message."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StaleDataError:
            raise ConflictError("该投诉刚被其他人修改，请刷新后再操作。") from None
    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn  # type: ignore[attr-defined]
    return wrapper


@_guarded
def accept(ctx: ServiceContext, complaint_id: int, expected_version: int | None = None) -> ComplaintDetail:
    """待受理 → 处理中: the handler has taken the complaint on (the handling deadline applies from now)."""
    policy = load_policy(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "受理")
        _require_complaint(c, "受理")
        c.accepted_at = ctx.now()
        if c.handler_id is None and ctx.user.id and reaches_level(ctx.user.role, Role(c.handler_role)):
            c.handler_id = ctx.user.id
        _move(s, ctx, c, ComplaintState.IN_PROGRESS, policy, action="受理")
        s.flush()
        return _detail(s, ctx, c)


def _check_unlocked(c: Complaint, what: str) -> None:
    """A signed complaint file (审阅签字) is locked until a supervisor reopens it; a closed or withdrawn one
    can be corrected only while its review returned it (退回, also after a reopen)."""
    if c.review_status == REVIEW_SIGNED:
        raise LockedError(f"投诉 {c.number} 已由主管签字，{what}；如需更正请主管撤回签字。")
    if ComplaintState(c.state).is_final and c.review_status != REVIEW_RETURNED:
        raise LockedError(f"投诉 {c.number} {already(c.state)}，{what}。")


def _require_complaint(c: Complaint, what: str) -> None:
    if c.kind != MessageKind.COMPLAINT.value:
        raise ValidationError(FieldError("kind", "类型", f"{c.kind}不走投诉流程，不能{what}：请直接答复，或先转为投诉"))


@_guarded
def save_handling(ctx: ServiceContext, complaint_id: int, draft: HandlingDraft,
                  expected_version: int | None = None) -> ComplaintDetail:
    """Record investigation, cause, measures, result and the reply to the customer (time and way)."""
    errors: list[FieldError] = []
    texts = {name: _text(getattr(draft, name), label, name, errors)
             for name, label in (("investigation", "调查情况"), ("cause", "原因"), ("measures", "处理措施"),
                                 ("result", "处理结果"), ("reply_text", "答复内容"))}
    replied = _parse_moment(draft.replied_at, "答复时间", "replied_at", errors)
    way = clean_text(draft.reply_way)
    if way and way not in REPLY_WAYS:
        errors.append(FieldError("reply_way", "答复方式", f"“{way}”不是有效的选项（可选：{'、'.join(REPLY_WAYS)}）"))
    if replied is not None and not way:
        errors.append(FieldError("reply_way", "答复方式", "填写了答复时间，请选择答复方式"))
    if way and replied is None:
        errors.append(FieldError("replied_at", "答复时间", "选择了答复方式，请填写答复时间"))
    if replied is not None and replied > ctx.now() + timedelta(minutes=5):
        errors.append(FieldError("replied_at", "答复时间", "不能晚于现在"))
    if errors:
        raise ValidationError(errors)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "填写处理情况")
        _check_unlocked(c, "处理情况不能再修改")
        if replied is not None and replied < c.received_at:
            raise ValidationError(FieldError("replied_at", "答复时间", "不能早于受理时间"))
        before = {k: getattr(c, k) for k in (*texts, "replied_at", "reply_way")}
        for k, v in texts.items():
            setattr(c, k, v)
        c.replied_at, c.reply_way = replied, way
        after = {k: getattr(c, k) for k in before}
        changed = [k for k in after if after[k] != before[k]]
        if not changed:
            return _detail(s, ctx, c)
        c.updated_at = ctx.now()
        if ComplaintState(c.state) is ComplaintState.PENDING and c.kind == MessageKind.COMPLAINT.value:
            c.accepted_at = ctx.now()  # writing down the handling takes the complaint on
            _move(s, ctx, c, ComplaintState.IN_PROGRESS, load_policy(ctx), action="受理")
        labels = {"investigation": "调查情况", "cause": "原因", "measures": "处理措施", "result": "处理结果",
                  "reply_text": "答复内容", "replied_at": "答复时间", "reply_way": "答复方式"}
        if "replied_at" in changed and replied is not None:
            _event(s, ctx, c, "答复客户", note=f"{replied:%Y-%m-%d %H:%M} {way}")
        _event(s, ctx, c, "处理记录", note="修改：" + "、".join(labels[k] for k in changed))
        audit(s, ctx, "填写处理情况", "complaint", c.id, _label(c),
              old={k: _plain(before[k]) for k in changed}, new={k: _plain(after[k]) for k in changed})
        s.flush()
        return _detail(s, ctx, c)


def _plain(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else value


@_guarded
def finish_handling(ctx: ServiceContext, complaint_id: int, expected_version: int | None = None
                    ) -> ComplaintDetail:
    """处理中 → 待回访: the handling is done; the closing visit is planned (within 3 days, at the level the
    severity asks). A closing visit still pending from an unsatisfied round is re-dated, not duplicated."""
    policy = load_policy(ctx)
    cal = work_calendar(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "办结")
        _require_complaint(c, "办结")
        now = ctx.now()
        due = closing_visit_due(now, policy, cal)
        check_transition(ComplaintState(c.state), ComplaintState.AWAITING_VISIT, actor_role=_actor_role(ctx),
                         severity=Severity(c.severity), facts=_facts(s, c), policy=policy)
        c.handled_at = now
        c.visit_due = due
        c.visit_satisfied, c.visited_at, c.satisfaction = None, None, ""
        c.visit_round += 1
        plan = _plan_closing_visit(s, ctx, c, policy, due)
        note = f"结案回访 {due:%Y-%m-%d} 前"
        if plan is not None:
            note += f"，回访人：{_user_name(s, plan.owner_id)}"
        elif c.customer_id is None:
            note += "（投诉人无客户档案，回访在投诉处理表中登记）"
        _move(s, ctx, c, ComplaintState.AWAITING_VISIT, policy, action="办结转回访", note=note)
        s.flush()
        return _detail(s, ctx, c)


def _plan_closing_visit(s: Session, ctx: ServiceContext, c: Complaint, policy: ComplaintPolicy, due: date
                        ) -> VisitPlan | None:
    if c.customer_id is None:
        c.visit_plan_id = None
        return None
    role = closing_visit_role(Severity(c.severity), policy)
    handler_role_now = Role(c.handler_role)
    owner = c.handler_id if c.handler_id and reaches_level(handler_role_now, role) else None
    if owner is None:
        customer = s.get(Customer, c.customer_id)
        owner = _pick_user(s, role, c.department_id, [customer.owner_id if customer else None])
    existing = s.get(VisitPlan, c.visit_plan_id) if c.visit_plan_id else None
    if existing is not None and existing.state == "待回访":
        old_due = existing.due
        existing.due, existing.earliest, existing.owner_id, existing.manual = due, min(existing.earliest, due), \
            owner, True
        audit(s, ctx, "调整回访计划", "visit_plan", existing.id, c.number,
              old={"due": old_due.isoformat()}, new={"due": due.isoformat(), "来源": "投诉结案回访"})
        return existing
    key = plan_key(f"complaint:{c.id}", CLOSING_RULE, c.visit_round)
    plan = VisitPlan(customer_id=c.customer_id, source_key=key, rule_key=CLOSING_RULE,
                     visit_type=VisitType.COMPLAINT.value, method=VisitMethod.PHONE.value,
                     earliest=ctx.today(), due=due, owner_id=owner, attempt=1, state="待回访", cancel_reason="",
                     manual=False, created_at=ctx.now())
    s.add(plan)
    s.flush()
    c.visit_plan_id = plan.id
    audit(s, ctx, "生成回访计划", "visit_plan", plan.id, c.number,
          new={"来源": key, "due": due.isoformat(), "visitor": _user_name(s, owner)})
    return plan


def complaint_id_for_plan(source_key: str) -> int | None:
    m = _PLAN_KEY.match(source_key or "")
    return int(m.group(1)) if m else None


def apply_closing_visit_in(s: Session, ctx: ServiceContext, complaint_id: int, *, reached: bool,
                           satisfied: bool | None, satisfaction: str, visited_at: datetime, note: str,
                           record_id: int | None, next_plan: VisitPlan | None) -> None:
    """A closing visit was recorded (inside the caller's transaction, e.g. :func:`visits.record_visit`).

    Not reached → stays 待回访 (the next attempt is planned by the visit rules). Satisfied → 已关闭 when the
    visitor has the level the severity asks, else it waits for that person to close it. Unsatisfied → back
    to 处理中 with the next visit already planned."""
    c = s.get(Complaint, complaint_id)
    if c is None or ComplaintState(c.state) is not ComplaintState.AWAITING_VISIT:
        return
    policy = load_policy(ctx)
    c.visit_record_id = record_id
    if next_plan is not None:
        c.visit_plan_id = next_plan.id
    c.updated_at = ctx.now()
    if not reached:
        c.visit_note = note
        _event(s, ctx, c, "结案回访", note=f"未能联系上客户，{'已安排再次回访 ' + f'{next_plan.due:%Y-%m-%d}' if next_plan else '请再次回访'}")
        return
    c.visited_at, c.visit_satisfied, c.satisfaction, c.visit_note = visited_at, bool(satisfied), satisfaction, note
    outcome = closing_outcome(bool(satisfied))
    _event(s, ctx, c, "结案回访", note=f"{satisfaction or ('满意' if satisfied else '不满意')}" + (f"：{note}" if note else ""))
    if outcome is ComplaintState.IN_PROGRESS:
        c.visit_due = next_plan.due if next_plan is not None else None
        _move(s, ctx, c, ComplaintState.IN_PROGRESS, policy, action="回访不满意退回",
              note="客户不满意，退回处理中" + (f"；已安排再次回访 {next_plan.due:%Y-%m-%d}" if next_plan else ""))
        return
    required = handler_role(Severity(c.severity), policy)
    if reaches_level(_actor_role(ctx), required):
        _move(s, ctx, c, ComplaintState.CLOSED, policy, action="关闭", note="结案回访满意")
    else:
        _event(s, ctx, c, "待关闭", note=f"回访满意，待{required.label}审核关闭")


@dataclass(frozen=True, slots=True)
class ClosingVisitPlan:
    """The pending closing-visit plan of a complaint with a customer file: its closing visit is a full
    回访记录表 against this plan (:func:`huifang_desktop.services.workflow.record_closing_visit`)."""

    complaint_id: int
    number: str
    customer_id: int
    plan_id: int


def closing_visit_plan(ctx: ServiceContext, complaint_id: int, expected_version: int | None = None
                       ) -> ClosingVisitPlan | None:
    """Check that the acting user may record the complaint's closing visit now (visible, unchanged since
    ``expected_version``, theirs to work on, 待回访); the plan to record it against when the complaint has a
    customer file and a pending closing-visit plan, else None (the visit is kept on the complaint)."""
    with ctx.sessions() as s:
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "登记结案回访")
        if ComplaintState(c.state) is not ComplaintState.AWAITING_VISIT:
            raise ValidationError(FieldError("state", "状态", f"投诉 {c.number} 为“{c.state}”，须先办结转入待回访"))
        plan = s.get(VisitPlan, c.visit_plan_id) if c.visit_plan_id else None
        if c.customer_id is None or plan is None or plan.state != "待回访":
            return None
        return ClosingVisitPlan(c.id, c.number, c.customer_id, plan.id)


def record_closing_visit(ctx: ServiceContext, complaint_id: int, draft: ClosingVisitDraft,
                         expected_version: int | None = None) -> ComplaintDetail:
    """Record the closing visit kept on the complaint: one without a customer file (or without a pending
    plan). With one, the visit is a full 回访记录表 (numbered, in the customer's visit history) and is recorded
    by :func:`huifang_desktop.services.workflow.record_closing_visit`; asked here, it is refused."""
    if closing_visit_plan(ctx, complaint_id, expected_version) is not None:
        raise ValidationError(FieldError("visit_plan_id", "结案回访", "该投诉有客户档案和回访计划，请填写回访记录表"))
    # no customer file: validate here and keep the visit on the complaint
    errors: list[FieldError] = []
    result = _choice(draft.result, [r.value for r in VisitResult], "结果", "result", errors)
    _choice(draft.method, [m.value for m in VisitMethod], "回访方式", "method", errors)
    when = _parse_moment(draft.visited_at, "回访时间", "visited_at", errors) or ctx.now()
    if when > ctx.now() + timedelta(minutes=5):
        errors.append(FieldError("visited_at", "回访时间", "不能晚于现在"))
    note = _text(draft.note, "回访内容", "note", errors)
    satisfied: bool | None = None
    reached = result == VisitResult.SUCCESS.value
    if reached:
        if not clean_text(draft.satisfaction):
            errors.append(FieldError("satisfaction", "满意度", "回访成功时请选择满意度"))
        else:
            try:
                satisfied = load_scale(ctx).is_satisfied(draft.satisfaction)
            except ValidationError as exc:
                errors += exc.errors
    if errors:
        raise ValidationError(errors)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        audit(s, ctx, "登记结案回访", "complaint", c.id, _label(c),
              new={"result": result, "satisfaction": draft.satisfaction, "visited_at": when.isoformat(sep=" ")})
        apply_closing_visit_in(s, ctx, c.id, reached=reached, satisfied=satisfied,
                               satisfaction=clean_text(draft.satisfaction) if reached else "",
                               visited_at=when, note=note, record_id=None, next_plan=None)
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def close(ctx: ServiceContext, complaint_id: int, expected_version: int | None = None) -> ComplaintDetail:
    """→ 已关闭: needs the satisfied closing visit (or, anonymous / reply-only, the reply letter attached) and
    the level the severity asks. Every refusal is a ValidationError naming what is missing."""
    policy = load_policy(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "关闭投诉")
        _require_complaint(c, "关闭")
        note = "结案回访满意" if needs_closing_visit(c.anonymous, c.reply_only) else "已附答复函"
        _move(s, ctx, c, ComplaintState.CLOSED, policy, action="关闭", note=note)
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def withdraw(ctx: ServiceContext, complaint_id: int, reason: str, expected_version: int | None = None
             ) -> ComplaintDetail:
    """→ 已撤销 with a reason (the complainant withdrew it, logged twice by mistake …)."""
    policy = load_policy(ctx)
    text = clean_text(reason)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "撤销投诉")
        c.withdraw_reason = text[:200]
        if c.kind != MessageKind.COMPLAINT.value:
            if not text:
                raise ValidationError(FieldError("withdraw_reason", "撤销原因", "撤销须填写撤销原因"))
            before = c.state
            c.state, c.deadline, c.updated_at = ComplaintState.WITHDRAWN.value, None, ctx.now()
            _event(s, ctx, c, "撤销", from_state=before, to_state=c.state, note=text)
            audit(s, ctx, "撤销", "complaint", c.id, _label(c), old={"state": before}, new={"state": c.state},
                  note=text)
        else:
            _move(s, ctx, c, ComplaintState.WITHDRAWN, policy, action="撤销", note=text,
                  facts=_facts(s, c, withdraw_reason=text))
        _cancel_open_plan(s, ctx, c, f"投诉已撤销：{text}")
        s.flush()
        return _detail(s, ctx, c)


def _cancel_open_plan(s: Session, ctx: ServiceContext, c: Complaint, reason: str) -> None:
    plan = s.get(VisitPlan, c.visit_plan_id) if c.visit_plan_id else None
    if plan is not None and plan.state == "待回访":
        plan.state, plan.cancel_reason = "已取消", reason[:200]
        audit(s, ctx, "取消回访计划", "visit_plan", plan.id, c.number, new={"reason": reason})


@_guarded
def reply_message(ctx: ServiceContext, complaint_id: int, reply_text: str, way: str,
                  replied_at: datetime | str | None = None, expected_version: int | None = None
                  ) -> ComplaintDetail:
    """Answer a 咨询 or 建议: the reply is the whole handling, so it closes the message."""
    errors: list[FieldError] = []
    text = ""
    try:
        text = require_text(reply_text, label="答复内容", field="reply_text", max_len=4000)
    except ValidationError as exc:
        errors += exc.errors
    way = _choice(way, REPLY_WAYS, "答复方式", "reply_way", errors)
    when = _parse_moment(replied_at, "答复时间", "replied_at", errors) or ctx.now()
    if errors:
        raise ValidationError(errors)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "答复")
        if c.kind == MessageKind.COMPLAINT.value:
            raise ValidationError(FieldError("kind", "类型", "投诉须按流程处理、回访后关闭，不能直接答复关闭"))
        if ComplaintState(c.state).is_final:
            raise LockedError(f"{c.kind} {c.number} {already(c.state)}。")
        before = c.state
        c.reply_text, c.reply_way, c.replied_at, c.result = text, way, when, text
        c.state, c.closed_at, c.deadline, c.updated_at = ComplaintState.CLOSED.value, ctx.now(), None, ctx.now()
        _event(s, ctx, c, "答复", from_state=before, to_state=c.state, note=f"{way}：{text[:80]}")
        audit(s, ctx, f"答复{c.kind}", "complaint", c.id, _label(c), old={"state": before},
              new={"state": c.state, "reply_way": way})
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def convert_to_complaint(ctx: ServiceContext, complaint_id: int, *, severity: str = Severity.NORMAL.value,
                         category: str = "", expected_version: int | None = None) -> ComplaintDetail:
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
        clean = _CleanIntake(MessageKind.COMPLAINT, now, Channel(c.channel), c.complainant, c.anonymous, c.phone,
                             c.customer_id, c.subject, c.content, clean_text(category), Severity(sev), c.special,
                             c.reply_only)
        role, handler, dep = _route(s, ctx, clean, policy, c.department_id, None)
        dl = deadlines(now, MessageKind.COMPLAINT, Severity(sev), policy, cal, special=c.special)
        c.kind, c.severity, c.category = MessageKind.COMPLAINT.value, sev, clean.category
        c.number = _number(s, MessageKind.COMPLAINT, policy, now)
        c.converted_from = old_number
        c.handler_role, c.handler_id, c.department_id = role.value, handler, dep
        c.first_reply_due, c.handling_due = dl.first_reply, dl.handling
        c.state = ComplaintState.PENDING.value
        c.escalation_level, c.escalated_deadline = 0, None
        c.updated_at = now
        _refresh_deadline(c, policy)
        _event(s, ctx, c, "转为投诉", to_state=c.state,
               note=f"由{old_kind} {old_number} 转为投诉，负责人：{_user_name(s, handler)}")
        audit(s, ctx, "转为投诉", "complaint", c.id, _label(c), old={"number": old_number, "kind": old_kind},
              new={"number": c.number, "kind": c.kind, "severity": sev})
        s.flush()
        return _detail(s, ctx, c)


def reopen_linked(ctx: ServiceContext, complaint_id: int, *, content: str = "",
                  received_at: datetime | str | None = None, channel: str = Channel.PHONE.value
                  ) -> ComplaintDetail:
    """The customer rejects the result of a closed complaint: a new complaint linked to the original."""
    with ctx.sessions() as s:
        c = _load(s, ctx, complaint_id)
        if c.state != ComplaintState.CLOSED.value or c.kind != MessageKind.COMPLAINT.value:
            raise ValidationError(FieldError("state", "状态", "只有已关闭的投诉才能因客户不认可而重新投诉"))
        draft = IntakeDraft(
            subject=f"（不认可处理结果）{c.subject}"[:200], received_at=received_at, channel=channel,
            complainant=c.complainant, anonymous=c.anonymous, phone=c.phone, customer_id=c.customer_id,
            content=clean_text(content) or f"客户不认可投诉 {c.number} 的处理结果。", category=c.category,
            severity=c.severity, department_id=c.department_id, linked_to_id=c.id)
    return register(ctx, draft)


@_guarded
def chase(ctx: ServiceContext, complaint_id: int, note: str = "") -> ComplaintDetail:
    """催办: an overdue open complaint is chased (logged, counted, the handler sees it in the history)."""
    ctx.require(Permission.SIGN_OFF, "催办投诉")
    text = clean_text(note)[:500]
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        if not needs_chase(ComplaintState(c.state), c.deadline, ctx.now()):
            raise ValidationError(FieldError("state", "状态", f"投诉 {c.number} 未逾期，不需要催办"))
        c.chase_count += 1
        c.escalation_seen = False  # the handler sees it at next start
        c.updated_at = ctx.now()
        _event(s, ctx, c, "催办", note=f"第 {c.chase_count} 次催办" + (f"：{text}" if text else ""))
        audit(s, ctx, "催办", "complaint", c.id, _label(c), new={"chase_count": c.chase_count}, note=text)
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def reassign(ctx: ServiceContext, complaint_id: int, handler_id: int, expected_version: int | None = None
             ) -> ComplaintDetail:
    """A supervisor hands the complaint to someone else of (at least) the level its severity asks."""
    ctx.require(Permission.REASSIGN, "转交投诉")
    policy = load_policy(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        if ComplaintState(c.state).is_final:
            raise LockedError(f"投诉 {c.number} {already(c.state)}，不能转交。")
        u = s.get(User, handler_id)
        if u is None or not u.active:
            raise ValidationError(FieldError("handler_id", "负责人", "所选负责人不存在或已停用"))
        needed = Role(c.handler_role) if c.kind == MessageKind.COMPLAINT.value else Role.CLERK
        needed = higher_level(needed, handler_role(Severity(c.severity), policy)) \
            if c.kind == MessageKind.COMPLAINT.value else needed
        if not reaches_level(Role(u.role), needed):
            raise ValidationError(FieldError("handler_id", "负责人",
                                             f"该投诉须由{needed.label}或更高级别负责，{u.display_name}是{Role(u.role).label}"))
        old = _user_name(s, c.handler_id)
        c.handler_id, c.escalation_seen, c.updated_at = u.id, u.id == ctx.user.id, ctx.now()
        _event(s, ctx, c, "转交", note=f"{old or '（无）'} → {u.display_name}")
        audit(s, ctx, "转交投诉", "complaint", c.id, _label(c), old={"handler": old}, new={"handler": u.display_name})
        s.flush()
        return _detail(s, ctx, c)


# --- escalation and notices --------------------------------------------------------------------------

def escalate_overdue(ctx: ServiceContext, now: datetime | None = None) -> EscalationResult:
    """Every open complaint past its deadline goes one level up (clerk → 部门主管 → 公司经理), once per missed
    deadline; audited as the system. Run at start (and by ``plan``)."""
    policy = load_policy(ctx)
    if not policy.escalate_overdue:
        return EscalationResult(())
    now = now or ctx.now()
    system = ctx.as_user(SYSTEM_USER)
    out: list[tuple[str, str, str]] = []
    with ctx.sessions() as s, s.begin():
        q = (select(Complaint).where(Complaint.state.in_(_OPEN), Complaint.deadline < now,
                                     Complaint.kind == MessageKind.COMPLAINT.value,
                                     Complaint.handler_role != Role.MANAGER.value,
                                     or_(Complaint.escalated_deadline.is_(None),
                                         Complaint.escalated_deadline != Complaint.deadline))
             .order_by(Complaint.deadline))
        for c in s.execute(q).scalars():
            current = Role(c.handler_role)
            up = escalated_role(current)
            if up is None:
                continue
            new_handler = _pick_user(s, up, c.department_id)
            old_name = _user_name(s, c.handler_id)
            c.handler_role, c.escalation_level = up.value, c.escalation_level + 1
            if new_handler is not None:
                c.handler_id = new_handler
            c.escalated_at, c.escalated_deadline, c.escalation_seen = now, c.deadline, False
            new_name = _user_name(s, c.handler_id)
            assert c.deadline is not None
            note = (f"逾期（期限 {c.deadline:%Y-%m-%d %H:%M}）自动升级：{current.label} {old_name} → "
                    f"{up.label} {new_name or '（无此级别人员）'}")
            _event(s, system, c, "逾期升级", note=note)
            audit(s, system, "逾期升级", "complaint", c.id, _label(c),
                  old={"handler": old_name, "level": current.value}, new={"handler": new_name, "level": up.value})
            out.append((c.number, current.label, new_name))
    return EscalationResult(tuple(out))


def notices(ctx: ServiceContext) -> Notices:
    """For the start-up reminder and the tray: complaints escalated or chased to me and not yet seen,
    my overdue ones, my open ones."""
    me = ctx.user.id or -1
    now = ctx.now()
    with ctx.sessions() as s:
        mine = select(func.count(Complaint.id)).where(Complaint.handler_id == me, Complaint.state.in_(_OPEN))
        unseen = s.execute(mine.where(Complaint.escalation_seen.is_(False))).scalar() or 0
        overdue = s.execute(mine.where(Complaint.deadline < now)).scalar() or 0
        total = s.execute(mine).scalar() or 0
    return Notices(int(unseen), int(overdue), int(total))


def mark_notices_seen(ctx: ServiceContext) -> int:
    """The handler opened the register: escalation / 催办 notices are seen."""
    me = ctx.user.id
    if not me:
        return 0
    with ctx.sessions() as s, s.begin():
        rows = s.execute(select(Complaint).where(Complaint.handler_id == me,
                                                 Complaint.escalation_seen.is_(False))).scalars().all()
        for c in rows:
            c.escalation_seen = True
        return len(rows)


# --- attachments -------------------------------------------------------------------------------------

def attach(ctx: ServiceContext, complaint_ids: Sequence[int], name: str, data: bytes, kind: str = "其他"
           ) -> int:
    """Store a file inside the database and link it to one or more complaints (a 公开信 answers many).
    Returns the attachment id. Closed/withdrawn complaints cannot get new attachments."""
    ctx.require(Permission.EDIT_CUSTOMERS, "添加附件")
    errors: list[FieldError] = []
    kind = _choice(kind, ATTACHMENT_KINDS, "附件类型", "kind", errors)
    clean_name = Path(clean_text(name)).name[:200]
    if not clean_name:
        errors.append(FieldError("name", "文件名", "文件名不能为空"))
    if not data:
        errors.append(FieldError("file", "附件", f"文件“{clean_name}”是空的"))
    elif len(data) > MAX_ATTACHMENT_BYTES:
        errors.append(FieldError("file", "附件", f"文件“{clean_name}”有 {len(data) / 1048576:.1f} MB，"
                                                f"超过 {MAX_ATTACHMENT_BYTES // 1048576} MB 的上限；请压缩或扫描成较小的 PDF"))
    if not complaint_ids:
        errors.append(FieldError("complaints", "投诉", "请选择要附加到的投诉"))
    if errors:
        raise ValidationError(errors)
    mime = mimetypes.guess_type(clean_name)[0] or "application/octet-stream"
    with ctx.sessions() as s, s.begin():
        targets = [_load(s, ctx, cid) for cid in dict.fromkeys(complaint_ids)]
        for c in targets:
            _check_can_work(ctx, c, "添加附件")
            _check_unlocked(c, "不能再添加附件")
        a = Attachment(name=clean_name, kind=kind, mime=mime, size=len(data),
                       sha256=hashlib.sha256(data).hexdigest(), data=data, created_by_id=ctx.user.id or None,
                       created_at=ctx.now())
        s.add(a)
        s.flush()
        for c in targets:
            s.add(ComplaintAttachment(complaint_id=c.id, attachment_id=a.id))
            c.updated_at = ctx.now()
            _event(s, ctx, c, "添加附件", note=f"{kind}：{clean_name}" +
                   (f"（同时附于 {len(targets)} 件投诉）" if len(targets) > 1 else ""))
            audit(s, ctx, "添加附件", "complaint", c.id, _label(c),
                  new={"file": clean_name, "kind": kind, "size": len(data), "sha256": a.sha256})
        return a.id


def attach_file(ctx: ServiceContext, complaint_ids: Sequence[int], path: Path | str, kind: str = "其他") -> int:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_ATTACHMENT_BYTES:
            raise ValidationError(FieldError("file", "附件", f"文件“{p.name}”有 {size / 1048576:.1f} MB，超过 "
                                                            f"{MAX_ATTACHMENT_BYTES // 1048576} MB 的上限"))
        data = p.read_bytes()
    except OSError as exc:
        raise ServiceError(f"无法读取文件 {p}：{exc.strerror or exc}") from exc
    return attach(ctx, complaint_ids, p.name, data, kind)


def attachment_data(ctx: ServiceContext, attachment_id: int) -> tuple[str, bytes]:
    with ctx.sessions() as s:
        a = s.get(Attachment, attachment_id)
        if a is None:
            raise NotFound(f"附件 {attachment_id} 不存在。")
        linked = s.execute(select(ComplaintAttachment.complaint_id)
                           .where(ComplaintAttachment.attachment_id == a.id)).scalars().first()
        if linked is not None:
            _load(s, ctx, linked)  # visibility
        if hashlib.sha256(a.data).hexdigest() != a.sha256:
            raise ServiceError(f"附件“{a.name}”已损坏（校验值不符），请从备份恢复。")
        return a.name, bytes(a.data)


def detach(ctx: ServiceContext, complaint_id: int, attachment_id: int) -> ComplaintDetail:
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_can_work(ctx, c, "删除附件")
        _check_unlocked(c, "附件不能删除")
        link = s.get(ComplaintAttachment, (c.id, attachment_id))
        if link is None:
            raise NotFound("该附件不在这件投诉上。")
        a = s.get(Attachment, attachment_id)
        assert a is not None
        s.delete(link)
        s.flush()
        still = s.execute(select(ComplaintAttachment.complaint_id)
                          .where(ComplaintAttachment.attachment_id == attachment_id)).first()
        _event(s, ctx, c, "删除附件", note=f"{a.kind}：{a.name}")
        audit(s, ctx, "删除附件", "complaint", c.id, _label(c), old={"file": a.name, "kind": a.kind})
        if still is None:
            s.delete(a)
        s.flush()
        return _detail(s, ctx, c)


# --- ledger ------------------------------------------------------------------------------------------

LEDGER_TITLE = "投诉台账"
LEDGER_HEADERS: tuple[str, ...] = (
    "投诉编号", "类型", "投诉日期", "渠道", "投诉主题", "投诉内容", "投诉人", "联系方式", "客户名称", "类别",
    "严重程度", "负责人", "责任部门", "处理期限", "处理状态", "是否逾期", "处理结果", "答复时间", "回访结果",
    "满意度", "关闭时间", "重复次数", "升级次数", "催办次数",
)
LEDGER_WIDTHS: tuple[float, ...] = (16, 6, 17, 8, 28, 40, 10, 14, 24, 10, 8, 9, 10, 17, 8, 8, 30, 17, 10, 8,
                                    17, 8, 8, 8)


def ledger_rows(ctx: ServiceContext, f: ComplaintFilter = ComplaintFilter()) -> Iterator[tuple[Any, ...]]:
    """The 投诉台账 rows (oldest first), streamed, in the order of :data:`LEDGER_HEADERS`."""
    now = ctx.now()
    handler = aliased(User)
    q = (select(Complaint.number, Complaint.kind, Complaint.received_at, Complaint.channel, Complaint.subject,
                Complaint.content, Complaint.complainant, Complaint.anonymous, Complaint.phone, Customer.name,
                Complaint.category, Complaint.severity, handler.display_name, Department.name,
                Complaint.handling_due, Complaint.state, Complaint.deadline, Complaint.result,
                Complaint.replied_at, Complaint.visit_satisfied, Complaint.satisfaction, Complaint.closed_at,
                Complaint.occurrences, Complaint.escalation_level, Complaint.chase_count)
         .outerjoin(Customer, Customer.id == Complaint.customer_id)
         .outerjoin(handler, handler.id == Complaint.handler_id)
         .outerjoin(Department, Department.id == Complaint.department_id))
    q = _filtered(ctx, q, f, now).order_by(Complaint.received_at, Complaint.id)
    with ctx.engine.connect() as conn:
        for r in conn.execution_options(yield_per=2000).execute(q):
            overdue = is_overdue(ComplaintState(r[15]), r[16], now)
            visit = "" if r[19] is None else ("满意" if r[19] else "不满意")
            yield (r[0], r[1], r[2], r[3], r[4], r[5] or None, "匿名" if r[7] else (r[6] or None),
                   format_phone(r[8]) or None, r[9], r[10] or None, r[11], r[12], r[13], r[14], r[15],
                   "是" if overdue else "否", r[17] or None, r[18], visit or None, r[20] or None, r[21],
                   r[22], r[23], r[24])


def export_ledger(ctx: ServiceContext, out_path: Path | str, f: ComplaintFilter = ComplaintFilter()) -> int:
    """Write the 投诉台账 to an .xlsx file (streamed, write-only) and log the export; returns the rows."""
    ctx.require(Permission.EDIT_CUSTOMERS, "导出投诉台账")
    if f.start is not None and f.end is not None and f.end < f.start:
        raise ValidationError(FieldError("end", "截止日期", "不能早于开始日期"))
    out = checked_target(out_path, ExportError, suffix=".xlsx")
    period = period_text(f.start, f.end)
    company = load_settings(ctx).company
    narrowed = [f"{label}：{'、'.join(sorted(values))}" for label, values in (
        ("处理状态", f.states), ("严重程度", f.severities), ("类别", f.categories), ("类型", f.kinds)) if values]
    if f.overdue_only:
        narrowed.append("仅逾期")
    if f.mine or f.handler_id is not None or f.customer_id is not None:
        with ctx.sessions() as s:
            if f.mine:
                narrowed.append(f"负责人：{ctx.user.display_name}")
            elif f.handler_id is not None:
                handler = s.get(User, f.handler_id)
                narrowed.append(f"负责人：{handler.display_name if handler else f.handler_id}")
            if f.customer_id is not None:
                customer = s.get(Customer, f.customer_id)
                narrowed.append(f"客户：{customer.name if customer else f.customer_id}")
    if clean_text(f.text):
        narrowed.append(f"搜索：{clean_text(f.text)}")
    try:
        count = write_visit_ledger(ledger_rows(ctx, f), out, company=company,
                                   period_text="；".join([period, *narrowed]),
                                   headers=LEDGER_HEADERS, widths=LEDGER_WIDTHS, title=LEDGER_TITLE)
    except OSError as exc:
        raise write_failed(out, exc, ExportError) from exc
    with ctx.sessions() as s, s.begin():
        audit(s, ctx, "导出投诉台账", "complaint", None, out.name,
              new={"rows": count, "period": period, "file": str(out)})
    return count


def handlers(ctx: ServiceContext) -> list[tuple[int, str, str]]:
    """Active people who can handle complaints: (id, name, role label), for the handler pickers."""
    with ctx.sessions() as s:
        rows = s.execute(select(User.id, User.display_name, User.role).where(
            User.active.is_(True), User.role.in_(business_roles()))
            .order_by(User.role, User.display_name)).all()
    return [(uid, name, Role(role).label) for uid, name, role in rows]


__all__ = [
    "ATTACHMENT_KINDS", "REPLY_WAYS", "AttachmentRow", "ClosingVisitDraft", "ClosingVisitPlan",
    "ComplaintDetail", "ComplaintFilter", "ComplaintRow", "EscalationResult", "EventRow", "ExportError",
    "HandlingDraft", "IntakeDraft", "Notices", "OccurrenceRow", "RepeatRow", "accept", "add_occurrence",
    "apply_closing_visit_in", "attach", "attach_file", "attachment_data", "chase", "close",
    "closing_visit_plan", "complaint_id_for_plan", "convert_to_complaint", "count_complaints", "detach",
    "escalate_overdue", "export_ledger", "find_repeats", "finish_handling", "get_complaint", "handlers",
    "history", "ledger_rows", "list_complaints", "load_policy", "mark_notices_seen", "notices", "reassign",
    "record_closing_visit", "register", "reopen_linked", "reply_message", "save_handling", "save_policy",
    "state_counts", "withdraw",
]
