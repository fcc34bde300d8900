"""Pure complaint rules of issue #20 (fixed clock, holiday calendar): 核决权限 (002 制度3 §6), independent
verification (002 制度5 §5, 制度9), office-hour deadlines (002 制度11), property timings (002 制度5 §1–§5),
repeats by wording."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from huifang_desktop.domain.complaint_repeats import wording_similarity
from huifang_desktop.domain.complaint_rules import (
    ComplaintRules,
    UrgentTimings,
    add_work_hours,
    own_file_signable,
    pick_verifier,
    promised_reply_due,
    satisfying_reply_due,
    sign_level,
    sign_refusal,
    signature_boxes,
    urgent_deadlines,
)
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.signoff import ReviewStatus, can_return, can_sign
from huifang_desktop.domain.workcal import WorkCalendar

CAL = WorkCalendar.china(
    {2026: {"holidays": [f"2026-10-0{d}" for d in range(1, 8)], "workdays": ["2026-10-10"]}}
)
RULES = ComplaintRules()


def test_authority_table_defaults() -> None:
    assert [sign_level(s, RULES) for s in ("一般", "重要", "重大")] == [
        Role.SUPERVISOR,
        Role.SUPERVISOR,
        Role.MANAGER,
    ]
    assert sign_refusal(Role.SUPERVISOR, "重大", RULES).startswith("重大投诉须由公司经理")
    assert sign_refusal(Role.MANAGER, "重大", RULES) == "" and sign_refusal(Role.MANAGER, "一般", RULES) == ""
    assert sign_refusal(Role.CLERK, "一般", RULES)
    assert signature_boxes("重大", RULES) == ("处理人", "公司经理")
    assert signature_boxes("重大", RULES, Role.SUPERVISOR) == ("处理人", "公司经理", "部门主管")
    assert signature_boxes("一般", RULES, Role.MANAGER) == ("处理人", "部门主管", "公司经理")


def test_only_the_top_of_the_ladder_signs_its_own_file_and_only_alone_there() -> None:
    """domain.md §7: 重大 is handled by the 公司经理 and (核决权限) signed at 经理 level; nobody stands above
    him in the program, so with no other manager he signs his own 重大 file; a second manager signs it."""
    assert own_file_signable(Role.MANAGER, "重大", RULES, others_at_top=0)
    assert not own_file_signable(Role.MANAGER, "重大", RULES, others_at_top=1)
    assert not own_file_signable(
        Role.MANAGER, "一般", RULES, others_at_top=0
    )  # 主管 level: one of them signs
    assert not own_file_signable(Role.SUPERVISOR, "重要", RULES, others_at_top=0)
    assert not own_file_signable(Role.SUPERVISOR, "重大", RULES, others_at_top=0)
    pending = ReviewStatus.PENDING.value
    assert can_sign(Role.MANAGER, pending, mine=True, allow_self_sign=False, own_top=True)
    assert not can_sign(Role.MANAGER, pending, mine=True, allow_self_sign=False)
    assert not can_return(Role.MANAGER, pending, mine=True, allow_self_sign=False)  # not back to himself
    assert not can_sign(Role.MANAGER, pending, mine=True, allow_self_sign=False, own_top=True, refusal="x")


def test_rules_round_trip_and_reject_bad_values() -> None:
    rules = ComplaintRules(origin_days={"国内": 15, "国外": 20}, urgent=UrgentTimings())
    assert ComplaintRules.from_dict(rules.to_dict()) == rules
    with pytest.raises(ValidationError):
        ComplaintRules.from_dict({"sign_roles": {"重大": "admin"}})
    with pytest.raises(ValidationError):
        ComplaintRules.from_dict({"consultation_workhours": -1})


def test_an_older_stored_dict_with_its_own_independence_switch_still_loads() -> None:
    """``independent_closing_visit`` (folded into the office-wide visitor independence by migration 0020) is
    read without error, whatever its value, and not written again."""
    for value in (True, False, "bad"):
        old = {**ComplaintRules(consultation_workhours=6).to_dict(), "independent_closing_visit": value}
        rules = ComplaintRules.from_dict(old)
        assert rules == ComplaintRules(consultation_workhours=6)
        assert "independent_closing_visit" not in rules.to_dict()


def test_office_hours_skip_the_national_day_holiday() -> None:
    due = add_work_hours(datetime(2026, 9, 30, 16, 0), 8, CAL, time(8, 30), time(17, 30))
    assert due == datetime(2026, 10, 8, 15, 0)
    assert add_work_hours(datetime(2026, 11, 24, 20, 0), 2, CAL, time(8, 30), time(17, 30)) == datetime(
        2026, 11, 25, 10, 30
    )  # after hours: counts from the next morning


def test_satisfying_reply_two_working_days_and_promised_dates() -> None:
    assert satisfying_reply_due(datetime(2026, 9, 29, 9, 0), RULES, CAL, time(17, 30)) == datetime(
        2026, 10, 8, 17, 30
    )  # 09-30, then the holiday, then 10-08
    with pytest.raises(ValidationError, match="不是工作日"):
        promised_reply_due(datetime(2026, 9, 29, 9, 0), date(2026, 10, 3), CAL, time(17, 30))
    with pytest.raises(ValidationError, match="不能早于"):
        promised_reply_due(datetime(2026, 9, 29, 9, 0), date(2026, 9, 28), CAL, time(17, 30))


def test_the_verifier_is_never_the_handler() -> None:
    people = {Role.CLERK: [(1, 10), (2, 10)], Role.SUPERVISOR: [(5, 10)], Role.MANAGER: [(9, None)]}
    assert pick_verifier(people, 1, Role.CLERK, 10, RULES) == 2
    assert pick_verifier(people, 9, Role.MANAGER, 10, RULES) == 1  # no other manager: the customer centre
    assert pick_verifier({Role.CLERK: [(1, 10)]}, 1, Role.CLERK, 10, RULES) is None
    chosen = ComplaintRules(verifier_role=Role.SUPERVISOR)
    assert pick_verifier(people, 1, Role.CLERK, 10, chosen) == 5


def test_property_urgent_timings() -> None:
    d = urgent_deadlines(datetime(2026, 11, 24, 10, 0), UrgentTimings())
    assert d.reported_by == datetime(2026, 11, 25, 10, 0) and d.dispatched_by == datetime(2026, 11, 24, 22, 0)
    assert d.report_back_hours == 2


def test_wording_catches_the_measured_repeat() -> None:
    assert wording_similarity("空调漏水", "空调维修后仍然漏水") >= 0.6
    assert wording_similarity("空调漏水", "物业费发票开错") < 0.4
