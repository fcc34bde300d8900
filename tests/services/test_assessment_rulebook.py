"""Issue 19's measured 考核 cases as scenarios, each asserting the rule book's outcome.

Rule books: *001 §3.1–3.5* (seeds/001: 3、考核 — five events, 50 元/次), *002 制度1* (a repeat of the same breach
doubles), *002 制度3* (每月十日前), *002 制度9* (the graded penalties). The clock is fixed at Tuesday 2026-11-24
10:00 (tests/conftest.py); October 2026 is the month assessed (its ledger deadline, 11-10, has passed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import select

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.stats import EventKind, month_period
from huifang_desktop.services import stats
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import LockedError, PermissionDenied
from huifang_desktop.storage.models import AuditLog, Customer, Department, Purchase, VisitPlan, VisitRecord
from tests.conftest import PASSWORD

AsUser = Callable[[ServiceContext, UserInfo], ServiceContext]
OCTOBER = month_period(2026, 10)
NOVEMBER = month_period(2026, 11)
_serial = iter(range(1, 1_000_000))


def _customer(
    ctx: ServiceContext,
    owner: UserInfo,
    *,
    grade: str = "A",
    category: str = "普通",
    phone: str = "13800000000",
    contact: str = "张经理",
) -> int:
    with ctx.sessions() as s, s.begin():
        dep = s.execute(select(Department.id).where(Department.name == owner.department)).scalar()
        n = next(_serial)
        c = Customer(
            code=f"KH{n:06d}",
            name=f"客户{n}",
            initials="kh",
            grade=grade,
            category=category,
            created_on=date(2026, 1, 15),
            owner_id=owner.id,
            department_id=dep,
            primary_phone=phone,
            primary_contact=contact,
            updated_at=datetime(2026, 1, 15),
        )
        s.add(c)
        s.flush()
        return c.id


def _plan(
    ctx: ServiceContext,
    customer_id: int,
    owner: UserInfo,
    due: date,
    rule_key: str = "routine",
    *,
    done_on: date | None = None,
    created: datetime = datetime(2026, 9, 1),
) -> int:
    with ctx.sessions() as s, s.begin():
        p = VisitPlan(
            customer_id=customer_id,
            source_key=f"t:{next(_serial)}",
            rule_key=rule_key,
            visit_type="例行",
            method="电话",
            earliest=due,
            due=due,
            owner_id=owner.id,
            attempt=1,
            state="已回访" if done_on else "待回访",
            cancel_reason="",
            manual=False,
            done_on=done_on,
            created_at=created,
        )
        s.add(p)
        s.flush()
        return p.id


def _events(ctx: ServiceContext, kind: EventKind, month=OCTOBER):  # type: ignore[no-untyped-def]
    return [e for e in stats.compute_assessment(ctx, month).events if e.kind is kind]


def test_59_delivery_misses_only_the_19_one_to_five_day_arrival_visits_count(
    ctx: ServiceContext, clerk: UserInfo
) -> None:
    """001 §3.1: 新交车货箱 1-5 天内没有及时回访 — the 到货回访 only; the 1-week and 1-month visits and the
    首保/年检/续保 reminders of the same deliveries are not charged (issue 19: 59 events, 19 of them 3.1)."""
    c = _customer(ctx, clerk)
    mix = {
        "delivery_arrival": 19,
        "delivery_usage": 20,
        "delivery_satisfaction": 10,
        "car_first_service": 3,
        "car_inspection": 3,
        "car_insurance": 4,
    }
    assert sum(mix.values()) == 59
    ids: dict[str, list[int]] = {}
    for rule, n in mix.items():
        for i in range(n):
            late_done = date(2026, 10, 12) if i % 2 else None  # half done late, half never
            ids.setdefault(rule, []).append(_plan(ctx, c, clerk, date(2026, 10, 8), rule, done_on=late_done))
    charged = _events(ctx, EventKind.DELIVERY_NOT_VISITED)
    assert len(charged) == 19 and sum(e.amount for e in charged) == 19 * 50
    assert {e.source_id for e in charged} == set(ids["delivery_arrival"])  # each links to its plan
    assert all(e.source == "visit_plan" and "到货回访" in e.detail for e in charged)
    wang = stats.compute_assessment(ctx, OCTOBER).clerks[0]
    assert (wang.count, wang.amount) == (19, 950)


def test_late_end_customer_visits_are_charged(ctx: ServiceContext, clerk: UserInfo) -> None:
    """001 §3.5 (业务员没有按时对终端客户回访者 50 元/次) of the visits 001 §2.3–2.4 plans."""
    c = _customer(ctx, clerk, category="终端客户")
    _plan(ctx, c, clerk, date(2026, 10, 10), "end_customer_monthly")
    _plan(ctx, c, clerk, date(2026, 10, 12), "end_customer_few", done_on=date(2026, 10, 20))
    _plan(ctx, c, clerk, date(2026, 10, 14), "end_customer_quarterly", done_on=date(2026, 10, 14))  # on time
    charged = _events(ctx, EventKind.END_CUSTOMER_NOT_VISITED)
    assert [(e.day, e.amount) for e in charged] == [(date(2026, 10, 10), 50), (date(2026, 10, 12), 50)]


def test_information_not_passed_back_within_24_hours(ctx: ServiceContext, clerk: UserInfo) -> None:
    """001 §3.3 with 001 §1.5: the visit's information passed on to the department in time (24 h default)."""
    c = _customer(ctx, clerk)
    at = datetime(2026, 10, 15, 9, 0)
    with ctx.sessions() as s, s.begin():
        for n, done in enumerate((datetime(2026, 10, 16, 8, 0), datetime(2026, 10, 16, 10, 0), None)):
            s.add(
                VisitRecord(
                    number=f"HF20261015-00{n}",
                    customer_id=c,
                    visit_type="例行",
                    method="电话",
                    visited_at=at,
                    visitor_id=clerk.id,
                    result="成功",
                    status="待审阅",
                    created_at=at,
                    problems="配件",
                    transfer_department="仓储部",
                    transfer_due=datetime(2026, 10, 16, 9),
                    transfer_done_at=done,
                )
            )
    charged = _events(ctx, EventKind.PROBLEM_NOT_PASSED)
    assert sorted(e.subject for e in charged) == ["HF20261015-001", "HF20261015-002"]


def test_end_customer_ledger_not_kept(ctx: ServiceContext, clerk: UserInfo) -> None:
    """001 §3.4 (没有做好终端客户信息台帐) with §2.2: an end customer bought on 10-10 whose ledger entry still has no
    phone 5 days later is charged once (on 10-15); a complete entry is not."""
    missing = _customer(ctx, clerk, category="终端客户", phone="")
    complete = _customer(ctx, clerk, category="终端客户")
    with ctx.sessions() as s, s.begin():
        for cid in (missing, complete):
            s.add(
                Purchase(
                    customer_id=cid,
                    day=date(2026, 10, 10),
                    product="货箱",
                    quantity=2,
                    created_at=datetime(2026, 10, 10),
                )
            )
    charged = _events(ctx, EventKind.END_CUSTOMER_LEDGER)
    assert [(e.source, e.source_id, e.day) for e in charged] == [("customer", missing, date(2026, 10, 15))]


def test_a_plan_created_after_its_due_day_is_never_charged(ctx: ServiceContext, clerk: UserInfo) -> None:
    """Never backdated: a routine plan made on 10-20 (a class change) for 10-05 could not have been met."""
    c = _customer(ctx, clerk)
    _plan(ctx, c, clerk, date(2026, 10, 5), created=datetime(2026, 10, 20, 9))
    _plan(ctx, c, clerk, date(2026, 10, 25), created=datetime(2026, 10, 20, 9))
    assert [e.day for e in _events(ctx, EventKind.MISSED_VISIT)] == [date(2026, 10, 25)]


def test_a_clerk_cannot_erase_his_misses(
    ctx: ServiceContext, clerk: UserInfo, supervisor: UserInfo, manager: UserInfo, as_user: AsUser
) -> None:
    """Issue 19: 小王 moving/cancelling his overdue plans erased 100 元 → 0. A miss stands: only a supervisor may
    re-date or cancel an overdue plan, with a reason, and a confirmed month keeps its charge."""
    c = _customer(ctx, clerk)
    p1 = _plan(ctx, c, clerk, date(2026, 10, 8), "delivery_arrival")
    p2 = _plan(ctx, c, clerk, date(2026, 10, 9), "delivery_arrival")
    cctx, sctx = as_user(ctx, clerk), as_user(ctx, supervisor)
    assert stats.compute_assessment(ctx, OCTOBER).amount == 100
    with pytest.raises(PermissionDenied):
        v.move_plan(cctx, p1, "2026-12-01", 1)
    with pytest.raises(PermissionDenied):
        v.cancel_plan(cctx, p2, "客户不需要")
    assert stats.compute_assessment(ctx, OCTOBER).amount == 100
    stats.confirm_assessment(as_user(ctx, manager), OCTOBER, password=PASSWORD)
    with pytest.raises(ValidationError):  # the supervisor must say why
        v.move_plan(sctx, p1, "2026-12-01", 1)
    v.move_plan(sctx, p1, "2026-12-01", 1, "客户十月停业，经核实")
    v.cancel_plan(sctx, p2, "重复安排")
    assert stats.assessment(ctx, OCTOBER).assessment.amount == 100  # confirmed: the charges stand
    with ctx.sessions() as s:
        notes = [n for (n,) in s.execute(select(AuditLog.note).where(AuditLog.action == "调整回访计划"))]
    assert notes == ["客户十月停业，经核实"]
    # a clerk may still re-date a plan that is not due yet
    p3 = _plan(ctx, c, clerk, date(2026, 11, 30))
    assert v.move_plan(cctx, p3, "2026-12-02", 1).plan.due == date(2026, 12, 2)


def test_confirmed_month_is_identical_after_importing_and_planning_new_a_class_customers(
    ctx: ServiceContext, clerk: UserInfo, manager: UserInfo, as_user: AsUser
) -> None:
    """Issue 19 Done-when: a confirmed month's 考核 sheet is unchanged by new A-class customers and re-planning."""
    c = _customer(ctx, clerk)
    _plan(ctx, c, clerk, date(2026, 10, 12))
    _plan(ctx, c, clerk, date(2026, 10, 20), "delivery_arrival", done_on=date(2026, 10, 28))
    mctx = as_user(ctx, manager)
    stats.confirm_assessment(mctx, OCTOBER, password=PASSWORD)
    before = stats.build_report(ctx, OCTOBER).tables
    sheet = {t.key: t.rows for t in before if t.key.startswith("assessment")}
    assert sheet["assessment"][-1][-3:] == (2, 100, 0) and len(sheet["assessment_events"]) == 2
    for _ in range(3):  # an import of A-class customers filed in January, then planning
        _customer(ctx, clerk, grade="A")
    v.plan_catch_up(ctx, date(2026, 11, 24))
    with ctx.sessions() as s, s.begin():  # and an edit of the data behind a charge
        s.get(VisitPlan, 1).state = "已取消"
    after = {t.key: t.rows for t in stats.build_report(ctx, OCTOBER).tables if t.key.startswith("assessment")}
    assert after == sheet
    view = stats.assessment(ctx, OCTOBER)
    assert view.locked and view.integrity.value == "签字有效"


def test_an_adjustment_of_a_confirmed_month_shows_on_the_next_month(
    ctx: ServiceContext, clerk: UserInfo, manager: UserInfo, supervisor: UserInfo, as_user: AsUser
) -> None:
    c = _customer(ctx, clerk)
    _plan(ctx, c, clerk, date(2026, 10, 12))
    mctx = as_user(ctx, manager)
    with pytest.raises(ValidationError):  # October is not confirmed yet: no correction needed
        stats.add_adjustment(mctx, OCTOBER, clerk.id, -50, "已核实")
    stats.confirm_assessment(mctx, OCTOBER, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        stats.add_adjustment(as_user(ctx, supervisor), OCTOBER, clerk.id, -50, "已核实")
    with pytest.raises(ValidationError):
        stats.add_adjustment(mctx, OCTOBER, clerk.id, -50, "  ")
    row = stats.add_adjustment(mctx, OCTOBER, clerk.id, -50, "10-12 的例行回访有通话记录，退回")
    assert (row.month, row.corrects, row.kind) == ("2026-11", "2026-10", EventKind.ADJUSTMENT)
    assert stats.assessment(ctx, OCTOBER).assessment.amount == 50  # October itself never changes
    november = stats.compute_assessment(ctx, NOVEMBER)
    adj = [e for e in november.events if e.kind is EventKind.ADJUSTMENT]
    assert [(e.amount, e.detail, e.source) for e in adj] == [
        (-50, "10-12 的例行回访有通话记录，退回", "assessment_entry")
    ]
    with ctx.sessions() as s:
        assert (
            s.execute(select(AuditLog).where(AuditLog.action == "考核更正"))
            .scalar_one()
            .note.startswith("10-12")
        )


def test_graded_events_of_002_system_9(
    ctx: ServiceContext, clerk: UserInfo, manager: UserInfo, as_user: AsUser
) -> None:
    """002 制度9: 30–100 元 for poor attitude; 300 元 −10 分 for denying a complaint; none into a confirmed month."""
    mctx = as_user(ctx, manager)
    with pytest.raises(ValidationError):
        stats.add_graded_event(mctx, clerk.id, "attitude", 150, "2026-11-20", "顶撞客户")
    stats.add_graded_event(mctx, clerk.id, "attitude", 80, "2026-11-20", "顶撞客户")
    stats.add_graded_event(mctx, clerk.id, "denied_complaint", 300, "2026-11-21", "拒不承认投诉事实")
    graded = [
        (e.amount, e.points)
        for e in stats.compute_assessment(ctx, NOVEMBER).events
        if e.kind is EventKind.GRADED
    ]
    assert graded == [(80, 0), (300, 10)]
    stats.confirm_assessment(mctx, OCTOBER, password=PASSWORD)
    with pytest.raises(LockedError):
        stats.add_graded_event(mctx, clerk.id, "attitude", 50, "2026-10-20", "补登")


def test_repeat_doubling_when_turned_on(
    ctx: ServiceContext, clerk: UserInfo, manager: UserInfo, as_user: AsUser
) -> None:
    """002 制度1: 第二次违反相同规定双倍处罚 — off by default (001 charges 50 元 each), on by a setting."""
    c = _customer(ctx, clerk)
    for day in (5, 15, 25):
        _plan(ctx, c, clerk, date(2026, 10, day))
    assert stats.compute_assessment(ctx, OCTOBER).amount == 150
    mctx = as_user(ctx, manager)
    stats.save_assessment_rules(mctx, replace(stats.load_assessment_rules(ctx), repeats_double=True))
    missed = _events(ctx, EventKind.MISSED_VISIT)
    assert [e.amount for e in missed] == [50, 100, 100]
