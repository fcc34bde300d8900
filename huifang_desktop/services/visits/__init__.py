"""Return visits (回访): plans, the visit record form, reports, rates (domain.md §3–§5).

The rules live in :mod:`huifang_desktop.domain.schedule` (when a visit is due) and
:mod:`huifang_desktop.domain.visits` (states, scales, numbers, scripts); this module stores and reads.

Planning
--------
* Every plan carries the idempotency key of the rule engine (``VisitPlan.source_key``). Planning inserts a
  plan only when its key is new (``INSERT … ON CONFLICT DO NOTHING`` on top of a key look-up), so running
  the catch-up or a trigger twice never makes a duplicate, and a plan someone moved or cancelled is never
  re-created or touched (moved plans are ``manual``; done and cancelled plans keep their keys).
* Triggers: a purchase or delivery (:func:`plan_purchase_in`, run inside ``customers.add_purchase``'s
  transaction by :func:`huifang_desktop.services.workflow.add_purchase`), any other triggering record
  (:func:`on_trigger`), and the daily catch-up at start
  (:func:`plan_catch_up`): the next routine (例行) and technical (技术) visit per active customer, plans
  for recent purchases (``VisitOptions.trigger_lookback_days``) and upcoming birthdays.
* A routine plan follows the customer's last successful visit: when that moved (another visit happened)
  or the class changed, the catch-up re-dates the still pending, never hand-edited, first-attempt plan.
* Recording a visit that did not reach the customer or left them unsatisfied plans the next attempt
  (:func:`huifang_desktop.domain.schedule.follow_up`), keyed from the plan (``…#2``) or the record.

Settings (JSON, table ``setting``): ``visit_rules`` (:meth:`RuleSet.to_dict`), ``visit_options``
(:class:`VisitOptions`), ``independent_visitor`` (bool: the one visitor-independence switch, for visit
records and complaint closing visits alike), ``phone_scripts`` (type label → questions). The
satisfaction scale and the work calendar are office-wide policy (:mod:`huifang_desktop.services.policy`).

Modules, by workflow: :mod:`.options` (settings keys, states, rules and options), :mod:`.rows` (what the
services take and return), :mod:`.planning` (catch-up, triggers), :mod:`.plans` (the calendar's views and
edits), :mod:`.records` (the 回访记录表), :mod:`.reports` (the 回访报告表), :mod:`.rates` (回访率).
The 回访台账 (tab, file and print) is :mod:`huifang_desktop.services.ledgers`' one definition. This package
imports no other workflow: the steps that cross into one (a purchase plans visits, a closing visit settles
its complaint) are called from :mod:`huifang_desktop.services.workflow`.
"""

from __future__ import annotations

from huifang_desktop.services.visits.followups import close_chain
from huifang_desktop.services.visits.options import (
    BIRTHDAY_RULE,
    INDEPENDENT_KEY,
    MANUAL_RULE,
    OPTIONS_KEY,
    PAGE_SIZE,
    RECORD_HISTORY,
    RECORD_PENDING,
    RECORD_RETURNED,
    RECORD_SIGNED,
    REPORT_PENDING,
    RULES_KEY,
    SCRIPTS_KEY,
    VisitOptions,
    independence_covers,
    independence_on,
    load_options,
    load_rules,
    rule_names,
    save_options,
    save_rules,
)
from huifang_desktop.services.visits.planning import (
    LAST_CATCH_UP_KEY,
    daily_catch_up,
    on_purchase,
    on_trigger,
    plan_catch_up,
    plan_purchase_in,
)
from huifang_desktop.services.visits.plans import (
    add_manual_plan,
    cancel_plan,
    day_counts,
    due_summary,
    get_plan,
    list_plans,
    move_plan,
)
from huifang_desktop.services.visits.rates import PLAN_COUNT_KEYS, PlanCount, plan_counts, rates
from huifang_desktop.services.visits.records import (
    AfterVisit,
    PlannedVisitDone,
    get_record,
    list_records,
    mark_transfer_answered,
    overdue_transfers,
    prefill_record,
    record_visit,
    update_record,
)
from huifang_desktop.services.visits.reports import draft_report, save_report
from huifang_desktop.services.visits.rows import (
    CatchUpResult,
    DayCount,
    ExportError,
    GroupBy,
    MoveResult,
    PlanRow,
    RateRow,
    RecordDraftData,
    ReportDraft,
    ReportProblem,
    ReportRow,
    TransferRow,
    VisitRecordDraft,
    VisitRecordRow,
)

__all__ = [
    "BIRTHDAY_RULE",
    "INDEPENDENT_KEY",
    "LAST_CATCH_UP_KEY",
    "MANUAL_RULE",
    "OPTIONS_KEY",
    "PAGE_SIZE",
    "PLAN_COUNT_KEYS",
    "RECORD_HISTORY",
    "RECORD_PENDING",
    "RECORD_RETURNED",
    "RECORD_SIGNED",
    "REPORT_PENDING",
    "RULES_KEY",
    "SCRIPTS_KEY",
    "AfterVisit",
    "CatchUpResult",
    "DayCount",
    "ExportError",
    "GroupBy",
    "MoveResult",
    "PlanCount",
    "PlanRow",
    "PlannedVisitDone",
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
    "close_chain",
    "daily_catch_up",
    "day_counts",
    "draft_report",
    "due_summary",
    "get_plan",
    "get_record",
    "independence_covers",
    "independence_on",
    "list_plans",
    "list_records",
    "load_options",
    "load_rules",
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
    "update_record",
]
