"""Reading the register: the filtered, paged list, counts, one complaint with its history, repeats."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from huifang_desktop.domain.complaint_follow import inquiry_cutoff, inquiry_state, lateness
from huifang_desktop.domain.complaint_repeats import repeat_matches
from huifang_desktop.domain.complaints import (
    ComplaintPolicy,
    ComplaintState,
    ExistingComplaint,
    MessageKind,
    RepeatCandidate,
    Severity,
    handler_role,
    is_overdue,
    needs_chase,
    needs_closing_visit,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, business_roles, can, reaches_level
from huifang_desktop.domain.validation import (
    MAX_DB_ID,
    clean_text,
    format_phone,
)
from huifang_desktop.domain.visits import VisitType
from huifang_desktop.services.complaints.common import (
    _actor_role,
    _check_can_work,
    _load,
    _phone,
    _sees,
)
from huifang_desktop.services.complaints.inquiry import late_condition
from huifang_desktop.services.complaints.model import (
    _OPEN,
    REPLY_KINDS,
    AttachmentRow,
    ComplaintDetail,
    ComplaintFilter,
    ComplaintRow,
    EventRow,
    OccurrenceRow,
    RepeatRow,
    load_policy,
)
from huifang_desktop.services.complaints.notices import follow_policy_in
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext
from huifang_desktop.services.errors import (
    NotFound,
    PermissionDenied,
    ServiceError,
)
from huifang_desktop.services.policy import check_visible, complaint_visibility, work_calendar
from huifang_desktop.services.visits.independence import check_visitor
from huifang_desktop.services.visits.options import independence_covers
from huifang_desktop.storage.models import (
    Attachment,
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintInquiry,
    ComplaintOccurrence,
    Customer,
    Department,
    User,
    VisitPlan,
)

_PLAN_PENDING = "待回访"

# --- reading -----------------------------------------------------------------------------------------

_EVERY = ComplaintFilter()  # no filter: every complaint the acting user may see


def _row_select(late: Any = None) -> Any:
    """The register's columns; ``late``: the SQL condition of a complaint that needs a 查办
    (:func:`_late_condition`), None where nobody asks (then 查办 reads 已查办 or 无需)."""
    handler, first = aliased(User), aliased(User)
    needed = case((late, 1), else_=0) if late is not None else literal(0)
    return (
        select(
            Complaint.id,
            Complaint.number,
            Complaint.kind,
            Complaint.received_at,
            Complaint.channel,
            Complaint.complainant,
            Complaint.anonymous,
            Complaint.phone,
            Complaint.customer_id,
            Customer.name.label("customer_name"),
            Complaint.subject,
            Complaint.category,
            Complaint.severity,
            Complaint.state,
            Complaint.handler_id,
            handler.display_name.label("handler"),
            Department.name.label("department"),
            Complaint.deadline,
            Complaint.escalation_level,
            Complaint.occurrences,
            Complaint.satisfaction,
            Complaint.closed_at,
            Complaint.chase_count,
            Complaint.handling_due,
            Complaint.first_responder_id,
            first.display_name.label("first_responder"),
            needed.label("inquiry_needed"),
            ComplaintInquiry.id.label("inquiry_id"),
        )
        .outerjoin(Customer, Customer.id == Complaint.customer_id)
        .outerjoin(handler, handler.id == Complaint.handler_id)
        .outerjoin(first, first.id == Complaint.first_responder_id)
        .outerjoin(ComplaintInquiry, ComplaintInquiry.complaint_id == Complaint.id)
        .outerjoin(Department, Department.id == Complaint.department_id)
    )


def _late_condition(ctx: ServiceContext, s: Session, now: datetime) -> Any:
    """SQL: the complaint needs a 查办 now (the office's 查办 days, its working calendar)."""
    return late_condition(now, inquiry_cutoff(now, follow_policy_in(s), work_calendar(ctx)))


def _to_row(r: Any, now: datetime) -> ComplaintRow:
    """A row of :func:`_row_select` (its fields by name) as the register shows it."""
    return ComplaintRow(
        id=r.id,
        number=r.number,
        kind=r.kind,
        received_at=r.received_at,
        channel=r.channel,
        complainant="匿名" if r.anonymous else r.complainant,
        anonymous=bool(r.anonymous),
        phone=format_phone(r.phone),
        customer_id=r.customer_id,
        customer_name=r.customer_name or "",
        subject=r.subject,
        category=r.category,
        severity=r.severity,
        state=r.state,
        handler_id=r.handler_id,
        handler=r.handler or "",
        department=r.department or "",
        deadline=r.deadline,
        overdue=is_overdue(ComplaintState(r.state), r.deadline, now),
        escalation_level=r.escalation_level,
        occurrences=r.occurrences,
        satisfaction=r.satisfaction,
        closed_at=r.closed_at,
        chase_count=r.chase_count,
        first_responder_id=r.first_responder_id,
        first_responder=r.first_responder or "",
        lateness=lateness(r.kind, r.state, r.deadline, r.handling_due, r.closed_at, now).value,
        inquiry=inquiry_state(bool(r.inquiry_needed), r.inquiry_id is not None).value,
    )


def _filtered(ctx: ServiceContext, q: Any, f: ComplaintFilter, now: datetime) -> Any:
    cond = complaint_visibility(ctx, reading=True)  # the planned visitor reads the complaint too
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
        conds = [
            Complaint.number.like(like),
            Complaint.subject.like(like),
            Complaint.complainant.like(like),
            Complaint.content.like(like),
        ]
        if len(digits) >= 4:
            conds.append(Complaint.phone.like(f"%{digits}%"))
        q = q.where(or_(*conds))
    return q


def list_complaints(
    ctx: ServiceContext, f: ComplaintFilter = _EVERY, *, limit: int = 500, offset: int = 0
) -> list[ComplaintRow]:
    """The 投诉台账 view: filtered in SQL, overdue first (then by deadline), a page at a time."""
    now = ctx.now()
    # Two index-ordered reads instead of one sort over every row: open complaints by deadline (overdue ones
    # have the earliest deadlines, so they come first), then closed/withdrawn ones newest first.
    is_open = Complaint.state.in_(_OPEN)
    count_open = _filtered(ctx, select(func.count(Complaint.id)), f, now).where(is_open)
    with ctx.sessions() as s:
        late = _late_condition(ctx, s, now)
        open_q = (
            _filtered(ctx, _row_select(late), f, now)
            .where(is_open)
            .order_by(Complaint.deadline, Complaint.id)
        )
        done_q = (
            _filtered(ctx, _row_select(late), f, now)
            .where(~is_open)
            .order_by(Complaint.received_at.desc(), Complaint.id.desc())
        )
        n_open = int(s.execute(count_open).scalar() or 0)
        rows: list[Any] = []
        if offset < n_open:
            rows += s.execute(open_q.limit(limit).offset(offset)).all()
        rest = limit - len(rows)
        only_open = f.overdue_only or (bool(f.states) and set(f.states) <= set(_OPEN))
        if rest > 0 and not only_open:
            rows += s.execute(done_q.limit(rest).offset(max(0, offset - n_open))).all()
        return [_to_row(r, now) for r in rows]


def count_complaints(ctx: ServiceContext, f: ComplaintFilter = _EVERY) -> int:
    now = ctx.now()
    q = _filtered(ctx, select(func.count(Complaint.id)), f, now)
    with ctx.sessions() as s:
        return int(s.execute(q).scalar() or 0)


def state_counts(ctx: ServiceContext, f: ComplaintFilter = _EVERY) -> dict[str, int]:
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
        c = _load(s, ctx, complaint_id, reading=True)
        return _detail(s, ctx, c)


def _detail(s: Session, ctx: ServiceContext, c: Complaint) -> ComplaintDetail:
    now = ctx.now()
    r = s.execute(_row_select(_late_condition(ctx, s, now)).where(Complaint.id == c.id)).one()
    occurrences = tuple(
        OccurrenceRow(
            o.id, o.received_at, o.channel, o.complainant, format_phone(o.phone), o.received_by, o.note
        )
        for o in s.execute(
            select(ComplaintOccurrence)
            .where(ComplaintOccurrence.complaint_id == c.id)
            .order_by(ComplaintOccurrence.received_at, ComplaintOccurrence.id)
        ).scalars()
    )
    events = tuple(
        EventRow(e.at, e.username, e.action, e.from_state, e.to_state, e.note)
        for e in s.execute(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == c.id)
            .order_by(ComplaintEvent.at, ComplaintEvent.id)
        ).scalars()
    )
    shared = (
        select(ComplaintAttachment.attachment_id, func.count().label("n"))
        .group_by(ComplaintAttachment.attachment_id)
        .subquery()
    )
    attachments = tuple(
        AttachmentRow(a.id, a.name, a.kind, a.size, a.created_at, int(n))
        for a, n in s.execute(
            select(Attachment, shared.c.n)
            .join(ComplaintAttachment, ComplaintAttachment.attachment_id == Attachment.id)
            .join(shared, shared.c.attachment_id == Attachment.id)
            .where(ComplaintAttachment.complaint_id == c.id)
            .order_by(Attachment.id)
        )
    )
    linked_number = ""
    if c.linked_to_id:
        linked_number = (
            s.execute(select(Complaint.number).where(Complaint.id == c.linked_to_id)).scalar() or ""
        )
    return ComplaintDetail(
        _to_row(r, now),
        c.content,
        c.special,
        c.reply_only,
        c.department_id,
        c.handler_role,
        c.first_reply_due,
        c.handling_due,
        c.accepted_at,
        c.investigation,
        c.cause,
        c.measures,
        c.result,
        c.replied_at,
        c.reply_way,
        c.reply_text,
        c.handled_at,
        c.visit_round,
        c.visit_plan_id,
        c.visit_due,
        c.visit_record_id,
        c.visited_at,
        c.visit_satisfied,
        c.visit_note,
        c.withdraw_reason,
        c.linked_to_id,
        linked_number,
        c.converted_from,
        c.version,
        occurrences,
        events,
        attachments,
        _actions(
            ctx,
            c,
            now,
            any(a.kind in REPLY_KINDS for a in attachments),
            load_policy(ctx),
            bool(r.inquiry_needed) or r.inquiry_id is not None,
            _may_record_closing_visit(s, ctx, c),
            reader=not _sees(s, ctx, c),
        ),
        c.review_status or "",
        c.supervisor_comment or "",
        bool(c.urgent),
        c.dispatch_due,
        c.report_back_due,
    )


def _pending_closing_plan(s: Session, c: Complaint) -> VisitPlan | None:
    """The complaint's pending closing-visit plan when it has a customer file (its closing visit is then a
    回访记录表 against the plan), else None."""
    plan = s.get(VisitPlan, c.visit_plan_id) if c.visit_plan_id else None
    return plan if plan is not None and c.customer_id is not None and plan.state == _PLAN_PENDING else None


def _check_closing_visitor(s: Session, ctx: ServiceContext, c: Complaint) -> VisitPlan | None:
    """May the acting user record the complaint's closing visit? The visitor its pending plan names may (the
    planner gave the visit to somebody independent of the handler, 001 篇11), as may whoever works on the
    complaint (its handler, or WORK_FOR_OTHERS); but when visitor independence covers complaint visits,
    never the handler nor the customer's 业务员 (the check :func:`visits.record_visit` makes). Raises
    PermissionDenied / ValidationError; returns the pending plan (None: the visit is kept on the complaint)."""
    plan = _pending_closing_plan(s, c)
    if ctx.user is SYSTEM_USER:
        return plan
    customer = s.get(Customer, c.customer_id) if plan is not None else None
    if customer is not None:  # recorded as a 回访记录表 in the customer's file: the file must be in sight
        check_visible(ctx, customer)
    if plan is not None and plan.owner_id is not None and plan.owner_id == ctx.user.id:
        ctx.require(Permission.EDIT_CUSTOMERS, "登记结案回访")
    else:
        _check_can_work(ctx, c, "登记结案回访")
    if plan is not None and independence_covers(ctx, VisitType.COMPLAINT.value):
        owner = s.execute(select(Customer.owner_id).where(Customer.id == c.customer_id)).scalar()
        refused = check_visitor(ctx.user.id or None, owner, c.handler_id, VisitType.COMPLAINT.value)
        if refused is not None:
            visitor = s.get(User, plan.owner_id) if plan.owner_id is not None else None
            if visitor is not None and visitor.id != ctx.user.id:
                refused += f"；本次结案回访已安排由 {visitor.display_name} 登记"
            raise ValidationError(FieldError("visitor_id", "回访人", refused))
    return plan


def _may_record_closing_visit(s: Session, ctx: ServiceContext, c: Complaint) -> bool:
    if ComplaintState(c.state) is not ComplaintState.AWAITING_VISIT:
        return False
    try:
        _check_closing_visitor(s, ctx, c)
    except (PermissionDenied, ValidationError, ServiceError):
        return False
    return True


def _actions(
    ctx: ServiceContext,
    c: Complaint,
    now: datetime,
    has_reply_letter: bool,
    policy: ComplaintPolicy,
    late: bool = False,
    may_visit: bool = False,
    reader: bool = False,
) -> frozenset[str]:
    """What the acting user may do now (the UI enables buttons from this; the services check again).
    ``may_visit``: :func:`_check_closing_visitor` lets the user record the closing visit (the planned visitor
    may although the complaint is not theirs to work on; the handler may not when independence is on).
    ``reader``: the user sees the complaint only as its planned visitor (another department's complaint,
    policy.complaint_visibility ``reading``): nothing but the closing visit."""
    if reader:
        return frozenset({"visit"} if may_visit else ())  # may_visit: 待回访 and theirs to record
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
            out.add("handle")
            if c.visit_satisfied and enough:
                out.add("close")
        if enough or state is ComplaintState.PENDING:
            out.add("withdraw")
        out.add("attach")
    if may_visit and state is ComplaintState.AWAITING_VISIT and kind is MessageKind.COMPLAINT:
        out.add("visit")
    if state.is_open and needs_chase(state, c.deadline, now) and ctx.may(Permission.SIGN_OFF):  # as chase()
        out.add("chase")
    if (
        state is ComplaintState.CLOSED
        and kind is MessageKind.COMPLAINT
        and can(ctx.user.role, Permission.EDIT_CUSTOMERS)
    ):
        out.add("reopen_linked")
    if state.is_open and can(ctx.user.role, Permission.REASSIGN):
        out.add("reassign")
    if state.is_open and c.severity == Severity.MAJOR.value and ctx.may(Permission.SUPERVISE_COMPLAINTS):
        out.add("supervise")  # as supervise()
    if late and ctx.may(Permission.RECORD_INQUIRY):
        out.add("inquiry")  # as record_inquiry(): a late complaint, or one with its 查办 to correct
    return frozenset(out)


def find_repeats(
    ctx: ServiceContext,
    *,
    customer_id: int | None = None,
    phone: str = "",
    subject: str = "",
    exclude_id: int | None = None,
) -> list[RepeatRow]:
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
    q = (
        select(
            Complaint.id,
            Complaint.number,
            Complaint.received_at,
            Complaint.subject,
            Complaint.state,
            Complaint.complainant,
            Complaint.customer_id,
            Complaint.phone,
            Complaint.anonymous,
        )
        .where(
            Complaint.kind == MessageKind.COMPLAINT.value,
            or_(*who),
            or_(Complaint.received_at >= since, Complaint.state.in_(_OPEN)),
        )
        .order_by(Complaint.received_at.desc())
        .limit(200)
    )
    if exclude_id is not None:
        q = q.where(Complaint.id != exclude_id)
    cond = complaint_visibility(ctx)
    if cond is not None:
        q = q.where(cond)
    with ctx.sessions() as s:
        rows = s.execute(q).all()
    candidate = RepeatCandidate(customer_id, digits, subject)
    existing = {
        r.id: ExistingComplaint(
            r.customer_id, r.phone, r.subject, r.received_at.date(), ComplaintState(r.state)
        )
        for r in rows
    }
    matches = repeat_matches(candidate, existing.values(), policy, ctx.now())
    by_obj = {id(e): cid for cid, e in existing.items()}
    info = {r.id: r for r in rows}
    out = []
    for m in matches:
        r = info[by_obj[id(m.existing)]]
        out.append(
            RepeatRow(
                r.id,
                r.number,
                r.received_at,
                r.subject,
                r.state,
                "匿名" if r.anonymous else r.complainant,
                round(m.score, 2),
            )
        )
    return out


def find_id(ctx: ServiceContext, number_or_id: str | int) -> int:
    """A complaint's id from its number (TS20261124-001) or its id; NotFound names what was asked for. A
    complaint the acting user may not see is not found either (the same message: no probing numbers)."""
    text = clean_text(str(number_or_id))
    cond = complaint_visibility(ctx, reading=True)

    def scoped(q: Any) -> Any:
        return q if cond is None else q.where(cond)

    with ctx.sessions() as s:
        found = s.execute(scoped(select(Complaint.id).where(Complaint.number == text))).scalar()
        if found is None and text.isdigit() and int(text) <= MAX_DB_ID:  # a larger number is no id
            found = s.execute(scoped(select(Complaint.id).where(Complaint.id == int(text)))).scalar()
    if found is None:
        raise NotFound(f"没有编号为 {text} 的投诉。")
    return int(found)


def history(ctx: ServiceContext, complaint_id: int) -> list[EventRow]:
    return list(get_complaint(ctx, complaint_id).events)


def handlers(ctx: ServiceContext) -> list[tuple[int, str, str]]:
    """Active people who can handle complaints: (id, name, role label), for the handler pickers."""
    with ctx.sessions() as s:
        rows = s.execute(
            select(User.id, User.display_name, User.role)
            .where(User.active.is_(True), User.role.in_(business_roles()))
            .order_by(User.role, User.display_name)
        ).all()
    return [(uid, name, Role(role).label) for uid, name, role in rows]
