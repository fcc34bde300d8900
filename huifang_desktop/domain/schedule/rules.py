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

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.visits import VisitMethod, VisitResult, VisitType
from huifang_desktop.domain.workcal import WorkCalendar

_E = TypeVar("_E", bound=StrEnum)


class TriggerKind(StrEnum):
    DELIVERY = "delivery"
    END_CUSTOMER_PURCHASE = "end_customer_purchase"
    REPAIR_DONE = "repair_done"
    COMPLAINT_CLOSED = "complaint_closed"
    EVENT = "event"
    ACCOUNT_OPENED = "account_opened"
    SPECIAL = "special"
    CAR_DELIVERY = "car_delivery"
    BIRTHDAY = "birthday"


TRIGGER_LABELS: Mapping[TriggerKind, str] = {
    TriggerKind.DELIVERY: "到货/交车",
    TriggerKind.END_CUSTOMER_PURCHASE: "终端客户购买",
    TriggerKind.REPAIR_DONE: "维修完成",
    TriggerKind.COMPLAINT_CLOSED: "投诉处理完毕",
    TriggerKind.EVENT: "活动举办",
    TriggerKind.ACCOUNT_OPENED: "新开户",
    TriggerKind.SPECIAL: "专项/异常事项",
    TriggerKind.CAR_DELIVERY: "汽车交车",
    TriggerKind.BIRTHDAY: "客户生日",
}


class Unit(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


UNIT_LABELS: Mapping[Unit, str] = {
    Unit.HOUR: "小时",
    Unit.DAY: "天",
    Unit.WEEK: "周",
    Unit.MONTH: "个月",
    Unit.YEAR: "年",
}


class Anchor(StrEnum):
    """The date a rule's offsets count from."""

    DAY = "day"  # the trigger's day (or moment)
    WARRANTY_END = "warranty_end"  # 三包/质保 end
    FIRST_SERVICE = "first_service"  # 首保 date
    INSPECTION_DUE = "inspection_due"  # 年检 date
    INSURANCE_END = "insurance_end"  # 保险到期
    BIRTHDAY = "birthday"  # the customer's date of birth (yearly rules)


#: the date a rule counts from, as the office says it
ANCHOR_LABELS: Mapping[Anchor, str] = {
    Anchor.DAY: "触发当日",
    Anchor.WARRANTY_END: "质保到期日",
    Anchor.FIRST_SERVICE: "首保日期",
    Anchor.INSPECTION_DUE: "年检日期",
    Anchor.INSURANCE_END: "保险到期日",
    Anchor.BIRTHDAY: "客户生日",
}


class Assignee(StrEnum):
    """Who makes the visit: the record's owner, a supervisor or manager, or decided by severity (§7)."""

    OWNER = "owner"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    BY_SEVERITY = "by_severity"


ASSIGNEE_LABELS: Mapping[Assignee, str] = {
    Assignee.OWNER: "负责人",
    Assignee.SUPERVISOR: "部门主管",
    Assignee.MANAGER: "公司经理",
    Assignee.BY_SEVERITY: "按严重程度",
}

_MAX_OCCURRENCES = 10_000  # safety stop for a repeating rule; the horizon ends real chains long before


# --- small helpers ----------------------------------------------------------------------------------


def _enum(cls: type[_E], value: Any, field_name: str, label: str) -> _E:
    try:
        return cls(value)
    except ValueError:
        raise ValidationError(FieldError(field_name, label, f"“{value}”不是有效的选项")) from None


def _int(value: Any, field_name: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(FieldError(field_name, label, f"“{value}”不是整数"))
    try:
        return int(value)
    except ValueError:
        raise ValidationError(FieldError(field_name, label, f"“{value}”不是整数")) from None


def _rate(value: Any, field_name: str, label: str) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise ValidationError(FieldError(field_name, label, f"“{value}”不是数字")) from None
    if not 0.0 <= rate <= 1.0:
        raise ValidationError(FieldError(field_name, label, "应在 0 到 1 之间（0 %–100 %）"))
    return rate


def add_months(day: date, months: int) -> date:
    """Calendar months; the day is clipped to the month's end (Jan 31 + 1 month → Feb 28 or 29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_first = date(year + (month == 12), month % 12 + 1, 1)
    last = (next_first - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _split(amount: int, unit: Unit) -> tuple[int, int]:
    """An offset as (months, days)."""
    if unit is Unit.MONTH:
        return amount, 0
    if unit is Unit.YEAR:
        return 12 * amount, 0
    if unit is Unit.WEEK:
        return 0, 7 * amount
    if unit is Unit.DAY:
        return 0, amount
    raise ValueError("an hour offset needs a moment, not a date")


def add_offset(day: date, amount: int, unit: Unit | str) -> date:
    """``day`` plus ``amount`` days/weeks/months/years (calendar-correct months)."""
    months, days = _split(amount, Unit(unit))
    return add_months(day, months) + timedelta(days=days)


def shift_to_workday(day: date, cal: WorkCalendar) -> date:
    """A date on a weekend, holiday (节假日) moves to the next working day; 调休 Saturdays are working days."""
    return cal.next_workday(day)


def sample_fraction(rule_key: str, source_key: str, salt: str = "") -> float:
    """A stable number in [0, 1) for (salt, rule, record): the same inputs always give the same number."""
    digest = hashlib.sha256(f"{salt}\x1f{rule_key}\x1f{source_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def is_sampled(rule_key: str, source_key: str, rate: float, salt: str = "") -> bool:
    """Whether a record is in the sample of a rule with ``rate`` (0..1). Reproducible, never random."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    return sample_fraction(rule_key, source_key, salt) < rate


def plan_key(origin: str, rule_key: str, occurrence: int | None = None, attempt: int = 1) -> str:
    """The idempotency key of a plan: ``origin#rule[@occurrence][#attempt]`` (attempt shown from 2 on)."""
    key = f"{origin}#{rule_key}"
    if occurrence is not None:
        key += f"@{occurrence}"
    if attempt > 1:
        key += f"#{attempt}"
    return key


# --- rules ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """When a visit is open: from ``earliest`` to ``due`` units after the rule's anchor date."""

    earliest: int
    due: int
    unit: Unit = Unit.DAY

    def __post_init__(self) -> None:
        if self.earliest > self.due:
            raise ValidationError(FieldError("windows", "回访时限", "最早时间不能晚于到期时间"))

    def to_dict(self) -> dict[str, Any]:
        return {"earliest": self.earliest, "due": self.due, "unit": self.unit.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | list[Any] | tuple[Any, ...]) -> Window:
        """From ``{"earliest", "due", "unit"}`` or a short ``[earliest, due]`` / ``[earliest, due, unit]``."""
        if isinstance(data, list | tuple):
            values = list(data)
            data = {"earliest": values[0], "due": values[1], "unit": values[2] if len(values) > 2 else "day"}
        return cls(
            _int(data["earliest"], "windows", "回访时限"),
            _int(data["due"], "windows", "回访时限"),
            _enum(Unit, data.get("unit", "day"), "windows", "时限单位"),
        )


@dataclass(frozen=True, slots=True)
class VisitRule:
    """One row of the rule table.

    ``windows``: one window per visit; several windows make a fixed series (months 1, 3 and 6).
    ``repeat_every`` > 0 repeats the single window every so many ``repeat_unit`` until ``until`` (an anchor
    name, e.g. the warranty end) or the horizon. ``fallback_months``: when the trigger lacks the ``anchor``
    (or ``until``) date, use the trigger day + that many months; 0 means "no date, no plan" (and no limit
    but the horizon for ``until``). ``min_units`` / ``below_units`` restrict the rule by the trigger's
    units (≥ min, < below). ``who``: :class:`Assignee`; ``by_severity`` uses the rule set's severity map.
    ``sample_rate``: share of triggering records visited; ``target_rate``: the 回访率 the office aims for.
    """

    key: str
    name: str
    trigger: TriggerKind
    windows: tuple[Window, ...]
    visit_type: VisitType
    method: VisitMethod = VisitMethod.PHONE
    who: Assignee = Assignee.OWNER
    sample_rate: float = 1.0
    target_rate: float = 1.0
    enabled: bool = True
    anchor: Anchor = Anchor.DAY
    fallback_months: int = 0
    repeat_every: int = 0
    repeat_unit: Unit = Unit.MONTH
    until: Anchor | None = None
    min_units: int | None = None
    below_units: int | None = None
    shift_to_workday: bool = True

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not self.key or not all(c.isascii() and (c.isalnum() or c == "_") for c in self.key):
            errors.append(FieldError("key", "规则编号", "只能由英文字母、数字和下划线组成"))
        if not self.name.strip():
            errors.append(FieldError("name", "规则名称", "不能为空"))
        if not self.windows:
            errors.append(FieldError("windows", "回访时限", "至少需要一个时限"))
        if self.repeat_every < 0:
            errors.append(FieldError("repeat_every", "重复间隔", "不能为负数"))
        if self.repeat_every and len(self.windows) != 1:
            errors.append(FieldError("windows", "回访时限", "重复的规则只能有一个时限"))
        if self.repeat_every and self.repeat_unit is Unit.HOUR:
            errors.append(FieldError("repeat_unit", "重复单位", "不能按小时重复"))
        if any(w.unit is Unit.HOUR for w in self.windows) and (
            self.anchor is not Anchor.DAY or self.repeat_every
        ):
            errors.append(FieldError("windows", "回访时限", "按小时的时限只能从触发时刻起算，且不能重复"))
        if self.fallback_months < 0:
            errors.append(FieldError("fallback_months", "默认月数", "不能为负数"))
        if not 0.0 <= self.sample_rate <= 1.0:
            errors.append(FieldError("sample_rate", "抽样比例", "应在 0 到 1 之间（0 %–100 %）"))
        if not 0.0 <= self.target_rate <= 1.0:
            errors.append(FieldError("target_rate", "目标回访率", "应在 0 到 1 之间（0 %–100 %）"))
        if self.min_units is not None and self.below_units is not None and self.min_units >= self.below_units:
            errors.append(FieldError("below_units", "数量上限", "应大于数量下限"))
        if errors:
            raise ValidationError(errors)

    def applies_to(self, trigger: Trigger) -> bool:
        if not self.enabled or self.trigger is not trigger.kind:
            return False
        if self.min_units is not None and trigger.units < self.min_units:
            return False
        return self.below_units is None or trigger.units < self.below_units

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "trigger": self.trigger.value,
            "windows": [w.to_dict() for w in self.windows],
            "visit_type": self.visit_type.value,
            "method": self.method.value,
            "who": self.who.value,
            "sample_rate": self.sample_rate,
            "target_rate": self.target_rate,
            "enabled": self.enabled,
            "anchor": self.anchor.value,
            "fallback_months": self.fallback_months,
            "repeat_every": self.repeat_every,
            "repeat_unit": self.repeat_unit.value,
            "until": self.until.value if self.until else None,
            "min_units": self.min_units,
            "below_units": self.below_units,
            "shift_to_workday": self.shift_to_workday,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VisitRule:
        missing = [k for k in ("key", "name", "trigger", "windows", "visit_type") if k not in data]
        if missing:
            raise ValidationError([FieldError(k, "回访规则", "缺少此项") for k in missing])

        def opt_int(name: str, label: str) -> int | None:
            value = data.get(name)
            return None if value is None or value == "" else _int(value, name, label)

        until = data.get("until")
        return cls(
            key=str(data["key"]),
            name=str(data["name"]),
            trigger=_enum(TriggerKind, data["trigger"], "trigger", "触发事件"),
            windows=tuple(Window.from_dict(w) for w in data["windows"]),
            visit_type=_enum(VisitType, data["visit_type"], "visit_type", "回访类型"),
            method=_enum(VisitMethod, data.get("method", VisitMethod.PHONE), "method", "回访方式"),
            who=_enum(Assignee, data.get("who", Assignee.OWNER), "who", "回访人"),
            sample_rate=_rate(data.get("sample_rate", 1.0), "sample_rate", "抽样比例"),
            target_rate=_rate(data.get("target_rate", 1.0), "target_rate", "目标回访率"),
            enabled=bool(data.get("enabled", True)),
            anchor=_enum(Anchor, data.get("anchor", Anchor.DAY), "anchor", "起算日期"),
            fallback_months=_int(data.get("fallback_months", 0), "fallback_months", "默认月数"),
            repeat_every=_int(data.get("repeat_every", 0), "repeat_every", "重复间隔"),
            repeat_unit=_enum(Unit, data.get("repeat_unit", Unit.MONTH), "repeat_unit", "重复单位"),
            until=None if until in (None, "") else _enum(Anchor, until, "until", "截止日期"),
            min_units=opt_int("min_units", "数量下限"),
            below_units=opt_int("below_units", "数量上限"),
            shift_to_workday=bool(data.get("shift_to_workday", True)),
        )


_RETRY_RESULTS = frozenset({VisitResult.NO_ANSWER, VisitResult.UNREACHABLE, VisitResult.CALL_AGAIN})


@dataclass(frozen=True, slots=True)
class FollowUpPolicy:
    """The second, third … visit (再次回访) after an attempt that did not reach or did not satisfy.

    Defaults from 000 §1.9 ("必须进行第二次、第三次甚至更多次的回访，在第二次以后 … 可采用电话"): the second
    visit goes by the same method as the first, from attempt ``phone_from_attempt`` (3) on it may be the
    phone (``phone_method``), and ``max_attempts`` 0 means "until reached or a supervisor closes the chain"
    (a number > 0 stops after that many attempts, the first one counted). ``visit_type`` / ``method`` are
    used only when the earlier plan is not given.

    A refused visit (拒绝): 001 §47 "应积极联系客户，请客户配合完成回访" — the customer is contacted again
    ``refused_after_days`` days later (0: never), at most ``refused_recontacts`` times in a chain; refused
    again after that, the visit counts as failed (回访不通过) and the chain ends.

    ``on_site_severities``: complaint severities whose closing visit is made on site (上门) and never switches
    to the phone (000 §1.9 "不属于第三类投诉的回访可采用电话" — 重大 by default).
    """

    max_attempts: int = 0
    window: Window = Window(1, 3, Unit.DAY)
    phone_from_attempt: int = 3
    phone_method: VisitMethod = VisitMethod.PHONE
    retry_results: frozenset[VisitResult] = _RETRY_RESULTS
    retry_unsatisfied: bool = True
    visit_type: VisitType = VisitType.SATISFACTION
    method: VisitMethod = VisitMethod.PHONE
    refused_after_days: int = 7
    refused_recontacts: int = 1
    on_site_severities: tuple[str, ...] = ("重大",)
    on_site_method: VisitMethod = VisitMethod.ON_SITE

    def __post_init__(self) -> None:
        if self.max_attempts < 0:
            raise ValidationError(
                FieldError("max_attempts", "最多回访次数", "不能为负数（0 表示直到联系上为止）")
            )
        if self.phone_from_attempt < 2:
            raise ValidationError(FieldError("phone_from_attempt", "改电话回访的次数", "至少为 2"))
        if self.window.unit is Unit.HOUR:
            raise ValidationError(FieldError("window", "再次回访时限", "不能按小时计"))
        if self.refused_after_days < 0 or self.refused_recontacts < 0:
            raise ValidationError(FieldError("refused_after_days", "拒绝后再联系", "不能为负数"))

    def allows(self, attempt: int) -> bool:
        """Whether another attempt may follow attempt number ``attempt`` (no limit when max is 0)."""
        return self.max_attempts == 0 or attempt < self.max_attempts

    def closing_method(self, severity: str | None) -> VisitMethod | None:
        """The method a complaint's closing visit must use for ``severity`` (None: the rule's own)."""
        return self.on_site_method if (severity or "").strip() in self.on_site_severities else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "window": self.window.to_dict(),
            "phone_from_attempt": self.phone_from_attempt,
            "phone_method": self.phone_method.value,
            "retry_results": [r.value for r in VisitResult if r in self.retry_results],
            "retry_unsatisfied": self.retry_unsatisfied,
            "visit_type": self.visit_type.value,
            "method": self.method.value,
            "refused_after_days": self.refused_after_days,
            "refused_recontacts": self.refused_recontacts,
            "on_site_severities": list(self.on_site_severities),
            "on_site_method": self.on_site_method.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FollowUpPolicy:
        d = cls()
        return cls(
            max_attempts=_int(data.get("max_attempts", d.max_attempts), "max_attempts", "最多回访次数"),
            window=Window.from_dict(data["window"]) if "window" in data else d.window,
            phone_from_attempt=_int(
                data.get("phone_from_attempt", d.phone_from_attempt), "phone_from_attempt", "改电话回访的次数"
            ),
            phone_method=_enum(
                VisitMethod, data.get("phone_method", d.phone_method), "phone_method", "回访方式"
            ),
            retry_results=frozenset(
                _enum(VisitResult, r, "retry_results", "再次回访的结果")
                for r in data.get("retry_results", d.retry_results)
            ),
            retry_unsatisfied=bool(data.get("retry_unsatisfied", d.retry_unsatisfied)),
            visit_type=_enum(VisitType, data.get("visit_type", d.visit_type), "visit_type", "回访类型"),
            method=_enum(VisitMethod, data.get("method", d.method), "method", "回访方式"),
            refused_after_days=_int(
                data.get("refused_after_days", d.refused_after_days), "refused_after_days", "拒绝后再联系天数"
            ),
            refused_recontacts=_int(
                data.get("refused_recontacts", d.refused_recontacts), "refused_recontacts", "拒绝后再联系次数"
            ),
            on_site_severities=tuple(str(v) for v in data.get("on_site_severities", d.on_site_severities)),
            on_site_method=_enum(
                VisitMethod, data.get("on_site_method", d.on_site_method), "on_site_method", "回访方式"
            ),
        )


def _w(earliest: int, due: int, unit: Unit = Unit.DAY) -> tuple[Window, ...]:
    return (Window(earliest, due, unit),)


_T = TriggerKind
_V = VisitType
DEFAULT_RULES: tuple[VisitRule, ...] = (
    # 到货/交车 (000, 001): 到货回访 within 1–5 days, 使用回访 at 1 week, 满意度回访 at 1 month.
    VisitRule("delivery_arrival", "到货回访", _T.DELIVERY, _w(1, 5), _V.DELIVERY),
    VisitRule("delivery_usage", "使用回访（1周）", _T.DELIVERY, _w(1, 1, Unit.WEEK), _V.USAGE),
    VisitRule(
        "delivery_satisfaction", "满意度回访（1个月）", _T.DELIVERY, _w(1, 1, Unit.MONTH), _V.SATISFACTION
    ),
    # 终端客户 ≥ 5 units (001): monthly until the warranty end, then every 3 months (to the horizon).
    # Assumption: without a recorded warranty end the warranty (三包) runs 12 months from the purchase.
    VisitRule(
        "end_customer_monthly",
        "终端客户（≥5台）每月回访",
        _T.END_CUSTOMER_PURCHASE,
        _w(1, 1, Unit.MONTH),
        _V.USAGE,
        min_units=5,
        repeat_every=1,
        repeat_unit=Unit.MONTH,
        until=Anchor.WARRANTY_END,
        fallback_months=12,
    ),
    VisitRule(
        "end_customer_quarterly",
        "终端客户（≥5台）保修期后每季回访",
        _T.END_CUSTOMER_PURCHASE,
        _w(3, 3, Unit.MONTH),
        _V.USAGE,
        min_units=5,
        anchor=Anchor.WARRANTY_END,
        repeat_every=3,
        repeat_unit=Unit.MONTH,
        fallback_months=12,
    ),
    # 终端客户 < 5 units: months 1, 3 and 6 after the purchase.
    VisitRule(
        "end_customer_few",
        "终端客户（<5台）第1/3/6月回访",
        _T.END_CUSTOMER_PURCHASE,
        (Window(1, 1, Unit.MONTH), Window(3, 3, Unit.MONTH), Window(6, 6, Unit.MONTH)),
        _V.USAGE,
        below_units=5,
    ),
    # 维修完成 (派工单 closed): within 1 month; 30 % as in property offices (after-sales offices set 100 %).
    VisitRule("repair_done", "维修回访", _T.REPAIR_DONE, _w(0, 1, Unit.MONTH), _V.REPAIR, sample_rate=0.3),
    # 投诉处理完毕: within 3 days, every complaint (its closing needs the visit, §7); who by severity.
    VisitRule(
        "complaint_closed", "投诉回访", _T.COMPLAINT_CLOSED, _w(0, 3), _V.COMPLAINT, who=Assignee.BY_SEVERITY
    ),
    VisitRule("event_held", "活动回访", _T.EVENT, _w(0, 1, Unit.MONTH), _V.EVENT, sample_rate=0.1),
    VisitRule("account_opened", "新开户回访", _T.ACCOUNT_OPENED, _w(0, 1, Unit.MONTH), _V.ACCOUNT),
    VisitRule("special_matter", "专项回访", _T.SPECIAL, _w(0, 3), _V.SPECIAL),
    # 汽车交车 (004): 2 hours, 1–3 days, 7 days, 1 month, 3 months; plus 首保, 年检, 续保.
    VisitRule("car_2h", "交车2小时回访", _T.CAR_DELIVERY, _w(0, 2, Unit.HOUR), _V.DELIVERY),
    VisitRule("car_1_3d", "交车1–3天回访", _T.CAR_DELIVERY, _w(1, 3), _V.USAGE),
    VisitRule("car_7d", "交车7天回访", _T.CAR_DELIVERY, _w(7, 7), _V.USAGE),
    VisitRule("car_1m", "交车1个月回访", _T.CAR_DELIVERY, _w(1, 1, Unit.MONTH), _V.SATISFACTION),
    VisitRule("car_3m", "交车3个月回访", _T.CAR_DELIVERY, _w(3, 3, Unit.MONTH), _V.SATISFACTION),
    # 首保 reminder 1–2 weeks before the first service; without a recorded date: 3 months after delivery.
    VisitRule(
        "car_first_service",
        "首保提醒",
        _T.CAR_DELIVERY,
        _w(-14, -7),
        _V.FIRST_SERVICE,
        anchor=Anchor.FIRST_SERVICE,
        fallback_months=3,
    ),
    # 年检 reminder 1–4 weeks before the recorded inspection date; one-off (the date depends on the vehicle,
    # so none is assumed: a new date recorded later is a new trigger).
    VisitRule(
        "car_inspection",
        "年检提醒",
        _T.CAR_DELIVERY,
        _w(-30, -7),
        _V.INSPECTION,
        anchor=Anchor.INSPECTION_DUE,
    ),
    # 续保 reminder 15–30 days before the insurance end, every year; without a date: 1 year after delivery.
    VisitRule(
        "car_insurance",
        "续保提醒",
        _T.CAR_DELIVERY,
        _w(-30, -15),
        _V.INSURANCE,
        anchor=Anchor.INSURANCE_END,
        fallback_months=12,
        repeat_every=1,
        repeat_unit=Unit.YEAR,
    ),
    # 生日: a greeting each year, open 3 days before. Fed by one birthday trigger per customer (so a
    # customer with two cars gets one greeting); the trigger's day is the date planning starts from.
    VisitRule(
        "birthday",
        "生日关怀",
        _T.BIRTHDAY,
        _w(-3, 0),
        _V.BIRTHDAY,
        method=VisitMethod.SMS,
        anchor=Anchor.BIRTHDAY,
        repeat_every=1,
        repeat_unit=Unit.YEAR,
    ),
)

_DEFAULT_ROUTINE_DAYS: tuple[tuple[str, int], ...] = (("A", 10), ("B", 15), ("C", 30), ("VIP", 15))
#: What counts (001 篇1 §1.4, §3.2; domain.md §9): which periodic plans a successful visit of each type completes.
#: Only the routine contact itself (例行: market, technology, quality, price) completes a routine plan, and
#: the technical visit (技术) the A-class technical plan; greetings (生日/节日), reminders (首保/年检/续保),
#: SMS and the event-triggered visits complete only the plan they were recorded against.
_DEFAULT_SATISFIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (VisitType.ROUTINE.value, ("routine",)),
    (VisitType.TECHNICAL.value, ("technical",)),
)
_PERIODIC_KEYS = ("routine", "technical")
_DEFAULT_SEVERITY_WHO: tuple[tuple[str, Assignee], ...] = (
    ("一般", Assignee.OWNER),
    ("重要", Assignee.SUPERVISOR),
    ("重大", Assignee.MANAGER),
)


@lru_cache(maxsize=64)
def _types_satisfying(satisfies: tuple[tuple[str, tuple[str, ...]], ...], rule_key: str) -> frozenset[str]:
    """:meth:`RuleSet.types_satisfying`, once per rule set (the demo's history asks 260,000 times)."""
    return frozenset(vtype for vtype, keys in satisfies if rule_key in keys)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The office's rule table (domain.md §3–§4).

    ``routine_days``: routine visit (例行回访) at least every N days per class; a class not listed (D,
    普通, 小客户 by default) gets no automatic plan. ``technical_months``: technical visit (技术回访) interval
    for ``technical_grades``. ``severity_who``: complaint severity → who makes the closing visit (§7).
    ``horizon_months``: how far repeating chains are planned ahead of their trigger.
    ``satisfies``: visit type → the periodic plans (``routine``, ``technical``) a successful visit of that
    type completes and counts the next one from (see :func:`satisfies`).
    """

    rules: tuple[VisitRule, ...] = DEFAULT_RULES
    routine_days: tuple[tuple[str, int], ...] = _DEFAULT_ROUTINE_DAYS
    routine_method: VisitMethod = VisitMethod.PHONE
    technical_months: int = 3
    technical_grades: tuple[str, ...] = ("A",)
    technical_method: VisitMethod = VisitMethod.ON_SITE
    follow_up: FollowUpPolicy = field(default_factory=FollowUpPolicy)
    severity_who: tuple[tuple[str, Assignee], ...] = _DEFAULT_SEVERITY_WHO
    horizon_months: int = 24
    sampling_salt: str = ""
    satisfies: tuple[tuple[str, tuple[str, ...]], ...] = _DEFAULT_SATISFIES

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        types = {t.value for t in VisitType}
        for vtype, plan_keys in self.satisfies:
            if vtype not in types:
                errors.append(FieldError("satisfies", "计入哪些计划", f"“{vtype}”不是回访类型"))
            for key in plan_keys:
                if key not in _PERIODIC_KEYS:
                    errors.append(FieldError("satisfies", "计入哪些计划", f"“{key}”不是例行或技术回访计划"))
        keys = [r.key for r in self.rules]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            errors.append(FieldError("rules", "回访规则", f"规则编号“{key}”重复"))
        for grade, days in self.routine_days:
            if days < 1:
                errors.append(FieldError("routine_days", "例行回访间隔", f"{grade} 类至少为 1 天"))
        if self.technical_months < 1:
            errors.append(FieldError("technical_months", "技术回访间隔", "至少为 1 个月"))
        if self.horizon_months < 1:
            errors.append(FieldError("horizon_months", "计划范围", "至少为 1 个月"))
        if errors:
            raise ValidationError(errors)

    @classmethod
    def default(cls) -> RuleSet:
        return cls()

    def rule(self, key: str) -> VisitRule:
        for r in self.rules:
            if r.key == key:
                return r
        raise KeyError(key)

    def rules_for(self, kind: TriggerKind | str) -> tuple[VisitRule, ...]:
        kind = TriggerKind(kind)
        return tuple(r for r in self.rules if r.trigger is kind)

    def with_rule(self, rule: VisitRule) -> RuleSet:
        """A copy with ``rule`` replacing the rule of the same key (or added at the end)."""
        if any(r.key == rule.key for r in self.rules):
            return replace(self, rules=tuple(rule if r.key == rule.key else r for r in self.rules))
        return replace(self, rules=(*self.rules, rule))

    def routine_interval(self, grade: str | None) -> int | None:
        """Days between routine visits for a class, or None (no automatic plan)."""
        wanted = (grade or "").strip().upper()
        for g, days in self.routine_days:
            if g.upper() == wanted:
                return days
        return None

    def types_satisfying(self, rule_key: str) -> frozenset[str]:
        """The visit types whose successful visit completes a ``routine`` / ``technical`` plan."""
        try:
            return _types_satisfying(self.satisfies, rule_key)
        except TypeError:  # built by hand with lists (unhashable): worked out each time
            return frozenset(vtype for vtype, keys in self.satisfies if rule_key in keys)

    def who_for_severity(self, severity: str | None) -> Assignee:
        for sev, who in self.severity_who:
            if sev == (severity or "").strip():
                return who
        return Assignee.OWNER

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; :meth:`from_dict` gives back an equal rule set."""
        return {
            "rules": [r.to_dict() for r in self.rules],
            "routine_days": dict(self.routine_days),
            "routine_method": self.routine_method.value,
            "technical_months": self.technical_months,
            "technical_grades": list(self.technical_grades),
            "technical_method": self.technical_method.value,
            "follow_up": self.follow_up.to_dict(),
            "severity_who": {sev: who.value for sev, who in self.severity_who},
            "horizon_months": self.horizon_months,
            "sampling_salt": self.sampling_salt,
            "satisfies": {vtype: list(keys) for vtype, keys in self.satisfies},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        """From a stored dict; a missing entry keeps its default, unknown entries are ignored."""
        d = cls()
        rules = tuple(VisitRule.from_dict(r) for r in data["rules"]) if "rules" in data else d.rules
        routine = d.routine_days
        if "routine_days" in data:
            routine = tuple(
                (str(g), _int(n, "routine_days", "例行回访间隔")) for g, n in data["routine_days"].items()
            )
        severity = d.severity_who
        if "severity_who" in data:
            severity = tuple(
                (str(s), _enum(Assignee, w, "severity_who", "回访人"))
                for s, w in data["severity_who"].items()
            )
        satisfies = d.satisfies
        if "satisfies" in data:
            satisfies = tuple((str(t), tuple(str(k) for k in keys)) for t, keys in data["satisfies"].items())
        return cls(
            rules=rules,
            routine_days=routine,
            satisfies=satisfies,
            routine_method=_enum(
                VisitMethod, data.get("routine_method", d.routine_method), "routine_method", "回访方式"
            ),
            technical_months=_int(
                data.get("technical_months", d.technical_months), "technical_months", "技术回访间隔"
            ),
            technical_grades=tuple(str(g) for g in data.get("technical_grades", d.technical_grades)),
            technical_method=_enum(
                VisitMethod, data.get("technical_method", d.technical_method), "technical_method", "回访方式"
            ),
            follow_up=FollowUpPolicy.from_dict(data["follow_up"]) if "follow_up" in data else d.follow_up,
            severity_who=severity,
            horizon_months=_int(data.get("horizon_months", d.horizon_months), "horizon_months", "计划范围"),
            sampling_salt=str(data.get("sampling_salt", d.sampling_salt)),
        )


# --- the record a rule applies to ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trigger:
    """One triggering record. ``source_key`` is unique for it (``"delivery:123"``); ``day`` or ``moment``
    (needed for hour rules) says when it happened. For a birthday trigger ``day`` is the date planning
    starts from and ``customer_birthday`` the date of birth."""

    kind: TriggerKind
    source_key: str
    day: date | None = None
    moment: datetime | None = None
    units: int = 0
    warranty_end: date | None = None
    severity: str | None = None
    customer_birthday: date | None = None
    first_service_day: date | None = None
    inspection_due: date | None = None
    insurance_end: date | None = None

    def __post_init__(self) -> None:
        if not self.source_key.strip() or "#" in self.source_key:
            raise ValidationError(FieldError("source_key", "来源记录", "不能为空，也不能含“#”"))
        if self.day is None and self.moment is None:
            raise ValidationError(FieldError("day", "触发日期", "不能为空"))
        if self.units < 0:
            raise ValidationError(FieldError("units", "数量", "不能为负数"))

    @property
    def start(self) -> date:
        if self.day is not None:
            return self.day
        assert self.moment is not None
        return self.moment.date()

    def anchor_date(self, anchor: Anchor) -> date | None:
        return {
            Anchor.DAY: self.start,
            Anchor.WARRANTY_END: self.warranty_end,
            Anchor.FIRST_SERVICE: self.first_service_day,
            Anchor.INSPECTION_DUE: self.inspection_due,
            Anchor.INSURANCE_END: self.insurance_end,
            Anchor.BIRTHDAY: self.customer_birthday,
        }[anchor]
