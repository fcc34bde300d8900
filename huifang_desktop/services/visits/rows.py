"""What the visit services return and take: plain frozen rows and drafts."""

from __future__ import annotations

from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from huifang_desktop.domain.visits import DEFAULT_SCALE, VisitMethod, VisitResult, VisitType
from huifang_desktop.services.errors import ServiceError

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
            "customer_id": self.customer_id,
            "plan_id": self.plan_id,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone,
            "visit_type": self.visit_type,
            "method": self.method,
            "visited_at": self.visited_at,
            "visitor_id": self.visitor_id,
            "result": result,
        }
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
        return {
            "total": self.total,
            "by_type": dict(self.by_type),
            "by_result": dict(self.by_result),
            "satisfaction": dict(self.satisfaction),
            "satisfied": self.satisfied,
            "average_score": self.average_score,
            "scale": self.scale_key,
            "records_with_problems": [p.record_id for p in self.problems],
        }


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
