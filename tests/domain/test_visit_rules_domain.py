"""Issue 19 items 6–8 as pure rules, each with a fixed day: follow-up chains (000 §1.9, 001 §47), visitor
independence (001 篇11), hand-over ownership and the 5-working-day 备案 deadline (002 §1.4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from huifang_desktop.domain.handover import OwnerChange, missing_basics, owner_on, registration_due, spread
from huifang_desktop.domain.independence import Colleague, conflict, keep_or_pick, pick_independent
from huifang_desktop.domain.schedule import Assignee, FollowUpPolicy, PlannedVisit, RuleSet, follow_up
from huifang_desktop.domain.visits import VisitMethod, VisitResult, VisitType
from huifang_desktop.domain.workcal import WorkCalendar

RULES = RuleSet()


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.china()


def _first(
    method: VisitMethod = VisitMethod.ON_SITE, key: str = "delivery:5#delivery_satisfaction"
) -> PlannedVisit:
    return PlannedVisit(
        "delivery_satisfaction",
        VisitType.SATISFACTION,
        method,
        date(2026, 11, 20),
        date(2026, 11, 24),
        Assignee.OWNER,
        key,
    )


def test_second_visit_same_method_phone_from_third_and_no_default_limit(cal: WorkCalendar) -> None:
    # 000 §1.9: "必须进行第二次、第三次甚至更多次的回访，在第二次以后 … 可采用电话作回访形式"
    first = _first()
    second = follow_up("未接通", None, 1, date(2026, 11, 24), RULES, cal, previous=first)
    assert second is not None and (second.attempt, second.method) == (2, VisitMethod.ON_SITE)
    third = follow_up("不可达", None, 2, date(2026, 11, 26), RULES, cal, previous=second)
    assert third is not None and (third.attempt, third.method) == (3, VisitMethod.PHONE)
    nxt = third
    for attempt in range(3, 9):  # "甚至更多次": the chain goes on until reached (or a supervisor closes it)
        nxt = follow_up("未接通", None, attempt, date(2026, 12, 1), RULES, cal, previous=nxt)
        assert nxt is not None and nxt.method is VisitMethod.PHONE
    assert nxt.source_key == "delivery:5#delivery_satisfaction#9"
    assert follow_up("成功", True, 9, date(2026, 12, 2), RULES, cal, previous=nxt) is None
    capped = replace(RULES, follow_up=FollowUpPolicy(max_attempts=3))
    assert follow_up("未接通", None, 3, date(2026, 12, 1), capped, cal, previous=third) is None


def test_second_visit_follows_the_method_actually_used_first(cal: WorkCalendar) -> None:
    planned_phone = _first(VisitMethod.PHONE)
    second = follow_up(
        "成功",
        False,
        1,
        date(2026, 11, 24),
        RULES,
        cal,
        previous=planned_phone,
        first_method=VisitMethod.ON_SITE,
    )
    assert second is not None and second.method is VisitMethod.ON_SITE


def test_refusal_is_contacted_again_after_n_days_then_counts_as_failed(cal: WorkCalendar) -> None:
    # 001 §47: "出现客户拒绝回访情形时 … 应积极联系客户 … 如 … 仍不配合回访，该账户应视为回访不通过"
    first = _first()
    again = follow_up(VisitResult.REFUSED, None, 1, date(2026, 11, 24), RULES, cal, previous=first)
    assert again is not None
    assert (again.earliest, again.due, again.attempt) == (date(2026, 12, 1), date(2026, 12, 1), 2)
    assert (
        follow_up(VisitResult.REFUSED, None, 2, date(2026, 12, 1), RULES, cal, previous=again, refusals=1)
        is None
    )
    # N is a setting; a 国庆 day moves to the next working day
    ten = replace(RULES, follow_up=FollowUpPolicy(refused_after_days=10))
    later = follow_up(VisitResult.REFUSED, None, 1, date(2026, 9, 24), ten, cal, previous=first)
    assert later is not None and later.due == date(2026, 10, 8)
    off = replace(RULES, follow_up=FollowUpPolicy(refused_after_days=0))
    assert follow_up(VisitResult.REFUSED, None, 1, date(2026, 11, 24), off, cal, previous=first) is None


def test_major_complaint_closing_visit_stays_on_site(cal: WorkCalendar) -> None:
    # 000 §1.9: only "不属于第三类投诉的回访可采用电话"; 重大 is on site by default, a setting
    assert RULES.follow_up.closing_method("重大") is VisitMethod.ON_SITE
    assert RULES.follow_up.closing_method("一般") is None
    closing = _first(VisitMethod.ON_SITE, "complaint:3#complaint_closed@1")
    nxt = closing
    for attempt in (1, 2, 3):
        nxt = follow_up(
            "未接通", None, attempt, date(2026, 11, 24), RULES, cal, previous=nxt, severity="重大"
        )
        assert nxt is not None and nxt.method is VisitMethod.ON_SITE
    ordinary = follow_up("未接通", None, 2, date(2026, 11, 24), RULES, cal, previous=closing, severity="一般")
    assert ordinary is not None and ordinary.method is VisitMethod.PHONE
    stored = FollowUpPolicy.from_dict(FollowUpPolicy(on_site_severities=("重要", "重大")).to_dict())
    assert stored.closing_method("重要") is VisitMethod.ON_SITE


def test_policy_round_trip_keeps_the_new_settings() -> None:
    policy = FollowUpPolicy(max_attempts=5, refused_after_days=3, refused_recontacts=2, on_site_severities=())
    assert FollowUpPolicy.from_dict(policy.to_dict()) == policy
    assert FollowUpPolicy.from_dict({}) == FollowUpPolicy()


def test_independence_conflicts_and_the_pick_rule() -> None:
    # 001 篇11 第三条(二) 独立性原则; 第四条 回访人员应为除营销序列员工以外的其他人员
    assert conflict(7, 7, None) == "回访人不得为该客户的业务员（负责人）本人"
    assert conflict(8, 7, 8) == "回访人不得为该投诉的处理人本人"
    assert conflict(9, 7, 8) is None
    people = [
        Colleague(7, "clerk", 1, 0),
        Colleague(8, "clerk", 2, 0),
        Colleague(9, "clerk", 1, 4),
        Colleague(10, "clerk", 1, 2),
        Colleague(11, "supervisor", 1, 0),
    ]
    # 客服 first, same department, least pending load, then lowest id
    assert pick_independent(people, ("clerk", "supervisor"), 1, (7,)) == 10
    assert pick_independent(people, ("clerk", "supervisor"), 2, (7, 8)) == 10
    assert pick_independent(people, ("supervisor",), 1, (7,)) == 11
    assert keep_or_pick(9, people, ("clerk",), 1, 7) == 9  # already independent: kept
    assert keep_or_pick(7, [Colleague(7, "clerk", 1)], ("clerk",), 1, 7) == 7  # nobody else: kept


def test_hand_over_split_and_owner_on_a_day() -> None:
    assert spread([5, 3, 9], [21, 22]) == {3: 21, 5: 22, 9: 21}
    changes = [OwnerChange(date(2026, 11, 24), 7, 8)]
    assert owner_on(8, changes, date(2026, 11, 23)) == 7  # window closed before the hand-over: the leaver
    assert owner_on(8, changes, date(2026, 11, 24)) == 8  # from the hand-over day: the successor
    assert owner_on(8, [], date(2026, 1, 1)) == 8


def test_registration_due_five_working_days(cal: WorkCalendar) -> None:
    # 002 §1.4 "业务部门接触到新客户后，须在5个工作日内 … 备案"
    assert registration_due(date(2026, 11, 16), cal) == date(2026, 11, 23)
    # 9-29, 9-30, (国庆) 10-8, 10-9 and the 调休 Saturday 10-10
    assert registration_due(date(2026, 9, 28), cal) == date(2026, 10, 10)
    assert missing_basics(
        {"category": "经销商", "address": "", "contact": "张三", "phone": "", "owner": 3}
    ) == ["地址", "联系电话"]
