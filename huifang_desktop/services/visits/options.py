"""Settings keys, plan and record states, and the office's visit rules and options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.schedule import FOLLOW_UP_RULE, ROUTINE_RULE, TECHNICAL_RULE, RuleSet, TriggerKind
from huifang_desktop.domain.visits import PlanState, SatisfactionScale, VisitResult, VisitType
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.policy import load_scale, work_calendar
from huifang_desktop.services.settings import get_value, set_value

RULES_KEY = "visit_rules"
OPTIONS_KEY = "visit_options"
INDEPENDENT_KEY = "independent_visitor"
SCRIPTS_KEY = "phone_scripts"

MANUAL_RULE = "manual"
BIRTHDAY_RULE = "birthday"
REPORT_PENDING = "待审阅"  # the supervisor's review queue picks reports and records in this state
RECORD_PENDING = "待审阅"
RECORD_RETURNED = "退回"
RECORD_SIGNED = "已签字"
RECORD_HISTORY = "历史导入"  # imported from an old Excel ledger: done on paper, never signed in the program
PAGE_SIZE = 500
_KEY_CHUNK = 900  # keys per IN (…) look-up (below SQLite's old 999-parameter limit)
_INSERT_BATCH = 2000  # plans per INSERT … RETURNING

_PENDING = PlanState.PENDING.value
_DONE = PlanState.DONE.value
_CANCELLED = PlanState.CANCELLED.value
_SUCCESS = VisitResult.SUCCESS.value

_BUILTIN_RULE_NAMES = {
    ROUTINE_RULE: "例行回访",
    TECHNICAL_RULE: "技术回访",
    FOLLOW_UP_RULE: "再次回访",
    MANUAL_RULE: "手动安排",
}


# --- options -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitOptions:
    """Office settings of the visit services (key ``visit_options``); every number is a default.

    ``purchase_triggers``: purchase kind (购货/交货) → trigger kind; a customer whose 类别 is one of
    ``end_customer_categories`` gets the end-customer rules (by units) instead. Assumption: an office
    records either orders (购货) or deliveries (交货) per sale, so both start the delivery chain.
    ``independent_visit_types``: the visit types the independence check (setting ``independent_visitor``,
    on by default) applies to — satisfaction (满意度) and complaint-closing (投诉) visits, 001 篇11; with
    投诉 listed it also decides who a complaint's closing visit is planned for (not its handler).
    """

    trigger_lookback_days: int = 90
    birthday_lookahead_days: int = 30
    transfer_hours: int = 24
    purchase_triggers: tuple[tuple[str, str], ...] = (
        ("交货", TriggerKind.DELIVERY.value),
        ("购货", TriggerKind.DELIVERY.value),
    )
    end_customer_categories: tuple[str, ...] = ("终端客户",)
    independent_visit_types: tuple[str, ...] = (VisitType.SATISFACTION.value, VisitType.COMPLAINT.value)
    active_statuses: tuple[str, ...] = ("正常",)
    report_delay_workdays: int = 1

    def __post_init__(self) -> None:
        errors = []
        for name, label in (
            ("trigger_lookback_days", "补排回溯天数"),
            ("birthday_lookahead_days", "生日提前天数"),
            ("transfer_hours", "转交处理时限"),
            ("report_delay_workdays", "报告期限"),
        ):
            if getattr(self, name) < 0:
                errors.append(FieldError(name, label, "不能为负数"))
        for _kind, trigger in self.purchase_triggers:
            if trigger not in {t.value for t in TriggerKind}:
                errors.append(FieldError("purchase_triggers", "购货触发", f"“{trigger}”不是有效的触发事件"))
        if errors:
            raise ValidationError(errors)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["purchase_triggers"] = dict(self.purchase_triggers)
        for key in ("end_customer_categories", "independent_visit_types", "active_statuses"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VisitOptions:
        known = {f.name for f in fields(cls)}
        clean: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key == "purchase_triggers":
                clean[key] = tuple((str(k), str(v)) for k, v in dict(value).items())
            elif isinstance(value, list):
                clean[key] = tuple(str(v) for v in value)
            else:
                clean[key] = value
        return cls(**clean)


def load_rules(ctx: ServiceContext) -> RuleSet:
    data = get_value(ctx, RULES_KEY)
    return RuleSet() if not data else RuleSet.from_dict(data)


def save_rules(ctx: ServiceContext, rules: RuleSet) -> None:
    """Store the office's rule table (supervisor and up; audited by ``set_value``)."""
    ctx.require(Permission.MANAGE_SETTINGS, "修改回访规则")
    set_value(ctx, RULES_KEY, rules.to_dict(), what="回访规则")


def independence_on(ctx: ServiceContext) -> bool:
    """The visitor-independence check (001 篇11): on unless the office switched it off in 设置."""
    return bool(get_value(ctx, INDEPENDENT_KEY, True))


def independence_covers(ctx: ServiceContext, visit_type: str) -> bool:
    """Does the visitor-independence check apply to visits of ``visit_type``? The one office-wide switch
    (``independent_visitor``, 设置 → 回访规则) is on and the type is one of ``independent_visit_types``. For
    complaint (投诉) visits it governs both the record-time check and who a complaint's closing visit is
    planned for (somebody other than the handler, 002 制度5 §5, 制度9): one switch for the one rule."""
    return independence_on(ctx) and visit_type in load_options(ctx).independent_visit_types


def load_options(ctx: ServiceContext) -> VisitOptions:
    data = get_value(ctx, OPTIONS_KEY)
    return VisitOptions() if not data else VisitOptions.from_dict(data)


def save_options(ctx: ServiceContext, options: VisitOptions) -> None:
    ctx.require(Permission.MANAGE_SETTINGS, "修改回访设置")
    set_value(ctx, OPTIONS_KEY, options.to_dict(), what="回访设置")


@dataclass(frozen=True, slots=True)
class _Config:
    rules: RuleSet
    cal: WorkCalendar
    options: VisitOptions
    scale: SatisfactionScale


def _config(ctx: ServiceContext) -> _Config:
    return _Config(load_rules(ctx), work_calendar(ctx), load_options(ctx), load_scale(ctx))


def rule_names(rules: RuleSet) -> dict[str, str]:
    """rule key → Chinese name, for reports and the command line."""
    return {**_BUILTIN_RULE_NAMES, **{r.key: r.name for r in rules.rules}}
