"""A period's figures: visits (plans and records), complaints, the monthly trend, all of it at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, extract, func, or_, select

from huifang_desktop.domain.complaints import ComplaintState, Severity
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.stats import (
    Period,
    PeriodKind,
    Rate,
    StatsOptions,
    parse_period,
    summarize_satisfaction,
    trend_periods,
)
from huifang_desktop.domain.visits import SatisfactionScale, VisitResult, VisitType
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext
from huifang_desktop.services.policy import complaint_visibility, customer_scope, load_scale
from huifang_desktop.services.stats.options import (
    _COMPLAINT,
    _OPEN,
    GROUP_LABELS,
    UNASSIGNED,
    load_stats_options,
)
from huifang_desktop.services.stats.rows import (
    ComplaintFigures,
    GroupRow,
    RuleRow,
    ServiceFigures,
    Statistics,
    TrendPoint,
    VisitTotals,
)
from huifang_desktop.storage.models import Complaint, Customer, Department, User, VisitRecord

# --- helpers -----------------------------------------------------------------------------------------


def _require_view(ctx: ServiceContext) -> None:
    if ctx.user is SYSTEM_USER:
        return
    ctx.require(Permission.EDIT_CUSTOMERS, "查看统计")


def _moments(period: Period) -> tuple[datetime, datetime]:
    return datetime.combine(period.start, time.min), datetime.combine(
        period.end + timedelta(days=1), time.min
    )


def _days_between(ctx: ServiceContext, later: Any, earlier: Any) -> Any:
    """``later - earlier`` in days, in SQL (SQLite: julianday; PostgreSQL: epoch seconds)."""
    if ctx.engine.dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


def _day_of(moment: Any) -> Any:
    """The calendar day of a timestamp column, in SQL (``date()`` on SQLite and PostgreSQL)."""
    return func.date(moment)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _month_key(year: Any, month: Any) -> str:
    return f"{int(year):04d}-{int(month):02d}"


def _check_group(group_by: str) -> str:
    if group_by not in GROUP_LABELS:
        raise ValidationError(FieldError("group_by", "分组", f"“{group_by}”不是有效的分组"))
    return group_by


def _ordered(counts: Mapping[str, int], order: Iterable[str]) -> tuple[tuple[str, int], ...]:
    known = [k for k in order if counts.get(k)]
    rest = sorted(k for k in counts if k not in set(known) and counts[k])
    return tuple((k, int(counts[k])) for k in [*known, *rest])


# --- visits ------------------------------------------------------------------------------------------
#
# A period's visit figures come from two GROUP BY queries, one per table: the plans by owner, type and rule
# (:func:`visits.plan_counts`, the counts behind :func:`visits.rates`) and the records by visitor, type,
# result and satisfaction (with the late transfers). Totals, per-rule rows, every grouping, the service
# counts and the assessment's plan and transfer events are all derived from those few hundred rows.


@dataclass(frozen=True, slots=True)
class _RecordCell:
    visitor_id: int | None
    visit_type: str
    result: str
    satisfaction: str
    extra: tuple[Any, ...]  # (grade,) or (year, month) when grouped so
    count: int
    transfer_late: int  # problems passed on whose answer came (or is still missing) after the deadline


@dataclass(slots=True)
class _Tally:
    """Plans summed over several :class:`visits.PlanCount` rows (``weighted``: planned × the rule's target)."""

    planned: int = 0
    done: int = 0
    on_time: int = 0
    overdue: int = 0
    weighted: float = 0.0

    def add(self, c: visit_service.PlanCount, target: float = 1.0) -> None:
        self.planned += c.planned
        self.done += c.done
        self.on_time += c.on_time
        self.overdue += c.overdue
        self.weighted += c.planned * target


@dataclass(frozen=True, slots=True)
class _Figures:
    """The raw counts of one period (see above), under the acting user's visibility."""

    period: Period
    extra: str | None  # "grade" / "month": the extra key both queries were grouped by
    plans: tuple[visit_service.PlanCount, ...]  # key: (owner, type[, grade | year, month])
    records: tuple[_RecordCell, ...]


def _records_query(ctx: ServiceContext, period: Period, *keys: Any, join_customer: bool = False) -> Any:
    """Visit records made in the period, counted (``n``) per ``keys``."""
    lo, hi = _moments(period)
    scope = customer_scope(ctx)
    q = (
        select(*keys, func.count().label("n"))
        .select_from(VisitRecord)
        .where(VisitRecord.visited_at >= lo, VisitRecord.visited_at < hi)
    )
    if join_customer or scope.limited:
        q = scope.where(q.join(Customer, Customer.id == VisitRecord.customer_id))
    return q.group_by(*keys)


def _figures(ctx: ServiceContext, period: Period, group_by: str | None = None) -> _Figures:
    extra = group_by if group_by in ("grade", "month") else None
    extra_plan_keys = {"grade": ("grade",), "month": ("year", "month")}.get(extra or "", ())
    plans = visit_service.plan_counts(ctx, period.start, period.end, ("owner", "type", *extra_plan_keys))
    now = ctx.now()
    extra_cols: list[Any] = []
    if extra == "grade":
        extra_cols = [Customer.grade.label("grade")]
    elif extra == "month":
        extra_cols = [
            extract("year", VisitRecord.visited_at).label("year"),
            extract("month", VisitRecord.visited_at).label("month"),
        ]
    extra_names = [c.name for c in extra_cols]
    late = case(
        (
            and_(
                VisitRecord.transfer_due.is_not(None),
                or_(
                    VisitRecord.transfer_done_at > VisitRecord.transfer_due,
                    and_(VisitRecord.transfer_done_at.is_(None), VisitRecord.transfer_due < now),
                ),
            ),
            1,
        ),
        else_=0,
    )
    keys = [
        VisitRecord.visitor_id,
        VisitRecord.visit_type,
        VisitRecord.result,
        VisitRecord.satisfaction,
        *extra_cols,
    ]
    q = _records_query(ctx, period, *keys, join_customer=extra == "grade").add_columns(
        func.sum(late).label("late")
    )
    with ctx.sessions() as s:
        records = tuple(
            _RecordCell(
                r.visitor_id,
                r.visit_type,
                r.result,
                r.satisfaction or "",
                tuple(getattr(r, name) for name in extra_names),
                int(r.n),
                int(r.late or 0),
            )
            for r in s.execute(q)
        )
    return _Figures(period, extra, tuple(plans), records)


def _targets(ctx: ServiceContext) -> dict[str, float]:
    return {r.key: r.target_rate for r in visit_service.load_rules(ctx).rules}


def _totals(fig: _Figures, targets: Mapping[str, float], scale: SatisfactionScale) -> VisitTotals:
    planned = sum(c.planned for c in fig.plans)
    done = sum(c.done for c in fig.plans)
    on_time = sum(c.on_time for c in fig.plans)
    overdue = sum(c.overdue for c in fig.plans)
    weighted = sum(c.planned * targets.get(c.rule_key, 1.0) for c in fig.plans)
    by_type: dict[str, int] = {}
    by_result: dict[str, int] = {}
    sat: dict[str, int] = {}
    for r in fig.records:
        by_type[r.visit_type] = by_type.get(r.visit_type, 0) + r.count
        by_result[r.result] = by_result.get(r.result, 0) + r.count
        if r.satisfaction:
            sat[r.satisfaction] = sat.get(r.satisfaction, 0) + r.count
    return VisitTotals(
        planned,
        done,
        on_time,
        overdue,
        Rate(done, planned, weighted / planned if planned else None),
        Rate(on_time, planned),
        sum(by_type.values()),
        _ordered(by_type, (t.value for t in VisitType)),
        _ordered(by_result, (r.value for r in VisitResult)),
        summarize_satisfaction(sat, scale),
    )


def visit_totals(ctx: ServiceContext, period: Period, scale: SatisfactionScale | None = None) -> VisitTotals:
    """Plans due in the period (回访率 against the rules' targets weighted by plans) and the records made in
    it by type, result and satisfaction."""
    _require_view(ctx)
    return _totals(_figures(ctx, period), _targets(ctx), scale or load_scale(ctx))


@dataclass(frozen=True, slots=True)
class _People:
    names: Mapping[int, str]
    departments: Mapping[int, int | None]  # user → department id
    department_names: Mapping[int, str]

    def name(self, uid: int | None) -> str:
        return UNASSIGNED if uid is None else self.names.get(uid, "")

    def department(self, uid: int | None) -> str:
        dep = self.departments.get(uid) if uid is not None else None
        return UNASSIGNED if dep is None else self.department_names.get(dep, "")


def _people(ctx: ServiceContext) -> _People:
    with ctx.sessions() as s:
        users = s.execute(select(User.id, User.display_name, User.department_id)).all()
        deps = {i: n for i, n in s.execute(select(Department.id, Department.name))}
    return _People({u: n for u, n, _d in users}, {u: d for u, _n, d in users}, deps)


def _group_key(
    group_by: str, people: _People, uid: int | None, visit_type: str, extra: tuple[Any, ...]
) -> str:
    if group_by == "clerk":
        return people.name(uid)
    if group_by == "department":
        return people.department(uid)
    if group_by == "type":
        return visit_type
    if group_by == "month":
        return _month_key(*extra)
    (grade,) = extra
    return str(grade or "")


def _group_order(group_by: str, rows: list[GroupRow]) -> list[GroupRow]:
    if group_by in ("month", "grade"):
        return sorted(rows, key=lambda r: (r.key == UNASSIGNED, r.key))
    if group_by == "type":
        order = {t.value: i for i, t in enumerate(VisitType)}
        return sorted(rows, key=lambda r: (order.get(r.key, len(order)), r.key))
    return sorted(rows, key=lambda r: (r.key == UNASSIGNED, -r.planned, -r.records, r.key))


def _groups(
    fig: _Figures, group_by: str, people: _People, targets: Mapping[str, float], scale: SatisfactionScale
) -> list[GroupRow]:
    plans: dict[str, _Tally] = {}
    for c in fig.plans:  # key: (owner, type, extra…)
        owner, visit_type, *extra = c.key
        key = _group_key(group_by, people, owner, visit_type, tuple(extra))
        plans.setdefault(key, _Tally()).add(c, targets.get(c.rule_key, 1.0))
    records: dict[str, dict[str, int]] = {}
    for r in fig.records:
        key = _group_key(group_by, people, r.visitor_id, r.visit_type, r.extra)
        bucket = records.setdefault(key, {})
        bucket[r.satisfaction] = bucket.get(r.satisfaction, 0) + r.count
    out = []
    for key in set(plans) | set(records):
        t = plans.get(key, _Tally())
        sat = records.get(key, {})
        out.append(
            GroupRow(
                key,
                t.planned,
                t.done,
                t.on_time,
                t.overdue,
                Rate(t.done, t.planned, t.weighted / t.planned if t.planned else None),
                Rate(t.on_time, t.planned),
                sum(sat.values()),
                summarize_satisfaction({k: n for k, n in sat.items() if k}, scale),
            )
        )
    return _group_order(group_by, out)


def group_rows(
    ctx: ServiceContext, period: Period, group_by: str = "clerk", scale: SatisfactionScale | None = None
) -> list[GroupRow]:
    """Per clerk (the plan's owner / the record's visitor), class, visit type, department (of that person) or
    month: plans, 回访率 and 按时率 against the weighted target, records made and their satisfaction."""
    _require_view(ctx)
    group_by = _check_group(group_by)
    return _groups(
        _figures(ctx, period, group_by), group_by, _people(ctx), _targets(ctx), scale or load_scale(ctx)
    )


def _rules(ctx: ServiceContext, fig: _Figures) -> list[RuleRow]:
    rules = visit_service.load_rules(ctx)
    by_key = {r.key: r for r in rules.rules}
    names = visit_service.rule_names(rules)
    order = {r.key: i for i, r in enumerate(rules.rules)}
    acc: dict[str, _Tally] = {}
    for c in fig.plans:
        acc.setdefault(c.rule_key, _Tally()).add(c)
    out = []
    for key, t in acc.items():
        rule = by_key.get(key)
        out.append(
            RuleRow(
                key,
                names.get(key, key),
                rule.sample_rate if rule else None,
                t.planned,
                t.done,
                t.on_time,
                t.overdue,
                Rate(t.done, t.planned, rule.target_rate if rule else 1.0),
                Rate(t.on_time, t.planned),
            )
        )
    return sorted(out, key=lambda x: (order.get(x.key, -1), x.name))  # built-in (例行, 技术…) first


def rule_rows(ctx: ServiceContext, period: Period) -> list[RuleRow]:
    """回访率 per rule against the rule's own target (e.g. 维修回访 sampled at 30 %, 投诉回访 100 %)."""
    _require_view(ctx)
    return _rules(ctx, _figures(ctx, period))


def _services(fig: _Figures, types: Sequence[str], scale: SatisfactionScale) -> ServiceFigures:
    sat: dict[str, int] = {}
    visits = 0
    for r in fig.records:
        if r.visit_type in types:
            visits += r.count
            if r.satisfaction:
                sat[r.satisfaction] = sat.get(r.satisfaction, 0) + r.count
    return ServiceFigures(
        tuple(types),
        visits,
        summarize_satisfaction(sat, scale),
        "售后服务台账尚未建立独立记录，服务次数按" + "、".join(types) + "回访记录统计。",
    )


# --- complaints --------------------------------------------------------------------------------------


def complaint_figures(
    ctx: ServiceContext,
    period: Period,
    options: StatsOptions | None = None,
    scale: SatisfactionScale | None = None,
) -> ComplaintFigures:
    """Complaints (投诉) received in the period, in two GROUP BY queries (by category × severity × state,
    and by satisfaction of the closing visit)."""
    _require_view(ctx)
    options = options or load_stats_options(ctx)
    scale = scale or load_scale(ctx)
    lo, hi = _moments(period)
    now = ctx.now()
    handling = _days_between(ctx, Complaint.handled_at, Complaint.received_at)
    closing = _days_between(ctx, Complaint.closed_at, Complaint.received_at)
    base = [Complaint.kind == _COMPLAINT, Complaint.received_at >= lo, Complaint.received_at < hi]
    cond = complaint_visibility(ctx)
    if cond is not None:
        base.append(cond)
    q = (
        select(
            Complaint.category,
            Complaint.severity,
            Complaint.state,
            func.count().label("n"),
            func.sum(case((Complaint.occurrences > 1, 1), else_=0)).label("repeated"),
            func.sum(Complaint.occurrences - 1).label("repeat_reports"),
            func.sum(case((Complaint.linked_to_id.is_not(None), 1), else_=0)).label("reopened"),
            func.sum(case((Complaint.escalation_level > 0, 1), else_=0)).label("escalated"),
            func.sum(case((and_(Complaint.state.in_(_OPEN), Complaint.deadline < now), 1), else_=0)).label(
                "overdue_open"
            ),
            func.count(Complaint.handled_at).label("handled_n"),
            func.sum(handling).label("handled_days"),
            func.count(Complaint.closed_at).label("closed_n"),
            func.sum(closing).label("closed_days"),
        )
        .where(*base)
        .group_by(Complaint.category, Complaint.severity, Complaint.state)
    )
    sat_q = (
        select(Complaint.satisfaction, func.count())
        .where(*base, Complaint.satisfaction != "")
        .group_by(Complaint.satisfaction)
    )
    with ctx.sessions() as s:
        rows = s.execute(q).all()
        sat = {k: int(n) for k, n in s.execute(sat_q)}
    cat: dict[str, int] = {}
    sev: dict[str, int] = {}
    state: dict[str, int] = {}
    counts = dict.fromkeys(
        ("repeated", "repeat_reports", "reopened", "escalated", "overdue_open", "handled_n", "closed_n"), 0
    )
    handled_days = closed_days = 0.0
    for r in rows:
        n = int(r.n)
        category = r.category or "未分类"
        cat[category] = cat.get(category, 0) + n
        sev[r.severity] = sev.get(r.severity, 0) + n
        state[r.state] = state.get(r.state, 0) + n
        for key in counts:
            counts[key] += int(getattr(r, key) or 0)
        handled_days += float(r.handled_days or 0.0)
        closed_days += float(r.closed_days or 0.0)
    handled_n, closed_n = counts["handled_n"], counts["closed_n"]
    received = sum(state.values())
    excluded = sum(n for k, n in state.items() if k in options.excluded_states)
    handled = sum(n for k, n in state.items() if k in options.handled_states)
    closed = state.get(ComplaintState.CLOSED.value, 0)
    counted = received - excluded
    return ComplaintFigures(
        received=received,
        by_category=_ordered(cat, _policy_categories(ctx)),
        by_severity=_ordered(sev, (s.value for s in Severity)),
        by_state=_ordered(state, (s.value for s in ComplaintState)),
        handled=handled,
        closed=closed,
        withdrawn=state.get(ComplaintState.WITHDRAWN.value, 0),
        handling_rate=Rate(handled, counted, options.handling_rate_target),
        closing_rate=Rate(closed, counted),
        avg_handling_days=handled_days / handled_n if handled_n else None,
        avg_closing_days=closed_days / closed_n if closed_n else None,
        repeated=counts["repeated"],
        repeat_reports=counts["repeat_reports"],
        reopened=counts["reopened"],
        escalated=counts["escalated"],
        overdue_open=counts["overdue_open"],
        satisfaction=summarize_satisfaction(sat, scale),
    )


def _policy_categories(ctx: ServiceContext) -> tuple[str, ...]:
    from huifang_desktop.services.complaints import load_policy

    return load_policy(ctx).categories


# --- trend -------------------------------------------------------------------------------------------


def trend(
    ctx: ServiceContext, period: Period, months: int | None = None, scale: SatisfactionScale | None = None
) -> list[TrendPoint]:
    """Month by month up to the period's last month: 回访率 and 按时率 (:func:`visits.rates` by month), records,
    satisfaction and complaints, each table in one GROUP BY over the whole span."""
    _require_view(ctx)
    scale = scale or load_scale(ctx)
    months = months or load_stats_options(ctx).trend_months
    span = trend_periods(period, months)
    whole = Period(PeriodKind.CUSTOM, span[0].start, span[-1].end)
    rates = {r.key: r for r in visit_service.rates(ctx, whole.start, whole.end, "month")}
    year, month = extract("year", VisitRecord.visited_at), extract("month", VisitRecord.visited_at)
    records: dict[str, dict[str, int]] = {}
    lo, hi = _moments(whole)
    cq = select(
        extract("year", Complaint.received_at), extract("month", Complaint.received_at), func.count()
    ).where(Complaint.kind == _COMPLAINT, Complaint.received_at >= lo, Complaint.received_at < hi)
    cond = complaint_visibility(ctx)
    if cond is not None:
        cq = cq.where(cond)
    cq = cq.group_by(extract("year", Complaint.received_at), extract("month", Complaint.received_at))
    with ctx.sessions() as s:
        for y, m, satisfaction, n in s.execute(
            _records_query(ctx, whole, year, month, VisitRecord.satisfaction)
        ):
            bucket = records.setdefault(_month_key(y, m), {})
            bucket[satisfaction or ""] = bucket.get(satisfaction or "", 0) + int(n)
        complaints = {_month_key(y, m): int(n) for y, m, n in s.execute(cq)}
    out = []
    for p in span:
        r = rates.get(p.key)
        sat = records.get(p.key, {})
        summary = summarize_satisfaction({k: n for k, n in sat.items() if k}, scale)
        out.append(
            TrendPoint(
                p.key,
                r.planned if r else 0,
                r.done if r else 0,
                r.visit_rate if r else None,
                r.on_time_rate if r else None,
                sum(sat.values()),
                summary.satisfied_rate.value,
                summary.average,
                complaints.get(p.key, 0),
            )
        )
    return out


# --- everything for one period -----------------------------------------------------------------------


def statistics(
    ctx: ServiceContext, period: Period | str, group_by: str = "clerk", *, complete: bool = True
) -> Statistics:
    """All figures of a period; with ``complete`` also the previous period's totals (for comparison) and the
    monthly trend, else those are left for :func:`complete_statistics` (the screen shows the period's own
    figures first: on a big office they take about a third of the time)."""
    _require_view(ctx)
    period = parse_period(period) if isinstance(period, str) else period
    group_by = _check_group(group_by)
    options = load_stats_options(ctx)
    scale = load_scale(ctx)
    targets = _targets(ctx)
    fig = _figures(ctx, period, group_by)
    st = Statistics(
        period=period,
        previous=period.previous(),
        group_by=group_by,
        generated_at=ctx.now(),
        scale=scale,
        totals=_totals(fig, targets, scale),
        previous_totals=None,
        groups=tuple(_groups(fig, group_by, _people(ctx), targets, scale)),
        rules=tuple(_rules(ctx, fig)),
        complaints=complaint_figures(ctx, period, options, scale),
        previous_complaints=None,
        services=_services(fig, options.service_visit_types, scale),
        trend=(),
        handling_target=options.handling_rate_target,
        figures=fig,
    )
    return complete_statistics(ctx, st) if complete else st


def complete_statistics(ctx: ServiceContext, st: Statistics) -> Statistics:
    """``st`` with the previous period's totals and the monthly trend added (see :func:`statistics`)."""
    _require_view(ctx)
    if st.complete:
        return st
    options = load_stats_options(ctx)
    previous = _figures(ctx, st.previous)
    return replace(
        st,
        previous_totals=_totals(previous, _targets(ctx), st.scale),
        previous_services=_services(previous, options.service_visit_types, st.scale),
        previous_complaints=complaint_figures(ctx, st.previous, options, st.scale),
        trend=tuple(trend(ctx, st.period, options.trend_months, st.scale)),
    )
