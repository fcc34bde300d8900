"""The demo office generator: counts, valid phones, primary contacts, grades, determinism, refusal."""

from __future__ import annotations

import json
import re
from collections import Counter as Tally
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from huifang_desktop.demo import DEMO_ACTION, DEPARTMENTS, DemoProfile, DemoResult, generate_demo
from huifang_desktop.demo.visits import VISIT_DEMO_ACTION, VisitProfile
from huifang_desktop.domain.customers import (
    ContactDraft,
    CustomerDraft,
    format_customer_code,
    grade_by_volume,
    pinyin_initials,
)
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.validation import format_phone, normalize_phone
from huifang_desktop.services import customers as customers_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.settings import load_settings
from huifang_desktop.services.users import authenticate
from huifang_desktop.storage.db import make_engine, make_session_factory, sqlite_url, upgrade
from huifang_desktop.storage.models import (
    AuditLog,
    Contact,
    Counter,
    Customer,
    Department,
    Purchase,
    User,
    VisitPlan,
    VisitRecord,
    VisitReport,
)
from huifang_desktop.storage.queries import TEXT_PROBE_CAP, CustomerFilter, customer_page
from tests.conftest import MainRunner

CUSTOMERS = 500
NOW = datetime(2026, 11, 24, 10, 0)


def _clock() -> datetime:
    return NOW


def _make_ctx(path: Path) -> ServiceContext:
    engine = make_engine(sqlite_url(path))
    upgrade(engine)
    return ServiceContext(engine, make_session_factory(engine), clock=_clock)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceContext, DemoResult]]:
    """One 500-customer office shared by the read-only tests of this module."""
    ctx = _make_ctx(tmp_path_factory.mktemp("demo") / "d.db")
    result = generate_demo(ctx, customers=CUSTOMERS, seed=1)
    yield ctx, result
    ctx.engine.dispose()


@pytest.fixture
def fresh_ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    ctx = _make_ctx(tmp_path / "d.db")
    yield ctx
    ctx.engine.dispose()


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _fingerprint(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(
                    Customer.code,
                    Customer.name,
                    Customer.kind,
                    Customer.address,
                    Customer.primary_phone,
                    Customer.grade,
                    Customer.annual_volume,
                    User.username,
                )
                .join(User, User.id == Customer.owner_id)
                .order_by(Customer.code)
            )
        ]


def test_demo_counts(demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, result = demo
    assert result.customers == CUSTOMERS
    assert result.seconds > 0
    assert _count(ctx.engine, Customer) == CUSTOMERS
    contacts = _count(ctx.engine, Contact)
    assert CUSTOMERS < contacts <= 3 * CUSTOMERS
    assert _count(ctx.engine, Purchase) > CUSTOMERS
    with ctx.engine.connect() as conn:
        codes = conn.execute(select(Customer.code).order_by(Customer.code)).scalars().all()
        departments = set(conn.execute(select(Department.name)).scalars())
        roles = Tally(conn.execute(select(User.role)).scalars())
        counter = conn.execute(select(Counter.value).where(Counter.name == "customer")).scalar_one()
        audit = conn.execute(select(AuditLog.label, AuditLog.new).where(AuditLog.action == DEMO_ACTION)).all()
        kinds = Tally(conn.execute(select(Customer.kind)).scalars())
        archived = conn.execute(select(func.count()).where(Customer.archived.is_(True))).scalar_one()
    assert codes == [format_customer_code(i) for i in range(1, CUSTOMERS + 1)]
    assert counter == CUSTOMERS
    assert departments == set(DEPARTMENTS)
    assert roles == {"admin": 1, "supervisor": 1, "manager": 1, "clerk": DemoProfile().clerks}
    counts = f'{{"客户": {CUSTOMERS}, "联系人": {contacts}, "购货记录": {_count(ctx.engine, Purchase)}}}'
    assert audit == [(f"KH000001–KH{CUSTOMERS:06d}", counts)]
    assert kinds["个人"] > 50 and kinds["单位"] > 200
    assert 0 < archived < CUSTOMERS * 0.1


def test_demo_phones_are_valid_and_round_trip(demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, _ = demo
    with ctx.engine.connect() as conn:
        contacts = conn.execute(select(Contact.phone, Contact.mobile)).all()
        primary = conn.execute(select(Customer.primary_phone)).scalars().all()
    numbers = [*(n for row in contacts for n in row if n), *(n for n in primary if n)]
    assert len(numbers) > 2 * CUSTOMERS
    for stored in numbers:
        assert normalize_phone(stored) == stored
        assert normalize_phone(format_phone(stored)) == stored
    mobiles = [m for _, m in contacts if m]
    assert all(len(m) == 11 and m.startswith("1") for m in mobiles)
    assert len(set(mobiles)) == len(mobiles)
    landlines = [p for p, _ in contacts if p]
    assert any("x" in p for p in landlines)  # some with an extension
    assert any(p.startswith("0571") for p in landlines)


def test_demo_every_customer_has_one_primary_contact(demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, _ = demo
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(
                Customer.id,
                Customer.primary_contact,
                Customer.primary_phone,
                Contact.name,
                Contact.mobile,
                Contact.phone,
            )
            .join(Contact, Contact.customer_id == Customer.id)
            .where(Contact.is_primary.is_(True))
        ).all()
        per_customer = conn.execute(
            select(Contact.customer_id, func.count()).group_by(Contact.customer_id)
        ).all()
    assert len(rows) == CUSTOMERS
    assert len({r.id for r in rows}) == CUSTOMERS
    for r in rows:
        assert r.primary_contact == r.name
        assert r.primary_phone == (r.mobile or r.phone or "")  # "": an end customer's 台帐 left incomplete
    assert {n for _, n in per_customer} == {1, 2, 3}


def test_demo_grades_follow_the_last_year_volume(demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, _ = demo
    settings = load_settings(ctx)
    since = ctx.today() - timedelta(days=settings.grading_window_days)
    volume = func.coalesce(
        select(func.sum(Purchase.quantity))
        .where(Purchase.customer_id == Customer.id, Purchase.day > since)
        .scalar_subquery(),
        0,
    )
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(
                Customer.grade, Customer.grade_pinned, Customer.grade_reason, Customer.annual_volume, volume
            )
        ).all()
    pinned = [r for r in rows if r.grade_pinned]
    for grade, is_pinned, _, annual, window in rows:
        assert annual == window
        if not is_pinned:
            assert grade == grade_by_volume(window, settings.thresholds)
    assert pinned and all(r.grade_reason for r in pinned)
    spread = Tally(r.grade for r in rows)
    assert 0 < spread["A"] < spread["B"] < spread["C"] < spread["D"]


def test_demo_initials_and_owners(demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, _ = demo
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(
                Customer.name, Customer.initials, Customer.department_id, User.department_id, User.role
            ).join(User, User.id == Customer.owner_id)
        ).all()
    for name, initials, department, owner_department, role in rows:
        assert initials == pinyin_initials(name), name
        assert department == owner_department
        assert role == Role.CLERK
    assert len({r[3] for r in rows}) == len(DEPARTMENTS)


def test_demo_users_log_in_with_the_returned_passwords(demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, result = demo
    assert [u for u, _, _ in result.users] == ["admin", "supervisor", "manager"] + [
        f"clerk{i}" for i in range(1, DemoProfile().clerks + 1)
    ]
    for username, role, password in result.users:
        info = authenticate(ctx, username, password)
        assert info.role == Role(role)
        assert info.display_name and not info.display_name.isascii()
    assert len({p for _, _, p in result.users}) == len(result.users)


def test_demo_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    prints = []
    for name, seed in (("a.db", 7), ("b.db", 7), ("c.db", 8)):
        ctx = _make_ctx(tmp_path / name)
        try:
            generate_demo(ctx, customers=200, seed=seed)
            prints.append(_fingerprint(ctx.engine))
        finally:
            ctx.engine.dispose()
    assert len(prints[0]) == 200
    assert prints[0] == prints[1]
    assert [r[1] for r in prints[0]] != [r[1] for r in prints[2]]


def test_demo_refuses_a_database_with_customers(demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, _ = demo
    with pytest.raises(ServiceError, match="已有 500 个客户档案"):
        generate_demo(ctx, customers=10)
    assert _count(ctx.engine, Customer) == CUSTOMERS


def test_demo_later_registration_continues_the_codes(fresh_ctx: ServiceContext) -> None:
    generate_demo(fresh_ctx, customers=120, seed=3, profile=DemoProfile(clerks=2, batch_size=50))
    draft = CustomerDraft(
        name="杭州新来客户有限公司", contacts=(ContactDraft(name="张三", mobile="139 0000 0001"),)
    )
    detail = register_customer(fresh_ctx, draft, confirm_duplicates=True)
    assert detail.code == "KH000121"


def test_demo_cancel_keeps_the_committed_batches(fresh_ctx: ServiceContext) -> None:
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        calls.append((done, total))
        return done < 200

    result = generate_demo(
        fresh_ctx, customers=1000, progress=progress, profile=DemoProfile(clerks=1, batch_size=100)
    )
    assert calls == [(0, 1000), (100, 1000), (200, 1000)]
    assert result.customers == 200
    assert _count(fresh_ctx.engine, Customer) == 200
    with fresh_ctx.engine.connect() as conn:
        assert conn.execute(select(Counter.value).where(Counter.name == "customer")).scalar_one() == 200
        assert conn.execute(select(func.count()).where(AuditLog.action == DEMO_ACTION)).scalar_one() == 2


def test_demo_cancel_before_the_first_batch_writes_no_customers(fresh_ctx: ServiceContext) -> None:
    result = generate_demo(
        fresh_ctx, customers=50, progress=lambda done, total: False, profile=DemoProfile(clerks=1)
    )
    assert result.customers == 0
    assert _count(fresh_ctx.engine, Customer) == 0
    assert len(result.users) == 4


def test_demo_with_visits_complaints_and_review_history(fresh_ctx: ServiceContext) -> None:
    from huifang_desktop.services import complaints as cs
    from huifang_desktop.services import review
    from huifang_desktop.storage.models import Complaint

    result = generate_demo(fresh_ctx, customers=60, visits=600, complaints=80, profile=DemoProfile(clerks=2))
    assert result.customers == 60
    assert result.visits is not None and result.visits.plans >= 600
    assert result.complaints == _count(fresh_ctx.engine, Complaint) == 80
    counts = cs.state_counts(fresh_ctx)
    assert all(counts[state] > 0 for state in ("已关闭", "处理中"))
    assert result.review is not None and result.review.signed > 0 and result.review.reopened > 0
    assert review.tampered_items(fresh_ctx) == []  # demo signatures are real signatures


def test_demo_keeps_an_existing_admin(fresh_ctx: ServiceContext) -> None:
    from huifang_desktop.services.users import create_user

    create_user(fresh_ctx, "admin", "管理员", Role.ADMIN, "secret-123", first_admin=True)
    result = generate_demo(fresh_ctx, customers=10, profile=DemoProfile(clerks=1))
    assert [u for u, _, _ in result.users] == ["supervisor", "manager", "clerk1"]
    assert authenticate(fresh_ctx, "admin", "secret-123").display_name == "管理员"


@pytest.mark.parametrize("cap", [TEXT_PROBE_CAP, 3])
def test_demo_search_finds_the_same_rows_as_the_plain_condition(
    demo: tuple[ServiceContext, DemoResult], monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    """list_customers' index probe (every match when few, cap 3 forces the ordered scan) changes no result."""
    ctx, _ = demo
    monkeypatch.setattr(customers_service, "TEXT_PROBE_CAP", cap)
    with ctx.engine.connect() as conn:
        name, initials, code, phone = conn.execute(
            select(Customer.name, Customer.initials, Customer.code, Customer.primary_phone)
            .where(
                Customer.kind == "单位", Customer.primary_phone.startswith("1"), Customer.archived.is_(False)
            )
            .order_by(Customer.id.desc())
            .limit(1)
        ).one()
        landline = (
            conn.execute(select(Contact.phone).where(Contact.phone.startswith("0571"))).scalars().first()
        )
    assert landline
    queries = [
        name[:1],
        name[:2],
        name,
        initials[:1],
        initials[:3],
        initials,
        code,
        code[:4],
        code[-3:],
        phone[:3],
        phone[:7],
        phone,
        landline[:6],
        "有限",
        "物流",
        "x",
        "000",
        "zzzz",
        "无此客户",
    ]
    for q in queries:
        f = CustomerFilter(text=q)
        with ctx.engine.connect() as conn:
            plain = [r.id for r in conn.execute(customer_page(f, None, 50))]
        found = [r.id for r in customers_service.list_customers(ctx, f, limit=50)]
        assert found == plain, q
        if q in (name, phone, code):
            assert found, q


# --- the visit history (demo_visits) ----------------------------------------------------------------------

VISIT_CUSTOMERS, VISITS = 200, 2000
TODAY = NOW.date()
PURCHASE_RULES = (
    "delivery_arrival",
    "delivery_usage",
    "delivery_satisfaction",
    "end_customer_monthly",
    "end_customer_quarterly",
    "end_customer_few",
)
RETRY_RESULTS = {"未接通", "不可达", "需再次回访"}
UNSATISFIED = {"一般", "不满意", "很不满意"}  # the default five-level scale


@pytest.fixture(scope="module")
def visit_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceContext, DemoResult]]:
    """One office of 200 customers with 2,000 visit plans, shared by the read-only visit tests."""
    ctx = _make_ctx(tmp_path_factory.mktemp("visits") / "v.db")
    result = generate_demo(
        ctx, customers=VISIT_CUSTOMERS, visits=VISITS, seed=1, profile=DemoProfile(review_history=False)
    )  # the visit generator's own output
    yield ctx, result
    ctx.engine.dispose()


@pytest.fixture
def visit_office(tmp_path: Path) -> Iterator[ServiceContext]:
    """A smaller office with a visit history, for the tests that change it."""
    ctx = _make_ctx(tmp_path / "v.db")
    generate_demo(ctx, customers=120, visits=1200, seed=4, profile=DemoProfile(clerks=3))
    yield ctx
    ctx.engine.dispose()


def _plans(engine: Engine) -> list[VisitPlan]:
    with make_session_factory(engine)() as s:
        return list(s.execute(select(VisitPlan).order_by(VisitPlan.id)).scalars())


def _records(engine: Engine) -> dict[int, VisitRecord]:
    with make_session_factory(engine)() as s:
        return {r.id: r for r in s.execute(select(VisitRecord)).scalars()}


def test_demo_visits_counts_match_the_request(visit_demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, result = visit_demo
    history = result.visits
    assert history is not None
    assert history.plans == _count(ctx.engine, VisitPlan) == VISITS
    assert history.customers == VISIT_CUSTOMERS  # 2,000 plans are enough for every customer's recent visits
    assert history.since is not None and history.since < TODAY - timedelta(days=90)
    with ctx.engine.connect() as conn:
        states = dict(conn.execute(select(VisitPlan.state, func.count()).group_by(VisitPlan.state)).all())
        audit = conn.execute(
            select(AuditLog.new, AuditLog.entity).where(AuditLog.action == VISIT_DEMO_ACTION)
        ).all()
        covered = conn.execute(select(func.count(func.distinct(VisitPlan.customer_id)))).scalar_one()
    assert states["已回访"] == history.records == _count(ctx.engine, VisitRecord)
    assert history.reports == _count(ctx.engine, VisitReport) > 0
    assert set(states) == {"已回访", "待回访", "已取消"}
    assert audit == [
        (
            json.dumps(
                {
                    "回访报告": history.reports,
                    "回访记录": history.records,
                    "回访计划": VISITS,
                    "逾期": history.overdue,
                },
                ensure_ascii=False,
                sort_keys=True,
            ),
            "visit_plan",
        )
    ]
    assert covered > VISIT_CUSTOMERS * 0.8  # D-class customers without purchases may have no visit at all


def _visit_print(ctx: ServiceContext) -> tuple[list[tuple[object, ...]], ...]:
    """The generated visit history, row by row (plans, records, reports)."""
    with ctx.engine.connect() as conn:
        return (
            [
                tuple(r)
                for r in conn.execute(
                    select(
                        VisitPlan.id,
                        VisitPlan.source_key,
                        VisitPlan.state,
                        VisitPlan.due,
                        VisitPlan.done_on,
                        VisitPlan.cancel_reason,
                        VisitPlan.owner_id,
                        VisitPlan.attempt,
                        VisitPlan.created_at,
                    ).order_by(VisitPlan.id)
                )
            ],
            [
                tuple(r)
                for r in conn.execute(
                    select(
                        VisitRecord.number,
                        VisitRecord.plan_id,
                        VisitRecord.visited_at,
                        VisitRecord.visitor_id,
                        VisitRecord.result,
                        VisitRecord.satisfaction,
                        VisitRecord.feedback,
                        VisitRecord.status,
                        VisitRecord.content_hash,
                    ).order_by(VisitRecord.id)
                )
            ],
            [
                tuple(r)
                for r in conn.execute(
                    select(VisitReport.number, VisitReport.summary).order_by(VisitReport.id)
                )
            ],
        )


def test_demo_visits_are_deterministic_for_a_seed(tmp_path: Path) -> None:
    prints = []
    for name, seed in (("a.db", 7), ("b.db", 7), ("c.db", 8)):
        ctx = _make_ctx(tmp_path / name)
        try:
            generate_demo(ctx, customers=60, visits=500, seed=seed, profile=DemoProfile(clerks=2))
            prints.append(_visit_print(ctx))
        finally:
            ctx.engine.dispose()
    assert len(prints[0][0]) == 500 and prints[0][1]
    assert prints[0] == prints[1]
    assert prints[0][0] != prints[2][0]


def test_demo_visits_played_from_the_tape_are_the_simulated_ones(tmp_path: Path) -> None:
    """The second pass plays the first pass's tape instead of simulating again; a tape of one plan
    simulates every customer but the first again. Both write the same history, down to the follow-ups'
    and agreed next visits' keys, owners and creation times, which come from their parent's record."""
    prints = []
    for name, tape_plans in (("taped.db", VisitProfile().tape_plans), ("simulated.db", 1)):
        ctx = _make_ctx(tmp_path / name)
        try:
            profile = DemoProfile(clerks=3, visits=VisitProfile(tape_plans=tape_plans, next_visit_share=0.2))
            generate_demo(ctx, customers=150, visits=1500, complaints=0, seed=3, profile=profile)
            prints.append(_visit_print(ctx))
        finally:
            ctx.engine.dispose()
    plans = prints[0][0]
    assert len(plans) == 1500
    keys = [key for _, key, *_ in plans]
    assert any(re.fullmatch(r"record:\d+#next", key) for key in keys)  # an agreed visit, keyed by its record
    assert any(key.endswith("#2") for key in keys)  # a follow-up
    assert prints[0] == prints[1]


def test_demo_visits_keys_are_the_services_keys(visit_demo: tuple[ServiceContext, DemoResult]) -> None:
    """Each plan carries the key the rule engine gives it: routine/technical from the customer and the base
    day, chains from the purchase, birthdays from the customer, hand-made ones a UUID or the record."""
    ctx, _ = visit_demo
    plans = _plans(ctx.engine)
    records = _records(ctx.engine)
    with ctx.engine.connect() as conn:
        buyer = dict(conn.execute(select(Purchase.id, Purchase.customer_id)).all())
    assert len({p.source_key for p in plans}) == len(plans)
    rules = Tally(p.rule_key for p in plans)
    assert {"routine", "technical", "birthday", "manual", "delivery_arrival", "end_customer_monthly"} <= set(
        rules
    )
    for p in plans:
        m = re.fullmatch(
            r"(?P<origin>[a-z_]+:[0-9a-f]+)(?:#(?P<rule>(?!next)[a-z_]+)(?:@(?P<occ>\d+))?)?"
            r"(?:#(?P<next>next))?(?:#(?P<attempt>\d+))?",
            p.source_key,
        )
        assert m, p.source_key
        assert p.attempt == int(m["attempt"] or 1), p.source_key
        kind, _, ident = m["origin"].partition(":")
        if p.rule_key in ("routine", "technical"):
            assert (kind, int(ident), m["rule"]) == ("customer", p.customer_id, p.rule_key), p.source_key
            assert date(int(m["occ"][:4]), int(m["occ"][4:6]), int(m["occ"][6:])) < p.due  # the base day
        elif p.rule_key in PURCHASE_RULES:
            assert (kind, m["rule"]) == ("purchase", p.rule_key) and buyer[int(ident)] == p.customer_id
        elif p.rule_key == "birthday":
            assert (kind, int(ident), m["rule"]) == ("birthday", p.customer_id, "birthday")
        else:
            assert p.rule_key == "manual" and p.manual == (p.attempt == 1), p.source_key  # follow-ups: not
            if kind == "record":  # record_visit's plan for the agreed 下次回访时间
                rec = records[int(ident)]
                assert m["next"] and rec.customer_id == p.customer_id and rec.next_visit_on is not None
                assert p.due >= rec.next_visit_on and p.created_at >= rec.created_at
            else:
                assert kind == "manual" and len(ident) == 32


def test_demo_visits_done_plans_and_records_match(visit_demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, _ = visit_demo
    plans = _plans(ctx.engine)
    records = _records(ctx.engine)
    done = [p for p in plans if p.state == "已回访"]
    assert {p.record_id for p in done} == set(records)
    for p in plans:
        if p.state != "已回访":
            assert p.record_id is None and p.done_on is None
            assert (p.state == "已取消") == bool(p.cancel_reason)
            continue
        rec = records[p.record_id]  # type: ignore[index]
        assert (rec.plan_id, rec.customer_id, rec.visit_type, rec.method) == (
            p.id,
            p.customer_id,
            p.visit_type,
            p.method,
        )
        assert rec.visited_at.date() == p.done_on and rec.visited_at <= NOW
        assert p.created_at <= rec.created_at <= NOW
        assert (rec.satisfaction != "") == (rec.result == "成功")
        assert rec.customer_signed == (rec.method == "上门")
        assert bool(rec.transfer_department) <= bool(rec.problems)
        if rec.transfer_department:
            assert rec.transfer_due == rec.visited_at + timedelta(hours=24)
            assert (rec.transfer_done_at is None) == (rec.transfer_answer == "")
    # 编号: HF + visit day + the day's serial, in the order of the visits, and the counter at the last one
    by_day: dict[date, list[VisitRecord]] = {}
    for rec in records.values():
        by_day.setdefault(rec.visited_at.date(), []).append(rec)
    with ctx.engine.connect() as conn:
        counters = dict(conn.execute(select(Counter.name, Counter.value)).all())
    for day, recs in by_day.items():
        recs.sort(key=lambda r: r.number)
        assert [r.number for r in recs] == [f"HF{day:%Y%m%d}-{n:03d}" for n in range(1, len(recs) + 1)]
        assert [r.visited_at for r in recs] == sorted(r.visited_at for r in recs)
        assert counters[f"visit:{day:%Y%m%d}"] == len(recs)
    assert sum(1 for name in counters if name.startswith("visit:")) == len(by_day)


def test_demo_visits_overdue_is_a_small_recent_share(visit_demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, result = visit_demo
    assert result.visits is not None
    plans = _plans(ctx.engine)
    past = [p for p in plans if p.due < TODAY]
    overdue = [p for p in past if p.state == "待回访"]
    assert len(overdue) == result.visits.overdue
    assert 0 < len(overdue) <= 0.01 * len(past)
    assert all(p.due >= TODAY - timedelta(days=60) for p in overdue)
    states = Tally(p.state for p in past)
    assert states["已回访"] / len(past) > 0.88
    assert 0 < states["已取消"] / len(past) < 0.1
    future = [p for p in plans if p.due > TODAY]
    # some were visited early, in their window
    assert future and all(
        p.state != "已回访" or (p.done_on is not None and p.done_on <= TODAY) for p in future
    )
    assert Tally(p.state for p in future)["待回访"] > 0.8 * len(future)
    assert max(p.due for p in future) <= TODAY + timedelta(days=100)  # technical plans go furthest ahead


def test_demo_visits_second_attempts_follow_failed_visits(
    visit_demo: tuple[ServiceContext, DemoResult],
) -> None:
    from huifang_desktop.services.policy import work_calendar
    from huifang_desktop.services.visits import load_rules

    ctx, _ = visit_demo
    plans = _plans(ctx.engine)
    records = _records(ctx.engine)
    by_key = {p.source_key: p for p in plans}
    policy = load_rules(ctx).follow_up
    cal, window = work_calendar(ctx), policy.window
    after: Tally[str] = Tally()
    for p in plans:
        if p.attempt == 1:
            continue
        base, _, n = p.source_key.rpartition("#")
        assert int(n) == p.attempt
        previous = by_key.get(base if p.attempt == 2 else f"{base}#{p.attempt - 1}")
        if previous is None:  # older than the history kept
            continue
        assert previous.state == "已回访" and previous.rule_key == p.rule_key
        rec = records[previous.record_id]  # type: ignore[index]
        assert rec.result in RETRY_RESULTS or rec.satisfaction in UNSATISFIED or rec.result == "拒绝"
        # 000 §1.9: the second visit as the first, a phone visit allowed from the third (重大 complaints
        # stay on site)
        if p.rule_key != "complaint_closed":
            assert p.method == (previous.method if p.attempt == 2 else "电话")
        visited = rec.visited_at.date()
        if rec.result == "拒绝":  # 001 §47: contacted again after the set days
            assert p.due == cal.next_workday(visited + timedelta(days=policy.refused_after_days))
        else:
            assert p.due == cal.next_workday(visited + timedelta(days=window.due))  # e.g. 1–3 days after
        assert visited < p.earliest <= p.due
        after[rec.result] += 1
    assert after["未接通"] > 5 and after["成功"] > 5  # after no answer, and after an unsatisfied customer


def test_demo_visits_reports_agree_with_the_records_of_their_day(
    visit_demo: tuple[ServiceContext, DemoResult],
) -> None:
    from huifang_desktop.services import visits

    ctx, _ = visit_demo
    with make_session_factory(ctx.engine)() as s:
        reports = list(s.execute(select(VisitReport).order_by(VisitReport.id)).scalars())
        clerks = set(s.execute(select(User.id).where(User.role == "clerk")).scalars())
    with ctx.engine.connect() as conn:
        per_day = {
            (clerk, str(day)[:10]): n
            for clerk, day, n in conn.execute(
                select(VisitRecord.visitor_id, func.date(VisitRecord.visited_at), func.count()).group_by(
                    VisitRecord.visitor_id, func.date(VisitRecord.visited_at)
                )
            )
        }
        counters = dict(
            conn.execute(select(Counter.name, Counter.value).where(Counter.name.like("report:%"))).all()
        )
    assert len({(r.clerk_id, r.period_start) for r in reports}) == len(reports)
    for r in reports:
        assert r.clerk_id in clerks and r.period_start == r.period_end
        assert json.loads(r.summary)["total"] == per_day[(r.clerk_id, r.period_start.isoformat())]
        assert r.number.startswith(f"BG{r.created_at:%Y%m%d}-") and r.due_on <= r.created_at.date() <= TODAY
        assert r.evaluation and r.status in ("已签字", "待审阅")
    assert Tally(r.status for r in reports)["已签字"] > len(reports) * 0.8
    saved = Tally(f"report:{r.created_at:%Y%m%d}" for r in reports)
    assert counters == dict(saved)
    # every clerk-day with visits before yesterday has its report, and a few match draft_report in full
    older = {k for k in per_day if k[0] in clerks and date.fromisoformat(k[1]) < TODAY - timedelta(days=7)}
    assert older <= {(r.clerk_id, r.period_start.isoformat()) for r in reports}
    with_problems = [r for r in reports if r.problems][-5:] + reports[-3:]
    assert with_problems
    for r in with_problems:
        draft = visits.draft_report(ctx, r.clerk_id, r.period_start, r.period_end)
        assert json.loads(r.summary) == json.loads(json.dumps(draft.summary(), ensure_ascii=False))
        assert (r.problems, r.actions) == (draft.problems_text, draft.measures_text)


def test_demo_visits_review_states_and_signatures(visit_demo: tuple[ServiceContext, DemoResult]) -> None:
    """Older records are signed (with the hashes review.sign stores), recent ones wait, a few were returned;
    the review service finds no signature broken."""
    from huifang_desktop.services import review

    ctx, _ = visit_demo
    records = list(_records(ctx.engine).values())
    status = Tally(r.status for r in records)
    assert status["已签字"] > 0.85 * len(records) and status["待审阅"] > 0 and status["退回"] > 0
    for r in records:
        signed = r.status == "已签字"
        assert bool(r.content_hash) == bool(r.signature_hash) == bool(r.signed_at) == signed
        if signed:
            assert r.signed_at is not None and r.signed_at >= r.created_at
            assert r.signed_role == "supervisor" and r.signed_by_id != r.visitor_id
        if r.status == "退回":
            assert r.supervisor_comment
    assert max(r.visited_at for r in records if r.status == "已签字") < min(
        r.visited_at for r in records if r.status != "已签字"
    )
    assert review.tampered_items(ctx) == []
    some = [r.id for r in records if r.status == "已签字"][::200]
    assert {review.verify(ctx, "回访记录表", i) for i in some} == {review.Integrity.INTACT}


def test_demo_visits_catch_up_keeps_what_the_demo_planned(visit_office: ServiceContext) -> None:
    """The demo's plans carry the rule engine's keys and follow the records the way the catch-up does, so
    running it today re-plans and re-dates nothing: it only adds the later occurrences of the purchase
    chains, which the demo writes only up to ``ahead_days`` (an end-customer chain runs two years ahead)."""
    from huifang_desktop.services import visits

    before = {p.source_key for p in _plans(visit_office.engine)}
    result = visits.plan_catch_up(visit_office, TODAY)
    assert result.moved == 0
    assert not {p.rule_key for p in result.planned} - set(PURCHASE_RULES)
    horizon = TODAY + timedelta(days=VisitProfile().ahead_days)
    assert all(p.due > horizon for p in result.planned)
    assert len(before) + len(result.planned) == _count(visit_office.engine, VisitPlan)
    again = visits.plan_catch_up(visit_office, TODAY)
    assert (again.planned, again.moved) == ([], 0)


def test_demo_visits_services_continue_the_numbers(visit_office: ServiceContext) -> None:
    from huifang_desktop.services import visits
    from huifang_desktop.services.context import UserInfo

    with visit_office.engine.connect() as conn:
        today_records = conn.execute(
            select(func.count()).where(VisitRecord.visited_at >= datetime.combine(TODAY, datetime.min.time()))
        ).scalar_one()
        today_reports = conn.execute(
            select(func.count()).where(VisitReport.created_at >= datetime.combine(TODAY, datetime.min.time()))
        ).scalar_one()
        plan_id, owner_id = conn.execute(
            select(VisitPlan.id, VisitPlan.owner_id)
            .where(VisitPlan.state == "待回访", VisitPlan.due <= TODAY, VisitPlan.method == "电话")
            .order_by(VisitPlan.due)
            .limit(1)
        ).one()
        clerk = conn.execute(
            select(User.id, User.username, User.display_name, User.department_id).where(User.id == owner_id)
        ).one()
    assert today_records > 0
    ctx = visit_office.as_user(
        UserInfo(clerk.id, clerk.username, clerk.display_name, Role.CLERK, clerk.department_id)
    )
    draft = visits.prefill_record(ctx, plan_id)
    row = visits.record_visit(ctx, draft.to_draft(result="成功", satisfaction="满意", content="电话回访"))
    assert row.number == f"HF{TODAY:%Y%m%d}-{today_records + 1:03d}"
    assert visits.get_plan(ctx, plan_id).state == "已回访"
    report = visits.save_report(
        ctx, visits.draft_report(ctx, clerk.id, TODAY, TODAY), "今日回访正常。", "", ""
    )
    assert report.number == f"BG{TODAY:%Y%m%d}-{today_reports + 1:03d}"
    assert report.summary["total"] >= 1


def test_demo_visits_on_the_customers_of_an_office(fresh_ctx: ServiceContext) -> None:
    generate_demo(fresh_ctx, customers=40, seed=2, profile=DemoProfile(clerks=2))
    with pytest.raises(ServiceError, match="已有 40 个客户档案"):
        generate_demo(fresh_ctx, customers=0)
    result = generate_demo(fresh_ctx, customers=0, visits=300, seed=2, profile=DemoProfile(clerks=2))
    assert result.customers == 0 and result.users == []
    assert result.visits is not None and result.visits.plans == _count(fresh_ctx.engine, VisitPlan) == 300
    assert _count(fresh_ctx.engine, Customer) == 40
    with pytest.raises(ServiceError, match="已有 300 条回访计划"):
        generate_demo(fresh_ctx, customers=0, visits=10, profile=DemoProfile(clerks=2))


def test_demo_visits_need_customers(fresh_ctx: ServiceContext) -> None:
    from huifang_desktop.domain.errors import ValidationError

    with pytest.raises(ValidationError, match="没有客户档案"):
        generate_demo(fresh_ctx, customers=0, visits=10, profile=DemoProfile(clerks=1))
    with pytest.raises(ValidationError, match="回访数"):
        generate_demo(fresh_ctx, customers=5, visits=-1, profile=DemoProfile(clerks=1))
    assert _count(fresh_ctx.engine, Customer) == 0


def test_demo_command_with_visits(tmp_path: Path, run_main: MainRunner) -> None:
    code, out, err = run_main(["--data-dir", str(tmp_path), "demo", "--customers", "200", "--visits", "2000"])
    assert code == 0, err
    assert "2000 条回访计划" in out and "--visits" not in err
    engine = run_main.opened[0].engine
    assert _count(engine, Customer) == 200 and _count(engine, VisitPlan) == 2000
    assert _count(engine, VisitRecord) > 1000
