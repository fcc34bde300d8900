"""Statistics, charts' data, the 考核 assessment and the monthly / quarterly reports (domain.md §4, §8, §9).

Every figure is counted in SQL with ``GROUP BY`` over indexed columns (plans by ``due``, records by
``visited_at``, complaints by ``kind, received_at``); no query returns more rows than there are groups. A
period costs one scan per table: the plans by owner, type and rule (:func:`visits.plan_counts`, the counts
behind :func:`visits.rates`) and the records by visitor, type, result and satisfaction; totals, per-rule rows,
every grouping, the service counts and the assessment's plan and transfer events are derived from those few
hundred rows. :func:`statistics` can stop there (``complete=False``: what the screen shows first) and
:func:`complete_statistics` adds the previous period and the monthly trend. On the 1,000,000-plan demo office
(163,000 plans due in 2026-10) the first step of a month takes about 0.65 s, as long as the same two
aggregates written as raw SQL; the whole report about 4 s. The rules behind the figures live in
:mod:`huifang_desktop.domain.stats` (periods, rates, satisfaction, the 考核 rules and :func:`assess`).

* 回访率 / 按时率: plans due in the period, not cancelled (the definitions of :func:`visits.rates`), per rule
  with the rule's target and per group (clerk, class, visit type, department, month).
* Satisfaction, visits made, results and 售后服务 counts come from the visit records made in the period.
  The after-sales service ledger (售后服务台账, domain.md §6) has no table yet: service counts are the visits
  of the types in ``StatsOptions.service_visit_types`` (维修), as the report says.
* Complaints (kind 投诉) received in the period: by category, severity and state; 处理率 (handled ÷ received,
  withdrawn ones left out) against its target; average days to the handling (``handled_at``) and to the
  close; repeats (several occurrences, or reopened by the customer: ``linked_to_id``); escalations.
* The assessment (:func:`assessment`) counts each clerk's events of a month as the domain module defines them;
  :func:`confirm_assessment` (a manager) stores the snapshot, signed like the other sign-offs (content hash +
  signature hash), and locks the month until :func:`reopen_assessment` (撤回, with a reason).

Settings (JSON, table ``setting``): ``stats_options`` (:class:`StatsOptions`) and ``assessment_rules``
(:class:`AssessmentRules`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import and_, case, extract, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.chain import head_label
from huifang_desktop.domain.complaints import ComplaintState, MessageKind, Severity
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.schedule import TriggerKind
from huifang_desktop.domain.signoff import (
    Integrity,
    SignOff,
    StoredSignature,
    require_reason,
    sign_message,
    signature_hash,
)
from huifang_desktop.domain.stats import (
    Assessment,
    AssessmentRules,
    AssessmentStatus,
    ChartKind,
    ChartSpec,
    ClerkEvents,
    ColumnFormat,
    EventKind,
    Period,
    PeriodKind,
    Rate,
    ReportSpan,
    ReportTable,
    SatisfactionSummary,
    StatsOptions,
    StatsReport,
    assess,
    assessment_hash,
    change_text,
    days_without_timely_report,
    monthly_ledger_deadline,
    monthly_ledger_missing,
    parse_period,
    summarize_satisfaction,
    trend_periods,
)
from huifang_desktop.domain.visits import PlanState, SatisfactionScale, VisitResult, VisitType
from huifang_desktop.services import signing
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit
from huifang_desktop.services.errors import ConflictError, LockedError, PermissionDenied, ServiceError
from huifang_desktop.services.outputs import checked_target, write_failed
from huifang_desktop.services.policy import complaint_visibility, customer_scope, load_scale, work_calendar
from huifang_desktop.services.settings import get_value, load_settings, set_value
from huifang_desktop.storage.chain import chain_head
from huifang_desktop.storage.models import (
    Complaint,
    Customer,
    Department,
    MonthlyAssessment,
    User,
    VisitPlan,
    VisitRecord,
    VisitReport,
)

OPTIONS_KEY = "stats_options"
ASSESSMENT_RULES_KEY = "assessment_rules"

StatsGroup = Literal["clerk", "grade", "type", "department", "month"]
GROUP_LABELS: dict[str, str] = {"clerk": "回访人", "grade": "客户等级", "type": "回访类型", "department": "部门",
                                "month": "月份"}
ASSESSMENT_ENTITY = "monthly_assessment"
CONFIRM_ACTION = "确认考核"
UNASSIGNED = "未分配"
MONTH_TITLE = "月度回访统计表"
QUARTER_TITLE = "季度客户服务报告"
YEAR_TITLE = "年度客户服务报告"
CUSTOM_TITLE = "回访统计表"
MONTH_FORM = "stats_month"
QUARTER_FORM = "stats_quarter"
EXPORT_ACTION = "导出统计报表"

_DONE = PlanState.DONE.value
_PENDING = PlanState.PENDING.value
_CANCELLED = PlanState.CANCELLED.value
_COMPLAINT = MessageKind.COMPLAINT.value
_OPEN = tuple(s.value for s in ComplaintState if s.is_open)


class StatsError(ServiceError):
    """A report that cannot be made or written; the message names the file or the period."""


# --- settings ----------------------------------------------------------------------------------------

def load_stats_options(ctx: ServiceContext) -> StatsOptions:
    data = get_value(ctx, OPTIONS_KEY)
    return StatsOptions.from_dict(data) if isinstance(data, dict) else StatsOptions()


def save_stats_options(ctx: ServiceContext, options: StatsOptions) -> None:
    ctx.require(Permission.MANAGE_SETTINGS, "修改统计设置")
    set_value(ctx, OPTIONS_KEY, options.to_dict(), what="统计设置")


def load_assessment_rules(ctx: ServiceContext) -> AssessmentRules:
    data = get_value(ctx, ASSESSMENT_RULES_KEY)
    return AssessmentRules.from_dict(data) if isinstance(data, dict) else AssessmentRules()


def save_assessment_rules(ctx: ServiceContext, rules: AssessmentRules) -> None:
    """The 考核 table (amounts, points, doubling): a manager's decision, stored and audited."""
    ctx.require(Permission.MANAGE_SETTINGS, "修改考核规则")
    if not ctx.may(Permission.CONFIRM_ASSESSMENT):
        raise PermissionDenied("考核规则只能由公司经理修改。")
    set_value(ctx, ASSESSMENT_RULES_KEY, rules.to_dict(), what="考核规则")


# --- rows --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class VisitTotals:
    """The visits of a period: plans (due in it) and what was made (records in it)."""

    planned: int
    done: int
    on_time: int
    overdue: int
    visit_rate: Rate  # target: the rules' targets weighted by plans
    on_time_rate: Rate
    records: int
    by_type: tuple[tuple[str, int], ...]
    by_result: tuple[tuple[str, int], ...]
    satisfaction: SatisfactionSummary


@dataclass(frozen=True, slots=True)
class GroupRow:
    key: str
    planned: int
    done: int
    on_time: int
    overdue: int
    visit_rate: Rate
    on_time_rate: Rate
    records: int
    satisfaction: SatisfactionSummary


@dataclass(frozen=True, slots=True)
class RuleRow:
    key: str
    name: str
    sample_rate: float | None  # None: not a trigger rule (例行, 技术, 再次, 手动)
    planned: int
    done: int
    on_time: int
    overdue: int
    visit_rate: Rate  # target: the rule's target 回访率
    on_time_rate: Rate


@dataclass(frozen=True, slots=True)
class ComplaintFigures:
    received: int
    by_category: tuple[tuple[str, int], ...]
    by_severity: tuple[tuple[str, int], ...]
    by_state: tuple[tuple[str, int], ...]
    handled: int
    closed: int
    withdrawn: int
    handling_rate: Rate  # 处理率 with its target
    closing_rate: Rate
    avg_handling_days: float | None  # received → handled (待回访)
    avg_closing_days: float | None  # received → closed
    repeated: int  # complained about more than once (occurrences > 1)
    repeat_reports: int  # the extra occurrences
    reopened: int  # the customer rejected an earlier result (linked to the original)
    escalated: int
    overdue_open: int  # still open and past its deadline now
    satisfaction: SatisfactionSummary  # of the closing visits


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    visit_types: tuple[str, ...]
    visits: int
    satisfaction: SatisfactionSummary
    note: str


@dataclass(frozen=True, slots=True)
class TrendPoint:
    month: str  # 2026-10
    planned: int
    done: int
    visit_rate: float | None
    on_time_rate: float | None
    records: int
    satisfied_rate: float | None
    average: float | None
    complaints: int


@dataclass(frozen=True, slots=True)
class Statistics:
    """A period's figures. ``previous_*`` and ``trend`` stay empty until :func:`complete_statistics`."""

    period: Period
    previous: Period
    group_by: str
    generated_at: datetime
    scale: SatisfactionScale
    totals: VisitTotals
    previous_totals: VisitTotals | None
    groups: tuple[GroupRow, ...]
    rules: tuple[RuleRow, ...]
    complaints: ComplaintFigures
    previous_complaints: ComplaintFigures | None
    services: ServiceFigures
    trend: tuple[TrendPoint, ...]
    handling_target: float
    previous_services: ServiceFigures | None = None
    figures: Any = field(default=None, repr=False, compare=False)  # the period's raw counts (_Figures)

    @property
    def complete(self) -> bool:
        return (self.previous_totals is not None and self.previous_complaints is not None
                and self.previous_services is not None)


# --- helpers -----------------------------------------------------------------------------------------

def _require_view(ctx: ServiceContext) -> None:
    if ctx.user is SYSTEM_USER:
        return
    ctx.require(Permission.EDIT_CUSTOMERS, "查看统计")


def _moments(period: Period) -> tuple[datetime, datetime]:
    return datetime.combine(period.start, time.min), datetime.combine(period.end + timedelta(days=1), time.min)


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


@dataclass(frozen=True, slots=True)
class _Figures:
    """The raw counts of one period (see above), under the acting user's visibility."""

    period: Period
    extra: str | None  # "grade" / "month": the extra key both queries were grouped by
    plans: tuple[visit_service.PlanCount, ...]  # key: (owner, type[, grade | year, month])
    records: tuple[_RecordCell, ...]


def _records_query(ctx: ServiceContext, period: Period, *keys: Any, join_customer: bool = False) -> Any:
    """Visit records made in the period, counted per ``keys``."""
    lo, hi = _moments(period)
    scope = customer_scope(ctx)
    q = (select(*keys, func.count()).select_from(VisitRecord)
         .where(VisitRecord.visited_at >= lo, VisitRecord.visited_at < hi))
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
        extra_cols = [Customer.grade]
    elif extra == "month":
        extra_cols = [extract("year", VisitRecord.visited_at), extract("month", VisitRecord.visited_at)]
    late = case((and_(VisitRecord.transfer_due.is_not(None),
                      or_(VisitRecord.transfer_done_at > VisitRecord.transfer_due,
                          and_(VisitRecord.transfer_done_at.is_(None), VisitRecord.transfer_due < now))), 1),
                else_=0)
    keys = [VisitRecord.visitor_id, VisitRecord.visit_type, VisitRecord.result, VisitRecord.satisfaction, *extra_cols]
    q = _records_query(ctx, period, *keys, join_customer=extra == "grade").add_columns(func.sum(late))
    n = len(keys)
    with ctx.sessions() as s:
        records = tuple(_RecordCell(r[0], r[1], r[2], r[3] or "", tuple(r[4:n]), int(r[n]), int(r[n + 1] or 0))
                        for r in s.execute(q))
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
    return VisitTotals(planned, done, on_time, overdue, Rate(done, planned, weighted / planned if planned else None),
                       Rate(on_time, planned), sum(by_type.values()),
                       _ordered(by_type, (t.value for t in VisitType)),
                       _ordered(by_result, (r.value for r in VisitResult)), summarize_satisfaction(sat, scale))


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


def _group_key(group_by: str, people: _People, uid: int | None, visit_type: str, extra: tuple[Any, ...]) -> str:
    if group_by == "clerk":
        return people.name(uid)
    if group_by == "department":
        return people.department(uid)
    if group_by == "type":
        return visit_type
    if group_by == "month":
        return _month_key(*extra)
    return str(extra[0] or "")  # grade


def _group_order(group_by: str, rows: list[GroupRow]) -> list[GroupRow]:
    if group_by in ("month", "grade"):
        return sorted(rows, key=lambda r: (r.key == UNASSIGNED, r.key))
    if group_by == "type":
        order = {t.value: i for i, t in enumerate(VisitType)}
        return sorted(rows, key=lambda r: (order.get(r.key, len(order)), r.key))
    return sorted(rows, key=lambda r: (r.key == UNASSIGNED, -r.planned, -r.records, r.key))


def _groups(fig: _Figures, group_by: str, people: _People, targets: Mapping[str, float],
            scale: SatisfactionScale) -> list[GroupRow]:
    plans: dict[str, list[float]] = {}
    for c in fig.plans:  # key: (owner, type, extra…)
        key = _group_key(group_by, people, c.key[0], c.key[1], c.key[2:])
        a = plans.setdefault(key, [0, 0, 0, 0, 0.0])
        a[0] += c.planned
        a[1] += c.done
        a[2] += c.on_time
        a[3] += c.overdue
        a[4] += c.planned * targets.get(c.rule_key, 1.0)
    records: dict[str, dict[str, int]] = {}
    for r in fig.records:
        key = _group_key(group_by, people, r.visitor_id, r.visit_type, r.extra)
        bucket = records.setdefault(key, {})
        bucket[r.satisfaction] = bucket.get(r.satisfaction, 0) + r.count
    out = []
    for key in set(plans) | set(records):
        planned, done, on_time, overdue, weighted = plans.get(key, [0, 0, 0, 0, 0.0])
        sat = records.get(key, {})
        out.append(GroupRow(key, int(planned), int(done), int(on_time), int(overdue),
                            Rate(int(done), int(planned), weighted / planned if planned else None),
                            Rate(int(on_time), int(planned)), sum(sat.values()),
                            summarize_satisfaction({k: n for k, n in sat.items() if k}, scale)))
    return _group_order(group_by, out)


def group_rows(ctx: ServiceContext, period: Period, group_by: str = "clerk",
               scale: SatisfactionScale | None = None) -> list[GroupRow]:
    """Per clerk (the plan's owner / the record's visitor), class, visit type, department (of that person) or
    month: plans, 回访率 and 按时率 against the weighted target, records made and their satisfaction."""
    _require_view(ctx)
    group_by = _check_group(group_by)
    return _groups(_figures(ctx, period, group_by), group_by, _people(ctx), _targets(ctx),
                   scale or load_scale(ctx))


def _rules(ctx: ServiceContext, fig: _Figures) -> list[RuleRow]:
    rules = visit_service.load_rules(ctx)
    by_key = {r.key: r for r in rules.rules}
    names = visit_service.rule_names(rules)
    order = {r.key: i for i, r in enumerate(rules.rules)}
    acc: dict[str, list[int]] = {}
    for c in fig.plans:
        a = acc.setdefault(c.rule_key, [0, 0, 0, 0])
        a[0] += c.planned
        a[1] += c.done
        a[2] += c.on_time
        a[3] += c.overdue
    out = []
    for key, (planned, done, on_time, overdue) in acc.items():
        rule = by_key.get(key)
        out.append(RuleRow(key, names.get(key, key), rule.sample_rate if rule else None, planned, done, on_time,
                           overdue, Rate(done, planned, rule.target_rate if rule else 1.0), Rate(on_time, planned)))
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
    return ServiceFigures(tuple(types), visits, summarize_satisfaction(sat, scale),
                          "售后服务台账尚未建立独立记录，服务次数按" + "、".join(types) + "回访记录统计。")


# --- complaints --------------------------------------------------------------------------------------

def complaint_figures(ctx: ServiceContext, period: Period, options: StatsOptions | None = None,
                      scale: SatisfactionScale | None = None) -> ComplaintFigures:
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
    q = (select(Complaint.category, Complaint.severity, Complaint.state, func.count(),
                func.sum(case((Complaint.occurrences > 1, 1), else_=0)),
                func.sum(Complaint.occurrences - 1),
                func.sum(case((Complaint.linked_to_id.is_not(None), 1), else_=0)),
                func.sum(case((Complaint.escalation_level > 0, 1), else_=0)),
                func.sum(case((and_(Complaint.state.in_(_OPEN), Complaint.deadline < now), 1), else_=0)),
                func.count(Complaint.handled_at), func.sum(handling),
                func.count(Complaint.closed_at), func.sum(closing))
         .where(*base).group_by(Complaint.category, Complaint.severity, Complaint.state))
    sat_q = (select(Complaint.satisfaction, func.count()).where(*base, Complaint.satisfaction != "")
             .group_by(Complaint.satisfaction))
    with ctx.sessions() as s:
        rows = s.execute(q).all()
        sat = {k: int(n) for k, n in s.execute(sat_q)}
    cat: dict[str, int] = {}
    sev: dict[str, int] = {}
    state: dict[str, int] = {}
    totals = [0] * 6
    handled_n = closed_n = 0
    handled_days = closed_days = 0.0
    for r in rows:
        n = int(r[3])
        cat[r[0] or "未分类"] = cat.get(r[0] or "未分类", 0) + n
        sev[r[1]] = sev.get(r[1], 0) + n
        state[r[2]] = state.get(r[2], 0) + n
        for i in range(5):
            totals[i] += int(r[4 + i] or 0)
        handled_n += int(r[9] or 0)
        handled_days += float(r[10] or 0.0)
        closed_n += int(r[11] or 0)
        closed_days += float(r[12] or 0.0)
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
        handled=handled, closed=closed, withdrawn=state.get(ComplaintState.WITHDRAWN.value, 0),
        handling_rate=Rate(handled, counted, options.handling_rate_target), closing_rate=Rate(closed, counted),
        avg_handling_days=handled_days / handled_n if handled_n else None,
        avg_closing_days=closed_days / closed_n if closed_n else None,
        repeated=totals[0], repeat_reports=totals[1], reopened=totals[2], escalated=totals[3],
        overdue_open=totals[4], satisfaction=summarize_satisfaction(sat, scale))


def _policy_categories(ctx: ServiceContext) -> tuple[str, ...]:
    from huifang_desktop.services.complaints import load_policy

    return load_policy(ctx).categories


# --- trend -------------------------------------------------------------------------------------------

def trend(ctx: ServiceContext, period: Period, months: int | None = None,
          scale: SatisfactionScale | None = None) -> list[TrendPoint]:
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
    cq = (select(extract("year", Complaint.received_at), extract("month", Complaint.received_at), func.count())
          .where(Complaint.kind == _COMPLAINT, Complaint.received_at >= lo, Complaint.received_at < hi))
    cond = complaint_visibility(ctx)
    if cond is not None:
        cq = cq.where(cond)
    cq = cq.group_by(extract("year", Complaint.received_at), extract("month", Complaint.received_at))
    with ctx.sessions() as s:
        for y, m, satisfaction, n in s.execute(_records_query(ctx, whole, year, month, VisitRecord.satisfaction)):
            bucket = records.setdefault(_month_key(y, m), {})
            bucket[satisfaction or ""] = bucket.get(satisfaction or "", 0) + int(n)
        complaints = {_month_key(y, m): int(n) for y, m, n in s.execute(cq)}
    out = []
    for p in span:
        r = rates.get(p.key)
        sat = records.get(p.key, {})
        summary = summarize_satisfaction({k: n for k, n in sat.items() if k}, scale)
        out.append(TrendPoint(p.key, r.planned if r else 0, r.done if r else 0, r.visit_rate if r else None,
                              r.on_time_rate if r else None, sum(sat.values()), summary.satisfied_rate.value,
                              summary.average, complaints.get(p.key, 0)))
    return out


# --- everything for one period -----------------------------------------------------------------------

def statistics(ctx: ServiceContext, period: Period | str, group_by: str = "clerk", *,
               complete: bool = True) -> Statistics:
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
        period=period, previous=period.previous(), group_by=group_by, generated_at=ctx.now(), scale=scale,
        totals=_totals(fig, targets, scale), previous_totals=None,
        groups=tuple(_groups(fig, group_by, _people(ctx), targets, scale)), rules=tuple(_rules(ctx, fig)),
        complaints=complaint_figures(ctx, period, options, scale), previous_complaints=None,
        services=_services(fig, options.service_visit_types, scale), trend=(),
        handling_target=options.handling_rate_target, figures=fig)
    return complete_statistics(ctx, st) if complete else st


def complete_statistics(ctx: ServiceContext, st: Statistics) -> Statistics:
    """``st`` with the previous period's totals and the monthly trend added (see :func:`statistics`)."""
    _require_view(ctx)
    if st.complete:
        return st
    options = load_stats_options(ctx)
    previous = _figures(ctx, st.previous)
    return replace(st, previous_totals=_totals(previous, _targets(ctx), st.scale),
                   previous_services=_services(previous, options.service_visit_types, st.scale),
                   previous_complaints=complaint_figures(ctx, st.previous, options, st.scale),
                   trend=tuple(trend(ctx, st.period, options.trend_months, st.scale)))


# --- the assessment (考核) ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AssessmentView:
    """A month's assessment as shown: computed now, or the snapshot a manager confirmed (locked)."""

    month: Period
    assessment: Assessment
    status: AssessmentStatus
    deadline: date  # the monthly ledger's deadline; confirming waits for it
    confirmed_by: str = ""
    confirmed_at: datetime | None = None
    comment: str = ""
    integrity: Integrity = Integrity.UNSIGNED
    revision: int = 0
    version: int | None = None
    can_confirm: bool = False
    can_reopen: bool = False

    @property
    def locked(self) -> bool:
        return self.status is AssessmentStatus.CONFIRMED


def _month(month: Period | str) -> Period:
    period = parse_period(month, field_name="month", label="考核月份") if isinstance(month, str) else month
    if period.kind is not PeriodKind.MONTH:
        raise ValidationError(FieldError("month", "考核月份", "考核按月进行，请选择一个月份"))
    return period


def _delivery_rule_keys(ctx: ServiceContext, rules: AssessmentRules) -> tuple[str, ...]:
    wanted = set(rules.delivery_triggers)
    known = {t.value for t in TriggerKind}
    return tuple(r.key for r in visit_service.load_rules(ctx).rules
                 if r.trigger.value in wanted and r.trigger.value in known)


def _event_counts(ctx: ServiceContext, month: Period, rules: AssessmentRules, fig: _Figures | None = None
                  ) -> dict[int, dict[EventKind, int]]:
    """Each person's events of the month (keyed by user id), by the definitions of domain.stats. ``fig``: the
    month's counts already made for the statistics (unscoped), so plans and records are not read again."""
    today, now = ctx.today(), ctx.now()
    lo, hi = _moments(month)
    routine = set(rules.routine_rule_keys)
    delivery = set(_delivery_rule_keys(ctx, rules)) - routine
    counts: dict[int, dict[EventKind, int]] = {}

    def add(uid: int | None, kind: EventKind, n: int) -> None:
        if uid is not None and n:
            bucket = counts.setdefault(uid, {})
            bucket[kind] = bucket.get(kind, 0) + int(n)

    missed = or_(and_(VisitPlan.state == _DONE, VisitPlan.done_on > VisitPlan.due),
                 and_(VisitPlan.state == _PENDING, VisitPlan.due < today))
    plan_q = (select(VisitPlan.owner_id, VisitPlan.rule_key, func.count())
              .where(VisitPlan.due >= month.start, VisitPlan.due <= month.end, VisitPlan.state != _CANCELLED,
                     VisitPlan.rule_key.in_(sorted(routine | delivery)), missed)
              .group_by(VisitPlan.owner_id, VisitPlan.rule_key))
    transfer_q = (select(VisitRecord.visitor_id, func.count())
                  .where(VisitRecord.visited_at >= lo, VisitRecord.visited_at < hi,
                         VisitRecord.transfer_due.is_not(None),
                         or_(VisitRecord.transfer_done_at > VisitRecord.transfer_due,
                             and_(VisitRecord.transfer_done_at.is_(None), VisitRecord.transfer_due < now)))
                  .group_by(VisitRecord.visitor_id))
    day = _day_of(VisitRecord.visited_at)
    days_q = (select(VisitRecord.visitor_id, day)
              .where(VisitRecord.visited_at >= lo, VisitRecord.visited_at < hi, VisitRecord.visitor_id.is_not(None))
              .group_by(VisitRecord.visitor_id, day))
    reports_q = (select(VisitReport.clerk_id, VisitReport.period_start, VisitReport.period_end,
                        VisitReport.created_at, VisitReport.due_on)
                 .where(VisitReport.period_start <= month.end, VisitReport.period_end >= month.start,
                        VisitReport.status != "草稿"))
    with ctx.sessions() as s:
        if fig is not None:  # missed = done late + still pending after the due day
            for c in fig.plans:
                if c.rule_key in routine or c.rule_key in delivery:
                    add(c.key[0], EventKind.MISSED_VISIT if c.rule_key in routine else EventKind.DELIVERY_NOT_VISITED,
                        c.done - c.on_time + c.overdue)
            for r in fig.records:
                add(r.visitor_id, EventKind.PROBLEM_NOT_PASSED, r.transfer_late)
        else:
            for uid, rule_key, n in s.execute(plan_q):
                add(uid, EventKind.MISSED_VISIT if rule_key in routine else EventKind.DELIVERY_NOT_VISITED, n)
            for uid, n in s.execute(transfer_q):
                add(uid, EventKind.PROBLEM_NOT_PASSED, n)
        visit_days: dict[int, list[date]] = {}
        for uid, d in s.execute(days_q):
            visit_days.setdefault(uid, []).append(_as_date(d))
        reports: dict[int, list[ReportSpan]] = {}
        for uid, start, end, created, due in s.execute(reports_q):
            reports.setdefault(uid, []).append(ReportSpan(start, end, created.date(), due))
    cal = work_calendar(ctx)
    deadline = monthly_ledger_deadline(month, rules, cal)
    delay = visit_service.load_options(ctx).report_delay_workdays  # 回访报告表: the working day after

    def report_due(day: date) -> date:
        return cal.add_workdays(day, delay)

    for uid, days in visit_days.items():
        mine = reports.get(uid, [])
        add(uid, EventKind.LEDGER_NOT_KEPT,
            len(days_without_timely_report(days, mine, today=today, due_of=report_due)))
        add(uid, EventKind.MONTHLY_LEDGER_MISSING, int(monthly_ledger_missing(days, mine, deadline, today)))
    return counts


def compute_assessment(ctx: ServiceContext, month: Period | str, *, figures: Any = None) -> Assessment:
    """The month's assessment as the data stands now (not stored): every assessed person (active, or with
    events), in name order, with each kind's count, amount and points. ``figures``: the month's raw counts
    of :func:`statistics` (``Statistics.figures``), reused when they cover every department."""
    _require_view(ctx)
    period = _month(month)
    rules = load_assessment_rules(ctx)
    reuse = figures if isinstance(figures, _Figures) and figures.period == period and not customer_scope(ctx).limited \
        else None
    counts = _event_counts(ctx, period, rules, reuse)
    with ctx.sessions() as s:
        people = s.execute(select(User.id, User.display_name, User.role, User.active, Department.name)
                           .outerjoin(Department, Department.id == User.department_id)
                           .where(User.role.in_(list(rules.assessed_roles)))
                           .order_by(User.display_name, User.id)).all()
    chosen = [ClerkEvents(uid, name, dep or "", counts.get(uid, {}))
              for uid, name, _role, active, dep in people if active or counts.get(uid)]
    return assess(period, chosen, rules, ctx.now())


def _own_only(ctx: ServiceContext, a: Assessment) -> Assessment:
    """A clerk sees their own line; supervisors and managers see everyone's."""
    if ctx.user is SYSTEM_USER or can(ctx.user.role, Permission.SIGN_OFF):
        return a
    return replace(a, clerks=tuple(c for c in a.clerks if c.clerk_id == ctx.user.id))


def _may_confirm(ctx: ServiceContext) -> bool:
    return (ctx.user is not SYSTEM_USER and bool(ctx.user.id)
            and can(ctx.user.role, Permission.CONFIRM_ASSESSMENT))


def _check_confirmer(ctx: ServiceContext, what: str) -> None:
    ctx.require(Permission.SIGN_OFF, what)
    if not _may_confirm(ctx):
        raise PermissionDenied(f"{what}须由公司经理本人登录后操作。")


def _row_integrity(s: Session, row: MonthlyAssessment) -> Integrity:
    """The confirmation's hashes and its Ed25519 signature by the manager's registered key (a confirmation
    from before signatures existed: its 确认考核 row in the audit chain before the upgrade)."""
    if row.status != AssessmentStatus.CONFIRMED.value:
        return (Integrity.TAMPERED if row.content_hash or row.signature_hash or row.signature
                else Integrity.UNSIGNED)
    try:
        snapshot = json.loads(row.snapshot)
    except ValueError:
        return Integrity.TAMPERED
    content = assessment_hash(snapshot)
    sign = SignOff(row.confirmed_by_id, row.signed_role, row.confirmed_at, row.comment, row.revision or 0)
    if content != row.content_hash or signature_hash(content, sign) != row.signature_hash:
        return Integrity.TAMPERED
    stored = StoredSignature(row.status, row.content_hash, row.signature_hash, sign, row.signature or "",
                             row.signed_seq)
    if row.signature:
        if row.signed_seq is None or not signing.verifier(s)(
                sign_message(ASSESSMENT_ENTITY, row.id, content, sign, row.signed_seq), row.signature,
                row.confirmed_by_id, row.signed_seq):
            return Integrity.TAMPERED
    elif not signing.legacy_checker(s, ASSESSMENT_ENTITY, CONFIRM_ACTION)(row.id, stored):
        return Integrity.TAMPERED
    return Integrity.INTACT


def _view(ctx: ServiceContext, s: Session, period: Period, row: MonthlyAssessment | None,
          computed: Assessment | None, figures: Any = None) -> AssessmentView:
    rules = load_assessment_rules(ctx)
    deadline = monthly_ledger_deadline(period, rules, work_calendar(ctx))
    due = ctx.today() > deadline
    if row is not None and row.status == AssessmentStatus.CONFIRMED.value:
        try:
            assessment = Assessment.from_dict(json.loads(row.snapshot))
        except (ValueError, KeyError, TypeError, ValidationError):
            assessment = computed or compute_assessment(ctx, period, figures=figures)
        who = s.get(User, row.confirmed_by_id) if row.confirmed_by_id else None
        return AssessmentView(period, _own_only(ctx, assessment), AssessmentStatus.CONFIRMED, deadline,
                              who.display_name if who else "", row.confirmed_at, row.comment, _row_integrity(s, row),
                              row.revision or 0, row.version, False, _may_confirm(ctx))
    status = AssessmentStatus.REOPENED if row is not None else AssessmentStatus.OPEN
    assessment = computed or compute_assessment(ctx, period, figures=figures)
    return AssessmentView(period, _own_only(ctx, assessment), status, deadline,
                          comment=row.comment if row is not None else "",
                          revision=(row.revision or 0) if row is not None else 0,
                          version=row.version if row is not None else None,
                          can_confirm=_may_confirm(ctx) and due)


def assessment(ctx: ServiceContext, month: Period | str, *, figures: Any = None) -> AssessmentView:
    """The month's assessment: the confirmed snapshot when a manager confirmed it (with the tamper check),
    else computed from the data now (``figures``: see :func:`compute_assessment`)."""
    _require_view(ctx)
    period = _month(month)
    with ctx.sessions() as s:
        row = s.execute(select(MonthlyAssessment).where(MonthlyAssessment.month == period.key)).scalar()
        return _view(ctx, s, period, row, None, figures)


def _label(period: Period) -> str:
    return f"{period.label}考核"


def _guarded(fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StaleDataError:
            raise ConflictError("该月考核刚被其他人确认或撤回，请刷新后再操作。") from None
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


@_guarded
def confirm_assessment(ctx: ServiceContext, month: Period | str, comment: str = "",
                       expected_version: int | None = None, *, password: str | None = None,
                       key: signing.UnlockedKey | None = None) -> AssessmentView:
    """经理确认考核: the assessment computed now is stored as a snapshot with the content hash and the
    signature hash (who, role, when, comment, revision) and the month is locked. Only once the monthly
    ledger's deadline has passed (before it the month's figures are not final). Signed with the manager's
    key like a review sign-off (``password``, or a ``key`` already unlocked). Audited."""
    from huifang_desktop.domain.validation import optional_text

    _check_confirmer(ctx, "确认考核")
    period = _month(month)
    text = optional_text(comment, label="确认意见", field="comment", max_len=2000)
    rules = load_assessment_rules(ctx)
    deadline = monthly_ledger_deadline(period, rules, work_calendar(ctx))
    if ctx.today() <= deadline:
        raise ValidationError(FieldError(
            "month", "考核月份", f"{period.label}的月度台账上交期限为 {deadline:%Y-%m-%d}，期限过后才能确认考核"))
    unlocked = signing.credential_key(ctx, password, key)
    computed = compute_assessment(ctx, period)
    snapshot = computed.to_dict()
    now = ctx.now()
    with ctx.sessions() as s, s.begin():
        row = s.execute(select(MonthlyAssessment).where(MonthlyAssessment.month == period.key)).scalar()
        if row is not None and row.status == AssessmentStatus.CONFIRMED.value:
            who = s.get(User, row.confirmed_by_id) if row.confirmed_by_id else None
            raise LockedError(f"{period.label}的考核已由{who.display_name if who else '经理'}于 "
                              f"{row.confirmed_at:%Y-%m-%d %H:%M} 确认，不能重复确认；如需更正请先撤回确认。")
        if row is not None and expected_version is not None and row.version != expected_version:
            raise ConflictError(f"{period.label}的考核已被其他人修改，请刷新后再确认。")
        revision = (row.revision or 0) if row is not None else 0
        content = assessment_hash(snapshot)
        sign = SignOff(ctx.user.id, ctx.user.role.value, now, text, revision)
        if row is None:
            row = MonthlyAssessment(month=period.key, created_at=now, revision=revision)
            s.add(row)
        before = row.status if row.id else ""
        row.status = AssessmentStatus.CONFIRMED.value
        row.snapshot = json.dumps(snapshot, ensure_ascii=False, sort_keys=True)
        row.total_count, row.total_amount, row.total_points = computed.count, computed.amount, computed.points
        row.comment, row.confirmed_by_id, row.confirmed_at = text, ctx.user.id, now
        row.signed_role = ctx.user.role.value
        row.content_hash, row.signature_hash = content, signature_hash(content, sign)
        s.flush()
        entry = audit(s, ctx, CONFIRM_ACTION, ASSESSMENT_ENTITY, row.id, _label(period),
                      old={"status": before} if before else None,
                      new={"status": row.status, "count": computed.count, "amount": computed.amount,
                           "points": computed.points, "revision": revision, "content_hash": content,
                           "comment": text})
        assert entry.seq is not None
        row.signed_seq = entry.seq
        row.signature = signing.signature_for(unlocked, ASSESSMENT_ENTITY, row.id, content, sign, entry.seq)
        return _view(ctx, s, period, row, computed)


@_guarded
def reopen_assessment(ctx: ServiceContext, month: Period | str, reason: str,
                      expected_version: int | None = None) -> AssessmentView:
    """撤回确认 (a manager, with a reason): the signature is cleared — the old one stays in the audit log, with
    the tamper check at that moment — and ``revision`` goes up; the month can be corrected and confirmed again."""
    _check_confirmer(ctx, "撤回考核确认")
    period = _month(month)
    text = require_reason(reason, "撤回原因")
    with ctx.sessions() as s, s.begin():
        row = s.execute(select(MonthlyAssessment).where(MonthlyAssessment.month == period.key)).scalar()
        if row is None or row.status != AssessmentStatus.CONFIRMED.value:
            raise ValidationError(FieldError("month", "考核月份", f"{period.label}的考核尚未确认，无需撤回"))
        if expected_version is not None and row.version != expected_version:
            raise ConflictError(f"{period.label}的考核已被其他人修改，请刷新后再操作。")
        integrity = _row_integrity(s, row)
        old = {"status": row.status, "confirmed_at": row.confirmed_at.isoformat(sep=" ") if row.confirmed_at else None,
               "confirmed_by_id": row.confirmed_by_id, "amount": row.total_amount, "revision": row.revision or 0,
               "content_hash": row.content_hash, "integrity": integrity.value}
        row.status = AssessmentStatus.REOPENED.value
        row.revision = (row.revision or 0) + 1
        row.confirmed_by_id, row.confirmed_at, row.signed_role = None, None, ""
        row.content_hash, row.signature_hash, row.signature, row.signed_seq = "", "", "", None
        row.comment = text
        s.flush()
        note = text if integrity is Integrity.INTACT else f"{text}（撤回前校验：{integrity.value}）"
        audit(s, ctx, "撤回考核确认", "monthly_assessment", row.id, _label(period), old=old,
              new={"status": row.status, "revision": row.revision, "reason": text}, note=note)
        return _view(ctx, s, period, row, None)


# --- reports -----------------------------------------------------------------------------------------

_PCT = ColumnFormat.PERCENT
_INT = ColumnFormat.INT
_TXT = ColumnFormat.TEXT
_NUM = ColumnFormat.NUMBER
_MONEY = ColumnFormat.MONEY


def report_title(period: Period) -> str:
    return {PeriodKind.MONTH: MONTH_TITLE, PeriodKind.QUARTER: QUARTER_TITLE,
            PeriodKind.YEAR: YEAR_TITLE}.get(period.kind, CUSTOM_TITLE)


PENDING_TEXT = "…"  # the previous period is still being counted


def _summary_table(st: Statistics) -> ReportTable:
    t, c, svc = st.totals, st.complaints, st.services
    rows: list[tuple[Any, ...]] = []
    formats: list[ColumnFormat] = []

    def add(label: str, now: Any, before: Callable[[], Any], fmt: ColumnFormat, target: Any = None) -> None:
        if st.complete:
            previous = before()
            diff = change_text(now, previous, as_percent=fmt is _PCT)
        else:
            previous, diff = None, PENDING_TEXT
        rows.append((label, now, previous, diff, "" if target is None else target))  # "": no target
        formats.append(fmt)

    p, pc, ps = st.previous_totals, st.previous_complaints, st.previous_services
    add("计划回访（次）", t.planned, lambda: p.planned, _INT)
    add("已回访（次）", t.done, lambda: p.done, _INT)
    add("按时回访（次）", t.on_time, lambda: p.on_time, _INT)
    add("逾期未回访（次）", t.overdue, lambda: p.overdue, _INT)
    add("回访率", t.visit_rate.value, lambda: p.visit_rate.value, _PCT, t.visit_rate.target)
    add("按时回访率", t.on_time_rate.value, lambda: p.on_time_rate.value, _PCT)
    add("回访记录（份）", t.records, lambda: p.records, _INT)
    add("满意率", t.satisfaction.satisfied_rate.value, lambda: p.satisfaction.satisfied_rate.value, _PCT)
    add("满意度均分（0–100）", t.satisfaction.average, lambda: p.satisfaction.average, _NUM)
    add("投诉（件）", c.received, lambda: pc.received, _INT)
    add("处理率", c.handling_rate.value, lambda: pc.handling_rate.value, _PCT, c.handling_rate.target)
    add("结案率", c.closing_rate.value, lambda: pc.closing_rate.value, _PCT)
    add("平均处理时长（天）", c.avg_handling_days, lambda: pc.avg_handling_days, _NUM)
    add("平均结案时长（天）", c.avg_closing_days, lambda: pc.avg_closing_days, _NUM)
    add("重复投诉（件）", c.repeated, lambda: pc.repeated, _INT)
    add("客户不认可重新投诉（件）", c.reopened, lambda: pc.reopened, _INT)
    add("逾期升级（件）", c.escalated, lambda: pc.escalated, _INT)
    add(f"售后服务次数（{'、'.join(svc.visit_types)}回访）", svc.visits, lambda: ps.visits if ps else 0, _INT)
    return ReportTable("summary", "主要指标", ("指标", "本期", "上期", "变化", "目标"), tuple(rows),
                       (_TXT, _INT, _INT, _TXT, _PCT), (26, 12, 12, 16, 10), note=svc.note,
                       row_formats=tuple(formats))


def _groups_table(st: Statistics) -> ReportTable:
    label = GROUP_LABELS[st.group_by]
    rows = [(g.key or "（空）", g.planned, g.done, g.on_time, g.overdue, g.visit_rate.value, g.on_time_rate.value,
             g.visit_rate.target, g.records, g.satisfaction.satisfied_rate.value, g.satisfaction.average)
            for g in st.groups]
    t = st.totals
    rows.append(("合计", t.planned, t.done, t.on_time, t.overdue, t.visit_rate.value, t.on_time_rate.value,
                 t.visit_rate.target, t.records, t.satisfaction.satisfied_rate.value, t.satisfaction.average))
    return ReportTable("groups", f"回访情况（按{label}）",
                       (label, "计划", "已回访", "按时", "逾期", "回访率", "按时率", "目标回访率", "回访记录",
                        "满意率", "满意度均分"), tuple(rows),
                       (_TXT, _INT, _INT, _INT, _INT, _PCT, _PCT, _PCT, _INT, _PCT, _NUM),
                       (16, 8, 8, 8, 8, 9, 9, 10, 9, 9, 10))


def _rules_table(st: Statistics) -> ReportTable:
    rows = []
    for r in st.rules:
        meets = r.visit_rate.meets_target
        rows.append((r.name, r.sample_rate, r.planned, r.done, r.on_time, r.overdue, r.visit_rate.value,
                     r.visit_rate.target, "—" if meets is None else ("达标" if meets else "未达标")))
    return ReportTable("rules", "各规则回访率与目标",
                       ("回访规则", "抽样比例", "计划", "已回访", "按时", "逾期", "回访率", "目标回访率", "是否达标"),
                       tuple(rows), (_TXT, _PCT, _INT, _INT, _INT, _INT, _PCT, _PCT, _TXT),
                       (24, 9, 8, 8, 8, 8, 9, 10, 9))


def _distribution(key: str, title: str, head: str, pairs: Sequence[tuple[str, int]], total: int | None = None,
                  extra: Sequence[tuple[str, int]] = ()) -> ReportTable:
    whole = total if total is not None else sum(n for _k, n in pairs)
    rows = [(k, n, n / whole if whole else None) for k, n in pairs]
    rows += [(k, n, None) for k, n in extra if n]
    rows.append(("合计", whole, 1.0 if whole else None))
    return ReportTable(key, title, (head, "数量", "占比"), tuple(rows), (_TXT, _INT, _PCT), (20, 10, 10))


def _trend_table(st: Statistics) -> ReportTable:
    rows = tuple((p.month, p.planned, p.done, p.visit_rate, p.on_time_rate, p.records, p.satisfied_rate,
                  p.average, p.complaints) for p in st.trend)
    return ReportTable("trend", "月度趋势",
                       ("月份", "计划", "已回访", "回访率", "按时率", "回访记录", "满意率", "满意度均分", "投诉"),
                       rows, (_TXT, _INT, _INT, _PCT, _PCT, _INT, _PCT, _NUM, _INT), (10, 8, 8, 9, 9, 9, 9, 10, 8))


def _assessment_table(view: AssessmentView) -> ReportTable:
    a = view.assessment
    kinds = list(EventKind)
    rows = [(c.clerk, c.department, *(c.line(k).count for k in kinds), c.count, c.amount, c.points)
            for c in a.clerks]
    rows.append(("合计", "", *(line.count for line in a.kind_totals()), a.count, a.amount, a.points))
    if view.status is AssessmentStatus.CONFIRMED:
        note = (f"已由{view.confirmed_by}于 {view.confirmed_at:%Y-%m-%d %H:%M} 确认（{view.integrity.value}）"
                if view.confirmed_at else "已确认")
    else:
        note = f"未确认（经理确认后锁定；月度台账上交期限 {view.deadline:%Y-%m-%d}）"
    amounts = "；".join(f"{k.value} {a.rules.rule(k).amount} 元/次" + (
        f"、扣 {a.rules.rule(k).points} 分" if a.rules.rule(k).points else "") + (
        f"，重复×{a.rules.rule(k).repeat_multiplier}" if a.rules.rule(k).repeat_multiplier > 1 else "")
        for k in a.rules.enabled_kinds())
    return ReportTable("assessment", f"考核（{view.status.value}）",
                       ("姓名", "部门", *(k.value for k in kinds), "次数", "金额（元）", "绩效扣分"), tuple(rows),
                       (_TXT, _TXT, *([_INT] * len(kinds)), _INT, _MONEY, _INT),
                       (10, 10, *([9] * len(kinds)), 7, 9, 8), note=f"{note}。标准：{amounts}。")


def build_report(ctx: ServiceContext, period: Period | str, group_by: str = "clerk", *, complete: bool = True,
                 company: str | None = None) -> StatsReport:
    """月度回访统计表 (a month, with the 考核) or 季度客户服务报告 (a quarter; also a year or a custom period):
    titled tables of real numbers and the charts drawn from them, for the xlsx, the PDF and the screen.
    ``complete=False``: without the previous period and the trend (see :func:`statistics`)."""
    st = statistics(ctx, period, group_by, complete=complete)
    view = assessment(ctx, st.period, figures=st.figures) if st.period.kind is PeriodKind.MONTH else None
    return report_from(ctx, st, view, company=company)


def report_from(ctx: ServiceContext, st: Statistics, view: AssessmentView | None = None, *,
                company: str | None = None) -> StatsReport:
    """The report of statistics already counted (``view``: the month's assessment, for a month)."""
    p = st.period
    tables = [_summary_table(st), _groups_table(st), _rules_table(st),
              _distribution("satisfaction", "满意度分布", "满意度", st.totals.satisfaction.levels,
                            extra=(("其他（旧选项）", st.totals.satisfaction.other),)),
              _distribution("results", "回访结果", "结果", st.totals.by_result),
              _distribution("types", "回访类型", "回访类型", st.totals.by_type),
              _distribution("complaint_categories", "投诉类别", "类别", st.complaints.by_category),
              _distribution("complaint_severities", "投诉严重程度", "严重程度", st.complaints.by_severity),
              _distribution("complaint_states", "投诉处理状态", "状态", st.complaints.by_state),
              _trend_table(st)]
    if view is not None:
        tables.append(_assessment_table(view))
    group_label = GROUP_LABELS[st.group_by]
    charts = (
        ChartSpec(ChartKind.LINE, "回访率趋势", "trend", 0, (3, 4), percent=True, y_title="回访率"),
        ChartSpec(ChartKind.LINE, "满意率趋势", "trend", 0, (6,), percent=True, y_title="满意率"),
        ChartSpec(ChartKind.BAR, "投诉类别", "complaint_categories", 0, (1,), y_title="件"),
        ChartSpec(ChartKind.BAR, f"各{group_label}回访情况", "groups", 0, (1, 2), y_title="次",
                  limit=load_stats_options(ctx).top_clerks),
    )
    notes: tuple[str, ...] = (st.services.note, f"对比期间：{st.previous.label}。回访率 = 已回访 ÷ 计划（期间内到期、未取消的回访计划）；"
             "按时率 = 按时完成 ÷ 计划；处理率 = 已处理 ÷ 投诉（不含已撤销）。")
    # the audit chain's head when printed (the report's last line): a chain rewritten later no longer matches
    with ctx.sessions() as s:
        head = head_label(*chain_head(s))
    notes += (f"{head}（打印时的操作日志校验值，可用 huifang-desktop verify 核对）",)
    return StatsReport(report_title(p), p, load_settings(ctx).company if company is None else company,
                       st.generated_at, tuple(tables), charts, notes)


# --- files -------------------------------------------------------------------------------------------

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


def _check_target(out: Path, suffix: str = ".xlsx") -> None:
    checked_target(out, StatsError, suffix=suffix)


def export_xlsx(ctx: ServiceContext, report: StatsReport, out_path: Path | str) -> Path:
    """Write the report as .xlsx (a sheet per table, frozen headers, native Excel charts) and log it."""
    from huifang_desktop.exports.stats_xlsx import write_stats_workbook

    _require_view(ctx)
    out = Path(out_path)
    _check_target(out)
    try:
        sheets = write_stats_workbook(report, out)
    except OSError as exc:
        raise write_failed(out, exc, StatsError) from exc
    with ctx.sessions() as s, s.begin():
        audit(s, ctx, EXPORT_ACTION, "statistics", None, f"{report.title} {report.period.label}",
              new={"period": report.period.key, "file": str(out), "sheets": sheets})
    return out


def report_pdf(ctx: ServiceContext, report: StatsReport, out: Path | str | None = None, *,
               forms_dir: Path | None = None, progress: ProgressCallback | None = None,
               cancelled: CancelCheck | None = None) -> Any:
    """The report as PDF through the forms renderer (template ``stats_month`` / ``stats_quarter`` in
    ``forms/``) with the charts on the pages after it; a :class:`~services.printing.PrintedDocument` for the
    preview; ``out``: also save it (logged as 打印 like every printed form)."""
    from huifang_desktop.printing.stats_report import render_stats_report
    from huifang_desktop.services import printing

    _require_view(ctx)
    name = MONTH_FORM if report.period.kind is PeriodKind.MONTH else QUARTER_FORM
    template = printing._template(name, forms_dir)
    if template.title != report.title and report.period.kind not in (PeriodKind.MONTH, PeriodKind.QUARTER):
        template = replace(template, title=report.title)
    buffer = io.BytesIO()

    def step(done: int, total: int) -> bool:
        if progress is not None:
            progress(done, total)
        return not (cancelled is not None and cancelled())

    from huifang_desktop.printing import RenderCancelled

    try:
        pages = render_stats_report(template, report, buffer, printed_at=ctx.now(), progress=step)
    except RenderCancelled:
        raise printing.PrintCancelled("已取消，没有生成文件。") from None
    except ValueError as exc:
        raise printing.PrintError(f"无法打印{template.title}：{exc}") from exc
    doc = printing.PrintedDocument(
        buffer.getvalue(), pages, template.title, f"{template.title} {report.period.label}",
        printing._safe_name(f"{template.title}_{report.period.key.replace('..', '至')}.pdf"), "statistics", None,
        f"{template.title} {report.period.label}", {"period": report.period.key})
    if out is not None:
        printing.save_pdf(ctx, doc, out)
    return doc


def export_report(ctx: ServiceContext, period: Period | str, out_path: Path | str, group_by: str = "clerk", *,
                  forms_dir: Path | None = None, progress: ProgressCallback | None = None,
                  cancelled: CancelCheck | None = None) -> tuple[StatsReport, Path]:
    """Build the period's report and write it as .xlsx or .pdf (by the file's extension)."""
    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".pdf"):
        raise ValidationError(FieldError("out", "输出文件", "请以 .xlsx 或 .pdf 结尾"))
    _check_target(out, suffix)
    if progress is not None:
        progress(0, 3)
    report = build_report(ctx, period, group_by)
    if cancelled is not None and cancelled():
        from huifang_desktop.services.printing import PrintCancelled

        raise PrintCancelled("已取消，没有生成文件。")
    if progress is not None:
        progress(1, 3)
    if suffix == ".xlsx":
        export_xlsx(ctx, report, out)
    else:
        report_pdf(ctx, report, out, forms_dir=forms_dir, cancelled=cancelled)
    if progress is not None:
        progress(3, 3)
    return report, out


__all__ = [
    "ASSESSMENT_RULES_KEY", "GROUP_LABELS", "MONTH_TITLE", "OPTIONS_KEY", "QUARTER_TITLE", "AssessmentView",
    "ComplaintFigures", "GroupRow", "RuleRow", "ServiceFigures", "Statistics", "StatsError", "TrendPoint",
    "VisitTotals", "assessment", "build_report", "complaint_figures", "complete_statistics", "report_from", "compute_assessment",
    "confirm_assessment", "export_report", "export_xlsx", "group_rows", "load_assessment_rules",
    "load_stats_options", "reopen_assessment", "report_pdf", "report_title", "rule_rows",
    "save_assessment_rules", "save_stats_options", "statistics", "trend", "visit_totals",
]
