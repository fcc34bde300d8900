"""The 考核 on the demo office (issue 19, "Done when"): the simulated history is made when the program would
have made it, so every past month of it charges the rule book's events (001 §3.1–3.5) in plausible shares —
and a month the manager confirmed keeps its 考核 sheet when new A-class customers are imported and planned.

One office (200 customers, 4,000 plans, seed 7; clock 2026-11-24 10:00) is made once for the module and
copied for the test that changes it; on an office this small a larger share of end customers than the
default is left without a phone, so that 001 §3.4 (台帐 not complete 5 days after the first purchase) shows.
"""

from __future__ import annotations

import shutil
from collections import Counter as Tally
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.demo import DemoProfile, DemoResult, generate_demo
from huifang_desktop.domain.assessment import CUSTOMER, PLAN, RECORD
from huifang_desktop.domain.assessment_rules import EventKind
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.stats import month_period
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.stats.assessment import compute_assessment
from huifang_desktop.storage.models import Customer, MonthlyAssessment, Purchase, User, VisitPlan, VisitRecord

NOW = datetime(2026, 11, 24, 10, 0)
CUSTOMERS, VISITS, SEED = 200, 4000, 7


def _clock() -> datetime:
    return NOW


def _open(data: Path) -> ServiceContext:
    base = app.open_context(AppPaths(data))
    return ServiceContext(base.engine, base.sessions, clock=_clock)


@pytest.fixture(scope="module")
def demo_office(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoResult]:
    data = tmp_path_factory.mktemp("demo-assessment") / "data"
    ctx = _open(data)
    try:
        result = generate_demo(
            ctx,
            customers=CUSTOMERS,
            visits=VISITS,
            seed=SEED,
            profile=DemoProfile(ledger_incomplete_share=0.6),
        )
    finally:
        ctx.engine.dispose()
    return data, result


def _as_manager(ctx: ServiceContext) -> ServiceContext:
    with ctx.sessions() as s:
        m = s.execute(select(User).where(User.role == Role.MANAGER.value)).scalars().one()
        return ctx.as_user(UserInfo(m.id, m.username, m.display_name, Role.MANAGER, m.department_id))


def _past_months(since: date) -> list[str]:
    """The months wholly inside the history whose 考核 windows have closed (today is in November 2026)."""
    first = date(since.year + since.month // 12, since.month % 12 + 1, 1)
    months, day = [], first
    while (day.year, day.month) < (NOW.year, NOW.month):
        months.append(f"{day:%Y-%m}")
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def test_every_past_month_of_the_demo_charges_the_rule_books_events(demo_office: Any) -> None:
    data, result = demo_office
    assert result.visits is not None and result.visits.since is not None
    months = _past_months(result.visits.since)
    assert len(months) >= 8  # the history covers most of a year
    ctx = _open(data)
    try:
        mctx = _as_manager(ctx)
        with ctx.sessions() as s:
            plans = {p.id: p for p in s.execute(select(VisitPlan)).scalars()}
            records = {r.id: r for r in s.execute(select(VisitRecord)).scalars()}
            customers = {c.id: c for c in s.execute(select(Customer)).scalars()}
            first_bought: dict[int, date] = {}
            for customer_id, day in s.execute(
                select(Purchase.customer_id, Purchase.day).order_by(Purchase.day)
            ):
                first_bought.setdefault(customer_id, day)
        total: Tally[EventKind] = Tally()
        for month in months:
            events = compute_assessment(mctx, month).events
            kinds = Tally(e.kind for e in events)
            total.update(kinds)
            # a working office misses a few visits every month: neither an empty 考核 nor a flood
            assert 8 <= len(events) <= 60, (month, kinds)
            assert kinds[EventKind.MISSED_VISIT] and kinds[EventKind.END_CUSTOMER_NOT_VISITED], (month, kinds)
            period = month_period(int(month[:4]), int(month[5:]))
            for e in events:
                assert e.amount == 50 and e.points == 0  # 001 §3: 50 元 an event by default
                source_id = e.source_id
                assert source_id is not None  # every charged event links to what caused it
                if e.source == PLAN:
                    plan = plans[source_id]
                    assert period.start <= plan.due <= period.end
                    # planned when the program would have planned it, before the day it fell due
                    assert plan.created_at.date() <= plan.due
                    assert e.owner_id == plan.owner_id
                    if e.kind is EventKind.DELIVERY_NOT_VISITED:
                        assert plan.rule_key == "delivery_arrival"  # 001 §3.1: the 1–5-day 到货回访 only
                    if plan.record_id is not None:  # made late: the record is dated the day it was made
                        record = records[plan.record_id]
                        assert (
                            plan.done_on is not None and record.visited_at.date() == plan.done_on > plan.due
                        )
                        assert record.created_at >= record.visited_at
                    else:
                        assert (
                            plan.state == "待回访" and customers[plan.customer_id].owner_id == plan.owner_id
                        )
                elif e.source == CUSTOMER:  # 001 §3.4: 5 days after the first purchase, still no phone
                    customer = customers[source_id]
                    assert e.kind is EventKind.END_CUSTOMER_LEDGER and customer.category == "终端客户"
                    assert customer.primary_phone == "" and e.owner_id == customer.owner_id
                    assert (
                        period.start <= e.day == first_bought[customer.id] + timedelta(days=5) <= period.end
                    )
                else:
                    assert e.kind is EventKind.PROBLEM_NOT_PASSED and e.source == RECORD
                    record = records[source_id]
                    assert record.transfer_due is not None and e.owner_id == record.visitor_id
                    assert record.transfer_done_at is None or record.transfer_done_at > record.transfer_due
        n = sum(total.values())
        shares = {k: total[k] / n for k in total}
        assert 0.25 <= shares[EventKind.MISSED_VISIT] <= 0.6, shares
        assert 0.25 <= shares[EventKind.END_CUSTOMER_NOT_VISITED] <= 0.6, shares
        assert 0.05 <= shares[EventKind.PROBLEM_NOT_PASSED] <= 0.3, shares
        assert 0.01 <= shares[EventKind.DELIVERY_NOT_VISITED] <= 0.2, shares
        assert 0.005 <= shares[EventKind.END_CUSTOMER_LEDGER] <= 0.1, shares
    finally:
        ctx.engine.dispose()


def _new_a_class_customers(path: Path) -> Path:
    """A customer sheet of three A-class files, opened in January (their routine plans would fall due long
    before today if they were backdated)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "新客户"
    ws.append(["客户名称", "手机", "级别", "建档日期", "负责人"])
    for n in range(3):
        ws.append([f"杭州新建{n + 1}号物流有限公司", f"1390000000{n + 1}", "A", "2026-01-15", "clerk1"])
    wb.save(path)
    return path


def _sheet(path: Path, title: str) -> list[tuple[Any, ...]]:
    wb = load_workbook(path)
    return [tuple(c.value for c in row) for row in wb[title].iter_rows()]


def test_a_confirmed_month_of_the_demo_keeps_its_sheet_after_importing_and_planning(
    demo_office: Any, run_main: Any, tmp_path: Path
) -> None:
    source, result = demo_office
    data = tmp_path / "data"
    shutil.copytree(source, data)
    password = next(p for u, role, p in result.users if role == Role.MANAGER.value)
    run_main.clock = _clock

    def run(*args: str) -> str:
        code, out, err = run_main(["--data-dir", str(data), *args])
        assert code == 0, err
        return out

    out = run("--user", "manager", "assessment", "confirm", "--month", "2026-10", "--password", password)
    assert "签字有效" in out
    ctx = _open(data)
    try:
        with ctx.sessions() as s:
            confirmed = s.execute(select(MonthlyAssessment.total_amount)).scalar_one()
        before_customers = len(ctx.sessions().execute(select(Customer.id)).all())
    finally:
        ctx.engine.dispose()
    assert confirmed > 0
    run("stats", "--month", "2026-10", str(tmp_path / "before.xlsx"))
    run("stats", "--month", "2026-09", str(tmp_path / "september-before.xlsx"))

    run("--user", "clerk1", "import", "customers", str(_new_a_class_customers(tmp_path / "new.xlsx")))
    run("plan")
    ctx = _open(data)
    try:
        with ctx.sessions() as s:
            new = s.execute(select(Customer).where(Customer.name.like("杭州新建%"))).scalars().all()
            assert len(new) == 3 and {c.grade for c in new} == {"A"}
            planned = (
                s.execute(select(VisitPlan).where(VisitPlan.customer_id.in_([c.id for c in new])))
                .scalars()
                .all()
            )
        assert len(ctx.sessions().execute(select(Customer.id)).all()) == before_customers + 3
    finally:
        ctx.engine.dispose()
    assert planned  # the catch-up planned the new files' visits (from today: never backdated)
    assert all(p.created_at.date() == NOW.date() for p in planned)

    run("stats", "--month", "2026-10", str(tmp_path / "after.xlsx"))
    run("stats", "--month", "2026-09", str(tmp_path / "september-after.xlsx"))
    sheet = _sheet(tmp_path / "before.xlsx", "考核（已确认）")
    assert any(confirmed in row for row in sheet)
    assert _sheet(tmp_path / "after.xlsx", "考核（已确认）") == sheet
    # an open month does not move either: the new plans were made after their due days
    assert _sheet(tmp_path / "september-after.xlsx", "考核（未确认）") == _sheet(
        tmp_path / "september-before.xlsx", "考核（未确认）"
    )
