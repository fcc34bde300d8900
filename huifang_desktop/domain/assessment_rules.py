"""The office's 考核 table (domain.md §9; settings key ``assessment_rules``): which events are charged, at what.

By default exactly the five events of *001 §3.1–3.5*, 50 元 each:

* 3.1 交货未回访 — the 到货回访 of a new delivery (the 1–5-day window: ``delivery_rule_keys``, by default only
  ``delivery_arrival``) not made by its due day. The 1-week 使用回访, the 1-month 满意度回访 and the 首保/年检/续保
  reminders are not 3.1 and never charged;
* 3.2 例行回访未按期 — an A/B/C/D routine visit (``routine_rule_keys``: 例行, 技术) not made by its due day;
* 3.3 问题未按时转交 — visit information that had to be passed back (转交部门) not answered within the window
  (24 hours by default);
* 3.4 终端客户台帐未建 — an end customer whose 终端客户信息台帐 entry (the file's 联系人 and 电话, the columns the
  ledger is read by) is still incomplete ``window`` days (5 by default: the 1–5-day 到货回访 is when the
  dealer helps get it, *001 §2.2*) after the customer's first purchase;
* 3.5 终端客户未按时回访 — an end-customer visit (``end_customer_rule_keys``, *001 §2.3–2.4*) not made by its
  due day.

Two older measures stay available, off by default: 回访台账未按时记录 (a day with visits not covered by a
回访报告表 filed on time) and 月度台账未上交 (the month's 回访报告表 not all in by ``monthly_due_day`` of the next
month — *002 制度3* "每月十日前"; the same day is the earliest a manager may confirm the month).

The manager may also charge graded events by hand (``graded``: *002 制度9* — 30–100 元 for poor attitude or
efficiency, 200 元 −5 分, 300 元 −10 分, 1000 元) and turn on ``repeats_double`` (*002 制度1*: a second breach
of the same rule in the month costs double). Corrections of a confirmed month are 考核更正 entries.

Pure: no database, no Qt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError


class EventKind(StrEnum):
    DELIVERY_NOT_VISITED = "交货未回访"  # 001 §3.1
    MISSED_VISIT = "例行回访未按期"  # 001 §3.2
    PROBLEM_NOT_PASSED = "问题未按时转交"  # 001 §3.3
    END_CUSTOMER_LEDGER = "终端客户台帐未建"  # 001 §3.4
    END_CUSTOMER_NOT_VISITED = "终端客户未按时回访"  # 001 §3.5
    LEDGER_NOT_KEPT = "回访台账未按时记录"  # optional
    MONTHLY_LEDGER_MISSING = "月度台账未上交"  # optional
    GRADED = "经理登记考核"  # 002 制度9, entered by hand
    ADJUSTMENT = "考核更正"  # a correction of a confirmed month, shown on the next month

    @property
    def key(self) -> str:
        """Stable settings key (``missed_visit``), independent of the label."""
        return self.name.lower()

    @property
    def ruled(self) -> bool:
        """Charged by a rule of the table (amount per event); GRADED and ADJUSTMENT carry their own amounts."""
        return self not in (EventKind.GRADED, EventKind.ADJUSTMENT)

    @classmethod
    def parse(cls, value: EventKind | str) -> EventKind:
        if isinstance(value, EventKind):
            return value
        text = str(value).strip()
        for kind in cls:
            if text in (kind.value, kind.key, kind.name):
                return kind
        raise ValidationError(FieldError("kind", "考核事项", f"“{value}”不是考核事项"))


RULED_KINDS: tuple[EventKind, ...] = tuple(k for k in EventKind if k.ruled)
RULE_BOOK_KINDS: tuple[EventKind, ...] = RULED_KINDS[:5]  # 001 §3.1–3.5

# What a kind's ``window`` means (label, default); kinds not listed have no window of their own.
WINDOW_SPECS: dict[EventKind, tuple[str, int]] = {
    EventKind.DELIVERY_NOT_VISITED: ("宽限天数", 0),
    EventKind.MISSED_VISIT: ("宽限天数", 0),
    EventKind.PROBLEM_NOT_PASSED: ("回传时限（小时）", 24),
    EventKind.END_CUSTOMER_LEDGER: ("建台帐期限（天）", 5),
    EventKind.END_CUSTOMER_NOT_VISITED: ("宽限天数", 0),
}


def _count(value: Any, field_name: str, label: str, errors: list[FieldError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append(FieldError(field_name, label, "应为不小于 0 的整数"))
        return 0
    return value


@dataclass(frozen=True, slots=True)
class AssessmentRule:
    """One kind of event: 元 and/or performance points per event; a repeat within the month costs
    ``repeat_multiplier`` times as much (1: as the table's ``repeats_double`` says; 2 or more: always).
    ``window``: see :data:`WINDOW_SPECS` (grace days after a plan's due day, hours to pass information back,
    days to complete an end customer's ledger entry)."""

    kind: EventKind
    amount: int = 50
    points: int = 0
    repeat_multiplier: int = 1
    enabled: bool = True
    window: int | None = None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        label = EventKind(self.kind).value
        _count(self.amount, "amount", f"{label}：金额", errors)
        _count(self.points, "points", f"{label}：绩效分", errors)
        if (
            isinstance(self.repeat_multiplier, bool)
            or not isinstance(self.repeat_multiplier, int)
            or self.repeat_multiplier < 1
        ):
            errors.append(FieldError("repeat_multiplier", f"{label}：重复倍数", "应为不小于 1 的整数"))
        if not isinstance(self.enabled, bool):
            errors.append(FieldError("enabled", f"{label}：启用", "应为是或否"))
        if self.window is None:
            object.__setattr__(self, "window", WINDOW_SPECS.get(EventKind(self.kind), ("", 0))[1])
        else:
            _count(self.window, "window", f"{label}：期限", errors)
        if errors:
            raise ValidationError(errors)

    @property
    def days(self) -> int:
        return int(self.window or 0)

    def cost(self, count: int) -> tuple[int, int]:
        """(元, points) for ``count`` events in one month: the first at the base, each repeat times the
        multiplier. A disabled rule costs nothing."""
        if count < 0:
            raise ValidationError(FieldError("count", "次数", "不能为负数"))
        if not self.enabled or count == 0:
            return 0, 0
        factor = 1 + (count - 1) * self.repeat_multiplier
        return self.amount * factor, self.points * factor

    def to_dict(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "points": self.points,
            "repeat_multiplier": self.repeat_multiplier,
            "enabled": self.enabled,
            "window": self.days,
        }


DEFAULT_ASSESSMENT_RULES: tuple[AssessmentRule, ...] = tuple(
    AssessmentRule(kind, enabled=kind in RULE_BOOK_KINDS) for kind in RULED_KINDS
)


@dataclass(frozen=True, slots=True)
class GradedKind:
    """A kind the manager charges by hand (*002 制度9*): an amount between ``min_amount`` and ``max_amount``
    (equal: fixed) and ``points`` deducted."""

    key: str
    label: str
    min_amount: int
    max_amount: int
    points: int = 0

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not str(self.key).strip() or not str(self.label).strip():
            errors.append(FieldError("graded", "登记考核项目", "需要代码和名称"))
        _count(self.min_amount, "graded", f"{self.label}：最低金额", errors)
        _count(self.max_amount, "graded", f"{self.label}：最高金额", errors)
        _count(self.points, "graded", f"{self.label}：绩效分", errors)
        if not errors and self.max_amount < self.min_amount:
            errors.append(FieldError("graded", f"{self.label}：金额", "最高金额不能低于最低金额"))
        if errors:
            raise ValidationError(errors)

    def check_amount(self, amount: int) -> int:
        if (
            isinstance(amount, bool)
            or not isinstance(amount, int)
            or not self.min_amount <= amount <= self.max_amount
        ):
            span = (
                f"{self.min_amount}"
                if self.min_amount == self.max_amount
                else f"{self.min_amount}–{self.max_amount}"
            )
            raise ValidationError(FieldError("amount", "金额", f"“{self.label}”的金额应为 {span} 元"))
        return amount

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "min_amount": self.min_amount,
            "max_amount": self.max_amount,
            "points": self.points,
        }


DEFAULT_GRADED: tuple[GradedKind, ...] = (  # 002 制度9 七、客户投诉处罚与处分 (一)–(四)
    GradedKind("attitude", "服务态度不佳、效率低下", 30, 100),
    GradedKind("skipped_steps", "态度冷淡、擅自减少服务流程", 200, 200, 5),
    GradedKind("denied_complaint", "对投诉事实拒不承认", 300, 300, 10),
    GradedKind("hid_complaint", "隐瞒投诉、延误处理", 1000, 1000),
)


@dataclass(frozen=True, slots=True)
class AssessmentRules:
    """The office's 考核 table (settings key ``assessment_rules``), one rule per ruled :class:`EventKind`.

    ``delivery_rule_keys``: the visit rules whose missed plans are 3.1 (the 1–5-day 到货回访 only);
    ``routine_rule_keys``: 3.2; ``end_customer_rule_keys``: 3.5; ``monthly_due_day``: the day of the next
    month by which the month's 回访报告表 are in ("每月十日前"), the earliest day to confirm the month;
    ``assessed_roles``: whose events are assessed (clerks); ``repeats_double``: *002 制度1*.
    """

    rules: tuple[AssessmentRule, ...] = DEFAULT_ASSESSMENT_RULES
    routine_rule_keys: tuple[str, ...] = ("routine", "technical")
    delivery_rule_keys: tuple[str, ...] = ("delivery_arrival",)
    end_customer_rule_keys: tuple[str, ...] = (
        "end_customer_monthly",
        "end_customer_quarterly",
        "end_customer_few",
    )
    monthly_due_day: int = 10
    assessed_roles: tuple[str, ...] = ("clerk",)
    repeats_double: bool = False
    graded: tuple[GradedKind, ...] = DEFAULT_GRADED

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        kinds = [EventKind(r.kind) for r in self.rules]
        for kind in sorted({k for k in kinds if kinds.count(k) > 1}):
            errors.append(FieldError("rules", "考核规则", f"“{kind.value}”重复"))
        for kind in sorted({k for k in kinds if not k.ruled}):
            errors.append(FieldError("rules", "考核规则", f"“{kind.value}”按登记金额计，不设规则"))
        if (
            isinstance(self.monthly_due_day, bool)
            or not isinstance(self.monthly_due_day, int)
            or not 1 <= self.monthly_due_day <= 28
        ):
            errors.append(FieldError("monthly_due_day", "月度台账上交期限", "应为 1–28 日"))
        if not self.assessed_roles:
            errors.append(FieldError("assessed_roles", "考核对象", "至少需要一个角色"))
        keys = [g.key for g in self.graded]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            errors.append(FieldError("graded", "登记考核项目", f"“{key}”重复"))
        if errors:
            raise ValidationError(errors)

    def rule(self, kind: EventKind | str) -> AssessmentRule:
        """The rule of ``kind``; a kind the office's table lacks is not assessed (disabled, 0 元)."""
        wanted = EventKind.parse(kind)
        for r in self.rules:
            if r.kind is wanted:
                return r
        return AssessmentRule(wanted, amount=0, points=0, enabled=False)

    def multiplier(self, kind: EventKind | str) -> int:
        """What a repeat of ``kind`` within the month costs, times the first."""
        m = self.rule(kind).repeat_multiplier
        return m if m > 1 else (2 if self.repeats_double else 1)

    def graded_kind(self, key: str) -> GradedKind:
        for g in self.graded:
            if key in (g.key, g.label):
                return g
        raise ValidationError(FieldError("graded", "考核项目", f"“{key}”不是登记考核项目"))

    def enabled_kinds(self) -> tuple[EventKind, ...]:
        return tuple(k for k in RULED_KINDS if self.rule(k).enabled)

    def with_rule(self, rule: AssessmentRule) -> AssessmentRules:
        others = tuple(r for r in self.rules if r.kind is not rule.kind)
        ordered = sorted((*others, rule), key=lambda r: list(EventKind).index(r.kind))
        return replace(self, rules=tuple(ordered))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": {EventKind(r.kind).key: r.to_dict() for r in self.rules},
            "routine_rule_keys": list(self.routine_rule_keys),
            "delivery_rule_keys": list(self.delivery_rule_keys),
            "end_customer_rule_keys": list(self.end_customer_rule_keys),
            "monthly_due_day": self.monthly_due_day,
            "assessed_roles": list(self.assessed_roles),
            "repeats_double": self.repeats_double,
            "graded": [g.to_dict() for g in self.graded],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AssessmentRules:
        """From stored settings: a missing entry keeps its default, unknown entries are ignored (so the older
        ``delivery_triggers`` and ``monthly_due_workdays`` give way to the rule book's defaults)."""
        d = cls()
        rules = d.rules
        if "rules" in data:
            raw = data["rules"]
            if not isinstance(raw, Mapping):
                raise ValidationError(FieldError("rules", "考核规则", "格式不对"))
            given: dict[EventKind, AssessmentRule] = {}
            for key, spec in raw.items():
                kind = EventKind.parse(key)
                if not kind.ruled:
                    continue
                if not isinstance(spec, Mapping):
                    raise ValidationError(FieldError("rules", "考核规则", f"“{kind.value}”格式不对"))
                base = d.rule(kind)
                given[kind] = AssessmentRule(
                    kind,
                    amount=spec.get("amount", base.amount),
                    points=spec.get("points", base.points),
                    repeat_multiplier=spec.get("repeat_multiplier", base.repeat_multiplier),
                    enabled=spec.get("enabled", base.enabled),
                    window=spec.get("window", base.window),
                )
            rules = tuple(given.get(k, d.rule(k)) for k in RULED_KINDS)
        graded = d.graded
        if "graded" in data:
            raw_graded = data["graded"]
            if not isinstance(raw_graded, list | tuple):
                raise ValidationError(FieldError("graded", "登记考核项目", "格式不对"))
            graded = tuple(
                GradedKind(
                    str(g.get("key", "")),
                    str(g.get("label", "")),
                    g.get("min_amount", 0),
                    g.get("max_amount", 0),
                    g.get("points", 0),
                )
                for g in raw_graded
                if isinstance(g, Mapping)
            )
        return cls(
            rules=rules,
            routine_rule_keys=tuple(str(k) for k in data.get("routine_rule_keys", d.routine_rule_keys)),
            delivery_rule_keys=tuple(str(k) for k in data.get("delivery_rule_keys", d.delivery_rule_keys)),
            end_customer_rule_keys=tuple(
                str(k) for k in data.get("end_customer_rule_keys", d.end_customer_rule_keys)
            ),
            monthly_due_day=data.get("monthly_due_day", d.monthly_due_day),
            assessed_roles=tuple(str(k) for k in data.get("assessed_roles", d.assessed_roles)),
            repeats_double=bool(data.get("repeats_double", d.repeats_double)),
            graded=graded,
        )


__all__ = [
    "DEFAULT_ASSESSMENT_RULES",
    "DEFAULT_GRADED",
    "RULED_KINDS",
    "RULE_BOOK_KINDS",
    "WINDOW_SPECS",
    "AssessmentRule",
    "AssessmentRules",
    "EventKind",
    "GradedKind",
]
