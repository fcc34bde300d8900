"""回访率 and on-time rate: plan counts in one GROUP BY, grouped by clerk, class, type, month …"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, extract, func, select

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.visits import on_time_rate, visit_rate
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.policy import customer_scope
from huifang_desktop.services.visits.options import _CANCELLED, _DONE, _PENDING, load_rules, rule_names
from huifang_desktop.services.visits.rows import GroupBy, RateRow
from huifang_desktop.services.visits.shared import _user_names
from huifang_desktop.storage.models import Customer, Department, User, VisitPlan

# --- rates -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanCount:
    """Plans due in a period of one combination of keys (:func:`plan_counts`) and one rule."""

    key: tuple[Any, ...]  # the raw values of the keys asked for, in order (user ids, labels, year, month)
    rule_key: str
    planned: int
    done: int
    on_time: int
    overdue: int


PLAN_COUNT_KEYS: tuple[str, ...] = ("owner", "grade", "type", "department", "year", "month")
_RATE_KEYS: dict[str | None, tuple[str, ...]] = {
    "clerk": ("owner",),
    "grade": ("grade",),
    "type": ("type",),
    "month": ("year", "month"),
    "department": ("department",),
    "rule": (),
    None: (),
}


def plan_counts(ctx: ServiceContext, start: date, end: date, keys: Sequence[str] = ()) -> list[PlanCount]:
    """The counts behind :func:`rates`, in one GROUP BY (``keys``…, rule) over the plans due in [start, end]:
    planned (not cancelled), done (已回访), on time (done on or before the due day), overdue (still pending
    after it). ``keys`` from :data:`PLAN_COUNT_KEYS`: owner (user id), grade, type, department (the owner's
    department id), year, month (of the due day). Visibility (department setting) applies."""
    today = ctx.today()
    scope = customer_scope(ctx)
    columns: list[Any] = []
    for k in keys:
        if k == "owner":
            columns.append(VisitPlan.owner_id)
        elif k == "grade":
            columns.append(Customer.grade)
        elif k == "type":
            columns.append(VisitPlan.visit_type)
        elif k == "department":
            columns.append(User.department_id)
        elif k == "year":
            columns.append(extract("year", VisitPlan.due))
        elif k == "month":
            columns.append(extract("month", VisitPlan.due))
        else:
            raise ValidationError(FieldError("group_by", "分组", f"“{k}”不是有效的分组"))
    labelled = [c.label(f"key{i}") for i, c in enumerate(columns)]
    q = (
        select(
            *labelled,
            VisitPlan.rule_key,
            func.count().label("planned"),
            func.sum(case((VisitPlan.state == _DONE, 1), else_=0)).label("done"),
            func.sum(
                case((and_(VisitPlan.state == _DONE, VisitPlan.done_on <= VisitPlan.due), 1), else_=0)
            ).label("on_time"),
            func.sum(case((and_(VisitPlan.state == _PENDING, VisitPlan.due < today), 1), else_=0)).label(
                "overdue"
            ),
        )
        .where(VisitPlan.due >= start, VisitPlan.due <= end, VisitPlan.state != _CANCELLED)
        .group_by(*columns, VisitPlan.rule_key)
    )
    if "grade" in keys or scope.limited:
        q = scope.where(q.join(Customer, Customer.id == VisitPlan.customer_id))
    if "department" in keys:
        q = q.outerjoin(User, User.id == VisitPlan.owner_id)
    with ctx.sessions() as s:
        return [
            PlanCount(
                tuple(r._mapping[f"key{i}"] for i in range(len(columns))),
                r.rule_key,
                int(r.planned or 0),
                int(r.done or 0),
                int(r.on_time or 0),
                int(r.overdue or 0),
            )
            for r in s.execute(q)
        ]


def rates(ctx: ServiceContext, start: date, end: date, group_by: GroupBy = None) -> list[RateRow]:
    """回访率 (done ÷ planned) and on-time rate per clerk / class / type / month / rule / department, in SQL
    (:func:`plan_counts`). ``target``: the rules' target rate weighted by plans. Department: the department of
    the plan's owner; clerk and department 未分配 without one."""
    if group_by not in _RATE_KEYS:
        raise ValidationError(FieldError("group_by", "分组", f"“{group_by}”不是有效的分组"))
    rules = load_rules(ctx)
    targets = {r.key: r.target_rate for r in rules.rules}
    default_target = 1.0
    counts = plan_counts(ctx, start, end, _RATE_KEYS[group_by])
    names: dict[int, str] = {}
    if group_by in ("clerk", "department"):
        with ctx.sessions() as s:
            names = (
                _user_names(s)
                if group_by == "clerk"
                else {i: n for i, n in s.execute(select(Department.id, Department.name))}
            )
    rule_label = rule_names(rules)
    acc: dict[str, list[float]] = {}
    for c in counts:
        if group_by in ("clerk", "department"):
            key = names.get(c.key[0], "") if c.key[0] is not None else "未分配"
        elif group_by == "month":
            key = f"{int(c.key[0]):04d}-{int(c.key[1]):02d}"
        elif group_by == "rule":
            key = rule_label.get(c.rule_key, c.rule_key)
        elif group_by is None:
            key = "合计"
        else:
            key = str(c.key[0] or "")
        a = acc.setdefault(key, [0, 0, 0, 0, 0.0])
        a[0] += c.planned
        a[1] += c.done
        a[2] += c.on_time
        a[3] += c.overdue
        a[4] += c.planned * targets.get(c.rule_key, default_target)
    out = []
    for key in sorted(acc):
        n_planned, n_done, n_on_time, n_overdue = (int(x) for x in acc[key][:4])
        weighted = acc[key][4]
        out.append(
            RateRow(
                key,
                n_planned,
                n_done,
                n_on_time,
                n_overdue,
                visit_rate(n_done, n_planned),
                on_time_rate(n_on_time, n_planned),
                weighted / n_planned if n_planned else None,
            )
        )
    return out
