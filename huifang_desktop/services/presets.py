"""Office-type presets for the first-start guide (初始设置向导): one declarative table, applied through the
existing settings services (each change audited by ``settings.set_value``).

A preset is declarative — one :class:`Preset` per office type, one field (section) per concern — so other
concerns can be added beside these without touching the others. It sets: which visit rules are on and
their sample rates (``visits.save_rules``), the follow-up policy (再次回访: phone from which attempt, refusers
contacted again after how many days, which complaint severities are visited on site), the complaint
categories (``complaints.save_policy``) and the visitor-independence check (``visits.INDEPENDENT_KEY``, on
in every preset, 001 篇11 — the one switch for visit records and complaint closing visits alike; the complaint
rules a preset sets have none of their own). Anything else stays as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.schedule import FollowUpPolicy, RuleSet
from huifang_desktop.services import complaints, visits
from huifang_desktop.services.complaint_presets import _apply_complaint_preset
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.settings import set_value

_DELIVERY = ("delivery_arrival", "delivery_usage", "delivery_satisfaction")
_END_CUSTOMER = ("end_customer_monthly", "end_customer_quarterly", "end_customer_few")
_CAR = (
    "car_2h",
    "car_1_3d",
    "car_7d",
    "car_1m",
    "car_3m",
    "car_first_service",
    "car_inspection",
    "car_insurance",
)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    description: str
    enabled_rules: frozenset[str]  # every other built-in rule is switched off
    sample_rates: Mapping[str, float]  # rule key → share of triggering records visited (0..1)
    complaint_categories: tuple[str, ...]
    independent_visitor: bool = True  # 001 篇11 独立性原则: on unless the office switches it off
    # 再次回访 (FollowUpPolicy fields to set; the rest keep the office's values): 000 §1.9, 001 §47
    follow_up: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


def _rates(**values: Any) -> Mapping[str, Any]:
    return MappingProxyType(dict(values))


PRESETS: tuple[Preset, ...] = (
    Preset(
        "after_sales",
        "售后服务 / 经销商",
        "到货、使用、满意度回访，终端客户回访，汽车交车及首保、年检、续保提醒，维修回访全部回访。",
        frozenset(
            {
                *_DELIVERY,
                *_END_CUSTOMER,
                *_CAR,
                "repair_done",
                "complaint_closed",
                "special_matter",
                "birthday",
            }
        ),
        # 001 篇3 §3 (7) “维修回访率为100%”, (4) “客户投诉的回访率为100%”
        _rates(repair_done=1.0, complaint_closed=1.0),
        # 002 制度3 第五条: 质量异常 / 非质量异常 (complaint section: services/complaint_presets.py)
        ("质量异常", "非质量异常", "服务态度", "专业素质", "服务效率", "其他"),
        # 000 §1.9: phone after the second visit, 第三类 (重大) complaints always on site
        follow_up=_rates(phone_from_attempt=3, refused_after_days=7, on_site_severities=("重大",)),
    ),
    Preset(
        "property",
        "物业管理",
        "维修回访抽 30 %，文体活动回访抽 10 %，投诉处理完毕后回访，专项回访；不用到货和交车回访。",
        frozenset({"repair_done", "complaint_closed", "event_held", "special_matter", "birthday"}),
        # 000 《客户账户备案申请书》如何写六 §1.4 “维修工程处理完毕后一个月内进行回访，回访率达30%”;
        # §1.5 文体活动 “回访率达10%”. §1.3 asks 50 % of closed complaints; closing a complaint here needs its
        # visit (domain.md §7), so every closed complaint is visited (100 % meets the 50 %).
        _rates(repair_done=0.3, event_held=0.1, complaint_closed=1.0),
        # 002 (domain.md §7): 服务态度 / 专业素质 / 服务效率 / 其他; plus 维修 and 收费 of property work
        ("服务态度", "专业素质", "服务效率", "维修", "收费", "其他"),
        follow_up=_rates(phone_from_attempt=3, refused_after_days=7, on_site_severities=("重大",)),
    ),
    Preset(
        "securities",
        "证券营业部",
        "新开户回访、投诉回访、专项回访、活动回访抽 10 %；满意度回访人不得为客户的业务员。",
        frozenset({"account_opened", "complaint_closed", "special_matter", "event_held", "birthday"}),
        _rates(event_held=0.1, complaint_closed=1.0),
        ("服务态度", "专业素质", "服务效率", "收费", "其他"),
        # 001 篇11 (securities; domain.md §1): 回访人不得为该客户的业务员
        independent_visitor=True,
        # 001 §47: refusers are contacted again; 证券 visits are phone visits (呼叫中心)
        follow_up=_rates(phone_from_attempt=2, refused_after_days=3, on_site_severities=()),
    ),
)
PRESET_KEYS = tuple(p.key for p in PRESETS)


def preset(key: str) -> Preset:
    for p in PRESETS:
        if p.key == key:
            return p
    names = "、".join(f"{p.key}（{p.label}）" for p in PRESETS)
    raise ValidationError(FieldError("preset", "办公室类型", f"“{key}”不是可选的类型：{names}"))


def preset_rules(p: Preset, rules: RuleSet) -> RuleSet:
    """``rules`` with the preset's enabled set, sample rates and follow-up settings (other fields of each
    rule unchanged)."""
    out = rules
    if p.follow_up:
        out = replace(out, follow_up=FollowUpPolicy.from_dict({**rules.follow_up.to_dict(), **p.follow_up}))
    for rule in rules.rules:
        enabled = rule.key in p.enabled_rules
        rate = p.sample_rates.get(rule.key, rule.sample_rate)
        if rule.enabled != enabled or rule.sample_rate != rate:
            out = out.with_rule(replace(rule, enabled=enabled, sample_rate=rate))
    return out


def apply_preset(ctx: ServiceContext, key: str) -> Preset:
    """Apply the office-type preset ``key`` through the settings services (each part audited)."""
    ctx.require(Permission.MANAGE_SETTINGS, "应用办公室类型预设")
    p = preset(key)
    visits.save_rules(ctx, preset_rules(p, visits.load_rules(ctx)))
    policy = complaints.load_policy(ctx)
    complaints.save_policy(ctx, replace(policy, categories=p.complaint_categories))
    set_value(ctx, visits.INDEPENDENT_KEY, p.independent_visitor, what="回访人独立性检查")
    _apply_complaint_preset(ctx, p.key)  # categories and complaint rules of the rule books
    return p
