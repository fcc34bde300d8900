"""Statistics, the 考核 assessment and the reports on a small hand-built office where every figure is known.

The clock is fixed at Tuesday 2026-11-24 10:00 (tests/conftest.py). The office (see :func:`office`):

October 2026 (the month under test; September is the month it is compared with)
  plans   小王  P1 例行 due 10-10 done 10-09 (on time)      P2 例行 due 10-12 done 10-15 (late)
              P3 例行 due 10-20 pending (overdue)            P4 到货 due 10-15 done 10-15 (on time)
              P5 使用 due 10-22 pending (overdue)             P6 例行 due 10-05 cancelled (not counted)
          小李  P7 维修 due 10-08 done 10-08 (on time)        P8 投诉 due 10-28 done 10-30 (late)
  records 小王  R1 10-09 例行 成功 很满意 · R2 10-15 例行 成功 满意 · R3 10-15 到货 成功 一般, problem passed to
              仓储部, answered after its 24 h · R6 10-21 例行 未接通 (no plan)
          小李  R4 10-08 维修 成功 很满意 · R5 10-30 投诉 成功 不满意, passed to 质量部, answered in time
  reports 小王  10-09 filed 10-10 (in time) · 10-15 filed 10-20 (late) · none for 10-21
          小李  10-01..10-31 filed 11-02, due 11-02 (in time)
  complaints C1 产品质量 一般 已关闭 (2 occurrences; handled after 2 days, closed after 4; 满意)
             C2 服务态度 重要 处理中 (overdue, escalated once) · C3 产品质量 重大 待回访 (handled after 1.5 days,
             reopened from C0) · C4 交付物流 一般 已撤销 · one 咨询 (not a complaint)
September: 小王 P9 例行 done on time with R7 (满意); 小李 P10 例行 overdue; C0 产品质量 一般 已关闭 (1 day / 2 days).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.signoff import Integrity
from huifang_desktop.domain.stats import (
    AssessmentRule,
    AssessmentRules,
    AssessmentStatus,
    EventKind,
    StatsOptions,
    month_period,
    parse_period,
    quarter_period,
)
from huifang_desktop.services import stats
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import LockedError, PermissionDenied
from huifang_desktop.storage.models import (
    AuditLog,
    Complaint,
    Customer,
    Department,
    MonthlyAssessment,
    VisitPlan,
    VisitRecord,
    VisitReport,
)
from tests.conftest import PASSWORD

AsUser = Callable[[ServiceContext, UserInfo], ServiceContext]
OCTOBER = month_period(2026, 10)
_serial = iter(range(1, 1_000_000))


@dataclass(frozen=True)
class Office:
    wang: UserInfo
    li: UserInfo
    supervisor: UserInfo
    manager: UserInfo


def _customer(ctx: ServiceContext, name: str, grade: str, owner: UserInfo) -> int:
    with ctx.sessions() as s, s.begin():
        dep = s.execute(select(Department.id).where(Department.name == owner.department)).scalar()
        c = Customer(
            code=f"KH{next(_serial):06d}",
            name=name,
            initials="x",
            grade=grade,
            created_on=date(2026, 1, 5),
            owner_id=owner.id,
            department_id=dep,
            updated_at=datetime(2026, 1, 5),
        )
        s.add(c)
        s.flush()
        return c.id


def _plan(
    ctx: ServiceContext,
    customer_id: int,
    owner: UserInfo,
    due: date,
    *,
    rule_key: str = "routine",
    visit_type: str = "例行",
    state: str = "待回访",
    done_on: date | None = None,
) -> int:
    with ctx.sessions() as s, s.begin():
        p = VisitPlan(
            customer_id=customer_id,
            source_key=f"test:{next(_serial)}",
            rule_key=rule_key,
            visit_type=visit_type,
            method="电话",
            earliest=due,
            due=due,
            owner_id=owner.id,
            attempt=1,
            state=state,
            cancel_reason="重复" if state == "已取消" else "",
            manual=False,
            done_on=done_on,
            created_at=datetime(2026, 9, 1),
        )
        s.add(p)
        s.flush()
        return p.id


def _record(
    ctx: ServiceContext,
    customer_id: int,
    visitor: UserInfo,
    at: datetime,
    visit_type: str,
    result: str = "成功",
    satisfaction: str = "",
    plan_id: int | None = None,
    *,
    transfer: tuple[str, datetime, datetime | None] | None = None,
) -> int:
    with ctx.sessions() as s, s.begin():
        r = VisitRecord(
            number=f"HF{at:%Y%m%d}-{next(_serial):03d}",
            plan_id=plan_id,
            customer_id=customer_id,
            visit_type=visit_type,
            method="电话",
            visited_at=at,
            visitor_id=visitor.id,
            result=result,
            satisfaction=satisfaction,
            status="待审阅",
            created_at=at,
        )
        if transfer is not None:
            r.problems, r.transfer_department = "少一个配件", transfer[0]
            r.transfer_due, r.transfer_done_at = transfer[1], transfer[2]
        s.add(r)
        s.flush()
        return r.id


def _report(ctx: ServiceContext, clerk: UserInfo, start: date, end: date, filed: datetime, due: date) -> None:
    with ctx.sessions() as s, s.begin():
        s.add(
            VisitReport(
                number=f"BG{filed:%Y%m%d}-{next(_serial):03d}",
                clerk_id=clerk.id,
                period_start=start,
                period_end=end,
                summary="{}",
                status="待审阅",
                due_on=due,
                created_at=filed,
            )
        )


def _complaint(
    ctx: ServiceContext,
    number: str,
    received: datetime,
    category: str,
    severity: str,
    state: str,
    *,
    kind: str = "投诉",
    handled: datetime | None = None,
    closed: datetime | None = None,
    occurrences: int = 1,
    escalation: int = 0,
    deadline: datetime | None = None,
    satisfaction: str = "",
    linked_to: int | None = None,
) -> int:
    with ctx.sessions() as s, s.begin():
        c = Complaint(
            number=number,
            kind=kind,
            received_at=received,
            channel="电话",
            subject="问题",
            category=category,
            severity=severity,
            state=state,
            first_reply_due=received,
            handling_due=received,
            deadline=deadline,
            handled_at=handled,
            closed_at=closed,
            occurrences=occurrences,
            escalation_level=escalation,
            satisfaction=satisfaction,
            linked_to_id=linked_to,
            created_at=received,
            updated_at=received,
        )
        s.add(c)
        s.flush()
        return c.id


@pytest.fixture
def office(
    ctx: ServiceContext,
    admin: UserInfo,
    clerk: UserInfo,
    clerk2: UserInfo,
    supervisor: UserInfo,
    manager: UserInfo,
    as_user: AsUser,
) -> Office:
    sctx = as_user(ctx, supervisor)
    rules = v.load_rules(ctx)
    v.save_rules(
        sctx,
        replace(
            rules,
            rules=tuple(replace(r, target_rate=0.3) if r.key == "repair_done" else r for r in rules.rules),
        ),
    )
    a = _customer(ctx, "甲公司", "A", clerk)
    b = _customer(ctx, "乙公司", "B", clerk)
    c = _customer(ctx, "丙公司", "C", clerk2)
    p1 = _plan(ctx, a, clerk, date(2026, 10, 10), state="已回访", done_on=date(2026, 10, 9))
    p2 = _plan(ctx, a, clerk, date(2026, 10, 12), state="已回访", done_on=date(2026, 10, 15))
    _plan(ctx, a, clerk, date(2026, 10, 20))
    p4 = _plan(
        ctx,
        b,
        clerk,
        date(2026, 10, 15),
        rule_key="delivery_arrival",
        visit_type="到货",
        state="已回访",
        done_on=date(2026, 10, 15),
    )
    _plan(ctx, b, clerk, date(2026, 10, 22), rule_key="delivery_usage", visit_type="使用")
    _plan(ctx, a, clerk, date(2026, 10, 5), state="已取消")
    p7 = _plan(
        ctx,
        c,
        clerk2,
        date(2026, 10, 8),
        rule_key="repair_done",
        visit_type="维修",
        state="已回访",
        done_on=date(2026, 10, 8),
    )
    p8 = _plan(
        ctx,
        c,
        clerk2,
        date(2026, 10, 28),
        rule_key="complaint_closed",
        visit_type="投诉",
        state="已回访",
        done_on=date(2026, 10, 30),
    )
    p9 = _plan(ctx, a, clerk, date(2026, 9, 15), state="已回访", done_on=date(2026, 9, 15))
    _plan(ctx, c, clerk2, date(2026, 9, 20))
    _record(ctx, a, clerk, datetime(2026, 10, 9, 10), "例行", satisfaction="很满意", plan_id=p1)
    _record(ctx, a, clerk, datetime(2026, 10, 15, 10), "例行", satisfaction="满意", plan_id=p2)
    _record(
        ctx,
        b,
        clerk,
        datetime(2026, 10, 15, 11),
        "到货",
        satisfaction="一般",
        plan_id=p4,
        transfer=("仓储部", datetime(2026, 10, 16, 11), datetime(2026, 10, 17, 9)),
    )
    _record(ctx, c, clerk2, datetime(2026, 10, 8, 15), "维修", satisfaction="很满意", plan_id=p7)
    _record(
        ctx,
        c,
        clerk2,
        datetime(2026, 10, 30, 9),
        "投诉",
        satisfaction="不满意",
        plan_id=p8,
        transfer=("质量部", datetime(2026, 10, 31, 9), datetime(2026, 10, 31, 8)),
    )
    _record(ctx, a, clerk, datetime(2026, 10, 21, 16), "例行", result="未接通")
    _record(ctx, a, clerk, datetime(2026, 9, 15, 10), "例行", satisfaction="满意", plan_id=p9)
    _report(ctx, clerk, date(2026, 10, 9), date(2026, 10, 9), datetime(2026, 10, 10, 9), date(2026, 10, 10))
    _report(ctx, clerk, date(2026, 10, 15), date(2026, 10, 15), datetime(2026, 10, 20, 9), date(2026, 10, 16))
    _report(ctx, clerk2, date(2026, 10, 1), date(2026, 10, 31), datetime(2026, 11, 2, 9), date(2026, 11, 2))
    c0 = _complaint(
        ctx,
        "TS0",
        datetime(2026, 9, 10, 9),
        "产品质量",
        "一般",
        "已关闭",
        handled=datetime(2026, 9, 11, 9),
        closed=datetime(2026, 9, 12, 9),
        satisfaction="很满意",
    )
    _complaint(
        ctx,
        "TS1",
        datetime(2026, 10, 2, 9),
        "产品质量",
        "一般",
        "已关闭",
        handled=datetime(2026, 10, 4, 9),
        closed=datetime(2026, 10, 6, 9),
        occurrences=2,
        satisfaction="满意",
    )
    _complaint(
        ctx,
        "TS2",
        datetime(2026, 10, 10, 9),
        "服务态度",
        "重要",
        "处理中",
        escalation=1,
        deadline=datetime(2026, 10, 15, 17, 30),
    )
    _complaint(
        ctx,
        "TS3",
        datetime(2026, 10, 20, 9),
        "产品质量",
        "重大",
        "待回访",
        handled=datetime(2026, 10, 21, 21),
        linked_to=c0,
        deadline=datetime(2026, 12, 1, 17, 30),
    )
    _complaint(ctx, "TS4", datetime(2026, 10, 25, 9), "交付物流", "一般", "已撤销")
    _complaint(ctx, "ZX1", datetime(2026, 10, 5, 9), "", "一般", "已关闭", kind="咨询")
    return Office(clerk, clerk2, supervisor, manager)


# --- figures ------------------------------------------------------------------------------------------


def test_visit_totals_of_the_month_and_the_month_before(ctx: ServiceContext, office: Office) -> None:
    t = stats.visit_totals(ctx, OCTOBER)
    assert (t.planned, t.done, t.on_time, t.overdue) == (7, 5, 3, 2)
    assert t.visit_rate.value == pytest.approx(5 / 7)
    assert t.visit_rate.target == pytest.approx((6 * 1.0 + 0.3) / 7)  # 维修回访's target is 30 %
    assert t.on_time_rate.value == pytest.approx(3 / 7)
    assert t.records == 6
    assert t.by_type == (("例行", 3), ("到货", 1), ("维修", 1), ("投诉", 1))
    assert t.by_result == (("成功", 5), ("未接通", 1))
    sat = t.satisfaction
    assert sat.levels == (("很满意", 2), ("满意", 1), ("一般", 1), ("不满意", 1), ("很不满意", 0))
    assert (sat.answered, sat.satisfied) == (5, 3)
    assert sat.satisfied_rate.value == pytest.approx(0.6)
    assert sat.average == pytest.approx((100 + 100 + 75 + 50 + 25) / 5)
    sept = stats.visit_totals(ctx, OCTOBER.previous())
    assert (sept.planned, sept.done, sept.on_time, sept.overdue, sept.records) == (2, 1, 1, 1, 1)


def test_group_rows_by_clerk_department_grade_type_and_month(ctx: ServiceContext, office: Office) -> None:
    by_clerk = {g.key: g for g in stats.group_rows(ctx, OCTOBER, "clerk")}
    wang, li = by_clerk["小王"], by_clerk["小李"]
    assert (wang.planned, wang.done, wang.on_time, wang.overdue, wang.records) == (5, 3, 2, 2, 4)
    assert (wang.visit_rate.value, wang.visit_rate.target, wang.on_time_rate.value) == (0.6, 1.0, 0.4)
    assert (wang.satisfaction.satisfied, wang.satisfaction.answered) == (2, 3)
    assert wang.satisfaction.average == pytest.approx(75.0)
    assert (li.planned, li.done, li.on_time, li.overdue, li.records) == (2, 2, 1, 0, 2)
    assert li.visit_rate.target == pytest.approx(0.65)
    assert li.satisfaction.average == pytest.approx(62.5)
    assert [g.key for g in stats.group_rows(ctx, OCTOBER, "clerk")] == ["小王", "小李"]  # most plans first
    by_dep = {g.key: (g.planned, g.done, g.records) for g in stats.group_rows(ctx, OCTOBER, "department")}
    assert by_dep == {"客服部": (5, 3, 4), "销售部": (2, 2, 2)}
    by_grade = {g.key: (g.planned, g.done, g.records) for g in stats.group_rows(ctx, OCTOBER, "grade")}
    assert by_grade == {"A": (3, 2, 3), "B": (2, 1, 1), "C": (2, 2, 2)}
    by_type = [(g.key, g.planned, g.done, g.records) for g in stats.group_rows(ctx, OCTOBER, "type")]
    assert by_type == [
        ("例行", 3, 2, 3),
        ("到货", 1, 1, 1),
        ("使用", 1, 0, 0),
        ("维修", 1, 1, 1),
        ("投诉", 1, 1, 1),
    ]
    q4 = [
        (g.key, g.planned, g.done, g.records) for g in stats.group_rows(ctx, parse_period("2026Q4"), "month")
    ]
    assert q4 == [("2026-10", 7, 5, 6)]
    with pytest.raises(ValidationError):
        stats.group_rows(ctx, OCTOBER, "weekday")


def test_rule_rows_against_each_rules_target_and_sample_rate(ctx: ServiceContext, office: Office) -> None:
    rows = {r.name: r for r in stats.rule_rows(ctx, OCTOBER)}
    assert set(rows) == {"例行回访", "到货回访", "使用回访（1周）", "维修回访", "投诉回访"}
    routine = rows["例行回访"]
    assert (routine.planned, routine.done, routine.on_time, routine.overdue) == (3, 2, 1, 1)
    assert routine.sample_rate is None and routine.visit_rate.meets_target is False
    repair = rows["维修回访"]
    assert (repair.sample_rate, repair.visit_rate.value, repair.visit_rate.target) == (0.3, 1.0, 0.3)
    assert repair.visit_rate.meets_target is True
    assert rows["使用回访（1周）"].visit_rate.value == 0.0
    assert rows["投诉回访"].on_time_rate.value == 0.0


def test_complaint_figures_of_the_month(ctx: ServiceContext, office: Office) -> None:
    c = stats.complaint_figures(ctx, OCTOBER)
    assert c.received == 4  # the 咨询 is not a complaint
    assert c.by_category == (("产品质量", 2), ("服务态度", 1), ("交付物流", 1))
    assert c.by_severity == (("一般", 2), ("重要", 1), ("重大", 1))
    assert c.by_state == (("处理中", 1), ("待回访", 1), ("已关闭", 1), ("已撤销", 1))
    assert (c.handled, c.closed, c.withdrawn) == (2, 1, 1)
    assert (c.handling_rate.value, c.handling_rate.target) == (pytest.approx(2 / 3), 1.0)
    assert c.handling_rate.meets_target is False
    assert c.closing_rate.value == pytest.approx(1 / 3)
    assert c.avg_handling_days == pytest.approx((2 + 1.5) / 2)
    assert c.avg_closing_days == pytest.approx(4.0)
    assert (c.repeated, c.repeat_reports, c.reopened, c.escalated, c.overdue_open) == (1, 1, 1, 1, 1)
    assert c.satisfaction.levels[1] == ("满意", 1) and c.satisfaction.answered == 1
    sept = stats.complaint_figures(ctx, OCTOBER.previous())
    assert (sept.received, sept.handling_rate.value, sept.avg_handling_days, sept.avg_closing_days) == (
        1,
        1.0,
        pytest.approx(1.0),
        pytest.approx(2.0),
    )


def test_complaint_handling_target_and_states_are_settings(
    ctx: ServiceContext, office: Office, as_user: AsUser
) -> None:
    stats.save_stats_options(
        as_user(ctx, office.supervisor), StatsOptions(handling_rate_target=0.6, handled_states=("已关闭",))
    )
    c = stats.complaint_figures(ctx, OCTOBER)
    assert (c.handled, c.handling_rate.value, c.handling_rate.meets_target) == (
        1,
        pytest.approx(1 / 3),
        False,
    )
    assert stats.load_stats_options(ctx).handling_rate_target == 0.6
    with pytest.raises(PermissionDenied):
        stats.save_stats_options(as_user(ctx, office.wang), StatsOptions())


def test_trend_month_by_month(ctx: ServiceContext, office: Office) -> None:
    points = stats.trend(ctx, OCTOBER, 3)
    assert [p.month for p in points] == ["2026-08", "2026-09", "2026-10"]
    aug, sep, octo = points
    assert (aug.planned, aug.visit_rate, aug.records, aug.complaints, aug.average) == (0, None, 0, 0, None)
    assert (sep.planned, sep.done, sep.visit_rate, sep.records, sep.satisfied_rate, sep.complaints) == (
        2,
        1,
        0.5,
        1,
        1.0,
        1,
    )
    assert (octo.planned, octo.done, octo.records, octo.complaints) == (7, 5, 6, 4)
    assert octo.visit_rate == pytest.approx(5 / 7) and octo.satisfied_rate == pytest.approx(0.6)
    assert len(stats.trend(ctx, OCTOBER)) == 12  # StatsOptions.trend_months


def test_statistics_bundle_compares_with_the_previous_period_and_counts_service_visits(
    ctx: ServiceContext, office: Office
) -> None:
    st = stats.statistics(ctx, "2026-10")
    assert st.previous == month_period(2026, 9)
    assert (st.totals.planned, st.previous_totals.planned) == (7, 2)
    assert (st.complaints.received, st.previous_complaints.received) == (4, 1)
    assert (st.services.visit_types, st.services.visits, st.services.satisfaction.satisfied) == (
        ("维修",),
        1,
        1,
    )
    assert "售后服务台账" in st.services.note
    assert [g.key for g in st.groups] == ["小王", "小李"]
    q = stats.statistics(ctx, quarter_period(2026, 4), "month")
    assert q.previous == quarter_period(2026, 3)
    assert (q.totals.planned, q.previous_totals.planned) == (7, 2)


def test_statistics_first_step_leaves_the_comparison_and_trend_to_the_second(
    ctx: ServiceContext, office: Office
) -> None:
    first = stats.statistics(ctx, OCTOBER, complete=False)
    assert not first.complete and first.previous_totals is None and first.trend == ()
    assert first.totals.planned == 7 and [g.key for g in first.groups] == ["小王", "小李"]
    summary = {row[0]: row for row in stats.report_from(ctx, first).table("summary").rows}
    assert summary["计划回访（次）"][1:4] == (7, None, "…")
    full = stats.complete_statistics(ctx, first)
    assert full.complete and full.previous_totals is not None and full.previous_totals.planned == 2
    assert len(full.trend) == 12 and full.totals == first.totals
    assert stats.complete_statistics(ctx, full) is full


def test_plan_counts_are_the_one_scan_behind_the_rates(ctx: ServiceContext, office: Office) -> None:
    counts = v.plan_counts(ctx, OCTOBER.start, OCTOBER.end, ("owner", "type"))
    cells = {(c.key, c.rule_key): (c.planned, c.done, c.on_time, c.overdue) for c in counts}
    assert cells[((office.wang.id, "例行"), "routine")] == (3, 2, 1, 1)
    assert cells[((office.wang.id, "使用"), "delivery_usage")] == (1, 0, 0, 1)
    assert cells[((office.li.id, "投诉"), "complaint_closed")] == (1, 1, 0, 0)
    assert sum(c.planned for c in counts) == 7
    by_dep = {r.key: (r.planned, r.done) for r in v.rates(ctx, OCTOBER.start, OCTOBER.end, "department")}
    assert by_dep == {"客服部": (5, 3), "销售部": (2, 2)}
    with pytest.raises(ValidationError):
        v.plan_counts(ctx, OCTOBER.start, OCTOBER.end, ("weekday",))


def test_statistics_respect_the_department_visibility_setting(
    ctx: ServiceContext, office: Office, as_user: AsUser
) -> None:
    from huifang_desktop.services.settings import load_settings, save_settings

    save_settings(as_user(ctx, office.manager), replace(load_settings(ctx), visibility="department"))
    wang = as_user(ctx, office.wang)  # 客服部: customers 甲 and 乙 only
    t = stats.visit_totals(wang, OCTOBER)
    assert (t.planned, t.records) == (5, 4)
    assert stats.visit_totals(as_user(ctx, office.manager), OCTOBER).planned == 7


def test_statistics_need_a_business_role(
    ctx: ServiceContext, office: Office, admin: UserInfo, as_user: AsUser
) -> None:
    with pytest.raises(PermissionDenied):
        stats.statistics(as_user(ctx, admin), OCTOBER)


# --- assessment ---------------------------------------------------------------------------------------


def test_assessment_counts_each_clerks_events_of_the_month(ctx: ServiceContext, office: Office) -> None:
    view = stats.assessment(ctx, "2026-10")
    assert view.status is AssessmentStatus.OPEN and not view.locked
    assert view.deadline == date(2026, 11, 10)  # 002 制度3: 每月十日前
    by_name = {c.clerk: c for c in view.assessment.clerks}
    assert set(by_name) == {"小王", "小李"}  # clerks only: the supervisor and manager are not assessed
    wang = by_name["小王"]
    # 001 §3: the late 1-week 使用回访 is not 3.1 (only the 1–5-day 到货回访 is); the report ledger measures are off
    assert {k: wang.line(k).count for k in EventKind if wang.line(k).count} == {
        EventKind.MISSED_VISIT: 2,
        EventKind.PROBLEM_NOT_PASSED: 1,
    }
    assert (wang.count, wang.amount, wang.points, wang.department) == (3, 150, 0, "客服部")
    assert {e.source for e in view.assessment.events_of(office.wang.id)} == {"visit_plan", "visit_record"}
    li = by_name["小李"]
    assert (li.count, li.amount) == (0, 0)
    assert (view.assessment.count, view.assessment.amount) == (3, 150)


def test_assessment_amounts_points_and_doubling_come_from_the_settings(
    ctx: ServiceContext, office: Office, as_user: AsUser
) -> None:
    rules = AssessmentRules().with_rule(
        AssessmentRule(EventKind.MISSED_VISIT, amount=100, points=5, repeat_multiplier=2)
    )
    rules = rules.with_rule(AssessmentRule(EventKind.LEDGER_NOT_KEPT, enabled=False))
    with pytest.raises(PermissionDenied):  # the 考核 table is the manager's
        stats.save_assessment_rules(as_user(ctx, office.supervisor), rules)
    stats.save_assessment_rules(as_user(ctx, office.manager), rules)
    wang = {c.clerk: c for c in stats.compute_assessment(ctx, OCTOBER).clerks}["小王"]
    missed = wang.line(EventKind.MISSED_VISIT)
    assert (missed.count, missed.amount, missed.points) == (2, 300, 15)  # 100 + the repeat doubled
    assert wang.line(EventKind.LEDGER_NOT_KEPT).count == 0
    assert (wang.amount, wang.points) == (300 + 50, 15)
    with ctx.sessions() as s:
        stored = s.execute(select(AuditLog).where(AuditLog.label == "考核规则")).scalar_one()
    assert json.loads(stored.new)["rules"]["missed_visit"]["amount"] == 100


def test_assessment_clerk_sees_only_their_own_line(
    ctx: ServiceContext, office: Office, as_user: AsUser
) -> None:
    view = stats.assessment(as_user(ctx, office.li), OCTOBER)
    assert [c.clerk for c in view.assessment.clerks] == ["小李"]
    assert not view.can_confirm
    assert len(stats.assessment(as_user(ctx, office.supervisor), OCTOBER).assessment.clerks) == 2


def test_assessment_is_monthly(ctx: ServiceContext, office: Office) -> None:
    with pytest.raises(ValidationError) as exc:
        stats.assessment(ctx, "2026Q4")
    assert exc.value.fields == ["month"]


def test_confirm_assessment_by_the_manager_signs_and_locks_the_month(
    ctx: ServiceContext, office: Office, as_user: AsUser
) -> None:
    mctx = as_user(ctx, office.manager)
    assert stats.assessment(mctx, OCTOBER).can_confirm
    view = stats.confirm_assessment(mctx, OCTOBER, "同意", password=PASSWORD)
    assert view.status is AssessmentStatus.CONFIRMED and view.locked
    assert (view.confirmed_by, view.confirmed_at, view.comment) == (
        "赵经理",
        datetime(2026, 11, 24, 10),
        "同意",
    )
    assert view.integrity is Integrity.INTACT
    assert (view.assessment.count, view.assessment.amount) == (3, 150)
    with ctx.sessions() as s:
        row = s.execute(select(MonthlyAssessment)).scalar_one()
        assert (row.month, row.status, row.total_amount, row.signed_role) == (
            "2026-10",
            "已确认",
            150,
            "manager",
        )
        assert len(row.content_hash) == 64 and len(row.signature_hash) == 64
        log = s.execute(select(AuditLog).where(AuditLog.action == "确认考核")).scalar_one()
        assert json.loads(log.new)["amount"] == 150 and log.label == "2026年10月考核"
    # locked: the snapshot stays as confirmed when the data changes afterwards
    with ctx.sessions() as s, s.begin():
        s.execute(update(VisitPlan).where(VisitPlan.state == "待回访").values(state="已取消"))
    assert stats.assessment(ctx, OCTOBER).assessment.amount == 150
    assert stats.compute_assessment(ctx, OCTOBER).amount == 100
    with pytest.raises(LockedError) as exc:
        stats.confirm_assessment(mctx, OCTOBER, password=PASSWORD)
    assert "赵经理" in str(exc.value) and "考核更正" in str(exc.value)


def test_confirm_assessment_only_by_a_manager_and_only_after_the_deadline(
    ctx: ServiceContext, office: Office, as_user: AsUser
) -> None:
    for who in (office.supervisor, office.wang):
        with pytest.raises(PermissionDenied):
            stats.confirm_assessment(as_user(ctx, who), OCTOBER, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        stats.confirm_assessment(ctx, OCTOBER)  # the system user is no manager
    with pytest.raises(ValidationError) as exc:
        stats.confirm_assessment(as_user(ctx, office.manager), month_period(2026, 11), password=PASSWORD)
    assert "期限" in str(exc.value)
    assert not stats.assessment(as_user(ctx, office.manager), month_period(2026, 11)).can_confirm


def test_a_confirmed_assessment_changed_in_the_database_shows_as_tampered(
    ctx: ServiceContext, office: Office, as_user: AsUser
) -> None:
    stats.confirm_assessment(as_user(ctx, office.manager), OCTOBER, password=PASSWORD)
    with ctx.sessions() as s, s.begin():
        row = s.execute(select(MonthlyAssessment)).scalar_one()
        snapshot = json.loads(row.snapshot)
        snapshot["clerks"][1]["lines"][1]["amount"] = 0  # 小王's 100 元 of 例行回访未按期 made 0
        row.snapshot = json.dumps(snapshot, ensure_ascii=False)
    assert stats.assessment(ctx, OCTOBER).integrity is Integrity.TAMPERED
    with (
        ctx.sessions() as s,
        s.begin(),
    ):  # both SHA-256 hashes recomputed: the manager's signature still fails
        from huifang_desktop.domain.signoff import SignOff, signature_hash
        from huifang_desktop.domain.stats import assessment_hash

        row = s.execute(select(MonthlyAssessment)).scalar_one()
        row.content_hash = assessment_hash(json.loads(row.snapshot))
        row.signature_hash = signature_hash(
            row.content_hash,
            SignOff(row.confirmed_by_id, row.signed_role, row.confirmed_at, row.comment, row.revision),
        )
    assert stats.assessment(ctx, OCTOBER).integrity is Integrity.TAMPERED


def test_a_confirmed_month_cannot_be_withdrawn_and_later_edits_never_change_it(
    ctx: ServiceContext, office: Office, as_user: AsUser
) -> None:
    """Issue 19 item 4: no 撤回 — a confirmed month stays as signed; a correction is a 考核更正 with a reason,
    entered onto the next month."""
    mctx = as_user(ctx, office.manager)
    assert not hasattr(stats, "reopen_assessment")
    first = stats.confirm_assessment(mctx, OCTOBER, password=PASSWORD)
    assert first.can_adjust and not first.can_confirm
    with ctx.sessions() as s, s.begin():  # a late record made, say, P3 done on time after all
        s.execute(
            update(VisitPlan)
            .where(VisitPlan.due == date(2026, 10, 20))
            .values(state="已回访", done_on=date(2026, 10, 20))
        )
    with pytest.raises(LockedError):
        stats.confirm_assessment(mctx, OCTOBER, "更正后确认", password=PASSWORD)
    again = stats.assessment(mctx, OCTOBER)
    assert (again.status, again.assessment.amount, again.integrity) == (
        AssessmentStatus.CONFIRMED,
        first.assessment.amount,
        Integrity.INTACT,
    )
    row = stats.add_adjustment(mctx, OCTOBER, office.wang.id, -50, "小王的回访记录补录")
    assert row.month == "2026-11"
    assert stats.assessment(mctx, OCTOBER).assessment.amount == first.assessment.amount


# --- reports ------------------------------------------------------------------------------------------


def test_build_report_month_has_real_numbers_charts_and_the_assessment(
    ctx: ServiceContext, office: Office
) -> None:
    report = stats.build_report(ctx, "2026-10")
    assert report.title == "月度回访统计表" and report.period == OCTOBER
    keys = [t.key for t in report.tables]
    assert keys == [
        "summary",
        "groups",
        "rules",
        "satisfaction",
        "results",
        "types",
        "complaint_categories",
        "complaint_severities",
        "complaint_states",
        "trend",
        "assessment",
        "assessment_events",
    ]
    summary = {row[0]: row for row in report.table("summary").rows}
    assert summary["计划回访（次）"][1:4] == (7, 2, "+5")
    assert summary["回访率"][1] == pytest.approx(5 / 7) and summary["回访率"][2] == 0.5
    assert summary["处理率"][1:] == (pytest.approx(2 / 3), 1.0, "-33.3 个百分点", 1.0)
    assert summary["售后服务次数（维修回访）"][1:3] == (1, 0)
    groups = report.table("groups")
    assert groups.rows[-1][:5] == ("合计", 7, 5, 3, 2)
    assessment = report.table("assessment")
    assert assessment.rows[0][:2] == ("小李", "销售部") and assessment.rows[-1][-3:] == (3, 150, 0)
    assert "未确认" in assessment.title
    clerks = report.chart_table(report.charts[3])
    assert [r[0] for r in clerks.rows] == ["小王", "小李"]
    assert [c.title for c in report.charts] == ["回访率趋势", "满意率趋势", "投诉类别", "各回访人回访情况"]
    assert stats.build_report(ctx, "2026Q3").title == "季度客户服务报告"
    assert "assessment" not in [t.key for t in stats.build_report(ctx, "2026Q3").tables]


def test_export_xlsx_writes_a_sheet_per_table_with_native_charts_and_logs_it(
    ctx: ServiceContext, office: Office, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    report, out = stats.export_report(ctx, "2026-10", tmp_path / "十月.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames[:3] == ["主要指标", "图表", "回访情况（按回访人）"]
    ws = wb["回访情况（按回访人）"]
    assert "月度回访统计表" in ws["A1"].value and "2026年10月" in ws["A2"].value
    assert [c.value for c in ws[4]][:6] == ["回访人", "计划", "已回访", "按时", "逾期", "回访率"]
    assert ws.freeze_panes == "B5"
    assert (ws["A5"].value, ws["B5"].value, ws["F5"].value) == ("小王", 5, 0.6)
    assert ws["F5"].number_format == "0.0%"
    summary = wb["主要指标"]
    assert (
        summary["B5"].value == 7 and summary["B9"].number_format == "0.0%"
    )  # row 5: 计划回访; row 9: 回访率
    assert len(wb["图表"]._charts) == 4
    assert wb["考核（未确认）"]["I5"].value is not None
    with ctx.sessions() as s:
        log = s.execute(select(AuditLog).where(AuditLog.action == "导出统计报表")).scalar_one()
    assert json.loads(log.new)["period"] == "2026-10" and report.title in log.label


def test_export_pdf_prints_the_form_pages_and_the_charts(
    ctx: ServiceContext, office: Office, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    _report, out = stats.export_report(ctx, "2026-10", tmp_path / "十月.pdf")
    pdf = PdfReader(str(out))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "月度回访统计表" in text and "2026年10月" in text and "附图" in text
    assert "71.4%" in text  # 回访率 5/7
    assert "66.7%" in text  # 处理率 2/3
    assert "150" in text and "考核明细" in text  # the 考核 amount and each event with its source
    assert "回访率趋势" in text and "投诉类别" in text
    with ctx.sessions() as s:
        log = s.execute(select(AuditLog).where(AuditLog.action == "打印")).scalar_one()
    assert json.loads(log.new)["pages"] == len(pdf.pages)
    quarter = stats.report_pdf(ctx, stats.build_report(ctx, "2026Q4"))
    assert quarter.form == "季度客户服务报告" and quarter.pages >= 2


def test_stats_pdf_numbers_pages_through_the_charts_has_its_own_form_code_and_embeds_every_font(
    ctx: ServiceContext, office: Office, tmp_path: Path
) -> None:
    import re
    import shutil
    import subprocess

    from pypdf import PdfReader

    from huifang_desktop.printing import load_template, template_names

    for period, name in (("2026-10", "stats_month"), ("2026Q4", "stats_quarter")):
        doc = stats.report_pdf(ctx, stats.build_report(ctx, period))
        pages = [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(doc.pdf)).pages]
        assert len(pages) >= 2 and any("附图" in t for t in pages)
        for number, text in enumerate(pages, start=1):
            assert f"第{number}页/共{len(pages)}页" in text, (period, number)
        code = load_template(name).form_code
        others = {load_template(n).form_code for n in template_names() if n != name}
        assert code and code not in others and f"表单编号：{code}" in pages[0]
        assert b"Helvetica" not in doc.pdf  # no font that is not embedded
        if shutil.which("pdffonts"):
            target = tmp_path / f"{name}.pdf"
            target.write_bytes(doc.pdf)
            listing = subprocess.run(
                ["pdffonts", str(target)], capture_output=True, text=True, check=True
            ).stdout.splitlines()[2:]
            assert listing and all(line.split()[-5] == "yes" for line in listing), listing


def test_export_report_refuses_an_unknown_extension_and_a_missing_folder(
    ctx: ServiceContext, office: Office, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError):
        stats.export_report(ctx, "2026-10", tmp_path / "x.csv")
    with pytest.raises(stats.StatsError):
        stats.export_report(ctx, "2026-10", tmp_path / "missing" / "x.xlsx")


def test_cli_stats_writes_the_month_and_the_quarter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    from huifang_desktop.app import main

    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "stats", "--month", "2026-10", str(tmp_path / "m.xlsx")]) == 0
    assert "月度回访统计表" in load_workbook(tmp_path / "m.xlsx")["主要指标"]["A1"].value
    assert main(["--data-dir", str(data), "stats", "--quarter", "2026Q3", str(tmp_path / "q.pdf")]) == 0
    assert (tmp_path / "q.pdf").read_bytes()[:5] == b"%PDF-"
    out = capsys.readouterr().out
    assert "2026年10月" in out and "2026年第3季度" in out
    assert main(["--data-dir", str(data), "stats", "--month", "2026-13", str(tmp_path / "x.xlsx")]) == 1
    with pytest.raises(SystemExit):  # --month or --quarter is required
        main(["--data-dir", str(data), "stats", str(tmp_path / "x.xlsx")])
