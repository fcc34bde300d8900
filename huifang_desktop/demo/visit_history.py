"""The visit simulation (演示回访历史): each customer's plans, visits and follow-ups, day by day.

Plans come from the domain rules (:mod:`huifang_desktop.domain.schedule`, :mod:`huifang_desktop.domain.planning`)
under the keys the services give them; see :mod:`huifang_desktop.demo.visits` for how the history is cut.
"""

from __future__ import annotations

import heapq
import random
import uuid
from abc import ABC, abstractmethod
from array import array
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from huifang_desktop.demo.visit_world import Cust, World
from huifang_desktop.domain import planning, schedule
from huifang_desktop.domain.schedule import (
    ROUTINE_RULE,
    TECHNICAL_RULE,
    Assignee,
    PlannedVisit,
    Trigger,
    TriggerKind,
    add_months,
)
from huifang_desktop.domain.visits import (
    PlanState,
    VisitMethod,
    VisitResult,
    VisitType,
)
from huifang_desktop.services.visits import (
    MANUAL_RULE,
)
from huifang_desktop.storage.models import (
    Counter,
    VisitPlan,
    VisitRecord,
    VisitReport,
)

VISIT_COUNTER = "visit:"  # + YYYYMMDD, the counter record_visit draws 回访编号 from
REPORT_COUNTER = "report:"  # + YYYYMMDD, save_report's

_PENDING, _DONE, _CANCELLED = PlanState.PENDING.value, PlanState.DONE.value, PlanState.CANCELLED.value
_SUCCESS = VisitResult.SUCCESS

# --- the simulation ----------------------------------------------------------------------------------------

_ROUTINE, _TECHNICAL, _OTHER = 0, 1, 2
VISIT, CANCEL, STOP = 0, 1, 2
FOLLOW, NEXT = 1, 2  # Plan.link


class Plan:
    """One plan while the simulation runs; ``emit`` sees it once, when its state is final."""

    __slots__ = (
        "attempt",
        "created",
        "created_at",
        "due",
        "earliest",
        "index",
        "key",
        "kind",
        "level",
        "link",
        "manual",
        "method",
        "moves",
        "next_on",
        "outcome",
        "owner",
        "parent",
        "record",
        "record_created_at",
        "result",
        "rule",
        "t",
        "ver",
        "visitor",
        "vtype",
    )

    def __init__(
        self,
        kind: int,
        key: str,
        rule: str,
        vtype: VisitType,
        method: VisitMethod,
        earliest: int,
        due: int,
        created: int,
        owner: int | None,
        *,
        attempt: int = 1,
        manual: bool = False,
        created_at: datetime | None = None,
    ) -> None:
        self.kind, self.key, self.rule, self.vtype, self.method = kind, key, rule, vtype, method
        self.earliest, self.due, self.created, self.owner = earliest, due, created, owner
        self.attempt, self.manual, self.created_at = attempt, manual, created_at
        self.moves = 0
        self.index = -1  # its place in the simulation's output
        self.ver = 0
        self.t = 0
        self.outcome = VISIT
        self.result: VisitResult = _SUCCESS
        self.level = ""
        self.next_on = 0
        self.record_created_at: datetime | None = None  # second pass: its record's, for the plans it makes
        self.visitor: int | None = None
        # a follow-up (FOLLOW) or agreed next visit (NEXT) of ``parent``: its key, owner and creation time
        # come from the parent's record, which only the second pass writes (see :class:`Tape`)
        self.parent: Plan | None = None
        self.link = 0
        self.record: int | None = None  # second pass: the id of its record


class Sink(ABC):
    """What a pass does with the plans: note them (first pass) or write them (second pass)."""

    def begin_customer(self, position: int, c: Cust) -> bool:
        """False: stop before this customer (the second pass stops after the chosen customers)."""
        return True

    @abstractmethod
    def emit(self, c: Cust, p: Plan, state: str) -> int | None:
        """The plan in its final state; returns the id of its record when one is written."""

    def end_customer(self, bases: Sequence[Plan]) -> None:
        """``bases``: the plans the catch-up counts the customer's next periodic plans from."""


def run_history(
    world: World,
    sink: Sink,
    stop_after: int | None = None,
    *,
    customers: Sequence[Cust] | None = None,
    name: str = "demo-visits",
    progress: Callable[[int, int], None] | None = None,
    tape: Tape | None = None,
) -> None:
    """Simulate every customer in a seeded order (the same order and draws in both passes); ``progress(done,
    of)`` every 100 customers. ``tape``: recorded while it is open (the first pass), played instead of
    simulating once it is closed (the second pass: the customers it holds; the rest are simulated from the
    draws where it stopped)."""
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
        if tape is None:
            sink.end_customer(CustomerLife(world, sink, rng, c).run())
        elif tape.closed:
            if position < len(tape.ends):
                sink.end_customer(tape.play(position, c, sink))
                if position + 1 == len(tape.ends):
                    rng.setstate(tape.rng_state)
            else:
                sink.end_customer(CustomerLife(world, sink, rng, c).run())
        else:
            tape.sink = sink
            bases = CustomerLife(world, tape if tape.recording else sink, rng, c).run()
            tape.end_customer_at(bases, rng)
            sink.end_customer(bases)


class DueDays(Sink):
    def __init__(self) -> None:
        self.days: Tally[int] = Tally()

    def emit(self, c: Cust, p: Plan, state: str) -> int | None:
        self.days[p.due] += 1
        return None


def estimate_start(world: World, total: int) -> int:
    """The day to start simulating from: the depth ``total`` plans reach on a sample of the customers (over
    the longest history), plus ``warm_up_days`` before it, so the first days' start-up is cut off again.

    The sample is every n-th customer: ``sample_customers`` of a large office, a quarter of a middling one
    (the 2,000 customers of ``--demo``: their 15,000 plans reach back about 90 days, so simulating all of
    them over three years was five times the work kept; the 120-day warm-up spans four routine cycles and
    a technical one). Offices under ``small_office`` customers are simulated over the whole
    ``history_years``: a sample of them says little."""
    prof = world.profile
    step = len(world.customers) // prof.sample_customers
    if step < 2:
        step = 4 if len(world.customers) >= prof.small_office else 1
    if step < 2:
        return world.start
    sample = world.customers[::step]
    # the sample's own first days are a burst of late plans (every old file's first catch-up); its last
    # year is enough when the depth lies well after that burst, else the whole history is sampled
    whole = world.start
    for first in (max(whole, world.today - SAMPLE_DAYS), whole):
        depth_day = _depth(world, sample, total, first)
        if first == whole or (depth_day is not None and depth_day - first >= 2 * prof.warm_up_days):
            break
    if depth_day is None:
        return whole
    depth_day = min(depth_day, world.today - prof.min_history_days)
    return max(whole, depth_day - max(prof.warm_up_days, (world.today - depth_day) // 3))


SAMPLE_DAYS = 366  # the sample is simulated over the last year first


def _depth(world: World, sample: Sequence[Cust], total: int, first: int) -> int | None:
    """The due day from which the sample, simulated from ``first``, scaled to the office, has ``total``
    plans; None when it has fewer."""
    kept = world.start
    world.start = first
    try:
        due = DueDays()
        run_history(world, due, customers=sample, name="demo-visits-sample")
    finally:
        world.start = kept
    scale, counted = len(world.customers) / len(sample), 0.0
    for day in sorted(due.days, reverse=True):
        counted += due.days[day] * scale
        if counted >= total:
            return day
    return None


class CustomerLife:
    """The event loop of one customer: plans are resolved in order of the day they are visited or cancelled;
    after each, the routine/technical plans are brought in line as the daily catch-up would."""

    def __init__(self, world: World, sink: Sink, rng: random.Random, c: Cust) -> None:
        self.w, self.sink, self.rng, self.c = world, sink, rng, c
        self.heap: list[tuple[int, int, int, Plan]] = []
        self.seq = 0
        self.origin = f"customer:{c.id}"
        self.start = max(world.start, c.created_on)
        self.stop = self._stop_day()
        self.by_key: dict[str, Plan] = {}  # routine and technical plans by key
        self.refusals: dict[str, int] = {}  # follow-up chain (first plan's key) → refusals so far
        self.pending: dict[int, Plan | None] = {_ROUTINE: None, _TECHNICAL: None}
        self.success: dict[int, int | None] = {_ROUTINE: None, _TECHNICAL: None}
        self.cancelled: dict[int, int | None] = {_ROUTINE: None, _TECHNICAL: None}
        # the plans behind the catch-up's bases: last successful visit (any type), last technical one,
        # the cancelled routine/technical plan with the latest due day
        self.bases: dict[str, Plan] = {}
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

    def push(self, p: Plan) -> None:
        """Decide when the plan is visited or cancelled, and queue it on that day."""
        w, rng = self.w, self.rng
        days = w.days
        p.ver += 1
        floor = max(p.created, p.earliest)
        if p.due < floor:  # late already when planned (the first catch-up of an old file): soon
            day = days.day(days.at(floor) + rng.randint(0, w.profile.late_workdays[-1][1]))
            p.outcome = VISIT
        elif rng.random() < w.profile.cancel_share:
            day = rng.randint(max(p.created, self.start), max(p.created, p.due, self.start))
            p.outcome = CANCEL
        else:
            due_i = days.at(p.due)
            if rng.random() < w.profile.late_share:
                a, b = w.late(rng)
                day = days.day(due_i + rng.randint(a, b))
            else:
                day = days.day(max(due_i - w.early(rng), days.at(floor)))
            day = max(day, days.next(floor))
            p.outcome = VISIT
        if self.stop is not None and day > self.stop:
            day, p.outcome = self.stop, STOP
        p.t = day
        self.seq += 1
        heapq.heappush(self.heap, (day, self.seq, p.ver, p))

    def run(self) -> list[Plan]:
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
        p = Plan(kind, key, rule, vtype, method, earliest, due, created, c.owner_id)
        self.by_key[key] = p
        self.pending[kind] = p
        self.push(p)

    def _replay(self, what: str, make: Callable[[], list[tuple[Any, ...]]]) -> None:
        """Push the plans ``make`` lists (the arguments of each ``Plan``), worked out once per customer."""
        key = (what, self.c.id, self.start, self.stop)
        specs = self.w.chain_memo.get(key)
        if specs is None:
            specs = self.w.chain_memo[key] = make()
        for args, created_at in specs:
            self.push(Plan(*args, created_at=created_at))

    def _trigger_plans(self) -> None:
        """The purchases' chains: worked out once per customer for every pass (the depth sample's too, which
        starts earlier and stops on other days), the plans of this pass's days pushed."""
        chains = self.w.chain_memo.get(("purchases", self.c.id, 0, None))
        if chains is None:
            chains = self.w.chain_memo[("purchases", self.c.id, 0, None)] = self._purchase_chains()
        first, stop = self.start, self.stop
        for args, created_at in chains:
            if args[6] >= first and (stop is None or args[7] <= stop):  # due, the purchase's day
                self.push(Plan(*args, created_at=created_at))

    def _purchase_chains(self) -> list[tuple[Any, ...]]:
        """The rule chains of the customer's purchases (made when the purchase was entered), due up to the
        horizon; :meth:`_trigger_plans` keeps those of the days it simulates."""
        w, c = self.w, self.c
        specs: list[tuple[Any, ...]] = []
        last = w.horizon
        for buy in w.purchases.get(c.id, ()):
            day = buy.day.toordinal()
            for trigger in planning.purchase_triggers(
                buy.id,
                buy.day,
                buy.kind,
                buy.quantity,
                buy.warranty_end,
                c.category,
                w.options.end_customer_categories,
                dict(w.options.purchase_triggers),
            ):
                for planned, key in w.planner.plans(trigger):
                    due = planned.due.toordinal()
                    if due > last:
                        continue
                    owner = c.owner_id
                    if planned.who is not Assignee.OWNER:
                        owner = w.assignee(planned.who, c.owner_id, c.department_id)
                    specs.append(
                        (
                            (
                                _OTHER,
                                key,
                                planned.rule_key,
                                planned.visit_type,
                                planned.method,
                                planned.earliest.toordinal(),
                                due,
                                day,
                                owner,
                            ),
                            buy.created_at,
                        )
                    )
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
            trigger = Trigger(
                TriggerKind.BIRTHDAY,
                f"birthday:{c.id}",
                day=date.fromordinal(planned_on),
                customer_birthday=born,
            )
            for planned in schedule.plans_for_trigger(
                trigger, w.rules, w.cal, horizon=date.fromordinal(planned_on + ahead)
            ):
                due = planned.due.toordinal()
                if planned.source_key in seen or not self.start <= due <= w.horizon:
                    continue
                seen.add(planned.source_key)
                owner = w.assignee(planned.who, c.owner_id, c.department_id)
                specs.append(
                    (
                        (
                            _OTHER,
                            planned.source_key,
                            planned.rule_key,
                            planned.visit_type,
                            planned.method,
                            planned.earliest.toordinal(),
                            due,
                            planned_on,
                            owner,
                        ),
                        None,
                    )
                )
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
            self.push(Plan(_OTHER, key, MANUAL_RULE, vtype, method, due, due, day, c.owner_id, manual=True))

    def _manual_key(self) -> str:
        """add_manual_plan's key (a random UUID), drawn from the seeded RNG."""
        return f"manual:{uuid.UUID(int=self.rng.getrandbits(128), version=4).hex}"

    # -- resolving a plan -------------------------------------------------------------------------------------

    def _resolve(self, p: Plan, day: int) -> None:
        w, rng, c = self.w, self.rng, self.c
        if p.outcome != VISIT:
            self.sink.emit(c, p, _CANCELLED)
            self._release(p)
            if p.outcome == CANCEL and p.rule in (ROUTINE_RULE, TECHNICAL_RULE):
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
        chain = p.key if p.attempt <= 1 else p.key.rsplit("#", 1)[0]
        refusals = self.refusals.get(chain, 0)
        if p.result is VisitResult.REFUSED:
            self.refusals[chain] = refusals + 1
        if policy.allows(p.attempt) and schedule.needs_follow_up(p.result, satisfied, policy, refusals):
            previous = PlannedVisit(
                rule_key=p.rule,
                visit_type=p.vtype,
                method=p.method,
                earliest=date.fromordinal(p.earliest),
                due=date.fromordinal(p.due),
                who=Assignee.OWNER,
                source_key=p.key,
                attempt=p.attempt,
            )
            nxt = schedule.follow_up(
                p.result,
                satisfied,
                p.attempt,
                date.fromordinal(day),
                w.rules,
                w.cal,
                previous=previous,
                refusals=refusals,
            )
            if nxt is not None and (self.stop is None or day < self.stop):
                self._push_child(
                    Plan(
                        _OTHER,
                        nxt.source_key,
                        nxt.rule_key,
                        nxt.visit_type,
                        nxt.method,
                        nxt.earliest.toordinal(),
                        nxt.due.toordinal(),
                        day,
                        p.owner or p.visitor,
                        attempt=nxt.attempt,
                        created_at=p.record_created_at,
                    ),
                    p,
                    FOLLOW,
                )
        elif p.next_on and (self.stop is None or day < self.stop):
            # record_visit's plan for the agreed 下次回访时间; without the record (cut off) a hand-made key
            chosen = w.days.next(p.next_on)
            by_hand = self._manual_key()  # drawn in both passes alike
            self._push_child(
                Plan(
                    _OTHER,
                    f"record:{record_id}#next" if record_id else by_hand,
                    MANUAL_RULE,
                    p.vtype,
                    p.method,
                    chosen,
                    chosen,
                    day,
                    p.visitor or p.owner,
                    manual=True,
                    created_at=p.record_created_at,
                ),
                p,
                NEXT,
            )
        if p.result is _SUCCESS and p.vtype.value in w.rules.types_satisfying(
            ROUTINE_RULE
        ):  # only what counts (RuleSet.satisfies)
            self.success[_ROUTINE] = day
            self.bases["success"] = p
            if self.has_routine:
                self._catch_up(_ROUTINE, day + 1)
        if p.result is _SUCCESS and p.vtype.value in w.rules.types_satisfying(TECHNICAL_RULE):
            self.success[_TECHNICAL] = day
            self.bases["technical"] = p
            if self.has_technical:
                self._catch_up(_TECHNICAL, day + 1)

    def _push_child(self, child: Plan, parent: Plan, link: int) -> None:
        child.parent, child.link = parent, link
        self.push(child)

    def _release(self, p: Plan) -> None:
        for kind in (_ROUTINE, _TECHNICAL):
            if self.pending[kind] is p:
                self.pending[kind] = None


# --- the tape: the first pass played to the second -------------------------------------------------------


class Tape(Sink):
    """The first pass's plans in the order they were emitted, played to the writer in the second pass
    instead of simulating the customers again: the same draws give the same plans, so only what the written
    records decide is worked out again — the key, owner and creation time of a follow-up or an agreed next
    visit, from its parent's record (:func:`_relink`). It takes at most ``limit`` plans (a large office's
    memory); the customers after those are simulated again from the RNG state where it stopped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.recording = True  # False once full: the customers after it are not taped
        self.closed = False  # the second pass: played
        self.plans: list[Plan] = []
        self.states: list[str] = []
        self.ends: list[int] = []  # after each taped customer: plans so far
        self.bases: list[list[Plan]] = []
        self.rng_state: Any = None  # the simulation's RNG after the last taped customer
        self.sink: Sink | None = None  # the first pass's own sink, told everything

    def emit(self, c: Cust, p: Plan, state: str) -> int | None:
        self.plans.append(p)
        self.states.append(state)
        assert self.sink is not None
        return self.sink.emit(c, p, state)

    def end_customer_at(self, bases: list[Plan], rng: random.Random) -> None:
        if not self.recording:
            return
        self.ends.append(len(self.plans))
        self.bases.append(bases)
        self.rng_state = rng.getstate()
        if len(self.plans) >= self.limit:
            self.recording = False

    def close(self) -> None:
        self.closed, self.sink = True, None

    def play(self, position: int, c: Cust, sink: Sink) -> list[Plan]:
        """Emit the taped customer's plans to ``sink``; returns its base plans."""
        for i in range(self.ends[position - 1] if position else 0, self.ends[position]):
            p = self.plans[i]
            if p.parent is not None:
                _relink(p, p.parent)
            p.record = sink.emit(c, p, self.states[i])
        return self.bases[position]


def _relink(p: Plan, parent: Plan) -> None:
    """What ``CustomerLife._resolve`` gives a follow-up or an agreed next visit from its parent's record
    (the parent was emitted, and its record written, before)."""
    p.created_at = parent.record_created_at
    if p.link == NEXT:
        if parent.record:
            p.key = f"record:{parent.record}#next"
        p.owner = parent.visitor or parent.owner
    else:
        p.key = schedule.follow_up_key(parent.key, parent.attempt)
        p.owner = parent.owner or parent.visitor


# --- first pass: note, then cut ----------------------------------------------------------------------------


class Notes(Sink):
    """Per plan, in the order of the simulation: due day, creation day, visit day (0 without a record).
    Stops after the customer whose recent plans (due from ``recent_from``, and base plans) pass ``enough``:
    the customers after that would not be kept (see :class:`Cut`)."""

    def __init__(self, recent_from: int = 0, enough: int | None = None) -> None:
        self.recent_from, self.enough, self.recent = recent_from, enough, 0
        self.due = array("i")
        self.created = array("i")
        self.visit = array("i")
        self.ends = array("q")  # after each customer (in simulation order): plans so far
        self.bases = bytearray()  # 1: a base plan, kept whatever its due day

    def emit(self, c: Cust, p: Plan, state: str) -> int | None:
        p.index = len(self.due)
        self.bases.append(0)
        self.due.append(p.due)
        self.created.append(p.created)
        self.visit.append(p.t if state == _DONE else 0)
        return None

    def begin_customer(self, position: int, c: Cust) -> bool:
        return self.enough is None or self.recent <= self.enough

    def end_customer(self, bases: Sequence[Plan]) -> None:
        begin = self.ends[-1] if self.ends else 0
        for p in bases:
            self.bases[p.index] = 1
        self.ends.append(len(self.due))
        if self.enough is not None:
            due, bases_, since = self.due, self.bases, self.recent_from
            self.recent += sum(1 for i in range(begin, len(due)) if due[i] >= since or bases_[i])


@dataclass(frozen=True, slots=True)
class Cut:
    """The plans kept, out of those of the first ``customers`` customers (the first ``plans`` notes): every
    base plan, the others due after ``day``, and the first ``quota`` of the others due on ``day``."""

    customers: int
    plans: int
    day: int
    quota: int

    @classmethod
    def choose(cls, world: World, notes: Notes, total: int) -> Cut:
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

    def mask(self, notes: Notes) -> bytearray:
        due, bases = notes.due, notes.bases
        keep = bytearray(bases[: self.plans])
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
class Numbering:
    """Ids and 编号 in time order: plans by creation day, records by visit day (with a fixed shuffle of each
    day's visits, so one customer is not always visited first); ``serial`` is the record's n-th of its day."""

    keep: bytearray
    plan_id: array[int]
    record_id: array[int]
    serial: array[int]
    per_day: dict[int, int]  # records per visit day
    first_plan_id: int
    first_record_id: int
    first_report_id: int
    counter_base: dict[str, int]

    @classmethod
    def make(cls, world: World, notes: Notes, cut: Cut) -> Numbering:
        keep = cut.mask(notes)
        n = cut.plans
        with world.ctx.engine.connect() as conn:

            def next_id(column: Any) -> int:
                return int(conn.execute(select(func.coalesce(func.max(column), 0))).scalar() or 0) + 1

            first_plan, first_record, first_report = (
                next_id(VisitPlan.id),
                next_id(VisitRecord.id),
                next_id(VisitReport.id),
            )
            counters = {
                name: int(value)
                for name, value in conn.execute(
                    select(Counter.name, Counter.value).where(
                        Counter.name.startswith(VISIT_COUNTER) | Counter.name.startswith(REPORT_COUNTER)
                    )
                )
            }
        created, visit = notes.created, notes.visit
        plan_id = array("i", bytes(4 * n))
        for rank, i in enumerate(
            sorted((i for i in range(n) if keep[i]), key=lambda i: created[i] << 32 | i)
        ):
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
        return cls(
            keep, plan_id, record_id, serial, dict(per_day), first_plan, first_record, first_report, counters
        )
