"""The office as the visit simulation sees it: customers, purchases, people, working days and rules.

Loaded once by :meth:`World.load` from the office's own settings (rules, work calendar, options, scale).
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import select

from huifang_desktop.domain import planning, schedule
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.schedule import (
    Assignee,
    RuleSet,
)
from huifang_desktop.domain.visits import (
    SatisfactionScale,
    VisitMethod,
    VisitResult,
    VisitType,
    phone_script,
)
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.policy import load_scale, work_calendar
from huifang_desktop.services.settings import get_value
from huifang_desktop.services.visits import (
    INDEPENDENT_KEY,
    SCRIPTS_KEY,
    VisitOptions,
    load_options,
    load_rules,
)
from huifang_desktop.storage.models import (
    Customer,
    Purchase,
    User,
)

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
    small_office: int = 400  # fewer customers: no sample, the whole history_years simulated
    tape_plans: int = 200_000  # the first pass's plans kept to play to the second (about 250 bytes each)
    warm_up_days: int = 120  # simulated before the history kept, so the program's "first day" is cut off
    cancel_share: float = 0.02  # plans cancelled by hand (with a reason)
    late_share: float = 0.07  # visits made after the due day …
    late_workdays: tuple[tuple[int, int, float], ...] = (  # … by (from, to) working days, weight
        (1, 1, 48),
        (2, 2, 24),
        (3, 3, 11),
        (4, 5, 9),
        (6, 10, 6),
        (11, 30, 2),
    )
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
        (VisitType.ROUTINE.value, 55),
        (VisitType.HOLIDAY.value, 20),
        (VisitType.SATISFACTION.value, 15),
        (VisitType.SPECIAL.value, 10),
    )
    manual_methods: tuple[tuple[str, float], ...] = (
        (VisitMethod.PHONE.value, 70),
        (VisitMethod.ON_SITE.value, 15),
        (VisitMethod.WECHAT.value, 10),
        (VisitMethod.SMS.value, 5),
    )
    stop_days: tuple[tuple[str, int, int], ...] = (  # inactive files: stopped between N and M days ago
        ("暂停", 240, 7),
        ("流失", 900, 30),
        ("注销", 900, 30),
    )
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
        if self.tape_plans < 0:
            errors.append(FieldError("tape_plans", "回放计划数", "不能为负数"))
        if self.work_minutes < 1:
            errors.append(FieldError("work_minutes", "工作时长", "至少 1 分钟"))
        if errors:
            raise ValidationError(errors)


# --- the office as the simulation sees it -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cust:
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
class Buy:
    id: int
    day: date
    kind: str
    quantity: int
    warranty_end: date | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    role: str
    department_id: int | None
    name: str


class Pick:
    """A weighted choice drawn with one ``rng.random()``."""

    __slots__ = ("cum", "items")

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        if not items or len(items) != len(weights) or sum(weights) <= 0:
            raise ValueError("bad weighted choice")
        self.items = tuple(items)
        self.cum = tuple(accumulate(weights))

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cum, rng.random() * self.cum[-1])]


class Days:
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
class World:
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
    customers: list[Cust]
    purchases: dict[int, list[Buy]]
    people: dict[int, Person]
    days: Days
    staff: dict[str, list[tuple[int, int | None]]]  # active users by role: (id, department id), by id
    planner: planning.TriggerPlanner
    results: dict[str, Pick]
    levels: Pick
    late: Pick
    early: Pick
    manual_types: Pick
    manual_methods: Pick
    manual_rate: dict[str, float]
    stop_days: dict[str, tuple[int, int]]
    routine_memo: dict[tuple[str, int], tuple[int, int, str]] = field(default_factory=dict)
    technical_memo: dict[tuple[str, int], tuple[int, int, str]] = field(default_factory=dict)
    technical_grades: frozenset[str] = frozenset()
    # A customer's purchase chains and birthday greetings, the same in every pass (they draw nothing from
    # the RNG): worked out once per (customer, first day, stop day) and replayed, as plain argument tuples.
    chain_memo: dict[tuple[str, int, int, int | None], list[tuple[Any, ...]]] = field(default_factory=dict)

    @classmethod
    def load(cls, ctx: ServiceContext, profile: VisitProfile, seed: int) -> World:
        rules, cal, options, scale = load_rules(ctx), work_calendar(ctx), load_options(ctx), load_scale(ctx)
        scripts_setting = get_value(ctx, SCRIPTS_KEY)
        scripts = {
            t: "".join(phone_script(t, scripts_setting if isinstance(scripts_setting, dict) else None))
            for t in VisitType
        }
        now = ctx.now()
        today = now.date().toordinal()
        day_start = datetime.combine(now.date(), datetime.min.time()) + timedelta(
            minutes=profile.work_start_minutes + 30
        )
        limit = today if now >= day_start else today - 1
        start = today - 366 * profile.history_years
        horizon = today + profile.ahead_days
        with ctx.engine.connect() as conn:
            customers = [
                Cust(
                    r.id,
                    (r.grade or "").strip().upper(),
                    not r.archived and r.status in options.active_statuses,
                    r.status,
                    r.created_on.toordinal(),
                    r.owner_id,
                    r.department_id,
                    r.category,
                    r.birthday,
                    r.name,
                    r.primary_contact,
                    r.primary_phone,
                )
                for r in conn.execute(
                    select(
                        Customer.id,
                        Customer.grade,
                        Customer.status,
                        Customer.archived,
                        Customer.created_on,
                        Customer.owner_id,
                        Customer.department_id,
                        Customer.category,
                        Customer.birthday,
                        Customer.name,
                        Customer.primary_contact,
                        Customer.primary_phone,
                    ).order_by(Customer.id)
                )
            ]
            purchases: dict[int, list[Buy]] = {}
            for r in conn.execute(
                select(
                    Purchase.id,
                    Purchase.customer_id,
                    Purchase.day,
                    Purchase.kind,
                    Purchase.quantity,
                    Purchase.warranty_end,
                    Purchase.created_at,
                )
                .where(Purchase.day <= now.date())
                .order_by(Purchase.customer_id, Purchase.id)
            ):
                purchases.setdefault(r.customer_id, []).append(
                    Buy(r.id, r.day, r.kind, r.quantity, r.warranty_end, r.created_at)
                )
            people = {
                r.id: Person(r.id, r.role, r.department_id, r.display_name)
                for r in conn.execute(
                    select(User.id, User.role, User.department_id, User.display_name)
                    .where(User.active.is_(True))
                    .order_by(User.id)
                )
            }
        weights = dict(profile.satisfaction_weights)
        levels = weights.get(scale.key) or tuple(0.5**i for i in range(len(scale.levels)))
        if len(levels) != len(scale.levels):
            levels = tuple(0.5**i for i in range(len(scale.levels)))
        message = Pick(_RESULTS, profile.message_results)
        results = {m.value: message for m in VisitMethod}
        results[VisitMethod.PHONE.value] = Pick(_RESULTS, profile.phone_results)
        results[VisitMethod.ON_SITE.value] = Pick(_RESULTS, profile.on_site_results)
        late_items = [(a, b) for a, b, _ in profile.late_workdays]
        return cls(
            ctx=ctx,
            profile=profile,
            seed=seed,
            rules=rules,
            cal=cal,
            options=options,
            scale=scale,
            independent=bool(get_value(ctx, INDEPENDENT_KEY, True)),
            scripts=scripts,
            today=today,
            now=now,
            limit=limit,
            start=start,
            horizon=horizon,
            customers=customers,
            purchases=purchases,
            people=people,
            days=Days(cal, start - 800, horizon + 500),
            staff=_staff(people),
            planner=planning.TriggerPlanner(rules, cal),
            results=results,
            levels=Pick(scale.levels, levels),
            late=Pick(late_items, [w for *_, w in profile.late_workdays]),
            early=Pick(range(len(profile.early_workdays)), profile.early_workdays),
            manual_types=Pick(
                [VisitType(t) for t, _ in profile.manual_types], [w for _, w in profile.manual_types]
            ),
            manual_methods=Pick(
                [VisitMethod(m) for m, _ in profile.manual_methods], [w for _, w in profile.manual_methods]
            ),
            manual_rate=dict(profile.manual_per_year),
            stop_days={s: (a, b) for s, a, b in profile.stop_days},
            technical_grades=frozenset(g.upper() for g in rules.technical_grades),
        )

    def assignee(self, who: Assignee, owner_id: int | None, department_id: int | None) -> int | None:
        """Who makes a planned visit (the rule's ``who``), as the catch-up resolves it."""
        return planning.assignee_for(who, owner_id, department_id, self.staff)

    def routine(self, grade: str, base: int) -> tuple[int, int, str] | None:
        """(earliest, due, key suffix) of the routine plan counted from ``base``, as the catch-up plans it."""
        memo = self.routine_memo.get((grade, base))
        if memo is None:
            day = date.fromordinal(base)
            p = schedule.routine_due(grade, day, day, self.rules, self.cal, origin="")
            if p is None:
                return None
            memo = (p.earliest.toordinal(), p.due.toordinal(), p.source_key)
            self.routine_memo[(grade, base)] = memo
        return memo

    def technical(self, grade: str, base: int) -> tuple[int, int, str] | None:
        memo = self.technical_memo.get((grade, base))
        if memo is None:
            day = date.fromordinal(base)
            p = schedule.technical_due(grade, day, day, self.rules, self.cal, origin="")
            if p is None:
                return None
            memo = (p.earliest.toordinal(), p.due.toordinal(), p.source_key)
            self.technical_memo[(grade, base)] = memo
        return memo


def _staff(people: dict[int, Person]) -> dict[str, list[tuple[int, int | None]]]:
    out: dict[str, list[tuple[int, int | None]]] = {}
    for p in sorted(people.values(), key=lambda p: p.id):
        out.setdefault(p.role, []).append((p.id, p.department_id))
    return out
