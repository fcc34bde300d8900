"""Visit history of the demo office (演示回访历史): plans, 回访记录表, follow-ups, transfers, 回访报告表.

:func:`generate_visits` writes ``total`` visit plans (done, cancelled and pending) over the customers of the
office, with the records of the done ones and the clerks' daily reports, as if the program had been in use
for a while: every plan is one the services would have made, under the key they would have given it.

How the history is made
-----------------------
Each customer's history is *simulated* day by day from a start date to ``today + ahead_days``, with the
office's own rules (:func:`~huifang_desktop.services.visits.load_rules`, the work calendar, the options and
the satisfaction scale):

* routine (例行) and, for the technical classes, technical (技术) plans follow the last successful visit (of
  any type, resp. the last technical one) or the last cancelled one, exactly as ``plan_catch_up`` keys and
  re-dates them (``customer:7#routine@20260105``); a visit of another kind re-dates the pending one;
* every purchase or delivery starts its rule chain (``purchase:12#delivery_usage``, the end-customer chains),
  birthdays get their greeting (``birthday:7#birthday@41``), clerks add a few plans by hand (``manual:…``);
* a visit that did not reach or did not satisfy the customer plans the next attempt (``…#2``, ``…#3``) as
  ``record_visit`` does; a satisfied customer sometimes agrees a 下次回访时间 (``record:…#next``);
* most visits are made in the plan's window, some a few working days late; late ones not yet made are the
  overdue (逾期) plans, so they are few and recent; a few plans are cancelled with a reason, and the plans
  of a customer who stopped (暂停/流失/注销) are cancelled from that day on.

How deep the history goes follows from ``total`` and the office's size: a sample of the customers is
simulated first to find the day from which ``total`` plans are due, and the simulation starts
``warm_up_days`` before that (at most ``history_years`` back), so the "first day of the program", when old
files get their first routine plan at once, falls outside the history kept. With too few plans even for
every customer's last ``min_history_days``, fewer customers get a history instead (the others are planned by
the catch-up at the next start, as for a new office).

The simulation then runs twice with the same seeded RNG. The first pass only notes each plan's due day,
creation day and visit day; from those the history is cut to exactly ``total`` plans, the newest ones, plus
per customer the plans the catch-up counts the next routine/technical plan from (the last successful visit,
the last technical one, the last cancelled periodic plan, the plan holding the wanted key), so it plans
nothing twice; ids and 编号 are handed out in time order (the n-th record of a day is ``HF…-00n`` and its
time of day rises with n). The second pass writes the rows in batches (Core ``insert()`` executemany with
explicit ids, one transaction), then the reports, the number counters and one audit row.

Records: visitor mostly the plan's owner; results and satisfaction on the office's scale; 上门 visits signed
by the customer; problems, some passed to a department with the 24-hour deadline (some answered late, the
newest still open); records older than ``review_workdays`` 已签字 by a supervisor (not their own), with the
role and the two hashes ``review.sign`` stores (:mod:`huifang_desktop.domain.signoff`), recent ones 待审阅,
a few 退回 with the supervisor's reason. Reports (回访报告表): one per clerk and working day with visits,
built like ``draft_report`` (the same summary, problems and measures), saved the working day after (some
later), signed like the records.

Not generated: repair (维修), event and account-opening visits (no such records exist in the schema yet, and
keys like ``repair:1`` would collide with the real ones later) and complaint visits (added with the
complaint generator). Trigger chains are written only up to ``today + ahead_days``; the catch-up at the next
start adds their later occurrences (a long end-customer chain runs two years ahead).
"""

from __future__ import annotations

import heapq
import json
import random
import time
import uuid
from abc import ABC, abstractmethod
from array import array
from bisect import bisect
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role
from huifang_desktop.domain.schedule import (
    ROUTINE_RULE,
    TECHNICAL_RULE,
    Assignee,
    PlannedVisit,
    RuleSet,
    Trigger,
    TriggerKind,
    add_months,
    follow_up,
    needs_follow_up,
    plans_for_trigger,
    routine_due,
    technical_due,
)
from huifang_desktop.domain.signoff import ReviewKind, SignOff, content_hash, signature_hash
from huifang_desktop.domain.visits import (
    SatisfactionScale,
    VisitMethod,
    VisitResult,
    VisitType,
    format_visit_number,
    needs_signature,
    phone_script,
)
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.policy import load_scale, work_calendar
from huifang_desktop.services.settings import get_value

# The catch-up's own helpers (trigger planner with its memo, purchase → trigger mapping, who visits, report
# ordering), so the demo's plans and reports are made exactly as the services make theirs.
from huifang_desktop.services.visits import (
    INDEPENDENT_KEY,
    MANUAL_RULE,
    RECORD_PENDING,
    RECORD_RETURNED,
    RECORD_SIGNED,
    REPORT_PENDING,
    SCRIPTS_KEY,
    ReportDraft,
    ReportProblem,
    VisitOptions,
    load_options,
    load_rules,
)
from huifang_desktop.services.visits.planning import _Assignees, _purchase_triggers, _TriggerPlanner
from huifang_desktop.services.visits.reports import _ordered
from huifang_desktop.storage.chain import chain_rows
from huifang_desktop.storage.models import (
    AuditLog,
    Counter,
    Customer,
    Purchase,
    User,
    VisitPlan,
    VisitRecord,
    VisitReport,
)

VISIT_DEMO_ACTION = "生成演示回访数据"
VISIT_COUNTER = "visit:"  # + YYYYMMDD, the counter record_visit draws 回访编号 from
REPORT_COUNTER = "report:"  # + YYYYMMDD, save_report's

_PENDING, _DONE, _CANCELLED = "待回访", "已回访", "已取消"
_SUCCESS = VisitResult.SUCCESS
_RESULTS = tuple(VisitResult)


@dataclass(frozen=True, slots=True)
class VisitProfile:
    """Shares, delays and sizes of the demo visit history; the defaults look like a busy, mostly punctual
    office. Weights are relative; day counts are calendar days unless they say working days."""

    history_years: int = 3  # the longest history simulated (it is cut to the number of plans asked for)
    min_history_days: int = 90  # when every customer's last 90 days are more than asked: fewer customers
    ahead_days: int = 60  # trigger chains, birthdays and hand-made plans up to today + 60 days
    batch_size: int = 20_000  # plans (with their records) per insert
    sqlite_cache_kib: int = 524_288  # page cache limit while writing (the index inserts come in no order);
    # 1M visits: 206 s with 512 MB, 204 s with 1 GB, about 300 s with 256 MB
    sample_customers: int = 4000  # customers simulated first to find how deep the history goes
    warm_up_days: int = 120  # simulated before the history kept, so the program's "first day" is cut off
    cancel_share: float = 0.02  # plans cancelled by hand (with a reason)
    late_share: float = 0.07  # visits made after the due day …
    late_workdays: tuple[tuple[int, int, float], ...] = (  # … by (from, to) working days, weight
        (1, 1, 48), (2, 2, 24), (3, 3, 11), (4, 5, 9), (6, 10, 6), (11, 30, 2))
    early_workdays: tuple[float, ...] = (40, 20, 14, 10, 8, 8)  # on time: 0, 1, 2 … working days before due
    phone_results: tuple[float, ...] = (89, 6, 0.8, 1.2, 3)  # 成功, 未接通, 拒绝, 不可达, 需再次回访
    on_site_results: tuple[float, ...] = (95, 0, 0.5, 1.5, 3)
    message_results: tuple[float, ...] = (97, 0, 0, 3, 0)  # 短信, 微信, 邮件, 书信
    satisfaction_weights: tuple[tuple[str, tuple[float, ...]], ...] = (  # scale key → weight per level
        ("five_level", (45, 47, 6, 1.5, 0.5)),
        ("ten_point", (26, 28, 22, 16, 4, 2, 1, 0.5, 0.3, 0.2)),
        ("two_level", (95, 5)),
    )
    next_visit_share: float = 0.02  # satisfied customers who agree a 下次回访时间 …
    next_visit_days: tuple[int, int] = (7, 45)  # … that many days later
    manual_per_year: tuple[tuple[str, float], ...] = (("D", 1.0), ("", 0.3))  # plans by hand per customer
    manual_lead_days: tuple[int, int] = (1, 14)  # planned that many days ahead
    manual_types: tuple[tuple[str, float], ...] = (
        (VisitType.ROUTINE.value, 55), (VisitType.HOLIDAY.value, 20), (VisitType.SATISFACTION.value, 15),
        (VisitType.SPECIAL.value, 10))
    manual_methods: tuple[tuple[str, float], ...] = (
        (VisitMethod.PHONE.value, 70), (VisitMethod.ON_SITE.value, 15), (VisitMethod.WECHAT.value, 10),
        (VisitMethod.SMS.value, 5))
    stop_days: tuple[tuple[str, int, int], ...] = (  # inactive files: stopped between N and M days ago
        ("暂停", 240, 7), ("流失", 900, 30), ("注销", 900, 30))
    colleague_share: float = 0.05  # visits made by another clerk of the owner's department
    problem_share: float = 0.07  # satisfied visits that still raise a problem (unsatisfied ones always do)
    transfer_share: float = 0.6  # problems passed to a department …
    transfer_late_share: float = 0.15  # … answered after the deadline
    review_workdays: int = 3  # records older than this (working days) are signed by the supervisor
    returned_share: float = 0.03  # records in review that were sent back (退回)
    comment_share: float = 0.3  # signed records with a remark
    report_late_share: float = 0.15  # reports saved after their due day
    report_review_workdays: int = 3  # reports older than this are signed
    work_start_minutes: int = 8 * 60 + 30  # visits from 08:30 …
    work_minutes: int = 9 * 60  # … for nine hours
    report_text_limit: int = 8000  # the report form's limit for 发现的问题 / 采取的措施

    def validate(self) -> None:
        errors = []
        if self.history_years < 1:
            errors.append(FieldError("history_years", "回访历史年数", "至少 1 年"))
        if self.batch_size < 1:
            errors.append(FieldError("batch_size", "每批回访数", "至少 1"))
        if self.min_history_days < 0 or self.ahead_days < 0:
            errors.append(FieldError("ahead_days", "计划天数", "不能为负数"))
        if self.work_minutes < 1:
            errors.append(FieldError("work_minutes", "工作时长", "至少 1 分钟"))
        if errors:
            raise ValidationError(errors)


@dataclass(frozen=True, slots=True)
class VisitDemoResult:
    plans: int
    records: int
    reports: int
    overdue: int  # pending plans due before today
    since: date | None  # the history's first due day (older: only the visits the catch-up counts from)
    customers: int  # customers with a visit history
    seconds: float


def generate_visits(ctx: ServiceContext, total: int, *, seed: int = 1,
                    profile: VisitProfile = VisitProfile(),
                    progress: Callable[[float], None] | None = None) -> VisitDemoResult:
    """Write ``total`` visit plans with their records, follow-ups and reports over the office's customers
    (see the module docstring); deterministic for ``seed`` and ``ctx.clock()``. Refused when the office
    has visit plans or records already. Fewer plans are written only when the customers' rules cannot give
    ``total`` in ``profile.history_years`` (``result.plans`` says how many). ``progress(share)`` is told
    the share done (0–1) as the simulation goes through the customers (noting, then writing)."""
    ctx.require(Permission.MANAGE_USERS, "生成演示数据")
    started = time.perf_counter()
    profile.validate()
    if total < 0:
        raise ValidationError(FieldError("visits", "回访数", "不能为负数"))
    with ctx.engine.connect() as conn:
        plans = int(conn.execute(select(func.count()).select_from(VisitPlan)).scalar() or 0)
        records = int(conn.execute(select(func.count()).select_from(VisitRecord)).scalar() or 0)
    if plans or records:
        raise ServiceError(f"数据库中已有 {plans} 条回访计划、{records} 条回访记录，不能再生成演示回访数据。"
                           "请在新建的数据库中生成。")
    world = _World.load(ctx, profile, seed)
    if not world.customers:
        raise ValidationError(FieldError("visits", "回访数", "没有客户档案，无法生成回访"))
    if total == 0:
        return VisitDemoResult(0, 0, 0, 0, None, 0, time.perf_counter() - started)

    earliest = world.start
    world.start = _estimate_start(world, total)
    while True:
        notes = _Notes(world.today - profile.min_history_days, total)
        _run(world, notes, progress=None if progress is None else (lambda done, n: progress(done / n / 2)))
        cut = _Cut.choose(world, notes, total)
        if world.start <= earliest or cut.day - world.start >= profile.warm_up_days // 2:
            break
        world.start = max(earliest, world.start - (world.today - world.start))  # the estimate was short
    ids = _Numbering.make(world, notes, cut)
    writer = _Writer(world, ids)
    with ctx.engine.connect() as conn:
        previous_cache = _set_cache(conn, -profile.sqlite_cache_kib)
        try:
            with conn.begin():  # all or nothing: plans, records, reports, counters and the audit row
                writer.conn = conn
                _run(world, writer, stop_after=cut.customers,
                     progress=None if progress is None else (lambda done, n: progress(0.5 + done / n / 2)))
                writer.flush()
                reports = writer.write_reports()
                writer.write_counters()
                audit_row = _audit_row(ctx, writer, date.fromordinal(cut.day), reports, seed)
                chain_rows(conn, [audit_row])
                conn.execute(insert(AuditLog), [audit_row])
                _sync_sequences(conn)
        finally:
            _set_cache(conn, previous_cache)  # the pooled connection gives the memory back
    return VisitDemoResult(writer.plans, writer.records, reports, writer.overdue,
                           date.fromordinal(cut.day) if writer.plans else None, cut.customers,
                           time.perf_counter() - started)


# --- the office as the simulation sees it -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Cust:
    id: int
    grade: str
    active: bool
    status: str
    created_on: int  # ordinals
    owner_id: int | None
    department_id: int | None
    category: str
    birthday: date | None
    name: str
    contact: str
    phone: str


@dataclass(frozen=True, slots=True)
class _Buy:
    id: int
    day: date
    kind: str
    quantity: int
    warranty_end: date | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _Person:
    id: int
    role: str
    department_id: int | None
    name: str


class _Pick:
    """A weighted choice drawn with one ``rng.random()``."""

    __slots__ = ("cum", "items")

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        if not items or len(items) != len(weights) or sum(weights) <= 0:
            raise ValueError("bad weighted choice")
        self.items = tuple(items)
        self.cum = tuple(accumulate(weights))

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cum, rng.random() * self.cum[-1])]


class _Days:
    """Working days as ordinals, with O(1) 'next working day' and 'n working days later/earlier'."""

    def __init__(self, cal: WorkCalendar, first: int, last: int) -> None:
        self.first, self.last = first, last
        self.work: list[int] = []
        self.index: list[int] = []  # per ordinal: the index in ``work`` of the next working day
        for o in range(first, last + 1):
            if cal.is_workday(date.fromordinal(o)):
                self.work.append(o)
            self.index.append(len(self.work) - 1 if self.work and self.work[-1] == o else len(self.work))
        self.work.append(last + 1)  # a sentinel for the days after the last working day of the range

    def at(self, o: int) -> int:
        """Index of the next working day on or after ``o``."""
        return self.index[o - self.first]

    def next(self, o: int) -> int:
        return self.work[self.index[o - self.first]]

    def day(self, i: int) -> int:
        return self.work[i]


@dataclass(slots=True)
class _World:
    """Everything both passes share: the office, its rules, the profile, the cached plan templates."""

    ctx: ServiceContext
    profile: VisitProfile
    seed: int
    rules: RuleSet
    cal: WorkCalendar
    options: VisitOptions
    scale: SatisfactionScale
    independent: bool
    scripts: dict[VisitType, str]
    today: int
    now: datetime
    limit: int  # the last day a visit can be recorded (today, once the working day has started)
    start: int  # the first day simulated
    horizon: int  # the last due day of trigger chains, birthdays and hand-made plans
    customers: list[_Cust]
    purchases: dict[int, list[_Buy]]
    people: dict[int, _Person]
    days: _Days
    assignees: _Assignees
    planner: _TriggerPlanner
    results: dict[str, _Pick]
    levels: _Pick
    late: _Pick
    early: _Pick
    manual_types: _Pick
    manual_methods: _Pick
    manual_rate: dict[str, float]
    stop_days: dict[str, tuple[int, int]]
    routine_memo: dict[tuple[str, int], tuple[int, int, str]] = field(default_factory=dict)
    technical_memo: dict[tuple[str, int], tuple[int, int, str]] = field(default_factory=dict)
    technical_grades: frozenset[str] = frozenset()
    # A customer's purchase chains and birthday greetings, the same in every pass (they draw nothing from
    # the RNG): worked out once per (customer, first day, stop day) and replayed, as plain argument tuples.
    chain_memo: dict[tuple[str, int, int, int | None], list[tuple[Any, ...]]] = field(default_factory=dict)

    @classmethod
    def load(cls, ctx: ServiceContext, profile: VisitProfile, seed: int) -> _World:
        rules, cal, options, scale = load_rules(ctx), work_calendar(ctx), load_options(ctx), load_scale(ctx)
        scripts_setting = get_value(ctx, SCRIPTS_KEY)
        scripts = {t: "".join(phone_script(t, scripts_setting if isinstance(scripts_setting, dict) else None))
                   for t in VisitType}
        now = ctx.now()
        today = now.date().toordinal()
        day_start = datetime.combine(now.date(), datetime.min.time()) + timedelta(
            minutes=profile.work_start_minutes + 30)
        limit = today if now >= day_start else today - 1
        start = today - 366 * profile.history_years
        horizon = today + profile.ahead_days
        with ctx.engine.connect() as conn:
            customers = [
                _Cust(r.id, (r.grade or "").strip().upper(),
                      not r.archived and r.status in options.active_statuses, r.status,
                      r.created_on.toordinal(), r.owner_id, r.department_id, r.category, r.birthday, r.name,
                      r.primary_contact, r.primary_phone)
                for r in conn.execute(select(
                    Customer.id, Customer.grade, Customer.status, Customer.archived, Customer.created_on,
                    Customer.owner_id, Customer.department_id, Customer.category, Customer.birthday,
                    Customer.name, Customer.primary_contact, Customer.primary_phone).order_by(Customer.id))]
            purchases: dict[int, list[_Buy]] = {}
            for r in conn.execute(select(
                    Purchase.id, Purchase.customer_id, Purchase.day, Purchase.kind, Purchase.quantity,
                    Purchase.warranty_end, Purchase.created_at)
                    .where(Purchase.day <= now.date()).order_by(Purchase.customer_id, Purchase.id)):
                purchases.setdefault(r.customer_id, []).append(
                    _Buy(r.id, r.day, r.kind, r.quantity, r.warranty_end, r.created_at))
            people = {r.id: _Person(r.id, r.role, r.department_id, r.display_name) for r in conn.execute(
                select(User.id, User.role, User.department_id, User.display_name)
                .where(User.active.is_(True)).order_by(User.id))}
            assignees = _Assignees(conn)
            assignees.resolve(Assignee.SUPERVISOR, None, None)  # loads the people now, while connected
        weights = dict(profile.satisfaction_weights)
        levels = weights.get(scale.key) or tuple(0.5 ** i for i in range(len(scale.levels)))
        if len(levels) != len(scale.levels):
            levels = tuple(0.5 ** i for i in range(len(scale.levels)))
        message = _Pick(_RESULTS, profile.message_results)
        results = {m.value: message for m in VisitMethod}
        results[VisitMethod.PHONE.value] = _Pick(_RESULTS, profile.phone_results)
        results[VisitMethod.ON_SITE.value] = _Pick(_RESULTS, profile.on_site_results)
        late_items = [(a, b) for a, b, _ in profile.late_workdays]
        return cls(
            ctx=ctx, profile=profile, seed=seed, rules=rules, cal=cal, options=options, scale=scale,
            independent=bool(get_value(ctx, INDEPENDENT_KEY, False)), scripts=scripts, today=today,
            now=now, limit=limit, start=start, horizon=horizon, customers=customers, purchases=purchases,
            people=people, days=_Days(cal, start - 800, horizon + 500), assignees=assignees,
            planner=_TriggerPlanner(rules, cal), results=results,
            levels=_Pick(scale.levels, levels), late=_Pick(late_items, [w for *_, w in profile.late_workdays]),
            early=_Pick(range(len(profile.early_workdays)), profile.early_workdays),
            manual_types=_Pick([VisitType(t) for t, _ in profile.manual_types], [w for _, w in profile.manual_types]),
            manual_methods=_Pick([VisitMethod(m) for m, _ in profile.manual_methods],
                                 [w for _, w in profile.manual_methods]),
            manual_rate=dict(profile.manual_per_year),
            stop_days={s: (a, b) for s, a, b in profile.stop_days},
            technical_grades=frozenset(g.upper() for g in rules.technical_grades))

    def routine(self, grade: str, base: int) -> tuple[int, int, str] | None:
        """(earliest, due, key suffix) of the routine plan counted from ``base``, as the catch-up plans it."""
        memo = self.routine_memo.get((grade, base))
        if memo is None:
            day = date.fromordinal(base)
            p = routine_due(grade, day, day, self.rules, self.cal, origin="")
            if p is None:
                return None
            memo = (p.earliest.toordinal(), p.due.toordinal(), p.source_key)
            self.routine_memo[(grade, base)] = memo
        return memo

    def technical(self, grade: str, base: int) -> tuple[int, int, str] | None:
        memo = self.technical_memo.get((grade, base))
        if memo is None:
            day = date.fromordinal(base)
            p = technical_due(grade, day, day, self.rules, self.cal, origin="")
            if p is None:
                return None
            memo = (p.earliest.toordinal(), p.due.toordinal(), p.source_key)
            self.technical_memo[(grade, base)] = memo
        return memo


# --- the simulation ----------------------------------------------------------------------------------------

_ROUTINE, _TECHNICAL, _OTHER = 0, 1, 2
_VISIT, _CANCEL, _STOP = 0, 1, 2


class _Plan:
    """One plan while the simulation runs; ``emit`` sees it once, when its state is final."""

    __slots__ = ("attempt", "created", "created_at", "due", "earliest", "index", "key", "kind", "level",
                 "manual", "method", "moves", "next_on", "outcome", "owner", "record_created_at", "result", "rule",
                 "t", "ver", "visitor", "vtype")

    def __init__(self, kind: int, key: str, rule: str, vtype: VisitType, method: VisitMethod, earliest: int,
                 due: int, created: int, owner: int | None, *, attempt: int = 1, manual: bool = False,
                 created_at: datetime | None = None) -> None:
        self.kind, self.key, self.rule, self.vtype, self.method = kind, key, rule, vtype, method
        self.earliest, self.due, self.created, self.owner = earliest, due, created, owner
        self.attempt, self.manual, self.created_at = attempt, manual, created_at
        self.moves = 0
        self.index = -1  # its place in the simulation's output
        self.ver = 0
        self.t = 0
        self.outcome = _VISIT
        self.result: VisitResult = _SUCCESS
        self.level = ""
        self.next_on = 0
        self.record_created_at: datetime | None = None  # second pass: its record's, for the plans it makes
        self.visitor: int | None = None


class _Sink(ABC):
    """What a pass does with the plans: note them (first pass) or write them (second pass)."""

    def begin_customer(self, position: int, c: _Cust) -> bool:
        """False: stop before this customer (the second pass stops after the chosen customers)."""
        return True

    @abstractmethod
    def emit(self, c: _Cust, p: _Plan, state: str) -> int | None:
        """The plan in its final state; returns the id of its record when one is written."""

    def end_customer(self, bases: Sequence[_Plan]) -> None:
        """``bases``: the plans the catch-up counts the customer's next periodic plans from."""


def _run(world: _World, sink: _Sink, stop_after: int | None = None, *,
         customers: Sequence[_Cust] | None = None, name: str = "demo-visits",
         progress: Callable[[int, int], None] | None = None) -> None:
    """Simulate every customer in a seeded order (the same order and draws in both passes); ``progress(done,
    of)`` every 100 customers."""
    rng = random.Random(f"{name}:{world.seed}")
    chosen = world.customers if customers is None else customers
    order = list(range(len(chosen)))
    rng.shuffle(order)
    of = max(1, len(order) if stop_after is None else min(stop_after, len(order)))
    for position, index in enumerate(order):
        if stop_after is not None and position >= stop_after:
            break
        if progress is not None and position % 100 == 0:
            progress(position, of)
        c = chosen[index]
        if not sink.begin_customer(position, c):
            break
        sink.end_customer(_Customer(world, sink, rng, c).run())


class _DueDays(_Sink):
    def __init__(self) -> None:
        self.days: Tally[int] = Tally()

    def emit(self, c: _Cust, p: _Plan, state: str) -> int | None:
        self.days[p.due] += 1
        return None


def _estimate_start(world: _World, total: int) -> int:
    """The day to start simulating from: the depth ``total`` plans reach on a sample of the customers (over
    the longest history), plus ``warm_up_days`` before it, so the first days' start-up is cut off again.
    Small offices are simulated over the whole ``history_years``."""
    prof = world.profile
    step = len(world.customers) // prof.sample_customers
    if step < 2:
        return world.start
    sample = world.customers[::step]
    due = _DueDays()
    _run(world, due, customers=sample, name="demo-visits-sample")
    scale, counted, depth_day = len(world.customers) / len(sample), 0.0, world.start
    for day in sorted(due.days, reverse=True):
        counted += due.days[day] * scale
        if counted >= total:
            depth_day = day
            break
    depth_day = min(depth_day, world.today - prof.min_history_days)
    return max(world.start, depth_day - max(prof.warm_up_days, (world.today - depth_day) // 3))


class _Customer:
    """The event loop of one customer: plans are resolved in order of the day they are visited or cancelled;
    after each, the routine/technical plans are brought in line as the daily catch-up would."""

    def __init__(self, world: _World, sink: _Sink, rng: random.Random, c: _Cust) -> None:
        self.w, self.sink, self.rng, self.c = world, sink, rng, c
        self.heap: list[tuple[int, int, int, _Plan]] = []
        self.seq = 0
        self.origin = f"customer:{c.id}"
        self.start = max(world.start, c.created_on)
        self.stop = self._stop_day()
        self.by_key: dict[str, _Plan] = {}  # routine and technical plans by key
        self.pending: dict[int, _Plan | None] = {_ROUTINE: None, _TECHNICAL: None}
        self.success: dict[int, int | None] = {_ROUTINE: None, _TECHNICAL: None}
        self.cancelled: dict[int, int | None] = {_ROUTINE: None, _TECHNICAL: None}
        # the plans behind the catch-up's bases: last successful visit (any type), last technical one,
        # the cancelled routine/technical plan with the latest due day
        self.bases: dict[str, _Plan] = {}
        self.has_routine = world.rules.routine_interval(c.grade) is not None
        self.has_technical = c.grade in world.technical_grades

    def _stop_day(self) -> int | None:
        """The day an inactive customer stopped: their plans are cancelled from then on."""
        if self.c.active:
            return None
        w, rng = self.w, self.rng
        earliest, latest = w.stop_days.get(self.c.status, (365, 30))
        first = max(self.c.created_on + 1, w.today - earliest)
        last = max(first, w.today - latest)
        return rng.randint(first, last)

    # -- plans ----------------------------------------------------------------------------------------------

    def push(self, p: _Plan) -> None:
        """Decide when the plan is visited or cancelled, and queue it on that day."""
        w, rng = self.w, self.rng
        days = w.days
        p.ver += 1
        floor = max(p.created, p.earliest)
        if p.due < floor:  # late already when planned (the first catch-up of an old file): soon
            day = days.day(days.at(floor) + rng.randint(0, w.profile.late_workdays[-1][1]))
            p.outcome = _VISIT
        elif rng.random() < w.profile.cancel_share:
            day = rng.randint(max(p.created, self.start), max(p.created, p.due, self.start))
            p.outcome = _CANCEL
        else:
            due_i = days.at(p.due)
            if rng.random() < w.profile.late_share:
                a, b = w.late(rng)
                day = days.day(due_i + rng.randint(a, b))
            else:
                day = days.day(max(due_i - w.early(rng), days.at(floor)))
            day = max(day, days.next(floor))
            p.outcome = _VISIT
        if self.stop is not None and day > self.stop:
            day, p.outcome = self.stop, _STOP
        p.t = day
        self.seq += 1
        heapq.heappush(self.heap, (day, self.seq, p.ver, p))

    def run(self) -> list[_Plan]:
        """Simulate; returns the base plans (kept in the history even when older than its cut)."""
        w, c = self.w, self.c
        self._periodic_start()
        self._trigger_plans()
        self._birthdays()
        self._manual_plans()
        limit = w.limit
        while self.heap:
            day, _, ver, p = self.heap[0]
            if day > limit:
                break
            heapq.heappop(self.heap)
            if ver != p.ver:
                continue
            self._resolve(p, day)
        rest = sorted(self.heap)
        self.heap = []
        for _day, _seq, ver, p in rest:
            if ver == p.ver:
                self.sink.emit(c, p, _PENDING)
        for kind, wanted_here in ((_ROUTINE, self.has_routine), (_TECHNICAL, self.has_technical)):
            held = self.pending[kind]
            if held is not None:
                self.bases[f"pending{kind}"] = held
            wanted = self._wanted(kind) if wanted_here else None
            if wanted is not None and wanted[2] in self.by_key:
                self.bases[f"wanted{kind}"] = self.by_key[wanted[2]]
        return list(self.bases.values())

    def _periodic_start(self) -> None:
        """The first routine/technical plan, from the file's 建档日期 as the first catch-up plans it (for a file
        older than the history: late, visited in the history's first days)."""
        if self.has_routine:
            self._catch_up(_ROUTINE, self.start)
        if self.has_technical:
            self._catch_up(_TECHNICAL, self.start)

    def _wanted(self, kind: int) -> tuple[int, int, str] | None:
        """(earliest, due, key) of the periodic plan the catch-up asks for now."""
        w, c = self.w, self.c
        bases = [b for b in (self.success[kind], self.cancelled[kind]) if b is not None]
        base = max(bases) if bases else c.created_on
        wanted = w.routine(c.grade, base) if kind == _ROUTINE else w.technical(c.grade, base)
        return None if wanted is None else (wanted[0], wanted[1], self.origin + wanted[2])

    def _catch_up(self, kind: int, day: int) -> None:
        """plan_catch_up for one customer and one periodic rule on ``day``: create or re-date the plan."""
        if self.stop is not None and day > self.stop:
            return
        w, c = self.w, self.c
        wanted = self._wanted(kind)
        if wanted is None:
            return
        earliest, due, key = wanted
        held = self.pending[kind]
        if key in self.by_key:
            return
        created = min(day, w.today)
        if held is not None:
            if held.key != key:
                del self.by_key[held.key]
                held.key, held.due, held.earliest = key, due, earliest
                held.moves += 1
                self.by_key[key] = held
                self.push(held)
            return
        rule = ROUTINE_RULE if kind == _ROUTINE else TECHNICAL_RULE
        vtype = VisitType.ROUTINE if kind == _ROUTINE else VisitType.TECHNICAL
        method = w.rules.routine_method if kind == _ROUTINE else w.rules.technical_method
        p = _Plan(kind, key, rule, vtype, method, earliest, due, created, c.owner_id)
        self.by_key[key] = p
        self.pending[kind] = p
        self.push(p)

    def _replay(self, what: str, make: Callable[[], list[tuple[Any, ...]]]) -> None:
        """Push the plans ``make`` lists (the arguments of each ``_Plan``), worked out once per customer."""
        key = (what, self.c.id, self.start, self.stop)
        specs = self.w.chain_memo.get(key)
        if specs is None:
            specs = self.w.chain_memo[key] = make()
        for args, created_at in specs:
            self.push(_Plan(*args, created_at=created_at))

    def _trigger_plans(self) -> None:
        self._replay("purchases", self._purchase_chains)

    def _purchase_chains(self) -> list[tuple[Any, ...]]:
        """The rule chains of the customer's purchases (made when the purchase was entered)."""
        w, c = self.w, self.c
        specs: list[tuple[Any, ...]] = []
        first, last = self.start, w.horizon
        for buy in w.purchases.get(c.id, ()):
            day = buy.day.toordinal()
            if self.stop is not None and day > self.stop:
                continue
            for trigger in _purchase_triggers(buy.id, buy.day, buy.kind, buy.quantity, buy.warranty_end,
                                              c.category, w.options):
                for planned, key in w.planner.plans(trigger):
                    due = planned.due.toordinal()
                    if not first <= due <= last:
                        continue
                    owner = c.owner_id
                    if planned.who is not Assignee.OWNER:
                        owner = w.assignees.resolve(planned.who, c.owner_id, c.department_id)
                    specs.append(((_OTHER, key, planned.rule_key, planned.visit_type, planned.method,
                                   planned.earliest.toordinal(), due, day, owner), buy.created_at))
        return specs

    def _birthdays(self) -> None:
        if self.c.birthday is not None:
            self._replay("birthdays", self._birthday_greetings)

    def _birthday_greetings(self) -> list[tuple[Any, ...]]:
        """The yearly greeting, planned by the catch-up ``birthday_lookahead_days`` ahead."""
        w, c = self.w, self.c
        born = c.birthday
        assert born is not None
        specs: list[tuple[Any, ...]] = []
        ahead = w.options.birthday_lookahead_days
        seen: set[str] = set()
        for year in range(date.fromordinal(self.start).year, date.fromordinal(w.horizon).year + 1):
            if year < born.year:
                continue
            raw = add_months(born, 12 * (year - born.year)).toordinal()
            planned_on = max(raw - ahead, c.created_on)
            if planned_on > w.today or (self.stop is not None and planned_on > self.stop):
                continue
            trigger = Trigger(TriggerKind.BIRTHDAY, f"birthday:{c.id}", day=date.fromordinal(planned_on),
                              customer_birthday=born)
            for planned in plans_for_trigger(trigger, w.rules, w.cal,
                                             horizon=date.fromordinal(planned_on + ahead)):
                due = planned.due.toordinal()
                if planned.source_key in seen or not self.start <= due <= w.horizon:
                    continue
                seen.add(planned.source_key)
                owner = w.assignees.resolve(planned.who, c.owner_id, c.department_id)
                specs.append(((_OTHER, planned.source_key, planned.rule_key, planned.visit_type,
                               planned.method, planned.earliest.toordinal(), due, planned_on, owner), None))
        return specs

    def _manual_plans(self) -> None:
        """Plans a clerk added by hand (手动安排), more for classes without a routine plan."""
        w, rng, c = self.w, self.rng, self.c
        rate = w.manual_rate.get(c.grade, w.manual_rate.get("", 0.0))
        if rate <= 0:
            return
        lo, hi = w.profile.manual_lead_days
        day = self.start
        while True:
            day += max(1, int(rng.expovariate(rate / 365.0)))
            if day > w.today or (self.stop is not None and day > self.stop):
                return
            due = w.days.next(day + rng.randint(lo, hi))
            vtype, method = w.manual_types(rng), w.manual_methods(rng)
            key = self._manual_key()
            if due > w.horizon:
                continue
            self.push(_Plan(_OTHER, key, MANUAL_RULE, vtype, method, due, due, day, c.owner_id, manual=True))

    def _manual_key(self) -> str:
        """add_manual_plan's key (a random UUID), drawn from the seeded RNG."""
        return f"manual:{uuid.UUID(int=self.rng.getrandbits(128), version=4).hex}"

    # -- resolving a plan -------------------------------------------------------------------------------------

    def _resolve(self, p: _Plan, day: int) -> None:
        w, rng, c = self.w, self.rng, self.c
        if p.outcome != _VISIT:
            self.sink.emit(c, p, _CANCELLED)
            self._release(p)
            if p.outcome == _CANCEL and p.rule in (ROUTINE_RULE, TECHNICAL_RULE):
                kind = _ROUTINE if p.rule == ROUTINE_RULE else _TECHNICAL
                latest = self.cancelled[kind]
                if latest is None or p.due > latest:
                    self.cancelled[kind] = p.due
                    self.bases[f"cancelled{kind}"] = p
                self._catch_up(kind, day + 1)
            return
        p.result = w.results[p.method.value](rng)
        satisfied: bool | None = None
        if p.result is _SUCCESS:
            p.level = w.levels(rng)
            satisfied = p.level in w.scale.satisfied
            if satisfied and rng.random() < w.profile.next_visit_share:
                lo, hi = w.profile.next_visit_days
                p.next_on = day + rng.randint(lo, hi)
        record_id = self.sink.emit(c, p, _DONE)
        self._release(p)
        policy = w.rules.follow_up
        if p.attempt < policy.max_attempts and needs_follow_up(p.result, satisfied, policy):
            previous = PlannedVisit(rule_key=p.rule, visit_type=p.vtype, method=p.method,
                                    earliest=date.fromordinal(p.earliest), due=date.fromordinal(p.due),
                                    who=Assignee.OWNER, source_key=p.key, attempt=p.attempt)
            nxt = follow_up(p.result, satisfied, p.attempt, date.fromordinal(day), w.rules, w.cal,
                            previous=previous)
            if nxt is not None and (self.stop is None or day < self.stop):
                self.push(_Plan(_OTHER, nxt.source_key, nxt.rule_key, nxt.visit_type, nxt.method,
                                nxt.earliest.toordinal(), nxt.due.toordinal(), day, p.owner or p.visitor,
                                attempt=nxt.attempt, created_at=p.record_created_at))
        elif p.next_on and (self.stop is None or day < self.stop):
            # record_visit's plan for the agreed 下次回访时间; without the record (cut off) a hand-made key
            chosen = w.days.next(p.next_on)
            by_hand = self._manual_key()  # drawn in both passes alike
            self.push(_Plan(_OTHER, f"record:{record_id}#next" if record_id else by_hand, MANUAL_RULE, p.vtype,
                            p.method, chosen, chosen, day, p.visitor or p.owner, manual=True,
                            created_at=p.record_created_at))
        if p.result is _SUCCESS:
            self.success[_ROUTINE] = day
            self.bases["success"] = p
            if self.has_routine:
                self._catch_up(_ROUTINE, day + 1)
            if p.vtype is VisitType.TECHNICAL:
                self.success[_TECHNICAL] = day
                self.bases["technical"] = p
                if self.has_technical:
                    self._catch_up(_TECHNICAL, day + 1)

    def _release(self, p: _Plan) -> None:
        for kind in (_ROUTINE, _TECHNICAL):
            if self.pending[kind] is p:
                self.pending[kind] = None


# --- first pass: note, then cut ----------------------------------------------------------------------------

class _Notes(_Sink):
    """Per plan, in the order of the simulation: due day, creation day, visit day (0 without a record).
    Stops after the customer whose recent plans (due from ``recent_from``, and base plans) pass ``enough``:
    the customers after that would not be kept (see :class:`_Cut`)."""

    def __init__(self, recent_from: int = 0, enough: int | None = None) -> None:
        self.recent_from, self.enough, self.recent = recent_from, enough, 0
        self.due = array("i")
        self.created = array("i")
        self.visit = array("i")
        self.ends = array("q")  # after each customer (in simulation order): plans so far
        self.bases = bytearray()  # 1: a base plan, kept whatever its due day

    def emit(self, c: _Cust, p: _Plan, state: str) -> int | None:
        p.index = len(self.due)
        self.bases.append(0)
        self.due.append(p.due)
        self.created.append(p.created)
        self.visit.append(p.t if state == _DONE else 0)
        return None

    def begin_customer(self, position: int, c: _Cust) -> bool:
        return self.enough is None or self.recent <= self.enough

    def end_customer(self, bases: Sequence[_Plan]) -> None:
        begin = self.ends[-1] if self.ends else 0
        for p in bases:
            self.bases[p.index] = 1
        self.ends.append(len(self.due))
        if self.enough is not None:
            due, bases_, since = self.due, self.bases, self.recent_from
            self.recent += sum(1 for i in range(begin, len(due)) if due[i] >= since or bases_[i])


@dataclass(frozen=True, slots=True)
class _Cut:
    """The plans kept, out of those of the first ``customers`` customers (the first ``plans`` notes): every
    base plan, the others due after ``day``, and the first ``quota`` of the others due on ``day``."""

    customers: int
    plans: int
    day: int
    quota: int

    @classmethod
    def choose(cls, world: _World, notes: _Notes, total: int) -> _Cut:
        due, bases, ends = notes.due, notes.bases, notes.ends
        recent_from = world.today - world.profile.min_history_days
        customers, end = len(ends), len(due)
        if sum(1 for i in range(end) if due[i] >= recent_from or bases[i]) > total:
            # not even every customer's recent plans fit: fewer customers, each with its recent history
            customers, counted, begin = 0, 0, 0
            for position, stop in enumerate(ends):
                n = sum(1 for i in range(begin, stop) if due[i] >= recent_from or bases[i])
                if position and counted + n > total:
                    break
                counted += n
                customers, begin = position + 1, stop
            end = ends[customers - 1]
        target = total - sum(bases[:end])
        per_day = Tally(due[i] for i in range(end) if not bases[i])
        kept = 0
        for day in sorted(per_day, reverse=True):
            if kept + per_day[day] >= target:
                return cls(customers, end, day, max(0, target - kept))
            kept += per_day[day]
        first = min(per_day) if per_day else world.today
        return cls(customers, end, first, per_day.get(first, 0))  # all of them: fewer than asked

    def mask(self, notes: _Notes) -> bytearray:
        due, bases = notes.due, notes.bases
        keep = bytearray(bases[:self.plans])
        quota = self.quota
        for i in range(self.plans):
            if keep[i]:
                continue
            d = due[i]
            if d > self.day:
                keep[i] = 1
            elif d == self.day and quota:
                keep[i] = 1
                quota -= 1
        return keep


@dataclass(slots=True)
class _Numbering:
    """Ids and 编号 in time order: plans by creation day, records by visit day (with a fixed shuffle of each
    day's visits, so one customer is not always visited first); ``serial`` is the record's n-th of its day."""

    keep: bytearray
    plan_id: array  # type: ignore[type-arg]
    record_id: array  # type: ignore[type-arg]
    serial: array  # type: ignore[type-arg]
    per_day: dict[int, int]  # records per visit day
    first_plan_id: int
    first_record_id: int
    first_report_id: int
    counter_base: dict[str, int]

    @classmethod
    def make(cls, world: _World, notes: _Notes, cut: _Cut) -> _Numbering:
        keep = cut.mask(notes)
        n = cut.plans
        with world.ctx.engine.connect() as conn:
            def next_id(column: Any) -> int:
                return int(conn.execute(select(func.coalesce(func.max(column), 0))).scalar() or 0) + 1

            first_plan, first_record, first_report = (next_id(VisitPlan.id), next_id(VisitRecord.id),
                                                      next_id(VisitReport.id))
            counters = {name: int(value) for name, value in conn.execute(
                select(Counter.name, Counter.value).where(
                    Counter.name.startswith(VISIT_COUNTER) | Counter.name.startswith(REPORT_COUNTER)))}
        created, visit = notes.created, notes.visit
        plan_id = array("i", bytes(4 * n))
        for rank, i in enumerate(sorted((i for i in range(n) if keep[i]), key=lambda i: created[i] << 32 | i)):
            plan_id[i] = first_plan + rank
        record_id = array("i", bytes(4 * n))
        serial = array("i", bytes(4 * n))
        per_day: Tally[int] = Tally()
        done = [i for i in range(n) if keep[i] and visit[i]]
        done.sort(key=lambda i: visit[i] << 32 | (i * 2654435761) & 0xFFFFFFFF)
        for rank, i in enumerate(done):
            record_id[i] = first_record + rank
            per_day[visit[i]] += 1
            serial[i] = per_day[visit[i]]
        return cls(keep, plan_id, record_id, serial, dict(per_day), first_plan, first_record, first_report,
                   counters)


# --- second pass: the rows ---------------------------------------------------------------------------------

_CANCEL_REASONS = ("客户要求暂不回访", "联系人变更，待更新联系方式", "已在上门服务时一并回访", "客户近期不在本地",
                   "重复安排，已合并", "客户已由其他业务员跟进")
_STOP_REASONS = {"暂停": "客户暂停合作，暂停回访", "流失": "客户已流失，停止回访", "注销": "客户档案已注销"}
_FEEDBACK_GOOD = ("车辆使用正常，没有问题。", "对服务很满意，感谢回访。", "产品质量不错，司机反映良好。", "暂时没有新的需求。",
                  "售后响应及时，满意。", "配件供应及时，价格合理。", "希望以后多组织驾驶员培训。", "有新车采购计划时会联系我们。")
_FEEDBACK_FAILED = {
    VisitResult.NO_ANSWER: ("电话无人接听。", "电话占线，稍后再拨。", "对方已关机。"),
    VisitResult.UNREACHABLE: ("号码已停机。", "号码有误，需更新联系方式。", "联系人已离职。"),
    VisitResult.CALL_AGAIN: ("客户正在开会，约定改日再联系。", "负责人出差，回来后再回访。", "客户要求下周再联系。"),
    VisitResult.REFUSED: ("客户表示不需要回访。", "客户拒绝接受回访。"),
}
# (客户意见, 问题点, 转交部门, 改善对策, 部门答复)
_PROBLEMS = (
    ("车跑起来底盘有异响。", "车辆行驶中有异响。", "售后服务部", "安排服务站上门检查。", "技师已上门检修，异响已排除，客户确认。"),
    ("总体还可以，就是修车等得久。", "维修等待时间长。", "售后服务部", "优化派工，预约维修优先安排。",
     "已为客户预约下次保养，承诺当天完工。"),
    ("订的配件半个月还没到。", "配件到货慢。", "销售部", "协调配件库存，优先发货。", "配件已补发，客户已收到。"),
    ("上个月的发票还没收到。", "发票迟迟未收到。", "销售部", "催办发票并告知寄送单号。", "发票已寄出，单号已告知客户。"),
    ("保养到期了没人提醒。", "保养提醒不及时。", "客服部", "完善保养提醒，按里程提前通知。", "已加入保养提醒名单。"),
    ("配件价格比别家贵。", "对配件价格有异议。", "销售部", "说明价格构成，申请老客户优惠。", "已申请九五折优惠，客户接受。"),
    ("交车时随车工具少了两样。", "随车工具缺件。", "售后服务部", "补发缺少的随车工具。", "工具已补齐。"),
)
_ON_THE_SPOT = ("当场解答，客户认可。", "已向客户解释说明。", "已记录，下次回访时跟进。")
_RECORD_COMMENTS = ("内容完整。", "跟进及时，继续保持。", "注意跟踪转交问题的处理结果。", "话术运用得当。")
_RETURN_COMMENTS = ("回访内容过于简单，请补充客户的具体意见。", "满意度与客户反馈不一致，请核实后修改。",
                    "请补充问题点的改善对策。")
_REPORT_COMMENTS = ("已阅，按计划推进。", "未接通的客户请按时再次回访。", "转交的问题请督促各部门按时答复。",
                    "满意度保持较好，继续保持。")


@dataclass(slots=True)
class _DayReport:
    by_type: Tally[str] = field(default_factory=Tally)
    by_result: Tally[str] = field(default_factory=Tally)
    satisfaction: Tally[str] = field(default_factory=Tally)
    problems: list[tuple[datetime, int, str, str, str, str, str]] = field(default_factory=list)


class _Writer(_Sink):
    """Builds the rows of the kept plans and records and inserts them in batches."""

    def __init__(self, world: _World, ids: _Numbering) -> None:
        self.w, self.ids = world, ids
        self.rng = random.Random(f"demo-visit-details:{world.seed}")
        self.conn: Connection | None = None
        self.index = 0  # the plan's place in the simulation (as in the first pass)
        self.plan_rows: list[dict[str, Any]] = []
        self.record_rows: list[dict[str, Any]] = []
        self.plans = self.records = self.overdue = 0
        self.reports: dict[tuple[int, int], _DayReport] = {}
        self.report_counters: dict[str, int] = {}
        self.dates: dict[int, date] = {}
        self.clerks = {p.id for p in world.people.values() if p.role == Role.CLERK}
        self.colleagues: dict[int | None, list[int]] = {}
        for p in world.people.values():
            if p.role == Role.CLERK:
                self.colleagues.setdefault(p.department_id, []).append(p.id)
        # who signs: a supervisor of the owner's department, else another supervisor, else a manager; never
        # the owner themself (review.sign refuses that by default)
        reviewers = [p for p in world.people.values() if p.role == Role.SUPERVISOR]
        reviewers += [p for p in world.people.values() if p.role == Role.MANAGER]
        self.signers: dict[int, int | None] = {}
        for p in world.people.values():
            ranked = sorted((r for r in reviewers if r.id != p.id),
                            key=lambda r: (r.role != Role.SUPERVISOR, r.department_id != p.department_id, r.id))
            self.signers[p.id] = ranked[0].id if ranked else None
        self.default_signer = reviewers[0].id if reviewers else None
        self.day_start = timedelta(minutes=world.profile.work_start_minutes)
        self.cancel_reasons = _STOP_REASONS

    def date(self, o: int) -> date:
        d = self.dates.get(o)
        if d is None:
            d = self.dates[o] = date.fromordinal(o)
        return d

    # -- the sink --------------------------------------------------------------------------------------------

    def emit(self, c: _Cust, p: _Plan, state: str) -> int | None:
        i = self.index
        self.index += 1
        ids = self.ids
        if not ids.keep[i]:
            return None
        w, rng = self.w, self.rng
        plan_id = ids.plan_id[i]
        record_id = ids.record_id[i] if state == _DONE else 0
        created_at = p.created_at or self._planned_at(p.created)
        due = self.date(p.due)
        cancel_reason = ""
        if state == _CANCELLED:
            cancel_reason = (self.cancel_reasons.get(c.status, "客户暂停合作") if p.outcome == _STOP
                             else _CANCEL_REASONS[rng.randrange(len(_CANCEL_REASONS))])
        elif state == _PENDING and p.due < w.today:
            self.overdue += 1
        self.plan_rows.append({
            "id": plan_id, "customer_id": c.id, "source_key": p.key, "rule_key": p.rule,
            "visit_type": p.vtype.value, "method": p.method.value, "earliest": self.date(p.earliest),
            "due": due, "owner_id": p.owner, "attempt": p.attempt, "state": state,
            "cancel_reason": cancel_reason, "manual": p.manual,
            "done_on": self.date(p.t) if state == _DONE else None, "record_id": record_id or None,
            "created_at": min(created_at, w.now), "version": 1 + p.moves})
        self.plans += 1
        if record_id:
            self._record(c, p, plan_id, record_id, ids.serial[i])
        if len(self.plan_rows) >= w.profile.batch_size:
            self.flush()
        return record_id or None

    def _planned_at(self, day: int) -> datetime:
        """The catch-up at the start of the working day made it."""
        return datetime.combine(self.date(day), datetime.min.time()) + self.day_start - timedelta(
            minutes=5) + timedelta(seconds=self.rng.randrange(600))

    # -- one record ------------------------------------------------------------------------------------------

    def _visit_moment(self, day: int, serial: int) -> datetime:
        """The n-th visit of a day: times rise with the 编号 over the working day (today: until now)."""
        w = self.w
        start = datetime.combine(self.date(day), datetime.min.time()) + self.day_start
        span = w.profile.work_minutes * 60
        if day == w.today:
            span = max(60, min(span, int((w.now - start).total_seconds()) - 60))
        n = self.ids.per_day[day]
        slot = span / n
        return start + timedelta(seconds=int((serial - 1) * slot + self.rng.random() * slot))

    def _record(self, c: _Cust, p: _Plan, plan_id: int, record_id: int, serial: int) -> None:
        w, rng = self.w, self.rng
        prof = w.profile
        day = p.t
        visited_at = self._visit_moment(day, serial)
        created_at = min(visited_at + timedelta(minutes=2), w.now)
        p.record_created_at = created_at
        visitor = self._visitor(c, p, rng)
        p.visitor = visitor
        result = p.result
        satisfied = result is _SUCCESS and p.level in w.scale.satisfied
        problems = measures = handling = department = answer = ""
        transfer_due = transfer_done = None
        if result is _SUCCESS:
            feedback = _FEEDBACK_GOOD[rng.randrange(len(_FEEDBACK_GOOD))]
            if not satisfied or rng.random() < prof.problem_share:
                feedback, problems, department, measures, answer = _PROBLEMS[rng.randrange(len(_PROBLEMS))]
                if rng.random() < prof.transfer_share:
                    handling = f"已转交{department}处理，处理结果将告知客户。"
                    transfer_due = visited_at + timedelta(hours=w.options.transfer_hours)
                    hours = w.options.transfer_hours
                    if rng.random() < prof.transfer_late_share:
                        transfer_done = transfer_due + timedelta(minutes=rng.randint(60, 48 * 60))
                    else:
                        transfer_done = visited_at + timedelta(minutes=rng.randint(30, max(31, hours * 60 - 30)))
                    if transfer_done > w.now:
                        transfer_done = None
                else:
                    department, answer = "", ""
                    handling = _ON_THE_SPOT[rng.randrange(len(_ON_THE_SPOT))]
        else:
            pool = _FEEDBACK_FAILED.get(result, ("",))
            feedback = pool[rng.randrange(len(pool))]
        status, comment, signed_by, signed_at = self._review(day, visitor, created_at, rng)
        row: dict[str, Any]
        self.record_rows.append(row := {
            "id": record_id, "number": format_visit_number(self.date(day), self.ids.counter_base.get(
                f"{VISIT_COUNTER}{self.date(day):%Y%m%d}", 0) + serial), "plan_id": plan_id,
            "customer_id": c.id, "contact_name": c.contact, "contact_phone": c.phone,
            "visit_type": p.vtype.value, "method": p.method.value, "visited_at": visited_at,
            "visitor_id": visitor, "content": w.scripts[p.vtype], "feedback": feedback, "problems": problems,
            "measures": measures, "satisfaction": p.level if result is _SUCCESS else "", "handling": handling,
            "transfer_department": department, "transfer_due": transfer_due, "transfer_done_at": transfer_done,
            "transfer_answer": answer if transfer_done is not None else "",
            "next_visit_on": self.date(p.next_on) if p.next_on else None, "result": result.value,
            "customer_signed": needs_signature(p.method), "status": status, "supervisor_comment": comment,
            "signed_by_id": signed_by, "signed_at": signed_at, "revision": 0, "created_at": created_at,
            "version": 1})
        self._sign(ReviewKind.RECORD, row)
        self.records += 1
        if visitor in self.clerks:
            rep = self.reports.get((visitor, day))
            if rep is None:
                rep = self.reports[(visitor, day)] = _DayReport()
            rep.by_type[p.vtype.value] += 1
            rep.by_result[result.value] += 1
            if result is _SUCCESS:
                rep.satisfaction[p.level] += 1
            if problems:
                rep.problems.append((visited_at, record_id, self.record_rows[-1]["number"], c.name, problems,
                                     measures, department))

    def _visitor(self, c: _Cust, p: _Plan, rng: random.Random) -> int | None:
        """The plan's owner, sometimes a colleague of the same department; never the customer's own
        业务员 for the visit types the independence setting covers (when it is on)."""
        w = self.w
        owner = p.owner if p.owner in w.people else None
        team = self.colleagues.get(w.people[owner].department_id if owner is not None else None, [])
        visitor = owner
        if owner is None or (len(team) > 1 and rng.random() < w.profile.colleague_share):
            pool = [u for u in team if u != owner] or sorted(self.clerks)
            visitor = pool[rng.randrange(len(pool))] if pool else self.default_signer
        if w.independent and p.vtype.value in w.options.independent_visit_types and visitor == c.owner_id:
            pool = ([u for u in team if u != c.owner_id] or [u for u in sorted(self.clerks) if u != c.owner_id]
                    or ([self.default_signer] if self.default_signer is not None else []))
            visitor = pool[rng.randrange(len(pool))] if pool else visitor
        return visitor

    def _review(self, day: int, visitor: int | None, created_at: datetime, rng: random.Random
                ) -> tuple[str, str, int | None, datetime | None]:
        """已签字 once older than ``review_workdays``; else 待审阅, a few 退回 with the supervisor's reason."""
        w = self.w
        days = w.days
        age = days.at(w.today) - days.at(day)
        signer = self.signers.get(visitor, self.default_signer) if visitor is not None else self.default_signer
        if age > w.profile.review_workdays and signer is not None:
            signed_day = days.day(days.at(day) + rng.randint(1, 3))
            signed_at = datetime.combine(self.date(signed_day), datetime.min.time()) + timedelta(
                hours=14, minutes=rng.randrange(240))
            signed_at = min(max(signed_at, created_at), w.now)
            comment = (_RECORD_COMMENTS[rng.randrange(len(_RECORD_COMMENTS))]
                       if rng.random() < w.profile.comment_share else "")
            return RECORD_SIGNED, comment, signer, signed_at
        if rng.random() < w.profile.returned_share and signer is not None:
            return RECORD_RETURNED, _RETURN_COMMENTS[rng.randrange(len(_RETURN_COMMENTS))], None, None
        return RECORD_PENDING, "", None, None

    def _sign(self, kind: ReviewKind, row: dict[str, Any]) -> None:
        """The sign-off columns as review.sign fills them: the signer's role and the two hashes."""
        if row["status"] != RECORD_SIGNED:
            row.update(signed_role="", content_hash="", signature_hash="")
            return
        role = self.w.people[row["signed_by_id"]].role
        content = content_hash(kind, row)
        row.update(signed_role=role, content_hash=content, signature_hash=signature_hash(content, SignOff(
            row["signed_by_id"], role, row["signed_at"], row["supervisor_comment"], row["revision"])))

    # -- writing ---------------------------------------------------------------------------------------------

    def flush(self) -> None:
        assert self.conn is not None
        for model, rows in ((VisitPlan, self.plan_rows), (VisitRecord, self.record_rows)):  # plans first (FK)
            if rows:
                rows.sort(key=_by_id)  # in id order within the batch: fewer page splits
                self.conn.execute(insert(model), rows)
        self.plan_rows, self.record_rows = [], []

    def write_reports(self) -> int:
        """回访报告表 per clerk and day, as ``draft_report`` + ``save_report`` would have made them."""
        assert self.conn is not None
        w, rng = self.w, self.rng
        days = w.days
        scale = w.scale
        rows: list[dict[str, Any]] = []
        delay = w.options.report_delay_workdays
        for (clerk, day), rep in sorted(self.reports.items(), key=lambda item: (item[0][1], item[0][0])):
            due_on = w.cal.add_workdays(self.date(day), delay).toordinal()
            saved = due_on
            if rng.random() < w.profile.report_late_share:
                saved = days.day(days.at(due_on) + rng.randint(1, 3))
            saved_at = datetime.combine(self.date(saved), datetime.min.time()) + self.day_start + timedelta(
                minutes=10 + rng.randrange(170))
            if saved > w.today or saved_at >= w.now:
                continue
            problems = tuple(ReportProblem(*row[1:]) for row in sorted(rep.problems))
            on_scale = {k: n for k, n in rep.satisfaction.items() if k in scale.levels}
            answered = sum(on_scale.values())
            average = (sum(scale.score(k) * n for k, n in on_scale.items()) / answered if answered else None)
            draft = ReportDraft(
                clerk_id=clerk, clerk=w.people[clerk].name, start=self.date(day), end=self.date(day),
                total=sum(rep.by_type.values()), by_type=_ordered(rep.by_type, (t.value for t in VisitType)),
                by_result=_ordered(rep.by_result, (r.value for r in VisitResult)),
                satisfaction=_ordered(rep.satisfaction, scale.levels),
                satisfied=sum(n for k, n in on_scale.items() if k in scale.satisfied), average_score=average,
                problems=problems, scale_key=scale.key)
            signer = self.signers.get(clerk, self.default_signer)
            signed = (days.at(w.today) - days.at(saved) > w.profile.report_review_workdays
                      and signer is not None)
            signed_at = None
            if signed:
                signed_at = datetime.combine(self.date(days.day(days.at(saved) + rng.randint(1, 2))),
                                             datetime.min.time()) + timedelta(hours=15, minutes=rng.randrange(180))
                signed_at = min(signed_at, w.now)
            limit = w.profile.report_text_limit
            rows.append({
                "number": "", "clerk_id": clerk, "period_start": draft.start, "period_end": draft.end,
                "summary": json.dumps(draft.summary(), ensure_ascii=False),
                "problems": draft.problems_text[:limit], "actions": draft.measures_text[:limit],
                "evaluation": _evaluation(draft), "status": RECORD_SIGNED if signed else REPORT_PENDING,
                "due_on": self.date(due_on),
                "supervisor_comment": _REPORT_COMMENTS[rng.randrange(len(_REPORT_COMMENTS))] if signed else "",
                "signed_by_id": signer if signed else None, "signed_at": signed_at, "revision": 0,
                "created_at": saved_at, "version": 1})
        rows.sort(key=lambda r: (r["created_at"], r["clerk_id"]))
        per_day: Tally[str] = Tally()
        for n, row in enumerate(rows):
            saved_day: date = row["created_at"].date()
            name = f"{REPORT_COUNTER}{saved_day:%Y%m%d}"
            per_day[name] += 1
            row["id"] = self.ids.first_report_id + n
            row["number"] = format_visit_number(saved_day, self.ids.counter_base.get(name, 0) + per_day[name],
                                                prefix="BG")
            self._sign(ReviewKind.REPORT, row)
        for i in range(0, len(rows), w.profile.batch_size):
            self.conn.execute(insert(VisitReport), rows[i:i + w.profile.batch_size])
        self.report_counters = dict(per_day)
        return len(rows)

    def write_counters(self) -> None:
        """Move the day counters past the demo's numbers, so record_visit and save_report continue them."""
        assert self.conn is not None
        wanted: dict[str, int] = {}
        for day, n in self.ids.per_day.items():
            name = f"{VISIT_COUNTER}{self.date(day):%Y%m%d}"
            wanted[name] = self.ids.counter_base.get(name, 0) + n
        for name, n in self.report_counters.items():
            wanted[name] = self.ids.counter_base.get(name, 0) + n
        existing = [n for n in wanted if n in self.ids.counter_base]
        for name in existing:
            self.conn.execute(update(Counter).where(Counter.name == name).values(value=wanted.pop(name)))
        rows = [{"name": name, "value": value} for name, value in sorted(wanted.items())]
        for i in range(0, len(rows), self.w.profile.batch_size):
            self.conn.execute(insert(Counter), rows[i:i + self.w.profile.batch_size])


def _by_id(row: dict[str, Any]) -> int:
    return int(row["id"])


def _evaluation(draft: ReportDraft) -> str:
    """评价: a sentence a clerk would write under the day's counts."""
    results = dict(draft.by_result)
    success = results.get(VisitResult.SUCCESS.value, 0)
    text_ = f"{draft.start.month}月{draft.start.day}日共回访 {draft.total} 户，成功 {success} 户"
    answered = sum(n for _, n in draft.satisfaction)
    if answered:
        text_ += f"，满意 {draft.satisfied} 户（{draft.satisfied * 100 // answered}%）"
    retry = draft.total - success - results.get(VisitResult.REFUSED.value, 0)
    text_ += "。" if not retry else f"；{retry} 户未联系上或需再次回访，已安排再次回访。"
    if draft.problems:
        text_ += f"发现问题 {len(draft.problems)} 项，已记录并跟进。"
    return text_


def _audit_row(ctx: ServiceContext, writer: _Writer, since: date, reports: int, seed: int) -> dict[str, Any]:
    """One audit row for the whole history, as the customer generator writes one per batch."""
    counts = {"回访计划": writer.plans, "回访记录": writer.records, "回访报告": reports, "逾期": writer.overdue}
    span = f"{since:%Y-%m-%d}–{ctx.today() + timedelta(days=writer.w.profile.ahead_days):%Y-%m-%d}"
    return {
        "at": ctx.now(), "user_id": ctx.user.id or None, "username": ctx.user.username,
        "action": VISIT_DEMO_ACTION, "entity": "visit_plan", "entity_id": None, "label": span, "old": None,
        "new": json.dumps(counts, ensure_ascii=False, sort_keys=True), "note": f"演示数据（种子 {seed}）",
    }


def _set_cache(conn: Connection, size: int | None) -> int | None:
    """SQLite: set the page cache (``PRAGMA cache_size``: pages, or KiB when negative) outside any
    transaction; returns the previous setting. Nothing on other databases or for ``None``/0."""
    if conn.dialect.name != "sqlite" or not size:
        return None
    previous = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
    conn.exec_driver_sql(f"PRAGMA cache_size={int(size)}")
    conn.commit()
    return previous


def _sync_sequences(conn: Connection) -> None:
    """PostgreSQL: move the id sequences past the explicit ids (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("visit_plan", "visit_record", "visit_report"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"))


__all__ = ["VISIT_DEMO_ACTION", "VisitDemoResult", "VisitProfile", "generate_visits"]
