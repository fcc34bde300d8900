import json
from dataclasses import replace
from datetime import date, datetime

import pytest

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.schedule import (
    DEFAULT_RULES,
    Anchor,
    Assignee,
    FollowUpPolicy,
    PlannedVisit,
    RuleSet,
    Trigger,
    TriggerKind,
    Unit,
    VisitRule,
    Window,
    add_months,
    add_offset,
    follow_up,
    is_sampled,
    plan_key,
    plans_for_trigger,
    routine_due,
    routine_plans,
    sample_fraction,
    shift_to_workday,
    technical_due,
)
from huifang_desktop.domain.visits import VisitMethod, VisitResult, VisitType
from huifang_desktop.domain.workcal import WorkCalendar

RULES = RuleSet.default()


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.china()


def dues(plans: list[PlannedVisit]) -> dict[str, tuple[date, date]]:
    return {p.source_key: (p.earliest, p.due) for p in plans}


# --- the calendar facts the tests rely on, checked rather than assumed ---------------------------------


def test_calendar_2026_spring_festival_and_national_day(cal):
    assert cal.covers(2026)
    assert all(not cal.is_workday(date(2026, 2, d)) for d in range(15, 24))  # 春节 Feb 15–23
    assert cal.is_workday(date(2026, 2, 14)) and date(2026, 2, 14).weekday() == 5  # 调休 Saturday
    assert cal.is_workday(date(2026, 2, 28)) and date(2026, 2, 28).weekday() == 5  # 调休 Saturday
    assert cal.is_workday(date(2026, 2, 24))
    assert all(not cal.is_workday(date(2026, 10, d)) for d in range(1, 8))  # 国庆 Oct 1–7
    assert cal.is_workday(date(2026, 10, 8))
    assert cal.is_workday(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6  # 调休 Sunday


def test_shift_to_workday_across_holidays(cal):
    assert shift_to_workday(date(2026, 2, 15), cal) == date(2026, 2, 24)
    assert shift_to_workday(date(2026, 2, 14), cal) == date(2026, 2, 14)
    assert shift_to_workday(date(2026, 10, 3), cal) == date(2026, 10, 8)
    assert shift_to_workday(date(2026, 10, 11), cal) == date(2026, 10, 12)


# --- month arithmetic ----------------------------------------------------------------------------------


def test_add_months_clips_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 31), 2) == date(2026, 3, 31)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)


def test_add_offset_units():
    assert add_offset(date(2026, 1, 31), 1, Unit.WEEK) == date(2026, 2, 7)
    assert add_offset(date(2026, 1, 31), -3, "day") == date(2026, 1, 28)
    assert add_offset(date(2028, 2, 29), 1, Unit.YEAR) == date(2029, 2, 28)
    with pytest.raises(ValueError):
        add_offset(date(2026, 1, 1), 2, Unit.HOUR)


# --- the default rule table ----------------------------------------------------------------------------


def test_default_rules_cover_the_domain_table():
    by_key = {r.key: r for r in RULES.rules}
    assert set(by_key) == {
        "delivery_arrival",
        "delivery_usage",
        "delivery_satisfaction",
        "end_customer_monthly",
        "end_customer_quarterly",
        "end_customer_few",
        "repair_done",
        "complaint_closed",
        "event_held",
        "account_opened",
        "special_matter",
        "car_2h",
        "car_1_3d",
        "car_7d",
        "car_1m",
        "car_3m",
        "car_first_service",
        "car_inspection",
        "car_insurance",
        "birthday",
    }
    assert by_key["delivery_arrival"].windows == (Window(1, 5, Unit.DAY),)
    assert by_key["delivery_usage"].windows == (Window(1, 1, Unit.WEEK),)
    assert by_key["delivery_satisfaction"].windows == (Window(1, 1, Unit.MONTH),)
    assert by_key["end_customer_few"].windows == tuple(Window(m, m, Unit.MONTH) for m in (1, 3, 6))
    assert by_key["repair_done"].sample_rate == 0.3
    assert by_key["complaint_closed"].sample_rate == 1.0
    assert by_key["complaint_closed"].who is Assignee.BY_SEVERITY
    assert by_key["event_held"].sample_rate == 0.1
    assert by_key["special_matter"].windows == (Window(0, 3, Unit.DAY),)
    assert by_key["car_2h"].windows == (Window(0, 2, Unit.HOUR),)
    assert all(r.enabled and r.target_rate == 1.0 for r in RULES.rules)
    assert RuleSet.default() == RuleSet(rules=DEFAULT_RULES)


def test_routine_defaults_by_class():
    assert RULES.routine_interval("A") == 10
    assert RULES.routine_interval("B") == 15
    assert RULES.routine_interval("C") == 30
    assert RULES.routine_interval("VIP") == 15
    assert RULES.routine_interval("vip") == 15
    assert RULES.routine_interval("D") is None
    assert RULES.routine_interval(None) is None
    assert RULES.technical_months == 3 and RULES.technical_grades == ("A",)


def test_delivery_chain_across_spring_festival(cal):
    plans = plans_for_trigger(Trigger(TriggerKind.DELIVERY, "delivery:123", date(2026, 2, 10)), RULES, cal)
    assert [(p.rule_key, p.visit_type) for p in plans] == [
        ("delivery_arrival", VisitType.DELIVERY),
        ("delivery_usage", VisitType.USAGE),
        ("delivery_satisfaction", VisitType.SATISFACTION),
    ]
    assert dues(plans) == {
        "delivery:123#delivery_arrival": (date(2026, 2, 11), date(2026, 2, 24)),  # Feb 15 holiday
        "delivery:123#delivery_usage": (date(2026, 2, 24), date(2026, 2, 24)),  # Feb 17 holiday
        "delivery:123#delivery_satisfaction": (date(2026, 3, 10), date(2026, 3, 10)),
    }
    assert all(p.method is VisitMethod.PHONE and p.who is Assignee.OWNER and p.attempt == 1 for p in plans)
    assert all(p.origin == "delivery:123" for p in plans)


def test_delivery_month_end_lands_on_tiaoxiu_saturday(cal):
    plans = plans_for_trigger(Trigger(TriggerKind.DELIVERY, "delivery:9", date(2026, 1, 31)), RULES, cal)
    satisfaction = next(p for p in plans if p.rule_key == "delivery_satisfaction")
    assert satisfaction.due == date(2026, 2, 28)  # Jan 31 + 1 month, a 调休 working Saturday


def test_end_customer_five_units_monthly_then_quarterly(cal):
    trigger = Trigger(
        TriggerKind.END_CUSTOMER_PURCHASE,
        "purchase:5",
        date(2026, 1, 31),
        units=5,
        warranty_end=date(2026, 7, 31),
    )
    plans = plans_for_trigger(trigger, RULES, cal)
    monthly = [p.due for p in plans if p.rule_key == "end_customer_monthly"]
    quarterly = [p.due for p in plans if p.rule_key == "end_customer_quarterly"]
    assert monthly == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 6, 1),
        date(2026, 6, 30),
        date(2026, 7, 31),
    ]
    assert quarterly == [
        date(2026, 11, 2),
        date(2027, 2, 1),
        date(2027, 4, 30),
        date(2027, 8, 2),
        date(2027, 11, 1),
        date(2028, 1, 31),
    ]
    assert [p.source_key for p in plans[:2]] == [
        "purchase:5#end_customer_monthly@1",
        "purchase:5#end_customer_monthly@2",
    ]
    assert not any(p.rule_key == "end_customer_few" for p in plans)


def test_end_customer_horizon_bounds_the_chain(cal):
    trigger = Trigger(
        TriggerKind.END_CUSTOMER_PURCHASE,
        "purchase:5",
        date(2026, 1, 31),
        units=8,
        warranty_end=date(2026, 7, 31),
    )
    plans = plans_for_trigger(trigger, RULES, cal, horizon=date(2027, 1, 31))
    assert [p.occurrence for p in plans if p.rule_key == "end_customer_quarterly"] == [1, 2]
    assert plans[-1].due == date(2027, 2, 1)
    shorter = plans_for_trigger(trigger, replace(RULES, horizon_months=6), cal)
    assert [p.rule_key for p in shorter] == ["end_customer_monthly"] * 6


def test_end_customer_without_warranty_end_assumes_twelve_months(cal):
    trigger = Trigger(TriggerKind.END_CUSTOMER_PURCHASE, "purchase:6", date(2026, 3, 10), units=20)
    plans = plans_for_trigger(trigger, RULES, cal)
    assert sum(p.rule_key == "end_customer_monthly" for p in plans) == 12
    assert sum(p.rule_key == "end_customer_quarterly" for p in plans) == 4


def test_end_customer_under_five_units_months_1_3_6(cal):
    trigger = Trigger(TriggerKind.END_CUSTOMER_PURCHASE, "purchase:7", date(2026, 1, 31), units=4)
    plans = plans_for_trigger(trigger, RULES, cal)
    assert [(p.source_key, p.due) for p in plans] == [
        ("purchase:7#end_customer_few@1", date(2026, 2, 28)),
        ("purchase:7#end_customer_few@2", date(2026, 4, 30)),
        ("purchase:7#end_customer_few@3", date(2026, 7, 31)),
    ]


def _sampled_key(rule_key: str, prefix: str, wanted: bool, rate: float) -> str:
    for n in range(1000):
        key = f"{prefix}:{n}"
        if is_sampled(rule_key, key, rate) is wanted:
            return key
    raise AssertionError("no key found")


def test_repair_done_sampled_within_one_month(cal):
    chosen = _sampled_key("repair_done", "repair", True, 0.3)
    skipped = _sampled_key("repair_done", "repair", False, 0.3)
    plans = plans_for_trigger(Trigger(TriggerKind.REPAIR_DONE, chosen, date(2026, 1, 31)), RULES, cal)
    assert [(p.visit_type, p.earliest, p.due) for p in plans] == [
        (VisitType.REPAIR, date(2026, 2, 2), date(2026, 2, 28))
    ]
    assert plans_for_trigger(Trigger(TriggerKind.REPAIR_DONE, skipped, date(2026, 1, 31)), RULES, cal) == []
    everyone = RULES.with_rule(replace(RULES.rule("repair_done"), sample_rate=1.0))
    assert (
        len(plans_for_trigger(Trigger(TriggerKind.REPAIR_DONE, skipped, date(2026, 1, 31)), everyone, cal))
        == 1
    )


@pytest.mark.parametrize(
    ("severity", "who"),
    [
        ("一般", Assignee.OWNER),
        ("重要", Assignee.SUPERVISOR),
        ("重大", Assignee.MANAGER),
        (None, Assignee.OWNER),
    ],
)
def test_complaint_closed_within_three_days_by_severity(cal, severity, who):
    trigger = Trigger(TriggerKind.COMPLAINT_CLOSED, "complaint:4", date(2026, 9, 30), severity=severity)
    [plan] = plans_for_trigger(trigger, RULES, cal)
    assert (plan.visit_type, plan.who) == (VisitType.COMPLAINT, who)
    assert (plan.earliest, plan.due) == (date(2026, 9, 30), date(2026, 10, 8))  # Oct 3 is 国庆


def test_event_held_ten_percent_sample(cal):
    chosen = _sampled_key("event_held", "event", True, 0.1)
    [plan] = plans_for_trigger(Trigger(TriggerKind.EVENT, chosen, date(2026, 4, 15)), RULES, cal)
    assert (plan.visit_type, plan.earliest, plan.due) == (
        VisitType.EVENT,
        date(2026, 4, 15),
        date(2026, 5, 15),
    )
    picked = sum(
        bool(plans_for_trigger(Trigger(TriggerKind.EVENT, f"event:{n}", date(2026, 4, 15)), RULES, cal))
        for n in range(2000)
    )
    assert 140 <= picked <= 260


def test_account_opened_within_one_month_over_national_day(cal):
    [plan] = plans_for_trigger(Trigger(TriggerKind.ACCOUNT_OPENED, "account:1", date(2026, 9, 1)), RULES, cal)
    assert (plan.visit_type, plan.due) == (VisitType.ACCOUNT, date(2026, 10, 8))


def test_special_matter_within_three_days(cal):
    [plan] = plans_for_trigger(Trigger(TriggerKind.SPECIAL, "special:1", date(2026, 2, 12)), RULES, cal)
    assert (plan.visit_type, plan.earliest, plan.due) == (
        VisitType.SPECIAL,
        date(2026, 2, 12),
        date(2026, 2, 24),
    )


def test_car_delivery_chain(cal):
    trigger = Trigger(
        TriggerKind.CAR_DELIVERY,
        "car:88",
        moment=datetime(2026, 2, 13, 17, 0),
        inspection_due=date(2026, 10, 20),
    )
    plans = {p.source_key: p for p in plans_for_trigger(trigger, RULES, cal)}
    assert plans["car:88#car_2h"].due_at == datetime(2026, 2, 13, 19, 0)
    assert (plans["car:88#car_2h"].due, plans["car:88#car_2h"].visit_type) == (
        date(2026, 2, 13),
        VisitType.DELIVERY,
    )
    assert dues(list(plans.values())) == {
        "car:88#car_2h": (date(2026, 2, 13), date(2026, 2, 13)),
        "car:88#car_1_3d": (date(2026, 2, 14), date(2026, 2, 24)),  # opens on the 调休 Saturday
        "car:88#car_7d": (date(2026, 2, 24), date(2026, 2, 24)),
        "car:88#car_1m": (date(2026, 3, 13), date(2026, 3, 13)),
        "car:88#car_3m": (date(2026, 5, 13), date(2026, 5, 13)),
        "car:88#car_first_service": (date(2026, 4, 29), date(2026, 5, 6)),  # 3 months assumed
        "car:88#car_inspection": (date(2026, 9, 20), date(2026, 10, 13)),  # Sep 20: 调休 Sunday
        "car:88#car_insurance@1": (date(2027, 1, 14), date(2027, 1, 29)),
        "car:88#car_insurance@2": (date(2028, 1, 14), date(2028, 1, 31)),
    }
    assert plans["car:88#car_first_service"].visit_type is VisitType.FIRST_SERVICE
    assert plans["car:88#car_inspection"].visit_type is VisitType.INSPECTION
    assert plans["car:88#car_insurance@1"].visit_type is VisitType.INSURANCE


def test_car_recorded_dates_and_no_inspection_without_date(cal):
    trigger = Trigger(
        TriggerKind.CAR_DELIVERY,
        "car:89",
        date(2026, 3, 2),
        first_service_day=date(2026, 9, 1),
        insurance_end=date(2026, 12, 31),
    )
    plans = {p.rule_key: p for p in plans_for_trigger(trigger, RULES, cal)}
    assert "car_inspection" not in plans
    assert plans["car_first_service"].due == date(2026, 8, 25)
    insurance = [p.due for p in plans_for_trigger(trigger, RULES, cal) if p.rule_key == "car_insurance"]
    assert insurance == [date(2026, 12, 16), date(2027, 12, 16)]
    assert plans["car_2h"].due == date(2026, 3, 2) and plans["car_2h"].due_at is None


def test_car_two_hours_into_a_holiday_moves_to_next_workday(cal):
    trigger = Trigger(TriggerKind.CAR_DELIVERY, "car:90", moment=datetime(2026, 9, 30, 23, 0))
    plan = next(p for p in plans_for_trigger(trigger, RULES, cal) if p.rule_key == "car_2h")
    assert (plan.earliest, plan.due, plan.due_at) == (date(2026, 9, 30), date(2026, 10, 8), None)


def test_birthday_yearly_including_leap_day(cal):
    trigger = Trigger(
        TriggerKind.BIRTHDAY, "customer:3", date(2026, 3, 1), customer_birthday=date(1988, 2, 29)
    )
    plans = plans_for_trigger(trigger, RULES, cal)
    assert [(p.earliest, p.due) for p in plans] == [
        (date(2027, 2, 25), date(2027, 3, 1)),  # Feb 28 2027 is a Sunday
        (date(2028, 2, 28), date(2028, 2, 29)),
    ]
    assert all(p.visit_type is VisitType.BIRTHDAY and p.method is VisitMethod.SMS for p in plans)
    no_birthday = Trigger(TriggerKind.BIRTHDAY, "customer:4", date(2026, 3, 1))
    assert plans_for_trigger(no_birthday, RULES, cal) == []


def test_disabled_rule_plans_nothing(cal):
    rules = RULES.with_rule(replace(RULES.rule("special_matter"), enabled=False))
    assert plans_for_trigger(Trigger(TriggerKind.SPECIAL, "special:1", date(2026, 2, 12)), rules, cal) == []


def test_rule_may_keep_due_on_non_workday(cal):
    rules = RULES.with_rule(replace(RULES.rule("special_matter"), shift_to_workday=False))
    [plan] = plans_for_trigger(Trigger(TriggerKind.SPECIAL, "special:1", date(2026, 2, 12)), rules, cal)
    assert plan.due == date(2026, 2, 15)


# --- calendars beyond the known years -----------------------------------------------------------------


def test_weekends_only_beyond_known_years(cal):
    assert not cal.covers(2031)
    plans = plans_for_trigger(Trigger(TriggerKind.DELIVERY, "delivery:2031", date(2031, 9, 30)), RULES, cal)
    assert dues(plans) == {
        "delivery:2031#delivery_arrival": (date(2031, 10, 1), date(2031, 10, 6)),  # Oct 5 is a Sunday
        "delivery:2031#delivery_usage": (date(2031, 10, 7), date(2031, 10, 7)),  # 国庆 not known: kept
        "delivery:2031#delivery_satisfaction": (date(2031, 10, 30), date(2031, 10, 30)),
    }
    assert plans == plans_for_trigger(
        Trigger(TriggerKind.DELIVERY, "delivery:2031", date(2031, 9, 30)), RULES, WorkCalendar.weekends_only()
    )


def test_weekend_two_hour_visit_moves_to_monday():
    trigger = Trigger(TriggerKind.CAR_DELIVERY, "car:2031", moment=datetime(2031, 3, 8, 10, 0))
    plans = plans_for_trigger(trigger, RULES, WorkCalendar.weekends_only())
    plan = next(p for p in plans if p.rule_key == "car_2h")
    assert (plan.earliest, plan.due, plan.due_at) == (date(2031, 3, 10), date(2031, 3, 10), None)


# --- sampling and idempotency --------------------------------------------------------------------------


def test_sampling_reproducible():
    assert sample_fraction("repair_done", "repair:1") == sample_fraction("repair_done", "repair:1")
    first = [is_sampled("repair_done", f"repair:{n}", 0.3) for n in range(500)]
    assert first == [is_sampled("repair_done", f"repair:{n}", 0.3) for n in range(500)]
    assert first != [is_sampled("complaint_closed", f"repair:{n}", 0.3) for n in range(500)]
    assert first != [is_sampled("repair_done", f"repair:{n}", 0.3, salt="2027") for n in range(500)]


def test_sampling_rate_close_to_share():
    picked = sum(is_sampled("repair_done", f"repair:{n}", 0.3) for n in range(10_000))
    assert 2800 <= picked <= 3200
    assert all(0.0 <= sample_fraction("r", f"k{n}") < 1.0 for n in range(100))
    assert not any(is_sampled("r", f"k{n}", 0.0) for n in range(100))
    assert all(is_sampled("r", f"k{n}", 1.0) for n in range(100))


def test_sampling_salt_from_rule_set(cal):
    keys = [f"repair:{n}" for n in range(300)]
    salted = replace(RULES, sampling_salt="office-2")

    def chosen(rules: RuleSet) -> list[str]:
        return [
            k
            for k in keys
            if plans_for_trigger(Trigger(TriggerKind.REPAIR_DONE, k, date(2026, 5, 6)), rules, cal)
        ]

    assert chosen(salted) == [k for k in keys if is_sampled("repair_done", k, 0.3, "office-2")]
    assert chosen(salted) != chosen(RULES)


def test_plans_are_idempotent(cal):
    trigger = Trigger(TriggerKind.CAR_DELIVERY, "car:7", moment=datetime(2026, 6, 1, 9, 30))
    first = plans_for_trigger(trigger, RULES, cal)
    again = plans_for_trigger(trigger, RuleSet.from_dict(RULES.to_dict()), WorkCalendar.china())
    assert first == again
    keys = [p.source_key for p in first]
    assert len(keys) == len(set(keys))


def test_plan_key_format():
    assert plan_key("delivery:123", "delivery_usage") == "delivery:123#delivery_usage"
    assert plan_key("purchase:5", "end_customer_monthly", 3) == "purchase:5#end_customer_monthly@3"
    assert plan_key("delivery:123", "delivery_usage", None, 2) == "delivery:123#delivery_usage#2"


def test_trigger_validation():
    with pytest.raises(ValidationError) as info:
        Trigger(TriggerKind.DELIVERY, "delivery:1")
    assert info.value.fields == ["day"]
    with pytest.raises(ValidationError) as info:
        Trigger(TriggerKind.DELIVERY, "a#b", date(2026, 1, 1))
    assert info.value.fields == ["source_key"]


# --- routine and technical visits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "due"),
    [("A", date(2026, 2, 24)), ("B", date(2026, 2, 24)), ("C", date(2026, 3, 9)), ("VIP", date(2026, 2, 24))],
)
def test_routine_due_by_class(cal, grade, due):
    plan = routine_due(grade, date(2026, 2, 5), date(2026, 1, 1), RULES, cal, origin="customer:7")
    assert plan is not None
    assert (plan.visit_type, plan.method, plan.earliest, plan.due) == (
        VisitType.ROUTINE,
        VisitMethod.PHONE,
        date(2026, 2, 6),
        due,
    )
    assert plan.source_key == "customer:7#routine@20260205"


def test_routine_none_for_class_d(cal):
    assert routine_due("D", date(2026, 2, 5), date(2026, 1, 1), RULES, cal) is None
    assert technical_due("B", None, date(2026, 1, 1), RULES, cal) is None


def test_routine_from_since_when_never_visited(cal):
    plan = routine_due("C", None, date(2026, 9, 10), RULES, cal, origin="customer:8")
    assert plan is not None and plan.due == date(2026, 10, 10)  # a 调休 working Saturday
    assert plan.source_key == "customer:8#routine@20260910"


def test_technical_every_three_months_for_a(cal):
    plan = technical_due("A", date(2025, 11, 30), date(2025, 1, 1), RULES, cal, origin="customer:7")
    assert plan is not None
    assert (plan.visit_type, plan.method, plan.due) == (
        VisitType.TECHNICAL,
        VisitMethod.ON_SITE,
        date(2026, 2, 28),
    )
    both = routine_plans(
        "A", date(2026, 2, 5), date(2025, 11, 30), date(2025, 1, 1), RULES, cal, origin="c:1"
    )
    assert [p.rule_key for p in both] == ["routine", "technical"]
    assert routine_plans("D", None, None, date(2026, 1, 1), RULES, cal) == []


# --- second, third … visits ---------------------------------------------------------------------------


def _technical_plan(cal: WorkCalendar) -> PlannedVisit:
    plan = technical_due("A", date(2025, 11, 30), date(2025, 1, 1), RULES, cal, origin="customer:7")
    assert plan is not None
    return plan


@pytest.mark.parametrize("result", [VisitResult.NO_ANSWER, VisitResult.UNREACHABLE, VisitResult.CALL_AGAIN])
def test_follow_up_after_not_reached(cal, result):
    first = _technical_plan(cal)
    second = follow_up(result, None, 1, date(2026, 3, 2), RULES, cal, previous=first)
    assert second is not None
    assert (second.attempt, second.source_key) == (2, "customer:7#technical@20251130#2")
    assert (second.earliest, second.due) == (date(2026, 3, 3), date(2026, 3, 5))
    assert second.method is VisitMethod.ON_SITE  # 000 §1.9: the 2nd visit as the 1st, phone only after it
    assert (second.rule_key, second.visit_type, second.who) == (
        "technical",
        VisitType.TECHNICAL,
        Assignee.OWNER,
    )


def test_follow_up_when_unsatisfied_only(cal):
    first = _technical_plan(cal)
    assert follow_up(VisitResult.SUCCESS, False, 1, date(2026, 3, 2), RULES, cal, previous=first) is not None
    assert follow_up(VisitResult.SUCCESS, True, 1, date(2026, 3, 2), RULES, cal, previous=first) is None
    assert follow_up(VisitResult.SUCCESS, None, 1, date(2026, 3, 2), RULES, cal, previous=first) is None
    assert follow_up(VisitResult.REFUSED, False, 1, date(2026, 3, 2), RULES, cal, previous=first) is not None
    never = replace(RULES, follow_up=FollowUpPolicy(refused_after_days=0))
    assert follow_up(VisitResult.REFUSED, False, 1, date(2026, 3, 2), never, cal, previous=first) is None
    quiet = replace(RULES, follow_up=FollowUpPolicy(retry_unsatisfied=False))
    assert follow_up(VisitResult.SUCCESS, False, 1, date(2026, 3, 2), quiet, cal, previous=first) is None


def test_follow_up_chain_stops_at_max_attempts(cal):
    rules = replace(RULES, follow_up=FollowUpPolicy(max_attempts=3, phone_from_attempt=3))
    first = _technical_plan(cal)
    second = follow_up("未接通", None, 1, date(2026, 2, 13), rules, cal, previous=first)
    assert second is not None
    assert second.method is VisitMethod.ON_SITE  # phone only from the 3rd attempt here
    assert (second.earliest, second.due) == (date(2026, 2, 14), date(2026, 2, 24))  # 调休 Sat; 春节
    third = follow_up("需再次回访", None, 2, date(2026, 2, 24), rules, cal, previous=second)
    assert third is not None
    assert (third.attempt, third.method, third.source_key) == (
        3,
        VisitMethod.PHONE,
        "customer:7#technical@20251130#3",
    )
    assert follow_up("未接通", None, 3, date(2026, 2, 27), rules, cal, previous=third) is None
    longer = replace(RULES, follow_up=FollowUpPolicy(max_attempts=5))
    assert follow_up("未接通", None, 4, date(2026, 2, 27), longer, cal, previous=third) is not None


def test_follow_up_idempotent_and_generic(cal):
    first = _technical_plan(cal)
    a = follow_up("不可达", None, 1, date(2026, 3, 2), RULES, cal, previous=first)
    b = follow_up("不可达", None, 1, date(2026, 3, 2), RULES, cal, previous=first)
    assert a == b
    generic = follow_up(VisitResult.NO_ANSWER, None, 1, date(2026, 9, 30), RULES, cal, origin="complaint:4")
    assert generic is not None
    assert (generic.rule_key, generic.visit_type, generic.source_key) == (
        "follow_up",
        VisitType.SATISFACTION,
        "complaint:4#follow_up#2",
    )
    assert (generic.earliest, generic.due) == (date(2026, 10, 8), date(2026, 10, 8))
    with pytest.raises(ValidationError):
        follow_up(VisitResult.NO_ANSWER, None, 0, date(2026, 9, 30), RULES, cal)


# --- the rule set as settings -------------------------------------------------------------------------


def test_ruleset_dict_round_trip_through_json():
    stored = json.loads(json.dumps(RULES.to_dict(), ensure_ascii=False))
    assert RuleSet.from_dict(stored) == RULES
    assert stored["routine_days"] == {"A": 10, "B": 15, "C": 30, "VIP": 15}
    assert stored["severity_who"] == {"一般": "owner", "重要": "supervisor", "重大": "manager"}


def test_ruleset_round_trip_keeps_office_changes():
    changed = replace(
        RULES.with_rule(replace(RULES.rule("repair_done"), sample_rate=1.0, method=VisitMethod.ON_SITE)),
        routine_days=(("A", 7), ("B", 14)),
        technical_grades=("A", "VIP"),
        horizon_months=12,
        follow_up=FollowUpPolicy(max_attempts=4, window=Window(0, 2), phone_from_attempt=3),
        sampling_salt="x",
    )
    changed = changed.with_rule(
        VisitRule(
            "holiday_greeting",
            "节日问候",
            TriggerKind.SPECIAL,
            (Window(0, 0),),
            VisitType.HOLIDAY,
            method=VisitMethod.WECHAT,
            target_rate=0.9,
        )
    )
    restored = RuleSet.from_dict(json.loads(json.dumps(changed.to_dict())))
    assert restored == changed
    assert restored.rule("repair_done").sample_rate == 1.0
    assert restored.routine_interval("C") is None


def test_ruleset_from_partial_dict_keeps_defaults():
    assert RuleSet.from_dict({}) == RULES
    assert RuleSet.from_dict({"horizon_months": 6}) == replace(RULES, horizon_months=6)
    rule = VisitRule.from_dict(
        {"key": "k", "name": "规则", "trigger": "special", "windows": [[0, 3]], "visit_type": "专项"}
    )
    assert rule.windows == (Window(0, 3, Unit.DAY),) and rule.anchor is Anchor.DAY


def test_ruleset_rejects_bad_values():
    data = RULES.rule("repair_done").to_dict()
    with pytest.raises(ValidationError) as info:
        VisitRule.from_dict({**data, "sample_rate": 1.5})
    assert info.value.fields == ["sample_rate"]
    with pytest.raises(ValidationError) as info:
        VisitRule.from_dict({**data, "trigger": "nonsense"})
    assert info.value.fields == ["trigger"]
    with pytest.raises(ValidationError) as info:
        Window(5, 1)
    assert info.value.fields == ["windows"]
    with pytest.raises(ValidationError) as info:
        RuleSet(rules=(*DEFAULT_RULES, DEFAULT_RULES[0]))
    assert "delivery_arrival" in str(info.value)
    with pytest.raises(ValidationError) as info:
        replace(RULES.rule("end_customer_few"), repeat_every=1)
    assert info.value.fields == ["windows"]
    with pytest.raises(ValidationError) as info:
        FollowUpPolicy(max_attempts=-1)
    assert info.value.fields == ["max_attempts"]
