from datetime import date, timedelta

import pytest

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.visits import (
    DEFAULT_PHONE_SCRIPTS,
    DEFAULT_SCALE,
    FIVE_LEVEL,
    SATISFACTION_SCALES,
    TEN_POINT,
    TWO_LEVEL,
    PlanState,
    SatisfactionScale,
    VisitMethod,
    VisitResult,
    VisitType,
    average_score,
    cancel_reason,
    default_phone_scripts,
    display_state,
    done_on_time,
    format_visit_number,
    is_overdue,
    needs_signature,
    on_time_rate,
    parse_visit_number,
    phone_script,
    signature_substitute,
    visit_rate,
)


def test_enums_values_are_the_chinese_labels():
    assert [t.value for t in VisitType] == [
        "例行",
        "技术",
        "到货",
        "使用",
        "满意度",
        "维修",
        "投诉",
        "专项",
        "节日",
        "活动",
        "开户",
        "首保",
        "年检",
        "续保",
        "生日",
    ]
    assert [m.value for m in VisitMethod] == ["上门", "电话", "短信", "邮件", "微信", "书信"]
    assert [r.value for r in VisitResult] == ["成功", "未接通", "拒绝", "不可达", "需再次回访"]
    assert [s.value for s in PlanState] == ["待回访", "已回访", "已取消"]
    assert VisitType("满意度") is VisitType.SATISFACTION


def test_display_state_overdue_only_when_pending_and_past_due():
    due = date(2026, 3, 10)
    assert display_state(PlanState.PENDING, due, date(2026, 3, 11)) == "逾期"
    assert display_state(PlanState.PENDING, due, due) == "待回访"
    assert display_state("已回访", due, date(2026, 4, 1)) == "已回访"
    assert display_state(PlanState.CANCELLED, due, date(2026, 4, 1)) == "已取消"


def test_is_overdue_ignores_done_and_cancelled():
    due = date(2026, 3, 10)
    assert is_overdue(PlanState.PENDING, due, date(2026, 3, 11)) is True
    assert is_overdue(PlanState.PENDING, due, date(2026, 3, 9)) is False
    assert is_overdue(PlanState.DONE, due, date(2026, 3, 11)) is False
    assert is_overdue(PlanState.CANCELLED, due, date(2026, 3, 11)) is False


def test_done_on_time_counts_the_due_day():
    assert done_on_time(date(2026, 3, 10), date(2026, 3, 10)) is True
    assert done_on_time(date(2026, 3, 11), date(2026, 3, 10)) is False


def test_cancel_reason_required():
    assert cancel_reason("  客户已搬迁 ") == "客户已搬迁"
    with pytest.raises(ValidationError) as info:
        cancel_reason("  ")
    assert info.value.fields == ["cancel_reason"]
    assert "取消原因" in str(info.value)


def test_rates_divide_and_zero_planned_gives_none():
    assert visit_rate(3, 4) == 0.75
    assert on_time_rate(1, 4) == 0.25
    assert visit_rate(0, 0) is None
    assert on_time_rate(0, 0) is None
    assert visit_rate(0, 5) == 0.0


def test_rates_reject_negative_counts():
    with pytest.raises(ValidationError) as info:
        visit_rate(-1, 5)
    assert info.value.fields == ["done"]
    with pytest.raises(ValidationError) as info:
        on_time_rate(1, -5)
    assert info.value.fields == ["planned"]


def test_needs_signature_only_on_site():
    assert needs_signature(VisitMethod.ON_SITE) is True
    assert needs_signature("上门") is True
    for method in (
        VisitMethod.PHONE,
        VisitMethod.SMS,
        VisitMethod.EMAIL,
        VisitMethod.WECHAT,
        VisitMethod.LETTER,
    ):
        assert needs_signature(method) is False
    assert (
        needs_signature(VisitMethod.LETTER, signed_methods=(VisitMethod.ON_SITE, VisitMethod.LETTER)) is True
    )


def test_signature_substitute_marks_phone_visit():
    assert signature_substitute(VisitMethod.PHONE) == "电话回访"
    assert signature_substitute(VisitMethod.ON_SITE) is None


def test_scale_five_level_is_default_and_scores():
    assert DEFAULT_SCALE is FIVE_LEVEL
    assert FIVE_LEVEL.levels == ("很满意", "满意", "一般", "不满意", "很不满意")
    assert [FIVE_LEVEL.score(v) for v in FIVE_LEVEL.levels] == [100.0, 75.0, 50.0, 25.0, 0.0]
    assert FIVE_LEVEL.is_satisfied("满意") is True
    assert FIVE_LEVEL.is_satisfied("一般") is False
    assert FIVE_LEVEL.is_satisfied("很不满意") is False


def test_scale_ten_point_and_two_level():
    assert TEN_POINT.score("10") == 100.0
    assert TEN_POINT.score("1") == 0.0
    assert TEN_POINT.score("4") == pytest.approx(100 / 3)
    assert TEN_POINT.is_satisfied("7") is True
    assert TEN_POINT.is_satisfied("6") is False
    assert TWO_LEVEL.score("满意") == 100.0
    assert TWO_LEVEL.score("不满意") == 0.0
    assert TWO_LEVEL.is_satisfied("不满意") is False
    assert set(SATISFACTION_SCALES) == {"five_level", "ten_point", "two_level"}


def test_scale_unknown_value_names_the_field():
    with pytest.raises(ValidationError) as info:
        FIVE_LEVEL.score("还行")
    assert info.value.fields == ["satisfaction"]
    assert "还行" in str(info.value)
    with pytest.raises(ValidationError):
        TWO_LEVEL.is_satisfied("一般")


def test_scale_validates_levels_and_round_trips():
    with pytest.raises(ValidationError):
        SatisfactionScale("x", ("好",), frozenset())
    with pytest.raises(ValidationError):
        SatisfactionScale("x", ("好", "好"), frozenset())
    with pytest.raises(ValidationError) as info:
        SatisfactionScale("x", ("好", "差"), frozenset({"很好"}))
    assert info.value.fields == ["satisfied"]
    for scale in SATISFACTION_SCALES.values():
        assert SatisfactionScale.from_dict(scale.to_dict()) == scale


def test_average_score():
    assert average_score(["很满意", "一般"]) == 75.0
    assert average_score([]) is None
    assert average_score(["满意", "不满意", "满意"], TWO_LEVEL) == pytest.approx(200 / 3)


def test_format_visit_number():
    assert format_visit_number(date(2026, 11, 22), 3) == "HF20261122-003"
    assert format_visit_number(date(2026, 1, 2), 1234) == "HF20260102-1234"
    with pytest.raises(ValidationError):
        format_visit_number(date(2026, 1, 2), 0)


def test_parse_visit_number_round_trip_and_errors():
    assert parse_visit_number("HF20261122-003") == (date(2026, 11, 22), 3)
    assert parse_visit_number(format_visit_number(date(2027, 2, 28), 45)) == (date(2027, 2, 28), 45)
    with pytest.raises(ValidationError):
        parse_visit_number("HF20261322-003")
    with pytest.raises(ValidationError):
        parse_visit_number("TS20261122-003")


def test_phone_scripts_cover_every_type():
    assert set(DEFAULT_PHONE_SCRIPTS) == set(VisitType)
    assert all(len(q) >= 2 for q in DEFAULT_PHONE_SCRIPTS.values())
    arrival = " ".join(phone_script(VisitType.DELIVERY))
    assert "收到" in arrival and "齐全" in arrival and "破损" in arrival
    usage = " ".join(phone_script("使用"))
    assert "使用" in usage and "问题" in usage
    satisfaction = " ".join(phone_script(VisitType.SATISFACTION))
    assert "质量" in satisfaction and "服务" in satisfaction


def test_phone_scripts_office_override_and_fresh_copy():
    scripts = default_phone_scripts()
    scripts["到货"] = ["货到了吗？"]
    assert phone_script(VisitType.DELIVERY, scripts) == ("货到了吗？",)
    assert phone_script(VisitType.USAGE, {"到货": ["x"]}) == DEFAULT_PHONE_SCRIPTS[VisitType.USAGE]
    assert default_phone_scripts()["到货"] != ["货到了吗？"]


def test_who_may_change_a_plan_a_miss_stands() -> None:
    """domain.md §9: until its due day the owner re-dates or cancels a pending plan; after it only who may edit
    overdue plans (a supervisor); another person's plan only who may reassign; never a done one."""
    from huifang_desktop.domain.roles import Role
    from huifang_desktop.domain.visits import can_change_plan

    due, today = date(2026, 11, 24), date(2026, 11, 24)
    assert can_change_plan(Role.CLERK, "待回访", due, today, own=True)
    assert not can_change_plan(Role.CLERK, "待回访", due, today, own=False)
    assert not can_change_plan(Role.CLERK, "待回访", due, today + timedelta(days=1), own=True)
    assert can_change_plan(Role.SUPERVISOR, "待回访", due, today + timedelta(days=1), own=False)
    assert not can_change_plan(Role.SUPERVISOR, "已回访", due, today, own=True)
    assert not can_change_plan(Role.ADMIN, "待回访", due, today, own=True)
