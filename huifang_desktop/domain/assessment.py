"""The 考核 events of a month (domain.md §9): which facts count as which event, for whom.

The service (:mod:`huifang_desktop.services.stats.assessment`) loads a month's facts from the database as
plain values — :class:`MonthFacts`: plans done late or still open after their due day, problems passed on
whose answer came late, the days each person made visits and the 回访报告表 they filed — and asks
:func:`count_events` what they amount to. The amounts, points and doubling of each event kind
(:class:`~huifang_desktop.domain.stats.AssessmentRules`) and the month's assessment built from the counts
(:func:`~huifang_desktop.domain.stats.assess`) are in :mod:`huifang_desktop.domain.stats`.

Pure: no database, no clock (``today`` is a fact), no Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from huifang_desktop.domain.stats import (
    AssessmentRules,
    EventKind,
    Period,
    ReportSpan,
    days_without_timely_report,
    monthly_ledger_missing,
)


@dataclass(frozen=True, slots=True)
class LatePlans:
    """Plans of one owner and one visit rule, due in the month and not cancelled, that were done after their
    due day or are still pending after it (``today``)."""

    owner_id: int | None
    rule_key: str
    count: int


@dataclass(frozen=True, slots=True)
class MonthFacts:
    """What :func:`count_events` needs of a month, as the service read it (every person by user id)."""

    month: Period
    today: date
    late_plans: tuple[LatePlans, ...] = ()
    late_transfers: Mapping[int | None, int] = field(default_factory=dict)  # visitor → problems answered late
    visit_days: Mapping[int, tuple[date, ...]] = field(default_factory=dict)  # person → days with visits
    reports: Mapping[int, tuple[ReportSpan, ...]] = field(default_factory=dict)  # clerk → filed 回访报告表


def delivery_rule_keys(rules: AssessmentRules, visit_rules: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The visit rules (``(key, trigger)`` pairs) whose trigger is one of the assessment's delivery triggers
    (交货类触发事件): a late plan of such a rule is 交货未回访."""
    wanted = set(rules.delivery_triggers)
    return tuple(key for key, trigger in visit_rules if trigger in wanted)


def counted_rule_keys(rules: AssessmentRules, delivery_keys: Iterable[str]) -> frozenset[str]:
    """The visit rules whose late plans count at all: the routine ones and the delivery ones."""
    return frozenset(rules.routine_rule_keys) | frozenset(delivery_keys)


def count_events(facts: MonthFacts, rules: AssessmentRules, *, delivery_keys: Iterable[str], deadline: date,
                 report_due: Callable[[date], date]) -> dict[int, dict[EventKind, int]]:
    """Each person's events of the month, by user id (people without events left out):

    * 例行回访未按期 (``MISSED_VISIT``): late plans of a routine rule (``rules.routine_rule_keys``);
    * 交货未回访 (``DELIVERY_NOT_VISITED``): late plans of a delivery rule that is not routine;
    * 问题未按时转交 (``PROBLEM_NOT_PASSED``): problems passed on whose answer came (or is still missing)
      after the deadline;
    * 回访台账未按时记录 (``LEDGER_NOT_KEPT``): days with visits no report filed by its due day covers
      (``report_due``: a visit day's report due day; a day not due yet is not counted);
    * 月度台账未上交 (``MONTHLY_LEDGER_MISSING``): after ``deadline``, some visit day not covered by a report
      filed by then (once per person)."""
    routine = frozenset(rules.routine_rule_keys)
    delivery = frozenset(delivery_keys) - routine
    counts: dict[int, dict[EventKind, int]] = {}

    def add(uid: int | None, kind: EventKind, n: int) -> None:
        if uid is not None and n:
            bucket = counts.setdefault(uid, {})
            bucket[kind] = bucket.get(kind, 0) + int(n)

    for late in facts.late_plans:
        if late.rule_key in routine:
            add(late.owner_id, EventKind.MISSED_VISIT, late.count)
        elif late.rule_key in delivery:
            add(late.owner_id, EventKind.DELIVERY_NOT_VISITED, late.count)
    for uid, n in facts.late_transfers.items():
        add(uid, EventKind.PROBLEM_NOT_PASSED, n)
    for uid, days in facts.visit_days.items():
        mine = facts.reports.get(uid, ())
        add(uid, EventKind.LEDGER_NOT_KEPT,
            len(days_without_timely_report(days, mine, today=facts.today, due_of=report_due)))
        add(uid, EventKind.MONTHLY_LEDGER_MISSING, int(monthly_ledger_missing(days, mine, deadline, facts.today)))
    return counts


__all__ = ["LatePlans", "MonthFacts", "count_events", "counted_rule_keys", "delivery_rule_keys"]
