"""Visit history of the demo office (演示回访历史): plans, 回访记录表, follow-ups, transfers, 回访报告表.

:func:`generate_visits` writes ``total`` visit plans (done, cancelled and pending) over the customers of the
office, with the records of the done ones and the clerks' daily reports, as if the program had been in use
for a while: every plan is one the services would have made, under the key they would have given it.

How the history is made
-----------------------
Each customer's history is *simulated* day by day from a start date to ``today + ahead_days``, with the
office's own rules (:func:`~huifang_desktop.services.visits.load_rules`, the work calendar, the options and
the satisfaction scale):

* routine (例行) and, for the technical classes, technical (技术) plans follow the last successful visit
  that counts for them (``RuleSet.satisfies``: 例行, resp. 技术) or the last cancelled one, exactly as
  ``plan_catch_up`` keys them (``customer:7#routine@20260105``); a greeting or reminder never moves them;
* every purchase or delivery starts its rule chain (``purchase:12#delivery_usage``, the end-customer chains),
  birthdays get their greeting (``birthday:7#birthday@41``), clerks add a few plans by hand (``manual:…``);
* a visit that did not reach or did not satisfy the customer plans the next attempt (``…#2``, ``…#3``) as
  ``record_visit`` does; a satisfied customer sometimes agrees a 下次回访时间 (``record:…#next``);
* most visits are made in the plan's window, some a few working days late; late ones not yet made are the
  overdue (逾期) plans, so they are few and recent; a few plans are cancelled with a reason, and the plans
  of a customer who stopped (暂停/流失/注销) are cancelled from that day on.

How deep the history goes follows from ``total`` and the office's size: a sample of the customers is
simulated first to find the day from which ``total`` plans are due, and the simulation starts
``warm_up_days`` before that (at most ``history_years`` back), so the "first day of the program", when old
files get their first routine plan at once, falls outside the history kept. With too few plans even for
every customer's last ``min_history_days``, fewer customers get a history instead (the others are planned by
the catch-up at the next start, as for a new office).

The simulation then runs twice with the same seeded RNG (the second time played back from a tape of the
first, :class:`~huifang_desktop.demo.visit_history.Tape`). The first pass only notes each plan's due day,
creation day and visit day; from those the history is cut to exactly ``total`` plans, the newest ones, plus
per customer the plans the catch-up counts the next routine/technical plan from (the last successful visit,
the last technical one, the last cancelled periodic plan, the plan holding the wanted key), so it plans
nothing twice; ids and 编号 are handed out in time order (the n-th record of a day is ``HF…-00n`` and its
time of day rises with n). The second pass writes the rows in batches (Core ``insert()`` executemany with
explicit ids, one transaction), then the reports, the number counters and one audit row.

Records: visitor mostly the plan's owner; results and satisfaction on the office's scale; 上门 visits signed
by the customer; problems, some passed to a department with the 24-hour deadline (some answered late, the
newest still open); records older than ``review_workdays`` 已签字 by a supervisor (not their own), with the
role and the two hashes ``review.sign`` stores (:mod:`huifang_desktop.domain.signoff`), recent ones 待审阅,
a few 退回 with the supervisor's reason. Reports (回访报告表): one per clerk and working day with visits,
built like ``draft_report`` (the same summary, problems and measures), saved the working day after (some
later), signed like the records.

Not generated: repair (维修), event and account-opening visits (no such records exist in the schema yet, and
keys like ``repair:1`` would collide with the real ones later) and complaint visits (added with the
complaint generator). Trigger chains are written only up to ``today + ahead_days``; the catch-up at the next
start adds their later occurrences (a long end-customer chain runs two years ahead).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from huifang_desktop.demo.visit_history import Cut, Notes, Numbering, Tape, estimate_start, run_history
from huifang_desktop.demo.visit_rows import Writer
from huifang_desktop.demo.visit_world import VisitProfile, World
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.storage.chain import chain_rows
from huifang_desktop.storage.models import (
    AuditLog,
    VisitPlan,
    VisitRecord,
)

VISIT_DEMO_ACTION = "生成演示回访数据"


@dataclass(frozen=True, slots=True)
class VisitDemoResult:
    plans: int
    records: int
    reports: int
    overdue: int  # pending plans due before today
    since: date | None  # the history's first due day (older: only the visits the catch-up counts from)
    customers: int  # customers with a visit history
    seconds: float


DEFAULT_PROFILE = VisitProfile()


def generate_visits(
    ctx: ServiceContext,
    total: int,
    *,
    seed: int = 1,
    profile: VisitProfile = DEFAULT_PROFILE,
    progress: Callable[[float], None] | None = None,
) -> VisitDemoResult:
    """Write ``total`` visit plans with their records, follow-ups and reports over the office's customers
    (see the module docstring); deterministic for ``seed`` and ``ctx.clock()``. Refused when the office
    has visit plans or records already. Fewer plans are written only when the customers' rules cannot give
    ``total`` in ``profile.history_years`` (``result.plans`` says how many). ``progress(share)`` is told
    the share done (0–1) as the simulation goes through the customers (noting, then writing)."""
    ctx.require(Permission.MANAGE_USERS, "生成演示数据")
    started = time.perf_counter()
    profile.validate()
    if total < 0:
        raise ValidationError(FieldError("visits", "回访数", "不能为负数"))
    with ctx.engine.connect() as conn:
        plans = int(conn.execute(select(func.count()).select_from(VisitPlan)).scalar() or 0)
        records = int(conn.execute(select(func.count()).select_from(VisitRecord)).scalar() or 0)
    if plans or records:
        raise ServiceError(
            f"数据库中已有 {plans} 条回访计划、{records} 条回访记录，不能再生成演示回访数据。"
            "请在新建的数据库中生成。"
        )
    world = World.load(ctx, profile, seed)
    if not world.customers:
        raise ValidationError(FieldError("visits", "回访数", "没有客户档案，无法生成回访"))
    if total == 0:
        return VisitDemoResult(0, 0, 0, 0, None, 0, time.perf_counter() - started)

    earliest = world.start
    world.start = estimate_start(world, total)
    while True:
        notes = Notes(world.today - profile.min_history_days, total)
        tape = Tape(profile.tape_plans)
        run_history(
            world,
            notes,
            progress=None if progress is None else (lambda done, n: progress(done / n / 2)),
            tape=tape,
        )
        cut = Cut.choose(world, notes, total)
        if world.start <= earliest or cut.day - world.start >= profile.warm_up_days // 2:
            break
        world.start = max(earliest, world.start - (world.today - world.start))  # the estimate was short
    ids = Numbering.make(world, notes, cut)
    writer = Writer(world, ids)
    with ctx.engine.connect() as conn:
        previous_cache = _set_cache(conn, -profile.sqlite_cache_kib)
        try:
            with conn.begin():  # all or nothing: plans, records, reports, counters and the audit row
                writer.conn = conn
                tape.close()
                run_history(
                    world,
                    writer,
                    stop_after=cut.customers,
                    tape=tape,
                    progress=None if progress is None else (lambda done, n: progress(0.5 + done / n / 2)),
                )
                writer.flush()
                reports = writer.write_reports()
                writer.write_counters()
                audit_row = _audit_row(ctx, writer, date.fromordinal(cut.day), reports, seed)
                chain_rows(conn, [audit_row])
                conn.execute(insert(AuditLog), [audit_row])
                _sync_sequences(conn)
        finally:
            _set_cache(conn, previous_cache)  # the pooled connection gives the memory back
    return VisitDemoResult(
        writer.plans,
        writer.records,
        reports,
        writer.overdue,
        date.fromordinal(cut.day) if writer.plans else None,
        cut.customers,
        time.perf_counter() - started,
    )


def _audit_row(ctx: ServiceContext, writer: Writer, since: date, reports: int, seed: int) -> dict[str, Any]:
    """One audit row for the whole history, as the customer generator writes one per batch."""
    counts = {
        "回访计划": writer.plans,
        "回访记录": writer.records,
        "回访报告": reports,
        "逾期": writer.overdue,
    }
    span = f"{since:%Y-%m-%d}–{ctx.today() + timedelta(days=writer.w.profile.ahead_days):%Y-%m-%d}"
    return {
        "at": ctx.now(),
        "user_id": ctx.user.id or None,
        "username": ctx.user.username,
        "action": VISIT_DEMO_ACTION,
        "entity": "visit_plan",
        "entity_id": None,
        "label": span,
        "old": None,
        "new": json.dumps(counts, ensure_ascii=False, sort_keys=True),
        "note": f"演示数据（种子 {seed}）",
    }


def _set_cache(conn: Connection, size: int | None) -> int | None:
    """SQLite: set the page cache (``PRAGMA cache_size``: pages, or KiB when negative) outside any
    transaction; returns the previous setting. Nothing on other databases or for ``None``/0."""
    if conn.dialect.name != "sqlite" or not size:
        return None
    previous = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
    conn.exec_driver_sql(f"PRAGMA cache_size={int(size)}")
    conn.commit()
    return previous


def _sync_sequences(conn: Connection) -> None:
    """PostgreSQL: move the id sequences past the explicit ids (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("visit_plan", "visit_record", "visit_report"):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        )


__all__ = ["VISIT_DEMO_ACTION", "VisitDemoResult", "VisitProfile", "generate_visits"]
