"""The 考核 events of a month (domain.md §9, *001 §3.1–3.5*, *002 制度1/9*): which facts are charged, to whom,
at what — one :class:`~huifang_desktop.domain.stats.ChargedEvent` per charge, linked to its plan or record.

The service (:mod:`huifang_desktop.services.stats.assessment`) loads a month's facts from the database as
plain values — :class:`MonthFacts` — and asks :func:`charge_events` for the events, then :func:`assess_events`
for each person's lines. The table of kinds, amounts and windows is
:class:`~huifang_desktop.domain.assessment_rules.AssessmentRules`.

Who is charged (domain.md §9): whoever owned the plan on the day its window closed, from the plan's owner
history (:class:`~huifang_desktop.domain.handover.OwnerChange`, kept whenever a pending plan changes hands:
a hand-over, a customer reassigned, a closing visit re-planned) — so a leaver is charged for the windows
that closed before the hand-over and the successor for those that close after it, however the plan is
owned when the month is assessed. Never backdated: a plan created after its due day (a class change or a
hand-over planning a visit that was already "late") could not have been met and is never charged.

Pure: no database, no clock (``today`` and ``now`` are facts), no Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from huifang_desktop.domain.assessment_rules import EventKind
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.handover import OwnerChange, owner_on
from huifang_desktop.domain.stats import (
    Assessment,
    AssessmentLine,
    AssessmentRules,
    ChargedEvent,
    ClerkAssessment,
    Period,
    PeriodKind,
    ReportSpan,
    days_without_timely_report,
    month_period,
    monthly_ledger_missing,
)

PLAN, RECORD, CUSTOMER, ENTRY, REPORT = (
    "visit_plan",
    "visit_record",
    "customer",
    "assessment_entry",
    "visit_report",
)


@dataclass(frozen=True, slots=True)
class PlanFact:
    """A plan due in the month, not cancelled: its owner now, rule, due day, the day it was created, the day it
    was done (None: still pending) and its owner changes (who held it on which day)."""

    plan_id: int
    owner_id: int | None
    rule_key: str
    due: date
    created_on: date
    done_on: date | None = None
    subject: str = ""
    rule_label: str = ""
    owner_changes: tuple[OwnerChange, ...] = ()

    def owner_at(self, day: date) -> int | None:
        """Who owned the plan on ``day`` (a change takes effect on the day it was made)."""
        return owner_on(self.owner_id, self.owner_changes, day)


@dataclass(frozen=True, slots=True)
class TransferFact:
    """A visit of the month whose information had to be passed on (转交部门), and when it was answered."""

    record_id: int
    visitor_id: int | None
    visited_at: datetime
    answered_at: datetime | None = None
    subject: str = ""  # the record's number


@dataclass(frozen=True, slots=True)
class LedgerFact:
    """An end customer (a category the visit options name end customers), its first purchase and whether its
    终端客户信息台帐 entry is complete (联系人 and 电话 on file)."""

    customer_id: int
    owner_id: int | None
    first_purchase: date
    complete: bool
    subject: str = ""


@dataclass(frozen=True, slots=True)
class EntryFact:
    """A graded event (经理登记考核) or an adjustment (考核更正) entered by a manager for this month."""

    entry_id: int
    clerk_id: int
    day: date
    kind: EventKind
    label: str
    amount: int
    points: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MonthFacts:
    """What :func:`charge_events` needs of a month, as the service read it (every person by user id)."""

    month: Period
    today: date
    now: datetime
    plans: tuple[PlanFact, ...] = ()
    transfers: tuple[TransferFact, ...] = ()
    ledger: tuple[LedgerFact, ...] = ()
    entries: tuple[EntryFact, ...] = ()
    visit_days: Mapping[int, tuple[date, ...]] = field(default_factory=dict)  # person → days with visits
    reports: Mapping[int, tuple[ReportSpan, ...]] = field(default_factory=dict)  # clerk → filed 回访报告表


def plan_kind(rules: AssessmentRules, rule_key: str) -> EventKind | None:
    """The event a missed plan of ``rule_key`` is, or None (a visit the rule book does not assess: the
    1-week and 1-month visits, reminders, greetings, complaint and repair visits …)."""
    if rule_key in rules.delivery_rule_keys:
        return EventKind.DELIVERY_NOT_VISITED
    if rule_key in rules.routine_rule_keys:
        return EventKind.MISSED_VISIT
    if rule_key in rules.end_customer_rule_keys:
        return EventKind.END_CUSTOMER_NOT_VISITED
    return None


def assessed_rule_keys(rules: AssessmentRules) -> frozenset[str]:
    """The visit rules whose missed plans can be charged at all."""
    return frozenset((*rules.delivery_rule_keys, *rules.routine_rule_keys, *rules.end_customer_rule_keys))


def ledger_window(rules: AssessmentRules) -> int:
    return rules.rule(EventKind.END_CUSTOMER_LEDGER).days


def _missed_plan(p: PlanFact, kind: EventKind, rules: AssessmentRules, today: date) -> ChargedEvent | None:
    closes = p.due + timedelta(days=rules.rule(kind).days)
    owner = p.owner_at(closes)  # whoever held it when the window closed, never the owner of today
    if owner is None or p.created_on > p.due:
        return None  # nobody's, or planned only after it could have been met: never backdated
    if p.done_on is not None:
        if p.done_on <= closes:
            return None
        detail = f"{p.rule_label or p.rule_key}应于 {p.due:%Y-%m-%d} 前完成，{p.done_on:%Y-%m-%d} 才回访"
    else:
        if today <= closes:
            return None
        detail = f"{p.rule_label or p.rule_key}应于 {p.due:%Y-%m-%d} 前完成，未回访"
    return ChargedEvent(kind, owner, closes, PLAN, p.plan_id, p.subject, detail)


def charge_events(
    facts: MonthFacts,
    rules: AssessmentRules,
    *,
    report_due: Callable[[date], date] | None = None,
    deadline: date | None = None,
) -> tuple[ChargedEvent, ...]:
    """Every charged event of the month, priced (:func:`price`); kinds the table disables are left out.

    * 3.1/3.2/3.5: a plan of a delivery (1–5-day 到货回访), routine or end-customer rule not done by its due day
      plus the kind's grace days (done later, or still pending after it), charged to whoever owned it on that
      last day (:meth:`PlanFact.owner_at`); never one created after its due day;
    * 3.3: a visit of the month whose information was answered more than the kind's window (hours) after the
      visit, or is still unanswered after it;
    * 3.4: an end customer whose ledger entry is still incomplete when the kind's window (days after the first
      purchase) closed in the month;
    * 回访台账未按时记录 / 月度台账未上交 (off by default): see :func:`days_without_timely_report` and
      :func:`monthly_ledger_missing` (``report_due`` and ``deadline`` needed for them);
    * the month's graded entries and adjustments, as entered.
    """
    month, today = facts.month, facts.today
    out: list[ChargedEvent] = []
    for p in facts.plans:
        kind = plan_kind(rules, p.rule_key)
        if kind is not None and month.start <= p.due <= month.end:
            event = _missed_plan(p, kind, rules, today)
            if event is not None:
                out.append(event)
    hours = rules.rule(EventKind.PROBLEM_NOT_PASSED).days
    for t in facts.transfers:
        limit = t.visited_at + timedelta(hours=hours)
        if t.visitor_id is None:
            continue
        if t.answered_at is not None and t.answered_at <= limit:
            continue
        if t.answered_at is None and facts.now <= limit:
            continue
        late = "仍未回传" if t.answered_at is None else f"{t.answered_at:%Y-%m-%d %H:%M} 才回传"
        out.append(
            ChargedEvent(
                EventKind.PROBLEM_NOT_PASSED,
                t.visitor_id,
                limit.date(),
                RECORD,
                t.record_id,
                t.subject,
                f"回访信息应于 {limit:%Y-%m-%d %H:%M} 前回传，{late}",
            )
        )
    window = ledger_window(rules)
    for c in facts.ledger:
        closes = c.first_purchase + timedelta(days=window)
        if c.owner_id is None or c.complete or not month.start <= closes <= month.end or today <= closes:
            continue
        out.append(
            ChargedEvent(
                EventKind.END_CUSTOMER_LEDGER,
                c.owner_id,
                closes,
                CUSTOMER,
                c.customer_id,
                c.subject,
                f"{c.first_purchase:%Y-%m-%d} 购车，{window} 天内终端客户信息台帐未建全（联系人、电话）",
            )
        )
    if report_due is not None:
        for uid, days in facts.visit_days.items():
            mine = facts.reports.get(uid, ())
            for d in days_without_timely_report(days, mine, today=today, due_of=report_due):
                out.append(
                    ChargedEvent(
                        EventKind.LEDGER_NOT_KEPT,
                        uid,
                        d,
                        REPORT,
                        None,
                        "",
                        f"{d:%Y-%m-%d} 的回访未按时记入回访报告表",
                    )
                )
            if deadline is not None and monthly_ledger_missing(days, mine, deadline, today):
                out.append(
                    ChargedEvent(
                        EventKind.MONTHLY_LEDGER_MISSING,
                        uid,
                        deadline,
                        REPORT,
                        None,
                        "",
                        f"{month.label}的回访台账未于 {deadline:%Y-%m-%d} 前上交",
                    )
                )
    for e in facts.entries:
        out.append(
            ChargedEvent(e.kind, e.clerk_id, e.day, ENTRY, e.entry_id, e.label, e.reason, e.amount, e.points)
        )
    return price(out, rules)


def price(events: Iterable[ChargedEvent], rules: AssessmentRules) -> tuple[ChargedEvent, ...]:
    """Each ruled event at its rule's amount and points, a repeat of the same kind by the same person within
    the month at :meth:`AssessmentRules.multiplier` times that (in day order); graded entries and
    adjustments keep their own amounts. Events of a disabled rule are dropped. Sorted by person, kind, day."""
    ordered = sorted(
        events,
        key=lambda e: (
            e.owner_id,
            list(EventKind).index(e.kind),
            e.day,
            e.source,
            e.source_id or 0,
            e.subject,
        ),
    )
    seen: dict[tuple[int, EventKind], int] = {}
    out = []
    for e in ordered:
        if not e.kind.ruled:
            out.append(e)
            continue
        rule = rules.rule(e.kind)
        if not rule.enabled:
            continue
        n = seen.get((e.owner_id, e.kind), 0)
        seen[(e.owner_id, e.kind)] = n + 1
        factor = 1 if n == 0 else rules.multiplier(e.kind)
        out.append(replace(e, amount=rule.amount * factor, points=rule.points * factor))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Person:
    """Who is assessed: a user's id, name and department."""

    user_id: int
    name: str
    department: str = ""
    active: bool = True


def assess_events(
    month: Period,
    people: Iterable[Person],
    events: Iterable[ChargedEvent],
    rules: AssessmentRules,
    computed_at: datetime,
) -> Assessment:
    """The month's assessment from its charged events: a line per kind for each person (active, or with
    events; in the order given), counts and sums of the events' amounts and points; the events kept."""
    if month.kind is not PeriodKind.MONTH:
        raise ValidationError(FieldError("month", "考核月份", "考核按月进行，请选择一个月份"))
    evs = tuple(events)
    by_owner: dict[int, list[ChargedEvent]] = {}
    for e in evs:
        by_owner.setdefault(e.owner_id, []).append(e)
    clerks = []
    listed: set[int] = set()
    for person in people:
        mine = by_owner.get(person.user_id, [])
        if not person.active and not mine:
            continue
        listed.add(person.user_id)
        lines = []
        for kind in EventKind:
            of_kind = [e for e in mine if e.kind is kind]
            lines.append(
                AssessmentLine(
                    kind, len(of_kind), sum(e.amount for e in of_kind), sum(e.points for e in of_kind)
                )
            )
        clerks.append(ClerkAssessment(person.user_id, person.name, person.department, tuple(lines)))
    kept = tuple(e for e in evs if e.owner_id in listed)
    return Assessment(month.key, tuple(clerks), rules, computed_at, kept)


def next_month(month: Period) -> Period:
    nxt = month.end + timedelta(days=1)
    return month_period(nxt.year, nxt.month)


__all__ = [
    "CUSTOMER",
    "ENTRY",
    "PLAN",
    "RECORD",
    "REPORT",
    "EntryFact",
    "LedgerFact",
    "MonthFacts",
    "Person",
    "PlanFact",
    "TransferFact",
    "assess_events",
    "assessed_rule_keys",
    "charge_events",
    "ledger_window",
    "next_month",
    "plan_kind",
    "price",
]
