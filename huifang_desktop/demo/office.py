"""Demo office (演示数据): a realistic sample office for trying the program and for ``bench/``.

``generate_demo`` fills a migrated database that holds no customers with departments, users (one per role
plus clerks), customers of a Hangzhou truck and construction-machinery dealer (个人 and 单位), contacts,
purchases and deliveries, grades, a few pinned grades and archived files, and audit rows.

Speed: rows are built as plain dicts and written with SQLAlchemy Core ``insert()`` executemany, one batch
(``DemoProfile.batch_size`` customers with their contacts, purchases and one audit row) per transaction,
with explicit primary keys; no ORM object is made per row. 100,000 customers take well under a minute.

Visits (``visits=N``): after the customers, :mod:`huifang_desktop.demo.visits` simulates N visit
plans with their 回访记录表, follow-ups and 回访报告表 from the office's rules (see there).

Extension points: each entity has its own private builder (``_customer_row``, ``_contact_rows``,
``_purchase_rows``, ``batch_audit_row``) that appends to a ``_Batch``; ``write_batch`` inserts a batch.
Complaints and service records are added the same way: a builder per entity called from ``build_batch``
(or a pass after the customers exist, as the visits are), a list on ``_Batch``, and an ``insert`` in
``write_batch``.
"""

from __future__ import annotations

import random
import secrets
import string
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import event, func, select

from huifang_desktop.demo.complaints import generate_complaints
from huifang_desktop.demo.customers import (
    DEMO_ACTION,
    CustomerGenerator,
    Owner,
    batch_audit_row,
    build_batch,
    first_free_ids,
    number_batch,
    person_name,
    refresh_statistics,
    write_batch,
)
from huifang_desktop.demo.handover import seed_handover
from huifang_desktop.demo.profile import DemoProfile
from huifang_desktop.demo.review_history import SeedResult, seed_review_history
from huifang_desktop.demo.visit_world import VisitProfile
from huifang_desktop.demo.visits import VisitDemoResult, generate_visits
from huifang_desktop.domain.complaint_rules import UrgentTimings
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role
from huifang_desktop.services import signing
from huifang_desktop.services.complaints import load_complaint_rules, save_complaint_rules
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.handover import HandoverResult
from huifang_desktop.services.settings import load_settings
from huifang_desktop.services.users import create_user, ensure_department, has_users, mark_demo_office
from huifang_desktop.services.visits import load_options
from huifang_desktop.storage.models import Customer, User

CUSTOMER_COUNTER = "customer"  # the counter row register_customer draws 客户编号 from
DEPARTMENTS = ("客服部", "销售部", "售后服务部")


@dataclass(frozen=True, slots=True)
class DemoResult:
    users: list[tuple[str, str, str]]  # (username, role, password) of the users created now, shown once
    customers: int  # customer files written (fewer than asked when progress() cancelled)
    seconds: float
    visits: VisitDemoResult | None = None  # the visit history, when visits were asked for
    complaints: int = 0  # complaints, 咨询 and 建议 written
    review: SeedResult | None = None  # items signed, returned and reopened through the review services
    handover: HandoverResult | None = None  # the 工作交接 in the history (demo.handover)


REVIEW_HISTORY_LIMIT = 50_000  # above it the generators' own signed/returned rows are the review history


ProgressFn = Callable[[int, int], bool]
StageFn = Callable[
    [str, int, int], None
]  # (stage, done, total): "users", "customers", "visits" (per mille) …

# The sample accounts' passwords are kept in the example office's marker and shown on its log-in dialog, so
# a slow hash would protect nothing there: a cheap argon2id (still salted) saves ~2 s of the first demo start.
DEMO_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def generate_demo(
    ctx: ServiceContext,
    *,
    customers: int = 300,
    seed: int = 1,
    progress: ProgressFn | None = None,
    visits: int = 0,
    complaints: int = 0,
    profile: DemoProfile | None = None,
    stages: StageFn | None = None,
) -> DemoResult:
    """Fill a migrated database that holds no customers with a demo office; deterministic for ``seed`` (and
    ``ctx.clock()``, the office's today).

    Users: admin, supervisor, manager and clerk1..clerkN (``profile.clerks``) with random passwords
    (``secrets``), returned once in the result. A username that already exists is kept as it is (its
    password is not changed and not returned); its user still owns customers if it is a clerk. A database
    that had no users is marked as an example office (``users.DEMO_OFFICE_KEY``): only such a database
    opens without a password (``--demo``, ``--screenshot``).

    Customers are written in batches, each in its own transaction together with its contacts, purchases,
    one audit row and the 客户编号 counter. ``progress(done, total)`` is called before the first batch
    and after every committed batch; when it returns False generation stops there: the batches already
    committed stay (a smaller but consistent office, the counter at the last code used) and no half batch
    is ever written. An error inside a batch rolls back that batch only. At the end the planner
    statistics are refreshed (ANALYZE), as after any bulk load.

    ``visits``: then N visit plans over the customers (the ones made now, or with ``customers=0`` the
    office's own), with their records, follow-ups and reports, by
    :func:`huifang_desktop.demo.visits.generate_visits` in one transaction; refused when the
    office has visits already; not made when ``progress()`` cancelled. ``complaints``: then N complaints,
    咨询 and 建议 in every state (:func:`huifang_desktop.demo.complaints.generate_complaints`),
    after the visits (their closing visits continue the visit numbers). On an office of up to
    :data:`REVIEW_HISTORY_LIMIT` visits and complaints, some waiting items are then signed, returned and
    reopened through the review services, so the 审阅 tab and the audit log show real history. An office made
    whole gets the rule book's 紧急 timings before its complaints (some of them urgent) and, with any history,
    one staff hand-over (:mod:`huifang_desktop.demo.handover`): a clerk who left weeks ago, inactive, not
    one of the sample accounts.

    ``stages(stage, done, total)`` is told how far it got, for a progress display: ``users``, ``customers``
    (files written of ``customers``), ``visits`` (per mille of the visit history), ``complaints``,
    ``review``, ``statistics``. Users made on an office that had none keep their passwords in the marker
    (``users.demo_accounts`` for the log-in dialog), hashed cheaply (:data:`DEMO_HASHER`).
    """
    profile = profile if profile is not None else DemoProfile()
    started = time.perf_counter()
    ctx.require(Permission.MANAGE_USERS, "生成演示数据")
    profile.validate()
    profile.visits.validate()
    if customers < 0:
        raise ValidationError(FieldError("customers", "客户数", "不能为负数"))
    if visits < 0:
        raise ValidationError(FieldError("visits", "回访数", "不能为负数"))
    if complaints < 0:
        raise ValidationError(FieldError("complaints", "投诉数", "不能为负数"))
    with ctx.engine.connect() as conn:
        existing = int(conn.execute(select(func.count()).select_from(Customer.__table__)).scalar() or 0)
    if existing and (customers or not visits):
        raise ServiceError(
            f"数据库中已有 {existing} 个客户档案，不能再生成演示数据。请新建一个空数据库后再生成。"
        )

    with _no_fsync_per_commit(ctx.engine):
        return _generate(ctx, customers, seed, progress, visits, complaints, profile, stages, started)


@contextmanager
def _no_fsync_per_commit(engine: Any) -> Iterator[None]:
    """SQLite: while the generator runs, commits are not synced to disk one by one (``synchronous=NORMAL``
    in WAL mode: still atomic, and safe from a crash of the program; a power cut may lose the last
    commits). The review history alone commits ~200 times: ~1–2 s of waiting for the disk on a first demo
    start. The final ANALYZE commits with the office's ``synchronous=FULL`` again, which syncs everything."""
    if engine.dialect.name != "sqlite":
        yield
        return

    def relaxed(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    def strict(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA synchronous=FULL")

    event.listen(engine, "checkout", relaxed)
    event.listen(engine, "checkin", strict)
    try:
        yield
    finally:
        event.remove(engine, "checkout", relaxed)
        event.remove(engine, "checkin", strict)


def _generate(
    ctx: ServiceContext,
    customers: int,
    seed: int,
    progress: ProgressFn | None,
    visits: int,
    complaints: int,
    profile: DemoProfile,
    stages: StageFn | None,
    started: float,
) -> DemoResult:
    def stage(name: str, done: int, total: int) -> None:
        if stages is not None:
            stages(name, done, total)

    settings = load_settings(ctx)
    rng = random.Random(seed)
    whole_office = not has_users(ctx)
    stage("users", 0, 3 + profile.clerks)
    created_users, owners = _ensure_users(ctx, rng, profile.clerks, cheap=whole_office)
    if whole_office:  # only an office the generator made, users and all, may open without a password
        mark_demo_office(ctx, created_users)
    gen = CustomerGenerator(
        rng=rng,
        profile=profile,
        settings=settings,
        today=ctx.today(),
        owners=owners,
        total=customers,
        end_categories=frozenset(load_options(ctx).end_customer_categories),
        ledger_rng=random.Random(f"demo-ledger:{seed}"),
    )
    done = 0
    cancelled = progress is not None and not progress(0, customers)
    stage("customers", 0, customers)
    if not cancelled:
        with ctx.engine.connect() as conn:
            ids = first_free_ids(conn)
        while done < customers:
            size = min(profile.batch_size, customers - done)
            batch = build_batch(gen, ids, done, size)
            with ctx.engine.begin() as conn:
                number_batch(conn, batch)
                write_batch(conn, batch, batch_audit_row(ctx, batch, seed))
            ids = batch.next_ids
            done += size
            stage("customers", done, customers)
            if progress is not None and not progress(done, customers):
                cancelled = True
                break
    history = None
    if visits and not cancelled:
        stage("visits", 0, 1000)
        history = generate_visits(
            ctx,
            visits,
            seed=seed,
            profile=profile.visits,
            progress=lambda share: stage("visits", round(share * 1000), 1000),
        )
    made_complaints = 0
    if complaints and not cancelled:
        if whole_office and profile.urgent_timings:
            _allow_urgent(ctx)
        stage("complaints", 0, complaints)
        made_complaints = generate_complaints(ctx, complaints, seed=seed)
    handed_over = None
    if whole_office and profile.handover and (visits or complaints) and not cancelled:
        handed_over = seed_handover(ctx, seed, DEMO_HASHER)
    keys = _signing_keys(ctx, created_users)
    if (visits or complaints) and not cancelled:  # the bulk-written sign-offs get their signatures
        with ctx.engine.begin() as conn:
            signing.sign_generated(conn, keys)
    reviewed = None
    if (
        profile.review_history
        and (visits or complaints)
        and not cancelled
        and visits + complaints <= REVIEW_HISTORY_LIMIT
    ):
        stage("review", 0, 0)
        reviewed = seed_review_history(ctx, seed, keys)
    stage("statistics", 0, 0)
    with ctx.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=FULL")  # this last commit syncs all before it
        refresh_statistics(conn)
    return DemoResult(
        created_users, done, time.perf_counter() - started, history, made_complaints, reviewed, handed_over
    )


def _allow_urgent(ctx: ServiceContext) -> None:
    """The example office takes urgent complaints (紧急, 002 制度5): its complaint rules get the rule book's
    timings (24 h / 12 h / 2 h, as the 物业管理 preset sets them) through the settings service, unless they
    have some, so intake offers 紧急 and the generated register holds urgent complaints by the same rules."""
    rules = load_complaint_rules(ctx)
    if rules.urgent is None:
        save_complaint_rules(ctx, replace(rules, urgent=UrgentTimings()))


def _signing_keys(ctx: ServiceContext, created: list[tuple[str, str, str]]) -> dict[int, Any]:
    """The unlocked signing keys of the supervisors and managers made now (their passwords are known), for
    the generated sign-offs; a signer from before has none (its items go back to 待审阅)."""
    keys: dict[int, signing.UnlockedKey] = {}
    with ctx.sessions() as s:
        ids = dict(
            s.execute(
                select(User.username, User.id).where(User.username.in_([u for u, _, _ in created]))
            ).all()
        )
        for username, role, password in created:
            if role in (Role.SUPERVISOR.value, Role.MANAGER.value) and username in ids:
                box = s.execute(select(User.key_box).where(User.id == ids[username])).scalar()
                if box:
                    keys[ids[username]] = signing.UnlockedKey(ids[username], signing.open_box(box, password))
    return keys


_PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lIo")
_PASSWORD_LENGTH = 10


def _new_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_LENGTH))


def _ensure_users(
    ctx: ServiceContext, rng: random.Random, clerks: int, *, cheap: bool = False
) -> tuple[list[tuple[str, str, str]], tuple[Owner, ...]]:
    """Departments and users; returns the new users' passwords and the clerks who own customers. ``cheap``:
    an example office made whole, whose passwords its log-in dialog shows: hashed with DEMO_HASHER."""
    for name in DEPARTMENTS:
        ensure_department(ctx, name)
    plan: list[tuple[str, Role, str]] = [
        ("admin", Role.ADMIN, ""),
        ("supervisor", Role.SUPERVISOR, DEPARTMENTS[0]),
        ("manager", Role.MANAGER, DEPARTMENTS[1]),
    ]
    plan += [(f"clerk{i}", Role.CLERK, DEPARTMENTS[(i - 1) % len(DEPARTMENTS)]) for i in range(1, clerks + 1)]
    display_names: list[str] = []
    while len(display_names) < len(plan):  # drawn before any database look-up: same names for a seed
        name = person_name(rng)
        if name not in display_names:
            display_names.append(name)
    created: list[tuple[str, str, str]] = []
    owners: list[Owner] = []
    with ctx.engine.connect() as conn:
        existing = {
            r.username: r for r in conn.execute(select(User.id, User.username, User.department_id, User.role))
        }
    for (username, role, department), display in zip(plan, display_names, strict=True):
        row = existing.get(username)
        if row is None:
            password = _new_password()
            info = create_user(
                ctx, username, display, role, password, department, hasher=DEMO_HASHER if cheap else None
            )
            created.append((username, str(role), password))
            user_id, dep_id, user_role = info.id, info.department_id, str(role)
        else:
            user_id, dep_id, user_role = row.id, row.department_id, row.role
        if user_role == Role.CLERK:
            owners.append(Owner(user_id, dep_id))
    if not owners:
        raise ServiceError("已有的 clerk 用户不是业务员角色，无法分配客户负责人。")
    return created, tuple(owners)


__all__ = ["DEMO_ACTION", "DEPARTMENTS", "DemoProfile", "DemoResult", "VisitProfile", "generate_demo"]
