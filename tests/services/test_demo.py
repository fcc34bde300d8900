"""The demo office generator: counts, valid phones, primary contacts, grades, determinism, refusal."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

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
from huifang_desktop.services.demo import DEMO_ACTION, DEPARTMENTS, DemoProfile, DemoResult, generate_demo
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.settings import load_settings
from huifang_desktop.services.users import authenticate
from huifang_desktop.storage.db import make_engine, make_session_factory, sqlite_url, upgrade
from huifang_desktop.storage.models import AuditLog, Contact, Counter, Customer, Department, Purchase, User
from huifang_desktop.storage.queries import TEXT_PROBE_CAP, CustomerFilter, customer_page

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
        return [tuple(r) for r in conn.execute(
            select(Customer.code, Customer.name, Customer.kind, Customer.address, Customer.primary_phone,
                   Customer.grade, Customer.annual_volume, User.username)
            .join(User, User.id == Customer.owner_id).order_by(Customer.code))]


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
    numbers = [*(n for row in contacts for n in row if n), *primary]
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
            select(Customer.id, Customer.primary_contact, Customer.primary_phone,
                   Contact.name, Contact.mobile, Contact.phone)
            .join(Contact, Contact.customer_id == Customer.id).where(Contact.is_primary.is_(True))).all()
        per_customer = conn.execute(
            select(Contact.customer_id, func.count()).group_by(Contact.customer_id)).all()
    assert len(rows) == CUSTOMERS
    assert len({r.id for r in rows}) == CUSTOMERS
    for r in rows:
        assert r.primary_contact == r.name
        assert r.primary_phone == (r.mobile or r.phone)
    assert {n for _, n in per_customer} == {1, 2, 3}


def test_demo_grades_follow_the_last_year_volume(demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, _ = demo
    settings = load_settings(ctx)
    since = ctx.today() - timedelta(days=settings.grading_window_days)
    volume = func.coalesce(select(func.sum(Purchase.quantity)).where(
        Purchase.customer_id == Customer.id, Purchase.day > since).scalar_subquery(), 0)
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(Customer.grade, Customer.grade_pinned, Customer.grade_reason,
                                   Customer.annual_volume, volume)).all()
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
            select(Customer.name, Customer.initials, Customer.department_id, User.department_id, User.role)
            .join(User, User.id == Customer.owner_id)).all()
    for name, initials, department, owner_department, role in rows:
        assert initials == pinyin_initials(name), name
        assert department == owner_department
        assert role == Role.CLERK
    assert len({r[3] for r in rows}) == len(DEPARTMENTS)


def test_demo_users_log_in_with_the_returned_passwords(demo: tuple[ServiceContext, DemoResult]) -> None:
    ctx, result = demo
    assert [u for u, _, _ in result.users] == ["admin", "supervisor", "manager"] + [
        f"clerk{i}" for i in range(1, DemoProfile().clerks + 1)]
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
    draft = CustomerDraft(name="杭州新来客户有限公司",
                          contacts=(ContactDraft(name="张三", mobile="139 0000 0001"),))
    detail = register_customer(fresh_ctx, draft, confirm_duplicates=True)
    assert detail.code == "KH000121"


def test_demo_cancel_keeps_the_committed_batches(fresh_ctx: ServiceContext) -> None:
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        calls.append((done, total))
        return done < 200

    result = generate_demo(fresh_ctx, customers=1000, progress=progress,
                           profile=DemoProfile(clerks=1, batch_size=100))
    assert calls == [(0, 1000), (100, 1000), (200, 1000)]
    assert result.customers == 200
    assert _count(fresh_ctx.engine, Customer) == 200
    with fresh_ctx.engine.connect() as conn:
        assert conn.execute(select(Counter.value).where(Counter.name == "customer")).scalar_one() == 200
        assert conn.execute(select(func.count()).where(AuditLog.action == DEMO_ACTION)).scalar_one() == 2


def test_demo_cancel_before_the_first_batch_writes_no_customers(fresh_ctx: ServiceContext) -> None:
    result = generate_demo(fresh_ctx, customers=50, progress=lambda done, total: False,
                           profile=DemoProfile(clerks=1))
    assert result.customers == 0
    assert _count(fresh_ctx.engine, Customer) == 0
    assert len(result.users) == 4


def test_demo_accepts_visits_and_complaints_for_later(fresh_ctx: ServiceContext) -> None:
    result = generate_demo(fresh_ctx, customers=20, visits=100, complaints=5, profile=DemoProfile(clerks=1))
    assert result.customers == 20


def test_demo_keeps_an_existing_admin(fresh_ctx: ServiceContext) -> None:
    from huifang_desktop.services.users import create_user

    create_user(fresh_ctx, "admin", "管理员", Role.ADMIN, "secret-123", first_admin=True)
    result = generate_demo(fresh_ctx, customers=10, profile=DemoProfile(clerks=1))
    assert [u for u, _, _ in result.users] == ["supervisor", "manager", "clerk1"]
    assert authenticate(fresh_ctx, "admin", "secret-123").display_name == "管理员"


@pytest.mark.parametrize("cap", [TEXT_PROBE_CAP, 3])
def test_demo_search_finds_the_same_rows_as_the_plain_condition(
        demo: tuple[ServiceContext, DemoResult], monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    """list_customers' index probe (every match when few, cap 3 forces the ordered scan) changes no result."""
    ctx, _ = demo
    monkeypatch.setattr(customers_service, "TEXT_PROBE_CAP", cap)
    with ctx.engine.connect() as conn:
        name, initials, code, phone = conn.execute(
            select(Customer.name, Customer.initials, Customer.code, Customer.primary_phone)
            .where(Customer.kind == "单位", Customer.primary_phone.startswith("1"), Customer.archived.is_(False))
            .order_by(Customer.id.desc()).limit(1)).one()
        landline = conn.execute(select(Contact.phone).where(Contact.phone.startswith("0571"))).scalars().first()
    assert landline
    queries = [name[:1], name[:2], name, initials[:1], initials[:3], initials, code, code[:4], code[-3:],
               phone[:3], phone[:7], phone, landline[:6], "有限", "物流", "x", "000", "zzzz", "无此客户"]
    for q in queries:
        f = CustomerFilter(text=q)
        with ctx.engine.connect() as conn:
            plain = [r.id for r in conn.execute(customer_page(f, None, 50))]
        found = [r.id for r in customers_service.list_customers(ctx, f, limit=50)]
        assert found == plain, q
        if q in (name, phone, code):
            assert found, q
