"""Pure class rules (domain/classes.py) and what counts for a routine plan (domain/schedule.py).

001 篇1 §1.4: A ≥ 100 a year, B 50–99, C 10–49, D < 10; the routine visit covers market, technology, quality
and price, the technical department visits A every three months. 004 第二篇: the top 20 % are VIP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from huifang_desktop.domain.classes import (
    PERIOD_CALENDAR,
    SCHEME_VIP,
    ClassPolicy,
    Imported,
    better,
    cadence_start,
    decide_class,
    imported_class_applies,
    volume_windows,
)
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.schedule import RuleSet, routine_due, satisfies
from huifang_desktop.domain.visits import VisitType
from huifang_desktop.domain.workcal import WorkCalendar

D = date


def test_rolling_window_is_the_last_365_days() -> None:
    assert volume_windows(D(2027, 10, 5), ClassPolicy()) == ((D(2026, 10, 5), D(2027, 10, 5)),)


def test_calendar_year_counts_last_year_and_this_year_so_far() -> None:
    policy = ClassPolicy(period=PERIOD_CALENDAR)
    assert volume_windows(D(2027, 1, 3), policy) == (
        (D(2025, 12, 31), D(2026, 12, 31)),
        (D(2026, 12, 31), D(2027, 1, 3)),
    )


def test_decide_class_by_volume_and_by_value_rank() -> None:
    today = D(2026, 11, 24)
    assert decide_class(120, Decimal(0), None, ClassPolicy(), today=today) == "A"
    assert decide_class(9, Decimal(0), None, ClassPolicy(), today=today) == "D"
    vip = ClassPolicy(scheme=SCHEME_VIP)
    assert decide_class(0, Decimal(900), Decimal(800), vip, today=today) == "VIP"
    assert decide_class(0, Decimal(10), Decimal(800), vip, today=today) == "普通"
    assert decide_class(0, Decimal(0), Decimal(800), vip, today=today) == "小客户"


def test_an_imported_class_stands_twelve_months_unless_purchases_give_more() -> None:
    imported = Imported("A", D(2026, 3, 10))
    assert imported_class_applies(imported, D(2027, 3, 9)) and not imported_class_applies(
        imported, D(2027, 3, 10)
    )
    assert decide_class(5, Decimal(0), None, ClassPolicy(), today=D(2026, 11, 1), imported=imported) == "A"
    assert decide_class(5, Decimal(0), None, ClassPolicy(), today=D(2027, 3, 10), imported=imported) == "D"
    assert (
        decide_class(
            60, Decimal(0), None, ClassPolicy(), today=D(2026, 11, 1), imported=Imported("C", D(2026, 3, 10))
        )
        == "B"
    )
    assert better("B", "A") == "A" and better("VIP", "普通") == "VIP"


def test_cadence_start_is_never_before_the_class_began() -> None:
    assert cadence_start(D(2026, 1, 15), D(2026, 9, 10)) == D(2026, 9, 10)
    assert cadence_start(D(2026, 1, 15), None) == D(2026, 1, 15)
    assert cadence_start(D(2026, 1, 15), D(2026, 9, 10), D(2026, 10, 1)) == D(2026, 10, 1)


def test_routine_due_counts_from_the_class_change_when_the_last_visit_was_before_it() -> None:
    cal = WorkCalendar()
    p = routine_due("A", D(2026, 8, 1), D(2026, 9, 10), RuleSet(), cal, origin="customer:1")
    assert p is not None and p.source_key == "customer:1#routine@20260910"
    p = routine_due("A", D(2026, 9, 15), D(2026, 9, 10), RuleSet(), cal, origin="customer:1")
    assert p is not None and p.source_key == "customer:1#routine@20260915"


def test_only_the_routine_contact_satisfies_a_routine_plan() -> None:
    rules = RuleSet()
    assert satisfies(VisitType.ROUTINE, "routine", rules)
    assert satisfies(VisitType.TECHNICAL, "technical", rules)
    for vt in (
        VisitType.BIRTHDAY,
        VisitType.HOLIDAY,
        VisitType.FIRST_SERVICE,
        VisitType.INSURANCE,
        VisitType.DELIVERY,
        VisitType.TECHNICAL,
    ):
        assert not satisfies(vt, "routine", rules), vt
    assert satisfies(VisitType.BIRTHDAY, "birthday", rules)  # any other plan: the one it was made for
    assert rules.types_satisfying("routine") == {"例行"}


def test_the_table_round_trips_and_refuses_unknown_entries() -> None:
    rules = RuleSet(satisfies=(("例行", ("routine",)), ("技术", ("technical", "routine"))))
    assert RuleSet.from_dict(rules.to_dict()) == rules
    assert RuleSet.from_dict({}).satisfies == RuleSet().satisfies
    with pytest.raises(ValidationError):
        RuleSet(satisfies=(("问候", ("routine",)),))
    with pytest.raises(ValidationError):
        RuleSet(satisfies=(("例行", ("birthday",)),))
