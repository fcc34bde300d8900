"""Return visits (回访): plans, the visit record form, reports, rates (domain.md §3–§5).

The rules live in :mod:`huifang_desktop.domain.schedule` (when a visit is due) and
:mod:`huifang_desktop.domain.visits` (states, scales, numbers, scripts); this module stores and reads.

Planning
--------
* Every plan carries the idempotency key of the rule engine (``VisitPlan.source_key``). Planning inserts a
  plan only when its key is new (``INSERT … ON CONFLICT DO NOTHING`` on top of a key look-up), so running
  the catch-up or a trigger twice never makes a duplicate, and a plan someone moved or cancelled is never
  re-created or touched (moved plans are ``manual``; done and cancelled plans keep their keys).
* Triggers: a purchase or delivery (:func:`plan_purchase_in`, called by ``customers.add_purchase`` inside
  its transaction), any other triggering record (:func:`on_trigger`), and the daily catch-up at start
  (:func:`plan_catch_up`): the next routine (例行) and technical (技术) visit per active customer, plans
  for recent purchases (``VisitOptions.trigger_lookback_days``) and upcoming birthdays.
* A routine plan follows the customer's last successful visit: when that moved (another visit happened)
  or the class changed, the catch-up re-dates the still pending, never hand-edited, first-attempt plan.
* Recording a visit that did not reach the customer or left them unsatisfied plans the next attempt
  (:func:`huifang_desktop.domain.schedule.follow_up`), keyed from the plan (``…#2``) or the record.

Settings (JSON, table ``setting``): ``visit_rules`` (:meth:`RuleSet.to_dict`), ``satisfaction_scale``
(a key of :data:`SATISFACTION_SCALES`), ``visit_options`` (:class:`VisitOptions`), ``independent_visitor``
(bool), ``phone_scripts`` (type label → questions); work-calendar overrides are ``OfficeSettings.holidays``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from heapq import merge
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    case,
    extract,
    func,
    insert,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.importing import ImportTarget
from huifang_desktop.domain.planning import TriggerPlanner as _TriggerPlanner
from huifang_desktop.domain.planning import assignee_for, purchase_triggers
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.schedule import (
    FOLLOW_UP_RULE,
    ROUTINE_RULE,
    TECHNICAL_RULE,
    Assignee,
    PlannedVisit,
    RuleSet,
    Trigger,
    TriggerKind,
    add_months,
    follow_up,
    plans_for_trigger,
    routine_plans,
)
from huifang_desktop.domain.signoff import require_reason
from huifang_desktop.domain.validation import (
    already,
    clean_text,
    format_phone,
    normalize_phone,
    optional_text,
    parse_date,
    require_text,
    to_halfwidth,
)
from huifang_desktop.domain.visits import (
    DEFAULT_SCALE,
    OVERDUE,
    SATISFACTION_SCALES,
    PlanState,
    SatisfactionScale,
    VisitMethod,
    VisitResult,
    VisitType,
    cancel_reason,
    display_state,
    format_visit_number,
    needs_signature,
    on_time_rate,
    ordered_counts,
    phone_script,
    signature_substitute,
    signed_form_state,
    visit_rate,
)
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.exports.visits_xlsx import LEDGER_HEADERS, write_visit_ledger
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit, diff, recent_changes
from huifang_desktop.services.customers import check_visible, customer_scope
from huifang_desktop.services.errors import (
    ConflictError,
    LockedError,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from huifang_desktop.services.outputs import checked_target, period_text, write_failed
from huifang_desktop.services.settings import (
    get_value,
    load_settings,
    set_value,
)
from huifang_desktop.storage.counters import next_serial
from huifang_desktop.storage.models import (
    Customer,
    Department,
    ImportItem,
    ImportRun,
    Purchase,
    User,
    VisitPlan,
    VisitRecord,
    VisitReport,
)

RULES_KEY = "visit_rules"
SCALE_KEY = "satisfaction_scale"
OPTIONS_KEY = "visit_options"
INDEPENDENT_KEY = "independent_visitor"
SCRIPTS_KEY = "phone_scripts"

MANUAL_RULE = "manual"
BIRTHDAY_RULE = "birthday"
REPORT_PENDING = "待审阅"  # the supervisor's review queue picks reports and records in this state
RECORD_PENDING = "待审阅"
RECORD_RETURNED = "退回"
RECORD_SIGNED = "已签字"
RECORD_HISTORY = "历史导入"  # imported from an old Excel ledger: done on paper, never signed in the program
PAGE_SIZE = 500
_KEY_CHUNK = 900  # keys per IN (…) look-up (below SQLite's old 999-parameter limit)
_INSERT_BATCH = 2000  # plans per INSERT … RETURNING

_PENDING = PlanState.PENDING.value
_DONE = PlanState.DONE.value
_CANCELLED = PlanState.CANCELLED.value
_SUCCESS = VisitResult.SUCCESS.value

_BUILTIN_RULE_NAMES = {ROUTINE_RULE: "例行回访", TECHNICAL_RULE: "技术回访", FOLLOW_UP_RULE: "再次回访",
                       MANUAL_RULE: "手动安排"}


# --- options -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class VisitOptions:
    """Office settings of the visit services (key ``visit_options``); every number is a default.

    ``purchase_triggers``: purchase kind (购货/交货) → trigger kind; a customer whose 类别 is one of
    ``end_customer_categories`` gets the end-customer rules (by units) instead. Assumption: an office
    records either orders (购货) or deliveries (交货) per sale, so both start the delivery chain.
    ``independent_visit_types``: the visit types the independence check (setting ``independent_visitor``)
    applies to — the satisfaction visit (满意度) by default, domain.md §1.
    """

    trigger_lookback_days: int = 90
    birthday_lookahead_days: int = 30
    transfer_hours: int = 24
    purchase_triggers: tuple[tuple[str, str], ...] = (("交货", TriggerKind.DELIVERY.value),
                                                      ("购货", TriggerKind.DELIVERY.value))
    end_customer_categories: tuple[str, ...] = ("终端客户",)
    independent_visit_types: tuple[str, ...] = (VisitType.SATISFACTION.value,)
    active_statuses: tuple[str, ...] = ("正常",)
    report_delay_workdays: int = 1

    def __post_init__(self) -> None:
        errors = []
        for name, label in (("trigger_lookback_days", "补排回溯天数"), ("birthday_lookahead_days", "生日提前天数"),
                            ("transfer_hours", "转交处理时限"), ("report_delay_workdays", "报告期限")):
            if getattr(self, name) < 0:
                errors.append(FieldError(name, label, "不能为负数"))
        for _kind, trigger in self.purchase_triggers:
            if trigger not in {t.value for t in TriggerKind}:
                errors.append(FieldError("purchase_triggers", "购货触发", f"“{trigger}”不是有效的触发事件"))
        if errors:
            raise ValidationError(errors)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["purchase_triggers"] = dict(self.purchase_triggers)
        for key in ("end_customer_categories", "independent_visit_types", "active_statuses"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VisitOptions:
        known = {f.name for f in fields(cls)}
        clean: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key == "purchase_triggers":
                clean[key] = tuple((str(k), str(v)) for k, v in dict(value).items())
            elif isinstance(value, list):
                clean[key] = tuple(str(v) for v in value)
            else:
                clean[key] = value
        return cls(**clean)


@lru_cache(maxsize=8)
def _calendar_for(overrides_json: str) -> WorkCalendar:
    return WorkCalendar.china(json.loads(overrides_json) or None)


def work_calendar(ctx: ServiceContext) -> WorkCalendar:
    """The mainland calendar plus the years an admin entered in Settings (cached per set of overrides)."""
    return _calendar_for(json.dumps(load_settings(ctx).holidays, sort_keys=True, default=str))


def load_rules(ctx: ServiceContext) -> RuleSet:
    data = get_value(ctx, RULES_KEY)
    return RuleSet() if not data else RuleSet.from_dict(data)


def save_rules(ctx: ServiceContext, rules: RuleSet) -> None:
    """Store the office's rule table (supervisor and up; audited by ``set_value``)."""
    ctx.require(Permission.MANAGE_SETTINGS, "修改回访规则")
    set_value(ctx, RULES_KEY, rules.to_dict(), what="回访规则")


def load_options(ctx: ServiceContext) -> VisitOptions:
    data = get_value(ctx, OPTIONS_KEY)
    return VisitOptions() if not data else VisitOptions.from_dict(data)


def save_options(ctx: ServiceContext, options: VisitOptions) -> None:
    ctx.require(Permission.MANAGE_SETTINGS, "修改回访设置")
    set_value(ctx, OPTIONS_KEY, options.to_dict(), what="回访设置")


def load_scale(ctx: ServiceContext) -> SatisfactionScale:
    key = get_value(ctx, SCALE_KEY, DEFAULT_SCALE.key)
    return SATISFACTION_SCALES.get(str(key), DEFAULT_SCALE)


def save_scale(ctx: ServiceContext, key: str) -> None:
    ctx.require(Permission.MANAGE_SETTINGS, "修改满意度选项")
    if key not in SATISFACTION_SCALES:
        raise ValidationError(FieldError("satisfaction_scale", "满意度选项", f"“{key}”不是可选的满意度标准"))
    set_value(ctx, SCALE_KEY, key, what="满意度选项")


@dataclass(frozen=True, slots=True)
class _Config:
    rules: RuleSet
    cal: WorkCalendar
    options: VisitOptions
    scale: SatisfactionScale


def _config(ctx: ServiceContext) -> _Config:
    return _Config(load_rules(ctx), work_calendar(ctx), load_options(ctx), load_scale(ctx))


def rule_names(rules: RuleSet) -> dict[str, str]:
    """rule key → Chinese name, for reports and the command line."""
    return {**_BUILTIN_RULE_NAMES, **{r.key: r.name for r in rules.rules}}


# --- rows --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlanRow:
    id: int
    customer_id: int
    customer_code: str
    customer_name: str
    grade: str
    phone: str  # formatted
    visit_type: str
    method: str
    earliest: date
    due: date
    owner: str
    state: str
    display_state: str  # the stored state, or 逾期
    attempt: int
    rule_key: str
    record_number: str
    owner_id: int | None = None
    manual: bool = False
    version: int = 1
    cancel_reason: str = ""
    done_on: date | None = None
    record_id: int | None = None  # the visit's record once visited
    record_status: str = ""  # its review status: 待审阅 / 退回 / 已签字


@dataclass(frozen=True, slots=True)
class CatchUpResult:
    planned: list[PlanRow]
    skipped: int  # plans the rules asked for that existed already
    moved: int = 0  # pending routine/technical plans re-dated after a newer visit or a class change
    seconds: float = 0.0

    def by_rule(self) -> dict[str, int]:
        return dict(Tally(p.rule_key for p in self.planned).most_common())


@dataclass(frozen=True, slots=True)
class DayCount:
    planned: int
    done: int
    overdue: int


@dataclass(frozen=True, slots=True)
class MoveResult:
    plan: PlanRow
    shifted: bool  # the asked day was not a working day
    message: str


@dataclass(frozen=True, slots=True)
class VisitRecordDraft:
    """What the 回访记录表 dialog sends. Strings are accepted for dates and times (``2026-11-24 09:30``)."""

    customer_id: int
    result: str
    plan_id: int | None = None
    contact_name: str = ""
    contact_phone: str = ""
    visit_type: str = VisitType.ROUTINE.value
    method: str = VisitMethod.PHONE.value
    visited_at: datetime | date | str | None = None
    visitor_id: int | None = None  # default: the acting user
    content: str = ""  # 回访内容
    feedback: str = ""  # 客户意见/反馈
    problems: str = ""  # 问题点
    measures: str = ""  # 改善对策
    satisfaction: str = ""
    handling: str = ""  # 处理情况
    transfer_department: str = ""  # 转交部门
    next_visit_on: date | str | None = None
    customer_signed: bool = False


@dataclass(frozen=True, slots=True)
class RecordDraftData:
    """The form pre-filled from the plan and the customer file (plus choices and the phone script)."""

    plan_id: int | None
    customer_id: int
    customer_code: str
    customer_name: str
    grade: str
    contact_name: str
    contact_phone: str  # formatted
    visit_type: str
    method: str
    visited_at: datetime
    visitor_id: int | None
    visitor: str
    owner: str
    attempt: int
    due: date | None
    script: tuple[str, ...]
    needs_signature: bool
    signature_text: str | None  # "电话回访" etc. where no signature is needed
    satisfaction_levels: tuple[str, ...]
    results: tuple[str, ...] = tuple(r.value for r in VisitResult)
    visit_types: tuple[str, ...] = tuple(t.value for t in VisitType)
    methods: tuple[str, ...] = tuple(m.value for m in VisitMethod)

    def to_draft(self, *, result: str, **changes: Any) -> VisitRecordDraft:
        base: dict[str, Any] = {
            "customer_id": self.customer_id, "plan_id": self.plan_id, "contact_name": self.contact_name,
            "contact_phone": self.contact_phone, "visit_type": self.visit_type, "method": self.method,
            "visited_at": self.visited_at, "visitor_id": self.visitor_id, "result": result}
        base.update(changes)
        return VisitRecordDraft(**base)


@dataclass(frozen=True, slots=True)
class VisitRecordRow:
    id: int
    number: str
    plan_id: int | None
    customer_id: int
    customer_code: str
    customer_name: str
    grade: str
    contact_name: str
    contact_phone: str  # formatted
    visit_type: str
    method: str
    visited_at: datetime
    visitor_id: int | None
    visitor: str
    content: str
    feedback: str
    problems: str
    measures: str
    satisfaction: str
    handling: str
    transfer_department: str
    transfer_due: datetime | None
    transfer_done_at: datetime | None
    transfer_answer: str
    transfer_overdue: bool
    next_visit_on: date | None
    result: str
    customer_signed: bool
    signature_text: str  # 客户签字 box: 已签字 / 未签字 / 电话回访 …
    status: str
    version: int
    offer_complaint: bool = False  # record_visit: unsatisfied, offer to open a complaint
    follow_up_plan_id: int | None = None  # record_visit: the next attempt planned now
    next_plan_id: int | None = None  # record_visit: the plan made for 下次回访时间
    supervisor_comment: str = ""  # 指导意见; on a returned (退回) record, the reason


@dataclass(frozen=True, slots=True)
class TransferRow:
    record_id: int
    number: str
    customer_code: str
    customer_name: str
    department: str
    problems: str
    due: datetime
    visitor: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class ReportProblem:
    record_id: int
    number: str
    customer_name: str
    problems: str
    measures: str
    department: str


@dataclass(frozen=True, slots=True)
class ReportDraft:
    """回访报告表 drafted from a clerk's records of a day or period (counts from SQL aggregates)."""

    clerk_id: int
    clerk: str
    start: date
    end: date
    total: int
    by_type: tuple[tuple[str, int], ...]
    by_result: tuple[tuple[str, int], ...]
    satisfaction: tuple[tuple[str, int], ...]  # level → count, in the scale's order (others after)
    satisfied: int
    average_score: float | None  # 0..100 over the answers on the current scale
    problems: tuple[ReportProblem, ...]
    scale_key: str = DEFAULT_SCALE.key

    @property
    def problems_text(self) -> str:
        return "\n".join(f"{p.number} {p.customer_name}：{p.problems}" for p in self.problems)

    @property
    def measures_text(self) -> str:
        return "\n".join(f"{p.number} {p.customer_name}：{p.measures}" for p in self.problems if p.measures)

    def summary(self) -> dict[str, Any]:
        return {"total": self.total, "by_type": dict(self.by_type), "by_result": dict(self.by_result),
                "satisfaction": dict(self.satisfaction), "satisfied": self.satisfied,
                "average_score": self.average_score, "scale": self.scale_key,
                "records_with_problems": [p.record_id for p in self.problems]}


@dataclass(frozen=True, slots=True)
class ReportRow:
    id: int
    number: str
    clerk_id: int
    clerk: str
    period_start: date
    period_end: date
    status: str
    due_on: date
    evaluation: str
    problems: str
    actions: str
    summary: dict[str, Any] = field(default_factory=dict)
    late: bool = False  # filled after its due day
    version: int = 1


@dataclass(frozen=True, slots=True)
class RateRow:
    key: str
    planned: int
    done: int
    on_time: int
    overdue: int
    visit_rate: float | None
    on_time_rate: float | None
    target: float | None  # the rules' target 回访率, weighted by the plans of each rule


GroupBy = Literal["clerk", "grade", "type", "month", "rule", "department"] | None


class ExportError(ServiceError):
    pass


# --- shared helpers ----------------------------------------------------------------------------------

def _user_names(conn: Connection | Session) -> dict[int, str]:
    return {uid: name for uid, name in conn.execute(select(User.id, User.display_name))}


def _owner_ids_for_team(s: Session, ctx: ServiceContext, owner_id: int | None) -> Any:
    dep = ctx.user.department_id
    if owner_id is not None:
        dep = s.execute(select(User.department_id).where(User.id == owner_id)).scalar()
    return select(User.id).where(User.department_id == dep)


def _plan_select() -> Any:
    rec = aliased(VisitRecord)
    return (
        select(VisitPlan.id, VisitPlan.customer_id, Customer.code, Customer.name, Customer.grade,
               Customer.primary_phone, VisitPlan.visit_type, VisitPlan.method, VisitPlan.earliest,
               VisitPlan.due, User.display_name, VisitPlan.state, VisitPlan.attempt, VisitPlan.rule_key,
               rec.number, VisitPlan.owner_id, VisitPlan.manual, VisitPlan.version, VisitPlan.cancel_reason,
               VisitPlan.done_on, rec.id, rec.status)
        .join(Customer, Customer.id == VisitPlan.customer_id)
        .outerjoin(User, User.id == VisitPlan.owner_id)
        .outerjoin(rec, rec.id == VisitPlan.record_id)
    )


def _plan_row(r: Any, today: date) -> PlanRow:
    return PlanRow(r[0], r[1], r[2], r[3], r[4], format_phone(r[5]), r[6], r[7], r[8], r[9], r[10] or "",
                   r[11], display_state(r[11], r[9], today), r[12], r[13], r[14] or "", r[15], bool(r[16]),
                   r[17], r[18] or "", r[19], r[20], r[21] or "")


def _get_plan_row(s: Session, plan_id: int, today: date) -> PlanRow:
    r = s.execute(_plan_select().where(VisitPlan.id == plan_id)).one_or_none()
    if r is None:
        raise NotFound(f"回访计划 {plan_id} 不存在。")
    return _plan_row(r, today)


class _Assignees:
    """Who makes a planned visit: the customer's owner, or a supervisor / manager (rule ``who``)."""

    def __init__(self, conn: Connection | Session) -> None:
        self._conn = conn
        self._by_role: dict[str, list[tuple[int, int | None]]] | None = None

    def resolve(self, who: Assignee, owner_id: int | None, department_id: int | None) -> int | None:
        if self._by_role is None and who in (Assignee.SUPERVISOR, Assignee.MANAGER):
            self._by_role = {}
            q = select(User.id, User.role, User.department_id).where(User.active.is_(True)).order_by(User.id)
            for uid, r, dep in self._conn.execute(q):
                self._by_role.setdefault(r, []).append((uid, dep))
        return assignee_for(who, owner_id, department_id, self._by_role or {})


_PLAN_TABLE = cast(Table, VisitPlan.__table__)


def _insert_statement(dialect: str) -> Any:
    table = _PLAN_TABLE
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    else:  # pragma: no cover - keys are looked up first, so a plain insert still avoids duplicates
        return insert(table).returning(table.c.id, table.c.source_key)
    return (dialect_insert(table).on_conflict_do_nothing(index_elements=[table.c.source_key])
            .returning(table.c.id, table.c.source_key))


def _existing_keys(conn: Connection | Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[i:i + _KEY_CHUNK]
        q = select(VisitPlan.source_key).where(VisitPlan.source_key.in_(chunk))
        found.update(conn.execute(q).scalars())
    return found


def _plan_values(p: PlannedVisit, key: str, customer_id: int, owner_id: int | None, now: datetime
                 ) -> dict[str, Any]:
    return {"customer_id": customer_id, "source_key": key, "rule_key": p.rule_key,
            "visit_type": p.visit_type.value, "method": p.method.value, "earliest": p.earliest, "due": p.due,
            "owner_id": owner_id, "attempt": p.attempt, "state": _PENDING, "cancel_reason": "",
            "manual": False,
            "done_on": None, "record_id": None, "created_at": now, "version": 1}


@dataclass(frozen=True, slots=True)
class _Cust:
    id: int
    code: str
    name: str
    grade: str
    phone: str
    owner_id: int | None
    department_id: int | None
    created_on: date
    birthday: date | None
    category: str


def _cust(r: Any) -> _Cust:
    return _Cust(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])


_CUST_COLUMNS = (Customer.id, Customer.code, Customer.name, Customer.grade, Customer.primary_phone,
                 Customer.owner_id, Customer.department_id, Customer.created_on, Customer.birthday,
                 Customer.category)


_Wanted = tuple[PlannedVisit, str, "_Cust", int | None]  # (plan, its key, customer, owner)


def _insert_plans(conn: Connection | Session, dialect: str, wanted: list[_Wanted], now: datetime, today: date,
                  names: Mapping[int, str]) -> tuple[list[PlanRow], int]:
    """Insert the plans whose keys are new; returns (rows inserted, how many existed already)."""
    unique: dict[str, _Wanted] = {}
    for item in wanted:
        unique.setdefault(item[1], item)
    existing = _existing_keys(conn, list(unique))
    todo = [item for key, item in unique.items() if key not in existing]
    rows: list[PlanRow] = []
    stmt = _insert_statement(dialect)
    for i in range(0, len(todo), _INSERT_BATCH):
        batch = todo[i:i + _INSERT_BATCH]
        params = [_plan_values(p, key, c.id, owner, now) for p, key, c, owner in batch]
        ids = {key: pid for pid, key in conn.execute(stmt, params)}
        for p, key, c, owner in batch:
            pid = ids.get(key)
            if pid is None:  # planned by another PC a moment ago
                continue
            rows.append(PlanRow(pid, c.id, c.code, c.name, c.grade, format_phone(c.phone), p.visit_type.value,
                                p.method.value, p.earliest, p.due, names.get(owner or 0, ""), _PENDING,
                                display_state(_PENDING, p.due, today), p.attempt, p.rule_key, "", owner))
    return rows, len(unique) - len(rows)


def _purchase_triggers(purchase_id: int, day: date, kind: str, quantity: int, warranty_end: date | None,
                       category: str, options: VisitOptions) -> list[Trigger]:
    return purchase_triggers(purchase_id, day, kind, quantity, warranty_end, category,
                             options.end_customer_categories, dict(options.purchase_triggers))


def _next_birthday(born: date, today: date) -> date:
    """The customer's next birthday on or after ``today`` (Feb 29 falls on Feb 28 in other years)."""
    day = add_months(born, 12 * (today.year - born.year))
    return day if day >= today else add_months(born, 12 * (today.year + 1 - born.year))


# --- planning: catch-up and triggers -----------------------------------------------------------------

def plan_catch_up(ctx: ServiceContext, today: date | None = None) -> CatchUpResult:
    """The daily catch-up at start: make sure every plan the rules ask for exists (idempotent).

    For every active customer (not archived, status in ``VisitOptions.active_statuses``): the next routine
    visit of their class and, for A, the next technical visit, counted from the last successful visit (or
    the file's 建档日期); the trigger plans of purchases from the last ``trigger_lookback_days``; birthday
    greetings due in the next ``birthday_lookahead_days``. Plans are inserted only when their key is new.
    A pending, first-attempt, never hand-edited routine/technical plan whose key no longer matches (the
    customer was visited since, or the class changed) is re-dated instead of getting a second plan.
    """
    started = time.perf_counter()
    today = today or ctx.today()
    cfg = _config(ctx)
    rules, cal, opts = cfg.rules, cfg.cal, cfg.options
    now = ctx.now()
    dialect = ctx.engine.dialect.name
    routine_grades = {g.upper() for g, _ in rules.routine_days} | {g.upper() for g in rules.technical_grades}
    with ctx.engine.connect() as conn:
        names = _user_names(conn)
        customers = {r[0]: _cust(r) for r in conn.execute(
            select(*_CUST_COLUMNS).where(Customer.archived.is_(False),
                                         Customer.status.in_(opts.active_statuses)))}
        last_visit = _last_success(conn, None)
        last_technical = _last_success(conn, VisitType.TECHNICAL.value)
        # A cancelled routine/technical plan counts as a base too: the next one follows it.
        for cid, rule, due in conn.execute(
                select(VisitPlan.customer_id, VisitPlan.rule_key, func.max(VisitPlan.due))
                .where(VisitPlan.state == _CANCELLED, VisitPlan.rule_key.in_((ROUTINE_RULE, TECHNICAL_RULE)))
                .group_by(VisitPlan.customer_id, VisitPlan.rule_key)):
            base = last_visit if rule == ROUTINE_RULE else last_technical
            if cid not in base or base[cid] < due:
                base[cid] = due
        pending = {(cid, rule): (pid, key, manual) for pid, cid, rule, key, manual in conn.execute(
            select(VisitPlan.id, VisitPlan.customer_id, VisitPlan.rule_key, VisitPlan.source_key,
                   VisitPlan.manual)
            .where(VisitPlan.state == _PENDING, VisitPlan.attempt == 1,
                   VisitPlan.rule_key.in_((ROUTINE_RULE, TECHNICAL_RULE))))}
        since = today - timedelta(days=opts.trigger_lookback_days)
        purchases = conn.execute(
            select(Purchase.id, Purchase.customer_id, Purchase.day, Purchase.kind, Purchase.quantity,
                   Purchase.warranty_end).where(Purchase.day >= since, Purchase.day <= today)
            .order_by(Purchase.id)).all()
        assignees = _Assignees(conn)
        planner = _TriggerPlanner(rules, cal)
        imported = _imported_customers(conn)

        wanted: list[_Wanted] = []
        moves: list[dict[str, Any]] = []
        held_count = 0
        for c in customers.values():
            if c.grade.strip().upper() not in routine_grades:
                continue
            onboard = imported.get(c.id)
            if onboard is not None and c.owner_id is None:
                continue  # an imported customer nobody looks after yet: listed for assignment, not planned
            since = c.created_on if onboard is None else max(c.created_on, onboard)
            origin = f"customer:{c.id}"
            for p in routine_plans(c.grade, last_visit.get(c.id), last_technical.get(c.id), since,
                                   rules, cal, origin=origin):
                held = pending.get((c.id, p.rule_key))
                if held is None:
                    wanted.append((p, p.source_key, c, c.owner_id))
                elif not held[2] and held[1] != p.source_key:
                    moves.append({"b_id": held[0], "b_key": p.source_key, "b_due": p.due,
                                  "b_earliest": p.earliest})
                else:  # the pending plan is the one asked for, or was edited by hand
                    held_count += 1
        for pid, cid, day, kind, quantity, warranty_end in purchases:
            buyer = customers.get(cid)
            if buyer is None:
                continue
            onboard = imported.get(cid)
            if onboard is not None and buyer.owner_id is None:
                continue
            for trigger in _purchase_triggers(pid, day, kind, quantity, warranty_end, buyer.category, opts):
                for p, key in planner.plans(trigger):
                    if onboard is not None and p.due < onboard:
                        continue  # a window that closed before the import: history, not a backlog
                    owner = buyer.owner_id
                    if p.who is not Assignee.OWNER:
                        owner = assignees.resolve(p.who, buyer.owner_id, buyer.department_id)
                    wanted.append((p, key, buyer, owner))
        horizon = today + timedelta(days=opts.birthday_lookahead_days)
        slack = horizon + timedelta(days=31)  # a rule may fall due a little after the birthday itself
        for c in customers.values():
            if c.birthday is None or _next_birthday(c.birthday, today) > slack:
                continue
            if c.owner_id is None and c.id in imported:
                continue
            trigger = Trigger(TriggerKind.BIRTHDAY, f"birthday:{c.id}", day=today,
                              customer_birthday=c.birthday)
            for p in plans_for_trigger(trigger, rules, cal, horizon=horizon):
                wanted.append((p, p.source_key, c, assignees.resolve(p.who, c.owner_id, c.department_id)))

    with ctx.sessions() as s, s.begin():
        planned, skipped = _insert_plans(s, dialect, wanted, now, today, names)
        moved, asked_moves = 0, len(moves)
        if moves:
            taken = _existing_keys(s, [m["b_key"] for m in moves])
            moves = [m for m in moves if m["b_key"] not in taken]
            if moves:
                t = _PLAN_TABLE
                s.execute(update(t).where(t.c.id == bindparam("b_id"), t.c.state == _PENDING,
                                          t.c.manual.is_(False))
                          .values(source_key=bindparam("b_key"), due=bindparam("b_due"),
                                  earliest=bindparam("b_earliest"), version=t.c.version + 1), moves)
                moved = len(moves)
        skipped += held_count + asked_moves - moved  # a re-dating whose key is taken keeps the plan as it is
        if planned or moved:
            counts = Tally(p.rule_key for p in planned)
            label = rule_names(rules)
            audit(s, ctx, "生成回访计划", "visit_plan", None, f"{today:%Y-%m-%d} 自动补排",
                  new={"新增": len(planned), "调整": moved,
                       "按规则": {label.get(k, k): n for k, n in counts.most_common()}})
    planned.sort(key=lambda r: (r.due, r.customer_code, r.rule_key))
    return CatchUpResult(planned, skipped, moved, time.perf_counter() - started)


def _imported_customers(conn: Connection | Session) -> dict[int, date]:
    """Customers that came in by an Excel import (not undone) → the import's day. Their routine cadence
    starts at that day (not at the sheet's old 建档日期), purchase windows closed before it are not
    planned, and nothing is planned for them while they have no 负责人."""
    rows = conn.execute(
        select(ImportItem.entity_id, func.max(ImportRun.created_at))
        .join(ImportRun, ImportRun.id == ImportItem.run_id)
        .where(ImportRun.target == ImportTarget.CUSTOMERS.value, ImportRun.undone_at.is_(None))
        .group_by(ImportItem.entity_id))
    return {cid: at.date() for cid, at in rows}


def _last_success(conn: Connection, visit_type: str | None) -> dict[int, date]:
    q = (select(VisitRecord.customer_id, func.max(VisitRecord.visited_at))
         .where(VisitRecord.result == _SUCCESS))
    if visit_type is not None:
        q = q.where(VisitRecord.visit_type == visit_type)
    out: dict[int, date] = {}
    for cid, at in conn.execute(q.group_by(VisitRecord.customer_id)):
        if at is not None:
            out[cid] = at.date() if isinstance(at, datetime) else datetime.fromisoformat(str(at)).date()
    return out


def _customer_info(s: Session, customer_id: int) -> _Cust:
    r = s.execute(select(*_CUST_COLUMNS).where(Customer.id == customer_id)).one_or_none()
    if r is None:
        raise NotFound(f"客户档案 {customer_id} 不存在。")
    return _cust(r)


def _trigger_plans_in(s: Session, ctx: ServiceContext, cfg: _Config, c: _Cust, triggers: Iterable[Trigger]
                      ) -> list[PlanRow]:
    assignees = _Assignees(s)
    wanted: list[_Wanted] = [(p, p.source_key, c, assignees.resolve(p.who, c.owner_id, c.department_id))
                             for t in triggers for p in plans_for_trigger(t, cfg.rules, cfg.cal)]
    if not wanted:
        return []
    rows, _ = _insert_plans(s, ctx.engine.dialect.name, wanted, ctx.now(), ctx.today(), _user_names(s))
    return rows


def plan_purchase_in(s: Session, ctx: ServiceContext, purchase_id: int) -> list[PlanRow]:
    """Plan the visits a purchase or delivery triggers, inside the caller's transaction (used by
    ``customers.add_purchase``). Nothing for an inactive customer or a purchase older than the lookback."""
    cfg = _config(ctx)
    p = s.get(Purchase, purchase_id)
    if p is None:
        raise NotFound(f"购货记录 {purchase_id} 不存在。")
    c = _customer_info(s, p.customer_id)
    archived, status = s.execute(select(Customer.archived, Customer.status).where(Customer.id == c.id)).one()
    if archived or status not in cfg.options.active_statuses:
        return []
    if p.day < ctx.today() - timedelta(days=cfg.options.trigger_lookback_days):
        return []
    triggers = _purchase_triggers(p.id, p.day, p.kind, p.quantity, p.warranty_end, c.category, cfg.options)
    rows = _trigger_plans_in(s, ctx, cfg, c, triggers)
    if rows:
        audit(s, ctx, "生成回访计划", "customer", c.id, f"{c.code} {c.name}",
              new={"来源": f"{p.kind} {p.day:%Y-%m-%d} {p.product}", "计划": len(rows)})
    return rows


def on_purchase(ctx: ServiceContext, purchase_id: int) -> list[PlanRow]:
    """Trigger hook after a purchase/delivery was added (own transaction); idempotent."""
    with ctx.sessions() as s, s.begin():
        return plan_purchase_in(s, ctx, purchase_id)


def on_trigger(ctx: ServiceContext, customer_id: int, trigger: Trigger) -> list[PlanRow]:
    """Trigger hook for any other triggering record (a closed complaint, a repair, an event …)."""
    cfg = _config(ctx)
    with ctx.sessions() as s, s.begin():
        c = _customer_info(s, customer_id)
        rows = _trigger_plans_in(s, ctx, cfg, c, [trigger])
        if rows:
            audit(s, ctx, "生成回访计划", "customer", c.id, f"{c.code} {c.name}",
                  new={"来源": trigger.source_key, "计划": len(rows)})
        return rows


# --- plan views --------------------------------------------------------------------------------------

def list_plans(ctx: ServiceContext, *, start: date, end: date, owner_id: int | None = None,
               team: bool = False, states: set[str] | None = None, limit: int | None = None) -> list[PlanRow]:
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


def day_counts(ctx: ServiceContext, start: date, end: date, owner_id: int | None = None, *, team: bool = False
               ) -> dict[date, DayCount]:
    """Planned (not cancelled), done and overdue plans per due day, one GROUP BY on the due index."""
    today = ctx.today()
    scope = customer_scope(ctx)
    with ctx.sessions() as s:
        q = (select(VisitPlan.due, func.count(),
                    func.sum(case((VisitPlan.state == _DONE, 1), else_=0)),
                    func.sum(case((and_(VisitPlan.state == _PENDING, VisitPlan.due < today), 1), else_=0)))
             .where(VisitPlan.due >= start, VisitPlan.due <= end, VisitPlan.state != _CANCELLED))
        if team:
            q = q.where(VisitPlan.owner_id.in_(_owner_ids_for_team(s, ctx, owner_id)))
        elif owner_id is not None:
            q = q.where(VisitPlan.owner_id == owner_id)
        if scope.limited:
            q = scope.where(q.join(Customer, Customer.id == VisitPlan.customer_id))
        rows = s.execute(q.group_by(VisitPlan.due)).all()
    return {due: DayCount(int(n), int(done or 0), int(late or 0)) for due, n, done, late in rows}


def due_summary(ctx: ServiceContext, today: date | None = None, owner_id: int | None = None
                ) -> tuple[int, int]:
    """(due today, overdue) pending plans, for the reminder at start."""
    today = today or ctx.today()
    with ctx.sessions() as s:
        q = (select(func.sum(case((VisitPlan.due == today, 1), else_=0)),
                    func.sum(case((VisitPlan.due < today, 1), else_=0)))
             .where(VisitPlan.state == _PENDING, VisitPlan.due <= today))
        if owner_id is not None:
            q = q.where(VisitPlan.owner_id == owner_id)
        due, late = s.execute(q).one()
    return int(due or 0), int(late or 0)


# --- plan edits --------------------------------------------------------------------------------------

def _check_plan_rights(ctx: ServiceContext, owner_id: int | None, what: str) -> None:
    ctx.require(Permission.EDIT_CUSTOMERS, what)
    if ctx.user.id and not can(ctx.user.role, Permission.REASSIGN) and owner_id not in (None, ctx.user.id):
        raise PermissionDenied(f"只能{what}自己负责的回访计划，其他人的计划请主管处理。")


def _check_due_rights(ctx: ServiceContext, plan: VisitPlan, what: str, reason: str) -> str:
    """A miss stands (domain.md §9): a clerk may re-date or cancel a plan only until its due day (the visit
    can still be made that day); once the due day has passed only a supervisor may (``EDIT_OVERDUE_PLANS``),
    with a reason (returned, for the audit). A confirmed month's 考核 is frozen, so this never removes a charge
    from it."""
    if ctx.today() <= plan.due or ctx.user is SYSTEM_USER:
        return reason.strip()
    if not ctx.may(Permission.EDIT_OVERDUE_PLANS):
        raise PermissionDenied(f"该回访计划已过期（应于 {plan.due:%Y-%m-%d} 完成），只有主管才能{what}；"
                               "未按期回访照常计入考核。")
    return require_reason(reason, f"{what}原因")


def _load_plan(s: Session, plan_id: int) -> VisitPlan:
    plan = s.get(VisitPlan, plan_id)
    if plan is None:
        raise NotFound(f"回访计划 {plan_id} 不存在。")
    return plan


def move_plan(ctx: ServiceContext, plan_id: int, new_due: date | str, expected_version: int, reason: str = ""
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
                raise ConflictError(f"该回访计划已被其他人修改（版本 {expected_version} → {plan.version}），"
                                    "请刷新后再调整。")
            if plan.state != _PENDING:
                raise ValidationError(FieldError("due", "计划日期", f"计划{already(plan.state)}，不能再调整日期"))
            old = {"due": plan.due.isoformat(), "earliest": plan.earliest.isoformat()}
            plan.due = shifted_day
            plan.earliest = min(plan.earliest, shifted_day)
            plan.manual = True
            audit(s, ctx, "调整回访计划", "visit_plan", plan.id, plan.source_key, old=old,
                  new={"due": shifted_day.isoformat(), "earliest": plan.earliest.isoformat()},
                  note="；".join(x for x in (why, "" if shifted_day == day else f"{day:%Y-%m-%d} 非工作日，顺延") if x))
            s.flush()
            row = _get_plan_row(s, plan.id, ctx.today())
    except StaleDataError:
        raise ConflictError("该回访计划刚被其他人修改，请刷新后再调整。") from None
    if shifted_day != day:
        msg = f"{day:%Y-%m-%d} 不是工作日，已顺延到 {shifted_day:%Y-%m-%d}。"
    else:
        msg = f"已调整到 {day:%Y-%m-%d}。"
    return MoveResult(row, shifted_day != day, msg)


def cancel_plan(ctx: ServiceContext, plan_id: int, reason: str, expected_version: int | None = None
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
            audit(s, ctx, "取消回访计划", "visit_plan", plan.id, plan.source_key, old={"state": _PENDING},
                  new={"state": _CANCELLED}, note=why)
            s.flush()
            return _get_plan_row(s, plan.id, ctx.today())
    except StaleDataError:
        raise ConflictError("该回访计划刚被其他人修改，请刷新后再取消。") from None


def add_manual_plan(ctx: ServiceContext, customer_id: int, visit_type: str, method: str, due: date | str,
                    owner_id: int | None = None) -> PlanRow:
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
        plan = VisitPlan(customer_id=c.id, source_key=f"manual:{uuid.uuid4().hex}", rule_key=MANUAL_RULE,
                         visit_type=vt.value, method=vm.value, earliest=day, due=day, owner_id=owner,
                         attempt=1, state=_PENDING, cancel_reason="", manual=True, created_at=ctx.now())
        s.add(plan)
        s.flush()
        audit(s, ctx, "安排回访", "visit_plan", plan.id, f"{c.code} {c.name}",
              new={"due": day.isoformat(), "visit_type": vt.value, "method": vm.value})
        return _get_plan_row(s, plan.id, ctx.today())


def _enum_field(cls: Any, value: Any, name: str, label: str, errors: list[FieldError]) -> Any:
    try:
        return cls(clean_text(str(value)) if value is not None else value)
    except ValueError:
        errors.append(FieldError(name, label, f"“{value or ''}”不是有效的选项"))
        return None


# --- the visit record form (回访记录表) ------------------------------------------------------------------

def prefill_record(ctx: ServiceContext, plan_id: int | None, customer_id: int | None = None
                   ) -> RecordDraftData:
    """The form filled from the plan and the customer file: contact, type, method, visitor, phone script."""
    office = load_settings(ctx)
    scale = load_scale(ctx)
    scripts = get_value(ctx, SCRIPTS_KEY)
    with ctx.sessions() as s:
        plan = _load_plan(s, plan_id) if plan_id is not None else None
        cid = plan.customer_id if plan is not None else customer_id
        if cid is None:
            raise ValidationError(FieldError("customer_id", "客户", "请选择客户"))
        c = s.get(Customer, cid)
        if c is None:
            raise NotFound(f"客户档案 {cid} 不存在。")
        check_visible(ctx, c, office)
        vt = plan.visit_type if plan is not None else VisitType.ROUTINE.value
        vm = plan.method if plan is not None else VisitMethod.PHONE.value
        return RecordDraftData(
            plan_id=plan.id if plan is not None else None, customer_id=c.id, customer_code=c.code,
            customer_name=c.name, grade=c.grade, contact_name=c.primary_contact,
            contact_phone=format_phone(c.primary_phone), visit_type=vt, method=vm, visited_at=ctx.now(),
            visitor_id=ctx.user.id or None, visitor=ctx.user.display_name if ctx.user.id else "",
            owner=c.owner.display_name if c.owner else "", attempt=plan.attempt if plan is not None else 1,
            due=plan.due if plan is not None else None,
            script=phone_script(vt, scripts if isinstance(scripts, dict) else None),
            needs_signature=needs_signature(vm), signature_text=signature_substitute(vm),
            satisfaction_levels=scale.levels)


def _parse_moment(raw: datetime | date | str | None, errors: list[FieldError]) -> datetime | None:
    if isinstance(raw, datetime):
        return raw.replace(microsecond=0, tzinfo=None)
    if isinstance(raw, date):
        return datetime.combine(raw, datetime.min.time())
    text = to_halfwidth(clean_text(raw)).replace("/", "-").replace(".", "-")
    if not text:
        errors.append(FieldError("visited_at", "回访时间", "不能为空"))
        return None
    try:
        return datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text).replace(
            microsecond=0, tzinfo=None)
    except ValueError:
        pass
    try:
        day = parse_date(text, label="回访时间", field="visited_at", required=True)
        assert day is not None
        return datetime.combine(day, datetime.min.time())
    except ValidationError:
        errors.append(FieldError("visited_at", "回访时间", f"“{raw}”不是可识别的时间，请按 2026-11-24 09:30 填写"))
        return None


@dataclass(frozen=True, slots=True)
class _CleanRecord:
    contact_name: str
    contact_phone: str
    visit_type: VisitType
    method: VisitMethod
    visited_at: datetime
    visitor_id: int | None
    content: str
    feedback: str
    problems: str
    measures: str
    satisfaction: str
    satisfied: bool | None
    handling: str
    transfer_department: str
    next_visit_on: date | None
    result: VisitResult
    customer_signed: bool


def _validate_record(s: Session, ctx: ServiceContext, cfg: _Config, d: VisitRecordDraft, c: Customer,
                     independent: bool, require_text: bool = False) -> _CleanRecord:
    """Every field of the form; all problems are reported together, in Chinese, naming the field.
    ``require_text`` (office setting): a 成功 visit needs its 回访内容 and 客户意见/反馈 written down (001:
    "回访内容应记录留痕")."""
    errors: list[FieldError] = []
    vt = _enum_field(VisitType, d.visit_type, "visit_type", "回访类型", errors)
    vm = _enum_field(VisitMethod, d.method, "method", "回访方式", errors)
    result = None
    if not clean_text(d.result):
        errors.append(FieldError("result", "结果", "请选择回访结果"))
    else:
        result = _enum_field(VisitResult, d.result, "result", "结果", errors)
    visited_at = _parse_moment(d.visited_at, errors)
    if visited_at is not None and visited_at > ctx.now():
        errors.append(FieldError("visited_at", "回访时间", "不能晚于现在"))
    visitor_id = d.visitor_id if d.visitor_id is not None else (ctx.user.id or None)
    if visitor_id is None:
        errors.append(FieldError("visitor_id", "回访人", "请选择回访人"))
    else:
        u = s.get(User, visitor_id)
        if u is None or not u.active:
            errors.append(FieldError("visitor_id", "回访人", "所选回访人不存在或已停用"))
        elif (independent and vt is not None and vt.value in cfg.options.independent_visit_types
              and c.owner_id == visitor_id):
            errors.append(FieldError("visitor_id", "回访人", f"{vt.value}回访不能由该客户的业务员（负责人）本人进行"))
    texts: dict[str, str] = {}
    for name, label, limit in (("contact_name", "联系人", 50), ("content", "回访内容", 4000),
                               ("feedback", "客户意见/反馈", 4000), ("problems", "问题点", 4000),
                               ("measures", "改善对策", 4000), ("handling", "处理情况", 4000),
                               ("transfer_department", "转交部门", 50)):
        try:
            texts[name] = optional_text(getattr(d, name), label=label, field=name, max_len=limit)
        except ValidationError as exc:
            errors += exc.errors
            texts[name] = ""
    phone = ""
    if clean_text(d.contact_phone):
        try:
            phone = normalize_phone(d.contact_phone, label="联系电话", field="contact_phone")
        except ValidationError as exc:
            errors += exc.errors
    if texts["transfer_department"] and not texts["problems"]:
        errors.append(FieldError("problems", "问题点", "转交部门处理时请写明问题点"))
    satisfaction, satisfied = "", None
    if result is VisitResult.SUCCESS and require_text:
        for name, label in (("content", "回访内容"), ("feedback", "客户意见/反馈")):
            if not texts[name] and not any(e.field == name for e in errors):
                errors.append(FieldError(name, label, "回访成功时请填写（本单位设置要求）"))
    if result is VisitResult.SUCCESS:
        satisfaction = clean_text(d.satisfaction)
        if not satisfaction:
            errors.append(FieldError("satisfaction", "满意度", "回访成功时请选择满意度"))
        else:
            try:
                satisfied = cfg.scale.is_satisfied(satisfaction)
            except ValidationError as exc:
                errors += exc.errors
    if vm is not None and needs_signature(vm) and not d.customer_signed:
        errors.append(FieldError("customer_signed", "客户签字", "上门回访需客户签字"))
    try:
        next_on = parse_date(d.next_visit_on, label="下次回访时间", field="next_visit_on")
    except ValidationError as exc:
        errors += exc.errors
        next_on = None
    if next_on is not None and visited_at is not None and next_on <= visited_at.date():
        errors.append(FieldError("next_visit_on", "下次回访时间", "应晚于本次回访日期"))
    if errors:
        raise ValidationError(errors)
    assert vt is not None and vm is not None and result is not None and visited_at is not None
    return _CleanRecord(texts["contact_name"], phone, vt, vm, visited_at, visitor_id, texts["content"],
                        texts["feedback"], texts["problems"], texts["measures"], satisfaction, satisfied,
                        texts["handling"], texts["transfer_department"], next_on, result,
                        bool(d.customer_signed) and needs_signature(vm))


def _apply_record(rec: VisitRecord, clean: _CleanRecord, transfer_hours: int) -> None:
    rec.contact_name, rec.contact_phone = clean.contact_name, clean.contact_phone
    rec.visit_type, rec.method = clean.visit_type.value, clean.method.value
    rec.visited_at, rec.visitor_id = clean.visited_at, clean.visitor_id
    rec.content, rec.feedback, rec.problems, rec.measures = clean.content, clean.feedback, clean.problems, \
        clean.measures
    rec.satisfaction, rec.handling = clean.satisfaction, clean.handling
    rec.transfer_department = clean.transfer_department
    if not clean.transfer_department:
        rec.transfer_due, rec.transfer_done_at, rec.transfer_answer = None, None, ""
    elif rec.transfer_done_at is None:  # passed on: the department answers within transfer_hours
        rec.transfer_due = clean.visited_at + timedelta(hours=transfer_hours)
    rec.next_visit_on, rec.result, rec.customer_signed = clean.next_visit_on, clean.result.value, \
        clean.customer_signed


def _record_snapshot(rec: VisitRecord) -> dict[str, Any]:
    return {
        "contact_name": rec.contact_name, "contact_phone": rec.contact_phone, "visit_type": rec.visit_type,
        "method": rec.method, "visited_at": rec.visited_at.isoformat(sep=" ") if rec.visited_at else None,
        "visitor_id": rec.visitor_id, "content": rec.content, "feedback": rec.feedback,
        "problems": rec.problems,
        "measures": rec.measures, "satisfaction": rec.satisfaction, "handling": rec.handling,
        "transfer_department": rec.transfer_department,
        "next_visit_on": rec.next_visit_on.isoformat() if rec.next_visit_on else None, "result": rec.result,
        "customer_signed": rec.customer_signed,
    }


def _signature_text(method: str, signed: bool) -> str:
    substitute = signature_substitute(method) if method in {m.value for m in VisitMethod} else None
    if substitute is not None:
        return substitute
    return "已签字" if signed else "未签字"


def _record_row(s: Session, rec: VisitRecord, now: datetime, **extra: Any) -> VisitRecordRow:
    c = s.get(Customer, rec.customer_id)
    assert c is not None
    visitor = s.get(User, rec.visitor_id) if rec.visitor_id else None
    overdue = bool(rec.transfer_due and rec.transfer_done_at is None and now > rec.transfer_due)
    return VisitRecordRow(
        rec.id, rec.number, rec.plan_id, c.id, c.code, c.name, c.grade, rec.contact_name,
        format_phone(rec.contact_phone), rec.visit_type, rec.method, rec.visited_at, rec.visitor_id,
        visitor.display_name if visitor else "", rec.content, rec.feedback, rec.problems, rec.measures,
        rec.satisfaction, rec.handling, rec.transfer_department, rec.transfer_due, rec.transfer_done_at,
        rec.transfer_answer, overdue, rec.next_visit_on, rec.result, rec.customer_signed,
        _signature_text(rec.method, rec.customer_signed), rec.status, rec.version,
        supervisor_comment=rec.supervisor_comment or "", **extra)


def _add_plan(s: Session, ctx: ServiceContext, p: PlannedVisit, customer_id: int, owner_id: int | None,
              *, manual: bool = False) -> VisitPlan | None:
    """Insert one plan unless its key exists (idempotent); returns the new plan or None."""
    if s.execute(select(VisitPlan.id).where(VisitPlan.source_key == p.source_key)).first() is not None:
        return None
    plan = VisitPlan(customer_id=customer_id, source_key=p.source_key, rule_key=p.rule_key,
                     visit_type=p.visit_type.value, method=p.method.value, earliest=p.earliest, due=p.due,
                     owner_id=owner_id, attempt=p.attempt, state=_PENDING, cancel_reason="", manual=manual,
                     created_at=ctx.now())
    s.add(plan)
    s.flush()
    return plan


def _plan_follow_ups(s: Session, ctx: ServiceContext, cfg: _Config, rec: VisitRecord, clean: _CleanRecord,
                     plan: VisitPlan | None, customer: Customer) -> tuple[VisitPlan | None, VisitPlan | None]:
    """The next attempt (再次回访) when the visit did not reach or satisfy, and the plan for 下次回访时间.
    When both are asked for, the follow-up takes the day the visitor chose. Idempotent keys."""
    previous = None
    if plan is not None:
        previous = PlannedVisit(rule_key=plan.rule_key, visit_type=VisitType(plan.visit_type),
                                method=VisitMethod(plan.method), earliest=plan.earliest, due=plan.due,
                                who=Assignee.OWNER, source_key=plan.source_key, attempt=plan.attempt)
    attempt = plan.attempt if plan is not None else 1
    nxt = follow_up(clean.result, clean.satisfied, attempt, clean.visited_at.date(), cfg.rules, cfg.cal,
                    previous=previous, origin=f"record:{rec.id}")
    owner = plan.owner_id if plan is not None and plan.owner_id else (clean.visitor_id or customer.owner_id)
    chosen = cfg.cal.next_workday(clean.next_visit_on) if clean.next_visit_on else None
    follow_plan = next_plan = None
    if nxt is not None:
        if chosen is not None:
            nxt = replace(nxt, due=chosen, earliest=min(nxt.earliest, chosen))
        follow_plan = _add_plan(s, ctx, nxt, customer.id, owner, manual=chosen is not None)
    elif chosen is not None:
        p = PlannedVisit(rule_key=MANUAL_RULE, visit_type=clean.visit_type, method=clean.method,
                         earliest=chosen, due=chosen, who=Assignee.OWNER, source_key=f"record:{rec.id}#next",
                         origin=f"record:{rec.id}")
        next_plan = _add_plan(s, ctx, p, customer.id, clean.visitor_id or customer.owner_id, manual=True)
    return follow_plan, next_plan


def _feed_complaint(s: Session, ctx: ServiceContext, plan: VisitPlan, rec: VisitRecord, clean: _CleanRecord,
                   follow_plan: VisitPlan | None) -> None:
    """A complaint's closing visit (plan key ``complaint:<id>#…``) updates the complaint in this transaction."""
    from huifang_desktop.services import complaints  # complaints plans its closing visits through this module

    complaint_id = complaints.complaint_id_for_plan(plan.source_key)
    if complaint_id is None:
        return
    reached = clean.result is VisitResult.SUCCESS
    note = "；".join(t for t in (clean.feedback, clean.content) if t)
    complaints.apply_closing_visit_in(s, ctx, complaint_id, reached=reached, satisfied=clean.satisfied,
                                      satisfaction=clean.satisfaction, visited_at=clean.visited_at, note=note,
                                      record_id=rec.id, next_plan=follow_plan)


def record_visit(ctx: ServiceContext, draft: VisitRecordDraft) -> VisitRecordRow:
    """Save a 回访记录表 in one transaction: the record (编号 HF+date+serial), the plan marked 已回访,
    the follow-up or next plan, the transfer deadline, the audit row. Invalid input writes nothing."""
    ctx.require(Permission.EDIT_CUSTOMERS, "填写回访记录")
    cfg = _config(ctx)
    independent = bool(get_value(ctx, INDEPENDENT_KEY, False))
    office = load_settings(ctx)
    with ctx.sessions() as s, s.begin():
        c = s.get(Customer, draft.customer_id)
        if c is None:
            raise NotFound(f"客户档案 {draft.customer_id} 不存在。")
        check_visible(ctx, c, office)
        plan = None
        if draft.plan_id is not None:
            plan = _load_plan(s, draft.plan_id)
            if plan.customer_id != c.id:
                raise ValidationError(FieldError("plan_id", "回访计划", "计划不属于该客户"))
            if plan.state != _PENDING:
                raise ValidationError(FieldError("plan_id", "回访计划", f"该计划{already(plan.state)}，不能再登记"))
        clean = _validate_record(s, ctx, cfg, draft, c, independent, office.require_visit_text)
        serial = next_serial(s, f"visit:{clean.visited_at:%Y%m%d}")
        rec = VisitRecord(number=format_visit_number(clean.visited_at.date(), serial), plan_id=draft.plan_id,
                          customer_id=c.id, status=RECORD_PENDING, supervisor_comment="", content_hash="",
                          revision=0, transfer_answer="", created_at=ctx.now())
        _apply_record(rec, clean, cfg.options.transfer_hours)
        s.add(rec)
        s.flush()
        if plan is not None:
            plan.state, plan.done_on, plan.record_id = _DONE, clean.visited_at.date(), rec.id
        follow_plan, next_plan = _plan_follow_ups(s, ctx, cfg, rec, clean, plan, c)
        if plan is not None:
            _feed_complaint(s, ctx, plan, rec, clean, follow_plan)
        note = []
        if follow_plan is not None:
            note.append(f"再次回访（第{follow_plan.attempt}次）{follow_plan.due:%Y-%m-%d}")
        if next_plan is not None:
            note.append(f"下次回访 {next_plan.due:%Y-%m-%d}")
        audit(s, ctx, "填写回访记录", "visit_record", rec.id, f"{rec.number} {c.code} {c.name}",
              new=_record_snapshot(rec), note="；".join(note))
        s.flush()
        return _record_row(s, rec, ctx.now(), offer_complaint=clean.satisfied is False,
                           follow_up_plan_id=follow_plan.id if follow_plan else None,
                           next_plan_id=next_plan.id if next_plan else None)


def get_record(ctx: ServiceContext, record_id: int) -> VisitRecordRow:
    with ctx.sessions() as s:
        rec = s.get(VisitRecord, record_id)
        if rec is None:
            raise NotFound(f"回访记录 {record_id} 不存在。")
        c = s.get(Customer, rec.customer_id)
        assert c is not None
        check_visible(ctx, c)
        return _record_row(s, rec, ctx.now())


def update_record(ctx: ServiceContext, record_id: int, draft: VisitRecordDraft, expected_version: int
                  ) -> VisitRecordRow:
    """Correct a record before it is signed. Signed records are locked (LockedError); a record saved by
    someone else since it was opened raises ConflictError. A returned (退回) record goes back for review."""
    ctx.require(Permission.EDIT_CUSTOMERS, "修改回访记录")
    cfg = _config(ctx)
    independent = bool(get_value(ctx, INDEPENDENT_KEY, False))
    office = load_settings(ctx)
    try:
        with ctx.sessions() as s, s.begin():
            rec = s.get(VisitRecord, record_id)
            if rec is None:
                raise NotFound(f"回访记录 {record_id} 不存在。")
            c = s.get(Customer, rec.customer_id)
            assert c is not None
            check_visible(ctx, c, office)
            if rec.status == RECORD_SIGNED:
                raise LockedError(f"回访记录 {rec.number} 已由主管签字，不能修改；如需更正请主管撤回签字。")
            if rec.status == RECORD_HISTORY:
                raise LockedError(f"回访记录 {rec.number} 是从 Excel 导入的历史记录，不能修改；如需更正请撤销该次导入。")
            signed_report = _signed_report_covering(s, rec)
            if signed_report is not None:
                raise LockedError(f"回访记录 {rec.number} 已汇总在主管签字的回访报告 {signed_report} 中，不能修改；"
                                  "如需更正请主管撤回该报告的签字。")
            if rec.version != expected_version:
                what = recent_changes(s, "visit_record", rec.id, rec.version - expected_version, ctx.user.id)
                raise ConflictError(f"回访记录 {rec.number} 已被其他人修改（版本 {expected_version} → {rec.version}），"
                                    "您的修改未保存。请重新打开后再修改。" + (f"\n对方的修改：\n{what}" if what else ""))
            if (ctx.user.id and rec.visitor_id != ctx.user.id
                    and not can(ctx.user.role, Permission.SIGN_OFF)):
                raise PermissionDenied("只能修改自己填写的回访记录。")
            if draft.customer_id != rec.customer_id:
                raise ValidationError(FieldError("customer_id", "客户", "不能把记录改到其他客户名下"))
            clean = _validate_record(s, ctx, cfg, draft, c, independent, office.require_visit_text)
            before = _record_snapshot(rec)
            _apply_record(rec, clean, cfg.options.transfer_hours)
            if rec.status == RECORD_RETURNED:
                rec.status = RECORD_PENDING
            plan = s.get(VisitPlan, rec.plan_id) if rec.plan_id else None
            if plan is not None and plan.record_id == rec.id:
                plan.done_on = clean.visited_at.date()
            follow_plan, next_plan = _plan_follow_ups(s, ctx, cfg, rec, clean, plan, c)
            old, new = diff(before, _record_snapshot(rec))
            if new or follow_plan or next_plan:
                audit(s, ctx, "修改回访记录", "visit_record", rec.id, f"{rec.number} {c.code} {c.name}",
                      old=old, new=new)
            s.flush()
            return _record_row(s, rec, ctx.now(), offer_complaint=clean.satisfied is False,
                               follow_up_plan_id=follow_plan.id if follow_plan else None,
                               next_plan_id=next_plan.id if next_plan else None)
    except StaleDataError:
        raise ConflictError("该回访记录刚被其他人修改，请重新打开后再修改。") from None


def _signed_report_covering(s: Session, rec: VisitRecord) -> str | None:
    """The number of a signed 回访报告表 that summarises this record (same clerk, period covers the visit)."""
    day = rec.visited_at.date()
    return s.execute(select(VisitReport.number).where(
        VisitReport.clerk_id == rec.visitor_id, VisitReport.status == RECORD_SIGNED,
        VisitReport.period_start <= day, VisitReport.period_end >= day).limit(1)).scalar()


def mark_transfer_answered(ctx: ServiceContext, record_id: int, answer: str) -> VisitRecordRow:
    """The department answered a transferred problem (the answer is told back to the customer)."""
    ctx.require(Permission.EDIT_CUSTOMERS, "登记处理结果")
    text = require_text(answer, label="处理结果", field="transfer_answer", max_len=4000)
    with ctx.sessions() as s, s.begin():
        rec = s.get(VisitRecord, record_id)
        if rec is None:
            raise NotFound(f"回访记录 {record_id} 不存在。")
        c = s.get(Customer, rec.customer_id)
        assert c is not None
        check_visible(ctx, c)  # another department's transfer is theirs to answer
        if not rec.transfer_department:
            raise ValidationError(FieldError("transfer_department", "转交部门", "该记录没有转交部门处理的问题"))
        if rec.status in (RECORD_SIGNED, RECORD_HISTORY):
            raise LockedError(f"回访记录 {rec.number} 已由主管签字或为导入的历史记录，不能修改。")
        old = {"transfer_answer": rec.transfer_answer,
               "transfer_done_at": rec.transfer_done_at.isoformat(sep=" ") if rec.transfer_done_at else None}
        rec.transfer_answer, rec.transfer_done_at = text, ctx.now()
        late = rec.transfer_due is not None and rec.transfer_done_at > rec.transfer_due
        audit(s, ctx, "登记转交处理结果", "visit_record", rec.id, rec.number, old=old,
              new={"transfer_answer": text, "transfer_done_at": rec.transfer_done_at.isoformat(sep=" ")},
              note="超过处理时限" if late else "")
        s.flush()
        return _record_row(s, rec, ctx.now())


def overdue_transfers(ctx: ServiceContext, now: datetime | None = None) -> list[TransferRow]:
    """Problems passed to a department whose answer is past its deadline (24 hours by default)."""
    now = now or ctx.now()
    visitor = aliased(User)
    scope = customer_scope(ctx)
    with ctx.sessions() as s:
        q = (select(VisitRecord.id, VisitRecord.number, Customer.code, Customer.name,
                    VisitRecord.transfer_department, VisitRecord.problems, VisitRecord.transfer_due,
                    visitor.display_name)
             .join(Customer, Customer.id == VisitRecord.customer_id)
             .outerjoin(visitor, visitor.id == VisitRecord.visitor_id)
             .where(VisitRecord.transfer_due.is_not(None), VisitRecord.transfer_done_at.is_(None),
                    VisitRecord.transfer_due < now)
             .order_by(VisitRecord.transfer_due, VisitRecord.id))
        q = scope.where(q)
        return [TransferRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or "", True) for r in s.execute(q)]


def list_records(ctx: ServiceContext, *, start: date | None = None, end: date | None = None,
                 visitor_id: int | None = None, customer_id: int | None = None, status: str | None = None,
                 after: tuple[datetime, int] | None = None, limit: int = PAGE_SIZE, descending: bool = True
                 ) -> list[VisitRecordRow]:
    """One page of the visit ledger, keyset-paged on (visited_at, id): pass the last row's
    ``(visited_at, id)`` as ``after`` for the next page."""
    now = ctx.now()
    scope = customer_scope(ctx)
    visitor = aliased(User)
    q = (select(VisitRecord, Customer.code, Customer.name, Customer.grade, visitor.display_name)
         .join(Customer, Customer.id == VisitRecord.customer_id)
         .outerjoin(visitor, visitor.id == VisitRecord.visitor_id))
    if start is not None:
        q = q.where(VisitRecord.visited_at >= datetime.combine(start, datetime.min.time()))
    if end is not None:
        q = q.where(VisitRecord.visited_at < datetime.combine(end + timedelta(days=1), datetime.min.time()))
    if visitor_id is not None:
        q = q.where(VisitRecord.visitor_id == visitor_id)
    if customer_id is not None:
        q = q.where(VisitRecord.customer_id == customer_id)
    if status:
        q = q.where(VisitRecord.status == status)
    q = scope.where(q)
    key = tuple_(VisitRecord.visited_at, VisitRecord.id)
    if after is not None:
        q = q.where(key < tuple_(*after) if descending else key > tuple_(*after))
    if descending:
        q = q.order_by(VisitRecord.visited_at.desc(), VisitRecord.id.desc())
    else:
        q = q.order_by(VisitRecord.visited_at, VisitRecord.id)
    with ctx.sessions() as s:
        out = []
        for rec, code, name, grade, vname in s.execute(q.limit(limit)):
            overdue = bool(rec.transfer_due and rec.transfer_done_at is None and now > rec.transfer_due)
            out.append(VisitRecordRow(
                rec.id, rec.number, rec.plan_id, rec.customer_id, code, name, grade, rec.contact_name,
                format_phone(rec.contact_phone), rec.visit_type, rec.method, rec.visited_at, rec.visitor_id,
                vname or "", rec.content, rec.feedback, rec.problems, rec.measures, rec.satisfaction,
                rec.handling,
                rec.transfer_department, rec.transfer_due, rec.transfer_done_at, rec.transfer_answer, overdue,
                rec.next_visit_on, rec.result, rec.customer_signed,
                _signature_text(rec.method, rec.customer_signed), rec.status, rec.version))
        return out


# --- reports (回访报告表) -----------------------------------------------------------------------------

_ordered = ordered_counts


def draft_report(ctx: ServiceContext, clerk_id: int, start: date, end: date) -> ReportDraft:
    """The report of one clerk's visits in [start, end]: counts by type and result, satisfaction, problems."""
    if end < start:
        raise ValidationError(FieldError("end", "报告期间", "结束日期不能早于开始日期"))
    scale = load_scale(ctx)
    lo = datetime.combine(start, datetime.min.time())
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time())
    conds = (VisitRecord.visitor_id == clerk_id, VisitRecord.visited_at >= lo, VisitRecord.visited_at < hi)
    with ctx.sessions() as s:
        clerk = s.get(User, clerk_id)
        if clerk is None:
            raise NotFound(f"用户 {clerk_id} 不存在。")

        def grouped(col: Any, *extra: Any) -> dict[str, int]:
            q = select(col, func.count()).where(*conds, *extra).group_by(col)
            return {k: int(n) for k, n in s.execute(q)}

        by_type = grouped(VisitRecord.visit_type)
        by_result = grouped(VisitRecord.result)
        sat = grouped(VisitRecord.satisfaction, VisitRecord.satisfaction != "")
        problems = tuple(ReportProblem(*r) for r in s.execute(
            select(VisitRecord.id, VisitRecord.number, Customer.name, VisitRecord.problems,
                   VisitRecord.measures, VisitRecord.transfer_department)
            .join(Customer, Customer.id == VisitRecord.customer_id)
            .where(*conds, VisitRecord.problems != "").order_by(VisitRecord.visited_at, VisitRecord.id)))
    on_scale = {k: n for k, n in sat.items() if k in scale.levels}
    answered = sum(on_scale.values())
    average = sum(scale.score(k) * n for k, n in on_scale.items()) / answered if answered else None
    return ReportDraft(
        clerk_id=clerk_id, clerk=clerk.display_name, start=start, end=end, total=sum(by_type.values()),
        by_type=_ordered(by_type, (t.value for t in VisitType)),
        by_result=_ordered(by_result, (r.value for r in VisitResult)),
        satisfaction=_ordered(sat, scale.levels),
        satisfied=sum(n for k, n in on_scale.items() if k in scale.satisfied), average_score=average,
        problems=problems, scale_key=scale.key)


def save_report(ctx: ServiceContext, draft: ReportDraft, evaluation: str, problems: str, actions: str
                ) -> ReportRow:
    """Save the completed report (编号 BG+date+serial) into the supervisor's review queue (待审阅).
    Due the working day after the period (``VisitOptions.report_delay_workdays``). A returned (退回) report
    of the same period is corrected in place (same number, back to 待审阅); a signed one is locked."""
    ctx.require(Permission.EDIT_CUSTOMERS, "填写回访报告")
    if ctx.user.id and draft.clerk_id != ctx.user.id and not can(ctx.user.role, Permission.SIGN_OFF):
        raise PermissionDenied("只能填写自己的回访报告。")
    errors: list[FieldError] = []
    try:
        evaluation_text = require_text(evaluation, label="评价", field="evaluation", max_len=4000)
    except ValidationError as exc:
        errors += exc.errors
        evaluation_text = ""
    texts = {}
    for name, value, label in (("problems", problems, "发现的问题"), ("actions", actions, "采取的措施")):
        try:
            texts[name] = optional_text(value, label=label, field=name, max_len=8000)
        except ValidationError as exc:
            errors += exc.errors
    if draft.end > ctx.today():
        errors.append(FieldError("end", "报告期间", "不能晚于今天"))
    if errors:
        raise ValidationError(errors)
    cfg = _config(ctx)
    due_on = cfg.cal.add_workdays(draft.end, cfg.options.report_delay_workdays)
    today = ctx.today()
    with ctx.sessions() as s, s.begin():
        same = s.execute(select(VisitReport).where(
            VisitReport.clerk_id == draft.clerk_id, VisitReport.period_start == draft.start,
            VisitReport.period_end == draft.end).order_by(VisitReport.id.desc()).limit(1)).scalar()
        if same is not None and same.status == RECORD_SIGNED:
            raise LockedError(f"该期间的回访报告 {same.number} 已由主管签字，不能重新提交；如需更正请主管撤回签字。")
        if same is not None and same.status != RECORD_RETURNED:
            raise ValidationError(FieldError("period", "报告期间", f"该期间已有报告 {same.number}"))
        if same is not None:  # returned (退回): the corrected report replaces it, same number, back to review
            before = {"summary": same.summary, "problems": same.problems, "actions": same.actions,
                      "evaluation": same.evaluation, "status": same.status}
            same.summary = json.dumps(draft.summary(), ensure_ascii=False)
            same.problems, same.actions, same.evaluation = texts["problems"], texts["actions"], evaluation_text
            same.status = REPORT_PENDING
            s.flush()
            old, new = diff(before, {"summary": same.summary, "problems": same.problems, "actions": same.actions,
                                     "evaluation": same.evaluation, "status": same.status})
            audit(s, ctx, "修改回访报告", "visit_report", same.id, f"{same.number} {draft.clerk}", old=old, new=new)
            return ReportRow(same.id, same.number, same.clerk_id, draft.clerk, same.period_start, same.period_end,
                             same.status, same.due_on, same.evaluation, same.problems, same.actions,
                             draft.summary(), same.created_at.date() > same.due_on, same.version)
        serial = next_serial(s, f"report:{today:%Y%m%d}")
        report = VisitReport(
            number=format_visit_number(today, serial, prefix="BG"), clerk_id=draft.clerk_id,
            period_start=draft.start, period_end=draft.end,
            summary=json.dumps(draft.summary(), ensure_ascii=False), problems=texts["problems"],
            actions=texts["actions"], evaluation=evaluation_text, status=REPORT_PENDING, due_on=due_on,
            supervisor_comment="", content_hash="", revision=0, created_at=ctx.now())
        s.add(report)
        s.flush()
        audit(s, ctx, "填写回访报告", "visit_report", report.id, f"{report.number} {draft.clerk}",
              new={"period": f"{draft.start:%Y-%m-%d}~{draft.end:%Y-%m-%d}", "total": draft.total,
                   "due_on": due_on.isoformat()})
        return ReportRow(report.id, report.number, report.clerk_id, draft.clerk, report.period_start,
                         report.period_end, report.status, report.due_on, report.evaluation, report.problems,
                         report.actions, draft.summary(), today > due_on, report.version)


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
    "clerk": ("owner",), "grade": ("grade",), "type": ("type",), "month": ("year", "month"),
    "department": ("department",), "rule": (), None: ()}


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
    q = (select(*columns, VisitPlan.rule_key, func.count(),
                func.sum(case((VisitPlan.state == _DONE, 1), else_=0)),
                func.sum(case((and_(VisitPlan.state == _DONE, VisitPlan.done_on <= VisitPlan.due), 1),
                              else_=0)),
                func.sum(case((and_(VisitPlan.state == _PENDING, VisitPlan.due < today), 1), else_=0)))
         .where(VisitPlan.due >= start, VisitPlan.due <= end, VisitPlan.state != _CANCELLED)
         .group_by(*columns, VisitPlan.rule_key))
    if "grade" in keys or scope.limited:
        q = scope.where(q.join(Customer, Customer.id == VisitPlan.customer_id))
    if "department" in keys:
        q = q.outerjoin(User, User.id == VisitPlan.owner_id)
    n = len(columns)
    with ctx.sessions() as s:
        return [PlanCount(tuple(r[:n]), r[n], *(int(x or 0) for x in r[n + 1:n + 5])) for r in s.execute(q)]


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
            names = _user_names(s) if group_by == "clerk" else {
                i: n for i, n in s.execute(select(Department.id, Department.name))}
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
        out.append(RateRow(key, n_planned, n_done, n_on_time, n_overdue, visit_rate(n_done, n_planned),
                           on_time_rate(n_on_time, n_planned), weighted / n_planned if n_planned else None))
    return out


# --- the ledger export (回访台账) ----------------------------------------------------------------------

def ledger_rows(ctx: ServiceContext, start: date | None = None, end: date | None = None
                ) -> Iterator[tuple[Any, ...]]:
    """One row per plan (joined with its record when done) plus the visits made without a plan, by day,
    in the order of :data:`huifang_desktop.exports.visits_xlsx.LEDGER_HEADERS`. Streams from the database."""
    today = ctx.today()
    scope = customer_scope(ctx)
    rec = aliased(VisitRecord)
    visitor = aliased(User)
    owner = aliased(User)
    plans = (select(VisitPlan.due, VisitPlan.id, rec.number, Customer.code, Customer.name, Customer.grade,
                    func.coalesce(rec.visit_type, VisitPlan.visit_type),
                    func.coalesce(rec.method, VisitPlan.method),
                    rec.visited_at, visitor.display_name, rec.result, rec.satisfaction, VisitPlan.state,
                    VisitPlan.cancel_reason, owner.display_name, rec.problems, rec.transfer_department,
                    rec.method, rec.signed_form_received_at)
             .join(Customer, Customer.id == VisitPlan.customer_id)
             .outerjoin(rec, rec.id == VisitPlan.record_id)
             .outerjoin(visitor, visitor.id == rec.visitor_id)
             .outerjoin(owner, owner.id == VisitPlan.owner_id))
    loose = (select(VisitRecord.visited_at, VisitRecord.id, VisitRecord.number, Customer.code, Customer.name,
                    Customer.grade, VisitRecord.visit_type, VisitRecord.method, visitor.display_name,
                    VisitRecord.result, VisitRecord.satisfaction, owner.display_name, VisitRecord.problems,
                    VisitRecord.transfer_department, VisitRecord.status, VisitRecord.signed_form_received_at)
             .join(Customer, Customer.id == VisitRecord.customer_id)
             .outerjoin(visitor, visitor.id == VisitRecord.visitor_id)
             .outerjoin(owner, owner.id == Customer.owner_id)
             .where(VisitRecord.plan_id.is_(None)))
    if start is not None:
        plans = plans.where(VisitPlan.due >= start)
        loose = loose.where(VisitRecord.visited_at >= datetime.combine(start, datetime.min.time()))
    if end is not None:
        plans = plans.where(VisitPlan.due <= end)
        next_day = datetime.combine(end + timedelta(days=1), datetime.min.time())
        loose = loose.where(VisitRecord.visited_at < next_day)
    plans, loose = scope.where(plans), scope.where(loose)
    plans = plans.order_by(VisitPlan.due, VisitPlan.id)
    loose = loose.order_by(VisitRecord.visited_at, VisitRecord.id)

    def plan_rows(conn: Connection) -> Iterator[tuple[tuple[date, int, int], tuple[Any, ...]]]:
        result = conn.execution_options(yield_per=2000).execute(plans)
        try:
            for r in result:
                state = display_state(r[12], r[0], today)
                if r[12] == _CANCELLED and r[13]:
                    state = f"{state}（{r[13]}）"
                yield (r[0], 0, r[1]), (r[2], r[3], r[4], r[5], r[6], r[7], r[0], r[8], r[9], r[10],
                                        r[11] or None, state, r[14], r[15] or None, r[16] or None,
                                        signed_form_state(r[17], r[18] is not None) or None)
        finally:
            result.close()  # also when the reader stops early (a server cursor on PostgreSQL)

    def loose_rows(conn: Connection) -> Iterator[tuple[tuple[date, int, int], tuple[Any, ...]]]:
        result = conn.execution_options(yield_per=2000).execute(loose)
        try:
            for r in result:
                yield (r[0].date(), 1, r[1]), (r[2], r[3], r[4], r[5], r[6], r[7], None, r[0], r[8], r[9],
                                               r[10] or None, RECORD_HISTORY if r[14] == RECORD_HISTORY
                                               else "计划外", r[11], r[12] or None, r[13] or None,
                                               signed_form_state(r[7], r[15] is not None) or None)
        finally:
            result.close()

    with ctx.engine.connect() as plan_conn, ctx.engine.connect() as loose_conn:
        first, second = plan_rows(plan_conn), loose_rows(loose_conn)
        try:
            for _key, row in merge(first, second, key=lambda item: item[0]):
                yield row
        finally:
            first.close()
            second.close()


def export_ledger(ctx: ServiceContext, out_path: Path | str, *, start: date | None = None,
                  end: date | None = None) -> int:
    """Write the 回访台账 to an .xlsx file (streamed, write-only) and log the export; returns the rows."""
    ctx.require(Permission.EDIT_CUSTOMERS, "导出回访台账")
    if start is not None and end is not None and end < start:
        raise ValidationError(FieldError("end", "截止日期", "不能早于开始日期"))
    out = checked_target(out_path, ExportError, suffix=".xlsx")
    period = period_text(start, end)
    company = load_settings(ctx).company
    try:
        count = write_visit_ledger(ledger_rows(ctx, start, end), out, company=company, period_text=period)
    except OSError as exc:
        raise write_failed(out, exc, ExportError) from exc
    with ctx.sessions() as s, s.begin():
        audit(s, ctx, "导出回访台账", "visit_plan", None, out.name,
              new={"rows": count, "period": period, "file": str(out)})
    return count


__all__ = [
    "LEDGER_HEADERS",
    "PLAN_COUNT_KEYS",
    "CatchUpResult",
    "DayCount",
    "ExportError",
    "MoveResult",
    "PlanCount",
    "PlanRow",
    "RateRow",
    "RecordDraftData",
    "ReportDraft",
    "ReportProblem",
    "ReportRow",
    "TransferRow",
    "VisitOptions",
    "VisitRecordDraft",
    "VisitRecordRow",
    "add_manual_plan",
    "cancel_plan",
    "day_counts",
    "draft_report",
    "due_summary",
    "export_ledger",
    "get_plan",
    "get_record",
    "ledger_rows",
    "list_plans",
    "list_records",
    "load_options",
    "load_rules",
    "load_scale",
    "mark_transfer_answered",
    "move_plan",
    "on_purchase",
    "on_trigger",
    "overdue_transfers",
    "plan_catch_up",
    "plan_counts",
    "plan_purchase_in",
    "prefill_record",
    "rates",
    "record_visit",
    "rule_names",
    "save_options",
    "save_report",
    "save_rules",
    "save_scale",
    "update_record",
    "work_calendar",
]


LAST_CATCH_UP_KEY = "last_catch_up"


def daily_catch_up(ctx: ServiceContext, today: date | None = None) -> CatchUpResult | None:
    """The catch-up run once a day at start (any user's start); None when today's already ran."""
    from huifang_desktop.storage.db import refresh_statistics
    from huifang_desktop.storage.models import Setting

    day = today or ctx.today()
    if get_value(ctx, LAST_CATCH_UP_KEY) == day.isoformat():
        return None
    result = plan_catch_up(ctx, day)
    refresh_statistics(ctx.engine)
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, LAST_CATCH_UP_KEY)
        value = json.dumps(day.isoformat())
        if row is None:
            s.add(Setting(key=LAST_CATCH_UP_KEY, value=value))
        else:
            row.value = value
    return result
