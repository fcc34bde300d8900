"""The calendar's plans: views (list, day counts, due summary) and edits (move, cancel, add)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.signoff import require_reason
from huifang_desktop.domain.validation import already, format_phone, parse_date
from huifang_desktop.domain.visits import (
    OVERDUE,
    VisitMethod,
    VisitType,
    cancel_reason,
    change_needs_supervisor,
    display_state,
    may_change_after_due,
    may_change_others_plans,
)
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit
from huifang_desktop.services.errors import ConflictError, NotFound, PermissionDenied
from huifang_desktop.services.policy import check_visible, customer_scope, work_calendar
from huifang_desktop.services.settings import load_settings
from huifang_desktop.services.visits.options import _CANCELLED, _DONE, _PENDING, MANUAL_RULE, RECORD_RETURNED
from huifang_desktop.services.visits.rows import DayCount, MoveResult, PlanRow
from huifang_desktop.services.visits.shared import _enum_field, _load_plan
from huifang_desktop.storage.models import Customer, User, VisitPlan, VisitRecord


def _owner_ids_for_team(s: Session, ctx: ServiceContext, owner_id: int | None) -> Any:
    dep = ctx.user.department_id
    if owner_id is not None:
        dep = s.execute(select(User.department_id).where(User.id == owner_id)).scalar()
    return select(User.id).where(User.department_id == dep)


def _plan_select() -> Any:
    """The columns of :class:`PlanRow`, in the order :func:`_plan_row` unpacks them."""
    rec = aliased(VisitRecord)
    return (
        select(
            VisitPlan.id,
            VisitPlan.customer_id,
            Customer.code,
            Customer.name,
            Customer.grade,
            Customer.primary_phone,
            VisitPlan.visit_type,
            VisitPlan.method,
            VisitPlan.earliest,
            VisitPlan.due,
            User.display_name,
            VisitPlan.state,
            VisitPlan.attempt,
            VisitPlan.rule_key,
            rec.number,
            VisitPlan.owner_id,
            VisitPlan.manual,
            VisitPlan.version,
            VisitPlan.cancel_reason,
            VisitPlan.done_on,
            rec.id,
            rec.status,
        )
        .join(Customer, Customer.id == VisitPlan.customer_id)
        .outerjoin(User, User.id == VisitPlan.owner_id)
        .outerjoin(rec, rec.id == VisitPlan.record_id)
    )


def _plan_row(r: Any, today: date) -> PlanRow:
    # unpacked by name (a Row's attribute look-up costs ten times an index on a calendar's thousands of rows)
    (
        plan_id,
        customer_id,
        code,
        name,
        grade,
        phone,
        visit_type,
        method,
        earliest,
        due,
        owner,
        state,
        attempt,
        rule_key,
        record_number,
        owner_id,
        manual,
        version,
        why,
        done_on,
        record_id,
        record_status,
    ) = r
    return PlanRow(
        id=plan_id,
        customer_id=customer_id,
        customer_code=code,
        customer_name=name,
        grade=grade,
        phone=format_phone(phone),
        visit_type=visit_type,
        method=method,
        earliest=earliest,
        due=due,
        owner=owner or "",
        state=state,
        display_state=display_state(state, due, today),
        attempt=attempt,
        rule_key=rule_key,
        record_number=record_number or "",
        owner_id=owner_id,
        manual=bool(manual),
        version=version,
        cancel_reason=why or "",
        done_on=done_on,
        record_id=record_id,
        record_status=record_status or "",
    )


def _get_plan_row(s: Session, plan_id: int, today: date) -> PlanRow:
    r = s.execute(_plan_select().where(VisitPlan.id == plan_id)).one_or_none()
    if r is None:
        raise NotFound(f"回访计划 {plan_id} 不存在。")
    return _plan_row(r, today)


# --- plan views --------------------------------------------------------------------------------------


def list_plans(
    ctx: ServiceContext,
    *,
    start: date,
    end: date,
    owner_id: int | None = None,
    team: bool = False,
    states: set[str] | None = None,
    limit: int | None = None,
) -> list[PlanRow]:
    """Plans due in [start, end], by due date. ``owner_id``: one person's; ``team``: their department's
    (the acting user's when no owner is given). ``states`` may hold 待回访/已回访/已取消, 逾期, and 退回
    (visited, the record returned by the supervisor for correction). A returned record is its visitor's to
    correct, so for 退回 the person is the record's visitor (as in 审阅's 我的退回), not the plan's owner."""
    today = ctx.today()
    scope = customer_scope(ctx)
    with ctx.sessions() as s:
        q = scope.where(_plan_select().where(VisitPlan.due >= start, VisitPlan.due <= end))
        people: Any = None
        if team:
            people = _owner_ids_for_team(s, ctx, owner_id)
        elif owner_id is not None:
            people = [owner_id]
        owned: Any = VisitPlan.owner_id.in_(people) if people is not None else true()
        if states:
            stored = {st for st in states if st not in (OVERDUE, RECORD_RETURNED)}
            conds: list[Any] = []
            if stored:
                conds.append(and_(owned, VisitPlan.state.in_(stored)))
            if OVERDUE in states:
                conds.append(and_(owned, VisitPlan.state == _PENDING, VisitPlan.due < today))
            if RECORD_RETURNED in states:  # few: found from the records' status index, then by plan id
                returned = select(VisitRecord.plan_id).where(VisitRecord.status == RECORD_RETURNED)
                if people is not None:
                    returned = returned.where(VisitRecord.visitor_id.in_(people))
                conds.append(VisitPlan.id.in_(returned))
            q = q.where(or_(*conds))
        elif people is not None:
            q = q.where(owned)
        q = q.order_by(VisitPlan.due, VisitPlan.id)
        if limit:
            q = q.limit(limit)
        return [_plan_row(r, today) for r in s.execute(q)]


def get_plan(ctx: ServiceContext, plan_id: int) -> PlanRow:
    with ctx.sessions() as s:
        return _get_plan_row(s, plan_id, ctx.today())


def day_counts(
    ctx: ServiceContext, start: date, end: date, owner_id: int | None = None, *, team: bool = False
) -> dict[date, DayCount]:
    """Planned (not cancelled), done and overdue plans per due day, one GROUP BY on the due index."""
    today = ctx.today()
    scope = customer_scope(ctx)
    with ctx.sessions() as s:
        q = select(
            VisitPlan.due,
            func.count(),
            func.sum(case((VisitPlan.state == _DONE, 1), else_=0)),
            func.sum(case((and_(VisitPlan.state == _PENDING, VisitPlan.due < today), 1), else_=0)),
        ).where(VisitPlan.due >= start, VisitPlan.due <= end, VisitPlan.state != _CANCELLED)
        if team:
            q = q.where(VisitPlan.owner_id.in_(_owner_ids_for_team(s, ctx, owner_id)))
        elif owner_id is not None:
            q = q.where(VisitPlan.owner_id == owner_id)
        if scope.limited:
            q = scope.where(q.join(Customer, Customer.id == VisitPlan.customer_id))
        rows = s.execute(q.group_by(VisitPlan.due)).all()
    return {due: DayCount(int(n), int(done or 0), int(late or 0)) for due, n, done, late in rows}


def due_summary(
    ctx: ServiceContext, today: date | None = None, owner_id: int | None = None
) -> tuple[int, int]:
    """(due today, overdue) pending plans, for the reminder at start."""
    today = today or ctx.today()
    with ctx.sessions() as s:
        q = select(
            func.sum(case((VisitPlan.due == today, 1), else_=0)),
            func.sum(case((VisitPlan.due < today, 1), else_=0)),
        ).where(VisitPlan.state == _PENDING, VisitPlan.due <= today)
        if owner_id is not None:
            q = q.where(VisitPlan.owner_id == owner_id)
        due, late = s.execute(q).one()
    return int(due or 0), int(late or 0)


# --- plan edits --------------------------------------------------------------------------------------


def _check_plan_rights(ctx: ServiceContext, owner_id: int | None, what: str) -> None:
    ctx.require(Permission.EDIT_CUSTOMERS, what)
    if ctx.user.id and not may_change_others_plans(ctx.user.role) and owner_id not in (None, ctx.user.id):
        raise PermissionDenied(f"只能{what}自己负责的回访计划，其他人的计划请主管处理。")


def _check_due_rights(ctx: ServiceContext, plan: VisitPlan, what: str, reason: str) -> str:
    """A miss stands (domain.md §9): a clerk may re-date or cancel a plan only until its due day (the visit
    can still be made that day); once the due day has passed only a supervisor may (``EDIT_OVERDUE_PLANS``),
    with a reason (returned, for the audit). A confirmed month's 考核 is frozen, so this never removes a charge
    from it."""
    if not change_needs_supervisor(plan.due, ctx.today()) or ctx.user is SYSTEM_USER:
        return reason.strip()
    if not may_change_after_due(ctx.user.role):
        raise PermissionDenied(
            f"该回访计划已过期（应于 {plan.due:%Y-%m-%d} 完成），只有主管才能{what}；未按期回访照常计入考核。"
        )
    return require_reason(reason, f"{what}原因")


def move_plan(
    ctx: ServiceContext, plan_id: int, new_due: date | str, expected_version: int, reason: str = ""
) -> MoveResult:
    """Move a pending plan to another day (kept by later re-planning: ``manual``). A non-working day is
    moved on to the next working day, and the result says so. From the due day on only a supervisor, with a
    ``reason`` (:func:`_check_due_rights`)."""
    day = parse_date(new_due, label="计划日期", field="due", required=True)
    assert day is not None
    cal = work_calendar(ctx)
    shifted_day = cal.next_workday(day)
    try:
        with ctx.sessions() as s, s.begin():
            plan = _load_plan(s, plan_id)
            _check_plan_rights(ctx, plan.owner_id, "调整")
            why = _check_due_rights(ctx, plan, "调整", reason) if plan.state == _PENDING else ""
            if plan.version != expected_version:
                raise ConflictError(
                    f"该回访计划已被其他人修改（版本 {expected_version} → {plan.version}），请刷新后再调整。"
                )
            if plan.state != _PENDING:
                raise ValidationError(
                    FieldError("due", "计划日期", f"计划{already(plan.state)}，不能再调整日期")
                )
            old = {"due": plan.due.isoformat(), "earliest": plan.earliest.isoformat()}
            plan.due = shifted_day
            plan.earliest = min(plan.earliest, shifted_day)
            plan.manual = True
            audit(
                s,
                ctx,
                "调整回访计划",
                "visit_plan",
                plan.id,
                plan.source_key,
                old=old,
                new={"due": shifted_day.isoformat(), "earliest": plan.earliest.isoformat()},
                note="；".join(
                    x for x in (why, "" if shifted_day == day else f"{day:%Y-%m-%d} 非工作日，顺延") if x
                ),
            )
            s.flush()
            row = _get_plan_row(s, plan.id, ctx.today())
    except StaleDataError:
        raise ConflictError("该回访计划刚被其他人修改，请刷新后再调整。") from None
    if shifted_day != day:
        msg = f"{day:%Y-%m-%d} 不是工作日，已顺延到 {shifted_day:%Y-%m-%d}。"
    else:
        msg = f"已调整到 {day:%Y-%m-%d}。"
    return MoveResult(row, shifted_day != day, msg)


def cancel_plan(
    ctx: ServiceContext, plan_id: int, reason: str, expected_version: int | None = None
) -> PlanRow:
    """Cancel a pending plan (已取消); the reason is required and kept. From the due day on only a supervisor
    (:func:`_check_due_rights`)."""
    why = cancel_reason(reason)
    try:
        with ctx.sessions() as s, s.begin():
            plan = _load_plan(s, plan_id)
            _check_plan_rights(ctx, plan.owner_id, "取消")
            if plan.state == _PENDING:
                _check_due_rights(ctx, plan, "取消", why)
            if expected_version is not None and plan.version != expected_version:
                raise ConflictError("该回访计划已被其他人修改，请刷新后再取消。")
            if plan.state != _PENDING:
                raise ValidationError(FieldError("state", "计划状态", f"计划{already(plan.state)}，不能取消"))
            plan.state, plan.cancel_reason = _CANCELLED, why
            audit(
                s,
                ctx,
                "取消回访计划",
                "visit_plan",
                plan.id,
                plan.source_key,
                old={"state": _PENDING},
                new={"state": _CANCELLED},
                note=why,
            )
            s.flush()
            return _get_plan_row(s, plan.id, ctx.today())
    except StaleDataError:
        raise ConflictError("该回访计划刚被其他人修改，请刷新后再取消。") from None


def add_manual_plan(
    ctx: ServiceContext,
    customer_id: int,
    visit_type: str,
    method: str,
    due: date | str,
    owner_id: int | None = None,
) -> PlanRow:
    """A visit planned by hand (kept by re-planning). A non-working day moves to the next working day."""
    errors: list[FieldError] = []
    vt = _enum_field(VisitType, visit_type, "visit_type", "回访类型", errors)
    vm = _enum_field(VisitMethod, method, "method", "回访方式", errors)
    try:
        day = parse_date(due, label="计划日期", field="due", required=True)
    except ValidationError as exc:
        errors += exc.errors
        day = None
    if day is not None and day < ctx.today():
        errors.append(FieldError("due", "计划日期", "不能早于今天"))
    if errors:
        raise ValidationError(errors)
    assert day is not None and vt is not None and vm is not None
    day = work_calendar(ctx).next_workday(day)
    office = load_settings(ctx)
    with ctx.sessions() as s, s.begin():
        c = s.get(Customer, customer_id)
        if c is None:
            raise NotFound(f"客户档案 {customer_id} 不存在。")
        check_visible(ctx, c, office)
        owner = owner_id if owner_id is not None else (ctx.user.id or c.owner_id)
        _check_plan_rights(ctx, owner, "安排")
        if owner is not None:
            u = s.get(User, owner)
            if u is None or not u.active:
                raise ValidationError(FieldError("owner_id", "回访人", "所选回访人不存在或已停用"))
        plan = VisitPlan(
            customer_id=c.id,
            source_key=f"manual:{uuid.uuid4().hex}",
            rule_key=MANUAL_RULE,
            visit_type=vt.value,
            method=vm.value,
            earliest=day,
            due=day,
            owner_id=owner,
            attempt=1,
            state=_PENDING,
            cancel_reason="",
            manual=True,
            created_at=ctx.now(),
        )
        s.add(plan)
        s.flush()
        audit(
            s,
            ctx,
            "安排回访",
            "visit_plan",
            plan.id,
            f"{c.code} {c.name}",
            new={"due": day.isoformat(), "visit_type": vt.value, "method": vm.value},
        )
        return _get_plan_row(s, plan.id, ctx.today())
