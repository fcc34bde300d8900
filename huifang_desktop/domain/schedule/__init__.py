"""Visit rules (回访规则) and planning: routine visits by class, event-triggered chains, follow-ups.

Pure domain code (domain.md §3–§4). A :class:`RuleSet` is the office's rule table: every number is a
default a supervisor can change in Settings, stored as the plain dict of :meth:`RuleSet.to_dict`.

How a plan is made
------------------
* A :class:`Trigger` is one triggering record (a delivery, a closed complaint, …) with a unique
  ``source_key`` such as ``"delivery:123"``.
* Each enabled :class:`VisitRule` for the trigger's kind gives one or more :class:`Window` s
  ``(earliest, due)`` counted from an *anchor* date (the trigger's day unless the rule says otherwise, e.g.
  the warranty end). Offsets are in hours, days, weeks, months or years; months are calendar months
  (Jan 31 + 1 month = Feb 28/29), always counted from the original anchor so a chain never drifts.
* A repeating rule (``repeat_every``) repeats its single window every so many units, until the rule's
  ``until`` date (e.g. the warranty end) and never past the *horizon* (trigger day + ``horizon_months``),
  so every chain is bounded. Occurrences whose due date lies before the trigger's day are skipped (a
  birthday already past this year, a 首保 date entered too late).
* A rule with ``sample_rate`` < 1 picks a reproducible share of the triggering records: a hash of
  (salt, rule key, source key) decides, never :mod:`random`; the same record is always in or out.
* Due dates on non-working days move to the next working day (:meth:`WorkCalendar.next_workday`, with the
  mainland holidays and 调休 days); the earliest date moves too but never past the due date.
* Every plan carries an idempotency key (:func:`plan_key`), e.g. ``"delivery:123#delivery_usage"``,
  ``"end_customer:9#end_customer_monthly@3"`` (3rd occurrence) and ``"…#2"`` for a second attempt:
  planning the same trigger twice gives equal plans, so a service can insert "if the key is new".
"""

from __future__ import annotations

from huifang_desktop.domain.schedule.plans import (
    FOLLOW_UP_RULE,
    ROUTINE_RULE,
    TECHNICAL_RULE,
    PlannedVisit,
    chain_base,
    follow_up,
    follow_up_key,
    needs_follow_up,
    plans_for_trigger,
    routine_due,
    routine_plans,
    satisfies,
    technical_due,
)
from huifang_desktop.domain.schedule.rules import (
    ANCHOR_LABELS,
    ASSIGNEE_LABELS,
    DEFAULT_RULES,
    TRIGGER_LABELS,
    UNIT_LABELS,
    Anchor,
    Assignee,
    FollowUpPolicy,
    RuleSet,
    Trigger,
    TriggerKind,
    Unit,
    VisitRule,
    Window,
    add_months,
    add_offset,
    is_sampled,
    plan_key,
    sample_fraction,
    shift_to_workday,
)

__all__ = [
    "ANCHOR_LABELS",
    "ASSIGNEE_LABELS",
    "DEFAULT_RULES",
    "FOLLOW_UP_RULE",
    "ROUTINE_RULE",
    "TECHNICAL_RULE",
    "TRIGGER_LABELS",
    "UNIT_LABELS",
    "Anchor",
    "Assignee",
    "FollowUpPolicy",
    "PlannedVisit",
    "RuleSet",
    "Trigger",
    "TriggerKind",
    "Unit",
    "VisitRule",
    "Window",
    "add_months",
    "add_offset",
    "chain_base",
    "follow_up",
    "follow_up_key",
    "is_sampled",
    "needs_follow_up",
    "plan_key",
    "plans_for_trigger",
    "routine_due",
    "routine_plans",
    "sample_fraction",
    "satisfies",
    "shift_to_workday",
    "technical_due",
]
