"""The example office shows the two workflows a new user should find in its history: urgent complaints (紧急,
002 制度5 — their dispatch and report-back deadlines as intake and handling compute them) and one staff
hand-over (工作交接 — a clerk who left weeks ago, their work handed to a colleague by the hand-over service,
the leaver inactive and not offered on the log-in dialog)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from huifang_desktop.demo import DemoProfile, DemoResult, generate_demo
from huifang_desktop.demo.handover import HANDOVER_NOTE, LEAVER_USERNAME
from huifang_desktop.domain import complaint_rules
from huifang_desktop.domain.complaints import ComplaintState, MessageKind
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import handover, users
from huifang_desktop.services.complaints import rules as intake_rules
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers.complaint_ledger import ComplaintLedger
from huifang_desktop.storage.db import make_engine, make_session_factory, sqlite_url, upgrade
from huifang_desktop.storage.models import (
    AuditLog,
    Complaint,
    ComplaintEvent,
    Customer,
    Handover,
    PlanOwnerChange,
    User,
)

NOW = datetime(2026, 11, 24, 10, 0)


def _ctx(path: Path) -> ServiceContext:
    engine = make_engine(sqlite_url(path))
    upgrade(engine)
    return ServiceContext(engine, make_session_factory(engine), clock=lambda: NOW)


def _demo(ctx: ServiceContext, **kw: Any) -> DemoResult:
    args: dict[str, Any] = {"customers": 200, "visits": 1500, "complaints": 300, "seed": 1}
    args.update(kw)
    return generate_demo(ctx, profile=DemoProfile(batch_size=100), **args)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceContext, DemoResult]]:
    ctx = _ctx(tmp_path_factory.mktemp("demo_urgent") / "office.db")
    result = _demo(ctx)
    yield ctx, result
    ctx.engine.dispose()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[ServiceContext]:
    ctx = _ctx(tmp_path / "office.db")
    yield ctx
    ctx.engine.dispose()


def _urgent(ctx: ServiceContext) -> list[Complaint]:
    with ctx.sessions() as s:
        return list(s.execute(select(Complaint).where(Complaint.urgent.is_(True))).scalars())


def _result_written(ctx: ServiceContext) -> dict[int, datetime]:
    """complaint id → when its handling result was first written down (the 处理记录 that names 处理结果)."""
    out: dict[int, datetime] = {}
    with ctx.sessions() as s:
        for cid, at, note in s.execute(
            select(ComplaintEvent.complaint_id, ComplaintEvent.at, ComplaintEvent.note)
            .where(ComplaintEvent.action == "处理记录")
            .order_by(ComplaintEvent.at, ComplaintEvent.id)
        ):
            if "处理结果" in note:
                out.setdefault(cid, at)
    return out


# --- urgent complaints ------------------------------------------------------------------------------------


def test_a_few_percent_of_the_complaints_are_urgent_open_and_closed(
    office: tuple[ServiceContext, DemoResult],
) -> None:
    ctx, _result = office
    timings = cs.load_complaint_rules(ctx).urgent
    assert timings is not None  # the example office takes urgent complaints: intake offers 紧急
    urgent = _urgent(ctx)
    with ctx.sessions() as s:
        total = len(s.execute(select(Complaint.id)).all())
    assert 0.01 * total <= len(urgent) <= 0.1 * total
    assert all(c.kind == MessageKind.COMPLAINT.value for c in urgent)  # intake refuses 紧急 for the rest
    states = {ComplaintState(c.state) for c in urgent}
    assert ComplaintState.CLOSED in states and states & {ComplaintState.PENDING, ComplaintState.IN_PROGRESS}


def test_urgent_deadlines_are_the_domains_from_receipt_and_from_the_result(
    office: tuple[ServiceContext, DemoResult],
) -> None:
    ctx, _result = office
    timings = cs.load_complaint_rules(ctx).urgent
    assert timings is not None
    written = _result_written(ctx)
    with_result = 0
    for c in _urgent(ctx):
        assert c.dispatch_due == complaint_rules.urgent_deadlines(c.received_at, timings).dispatched_by
        if c.id in written:
            assert c.report_back_due == complaint_rules.report_back_due(written[c.id], timings), c.number
            with_result += 1
        else:
            assert c.report_back_due is None, c.number
    assert with_result


def test_missed_urgent_timings_were_chased_so_the_next_start_finds_none_new(
    office: tuple[ServiceContext, DemoResult],
) -> None:
    """escalate_overdue's one 催办 per missed timing happened at a start after it: the query the service runs
    at the next start (services.complaints.escalation._chase_urgent) finds nothing."""
    ctx, _result = office
    for c in _urgent(ctx):
        if c.state == ComplaintState.PENDING.value and c.dispatch_due is not None and c.dispatch_due < NOW:
            assert c.dispatch_chased_at is not None, c.number
        if c.state == ComplaintState.IN_PROGRESS.value and c.report_back_due and c.report_back_due < NOW:
            assert c.report_back_chased_at is not None, c.number
        for chased, due in (
            (c.dispatch_chased_at, c.dispatch_due),
            (c.report_back_chased_at, c.report_back_due),
        ):
            assert chased is None or (due is not None and chased > due), c.number


def test_the_complaint_ledger_flags_the_urgent_ones(office: tuple[ServiceContext, DemoResult]) -> None:
    ctx, _result = office
    spec = ComplaintLedger()
    (src,) = spec.register_sources(ctx, cs.ComplaintFilter())
    keys = [c.key for c in spec.columns]
    with ctx.engine.connect() as conn:
        rows = [dict(zip(keys, src.convert(r).values, strict=True)) for r in conn.execute(src.query)]
    flagged = {str(r["number"]) for r in rows if r["urgent"] == "是"}
    assert flagged == {c.number for c in _urgent(ctx)}


def test_a_changed_urgent_rule_shows_in_the_demo(
    fresh: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replace the rule book's urgent timings (the function intake's dispatch_due_of asks, and the one
    handling asks for the report back): the demo's deadlines follow."""
    real_deadlines, real_back = complaint_rules.urgent_deadlines, complaint_rules.report_back_due

    def dispatch_later(received_at: datetime, timings: Any) -> complaint_rules.UrgentDeadlines:
        d = real_deadlines(received_at, timings)
        return complaint_rules.UrgentDeadlines(
            d.reported_by, d.dispatched_by + timedelta(hours=5), d.report_back_hours
        )

    monkeypatch.setattr(complaint_rules, "urgent_deadlines", dispatch_later)
    monkeypatch.setattr(intake_rules, "urgent_deadlines", dispatch_later)
    monkeypatch.setattr(
        complaint_rules, "report_back_due", lambda at, timings: real_back(at, timings) + timedelta(hours=7)
    )
    _demo(fresh, customers=60, visits=0, complaints=300, seed=4)
    timings = cs.load_complaint_rules(fresh).urgent
    assert timings is not None
    written = _result_written(fresh)
    urgent = _urgent(fresh)
    assert urgent and any(c.id in written for c in urgent)
    for c in urgent:
        assert c.dispatch_due == real_deadlines(c.received_at, timings).dispatched_by + timedelta(hours=5)
        if c.id in written:
            assert c.report_back_due == real_back(written[c.id], timings) + timedelta(hours=7)


def test_an_office_that_existed_before_keeps_its_rules_and_gets_no_urgent_complaints(
    fresh: ServiceContext,
) -> None:
    users.create_user(fresh, "admin", "管理员", "admin", "secret-123", first_admin=True)
    result = _demo(fresh, customers=40, visits=0, complaints=80, seed=2)
    assert cs.load_complaint_rules(fresh).urgent is None and _urgent(fresh) == []
    assert result.handover is None  # nor a hand-over: only an office the generator made whole


# --- the staff hand-over ------------------------------------------------------------------------------------


def test_one_clerk_left_weeks_ago_and_holds_nothing_now(office: tuple[ServiceContext, DemoResult]) -> None:
    ctx, result = office
    done = result.handover
    assert done is not None and done.customers > 0 and done.plans > 0
    assert NOW.date() - timedelta(weeks=8) < done.handed_over_on < NOW.date() - timedelta(weeks=3)
    with ctx.sessions() as s:
        leaver = s.execute(select(User).where(User.username == LEAVER_USERNAME)).scalar_one()
        record = s.execute(select(Handover)).scalar_one()
        noted = s.execute(
            select(Customer.id).where(Customer.notes.contains(f"由 {leaver.display_name} 移交给"))
        ).all()
        changes = s.execute(select(PlanOwnerChange).where(PlanOwnerChange.handover_id == record.id)).scalars()
        changes = list(changes)
    assert not leaver.active and record.from_user_id == leaver.id
    assert record.handed_over_on == done.handed_over_on and HANDOVER_NOTE == record.note
    assert handover.open_work(ctx, leaver.id) == {"customers": 0, "plans": 0, "complaints": 0, "drafts": 0}
    assert len(noted) == done.customers  # each file's 备注 notes the hand-over
    assert len(changes) == done.plans
    assert all(ch.old_owner_id == leaver.id and ch.changed_on == done.handed_over_on for ch in changes)


def test_the_audit_trail_shows_the_hand_over_as_the_service_records_it(
    office: tuple[ServiceContext, DemoResult],
) -> None:
    ctx, result = office
    done = result.handover
    assert done is not None
    with ctx.sessions() as s:
        leaver = s.execute(select(User).where(User.username == LEAVER_USERNAME)).scalar_one()
        rows = s.execute(select(AuditLog).where(AuditLog.entity_id.is_not(None))).scalars().all()
        actions = [(a.action, a.entity, a.entity_id) for a in rows]
        admin = s.execute(select(User.id).where(User.username == "admin")).scalar_one()
        trail = [a for a in rows if a.action in ("工作交接", "停用用户") and a.entity_id == leaver.id]
    assert ("工作交接", "user", leaver.id) in actions and ("停用用户", "user", leaver.id) in actions
    assert sum(1 for a, _e, _i in actions if a == "移交客户") == done.customers
    assert sum(1 for a, _e, _i in actions if a == "转交投诉") == done.complaints
    assert all(a.user_id == admin and a.at.date() == done.handed_over_on for a in trail)


def test_the_leaver_is_not_a_sample_account_and_the_supervisor_logs_in(
    office: tuple[ServiceContext, DemoResult],
) -> None:
    ctx, result = office
    accounts = users.demo_accounts(ctx)
    assert [(a.username, str(a.role), a.password) for a in accounts] == result.users
    assert LEAVER_USERNAME not in {a.username for a in accounts} | {u for u, _r, _p in result.users}
    supervisor = next(a for a in accounts if a.username == "supervisor")
    assert users.authenticate(ctx, "supervisor", supervisor.password).username == "supervisor"


def test_the_hand_over_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    def handed_over(name: str) -> tuple[Any, ...]:
        ctx = _ctx(tmp_path / name)
        try:
            result = _demo(ctx, customers=60, visits=300, complaints=40, seed=3)
            with ctx.sessions() as s:
                leaver = s.execute(select(User.display_name).where(User.username == LEAVER_USERNAME)).scalar()
                files = s.execute(
                    select(Customer.code).where(Customer.notes.contains("工作交接")).order_by(Customer.code)
                ).all()
            return result.handover, leaver, files
        finally:
            ctx.engine.dispose()

    first = handed_over("a.db")
    assert first[0] is not None and first == handed_over("b.db")
