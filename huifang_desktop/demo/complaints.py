"""Demo complaints (演示投诉): ``demo --complaints N`` fills the complaint register of a demo office.

Every complaint is *replayed* through the same steps as :mod:`huifang_desktop.services.complaints` —
register, repeats, accept, save_handling, finish_handling with its closing-visit plan, the closing visit
(a numbered 回访记录表 through the visit calendar when the complaint has a customer file, else kept on the
complaint), close, withdraw, reply, convert, escalate_overdue, chase, attach — with the same deadlines
(:func:`~huifang_desktop.domain.complaints.deadlines`, the office's policy and work calendar), routing,
numbers, event texts and plan keys, each step at a realistic moment before ``ctx.now()``. What the services
would store is written directly as rows (Core ``insert()`` executemany, explicit ids, one transaction per
batch), so 50,000 complaints take seconds, not the minutes 50,000 service calls would.

The mix: about 70 % 投诉 (some converted from a 咨询/建议, some reopened by a customer who rejected the
result of an earlier one, some anonymous or reply-only closing with a 答复函 or a shared 公开信, some
repeated 2–3 times), 20 % 咨询, 10 % 建议; severities 80/15/5 %. Older complaints are mostly 已关闭 (some
late: 查办), a few 已撤销; recent ones are 待受理 / 处理中 / 待回访; a share of steps run late, so those
complaints were escalated (逾期升级, handler moved one level up) and chased (催办) as the program would have
done at each start; complaints still overdue now are escalated already, so the next start finds nothing
new to escalate.

Numbers: 投诉/咨询/建议 numbers come from the same counters as ``register`` (``complaint:<kind>:<scope>``),
continued from their current values and left at the last serial used. 回访记录表 numbers (HF + date +
serial) are given per batch inside its transaction from the ``visit:<yyyymmdd>`` counters (and never below
a number already in ``visit_record``), so they continue after any visit generator that ran before, and
``record_visit`` continues after them.

Everything is reproducible for a seed and the database it starts from (users, customers, settings).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, cast, func, insert, select, text, update

from huifang_desktop.demo.complaint_case import build_batch
from huifang_desktop.demo.complaint_office import Batch, Ids, load_office, sign
from huifang_desktop.demo.complaint_specs import ComplaintDemoProfile, Env, RowGenerator, draw_specs
from huifang_desktop.demo.customers import DEMO_ACTION
from huifang_desktop.domain.complaints import (
    MessageKind,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.signoff import ReviewKind, ReviewStatus
from huifang_desktop.domain.visits import (
    format_visit_number,
)
from huifang_desktop.services.complaints import load_policy
from huifang_desktop.services.complaints.rules import load_complaint_rules
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.policy import load_scale, work_calendar
from huifang_desktop.services.visits import independence_on, load_rules
from huifang_desktop.storage.chain import chain_rows
from huifang_desktop.storage.models import (
    Attachment,
    AuditLog,
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintInquiry,
    ComplaintOccurrence,
    Counter,
    VisitPlan,
    VisitRecord,
)

_REVIEW_PENDING, _REVIEW_RETURNED, _REVIEW_SIGNED = (
    ReviewStatus.PENDING.value,
    ReviewStatus.RETURNED.value,
    ReviewStatus.SIGNED.value,
)
_ANALYZED = ("complaint", "complaint_event", "complaint_occurrence", "visit_plan", "visit_record")

ProgressFn = Callable[[int, int], bool | None]


def generate_complaints(
    ctx: ServiceContext,
    count: int,
    *,
    seed: int = 1,
    progress: ProgressFn | None = None,
    profile: ComplaintDemoProfile | None = None,
) -> int:
    """Write ``count`` demo complaints (all kinds) into the office; returns how many were written.

    Needs the office's users (clerks, a supervisor, a manager: :func:`huifang_desktop.demo.generate_demo` makes
    them) and uses its customers when there are any. Rows continue after what the database holds (ids,
    number counters). ``progress(done, total)`` is called before the first batch and after every committed
    batch; when it returns False generation stops there (committed batches stay, counters consistent).
    """
    profile = profile if profile is not None else ComplaintDemoProfile()
    ctx.require(Permission.MANAGE_USERS, "生成演示数据")
    profile.validate()
    if count < 0:
        raise ValidationError(FieldError("complaints", "投诉数", "不能为负数"))
    policy, cal, scale, rules = load_policy(ctx), work_calendar(ctx), load_scale(ctx), load_rules(ctx)
    with ctx.engine.connect() as conn:
        office = load_office(conn)
    if not office.staff:
        raise ServiceError("没有可处理投诉的用户（客服专员、主管或经理），请先生成演示客户和用户。")
    rng = random.Random(seed)
    now = ctx.now()
    env = Env(
        rng=rng,
        profile=profile,
        policy=policy,
        cal=cal,
        scale=scale,
        rules=rules,
        now=now,
        office=office,
        independent=independence_on(ctx),
        complaint_rules=load_complaint_rules(ctx),
        seed=seed,
    )
    specs = draw_specs(env, count)
    gen = RowGenerator(env, office.next_ids, office.counters)
    done = 0
    if progress is not None and progress(0, count) is False:
        return 0
    for start in range(0, count, profile.batch_size):
        chunk = specs[start : start + profile.batch_size]
        batch = build_batch(gen, chunk)
        with ctx.engine.begin() as conn:
            _write_batch(conn, batch, _audit_row(ctx, batch, seed))
        done += len(chunk)
        if progress is not None and progress(done, count) is False:
            break
    if done:
        with ctx.engine.begin() as conn:
            for table in _ANALYZED:
                conn.execute(text(f"ANALYZE {table}"))
    return done


# --- writing ----------------------------------------------------------------------------------------------

_IN_CHUNK = 500  # names per IN (…) look-up


def _write_batch(conn: Connection, batch: Batch, audit_row: dict[str, Any]) -> None:
    """Insert one batch in the caller's transaction: plans, numbered visit records, complaints and their rows,
    the counters moved to the last serials used, one audit row."""
    if batch.plans:
        conn.execute(insert(VisitPlan), batch.plans)
    if batch.records:
        _set_counters(conn, _number_records(conn, batch.records))
        for r in batch.records:
            if r["status"] == _REVIEW_SIGNED:  # the content hash covers the 编号
                sign(ReviewKind.RECORD, r, r)
        conn.execute(insert(VisitRecord), batch.records)
    if batch.complaints:
        conn.execute(insert(Complaint), batch.complaints)
    if batch.occurrences:
        conn.execute(insert(ComplaintOccurrence), batch.occurrences)
    if batch.events:
        conn.execute(insert(ComplaintEvent), batch.events)
    if batch.inquiries:
        conn.execute(insert(ComplaintInquiry), batch.inquiries)
    if batch.attachments:
        conn.execute(insert(Attachment), batch.attachments)
    if batch.links:
        conn.execute(insert(ComplaintAttachment), batch.links)
    _set_counters(conn, batch.counters)
    chain_rows(conn, [audit_row])
    conn.execute(insert(AuditLog), [audit_row])
    if batch.next_ids is not None:
        _sync_sequences(conn, batch.next_ids)


def _number_records(conn: Connection, records: list[dict[str, Any]]) -> dict[str, int]:
    """回访记录表 numbers as record_visit gives them (HF + visit date + the day's serial from the counter
    ``visit:<yyyymmdd>``), continuing after the counters and after any number already stored for the day.
    Returns the counters' new values."""
    days = sorted({r["visited_at"].date() for r in records})
    names = [f"visit:{d:%Y%m%d}" for d in days]
    last = _counter_values(conn, names)
    serial_of = cast(func.substr(VisitRecord.number, 12), Integer)
    day_of = func.substr(VisitRecord.number, 3, 8)
    stored = conn.execute(
        select(day_of, func.max(serial_of))
        .where(VisitRecord.number >= f"HF{days[0]:%Y%m%d}-", VisitRecord.number < f"HF{days[-1]:%Y%m%d}.")
        .group_by(day_of)
    )
    for day, serial in stored:
        name = f"visit:{day}"
        if serial is not None:
            last[name] = max(last.get(name, 0), int(serial))
    for r in sorted(records, key=lambda r: (r["visited_at"], r["id"])):
        name = f"visit:{r['visited_at']:%Y%m%d}"
        last[name] = last.get(name, 0) + 1
        r["number"] = format_visit_number(r["visited_at"].date(), last[name])
    return {name: last[name] for name in names}


def _counter_values(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range(0, len(names), _IN_CHUNK):
        out.update(
            (n, int(v))
            for n, v in conn.execute(
                select(Counter.name, Counter.value).where(Counter.name.in_(names[i : i + _IN_CHUNK]))
            )
        )
    return out


def _set_counters(conn: Connection, values: dict[str, int]) -> None:
    """Move each counter to ``values[name]`` (never backwards), creating missing ones."""
    if not values:
        return
    current = _counter_values(conn, sorted(values))
    updates = [{"k": n, "v": v} for n, v in values.items() if n in current and v > current[n]]
    inserts = [{"name": n, "value": v} for n, v in values.items() if n not in current]
    if updates:
        conn.execute(
            update(Counter).where(Counter.name == bindparam("k")).values(value=bindparam("v")), updates
        )
    if inserts:
        conn.execute(insert(Counter), inserts)


def _sync_sequences(conn: Connection, ids: Ids) -> None:
    """PostgreSQL: move the id sequences past the explicit ids (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for table, next_id in (
        ("complaint", ids.complaint),
        ("complaint_occurrence", ids.occurrence),
        ("complaint_event", ids.event),
        ("attachment", ids.attachment),
        ("visit_plan", ids.plan),
        ("visit_record", ids.record),
    ):
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"), {"t": table, "v": next_id}
        )


def _audit_row(ctx: ServiceContext, batch: Batch, seed: int) -> dict[str, Any]:
    """One audit row per batch instead of one per step."""
    kinds = {k.value: 0 for k in MessageKind}
    for c in batch.complaints:
        kinds[c["kind"]] += 1
    counts = {
        **kinds,
        "事件": len(batch.events),
        "回访计划": len(batch.plans),
        "回访记录": len(batch.records),
        "附件": len(batch.attachments),
    }
    label = f"{batch.complaints[0]['number']}–{batch.complaints[-1]['number']}" if batch.complaints else ""
    return {
        "at": ctx.now(),
        "user_id": ctx.user.id or None,
        "username": ctx.user.username,
        "action": DEMO_ACTION,
        "entity": "complaint",
        "entity_id": None,
        "label": label[:200],
        "old": None,
        "new": json.dumps(counts, ensure_ascii=False, sort_keys=True),
        "note": f"演示投诉（种子 {seed}）",
    }


__all__ = ["DEMO_ACTION", "ComplaintDemoProfile", "generate_complaints"]
