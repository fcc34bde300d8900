"""Customer classes over time (客户等级): recompute from the purchases, the monthly run, pins, class history.

The rules are in :mod:`huifang_desktop.domain.classes`; this module loads the figures, stores the class and
its history row, audits, and settles the customer's pending routine plans on a change:

* a class is recomputed when the volume changes (a purchase added, :func:`regrade_in`) and once a month for
  every customer (:func:`monthly_recompute`, run at start-up and by ``plan``; idempotent within a month);
* every change writes a :class:`~huifang_desktop.storage.models.CustomerClass` row and sets
  ``customer.grade_since`` to the change day, from which the new routine cadence counts (never backdated);
* pending, untouched routine/technical plans due on or after the change day that the new class does not
  have are cancelled with the reason; those it has are re-dated by the next catch-up from the change day;
  plans already overdue on that day stay as they are — a miss made under the old class stands.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from huifang_desktop.domain.classes import (
    SOURCE_AUTO,
    SOURCE_IMPORT,
    SOURCE_START,
    ClassChange,
    ClassPolicy,
    Imported,
    decide_class,
    month_key,
    shown_volume,
    vip_cutoff_of,
    volume_windows,
)
from huifang_desktop.domain.importing import ImportTarget
from huifang_desktop.domain.schedule import ROUTINE_RULE, TECHNICAL_RULE, RuleSet
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import NotFound
from huifang_desktop.services.policy import check_visible
from huifang_desktop.services.settings import OfficeSettings, load_settings, settings_in, value_in
from huifang_desktop.storage.models import (
    Customer,
    CustomerClass,
    ImportItem,
    ImportRun,
    Purchase,
    Setting,
    User,
    VisitPlan,
)

RULES_KEY = "visit_rules"  # the office's rule table (as services.visits.options stores it)
RECOMPUTE_MONTH_KEY = "class_recompute_month"  # the Setting holding the last month recomputed (YYYY-MM)
_PENDING, _CANCELLED = "待回访", "已取消"


@dataclass(frozen=True, slots=True)
class ClassHistoryRow:
    """One class a customer had, from ``since``: as the customer dialog lists it."""

    grade: str
    since: date
    source: str
    reason: str
    volume: int
    value: Decimal | None
    changed_by: str
    created_at: datetime


def class_policy(settings: OfficeSettings) -> ClassPolicy:
    return ClassPolicy(
        scheme=settings.class_scheme,
        period=settings.grading_period,
        window_days=settings.grading_window_days,
        thresholds=settings.thresholds,
        vip_share=settings.vip_share_percent / 100,
    )


def imported_customers(conn: Connection | Session) -> dict[int, date]:
    """Customers that came in by an Excel import (not undone) → the import's day."""
    rows = conn.execute(
        select(ImportItem.entity_id, func.max(ImportRun.created_at))
        .join(ImportRun, ImportRun.id == ImportItem.run_id)
        .where(ImportRun.target == ImportTarget.CUSTOMERS.value, ImportRun.undone_at.is_(None))
        .group_by(ImportItem.entity_id)
    )
    return {cid: at.date() for cid, at in rows}


def _figures(
    s: Session, today: date, policy: ClassPolicy, customer_id: int | None = None
) -> dict[int, tuple[int, Decimal]]:
    """Customer → (volume, value) on ``today``: the largest sums over the policy's windows."""
    out: dict[int, tuple[int, Decimal]] = {}
    for start, end in volume_windows(today, policy):
        q = (
            select(
                Purchase.customer_id,
                func.coalesce(func.sum(Purchase.quantity), 0),
                func.coalesce(func.sum(Purchase.amount), 0),
            )
            .where(Purchase.day > start, Purchase.day <= end)
            .group_by(Purchase.customer_id)
        )
        if customer_id is not None:
            q = q.where(Purchase.customer_id == customer_id)
        for cid, volume, value in s.execute(q):
            old = out.get(cid, (0, Decimal(0)))
            out[cid] = (max(old[0], int(volume)), max(old[1], Decimal(str(value or 0))))
    return out


def _cutoff(
    s: Session, today: date, policy: ClassPolicy, figures: dict[int, tuple[int, Decimal]] | None = None
) -> Decimal | None:
    """The VIP cutoff among all customers not archived (004): None under the ABCD scheme."""
    if policy.scheme != "VIP":
        return None
    figures = figures if figures is not None else _figures(s, today, policy)
    ids = s.execute(select(Customer.id).where(Customer.archived.is_(False))).scalars()
    return vip_cutoff_of([figures.get(cid, (0, Decimal(0)))[1] for cid in ids], policy)


def _imported_classes(s: Session, ids: Iterable[int] | None = None) -> dict[int, Imported]:
    q = select(
        CustomerClass.customer_id, CustomerClass.grade, CustomerClass.since, CustomerClass.volume
    ).where(CustomerClass.source == SOURCE_IMPORT)
    if ids is not None:
        q = q.where(CustomerClass.customer_id.in_(list(ids)))
    return {cid: Imported(grade, since, volume) for cid, grade, since, volume in s.execute(q)}


def _ensure_start_rows(s: Session, ctx: ServiceContext, customers: list[Customer]) -> None:
    """The first history row of files that have none: the class they had, from the import day (导入) or from
    the day it began (建档)."""
    if not customers:
        return
    have = set(
        s.execute(
            select(CustomerClass.customer_id)
            .where(CustomerClass.customer_id.in_([c.id for c in customers]))
            .distinct()
        ).scalars()
    )
    missing = [c for c in customers if c.id not in have]
    if not missing:
        return
    imported = imported_customers(s)
    for c in missing:
        day = imported.get(c.id)
        s.add(
            CustomerClass(
                customer_id=c.id,
                grade=c.grade,
                since=day or c.grade_since or c.created_on,
                source=SOURCE_IMPORT if day else SOURCE_START,
                reason="",
                volume=c.annual_volume,
                value=None,
                changed_by_id=None,
                created_at=ctx.now(),
            )
        )
    s.flush()


def _rules_in(s: Session) -> RuleSet:
    data = value_in(s, RULES_KEY)
    return RuleSet() if not data else RuleSet.from_dict(data)


def settle_plans(s: Session, c: Customer, old: str, new: str, day: date, rules: RuleSet) -> int:
    """Cancel the customer's pending, untouched routine/technical plans due on or after ``day`` that class
    ``new`` does not have; returns how many. Overdue plans (due before ``day``) are left: a miss stands."""
    keep = set()
    if rules.routine_interval(new) is not None:
        keep.add(ROUTINE_RULE)
    if new.strip().upper() in {g.upper() for g in rules.technical_grades}:
        keep.add(TECHNICAL_RULE)
    drop = [k for k in (ROUTINE_RULE, TECHNICAL_RULE) if k not in keep]
    if not drop:
        return 0
    result = s.execute(
        update(VisitPlan)
        .where(
            VisitPlan.customer_id == c.id,
            VisitPlan.state == _PENDING,
            VisitPlan.manual.is_(False),
            VisitPlan.attempt == 1,
            VisitPlan.rule_key.in_(drop),
            VisitPlan.due >= day,
        )
        .values(
            state=_CANCELLED,
            cancel_reason=f"客户等级由 {old} 变为 {new}（{day:%Y-%m-%d}），无需此项回访",
            version=VisitPlan.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def apply_class(
    s: Session,
    ctx: ServiceContext,
    c: Customer,
    new: str,
    day: date,
    source: str,
    *,
    reason: str = "",
    volume: int | None = None,
    value: Decimal | None = None,
    rules: RuleSet | None = None,
    quiet: bool = False,
) -> bool:
    """Give ``c`` class ``new`` from ``day`` (history row, ``grade_since``, audit, plans); False when it
    already has that class (nothing written). ``quiet``: the caller writes its own audit row (a pin)."""
    old = c.grade
    if new == old:
        return False
    _ensure_start_rows(s, ctx, [c])
    c.grade, c.grade_since = new, day
    s.add(
        CustomerClass(
            customer_id=c.id,
            grade=new,
            since=day,
            source=source,
            reason=reason,
            volume=c.annual_volume if volume is None else volume,
            value=value,
            changed_by_id=ctx.user.id or None,
            created_at=ctx.now(),
        )
    )
    if rules is None:
        rules = _rules_in(s)
    cancelled = settle_plans(s, c, old, new, day, rules)
    if quiet:
        return True
    note = f"年采购量 {c.annual_volume if volume is None else volume}" + (f"；{reason}" if reason else "")
    if cancelled:
        note += f"；取消不再需要的例行回访计划 {cancelled} 条"
    audit(
        s,
        ctx,
        "重新分级",
        "customer",
        c.id,
        f"{c.code} {c.name}",
        old={"grade": old},
        new={"grade": new},
        note=note,
    )
    return True


def regrade_in(
    s: Session,
    ctx: ServiceContext,
    c: Customer,
    settings: OfficeSettings | None = None,
    day: date | None = None,
    *,
    rules: RuleSet | None = None,
) -> str:
    """Recompute one customer's class on ``day`` (default today) inside the caller's transaction: after a
    purchase is added or edited, or by hand. A pinned class only gets its volume refreshed."""
    settings = settings or settings_in(s)
    day = day or ctx.today()
    policy = class_policy(settings)
    figures = _figures(s, day, policy) if policy.scheme == "VIP" else _figures(s, day, policy, c.id)
    volume, value = figures.get(c.id, (0, Decimal(0)))
    _ensure_start_rows(s, ctx, [c])
    imported = _imported_classes(s, [c.id]).get(c.id)
    shown = shown_volume(volume, day, imported)
    if c.annual_volume != shown:
        c.annual_volume = shown
    if c.grade_pinned:
        return c.grade
    new = decide_class(volume, value, _cutoff(s, day, policy, figures), policy, today=day, imported=imported)
    apply_class(s, ctx, c, new, day, SOURCE_AUTO, volume=volume, value=value, rules=rules)
    return c.grade


def recompute_all(ctx: ServiceContext, day: date | None = None) -> list[ClassChange]:
    """Recompute every customer's class on ``day`` (files not archived, not pinned); the changes made."""
    day = day or ctx.today()
    changes: list[ClassChange] = []
    with ctx.sessions() as s, s.begin():
        rules = _rules_in(s)
        policy = class_policy(settings_in(s))
        figures = _figures(s, day, policy)
        cutoff = _cutoff(s, day, policy, figures)
        customers = list(s.execute(select(Customer).where(Customer.archived.is_(False))).scalars())
        _ensure_start_rows(s, ctx, customers)
        imported = _imported_classes(s)
        for c in customers:
            volume, value = figures.get(c.id, (0, Decimal(0)))
            shown = shown_volume(volume, day, imported.get(c.id))
            if c.annual_volume != shown:
                c.annual_volume = shown
            if c.grade_pinned:
                continue
            old = c.grade
            new = decide_class(volume, value, cutoff, policy, today=day, imported=imported.get(c.id))
            if apply_class(s, ctx, c, new, day, SOURCE_AUTO, volume=volume, value=value, rules=rules):
                changes.append(ClassChange(c.id, old, new, day, volume, value))
    return changes


def monthly_recompute(ctx: ServiceContext, day: date | None = None) -> list[ClassChange] | None:
    """The monthly recompute (run at start-up and by ``plan``): once for each month the program is used in,
    on the first run of that month, as of that day — never dated back to a month's start. None when this
    month's recompute already ran (idempotent)."""
    day = day or ctx.today()
    month = month_key(day)
    with ctx.sessions() as s:
        done = value_in(s, RECOMPUTE_MONTH_KEY)
    if isinstance(done, str) and done >= month:
        return None
    changes = recompute_all(ctx, day)
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, RECOMPUTE_MONTH_KEY)
        if row is None:
            s.add(Setting(key=RECOMPUTE_MONTH_KEY, value=json.dumps(month)))
        else:
            row.value = json.dumps(month)
        audit(
            s,
            ctx,
            "每月重新分级",
            "setting",
            None,
            month,
            new={"调整": len(changes)},
            note=f"{day:%Y-%m-%d} 按最近采购量重新计算客户等级",
        )
    return changes


def class_history(ctx: ServiceContext, customer_id: int) -> list[ClassHistoryRow]:
    """A customer's classes, newest first (empty before the first recompute or change)."""
    settings = load_settings(ctx)
    with ctx.sessions() as s:
        c = s.get(Customer, customer_id)
        if c is None:
            raise NotFound(f"客户档案 {customer_id} 不存在。")
        check_visible(ctx, c, settings)
        q = (
            select(CustomerClass, User.display_name)
            .outerjoin(User, User.id == CustomerClass.changed_by_id)
            .where(CustomerClass.customer_id == customer_id)
            .order_by(CustomerClass.since.desc(), CustomerClass.id.desc())
        )
        return [
            ClassHistoryRow(r.grade, r.since, r.source, r.reason, r.volume, r.value, name or "", r.created_at)
            for r, name in s.execute(q)
        ]


__all__ = [
    "RECOMPUTE_MONTH_KEY",
    "ClassHistoryRow",
    "apply_class",
    "class_history",
    "class_policy",
    "imported_customers",
    "monthly_recompute",
    "recompute_all",
    "regrade_in",
    "settle_plans",
]
