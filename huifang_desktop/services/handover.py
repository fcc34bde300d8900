"""Hand-over (工作交接) when a user leaves (domain.md §1, issue 19 item 8), and the reminder list of new
customer files not registered within 5 working days (002 §1.4).

:func:`hand_over` moves, in ONE transaction with one audit trail, everything the leaver still holds to
the successors (in turn, :func:`huifang_desktop.domain.handover.spread`): their customers (each file's
备注 notes it), pending visit plans (a plan follows its customer to the customer's new owner; a
satisfaction or closing visit never goes to the customer's own 业务员 when another successor can take it),
open complaints (to a successor of the complaint's level, else the first active user of that level) and
回访报告表 drafts. Each plan's owner change is kept (``plan_owner_change``) with the hand-over day
(``handover``), so the 考核 charges whoever owned a plan when its window closed — never the leaver for a
window that closes after the hand-over. Every other change of a pending plan's owner (a customer reassigned,
a closing visit re-planned) is kept the same way, through :func:`change_plan_owner`.
:func:`disable_user` is the administrator's 停用 with hand-over.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaints import OPEN_STATES
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.handover import (
    OwnerChange,
    missing_basics,
    owner_on,
    registration_due,
    spread,
)
from huifang_desktop.domain.roles import Permission, Role, can, reaches_level
from huifang_desktop.domain.validation import clean_text, format_phone
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import NotFound, ServiceError
from huifang_desktop.services.policy import customer_scope, work_calendar
from huifang_desktop.services.visits import independence_on, load_options
from huifang_desktop.storage.models import (
    Complaint,
    ComplaintEvent,
    Customer,
    Handover,
    PlanOwnerChange,
    User,
    VisitPlan,
    VisitReport,
)

_PENDING = "待回访"
_DRAFT = "草稿"


@dataclass(frozen=True, slots=True)
class HandoverResult:
    handover_id: int
    handed_over_on: date
    customers: int
    plans: int
    complaints: int
    drafts: int

    @property
    def text(self) -> str:
        return (
            f"{self.handed_over_on:%Y-%m-%d} 交接：客户 {self.customers} 个，待回访计划 {self.plans} 条，"
            f"未结投诉 {self.complaints} 件，报告草稿 {self.drafts} 份"
        )


def _successors(s: Session, leaver: User, successor_ids: Sequence[int]) -> list[User]:
    ids = list(dict.fromkeys(successor_ids))
    if not ids:
        raise ValidationError(FieldError("successor_ids", "接手人", "至少选择一位接手人"))
    if leaver.id in ids:
        raise ValidationError(FieldError("successor_ids", "接手人", "接手人不能是交出工作的人本人"))
    people = [s.get(User, uid) for uid in ids]
    if any(u is None or not u.active or not can(Role(u.role), Permission.EDIT_CUSTOMERS) for u in people):
        raise ValidationError(FieldError("successor_ids", "接手人", "接手人不存在、已停用或不能负责客户"))
    return [u for u in people if u is not None]


def _hand_over_in(
    s: Session, ctx: ServiceContext, leaver: User, successors: list[User], note: str
) -> HandoverResult:
    today, now = ctx.today(), ctx.now()
    by_id = {u.id: u for u in successors}
    order = [u.id for u in successors]
    record = Handover(
        from_user_id=leaver.id,
        handed_over_on=today,
        note=note,
        summary="{}",
        created_by_id=ctx.user.id or None,
        created_at=now,
    )
    s.add(record)
    s.flush()

    customer_ids = s.execute(select(Customer.id).where(Customer.owner_id == leaver.id)).scalars().all()
    new_owner = spread(customer_ids, order)
    for cid, uid in new_owner.items():
        c = s.get(Customer, cid)
        assert c is not None
        target = by_id[uid]
        c.owner_id, c.department_id = target.id, target.department_id
        line = f"{today:%Y-%m-%d} 工作交接：由 {leaver.display_name} 移交给 {target.display_name}" + (
            f"（{note}）" if note else ""
        )
        c.notes, c.updated_at = (c.notes + "\n" + line).strip(), now
        audit(
            s,
            ctx,
            "移交客户",
            "customer",
            c.id,
            f"{c.code} {c.name}",
            old={"owner": leaver.display_name},
            new={"owner": target.display_name},
            note=note or "工作交接",
        )

    independent = set(load_options(ctx).independent_visit_types) if independence_on(ctx) else set()
    plans = (
        s.execute(
            select(VisitPlan)
            .where(VisitPlan.owner_id == leaver.id, VisitPlan.state == _PENDING)
            .order_by(VisitPlan.id)
        )
        .scalars()
        .all()
    )
    fallback = spread([p.id for p in plans], order)
    for p in plans:
        customer_owner = s.execute(select(Customer.owner_id).where(Customer.id == p.customer_id)).scalar()
        uid = customer_owner if customer_owner in by_id else fallback[p.id]
        if p.visit_type in independent and uid == customer_owner:
            others = [u for u in order if u != customer_owner]
            uid = others[p.id % len(others)] if others else uid
        change_plan_owner(s, p, uid, on=today, at=now, reason="工作交接", handover_id=record.id)

    open_states = [st.value for st in OPEN_STATES]
    complaints = (
        s.execute(
            select(Complaint)
            .where(Complaint.handler_id == leaver.id, Complaint.state.in_(open_states))
            .order_by(Complaint.id)
        )
        .scalars()
        .all()
    )
    moved_complaints = 0
    for i, k in enumerate(complaints):
        level = Role(k.handler_role) if k.handler_role in {r.value for r in Role} else Role.CLERK
        fit = [u for u in successors if reaches_level(Role(u.role), level)]
        heir = fit[i % len(fit)] if fit else _anyone_at(s, level, leaver.id)
        if heir is None:
            raise ServiceError(
                f"投诉 {k.number} 须由{level.label}或更高级别负责，接手人中没有，办公室里也没有其他"
                "在职人员，请先添加该级别的用户。"
            )
        k.handler_id, k.updated_at = heir.id, now
        s.add(
            ComplaintEvent(
                complaint_id=k.id,
                at=now,
                user_id=ctx.user.id or None,
                username=ctx.user.display_name or ctx.user.username,
                action="转交",
                from_state="",
                to_state="",
                note=f"工作交接：{leaver.display_name} → {heir.display_name}",
            )
        )
        audit(
            s,
            ctx,
            "转交投诉",
            "complaint",
            k.id,
            f"{k.number} {k.subject}"[:200],
            old={"handler": leaver.display_name},
            new={"handler": heir.display_name},
            note="工作交接",
        )
        moved_complaints += 1

    drafts = (
        s.execute(select(VisitReport).where(VisitReport.clerk_id == leaver.id, VisitReport.status == _DRAFT))
        .scalars()
        .all()
    )
    for r in drafts:
        r.clerk_id = order[0]
    result = HandoverResult(record.id, today, len(customer_ids), len(plans), moved_complaints, len(drafts))
    record.summary = json.dumps(
        {
            "customers": result.customers,
            "plans": result.plans,
            "complaints": result.complaints,
            "drafts": result.drafts,
            "to": [u.display_name for u in successors],
        },
        ensure_ascii=False,
    )
    audit(
        s,
        ctx,
        "工作交接",
        "user",
        leaver.id,
        leaver.display_name,
        new={
            "customers": result.customers,
            "plans": result.plans,
            "complaints": result.complaints,
            "drafts": result.drafts,
            "to": [u.display_name for u in successors],
        },
        note=note,
    )
    return result


def change_plan_owner(
    s: Session,
    plan: VisitPlan,
    new_owner_id: int | None,
    *,
    on: date,
    at: datetime,
    reason: str,
    handover_id: int | None = None,
) -> bool:
    """Give ``plan`` to ``new_owner_id`` from ``on``, keeping the change (``plan_owner_change``) so the 考核
    still charges the previous owner for a window that closed before ``on``. Every change of a plan's owner
    goes through here (inside the caller's transaction). False when the owner is the same (nothing kept)."""
    if plan.owner_id == new_owner_id:
        return False
    s.add(
        PlanOwnerChange(
            plan_id=plan.id,
            old_owner_id=plan.owner_id,
            new_owner_id=new_owner_id,
            changed_on=on,
            changed_at=at,
            reason=reason[:200],
            handover_id=handover_id,
        )
    )
    plan.owner_id = new_owner_id
    return True


def plan_owner_changes(
    s: Session | Connection, plan_ids: Iterable[int] | Select[Any]
) -> dict[int, tuple[OwnerChange, ...]]:
    """plan id → its owner changes in the order they were made (plans never changed are left out).
    ``plan_ids``: ids, or a select of them (read in one query whatever its size)."""
    wanted: Any = plan_ids if isinstance(plan_ids, Select) else sorted(set(plan_ids))
    if isinstance(wanted, list) and not wanted:
        return {}
    changes: dict[int, list[OwnerChange]] = {}
    for pid, on, old, new in s.execute(
        select(
            PlanOwnerChange.plan_id,
            PlanOwnerChange.changed_on,
            PlanOwnerChange.old_owner_id,
            PlanOwnerChange.new_owner_id,
        )
        .where(PlanOwnerChange.plan_id.in_(wanted))
        .order_by(PlanOwnerChange.id)
    ):
        changes.setdefault(pid, []).append(OwnerChange(on, old, new))
    return {pid: tuple(ch) for pid, ch in changes.items()}


def plan_owners_on(s: Session | Connection, wanted: Mapping[int, date]) -> dict[int, int | None]:
    """plan id → who owned it on the given day (e.g. when its window closed), from ``plan_owner_change``
    (:func:`huifang_desktop.domain.handover.owner_on`): for the 考核, which charges that person."""
    if not wanted:
        return {}
    ids = sorted(wanted)
    current = dict(s.execute(select(VisitPlan.id, VisitPlan.owner_id).where(VisitPlan.id.in_(ids))).all())
    changes = plan_owner_changes(s, ids)
    return {pid: owner_on(current.get(pid), changes.get(pid, ()), day) for pid, day in wanted.items()}


def _anyone_at(s: Session, level: Role, leaver_id: int) -> User | None:
    for u in s.execute(
        select(User).where(User.active.is_(True), User.id != leaver_id).order_by(User.id)
    ).scalars():
        if reaches_level(Role(u.role), level):
            return u
    return None


def hand_over(
    ctx: ServiceContext, from_user_id: int, successor_ids: Sequence[int], note: str = ""
) -> HandoverResult:
    """A supervisor moves a user's open work to successors in one audited step (see the module doc)."""
    ctx.require(Permission.REASSIGN, "工作交接")
    why = clean_text(note)[:150]
    with ctx.sessions() as s, s.begin():
        leaver = s.get(User, from_user_id)
        if leaver is None:
            raise NotFound(f"用户 {from_user_id} 不存在。")
        return _hand_over_in(s, ctx, leaver, _successors(s, leaver, successor_ids), why)


def open_work(ctx: ServiceContext, user_id: int) -> dict[str, int]:
    """What a user still holds (for the 停用 dialog): customers, pending plans, open complaints, drafts."""
    ctx.require(Permission.MANAGE_USERS, "查看待交接的工作")
    open_states = [st.value for st in OPEN_STATES]
    with ctx.sessions() as s:

        def count(q: Select[Any]) -> int:
            return len(s.execute(q).scalars().all())

        return {
            "customers": count(select(Customer.id).where(Customer.owner_id == user_id)),
            "plans": count(
                select(VisitPlan.id).where(VisitPlan.owner_id == user_id, VisitPlan.state == _PENDING)
            ),
            "complaints": count(
                select(Complaint.id).where(Complaint.handler_id == user_id, Complaint.state.in_(open_states))
            ),
            "drafts": count(
                select(VisitReport.id).where(VisitReport.clerk_id == user_id, VisitReport.status == _DRAFT)
            ),
        }


def disable_user(
    ctx: ServiceContext, user_id: int, successor_ids: Sequence[int], note: str = ""
) -> HandoverResult | None:
    """停用用户 with hand-over, in one transaction: the user's open work goes to ``successor_ids`` (required
    when there is any), then the account is disabled. None when there was nothing to hand over."""
    ctx.require(Permission.MANAGE_USERS, "停用用户")
    from huifang_desktop.services.users import disable_in

    why = clean_text(note)[:150]
    with ctx.sessions() as s, s.begin():
        leaver = s.get(User, user_id)
        if leaver is None:
            raise NotFound(f"用户 {user_id} 不存在。")
        result = None
        if _holds_work(s, user_id) or successor_ids:
            result = _hand_over_in(s, ctx, leaver, _successors(s, leaver, successor_ids), why)
        disable_in(s, ctx, leaver)
        return result


def _holds_work(s: Session, user_id: int) -> bool:
    open_states = [st.value for st in OPEN_STATES]
    checks = (
        select(Customer.id).where(Customer.owner_id == user_id),
        select(VisitPlan.id).where(VisitPlan.owner_id == user_id, VisitPlan.state == _PENDING),
        select(Complaint.id).where(Complaint.handler_id == user_id, Complaint.state.in_(open_states)),
        select(VisitReport.id).where(VisitReport.clerk_id == user_id, VisitReport.status == _DRAFT),
    )
    return any(s.execute(q.limit(1)).first() is not None for q in checks)


# --- new files not registered within 5 working days (002 §1.4) ------------------------------------------


@dataclass(frozen=True, slots=True)
class UnregisteredFile:
    customer_id: int
    code: str
    name: str
    owner: str
    first_contact: date  # 建档日期
    due: date  # the last day to register (5 working days later)
    missing: tuple[str, ...]  # basic fields still empty


def unregistered_files(
    ctx: ServiceContext, today: date | None = None, lookback_days: int = 90
) -> list[UnregisteredFile]:
    """New customer files (建档 within ``lookback_days``) whose basic information (002 §1.3: 类别, 地址,
    联系人, 联系电话, 负责人) is still incomplete past the 5-working-day 备案 deadline, oldest first.
    Visible files only (the user's scope)."""
    day = today or ctx.today()
    cal = work_calendar(ctx)
    since = date.fromordinal(day.toordinal() - lookback_days)
    owner = select(User.display_name).where(User.id == Customer.owner_id).scalar_subquery()
    q = (
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            Customer.category,
            Customer.address,
            Customer.primary_contact,
            Customer.primary_phone,
            Customer.owner_id,
            owner.label("owner_name"),
            Customer.created_on,
        )
        .where(Customer.archived.is_(False), Customer.created_on >= since)
        .order_by(Customer.created_on, Customer.id)
    )
    q = customer_scope(ctx).where(q)
    out: list[UnregisteredFile] = []
    with ctx.sessions() as s:
        for r in s.execute(q):
            due = registration_due(r.created_on, cal)
            if due >= day:
                continue
            missing = missing_basics(
                {
                    "category": r.category,
                    "address": r.address,
                    "contact": r.primary_contact,
                    "phone": format_phone(r.primary_phone),
                    "owner": r.owner_id,
                }
            )
            if missing:
                out.append(
                    UnregisteredFile(
                        r.id, r.code, r.name, r.owner_name or "", r.created_on, due, tuple(missing)
                    )
                )
    return out
