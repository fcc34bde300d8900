"""Office-type presets of the first-start guide (issue 18 item 2): one table, applied through the settings
services and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.schedule import RuleSet
from huifang_desktop.services import complaints, presets, visits
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.services.settings import get_value
from huifang_desktop.storage.models import AuditLog


def test_after_sales_preset_visits_every_repair(ctx: ServiceContext, admin: UserInfo) -> None:
    presets.apply_preset(ctx.as_user(admin), "after_sales")
    rules = visits.load_rules(ctx)
    # 001 篇3 §3 (7): 维修回访率为100%
    assert rules.rule("repair_done").sample_rate == 1.0 and rules.rule("repair_done").enabled
    assert rules.rule("delivery_arrival").enabled and rules.rule("car_2h").enabled
    assert not rules.rule("account_opened").enabled and not rules.rule("event_held").enabled
    # 002 制度3 第五条 质量异常 / 非质量异常; 制度15 第十条 国内 15 / 国外 20 天
    assert complaints.load_policy(ctx).categories == (
        "质量异常",
        "非质量异常",
        "服务态度",
        "专业素质",
        "服务效率",
        "其他",
    )
    assert complaints.load_complaint_rules(ctx).origin_days == {"国内": 15, "国外": 20}
    assert get_value(ctx, visits.INDEPENDENT_KEY) is True  # issue 19 item 7: on in every preset (001 篇11)
    # 000 §1.9: phone from the third visit, 重大 complaints visited on site; 001 §47: refusers again in 7 days
    follow = rules.follow_up
    assert (follow.phone_from_attempt, follow.refused_after_days, follow.on_site_severities) == (
        3,
        7,
        ("重大",),
    )
    with ctx.sessions() as s:
        what = set(s.execute(select(AuditLog.label).where(AuditLog.action == "修改设置")).scalars())
    assert {"回访规则", "投诉规则", "回访人独立性检查"} <= what


def test_property_preset_samples_30_percent_of_repairs(ctx: ServiceContext, admin: UserInfo) -> None:
    presets.apply_preset(ctx.as_user(admin), "property")
    rules = visits.load_rules(ctx)
    # 000 《客户账户备案申请书》如何写六 §1.4: 维修工程处理完毕后一个月内进行回访，回访率达30%; §1.5 活动 10 %
    assert rules.rule("repair_done").sample_rate == 0.3
    assert rules.rule("event_held").sample_rate == 0.1 and rules.rule("event_held").enabled
    assert not rules.rule("delivery_arrival").enabled and not rules.rule("car_2h").enabled
    assert "专业素质" in complaints.load_policy(ctx).categories
    urgent = complaints.load_complaint_rules(ctx).urgent  # 002 制度5 §1, §2, §5: 24 h / 12 h / 2 h
    assert urgent is not None and (urgent.report_hours, urgent.dispatch_hours, urgent.report_back_hours) == (
        24,
        12,
        2,
    )


def test_securities_preset_turns_on_the_independence_check(ctx: ServiceContext, admin: UserInfo) -> None:
    presets.apply_preset(ctx.as_user(admin), "securities")
    assert get_value(ctx, visits.INDEPENDENT_KEY) is True
    assert visits.load_rules(ctx).rule("account_opened").enabled
    assert not visits.load_rules(ctx).rule("repair_done").enabled


@pytest.mark.parametrize("key", presets.PRESET_KEYS)
def test_every_preset_keeps_the_one_independence_switch_over_complaint_closing_visits(
    ctx: ServiceContext, admin: UserInfo, key: str
) -> None:
    """001 篇11 is one setting: a preset sets it, and it covers the complaint closing visit (投诉 among the
    checked types by default); the complaint rules a preset writes carry no switch of their own."""
    presets.apply_preset(ctx.as_user(admin), key)
    assert visits.independence_covers(ctx, "投诉") is presets.preset(key).independent_visitor is True
    assert "independent_closing_visit" not in get_value(ctx, complaints.RULES_KEY, {})


def test_switching_preset_replaces_the_previous_one(ctx: ServiceContext, admin: UserInfo) -> None:
    actx = ctx.as_user(admin)
    presets.apply_preset(actx, "property")
    presets.apply_preset(actx, "after_sales")
    assert visits.load_rules(ctx).rule("repair_done").sample_rate == 1.0
    assert visits.load_rules(ctx).rule("delivery_arrival").enabled


def test_every_preset_names_only_existing_rules() -> None:
    keys = {r.key for r in RuleSet().rules}
    for p in presets.PRESETS:
        assert p.enabled_rules <= keys and set(p.sample_rates) <= keys, p.key
        presets.preset_rules(p, RuleSet())  # every follow-up setting is valid


def test_unknown_preset_and_a_clerk_are_refused(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo
) -> None:
    with pytest.raises(ValidationError, match="办公室类型"):
        presets.apply_preset(ctx.as_user(admin), "bakery")
    with pytest.raises(PermissionDenied):
        presets.apply_preset(ctx.as_user(clerk), "property")
    assert visits.load_rules(ctx).rule("repair_done").sample_rate == 0.3  # the default, untouched
