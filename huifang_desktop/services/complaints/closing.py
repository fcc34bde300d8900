"""The closing visit (结案回访): planned in the visit calendar when handling is finished, recorded from the
complaint or the calendar, and fed back into the complaint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_rules import pick_verifier
from huifang_desktop.domain.complaints import (
    ComplaintPolicy,
    ComplaintState,
    Severity,
    closing_outcome,
    closing_visit_owner,
    closing_visit_role,
    handler_role,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Role, business_roles, reaches_level
from huifang_desktop.domain.schedule import plan_key
from huifang_desktop.domain.validation import (
    clean_text,
)
from huifang_desktop.domain.visits import VisitMethod, VisitResult, VisitType
from huifang_desktop.services.complaints.common import (
    _actor_role,
    _check_can_work,
    _check_version,
    _choice,
    _event,
    _label,
    _load,
    _move,
    _parse_moment,
    _pick_user,
    _text,
    _user_name,
)
from huifang_desktop.services.complaints.model import (
    _PLAN_KEY,
    CLOSING_RULE,
    ClosingVisitDraft,
    ComplaintDetail,
    load_policy,
)
from huifang_desktop.services.complaints.reading import _check_closing_visitor, _detail
from huifang_desktop.services.complaints.rules import load_complaint_rules
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.handover import change_plan_owner
from huifang_desktop.services.policy import load_scale
from huifang_desktop.services.visits.independence import closing_visit_plan_for
from huifang_desktop.services.visits.options import independence_covers
from huifang_desktop.storage.models import (
    Complaint,
    Customer,
    User,
    VisitPlan,
)


def _independent_visitor(
    s: Session, ctx: ServiceContext, c: Complaint, level: Role, prefer: list[int | None]
) -> int | None:
    """独立验证 (002 制度5 §5, 制度9; 001 篇11): when the office-wide visitor independence covers complaint
    visits (设置 → 回访规则, on by default: :func:`independence_covers`), the closing visit goes to somebody
    other than the handler (:func:`pick_verifier`, at the complaint rules' 验证回访人级别); None when the
    check is off or nobody else is there."""
    if not independence_covers(ctx, VisitType.COMPLAINT.value):
        return None
    rules = load_complaint_rules(ctx)
    rows = s.execute(
        select(User.id, User.department_id, User.role)
        .where(User.active.is_(True), User.role.in_(business_roles()))
        .order_by(User.id)
    ).all()
    people: dict[Role, list[tuple[int, int | None]]] = {}
    for uid, dep, role in rows:
        people.setdefault(Role(role), []).append((uid, dep))
    return pick_verifier(people, c.handler_id, level, c.department_id, rules, prefer)


def _plan_closing_visit(
    s: Session, ctx: ServiceContext, c: Complaint, policy: ComplaintPolicy, due: date
) -> VisitPlan | None:
    if c.customer_id is None:
        c.visit_plan_id = None
        return None
    role = closing_visit_role(Severity(c.severity), policy)
    customer = s.get(Customer, c.customer_id)
    prefer = [customer.owner_id if customer else None]
    owner = _independent_visitor(s, ctx, c, role, prefer)
    if owner is None:
        owner = closing_visit_owner(c.handler_id, Role(c.handler_role), Severity(c.severity), policy)
    if owner is None:
        owner = _pick_user(s, role, c.department_id, prefer)
    owner, method = closing_visit_plan_for(
        ctx,
        s,
        owner,
        role,
        c.department_id,
        customer.owner_id if customer else None,
        c.handler_id,
        c.severity,
    )
    existing = s.get(VisitPlan, c.visit_plan_id) if c.visit_plan_id else None
    if existing is not None and existing.state == "待回访":
        old_due = existing.due
        existing.due, existing.earliest, existing.manual = due, min(existing.earliest, due), True
        change_plan_owner(
            s, existing, owner, on=ctx.today(), at=ctx.now(), reason=f"投诉 {c.number} 重新安排结案回访"
        )
        audit(
            s,
            ctx,
            "调整回访计划",
            "visit_plan",
            existing.id,
            c.number,
            old={"due": old_due.isoformat()},
            new={"due": due.isoformat(), "来源": "投诉结案回访"},
        )
        return existing
    key = plan_key(f"complaint:{c.id}", CLOSING_RULE, c.visit_round)
    plan = VisitPlan(
        customer_id=c.customer_id,
        source_key=key,
        rule_key=CLOSING_RULE,
        visit_type=VisitType.COMPLAINT.value,
        method=method,
        earliest=ctx.today(),
        due=due,
        owner_id=owner,
        attempt=1,
        state="待回访",
        cancel_reason="",
        manual=False,
        created_at=ctx.now(),
    )
    s.add(plan)
    s.flush()
    c.visit_plan_id = plan.id
    audit(
        s,
        ctx,
        "生成回访计划",
        "visit_plan",
        plan.id,
        c.number,
        new={"来源": key, "due": due.isoformat(), "visitor": _user_name(s, owner)},
    )
    return plan


def complaint_id_for_plan(source_key: str) -> int | None:
    m = _PLAN_KEY.match(source_key or "")
    return int(m.group(1)) if m else None


def apply_closing_visit_in(
    s: Session,
    ctx: ServiceContext,
    complaint_id: int,
    *,
    reached: bool,
    satisfied: bool | None,
    satisfaction: str,
    visited_at: datetime,
    note: str,
    record_id: int | None,
    next_plan: VisitPlan | None,
) -> None:
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
        _event(
            s,
            ctx,
            c,
            "结案回访",
            note=f"未能联系上客户，{'已安排再次回访 ' + f'{next_plan.due:%Y-%m-%d}' if next_plan else '请再次回访'}",
        )
        return
    c.visited_at, c.visit_satisfied, c.satisfaction, c.visit_note = (
        visited_at,
        bool(satisfied),
        satisfaction,
        note,
    )
    outcome = closing_outcome(bool(satisfied))
    _event(
        s,
        ctx,
        c,
        "结案回访",
        note=f"{satisfaction or ('满意' if satisfied else '不满意')}" + (f"：{note}" if note else ""),
    )
    if outcome is ComplaintState.IN_PROGRESS:
        c.visit_due = next_plan.due if next_plan is not None else None
        _move(
            s,
            ctx,
            c,
            ComplaintState.IN_PROGRESS,
            policy,
            action="回访不满意退回",
            note="客户不满意，退回处理中"
            + (f"；已安排再次回访 {next_plan.due:%Y-%m-%d}" if next_plan else ""),
        )
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


def closing_visit_plan(
    ctx: ServiceContext, complaint_id: int, expected_version: int | None = None
) -> ClosingVisitPlan | None:
    """Check that the acting user may record the complaint's closing visit now (visible, unchanged since
    ``expected_version``, 待回访, and the visitor its plan names or theirs to work on — never the handler
    when independence is on: :func:`~.reading._check_closing_visitor`); the plan to record it against when the complaint has a
    customer file and a pending closing-visit plan, else None (the visit is kept on the complaint)."""
    with ctx.sessions() as s:
        c = _load(s, ctx, complaint_id, reading=True)  # the planned visitor may be of another department
        _check_version(c, expected_version, s, ctx.user.id)
        if ComplaintState(c.state) is not ComplaintState.AWAITING_VISIT:
            _check_can_work(ctx, c, "登记结案回访")
            raise ValidationError(
                FieldError("state", "状态", f"投诉 {c.number} 为“{c.state}”，须先办结转入待回访")
            )
        plan = _check_closing_visitor(s, ctx, c)
        if plan is None or c.customer_id is None:
            return None
        return ClosingVisitPlan(c.id, c.number, c.customer_id, plan.id)


def record_closing_visit(
    ctx: ServiceContext, complaint_id: int, draft: ClosingVisitDraft, expected_version: int | None = None
) -> ComplaintDetail:
    """Record the closing visit kept on the complaint: one without a customer file (or without a pending
    plan). With one, the visit is a full 回访记录表 (numbered, in the customer's visit history) and is recorded
    by :func:`huifang_desktop.services.workflow.record_closing_visit`; asked here, it is refused."""
    if closing_visit_plan(ctx, complaint_id, expected_version) is not None:
        raise ValidationError(
            FieldError("visit_plan_id", "结案回访", "该投诉有客户档案和回访计划，请填写回访记录表")
        )
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
        c = _load(s, ctx, complaint_id, reading=True)
        audit(
            s,
            ctx,
            "登记结案回访",
            "complaint",
            c.id,
            _label(c),
            new={"result": result, "satisfaction": draft.satisfaction, "visited_at": when.isoformat(sep=" ")},
        )
        apply_closing_visit_in(
            s,
            ctx,
            c.id,
            reached=reached,
            satisfied=satisfied,
            satisfaction=clean_text(draft.satisfaction) if reached else "",
            visited_at=when,
            note=note,
            record_id=None,
            next_plan=None,
        )
        s.flush()
        return _detail(s, ctx, c)
