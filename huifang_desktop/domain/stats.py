"""Statistics and the 考核 assessment (domain.md §4, §8, §9): periods, rates against targets, satisfaction
summaries, the assessment rules and their computation from plain counts, and the shape of a report.

Pure domain code: the services count in SQL and hand the counts over; nothing here reads a database.

Periods
-------
A :class:`Period` is a month (``2026-10``), a quarter (``2026Q3``), a year (``2026``) or a custom range
(``2026-10-01..2026-10-15``), inclusive at both ends. :meth:`Period.previous` is the period to compare with:
the month, quarter or year before, or for a custom range the same number of days just before it.

Assessment (考核)
----------------
The office's table (:class:`AssessmentRules`, :class:`EventKind`) lives in
:mod:`huifang_desktop.domain.assessment_rules` (re-exported here): by default the five events of *001 §3.1–3.5*
at 50 元 each. :mod:`huifang_desktop.domain.assessment` decides which facts are charged, one
:class:`ChargedEvent` per charge with its source; :class:`Assessment` is a month's result (each person's lines
and the events), the snapshot a manager confirms. :func:`assess` (counts → amounts) stays for callers with
plain counts.

Reports
-------
:class:`StatsReport` is what the xlsx and PDF writers need: titled tables of plain values
(:class:`ReportTable`, with a format per column) and the charts drawn from them (:class:`ChartSpec`).
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from huifang_desktop.domain.assessment_rules import (  # re-exported: the 考核 table lives there
    DEFAULT_ASSESSMENT_RULES,
    AssessmentRule,
    AssessmentRules,
    EventKind,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.signoff import canonical_json
from huifang_desktop.domain.validation import FIRST_DAY, LAST_DAY
from huifang_desktop.domain.visits import SatisfactionScale
from huifang_desktop.domain.workcal import WorkCalendar

# --- periods -----------------------------------------------------------------------------------------


class PeriodKind(StrEnum):
    MONTH = "月度"
    QUARTER = "季度"
    YEAR = "年度"
    CUSTOM = "自定义"


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period, ``start`` and ``end`` inclusive."""

    kind: PeriodKind
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(FieldError("end", "统计期间", "结束日期不能早于开始日期"))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def key(self) -> str:
        """``2026-10``, ``2026Q3``, ``2026`` or ``2026-10-01..2026-10-15`` (what :func:`parse_period` reads)."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return f"{self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"

    @property
    def label(self) -> str:
        """The period as the reports print it: ``2026年10月``, ``2026年第3季度``, ``2026年``, ``2026-10-01 至 …``."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year}年{self.start.month}月"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        if self.kind is PeriodKind.YEAR:
            return f"{self.start.year}年"
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> Period:
        """The period to compare with: the month/quarter/year before, or the same number of days before."""
        if self.kind is PeriodKind.MONTH:
            return month_period(*_shift_month(self.start.year, self.start.month, -1))
        if self.kind is PeriodKind.QUARTER:
            y, m = _shift_month(self.start.year, self.start.month, -3)
            return quarter_period(y, (m - 1) // 3 + 1)
        if self.kind is PeriodKind.YEAR:
            return year_period(self.start.year - 1)
        return custom_period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def months(self) -> tuple[tuple[int, int], ...]:
        """Every (year, month) the period touches, oldest first."""
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = _shift_month(y, m, 1)
        return tuple(out)


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _check_year(year: int) -> None:
    if not FIRST_DAY.year <= year <= LAST_DAY.year:  # the one date range (validation.parse_date)
        raise ValidationError(
            FieldError(
                "period", "统计期间", f"年份 {year} 无效（应在 {FIRST_DAY.year}–{LAST_DAY.year} 之间）"
            )
        )


def month_period(year: int, month: int) -> Period:
    _check_year(year)
    if not 1 <= month <= 12:
        raise ValidationError(FieldError("period", "统计期间", f"月份 {month} 无效"))
    return Period(
        PeriodKind.MONTH, date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    )


def quarter_period(year: int, quarter: int) -> Period:
    _check_year(year)
    if not 1 <= quarter <= 4:
        raise ValidationError(FieldError("period", "统计期间", f"季度 {quarter} 无效（应为 1–4）"))
    first = 3 * (quarter - 1) + 1
    last = first + 2
    return Period(
        PeriodKind.QUARTER, date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
    )


def year_period(year: int) -> Period:
    _check_year(year)
    return Period(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))


def custom_period(start: date, end: date) -> Period:
    return Period(PeriodKind.CUSTOM, start, end)


def period_containing(kind: PeriodKind | str, day: date) -> Period:
    """The month, quarter or year that contains ``day`` (custom: that day alone)."""
    kind = PeriodKind(kind)
    if kind is PeriodKind.MONTH:
        return month_period(day.year, day.month)
    if kind is PeriodKind.QUARTER:
        return quarter_period(day.year, (day.month - 1) // 3 + 1)
    if kind is PeriodKind.YEAR:
        return year_period(day.year)
    return custom_period(day, day)


_MONTH_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")
_QUARTER_RE = re.compile(r"^(\d{4})[-/ ]?(?:[Qq]|年第?)([1-4])(?:季度?)?$")
_YEAR_RE = re.compile(r"^(\d{4})年?$")
_RANGE_RE = re.compile(r"^(.+?)\s*(?:\.\.|~|～|至|—|到)\s*(.+)$")


def parse_period(text: str, *, field_name: str = "period", label: str = "统计期间") -> Period:
    """``2026-10`` (month), ``2026Q3`` (quarter), ``2026`` (year), ``2026-10-01..2026-10-15`` (custom);
    also ``2026年10月``, ``2026年第3季度``, ``2026-10-01 至 2026-10-15``."""
    from huifang_desktop.domain.validation import parse_date, to_halfwidth

    raw = to_halfwidth(str(text or "")).strip()
    if not raw:
        raise ValidationError(FieldError(field_name, label, "不能为空"))
    compact = raw.replace(" ", "")
    makers: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Period]], ...] = (
        (_MONTH_RE, lambda m: month_period(int(m[1]), int(m[2]))),
        (_QUARTER_RE, lambda m: quarter_period(int(m[1]), int(m[2]))),
        (_YEAR_RE, lambda m: year_period(int(m[1]))),
    )
    for regex, make in makers:
        match = regex.match(compact)
        if match:
            try:
                return make(match)
            except ValidationError as exc:
                raise ValidationError(FieldError(field_name, label, exc.errors[0].message)) from None
    match = _RANGE_RE.match(raw)
    if match:
        start = parse_date(match[1], label=label, field=field_name, required=True)
        end = parse_date(match[2], label=label, field=field_name, required=True)
        assert start is not None and end is not None
        if end < start:
            raise ValidationError(FieldError(field_name, label, "结束日期不能早于开始日期"))
        return custom_period(start, end)
    raise ValidationError(
        FieldError(
            field_name,
            label,
            f"“{text}”无法识别：月份写 2026-10，季度写 2026Q3，年份写 2026，"
            "自定义期间写 2026-10-01..2026-10-15",
        )
    )


def trend_periods(period: Period, months: int) -> tuple[Period, ...]:
    """The ``months`` months ending with the period's last month (at least every month of the period)."""
    if months < 1:
        raise ValidationError(FieldError("trend_months", "趋势月数", "至少为 1"))
    n = max(months, len(period.months()))
    y, m = _shift_month(period.end.year, period.end.month, -(n - 1))
    out = []
    for _ in range(n):
        out.append(month_period(y, m))
        y, m = _shift_month(y, m, 1)
    return tuple(out)


# --- rates -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """``part`` of ``whole`` with an optional target (all ratios: 1.0 = 100 %)."""

    part: int
    whole: int
    target: float | None = None

    def __post_init__(self) -> None:
        if self.part < 0 or self.whole < 0:
            raise ValidationError(FieldError("rate", "比率", "计数不能为负数"))

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def meets_target(self) -> bool | None:
        """None without a target or without anything to count."""
        v = self.value
        if v is None or self.target is None:
            return None
        return v >= self.target - 1e-9

    @property
    def gap(self) -> float | None:
        """value − target (negative: below target)."""
        v = self.value
        return None if v is None or self.target is None else v - self.target


def percent(value: float | None, digits: int = 1) -> str:
    """``0.853`` → ``85.3%``; None → ``—``."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def change(current: float | None, previous: float | None) -> float | None:
    """current − previous (for rates: percentage points as a ratio); None when either is unknown."""
    if current is None or previous is None:
        return None
    return current - previous


def change_text(
    current: float | None, previous: float | None, *, as_percent: bool = False, digits: int = 1
) -> str:
    """``+3.2 个百分点`` / ``-4`` / ``持平`` / ``—``: how the period compares with the one before."""
    diff = change(current, previous)
    if diff is None:
        return "—"
    if as_percent:
        points = round(diff * 100, digits)
        return "持平" if points == 0 else f"{points:+.{digits}f} 个百分点"
    if isinstance(current, int) and isinstance(previous, int):
        return "持平" if diff == 0 else f"{int(diff):+,d}"
    rounded = round(diff, digits)
    return "持平" if rounded == 0 else f"{rounded:+.{digits}f}"


def weighted_target(
    planned_by_rule: Mapping[str, int], targets: Mapping[str, float], default: float = 1.0
) -> float | None:
    """The target 回访率 of a group of plans: each rule's target weighted by its plans."""
    total = sum(planned_by_rule.values())
    if not total:
        return None
    return sum(n * targets.get(key, default) for key, n in planned_by_rule.items()) / total


# --- satisfaction ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SatisfactionSummary:
    """Satisfaction answers of a period or group on the office's scale.

    ``levels``: every level of the scale (best first) with its count, zeros included; ``other``: answers not
    on the current scale (given on a scale the office used before), left out of the rates.
    """

    levels: tuple[tuple[str, int], ...]
    satisfied: int
    other: int = 0
    average: float | None = None  # SatisfactionScale.score: 0..100

    @property
    def answered(self) -> int:
        return sum(n for _k, n in self.levels)

    @property
    def satisfied_rate(self) -> Rate:
        return Rate(self.satisfied, self.answered)

    def share(self, level: str) -> float | None:
        total = self.answered
        return dict(self.levels).get(level, 0) / total if total else None


def summarize_satisfaction(counts: Mapping[str, int], scale: SatisfactionScale) -> SatisfactionSummary:
    """From ``{answer: count}`` (empty answers ignored) to the distribution, 满意率 and average score."""
    on_scale = {lv: int(counts.get(lv, 0)) for lv in scale.levels}
    other = sum(int(n) for k, n in counts.items() if k and k not in on_scale)
    answered = sum(on_scale.values())
    average = (sum(scale.score(lv) * n for lv, n in on_scale.items()) / answered) if answered else None
    satisfied = sum(n for lv, n in on_scale.items() if lv in scale.satisfied)
    return SatisfactionSummary(tuple(on_scale.items()), satisfied, other, average)


# --- statistics options ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatsOptions:
    """Office settings of the statistics (key ``stats_options``); every number is a default.

    ``handling_rate_target``: 处理率 target (100 %, 件件有着落); a complaint counts as handled in the states
    ``handled_states`` and is left out of the rate in ``excluded_states`` (withdrawn). ``service_visit_types``:
    the visit types counted as 售后服务 until the service ledger (domain.md §6) has its own records.
    ``trend_months``: months the trend charts show.
    """

    trend_months: int = 12
    handling_rate_target: float = 1.0
    handled_states: tuple[str, ...] = ("待回访", "已关闭")
    excluded_states: tuple[str, ...] = ("已撤销",)
    service_visit_types: tuple[str, ...] = ("维修",)
    top_clerks: int = 20  # bars of the per-clerk chart

    def __post_init__(self) -> None:
        errors = []
        if (
            isinstance(self.trend_months, bool)
            or not isinstance(self.trend_months, int)
            or not 1 <= self.trend_months <= 60
        ):
            errors.append(FieldError("trend_months", "趋势月数", "应在 1 到 60 之间"))
        if not 0.0 <= float(self.handling_rate_target) <= 1.0:
            errors.append(FieldError("handling_rate_target", "处理率目标", "应在 0 到 1 之间（0 %–100 %）"))
        if not self.handled_states:
            errors.append(FieldError("handled_states", "已处理状态", "至少需要一个状态"))
        if isinstance(self.top_clerks, bool) or not isinstance(self.top_clerks, int) or self.top_clerks < 1:
            errors.append(FieldError("top_clerks", "图表人数", "至少为 1"))
        if errors:
            raise ValidationError(errors)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in ("handled_states", "excluded_states", "service_visit_types"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StatsOptions:
        known = {f.name for f in fields(cls)}
        clean: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            clean[key] = tuple(str(v) for v in value) if isinstance(value, list | tuple) else value
        return cls(**clean)


# --- assessment (考核) -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportSpan:
    """A filed 回访报告表 as the ledger checks see it: the days it covers, the day it was filed, its due day."""

    start: date
    end: date
    filed_on: date
    due_on: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def on_time(self) -> bool:
        return self.filed_on <= self.due_on


def days_without_timely_report(
    visit_days: Iterable[date],
    reports: Iterable[ReportSpan],
    *,
    today: date | None = None,
    due_of: Callable[[date], date] | None = None,
) -> tuple[date, ...]:
    """回访台账未按时记录: the days with visits that no report filed by its due day covers. With ``today``
    and ``due_of`` (a day's report due day), a day whose report is not due yet is not counted."""
    timely = [r for r in reports if r.on_time]
    out = []
    for d in sorted(set(visit_days)):
        if today is not None and due_of is not None and today <= due_of(d):
            continue  # still time to file it
        if not any(r.covers(d) for r in timely):
            out.append(d)
    return tuple(out)


def monthly_ledger_deadline(month: Period, rules: AssessmentRules, cal: WorkCalendar | None = None) -> date:
    """The day the month's 回访报告表 must all be in: ``monthly_due_day`` of the next month ("每月十日前",
    *002 制度3*), a calendar day (``cal`` is not needed; kept for callers that pass it)."""
    nxt = month.end + timedelta(days=1)
    return date(nxt.year, nxt.month, rules.monthly_due_day)


def monthly_ledger_missing(
    visit_days: Iterable[date], reports: Iterable[ReportSpan], deadline: date, today: date
) -> bool:
    """月度台账未上交: after the deadline, some day with visits is not covered by a report filed by then.
    Before the deadline nothing is missing yet."""
    if today <= deadline:
        return False
    filed = [r for r in reports if r.filed_on <= deadline]
    return any(not any(r.covers(d) for r in filed) for d in set(visit_days))


@dataclass(frozen=True, slots=True)
class ChargedEvent:
    """One charged 考核 event and what caused it: ``source`` names the table (``visit_plan``, ``visit_record``,
    ``customer``, ``assessment_entry``, ``visit_report`` or ``""``) and ``source_id`` the row, so the sheet can
    list it and the table's details can open it. ``day``: when the window closed (or the entry's day)."""

    kind: EventKind
    owner_id: int
    day: date
    source: str
    source_id: int | None
    subject: str = ""  # the customer or the record number
    detail: str = ""
    amount: int = 0
    points: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.key,
            "owner_id": self.owner_id,
            "day": self.day.isoformat(),
            "source": self.source,
            "source_id": self.source_id,
            "subject": self.subject,
            "detail": self.detail,
            "amount": self.amount,
            "points": self.points,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChargedEvent:
        sid = d.get("source_id")
        return cls(
            EventKind.parse(d["kind"]),
            int(d["owner_id"]),
            date.fromisoformat(str(d["day"])),
            str(d.get("source", "")),
            int(sid) if sid is not None else None,
            str(d.get("subject", "")),
            str(d.get("detail", "")),
            int(d.get("amount", 0)),
            int(d.get("points", 0)),
        )


@dataclass(frozen=True, slots=True)
class AssessmentLine:
    kind: EventKind
    count: int
    amount: int
    points: int


@dataclass(frozen=True, slots=True)
class ClerkAssessment:
    clerk_id: int
    clerk: str
    department: str
    lines: tuple[AssessmentLine, ...]

    @property
    def count(self) -> int:
        return sum(line.count for line in self.lines)

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def points(self) -> int:
        return sum(line.points for line in self.lines)

    def line(self, kind: EventKind | str) -> AssessmentLine:
        wanted = EventKind.parse(kind)
        for line in self.lines:
            if line.kind is wanted:
                return line
        return AssessmentLine(wanted, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class ClerkEvents:
    """Input of :func:`assess`: one person's event counts of the month."""

    clerk_id: int
    clerk: str
    department: str = ""
    counts: Mapping[EventKind, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Assessment:
    """A month's assessment: each clerk's events, amounts and points under ``rules``."""

    month: str  # Period.key of a month, e.g. "2026-10"
    clerks: tuple[ClerkAssessment, ...]
    rules: AssessmentRules
    computed_at: datetime
    events: tuple[ChargedEvent, ...] = ()  # each charged event with its source (empty in older snapshots)

    @property
    def count(self) -> int:
        return sum(c.count for c in self.clerks)

    def events_of(self, clerk_id: int, kind: EventKind | str | None = None) -> tuple[ChargedEvent, ...]:
        wanted = EventKind.parse(kind) if kind is not None else None
        return tuple(
            e for e in self.events if e.owner_id == clerk_id and (wanted is None or e.kind is wanted)
        )

    @property
    def amount(self) -> int:
        return sum(c.amount for c in self.clerks)

    @property
    def points(self) -> int:
        return sum(c.points for c in self.clerks)

    def kind_totals(self) -> tuple[AssessmentLine, ...]:
        out = []
        for kind in EventKind:
            lines = [c.line(kind) for c in self.clerks]
            out.append(
                AssessmentLine(
                    kind,
                    sum(x.count for x in lines),
                    sum(x.amount for x in lines),
                    sum(x.points for x in lines),
                )
            )
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """The snapshot a manager's confirmation stores and signs (JSON-ready)."""
        return {
            "month": self.month,
            "computed_at": self.computed_at.isoformat(sep=" "),
            "rules": self.rules.to_dict(),
            "clerks": [
                {
                    "clerk_id": c.clerk_id,
                    "clerk": c.clerk,
                    "department": c.department,
                    "lines": [
                        {
                            "kind": line.kind.key,
                            "count": line.count,
                            "amount": line.amount,
                            "points": line.points,
                        }
                        for line in c.lines
                    ],
                }
                for c in self.clerks
            ],
            "events": [e.to_dict() for e in self.events],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assessment:
        clerks = tuple(
            ClerkAssessment(
                int(c["clerk_id"]),
                str(c["clerk"]),
                str(c.get("department", "")),
                tuple(
                    AssessmentLine(
                        EventKind.parse(line["kind"]),
                        int(line["count"]),
                        int(line["amount"]),
                        int(line["points"]),
                    )
                    for line in c["lines"]
                ),
            )
            for c in data["clerks"]
        )
        return cls(
            str(data["month"]),
            clerks,
            AssessmentRules.from_dict(data.get("rules", {})),
            datetime.fromisoformat(str(data["computed_at"])),
            tuple(ChargedEvent.from_dict(e) for e in data.get("events", ())),
        )


def assess(
    month: Period, people: Iterable[ClerkEvents], rules: AssessmentRules, computed_at: datetime
) -> Assessment:
    """Turn each person's counts into amounts and points (:meth:`AssessmentRule.cost`); people in the
    order given, every kind listed (zeros included) so the report's columns line up."""
    if month.kind is not PeriodKind.MONTH:
        raise ValidationError(FieldError("month", "考核月份", "考核按月进行，请选择一个月份"))
    clerks = []
    for person in people:
        lines = []
        for kind in EventKind:
            n = int(person.counts.get(kind, 0))
            amount, points = rules.rule(kind).cost(n)
            lines.append(AssessmentLine(kind, n if rules.rule(kind).enabled else 0, amount, points))
        clerks.append(ClerkAssessment(person.clerk_id, person.clerk, person.department, tuple(lines)))
    return Assessment(month.key, tuple(clerks), rules, computed_at)


ASSESSMENT_HASH_VERSION = 1


def assessment_hash(snapshot: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an assessment snapshot (:meth:`Assessment.to_dict`); with
    :func:`huifang_desktop.domain.signoff.signature_hash` it makes the manager's confirmation tamper-evident."""
    payload = {"v": ASSESSMENT_HASH_VERSION, "kind": "assessment", "fields": dict(snapshot)}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


class AssessmentStatus(StrEnum):
    OPEN = "未确认"
    CONFIRMED = "已确认"
    REOPENED = "已撤回"


# --- the shape of a report ---------------------------------------------------------------------------


class ColumnFormat(StrEnum):
    TEXT = "text"
    INT = "int"
    NUMBER = "number"  # one decimal
    PERCENT = "percent"  # a ratio shown as %
    MONEY = "money"  # 元


TOTAL_LABEL = "合计"  # the label of a table's total row (left out of charts)


class ChartKind(StrEnum):
    BAR = "bar"
    LINE = "line"


@dataclass(frozen=True, slots=True)
class ReportTable:
    """A titled table of plain values (str, int, float, None) with a format per column.

    ``row_formats`` (optional, one per row) overrides the format of the row's non-text columns: a table of
    mixed figures (counts and rates in one 本期 column) says per row what its numbers are.
    """

    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    formats: tuple[ColumnFormat, ...] = ()
    widths: tuple[float, ...] = ()
    note: str = ""
    row_formats: tuple[ColumnFormat, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.headers)
        if self.formats and len(self.formats) != n:
            raise ValueError(f"table {self.key}: {len(self.formats)} formats for {n} columns")
        for row in self.rows:
            if len(row) != n:
                raise ValueError(f"table {self.key}: a row has {len(row)} values for {n} columns")
        if self.row_formats and len(self.row_formats) != len(self.rows):
            raise ValueError(
                f"table {self.key}: {len(self.row_formats)} row formats for {len(self.rows)} rows"
            )

    def format_of(self, column: int) -> ColumnFormat:
        return self.formats[column] if self.formats else ColumnFormat.TEXT

    def format_at(self, row: int, column: int) -> ColumnFormat:
        """The format of one cell: the column's, or for a non-text column the row's when given."""
        base = self.format_of(column)
        if self.row_formats and base is not ColumnFormat.TEXT:
            return self.row_formats[row]
        return base

    def text_rows(self) -> tuple[tuple[str, ...], ...]:
        """Every cell as printed text (:func:`format_cell`)."""
        return tuple(
            tuple(format_cell(v, self.format_at(r, c)) for c, v in enumerate(row))
            for r, row in enumerate(self.rows)
        )

    def column(self, index: int) -> tuple[Any, ...]:
        return tuple(r[index] for r in self.rows)


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """A chart drawn from a table: categories from one column, one series per value column."""

    kind: ChartKind
    title: str
    table: str  # ReportTable.key
    category_column: int
    series_columns: tuple[int, ...]
    percent: bool = False  # values are ratios shown as %
    y_title: str = ""
    limit: int | None = None  # at most this many categories (the first rows of the table)


@dataclass(frozen=True, slots=True)
class StatsReport:
    """Everything a statistics report prints: title, period, key figures, tables and charts."""

    title: str
    period: Period
    company: str
    generated_at: datetime
    tables: tuple[ReportTable, ...]
    charts: tuple[ChartSpec, ...] = ()
    notes: tuple[str, ...] = ()

    def table(self, key: str) -> ReportTable:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    def chart_table(self, chart: ChartSpec) -> ReportTable:
        """The rows a chart draws: its table without the 合计 row, at most ``chart.limit`` rows."""
        table = self.table(chart.table)
        rows = tuple(r for r in table.rows if r[chart.category_column] != TOTAL_LABEL)
        if chart.limit is not None:
            rows = rows[: chart.limit]
        return replace(table, rows=rows, row_formats=())


def format_cell(value: Any, fmt: ColumnFormat | str = ColumnFormat.TEXT) -> str:
    """A value as printed text: ``—`` for a missing rate, ``85.0%``, ``1,250``, ``3.5``."""
    fmt = ColumnFormat(fmt)
    if isinstance(value, str) and not value:
        return ""  # deliberately empty (a figure without a target)
    if value is None:
        return "—" if fmt in (ColumnFormat.PERCENT, ColumnFormat.NUMBER) else ""
    if fmt is ColumnFormat.PERCENT:
        return percent(float(value))
    if fmt is ColumnFormat.NUMBER:
        return f"{float(value):.1f}"
    if fmt in (ColumnFormat.INT, ColumnFormat.MONEY) and isinstance(value, int | float):
        return f"{int(value):,}"
    return str(value)


__all__ = [
    "DEFAULT_ASSESSMENT_RULES",
    "TOTAL_LABEL",
    "Assessment",
    "AssessmentLine",
    "AssessmentRule",
    "AssessmentRules",
    "AssessmentStatus",
    "ChargedEvent",
    "ChartKind",
    "ChartSpec",
    "ClerkAssessment",
    "ClerkEvents",
    "ColumnFormat",
    "EventKind",
    "Period",
    "PeriodKind",
    "Rate",
    "ReportSpan",
    "ReportTable",
    "SatisfactionSummary",
    "StatsOptions",
    "StatsReport",
    "assess",
    "assessment_hash",
    "change",
    "change_text",
    "custom_period",
    "days_without_timely_report",
    "format_cell",
    "month_period",
    "monthly_ledger_deadline",
    "monthly_ledger_missing",
    "parse_period",
    "percent",
    "period_containing",
    "quarter_period",
    "summarize_satisfaction",
    "trend_periods",
    "weighted_target",
    "year_period",
]
