"""Complaint rules: routing, deadlines, workflow, numbering, repeats (domain.md §7)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

import pytest

from huifang_desktop.domain.complaints import (
    DEFAULT_CATEGORIES,
    DEFAULT_NUMBER_PATTERN,
    MONTHLY_NUMBER_PATTERN,
    BySeverity,
    Channel,
    ComplaintPolicy,
    ComplaintState,
    Deadlines,
    ExistingComplaint,
    MessageKind,
    RepeatCandidate,
    Severity,
    TransitionFacts,
    check_transition,
    closing_outcome,
    closing_visit_due,
    closing_visit_role,
    current_deadline,
    deadlines,
    escalated_role,
    format_complaint_number,
    handler_role,
    is_convertible,
    is_likely_repeat,
    is_overdue,
    likely_repeats,
    needs_chase,
    needs_closing_visit,
    needs_inquiry,
    needs_new_visit,
    queue_sort_key,
    sequence_scope,
    should_escalate,
    subject_similarity,
    validate_number_pattern,
)
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.workcal import WorkCalendar

S = ComplaintState
POLICY = ComplaintPolicy.default()


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.china()


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# ------------------------------------------------------------------------------------------ enums


def test_enums_values_are_chinese_labels() -> None:
    assert [k.value for k in MessageKind] == ["投诉", "咨询", "建议"]
    assert [c.value for c in Channel] == ["电话", "来访", "信函", "邮件", "网络", "上级转办"]
    assert [s.value for s in Severity] == ["一般", "重要", "重大"]
    assert [s.value for s in ComplaintState] == ["待受理", "处理中", "待回访", "已关闭", "已撤销"]
    assert DEFAULT_CATEGORIES == ("产品质量", "服务态度", "交付物流", "维修", "收费", "其他")
    assert POLICY.categories == DEFAULT_CATEGORIES


def test_state_final_and_open() -> None:
    assert {s for s in S if s.is_final} == {S.CLOSED, S.WITHDRAWN}
    assert {s for s in S if s.is_open} == {S.PENDING, S.IN_PROGRESS, S.AWAITING_VISIT}


# ---------------------------------------------------------------------------------------- routing


def test_handler_role_follows_severity() -> None:
    assert handler_role(Severity.NORMAL, POLICY) is Role.CLERK
    assert handler_role(Severity.IMPORTANT, POLICY) is Role.SUPERVISOR
    assert handler_role(Severity.MAJOR, POLICY) is Role.MANAGER
    assert [s.handler_role for s in Severity] == [Role.CLERK, Role.SUPERVISOR, Role.MANAGER]


def test_handler_role_is_a_setting() -> None:
    policy = replace(POLICY, handler_roles=BySeverity(Role.CLERK, Role.CLERK, Role.SUPERVISOR))
    assert handler_role(Severity.IMPORTANT, policy) is Role.CLERK
    assert handler_role(Severity.MAJOR, policy) is Role.SUPERVISOR
    assert closing_visit_role(Severity.MAJOR, policy) is Role.SUPERVISOR


def test_closing_visit_role_matches_severity_level() -> None:
    assert closing_visit_role(Severity.NORMAL, POLICY) is Role.CLERK
    assert closing_visit_role(Severity.MAJOR, POLICY) is Role.MANAGER


def test_escalated_role_chain() -> None:
    assert escalated_role(Role.CLERK) is Role.SUPERVISOR
    assert escalated_role(Role.SUPERVISOR) is Role.MANAGER
    assert escalated_role(Role.MANAGER) is None
    assert escalated_role(Role.ADMIN) is None


# -------------------------------------------------------------------------------------- deadlines


def test_deadlines_calendar_facts_national_day_2026(cal: WorkCalendar) -> None:
    # The assertions below rely on these calendar facts; check them rather than assume them.
    assert cal.covers(2026)
    assert cal.is_workday(date(2026, 9, 30))
    assert not any(cal.is_workday(d) for d in _days(date(2026, 10, 1), date(2026, 10, 7)))
    assert cal.is_workday(date(2026, 10, 8)) and cal.is_workday(date(2026, 10, 9))
    assert date(2026, 10, 10).weekday() == 5 and cal.is_workday(date(2026, 10, 10))  # 调休 Saturday
    assert not cal.is_workday(date(2026, 10, 11))


def test_deadlines_complaint_before_national_day(cal: WorkCalendar) -> None:
    dl = deadlines(datetime(2026, 9, 30, 15, 20), MessageKind.COMPLAINT, Severity.NORMAL, POLICY, cal)
    assert dl == Deadlines(first_reply=datetime(2026, 10, 8, 17, 30), handling=datetime(2026, 10, 10, 17, 30))


def test_deadlines_after_hours_counts_from_next_workday(cal: WorkCalendar) -> None:
    dl = deadlines(datetime(2026, 9, 30, 18, 5), MessageKind.COMPLAINT, Severity.IMPORTANT, POLICY, cal)
    assert dl.first_reply == datetime(2026, 10, 9, 17, 30)
    assert dl.handling == datetime(2026, 10, 12, 17, 30)  # 10-09, 10-10 (调休), skip Sunday 10-11, 10-12


def test_deadlines_received_on_holiday_counts_from_next_workday(cal: WorkCalendar) -> None:
    dl = deadlines(datetime(2026, 10, 3, 10, 0), MessageKind.COMPLAINT, Severity.MAJOR, POLICY, cal)
    assert dl.first_reply == datetime(2026, 10, 9, 17, 30)
    assert dl.handling == datetime(2026, 10, 12, 17, 30)


def test_deadlines_calendar_facts_spring_festival_2026(cal: WorkCalendar) -> None:
    assert date(2026, 2, 13).weekday() == 4 and cal.is_workday(date(2026, 2, 13))
    assert date(2026, 2, 14).weekday() == 5 and cal.is_workday(date(2026, 2, 14))  # 调休 Saturday
    assert not any(cal.is_workday(d) for d in _days(date(2026, 2, 15), date(2026, 2, 23)))
    assert cal.is_workday(date(2026, 2, 24)) and cal.is_workday(date(2026, 2, 25))


def test_deadlines_complaint_before_spring_festival(cal: WorkCalendar) -> None:
    dl = deadlines(datetime(2026, 2, 13, 14, 0), MessageKind.COMPLAINT, Severity.MAJOR, POLICY, cal)
    assert dl.first_reply == datetime(2026, 2, 14, 17, 30)
    assert dl.handling == datetime(2026, 2, 25, 17, 30)  # 02-14, 02-24, 02-25


def test_deadlines_special_case_uses_seven_workdays(cal: WorkCalendar) -> None:
    dl = deadlines(
        datetime(2026, 9, 30, 9, 0), MessageKind.COMPLAINT, Severity.NORMAL, POLICY, cal, special=True
    )
    # 10-08, 10-09, 10-10, 10-12, 10-13, 10-14, 10-15
    assert dl.handling == datetime(2026, 10, 15, 17, 30)
    assert dl.first_reply == datetime(2026, 10, 8, 17, 30)


def test_deadlines_per_severity_settings(cal: WorkCalendar) -> None:
    policy = replace(POLICY, handling_workdays=BySeverity(5, 3, 2), first_reply_workdays=BySeverity(2, 1, 0))
    received = datetime(2026, 11, 24, 10, 0)  # Tuesday
    assert cal.is_workday(received.date())
    major = deadlines(received, MessageKind.COMPLAINT, Severity.MAJOR, policy, cal)
    normal = deadlines(received, MessageKind.COMPLAINT, Severity.NORMAL, policy, cal)
    assert major == Deadlines(datetime(2026, 11, 24, 17, 30), datetime(2026, 11, 26, 17, 30))
    assert normal == Deadlines(datetime(2026, 11, 26, 17, 30), datetime(2026, 12, 1, 17, 30))


def test_deadlines_end_of_day_is_a_setting(cal: WorkCalendar) -> None:
    policy = replace(POLICY, workday_end=time(17, 0))
    dl = deadlines(datetime(2026, 11, 24, 17, 10), MessageKind.COMPLAINT, Severity.NORMAL, policy, cal)
    assert dl.first_reply == datetime(2026, 11, 26, 17, 0)  # after 17:00 → counts from Wednesday


def test_deadlines_keep_timezone(cal: WorkCalendar) -> None:
    tz = timezone(timedelta(hours=8))
    dl = deadlines(
        datetime(2026, 11, 24, 9, 0, tzinfo=tz), MessageKind.COMPLAINT, Severity.NORMAL, POLICY, cal
    )
    assert dl.first_reply == datetime(2026, 11, 25, 17, 30, tzinfo=tz)
    assert dl.first_reply.tzinfo is tz


def test_deadlines_consultation_is_24_clock_hours(cal: WorkCalendar) -> None:
    received = datetime(2026, 9, 30, 15, 20)
    dl = deadlines(received, MessageKind.CONSULTATION, Severity.NORMAL, POLICY, cal)
    assert dl == Deadlines(datetime(2026, 10, 1, 15, 20), datetime(2026, 10, 1, 15, 20))
    policy = replace(POLICY, consultation_reply_hours=12)
    assert deadlines(
        received, MessageKind.CONSULTATION, Severity.NORMAL, policy, cal
    ).first_reply == datetime(2026, 10, 1, 3, 20)


def test_deadlines_suggestion_reply_date_in_workdays(cal: WorkCalendar) -> None:
    dl = deadlines(datetime(2026, 9, 30, 15, 20), MessageKind.SUGGESTION, Severity.NORMAL, POLICY, cal)
    assert dl.first_reply == dl.handling == datetime(2026, 10, 13, 17, 30)  # 10-08,09,10,12,13


def test_deadlines_accept_plain_string_labels(cal: WorkCalendar) -> None:
    a = deadlines(datetime(2026, 9, 30, 15, 20), "投诉", "重大", POLICY, cal)  # type: ignore[arg-type]
    b = deadlines(datetime(2026, 9, 30, 15, 20), MessageKind.COMPLAINT, Severity.MAJOR, POLICY, cal)
    assert a == b


def test_closing_visit_due_within_three_days_moved_to_workday(cal: WorkCalendar) -> None:
    # handled Monday 2026-09-28: +3 days = 10-01 (holiday) → next working day 10-08
    assert closing_visit_due(datetime(2026, 9, 28, 11, 0), POLICY, cal) == date(2026, 10, 8)
    assert closing_visit_due(datetime(2026, 11, 23, 11, 0), POLICY, cal) == date(2026, 11, 26)


def test_closing_visit_due_in_workdays_setting(cal: WorkCalendar) -> None:
    policy = replace(POLICY, closing_visit_days=2, closing_visit_in_workdays=True)
    assert closing_visit_due(datetime(2026, 9, 29, 11, 0), policy, cal) == date(2026, 10, 8)


def test_current_deadline_by_state() -> None:
    dl = Deadlines(datetime(2026, 11, 25, 17, 30), datetime(2026, 11, 27, 17, 30))
    visit = datetime(2026, 11, 30, 17, 30)
    assert current_deadline(S.PENDING, dl, visit) == dl.first_reply
    assert current_deadline(S.IN_PROGRESS, dl, visit) == dl.handling
    assert current_deadline(S.AWAITING_VISIT, dl, visit) == visit
    assert current_deadline(S.AWAITING_VISIT, dl) == dl.handling
    assert current_deadline(S.CLOSED, dl, visit) is None


# ---------------------------------------------------------------------------- overdue, chase, inquiry

DEADLINE = datetime(2026, 11, 25, 17, 30)


def test_is_overdue_only_open_and_past_deadline() -> None:
    later = DEADLINE + timedelta(minutes=1)
    assert is_overdue(S.IN_PROGRESS, DEADLINE, later)
    assert is_overdue(S.PENDING, DEADLINE, later)
    assert is_overdue(S.AWAITING_VISIT, DEADLINE, later)
    assert not is_overdue(S.IN_PROGRESS, DEADLINE, DEADLINE)
    assert not is_overdue(S.CLOSED, DEADLINE, later)
    assert not is_overdue(S.WITHDRAWN, DEADLINE, later)
    assert not is_overdue(S.IN_PROGRESS, None, later)


def test_should_escalate_respects_setting() -> None:
    later = DEADLINE + timedelta(hours=1)
    assert should_escalate(S.IN_PROGRESS, DEADLINE, later, POLICY)
    assert not should_escalate(S.IN_PROGRESS, DEADLINE, later, replace(POLICY, escalate_overdue=False))
    assert not should_escalate(S.IN_PROGRESS, DEADLINE, DEADLINE - timedelta(hours=1), POLICY)


def test_needs_chase_for_overdue_open_complaint() -> None:
    assert needs_chase(S.IN_PROGRESS, DEADLINE, DEADLINE + timedelta(days=1))
    assert not needs_chase(S.IN_PROGRESS, DEADLINE, DEADLINE - timedelta(days=1))
    assert not needs_chase(S.CLOSED, DEADLINE, DEADLINE + timedelta(days=1))


def test_needs_inquiry_when_closed_late() -> None:
    assert needs_inquiry(DEADLINE + timedelta(minutes=5), DEADLINE)
    assert not needs_inquiry(DEADLINE, DEADLINE)
    assert not needs_inquiry(DEADLINE - timedelta(days=1), DEADLINE)
    assert not needs_inquiry(None, DEADLINE)


def test_queue_sort_key_puts_overdue_first() -> None:
    now = datetime(2026, 11, 26, 9, 0)
    rows = {
        "closed": (S.CLOSED, datetime(2026, 11, 20, 17, 30)),
        "due_soon": (S.IN_PROGRESS, datetime(2026, 11, 26, 17, 30)),
        "overdue_new": (S.PENDING, datetime(2026, 11, 25, 17, 30)),
        "overdue_old": (S.IN_PROGRESS, datetime(2026, 11, 20, 17, 30)),
        "due_later": (S.AWAITING_VISIT, datetime(2026, 11, 30, 17, 30)),
    }
    order = sorted(rows, key=lambda k: queue_sort_key(rows[k][0], rows[k][1], now))
    assert order == ["overdue_old", "overdue_new", "due_soon", "due_later", "closed"]


def test_is_convertible_for_consultation_and_suggestion() -> None:
    assert is_convertible(MessageKind.CONSULTATION)
    assert is_convertible(MessageKind.SUGGESTION)
    assert not is_convertible(MessageKind.COMPLAINT)


# --------------------------------------------------------------------------------------- workflow

DONE = TransitionFacts(handling_result="已更换压缩机")
VISITED_OK = replace(DONE, closing_visit_satisfied=True)


def _reject(
    state: S,
    target: S,
    *,
    role: Role = Role.MANAGER,
    severity: Severity = Severity.NORMAL,
    facts: TransitionFacts = DONE,
    policy: ComplaintPolicy | None = None,
) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        check_transition(state, target, actor_role=role, severity=severity, facts=facts, policy=policy)
    return info.value


@pytest.mark.parametrize(
    ("state", "target", "facts"),
    [
        (S.PENDING, S.IN_PROGRESS, TransitionFacts()),
        (S.PENDING, S.WITHDRAWN, TransitionFacts(withdraw_reason="客户主动撤回")),
        (S.IN_PROGRESS, S.AWAITING_VISIT, DONE),
        (S.IN_PROGRESS, S.WITHDRAWN, TransitionFacts(withdraw_reason="重复登记")),
        (S.AWAITING_VISIT, S.CLOSED, VISITED_OK),
        (S.AWAITING_VISIT, S.IN_PROGRESS, replace(DONE, closing_visit_satisfied=False)),
        (S.AWAITING_VISIT, S.WITHDRAWN, TransitionFacts(withdraw_reason="客户撤诉")),
        (S.IN_PROGRESS, S.CLOSED, replace(DONE, anonymous=True, reply_letter_attached=True)),
    ],
)
def test_check_transition_legal_moves(state: S, target: S, facts: TransitionFacts) -> None:
    check_transition(state, target, actor_role=Role.CLERK, severity=Severity.NORMAL, facts=facts)  # no raise


@pytest.mark.parametrize(
    ("state", "target"),
    [
        (S.PENDING, S.AWAITING_VISIT),
        (S.PENDING, S.CLOSED),
        (S.IN_PROGRESS, S.PENDING),
        (S.AWAITING_VISIT, S.PENDING),
    ],
)
def test_check_transition_illegal_skips_and_backward_moves(state: S, target: S) -> None:
    err = _reject(state, target, facts=VISITED_OK)
    assert err.fields == ["state"]
    assert f"不能从“{state}”直接改为“{target}”" in str(err)


def test_check_transition_pending_must_be_accepted_first() -> None:
    assert "须先受理" in str(_reject(S.PENDING, S.CLOSED, facts=VISITED_OK))


def test_check_transition_same_state_rejected() -> None:
    err = _reject(S.IN_PROGRESS, S.IN_PROGRESS)
    assert "状态未变化" in str(err)


@pytest.mark.parametrize("target", [S.PENDING, S.IN_PROGRESS, S.AWAITING_VISIT, S.WITHDRAWN])
def test_check_transition_closed_is_final(target: S) -> None:
    err = _reject(S.CLOSED, target, facts=TransitionFacts(withdraw_reason="x"))
    assert err.fields == ["state"]
    assert "投诉已关闭，不能再变更" in str(err)
    assert "新建投诉并关联原投诉" in str(err)


@pytest.mark.parametrize("target", [S.PENDING, S.IN_PROGRESS, S.CLOSED])
def test_check_transition_withdrawn_is_final(target: S) -> None:
    err = _reject(S.WITHDRAWN, target, facts=VISITED_OK)
    assert "投诉已撤销，不能再变更" in str(err)


def test_check_transition_clerk_cannot_close_major() -> None:
    err = _reject(S.AWAITING_VISIT, S.CLOSED, role=Role.CLERK, severity=Severity.MAJOR, facts=VISITED_OK)
    assert err.fields == ["actor"]
    assert "重大投诉须由公司经理或更高级别关闭" in str(err)
    assert "客服专员无权关闭" in str(err)


def test_check_transition_level_rules_by_severity() -> None:
    err = _reject(S.AWAITING_VISIT, S.CLOSED, role=Role.CLERK, severity=Severity.IMPORTANT, facts=VISITED_OK)
    assert "重要投诉须由客服主管或更高级别关闭" in str(err)
    err = _reject(S.AWAITING_VISIT, S.CLOSED, role=Role.SUPERVISOR, severity=Severity.MAJOR, facts=VISITED_OK)
    assert "客服主管无权关闭" in str(err)
    check_transition(
        S.AWAITING_VISIT, S.CLOSED, actor_role=Role.SUPERVISOR, severity=Severity.IMPORTANT, facts=VISITED_OK
    )
    check_transition(
        S.AWAITING_VISIT, S.CLOSED, actor_role=Role.MANAGER, severity=Severity.MAJOR, facts=VISITED_OK
    )
    check_transition(
        S.AWAITING_VISIT, S.CLOSED, actor_role=Role.MANAGER, severity=Severity.NORMAL, facts=VISITED_OK
    )


def test_check_transition_level_applies_to_withdraw_and_finish_handling() -> None:
    err = _reject(
        S.IN_PROGRESS,
        S.WITHDRAWN,
        role=Role.CLERK,
        severity=Severity.MAJOR,
        facts=TransitionFacts(withdraw_reason="客户撤诉"),
    )
    assert "客服专员无权撤销" in str(err)
    err = _reject(S.IN_PROGRESS, S.AWAITING_VISIT, role=Role.CLERK, severity=Severity.IMPORTANT)
    assert "客服专员无权办结转回访" in str(err)


def test_check_transition_clerk_may_accept_major() -> None:
    check_transition(S.PENDING, S.IN_PROGRESS, actor_role=Role.CLERK, severity=Severity.MAJOR)


def test_check_transition_admin_does_no_business() -> None:
    err = _reject(S.PENDING, S.IN_PROGRESS, role=Role.ADMIN)
    assert err.fields == ["actor"]
    assert "系统管理员不处理投诉业务" in str(err)


def test_check_transition_level_follows_policy() -> None:
    policy = replace(POLICY, handler_roles=BySeverity(Role.CLERK, Role.SUPERVISOR, Role.SUPERVISOR))
    check_transition(
        S.AWAITING_VISIT,
        S.CLOSED,
        actor_role=Role.SUPERVISOR,
        severity=Severity.MAJOR,
        facts=VISITED_OK,
        policy=policy,
    )


@pytest.mark.parametrize("reason", ["", "   ", "\u3000"])
def test_check_transition_withdraw_needs_reason(reason: str) -> None:
    err = _reject(S.PENDING, S.WITHDRAWN, facts=TransitionFacts(withdraw_reason=reason))
    assert err.fields == ["withdraw_reason"]
    assert "撤销投诉须填写撤销原因" in str(err)


def test_check_transition_awaiting_visit_needs_handling_result() -> None:
    err = _reject(S.IN_PROGRESS, S.AWAITING_VISIT, facts=TransitionFacts())
    assert err.fields == ["handling_result"]
    assert "填写处理结果后才能转入待回访" in str(err)


def test_check_transition_close_needs_handling_result() -> None:
    err = _reject(S.AWAITING_VISIT, S.CLOSED, facts=TransitionFacts(closing_visit_satisfied=True))
    assert err.fields == ["handling_result"]


@pytest.mark.parametrize("facts", [replace(DONE, anonymous=True), replace(DONE, reply_only=True)])
def test_check_transition_no_visit_for_anonymous_or_reply_only(facts: TransitionFacts) -> None:
    err = _reject(S.IN_PROGRESS, S.AWAITING_VISIT, facts=facts)
    assert "不做回访：请附答复函后直接关闭" in str(err)


# ---------------------------------------------------------------------------------- closing rules


def test_closing_satisfied_visit_closes() -> None:
    check_transition(
        S.AWAITING_VISIT, S.CLOSED, actor_role=Role.CLERK, severity=Severity.NORMAL, facts=VISITED_OK
    )
    assert closing_outcome(True) is S.CLOSED
    assert not needs_new_visit(True)


def test_closing_unsatisfied_visit_sends_back() -> None:
    err = _reject(S.AWAITING_VISIT, S.CLOSED, facts=replace(DONE, closing_visit_satisfied=False))
    assert err.fields == ["closing_visit"]
    assert "结案回访结果为不满意" in str(err)
    assert "退回处理中并重新安排回访" in str(err)
    assert closing_outcome(False) is S.IN_PROGRESS
    assert needs_new_visit(False)


def test_closing_without_visit_rejected() -> None:
    err = _reject(S.AWAITING_VISIT, S.CLOSED, facts=DONE)
    assert "尚未完成结案回访" in str(err)


def test_closing_from_in_progress_needs_the_visit_first() -> None:
    err = _reject(S.IN_PROGRESS, S.CLOSED, facts=VISITED_OK)
    assert err.fields == ["closing_visit"]
    assert "须先转入待回访并完成结案回访" in str(err)


@pytest.mark.parametrize(
    ("anonymous", "reply_only", "label"), [(True, False, "匿名投诉"), (False, True, "只需书面答复的投诉")]
)
def test_closing_anonymous_or_reply_only_needs_letter(anonymous: bool, reply_only: bool, label: str) -> None:
    facts = replace(DONE, anonymous=anonymous, reply_only=reply_only)
    err = _reject(S.IN_PROGRESS, S.CLOSED, facts=facts)
    assert err.fields == ["reply_letter"]
    assert f"{label}须附答复函后才能关闭" in str(err)
    check_transition(
        S.IN_PROGRESS,
        S.CLOSED,
        actor_role=Role.CLERK,
        severity=Severity.NORMAL,
        facts=replace(facts, reply_letter_attached=True),
    )


def test_needs_closing_visit() -> None:
    assert needs_closing_visit(False, False)
    assert not needs_closing_visit(True, False)
    assert not needs_closing_visit(False, True)
    assert not needs_closing_visit(True, True)


# -------------------------------------------------------------------------------------- numbering


def test_format_complaint_number_default_pattern() -> None:
    assert DEFAULT_NUMBER_PATTERN == POLICY.number_pattern
    assert format_complaint_number(DEFAULT_NUMBER_PATTERN, date(2026, 11, 24), 3) == "TS20261124-003"
    assert format_complaint_number(DEFAULT_NUMBER_PATTERN, date(2026, 1, 5), 127) == "TS20260105-127"


def test_format_complaint_number_monthly_pattern() -> None:
    assert format_complaint_number(MONTHLY_NUMBER_PATTERN, date(2026, 11, 24), 3) == "261103"
    assert format_complaint_number(MONTHLY_NUMBER_PATTERN, date(2027, 2, 1), 12) == "270212"


def test_format_complaint_number_serial_overflow_not_truncated() -> None:
    assert format_complaint_number(MONTHLY_NUMBER_PATTERN, date(2026, 11, 24), 100) == "2611100"


def test_format_complaint_number_other_tokens() -> None:
    assert format_complaint_number("KS-{yyyy}-{mm}-{seq}", date(2026, 3, 9), 42) == "KS-2026-03-42"
    assert format_complaint_number("{yymmdd}{seq:04}", date(2026, 3, 9), 7) == "2603090007"


def test_format_complaint_number_rejects_bad_serial() -> None:
    with pytest.raises(ValueError, match="serial"):
        format_complaint_number(DEFAULT_NUMBER_PATTERN, date(2026, 11, 24), 0)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("TS{yyyymmdd}", "流水号"),
        ("{seq}{seq}", "流水号"),
        ("TS{week}{seq}", "不认识的占位符 {week}"),
        ("TS{seq:x}", "花括号"),
        ("   ", "不能为空"),
    ],
)
def test_validate_number_pattern_rejects(pattern: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_number_pattern(pattern)
    assert info.value.fields == ["number_pattern"]
    assert message in str(info.value)


def test_sequence_scope_per_day_and_per_month() -> None:
    day = date(2026, 11, 24)
    assert sequence_scope(DEFAULT_NUMBER_PATTERN, day) == "day:2026-11-24"
    assert sequence_scope(DEFAULT_NUMBER_PATTERN, date(2026, 11, 25)) != sequence_scope(
        DEFAULT_NUMBER_PATTERN, day
    )
    assert sequence_scope(MONTHLY_NUMBER_PATTERN, day) == "month:2026-11"
    assert sequence_scope(MONTHLY_NUMBER_PATTERN, date(2026, 11, 1)) == sequence_scope(
        MONTHLY_NUMBER_PATTERN, day
    )
    assert sequence_scope(MONTHLY_NUMBER_PATTERN, date(2026, 12, 1)) == "month:2026-12"


def test_sequence_scope_year_and_all() -> None:
    assert sequence_scope("TS{yyyy}-{seq:05}", date(2026, 11, 24)) == "year:2026"
    assert sequence_scope("TS{seq:06}", date(2026, 11, 24)) == "all"
    assert sequence_scope("{yyyy}{mm}{dd}{seq}", date(2026, 11, 24)) == "day:2026-11-24"


# ------------------------------------------------------------------------------- repeat detection


def test_subject_similarity_bigram_jaccard() -> None:
    assert subject_similarity("空调不制冷", "空调不制冷") == 1.0
    assert subject_similarity("空调不制冷", "空调不制冷了") == pytest.approx(4 / 5)
    assert subject_similarity("空调坏了不制冷", "空调不制冷") == pytest.approx(3 / 7)
    assert subject_similarity("空调不制冷", "发票开错了") == 0.0


def test_subject_similarity_ignores_punctuation_space_width_case() -> None:
    assert subject_similarity("空调，不制冷！", " 空调 不 制冷 ") == 1.0
    assert subject_similarity("ＡＢＣ型号漏水", "abc型号漏水。") == 1.0


def test_subject_similarity_empty_and_single_char() -> None:
    assert subject_similarity("", "空调") == 0.0
    assert subject_similarity("！！", "空调") == 0.0
    assert subject_similarity("贵", "贵") == 1.0
    assert subject_similarity("贵", "价格贵") == 0.0


NOW = datetime(2026, 11, 24, 10, 0)


def _existing(**changes: object) -> ExistingComplaint:
    base = ExistingComplaint(
        customer_id=7,
        phone="13812345678",
        subject="空调不制冷",
        received_on=date(2026, 10, 1),
        state=S.CLOSED,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_is_likely_repeat_same_customer_similar_subject() -> None:
    assert is_likely_repeat(RepeatCandidate(customer_id=7, subject="空调不制冷了"), _existing(), POLICY, NOW)


def test_is_likely_repeat_same_phone_in_other_format() -> None:
    candidate = RepeatCandidate(phone="+86 138-1234-5678", subject="空调，不制冷")
    assert is_likely_repeat(candidate, _existing(customer_id=None), POLICY, NOW)
    landline = RepeatCandidate(phone="0571 8888 6666", subject="空调不制冷")
    assert is_likely_repeat(landline, _existing(customer_id=None, phone="057188886666"), POLICY, NOW)


def test_is_likely_repeat_needs_same_customer_or_phone() -> None:
    candidate = RepeatCandidate(customer_id=8, phone="13900000000", subject="空调不制冷")
    assert not is_likely_repeat(candidate, _existing(), POLICY, NOW)
    assert not is_likely_repeat(
        RepeatCandidate(subject="空调不制冷"), _existing(customer_id=None, phone=""), POLICY, NOW
    )


def test_is_likely_repeat_needs_similar_subject() -> None:
    assert not is_likely_repeat(
        RepeatCandidate(customer_id=7, subject="发票开错了"), _existing(), POLICY, NOW
    )
    strict = replace(POLICY, repeat_similarity=0.9)
    assert not is_likely_repeat(
        RepeatCandidate(customer_id=7, subject="空调不制冷了"), _existing(), strict, NOW
    )


def test_is_likely_repeat_window_90_days() -> None:
    candidate = RepeatCandidate(customer_id=7, subject="空调不制冷")
    on_edge = NOW.date() - timedelta(days=90)
    too_old = NOW.date() - timedelta(days=91)
    assert is_likely_repeat(candidate, _existing(received_on=on_edge), POLICY, NOW)
    assert not is_likely_repeat(candidate, _existing(received_on=too_old), POLICY, NOW)
    # an older complaint that is still open is the same matter pending
    assert is_likely_repeat(candidate, _existing(received_on=too_old, state=S.IN_PROGRESS), POLICY, NOW)
    wide = replace(POLICY, repeat_window_days=120)
    assert is_likely_repeat(candidate, _existing(received_on=too_old), wide, NOW.date())


def test_likely_repeats_most_similar_first() -> None:
    candidate = RepeatCandidate(customer_id=7, subject="空调不制冷")
    close = _existing(subject="空调不制冷了")
    exact = _existing(subject="空调不制冷")
    other = _existing(subject="收费太高")
    stranger = _existing(customer_id=99, phone="", subject="空调不制冷")
    assert likely_repeats(candidate, [close, other, stranger, exact], POLICY, NOW) == [exact, close]


# ----------------------------------------------------------------------------------------- policy


def test_policy_defaults() -> None:
    assert POLICY.first_reply_workdays == BySeverity(1, 1, 1)
    assert POLICY.handling_workdays == BySeverity(3, 3, 3)
    assert POLICY.special_handling_workdays == 7
    assert POLICY.workday_end == time(17, 30)
    assert POLICY.closing_visit_days == 3
    assert POLICY.consultation_reply_hours == 24
    assert POLICY.suggestion_reply_workdays == 5
    assert POLICY.escalate_overdue is True
    assert POLICY.number_pattern == "TS{yyyymmdd}-{seq:03}"
    assert POLICY.repeat_window_days == 90
    assert 0 < POLICY.repeat_similarity < 1


def test_policy_dict_round_trip_through_json() -> None:
    assert ComplaintPolicy.from_dict(json.loads(json.dumps(POLICY.to_dict()))) == POLICY
    changed = replace(
        POLICY,
        first_reply_workdays=BySeverity(2, 1, 0),
        handling_workdays=BySeverity(5, 3, 2),
        special_handling_workdays=10,
        handler_roles=BySeverity(Role.CLERK, Role.CLERK, Role.SUPERVISOR),
        workday_end=time(18, 0),
        closing_visit_days=2,
        closing_visit_in_workdays=True,
        consultation_reply_hours=12,
        suggestion_reply_workdays=7,
        escalate_overdue=False,
        number_pattern=MONTHLY_NUMBER_PATTERN,
        repeat_window_days=60,
        repeat_similarity=0.5,
        categories=("服务态度", "专业素质", "服务效率", "其他"),
    )
    data = json.loads(json.dumps(changed.to_dict(), ensure_ascii=False))
    assert data["handling_workdays"] == {"一般": 5, "重要": 3, "重大": 2}
    assert data["handler_roles"]["重大"] == "supervisor"
    assert data["workday_end"] == "18:00"
    assert ComplaintPolicy.from_dict(data) == changed


def test_policy_from_dict_missing_keys_keep_defaults() -> None:
    assert ComplaintPolicy.from_dict({}) == POLICY
    partial = ComplaintPolicy.from_dict({"handling_workdays": {"重大": 2}, "repeat_window_days": 30})
    assert partial.handling_workdays == BySeverity(3, 3, 2)
    assert partial.repeat_window_days == 30
    assert partial.first_reply_workdays == POLICY.first_reply_workdays


def test_policy_from_dict_reports_bad_values() -> None:
    with pytest.raises(ValidationError) as info:
        ComplaintPolicy.from_dict(
            {
                "handling_workdays": {"一般": -1},
                "handler_roles": {"重大": "admin"},
                "workday_end": "25:99",
                "number_pattern": "TS{yyyymmdd}",
                "repeat_similarity": 1.5,
                "escalate_overdue": "yes",
                "categories": [],
            }
        )
    assert info.value.fields == [
        "handling_workdays",
        "handler_roles",
        "workday_end",
        "escalate_overdue",
        "number_pattern",
        "repeat_similarity",
        "categories",
    ]
    assert "编号规则" in str(info.value)
    assert "流水号" in str(info.value)
