"""Planning: the daily catch-up and the trigger hooks (see the package docstring)."""

from __future__ import annotations

import json
import time
from collections import Counter as Tally
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from huifang_desktop.domain.classes import cadence_start
from huifang_desktop.domain.planning import TriggerPlanner as _TriggerPlanner
from huifang_desktop.domain.planning import assignee_for, purchase_triggers
from huifang_desktop.domain.schedule import (
    ROUTINE_RULE,
    TECHNICAL_RULE,
    Assignee,
    PlannedVisit,
    Trigger,
    TriggerKind,
    add_months,
    plans_for_trigger,
    routine_plans,
)
from huifang_desktop.domain.validation import format_phone
from huifang_desktop.domain.visits import display_state
from huifang_desktop.services.classes import imported_customers, monthly_recompute
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import NotFound
from huifang_desktop.services.settings import get_value
from huifang_desktop.services.visits.independence import Visitors
from huifang_desktop.services.visits.options import (
    _CANCELLED,
    _INSERT_BATCH,
    _KEY_CHUNK,
    _PENDING,
    _SUCCESS,
    VisitOptions,
    _Config,
    _config,
    independence_on,
    rule_names,
)
from huifang_desktop.services.visits.rows import CatchUpResult, PlanRow
from huifang_desktop.services.visits.shared import _user_names
from huifang_desktop.storage.models import (
    Customer,
    Purchase,
    User,
    VisitPlan,
    VisitRecord,
)


class _Assignees:
    """Who makes a planned visit: the customer's owner, or a supervisor / manager (rule ``who``)."""

    def __init__(self, conn: Connection | Session) -> None:
        self._conn = conn
        self._by_role: dict[str, list[tuple[int, int | None]]] | None = None

    def resolve(self, who: Assignee, owner_id: int | None, department_id: int | None) -> int | None:
        if self._by_role is None and who in (Assignee.SUPERVISOR, Assignee.MANAGER):
            self._by_role = {}
            q = select(User.id, User.role, User.department_id).where(User.active.is_(True)).order_by(User.id)
            for uid, r, dep in self._conn.execute(q):
                self._by_role.setdefault(r, []).append((uid, dep))
        return assignee_for(who, owner_id, department_id, self._by_role or {})


_PLAN_TABLE = cast(Table, VisitPlan.__table__)


def _insert_statement(dialect: str) -> Any:
    table = _PLAN_TABLE
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    else:  # pragma: no cover - keys are looked up first, so a plain insert still avoids duplicates
        return insert(table).returning(table.c.id, table.c.source_key)
    return (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.source_key])
        .returning(table.c.id, table.c.source_key)
    )


def _existing_keys(conn: Connection | Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[i : i + _KEY_CHUNK]
        q = select(VisitPlan.source_key).where(VisitPlan.source_key.in_(chunk))
        found.update(conn.execute(q).scalars())
    return found


def _plan_values(
    p: PlannedVisit, key: str, customer_id: int, owner_id: int | None, now: datetime
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "source_key": key,
        "rule_key": p.rule_key,
        "visit_type": p.visit_type.value,
        "method": p.method.value,
        "earliest": p.earliest,
        "due": p.due,
        "owner_id": owner_id,
        "attempt": p.attempt,
        "state": _PENDING,
        "cancel_reason": "",
        "manual": False,
        "done_on": None,
        "record_id": None,
        "created_at": now,
        "version": 1,
    }


class _Cust(NamedTuple):
    """What planning reads of a customer file: a row of :data:`_CUST_COLUMNS` (``_Cust._make(row)``)."""

    id: int
    code: str
    name: str
    grade: str
    phone: str
    owner_id: int | None
    department_id: int | None
    created_on: date
    birthday: date | None
    category: str
    grade_since: date | None


# the fields of _Cust, in order (the catch-up reads every active customer, so by position, not by name)
_CUST_COLUMNS = (
    Customer.id,
    Customer.code,
    Customer.name,
    Customer.grade,
    Customer.primary_phone,
    Customer.owner_id,
    Customer.department_id,
    Customer.created_on,
    Customer.birthday,
    Customer.category,
    Customer.grade_since,
)


class _Wanted(NamedTuple):
    """A plan the rules ask for, under its key, for a customer and the person who makes the visit."""

    plan: PlannedVisit
    key: str
    customer: _Cust
    owner: int | None


class _Held(NamedTuple):
    """A customer's pending first-attempt routine or technical plan (the catch-up may re-date it)."""

    id: int
    key: str
    manual: bool
    due: date


def _insert_plans(
    conn: Connection | Session,
    dialect: str,
    wanted: list[_Wanted],
    now: datetime,
    today: date,
    names: Mapping[int, str],
) -> tuple[list[PlanRow], int]:
    """Insert the plans whose keys are new; returns (rows inserted, how many existed already)."""
    unique: dict[str, _Wanted] = {}
    for item in wanted:
        unique.setdefault(item.key, item)
    existing = _existing_keys(conn, list(unique))
    todo = [item for key, item in unique.items() if key not in existing]
    rows: list[PlanRow] = []
    stmt = _insert_statement(dialect)
    for i in range(0, len(todo), _INSERT_BATCH):
        batch = todo[i : i + _INSERT_BATCH]
        params = [_plan_values(p, key, c.id, owner, now) for p, key, c, owner in batch]
        ids = {key: pid for pid, key in conn.execute(stmt, params)}
        for p, key, c, owner in batch:
            pid = ids.get(key)
            if pid is None:  # planned by another PC a moment ago
                continue
            rows.append(
                PlanRow(
                    pid,
                    c.id,
                    c.code,
                    c.name,
                    c.grade,
                    format_phone(c.phone),
                    p.visit_type.value,
                    p.method.value,
                    p.earliest,
                    p.due,
                    names.get(owner or 0, ""),
                    _PENDING,
                    display_state(_PENDING, p.due, today),
                    p.attempt,
                    p.rule_key,
                    "",
                    owner,
                )
            )
    return rows, len(unique) - len(rows)


def _purchase_triggers(
    purchase_id: int,
    day: date,
    kind: str,
    quantity: int,
    warranty_end: date | None,
    category: str,
    options: VisitOptions,
) -> list[Trigger]:
    return purchase_triggers(
        purchase_id,
        day,
        kind,
        quantity,
        warranty_end,
        category,
        options.end_customer_categories,
        dict(options.purchase_triggers),
    )


def _next_birthday(born: date, today: date) -> date:
    """The customer's next birthday on or after ``today`` (Feb 29 falls on Feb 28 in other years)."""
    day = add_months(born, 12 * (today.year - born.year))
    return day if day >= today else add_months(born, 12 * (today.year + 1 - born.year))


# --- planning: catch-up and triggers -----------------------------------------------------------------


def plan_catch_up(ctx: ServiceContext, today: date | None = None) -> CatchUpResult:
    """The daily catch-up at start: make sure every plan the rules ask for exists (idempotent).

    For every active customer (not archived, status in ``VisitOptions.active_statuses``): the next routine
    visit of their class and, for A, the next technical visit, counted from the last successful visit (or
    the file's 建档日期); the trigger plans of purchases from the last ``trigger_lookback_days``; birthday
    greetings due in the next ``birthday_lookahead_days``. Plans are inserted only when their key is new.
    A pending, first-attempt, never hand-edited routine/technical plan not yet due whose key no longer
    matches (the class changed) is re-dated instead of getting a second plan; an overdue one is never
    re-dated (the miss stands until a visit that counts closes it). Only the visit types that count for
    the plan (``RuleSet.satisfies``: 例行, 技术) move the cadence on; a new class counts from its first day.
    """
    started = time.perf_counter()
    today = today or ctx.today()
    cfg = _config(ctx)
    rules, cal, opts = cfg.rules, cfg.cal, cfg.options
    now = ctx.now()
    dialect = ctx.engine.dialect.name
    routine_grades = {g.upper() for g, _ in rules.routine_days} | {g.upper() for g in rules.technical_grades}
    with ctx.engine.connect() as conn:
        names = _user_names(conn)
        customers = {
            c.id: c
            for c in map(
                _Cust._make,
                conn.execute(
                    select(*_CUST_COLUMNS).where(
                        Customer.archived.is_(False), Customer.status.in_(opts.active_statuses)
                    )
                ),
            )
        }
        # only the visits that count for a routine / technical plan (例行, 技术; a greeting or SMS never does)
        last_visit = _last_success(conn, rules.types_satisfying(ROUTINE_RULE))
        last_technical = _last_success(conn, rules.types_satisfying(TECHNICAL_RULE))
        # A cancelled routine/technical plan counts as a base too: the next one follows it.
        for cid, rule, due in conn.execute(
            select(VisitPlan.customer_id, VisitPlan.rule_key, func.max(VisitPlan.due))
            .where(VisitPlan.state == _CANCELLED, VisitPlan.rule_key.in_((ROUTINE_RULE, TECHNICAL_RULE)))
            .group_by(VisitPlan.customer_id, VisitPlan.rule_key)
        ):
            base = last_visit if rule == ROUTINE_RULE else last_technical
            if cid not in base or base[cid] < due:
                base[cid] = due
        pending = {
            (cid, rule): _Held(pid, key, manual, due)
            for pid, cid, rule, key, manual, due in conn.execute(
                select(
                    VisitPlan.id,
                    VisitPlan.customer_id,
                    VisitPlan.rule_key,
                    VisitPlan.source_key,
                    VisitPlan.manual,
                    VisitPlan.due,
                ).where(
                    VisitPlan.state == _PENDING,
                    VisitPlan.attempt == 1,
                    VisitPlan.rule_key.in_((ROUTINE_RULE, TECHNICAL_RULE)),
                )
            )
        }
        since = today - timedelta(days=opts.trigger_lookback_days)
        purchases = conn.execute(
            select(
                Purchase.id,
                Purchase.customer_id,
                Purchase.day,
                Purchase.kind,
                Purchase.quantity,
                Purchase.warranty_end,
            )
            .where(Purchase.day >= since, Purchase.day <= today)
            .order_by(Purchase.id)
        ).all()
        assignees = _Assignees(conn)
        visitors = Visitors(conn)
        independent_types = set(opts.independent_visit_types) if independence_on(ctx) else set()
        planner = _TriggerPlanner(rules, cal)
        imported = _imported_customers(conn)

        wanted: list[_Wanted] = []
        moves: list[dict[str, Any]] = []
        held_count = 0
        for c in customers.values():
            if c.grade.strip().upper() not in routine_grades:
                continue
            onboard = imported.get(c.id)
            if onboard is not None and c.owner_id is None:
                continue  # an imported customer nobody looks after yet: listed for assignment, not planned
            since = cadence_start(c.created_on, c.grade_since, onboard)
            origin = f"customer:{c.id}"
            for p in routine_plans(
                c.grade, last_visit.get(c.id), last_technical.get(c.id), since, rules, cal, origin=origin
            ):
                held = pending.get((c.id, p.rule_key))
                if held is None:
                    wanted.append(_Wanted(p, p.source_key, c, c.owner_id))
                elif not held.manual and held.key != p.source_key and held.due >= today:
                    moves.append(
                        {"b_id": held.id, "b_key": p.source_key, "b_due": p.due, "b_earliest": p.earliest}
                    )
                else:  # the plan asked for, edited by hand, or overdue (a miss stands: never re-dated)
                    held_count += 1
        for pid, cid, day, kind, quantity, warranty_end in purchases:
            buyer = customers.get(cid)
            if buyer is None:
                continue
            onboard = imported.get(cid)
            if onboard is not None and buyer.owner_id is None:
                continue
            for trigger in _purchase_triggers(pid, day, kind, quantity, warranty_end, buyer.category, opts):
                for p, key in planner.plans(trigger):
                    if onboard is not None and p.due < onboard:
                        continue  # a window that closed before the import: history, not a backlog
                    owner = buyer.owner_id
                    if p.who is not Assignee.OWNER:
                        owner = assignees.resolve(p.who, buyer.owner_id, buyer.department_id)
                    if p.visit_type.value in independent_types:
                        owner = visitors.assign(owner, buyer.department_id, buyer.owner_id)
                    wanted.append(_Wanted(p, key, buyer, owner))
        horizon = today + timedelta(days=opts.birthday_lookahead_days)
        slack = horizon + timedelta(days=31)  # a rule may fall due a little after the birthday itself
        for c in customers.values():
            if c.birthday is None or _next_birthday(c.birthday, today) > slack:
                continue
            if c.owner_id is None and c.id in imported:
                continue
            trigger = Trigger(
                TriggerKind.BIRTHDAY, f"birthday:{c.id}", day=today, customer_birthday=c.birthday
            )
            for p in plans_for_trigger(trigger, rules, cal, horizon=horizon):
                owner = assignees.resolve(p.who, c.owner_id, c.department_id)
                if p.visit_type.value in independent_types:
                    owner = visitors.assign(owner, c.department_id, c.owner_id)
                wanted.append(_Wanted(p, p.source_key, c, owner))

    with ctx.sessions() as s, s.begin():
        planned, skipped = _insert_plans(s, dialect, wanted, now, today, names)
        moved, asked_moves = 0, len(moves)
        if moves:
            taken = _existing_keys(s, [m["b_key"] for m in moves])
            moves = [m for m in moves if m["b_key"] not in taken]
            if moves:
                t = _PLAN_TABLE
                s.execute(
                    update(t)
                    .where(t.c.id == bindparam("b_id"), t.c.state == _PENDING, t.c.manual.is_(False))
                    .values(
                        source_key=bindparam("b_key"),
                        due=bindparam("b_due"),
                        earliest=bindparam("b_earliest"),
                        version=t.c.version + 1,
                    ),
                    moves,
                )
                moved = len(moves)
        skipped += held_count + asked_moves - moved  # a re-dating whose key is taken keeps the plan as it is
        if planned or moved:
            counts = Tally(p.rule_key for p in planned)
            label = rule_names(rules)
            audit(
                s,
                ctx,
                "生成回访计划",
                "visit_plan",
                None,
                f"{today:%Y-%m-%d} 自动补排",
                new={
                    "新增": len(planned),
                    "调整": moved,
                    "按规则": {label.get(k, k): n for k, n in counts.most_common()},
                },
            )
    planned.sort(key=lambda r: (r.due, r.customer_code, r.rule_key))
    return CatchUpResult(planned, skipped, moved, time.perf_counter() - started)


def _imported_customers(conn: Connection | Session) -> dict[int, date]:
    """Customers that came in by an Excel import (not undone) → the import's day. Their routine cadence
    starts at that day (not at the sheet's old 建档日期), purchase windows closed before it are not
    planned, and nothing is planned for them while they have no 负责人."""
    return imported_customers(conn)


def _last_success(conn: Connection, visit_types: Iterable[str]) -> dict[int, date]:
    """Customer → the day of the last successful visit of one of ``visit_types``."""
    q = select(VisitRecord.customer_id, func.max(VisitRecord.visited_at)).where(
        VisitRecord.result == _SUCCESS, VisitRecord.visit_type.in_(sorted(visit_types))
    )
    out: dict[int, date] = {}
    for cid, at in conn.execute(q.group_by(VisitRecord.customer_id)):
        if at is not None:
            out[cid] = at.date() if isinstance(at, datetime) else datetime.fromisoformat(str(at)).date()
    return out


def _customer_info(s: Session, customer_id: int) -> _Cust:
    r = s.execute(select(*_CUST_COLUMNS).where(Customer.id == customer_id)).one_or_none()
    if r is None:
        raise NotFound(f"客户档案 {customer_id} 不存在。")
    return _Cust._make(r)


def _trigger_plans_in(
    s: Session, ctx: ServiceContext, cfg: _Config, c: _Cust, triggers: Iterable[Trigger]
) -> list[PlanRow]:
    assignees = _Assignees(s)
    visitors = Visitors(s)
    independent_types = set(cfg.options.independent_visit_types) if independence_on(ctx) else set()
    wanted = []
    for t in triggers:
        for p in plans_for_trigger(t, cfg.rules, cfg.cal):
            owner = assignees.resolve(p.who, c.owner_id, c.department_id)
            if p.visit_type.value in independent_types:
                owner = visitors.assign(owner, c.department_id, c.owner_id)
            wanted.append(_Wanted(p, p.source_key, c, owner))
    if not wanted:
        return []
    rows, _ = _insert_plans(s, ctx.engine.dialect.name, wanted, ctx.now(), ctx.today(), _user_names(s))
    return rows


def plan_purchase_in(s: Session, ctx: ServiceContext, purchase_id: int) -> list[PlanRow]:
    """Plan the visits a purchase or delivery triggers, inside the caller's transaction (used by
    ``customers.add_purchase``). Nothing for an inactive customer or a purchase older than the lookback."""
    cfg = _config(ctx)
    p = s.get(Purchase, purchase_id)
    if p is None:
        raise NotFound(f"购货记录 {purchase_id} 不存在。")
    c = _customer_info(s, p.customer_id)
    archived, status = s.execute(select(Customer.archived, Customer.status).where(Customer.id == c.id)).one()
    if archived or status not in cfg.options.active_statuses:
        return []
    if p.day < ctx.today() - timedelta(days=cfg.options.trigger_lookback_days):
        return []
    triggers = _purchase_triggers(p.id, p.day, p.kind, p.quantity, p.warranty_end, c.category, cfg.options)
    rows = _trigger_plans_in(s, ctx, cfg, c, triggers)
    if rows:
        audit(
            s,
            ctx,
            "生成回访计划",
            "customer",
            c.id,
            f"{c.code} {c.name}",
            new={"来源": f"{p.kind} {p.day:%Y-%m-%d} {p.product}", "计划": len(rows)},
        )
    return rows


def on_purchase(ctx: ServiceContext, purchase_id: int) -> list[PlanRow]:
    """Trigger hook after a purchase/delivery was added (own transaction); idempotent."""
    with ctx.sessions() as s, s.begin():
        return plan_purchase_in(s, ctx, purchase_id)


def on_trigger(ctx: ServiceContext, customer_id: int, trigger: Trigger) -> list[PlanRow]:
    """Trigger hook for any other triggering record (a closed complaint, a repair, an event …)."""
    cfg = _config(ctx)
    with ctx.sessions() as s, s.begin():
        c = _customer_info(s, customer_id)
        rows = _trigger_plans_in(s, ctx, cfg, c, [trigger])
        if rows:
            audit(
                s,
                ctx,
                "生成回访计划",
                "customer",
                c.id,
                f"{c.code} {c.name}",
                new={"来源": trigger.source_key, "计划": len(rows)},
            )
        return rows


LAST_CATCH_UP_KEY = "last_catch_up"


def daily_catch_up(ctx: ServiceContext, today: date | None = None) -> CatchUpResult | None:
    """The catch-up run once a day at start (any user's start); None when today's already ran."""
    from huifang_desktop.storage.db import refresh_statistics
    from huifang_desktop.storage.models import Setting

    day = today or ctx.today()
    if get_value(ctx, LAST_CATCH_UP_KEY) == day.isoformat():
        return None
    monthly_recompute(ctx, day)  # classes first (once a month), so the plans follow today's classes
    result = plan_catch_up(ctx, day)
    refresh_statistics(ctx.engine)
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, LAST_CATCH_UP_KEY)
        value = json.dumps(day.isoformat())
        if row is None:
            s.add(Setting(key=LAST_CATCH_UP_KEY, value=value))
        else:
            row.value = value
    return result
