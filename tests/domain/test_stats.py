"""Statistics rules: periods and comparisons, rates against targets, satisfaction summaries, the 考核 rules
and the assessment computed from plain counts, the ledger checks, the report shapes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime

import pytest

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.signoff import SignOff, signature_hash
from huifang_desktop.domain.stats import (
    Assessment,
    AssessmentRule,
    AssessmentRules,
    ClerkEvents,
    ColumnFormat,
    EventKind,
    PeriodKind,
    Rate,
    ReportSpan,
    ReportTable,
    StatsOptions,
    assess,
    assessment_hash,
    change,
    change_text,
    custom_period,
    days_without_timely_report,
    format_cell,
    month_period,
    monthly_ledger_deadline,
    monthly_ledger_missing,
    parse_period,
    percent,
    period_containing,
    quarter_period,
    summarize_satisfaction,
    trend_periods,
    weighted_target,
    year_period,
)
from huifang_desktop.domain.visits import FIVE_LEVEL, TWO_LEVEL
from huifang_desktop.domain.workcal import WorkCalendar

NOW = datetime(2026, 11, 24, 10, 0)


# --- periods ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "key", "label"),
    [
        ("2026-10", PeriodKind.MONTH, date(2026, 10, 1), date(2026, 10, 31), "2026-10", "2026年10月"),
        ("2026年2月", PeriodKind.MONTH, date(2026, 2, 1), date(2026, 2, 28), "2026-02", "2026年2月"),
        ("2028-02", PeriodKind.MONTH, date(2028, 2, 1), date(2028, 2, 29), "2028-02", "2028年2月"),
        ("2026Q3", PeriodKind.QUARTER, date(2026, 7, 1), date(2026, 9, 30), "2026Q3", "2026年第3季度"),
        (
            "2026年第4季度",
            PeriodKind.QUARTER,
            date(2026, 10, 1),
            date(2026, 12, 31),
            "2026Q4",
            "2026年第4季度",
        ),
        ("2026-q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31), "2026Q1", "2026年第1季度"),
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31), "2026", "2026年"),
        (
            "2026-10-01..2026-10-15",
            PeriodKind.CUSTOM,
            date(2026, 10, 1),
            date(2026, 10, 15),
            "2026-10-01..2026-10-15",
            "2026-10-01 至 2026-10-15",
        ),
        (
            "2026/10/01 至 2026/10/15",
            PeriodKind.CUSTOM,
            date(2026, 10, 1),
            date(2026, 10, 15),
            "2026-10-01..2026-10-15",
            "2026-10-01 至 2026-10-15",
        ),
    ],
)
def test_parse_period_reads_month_quarter_year_and_range(text, kind, start, end, key, label):
    p = parse_period(text)
    assert (p.kind, p.start, p.end, p.key, p.label) == (kind, start, end, key, label)
    assert parse_period(p.key) == p


@pytest.mark.parametrize("text", ["", "2026-13", "2026Q5", "10/2026", "2026-10-15..2026-10-01", "abc"])
def test_parse_period_refuses_what_it_cannot_read_naming_the_field(text):
    with pytest.raises(ValidationError) as exc:
        parse_period(text)
    assert exc.value.fields == ["period"]
    assert "统计期间" in str(exc.value)


def test_period_previous_is_the_period_before_of_the_same_kind():
    assert month_period(2026, 1).previous() == month_period(2025, 12)
    assert month_period(2026, 3).previous() == month_period(2026, 2)
    assert quarter_period(2026, 1).previous() == quarter_period(2025, 4)
    assert quarter_period(2026, 3).previous() == quarter_period(2026, 2)
    assert year_period(2026).previous() == year_period(2025)
    custom = custom_period(date(2026, 10, 11), date(2026, 10, 20))
    assert custom.previous() == custom_period(date(2026, 10, 1), date(2026, 10, 10))
    assert custom.previous().days == custom.days == 10


def test_period_months_and_containing_day():
    assert quarter_period(2026, 4).months() == ((2026, 10), (2026, 11), (2026, 12))
    assert custom_period(date(2026, 12, 20), date(2027, 1, 5)).months() == ((2026, 12), (2027, 1))
    assert period_containing(PeriodKind.QUARTER, date(2026, 11, 24)) == quarter_period(2026, 4)
    assert period_containing("月度", date(2026, 11, 24)) == month_period(2026, 11)
    assert period_containing(PeriodKind.YEAR, date(2026, 11, 24)).contains(date(2026, 1, 1))


def test_period_end_before_start_is_refused():
    with pytest.raises(ValidationError):
        custom_period(date(2026, 10, 2), date(2026, 10, 1))


def test_trend_periods_end_with_the_period_and_cover_all_of_it():
    months = trend_periods(month_period(2026, 2), 4)
    assert [p.key for p in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    year = trend_periods(year_period(2026), 3)  # never fewer months than the period has
    assert len(year) == 12 and year[0].key == "2026-01" and year[-1].key == "2026-12"
    with pytest.raises(ValidationError):
        trend_periods(month_period(2026, 2), 0)


# --- rates --------------------------------------------------------------------------------------------


def test_rate_value_target_and_gap():
    r = Rate(3, 4, target=0.5)
    assert r.value == 0.75 and r.meets_target is True and r.gap == pytest.approx(0.25)
    below = Rate(1, 4, target=1.0)
    assert below.meets_target is False and below.gap == pytest.approx(-0.75)
    assert Rate(0, 0, target=1.0).value is None and Rate(0, 0, target=1.0).meets_target is None
    assert Rate(2, 2).meets_target is None  # no target
    assert Rate(1, 1, target=1.0).meets_target is True
    with pytest.raises(ValidationError):
        Rate(-1, 3)


def test_percent_change_and_change_text():
    assert percent(0.8534) == "85.3%"
    assert percent(None) == "—"
    assert percent(1.0, 0) == "100%"
    assert change(0.8, 0.75) == pytest.approx(0.05)
    assert change(None, 0.5) is None
    assert change_text(0.8, 0.75, as_percent=True) == "+5.0 个百分点"
    assert change_text(0.7, 0.75, as_percent=True) == "-5.0 个百分点"
    assert change_text(0.75, 0.75, as_percent=True) == "持平"
    assert change_text(12, 15) == "-3"
    assert change_text(15, 12) == "+3"
    assert change_text(3, 3) == "持平"
    assert change_text(155_927, 147_855) == "+8,072"
    assert change_text(2.5, 1.25) == "+1.2"
    assert change_text(None, 3) == "—"


def test_weighted_target_weights_each_rules_target_by_its_plans():
    targets = {"complaint_closed": 1.0, "repair_done": 0.3}
    assert weighted_target({"complaint_closed": 2, "repair_done": 2}, targets) == pytest.approx(0.65)
    assert weighted_target({"other": 1}, targets, default=1.0) == 1.0
    assert weighted_target({}, targets) is None


# --- satisfaction -------------------------------------------------------------------------------------


def test_summarize_satisfaction_distribution_rate_and_average():
    s = summarize_satisfaction({"很满意": 2, "满意": 1, "不满意": 1, "": 5, "7": 1}, FIVE_LEVEL)
    assert s.levels == (("很满意", 2), ("满意", 1), ("一般", 0), ("不满意", 1), ("很不满意", 0))
    assert (s.answered, s.satisfied, s.other) == (4, 3, 1)
    assert s.satisfied_rate.value == 0.75
    assert s.average == pytest.approx((100 + 100 + 75 + 25) / 4)
    assert s.share("很满意") == 0.5
    empty = summarize_satisfaction({}, TWO_LEVEL)
    assert empty.average is None and empty.satisfied_rate.value is None and empty.share("满意") is None


# --- options ------------------------------------------------------------------------------------------


def test_stats_options_round_trip_and_validation():
    o = StatsOptions(trend_months=6, handling_rate_target=0.95, handled_states=("已关闭",))
    data = json.loads(json.dumps(o.to_dict()))
    assert StatsOptions.from_dict(data) == o
    assert StatsOptions.from_dict({"unknown": 1}) == StatsOptions()
    with pytest.raises(ValidationError) as exc:
        StatsOptions(trend_months=0, handling_rate_target=1.5, handled_states=())
    assert set(exc.value.fields) == {"trend_months", "handling_rate_target", "handled_states"}


# --- assessment rules ---------------------------------------------------------------------------------


def test_assessment_defaults_are_the_five_events_of_001_3_at_50_yuan_each():
    """001 §3.1–3.5: 50 元/次 each; the two older ledger measures are kept but off by default."""
    rules = AssessmentRules()
    assert [r.kind for r in rules.rules] == [k for k in EventKind if k.ruled]
    assert [k.value for k in rules.enabled_kinds()] == [
        "交货未回访",
        "例行回访未按期",
        "问题未按时转交",
        "终端客户台帐未建",
        "终端客户未按时回访",
    ]
    for kind in rules.enabled_kinds():
        assert rules.rule(kind).cost(1) == (50, 0)
        assert rules.rule(kind).cost(3) == (150, 0)
    assert not rules.rule(EventKind.LEDGER_NOT_KEPT).enabled
    assert not rules.rule(EventKind.MONTHLY_LEDGER_MISSING).enabled
    assert rules.delivery_rule_keys == ("delivery_arrival",)  # 3.1: the 1–5-day 到货回访 only
    assert rules.rule(EventKind.PROBLEM_NOT_PASSED).window == 24  # 3.3: passed back within 24 h
    assert rules.monthly_due_day == 10 and not rules.repeats_double  # 002 制度3 每月十日前; 制度1 off


def test_assessment_rule_cost_with_points_and_doubling_repeats():
    rule = AssessmentRule(EventKind.PROBLEM_NOT_PASSED, amount=200, points=5, repeat_multiplier=2)
    assert rule.cost(0) == (0, 0)
    assert rule.cost(1) == (200, 5)
    assert rule.cost(2) == (600, 15)  # the repeat doubles: 200 + 400
    assert rule.cost(3) == (1000, 25)
    assert AssessmentRule(EventKind.MISSED_VISIT, enabled=False).cost(4) == (0, 0)
    with pytest.raises(ValidationError):
        rule.cost(-1)


def test_assessment_rule_refuses_negative_amounts_and_bad_multiplier():
    with pytest.raises(ValidationError) as exc:
        AssessmentRule(EventKind.MISSED_VISIT, amount=-5, points=-1, repeat_multiplier=0)
    assert set(exc.value.fields) == {"amount", "points", "repeat_multiplier"}
    assert "例行回访未按期" in str(exc.value)


def test_assessment_rules_round_trip_through_json_and_keep_defaults_for_missing_entries():
    rules = AssessmentRules().with_rule(
        AssessmentRule(EventKind.DELIVERY_NOT_VISITED, amount=100, points=2, repeat_multiplier=2)
    )
    rules = replace(rules, routine_rule_keys=("routine",), monthly_due_day=5, repeats_double=True)
    data = json.loads(json.dumps(rules.to_dict(), ensure_ascii=False))
    assert data["rules"]["delivery_not_visited"] == {
        "amount": 100,
        "points": 2,
        "repeat_multiplier": 2,
        "enabled": True,
        "window": 0,
    }
    assert AssessmentRules.from_dict(data) == rules
    partial = AssessmentRules.from_dict({"rules": {"交货未回访": {"amount": 80}}, "monthly_due_workdays": 2})
    assert partial.rule(EventKind.DELIVERY_NOT_VISITED).amount == 80
    assert (
        partial.rule(EventKind.MISSED_VISIT).enabled is True
    )  # a kind not stored keeps the rule book's default
    assert partial.monthly_due_day == 10 and partial.routine_rule_keys == ("routine", "technical")
    with pytest.raises(ValidationError):
        AssessmentRules.from_dict({"rules": {"不存在": {}}})
    with pytest.raises(ValidationError):
        AssessmentRules(
            rules=(AssessmentRule(EventKind.MISSED_VISIT), AssessmentRule(EventKind.MISSED_VISIT))
        )


def test_assess_turns_counts_into_amounts_per_clerk_and_in_total():
    rules = AssessmentRules().with_rule(
        AssessmentRule(EventKind.PROBLEM_NOT_PASSED, amount=100, points=5, repeat_multiplier=2)
    )
    rules = rules.with_rule(AssessmentRule(EventKind.MONTHLY_LEDGER_MISSING))
    people = [
        ClerkEvents(2, "小王", "客服部", {EventKind.MISSED_VISIT: 3, EventKind.PROBLEM_NOT_PASSED: 2}),
        ClerkEvents(3, "小李", "销售部", {}),
        ClerkEvents(4, "小张", "", {EventKind.MONTHLY_LEDGER_MISSING: 1}),
    ]
    a = assess(month_period(2026, 10), people, rules, NOW)
    wang, li, zhang = a.clerks
    assert wang.line(EventKind.MISSED_VISIT).amount == 150
    assert (
        wang.line(EventKind.PROBLEM_NOT_PASSED).count,
        wang.line(EventKind.PROBLEM_NOT_PASSED).amount,
        wang.line(EventKind.PROBLEM_NOT_PASSED).points,
    ) == (2, 300, 15)
    assert (wang.count, wang.amount, wang.points) == (5, 450, 15)
    assert (li.count, li.amount, len(li.lines)) == (0, 0, len(EventKind))
    assert (zhang.count, zhang.amount) == (1, 50)
    assert (a.month, a.count, a.amount, a.points) == ("2026-10", 6, 500, 15)
    totals = {line.kind: (line.count, line.amount) for line in a.kind_totals()}
    assert totals[EventKind.MISSED_VISIT] == (3, 150) and totals[EventKind.DELIVERY_NOT_VISITED] == (0, 0)


def test_assess_a_disabled_rule_counts_nothing():
    rules = AssessmentRules().with_rule(AssessmentRule(EventKind.MISSED_VISIT, enabled=False))
    a = assess(
        month_period(2026, 10), [ClerkEvents(2, "小王", counts={EventKind.MISSED_VISIT: 4})], rules, NOW
    )
    assert (a.count, a.amount) == (0, 0)
    assert EventKind.MISSED_VISIT not in rules.enabled_kinds()


def test_assess_is_monthly_only():
    with pytest.raises(ValidationError) as exc:
        assess(quarter_period(2026, 3), [], AssessmentRules(), NOW)
    assert exc.value.fields == ["month"]


def test_assessment_snapshot_round_trips_and_its_hash_catches_any_change():
    a = assess(
        month_period(2026, 10),
        [ClerkEvents(2, "小王", "客服部", {EventKind.MISSED_VISIT: 1})],
        AssessmentRules(),
        NOW,
    )
    snapshot = json.loads(json.dumps(a.to_dict(), ensure_ascii=False))
    assert Assessment.from_dict(snapshot) == a
    h = assessment_hash(snapshot)
    assert h == assessment_hash(a.to_dict()) and len(h) == 64
    changed = json.loads(json.dumps(snapshot))
    changed["clerks"][0]["lines"][1]["amount"] = 0  # 例行回访未按期 (the 2nd kind)
    assert assessment_hash(changed) != h
    sign = SignOff(9, "manager", NOW, "同意", 0)
    assert signature_hash(h, sign) != signature_hash(h, SignOff(9, "manager", NOW, "同意", 1))


# --- ledger checks ------------------------------------------------------------------------------------


def test_days_without_timely_report_finds_days_no_report_filed_in_time_covers():
    days = [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 12), date(2026, 10, 9)]
    reports = [
        ReportSpan(date(2026, 10, 8), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 9)),
        ReportSpan(date(2026, 10, 9), date(2026, 10, 9), date(2026, 10, 14), date(2026, 10, 12)),
    ]  # late
    assert days_without_timely_report(days, reports) == (date(2026, 10, 9), date(2026, 10, 12))
    weekly = ReportSpan(date(2026, 10, 8), date(2026, 10, 12), date(2026, 10, 13), date(2026, 10, 13))
    assert days_without_timely_report(days, [weekly]) == ()
    # a day whose report is not due yet is not missing yet
    next_day = WorkCalendar.weekends_only().add_workdays
    assert days_without_timely_report(
        days, reports, today=date(2026, 10, 13), due_of=lambda d: next_day(d, 1)
    ) == (date(2026, 10, 9),)


def test_monthly_ledger_missing_only_after_the_deadline_and_only_for_uncovered_days():
    cal = WorkCalendar.weekends_only()
    october = month_period(2026, 10)
    deadline = monthly_ledger_deadline(october, replace(AssessmentRules(), monthly_due_day=4), cal)
    assert deadline == date(2026, 11, 4)
    assert monthly_ledger_deadline(october, AssessmentRules()) == date(2026, 11, 10)  # 002 制度3: 每月十日前
    days = [date(2026, 10, 8), date(2026, 10, 20)]
    late = ReportSpan(date(2026, 10, 20), date(2026, 10, 20), date(2026, 11, 10), date(2026, 10, 21))
    first = ReportSpan(date(2026, 10, 8), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 9))
    assert monthly_ledger_missing(days, [first, late], deadline, date(2026, 11, 20)) is True
    assert monthly_ledger_missing(days, [first, late], deadline, deadline) is False  # not due yet
    in_time = ReportSpan(date(2026, 10, 20), date(2026, 10, 20), date(2026, 11, 4), date(2026, 10, 21))
    assert monthly_ledger_missing(days, [first, in_time], deadline, date(2026, 11, 20)) is False
    assert monthly_ledger_missing([], [], deadline, date(2026, 11, 20)) is False


# --- report shapes ------------------------------------------------------------------------------------


def test_report_table_checks_its_shape_and_formats_cells():
    t = ReportTable(
        "x",
        "表",
        ("名称", "计划", "回访率"),
        (("小王", 4, 0.75), ("小李", 0, None)),
        (ColumnFormat.TEXT, ColumnFormat.INT, ColumnFormat.PERCENT),
    )
    assert t.column(1) == (4, 0) and t.format_of(2) is ColumnFormat.PERCENT
    with pytest.raises(ValueError):
        ReportTable("y", "表", ("a", "b"), (("only one",),))
    with pytest.raises(ValueError):
        ReportTable("z", "表", ("a", "b"), (), (ColumnFormat.TEXT,))
    assert format_cell(0.75, "percent") == "75.0%"
    assert format_cell(None, "percent") == "—"
    assert format_cell(1250, "int") == "1,250"
    assert format_cell(3.456, "number") == "3.5"
    assert format_cell(None, "text") == ""
    assert format_cell("小王") == "小王"
