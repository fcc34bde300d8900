"""What the statistics screens and reports get: a period's figures as plain rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from huifang_desktop.domain.stats import Period, Rate, SatisfactionSummary
from huifang_desktop.domain.visits import SatisfactionScale

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
        return (
            self.previous_totals is not None
            and self.previous_complaints is not None
            and self.previous_services is not None
        )
