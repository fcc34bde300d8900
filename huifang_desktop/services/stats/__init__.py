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
  signature hash), and locks the month for good: corrections are :func:`add_adjustment` entries (with a
  reason, audited) shown on the next month.

Settings (JSON, table ``setting``): ``stats_options`` (:class:`StatsOptions`) and ``assessment_rules``
(:class:`AssessmentRules`).

The package: :mod:`.options` (settings, names, titles), :mod:`.rows` (what the screens get), :mod:`.figures`
(the period's counts, complaints, trend, :func:`statistics`), :mod:`.assessment` (the 考核: loads the month's
facts, lets :mod:`huifang_desktop.domain.assessment` count the events, stores and confirms) and
:mod:`.reports` (report tables, charts, .xlsx and PDF). Callers import from the package:
``from huifang_desktop.services import stats; stats.statistics(…)``.
"""

from __future__ import annotations

from huifang_desktop.services.stats.assessment import (
    AssessmentView,
    assessment,
    compute_assessment,
    confirm_assessment,
)
from huifang_desktop.services.stats.assessment import _row_integrity as _row_integrity  # tamper.verify_all
from huifang_desktop.services.stats.assessment_entries import (
    EntryRow,
    add_adjustment,
    add_graded_event,
    list_entries,
)
from huifang_desktop.services.stats.figures import (
    complaint_figures,
    complete_statistics,
    group_rows,
    rule_rows,
    statistics,
    trend,
    visit_totals,
)
from huifang_desktop.services.stats.options import (
    ASSESSMENT_RULES_KEY,
    GROUP_LABELS,
    MONTH_TITLE,
    OPTIONS_KEY,
    QUARTER_TITLE,
    StatsError,
    load_assessment_rules,
    load_stats_options,
    save_assessment_rules,
    save_stats_options,
)
from huifang_desktop.services.stats.reports import (
    build_report,
    export_report,
    export_xlsx,
    report_from,
    report_pdf,
    report_title,
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

__all__ = [
    "ASSESSMENT_RULES_KEY",
    "GROUP_LABELS",
    "MONTH_TITLE",
    "OPTIONS_KEY",
    "QUARTER_TITLE",
    "AssessmentView",
    "ComplaintFigures",
    "EntryRow",
    "GroupRow",
    "RuleRow",
    "ServiceFigures",
    "Statistics",
    "StatsError",
    "TrendPoint",
    "VisitTotals",
    "add_adjustment",
    "add_graded_event",
    "assessment",
    "build_report",
    "complaint_figures",
    "complete_statistics",
    "compute_assessment",
    "confirm_assessment",
    "export_report",
    "export_xlsx",
    "group_rows",
    "list_entries",
    "load_assessment_rules",
    "load_stats_options",
    "report_from",
    "report_pdf",
    "report_title",
    "rule_rows",
    "save_assessment_rules",
    "save_stats_options",
    "statistics",
    "trend",
    "visit_totals",
]
