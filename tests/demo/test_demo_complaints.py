"""The demo complaint generator: counts and mix, every state and case, numbers and counters, deadlines as the
services compute them, plans/records linked both ways, the workflow continuing on demo rows, determinism."""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from huifang_desktop.demo import generate_demo
from huifang_desktop.demo.complaints import ComplaintDemoProfile, generate_complaints
from huifang_desktop.domain.complaints import ComplaintState, Deadlines, current_deadline, deadlines
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.signoff import (
    COMPLAINT_FIELDS,
    RECORD_FIELDS,
    Integrity,
    ReviewKind,
    SignOff,
    StoredSignature,
    check_integrity,
)
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import policy as office_policy
from huifang_desktop.services import visits as v
from huifang_desktop.services import workflow
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.storage.db import make_engine, make_session_factory, sqlite_url, upgrade
from huifang_desktop.storage.models import (
    Attachment,
    AuditLog,
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintOccurrence,
    Counter,
    User,
    VisitPlan,
    VisitRecord,
)

NOW = datetime(2026, 11, 24, 10, 0)
CUSTOMERS = 300
COMPLAINTS = 600
NUMBER = re.compile(r"^(TS|ZX|JY)(\d{8})-(\d{3,})$")
VISIT_NUMBER = re.compile(r"^HF(\d{8})-(\d{3,})$")


def _clock() -> datetime:
    return NOW


def _open(path: Path, *, migrate: bool = False) -> ServiceContext:
    engine = make_engine(sqlite_url(path))
    if migrate:
        upgrade(engine)
    return ServiceContext(engine, make_session_factory(engine), clock=_clock)


def _office(
    path: Path,
    *,
    customers: int = CUSTOMERS,
    complaints: int = COMPLAINTS,
    seed: int = 1,
    profile: ComplaintDemoProfile = ComplaintDemoProfile(),
) -> tuple[ServiceContext, int]:
    ctx = _open(path, migrate=True)
    generate_demo(ctx, customers=customers, seed=seed)
    return ctx, generate_complaints(ctx, complaints, seed=seed, profile=profile)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo office (300 customers, 600 complaints), closed so that tests can copy the file."""
    path = tmp_path_factory.mktemp("demo_complaints") / "office.db"
    ctx, written = _office(path)
    assert written == COMPLAINTS
    ctx.engine.dispose()
    return path


@pytest.fixture
def office(template: Path, tmp_path: Path) -> Iterator[ServiceContext]:
    """A private copy of the demo office (tests may change it)."""
    path = tmp_path / "office.db"
    shutil.copyfile(template, path)
    ctx = _open(path)
    yield ctx
    ctx.engine.dispose()


def _rows(engine: Engine) -> list[Complaint]:
    with make_session_factory(engine)() as s:
        return list(s.execute(select(Complaint).order_by(Complaint.id)).scalars())


def _plans(ctx: ServiceContext) -> list[VisitPlan]:
    with ctx.sessions() as s:
        return list(s.execute(select(VisitPlan)).scalars())


def _user(ctx: ServiceContext, user_id: int) -> ServiceContext:
    with ctx.sessions() as s:
        u = s.get(User, user_id)
        assert u is not None
        return ctx.as_user(UserInfo(u.id, u.username, u.display_name, Role(u.role), u.department_id))


def _events(engine: Engine) -> dict[int, list[ComplaintEvent]]:
    out: dict[int, list[ComplaintEvent]] = defaultdict(list)
    with make_session_factory(engine)() as s:
        for e in s.execute(select(ComplaintEvent).order_by(ComplaintEvent.id)).scalars():
            out[e.complaint_id].append(e)
    return out


# --- counts and mix ---------------------------------------------------------------------------------------


def test_demo_complaints_counts_and_mix(office: ServiceContext) -> None:
    rows = _rows(office.engine)
    assert len(rows) == COMPLAINTS
    kinds = Tally(c.kind for c in rows)
    assert 0.6 * COMPLAINTS < kinds["投诉"] < 0.8 * COMPLAINTS
    assert 0.12 * COMPLAINTS < kinds["咨询"] < 0.28 * COMPLAINTS
    assert 0.04 * COMPLAINTS < kinds["建议"] < 0.16 * COMPLAINTS
    complaints = [c for c in rows if c.kind == "投诉"]
    severities = Tally(c.severity for c in complaints)
    assert severities["一般"] > 0.7 * len(complaints) and severities["重要"] > severities["重大"] > 0
    assert all(c.severity == "一般" and c.category == "" for c in rows if c.kind != "投诉")
    assert sum(c.customer_id is not None for c in rows) > 0.6 * COMPLAINTS
    assert all(c.received_at <= NOW and c.created_at <= NOW and c.updated_at <= NOW for c in rows)
    with office.engine.connect() as conn:
        occurrences = conn.execute(select(func.count()).select_from(ComplaintOccurrence)).scalar_one()
        audit = conn.execute(
            select(AuditLog.entity, AuditLog.new).where(
                AuditLog.action == "生成演示数据", AuditLog.entity == "complaint"
            )
        ).all()
    assert occurrences == sum(c.occurrences for c in rows)
    assert len(audit) == 1 and f'"投诉": {kinds["投诉"]}' in audit[0].new


def test_demo_complaints_show_every_state_severity_and_case(office: ServiceContext) -> None:
    rows = _rows(office.engine)
    assert {c.state for c in rows} == {s.value for s in ComplaintState}
    assert {c.severity for c in rows if c.kind == "投诉"} == {"一般", "重要", "重大"}
    assert {c.state for c in rows if c.kind == "咨询"} >= {"待受理", "已关闭"}
    complaints = [c for c in rows if c.kind == "投诉"]
    assert any(c.anonymous and c.complainant == "" and c.customer_id is None for c in complaints)
    assert any(c.reply_only and c.channel == "上级转办" for c in complaints)
    assert {2, 3} <= {c.occurrences for c in complaints}
    assert any(c.linked_to_id for c in complaints)
    assert any(c.converted_from[:2] in ("ZX", "JY") for c in complaints)
    assert any(
        c.chase_rung >= 1 and c.handler_role == "clerk" and c.severity == "一般" for c in complaints
    )  # chased by the 催办 ladder, never moved up a level (issue 20)
    assert any(c.escalation_level >= 1 and c.handler_role == "clerk" for c in complaints)  # 上报, kept
    assert any(c.chase_count > 0 for c in complaints)
    assert any(not c.escalation_seen for c in complaints if c.state not in ("已关闭", "已撤销"))
    assert all(c.withdraw_reason for c in rows if c.state == "已撤销")
    waiting = [c for c in complaints if c.state == "待回访"]
    assert any(c.visit_satisfied for c in waiting)  # 回访满意，待主管关闭
    assert any(c.visit_plan_id for c in waiting)
    assert any(c.state == "处理中" and c.deadline < NOW for c in complaints)  # still overdue
    # older complaints are mostly closed, late ones exist (查办), recent ones are open
    old = [c for c in complaints if (NOW - c.received_at).days > 60]
    assert sum(c.state == "已关闭" for c in old) > 0.9 * len(old)
    assert any(c.handled_at and c.handled_at > c.handling_due for c in old if c.state == "已关闭")
    assert all(c.closed_at is not None for c in rows if c.state == "已关闭")
    assert all(c.closed_at is None for c in rows if c.state != "已关闭")


def test_demo_complaint_events_replay_the_workflow(office: ServiceContext) -> None:
    rows = {c.id: c for c in _rows(office.engine)}
    events = _events(office.engine)
    actions = Tally(e.action for es in events.values() for e in es)
    for action in (
        "登记投诉",
        "登记咨询",
        "登记建议",
        "受理",
        "答复客户",
        "处理记录",
        "办结转回访",
        "结案回访",
        "关闭",
        "撤销",
        "答复",
        "转为投诉",
        "重复投诉",
        "逾期催办",
        "催办",
        "查办",
        "添加附件",
        "客户不认可",
        "回访不满意退回",
        "待关闭",
    ):
        assert actions[action] > 0, action
    for cid, es in events.items():
        c = rows[cid]
        assert es[0].action.startswith("登记") and es[0].at == c.created_at and es[0].to_state == "待受理"
        state = None
        for before, after in pairwise(es):
            assert before.at <= after.at  # history in time order
        for e in es:
            if e.to_state:
                assert not e.from_state or e.from_state == state, (c.number, e.action)
                state = e.to_state
            assert e.at <= NOW
        assert state == c.state, c.number
        ladder = [e for e in es if e.action == "逾期催办"]  # the system's 催办 ladder
        reports = [e for e in es if e.action == "逾期上报"]
        assert all(e.username == "系统" and e.user_id is None for e in ladder + reports)
        assert len(ladder) + sum(e.action == "催办" for e in es) == c.chase_count
        assert len(reports) == c.escalation_level
        assert sum(e.action == "重复投诉" for e in es) == c.occurrences - 1


# --- numbers and counters ---------------------------------------------------------------------------------


def test_demo_complaint_numbers_are_unique_and_counters_continue_them(office: ServiceContext) -> None:
    rows = _rows(office.engine)
    numbers = [c.number for c in rows]
    assert len(set(numbers)) == len(numbers)
    serials: dict[str, set[int]] = defaultdict(set)
    kinds = {"TS": "投诉", "ZX": "咨询", "JY": "建议"}
    converted_at = {
        c.complaint_id: c.at for es in _events(office.engine).values() for c in es if c.action == "转为投诉"
    }
    for c in rows:
        for number in filter(None, (c.number, c.converted_from)):
            m = NUMBER.match(number)
            assert m, number
            day = f"{m.group(2)[:4]}-{m.group(2)[4:6]}-{m.group(2)[6:]}"
            serials[f"complaint:{kinds[m.group(1)]}:day:{day}"].add(int(m.group(3)))
        when = converted_at.get(c.id, c.received_at)
        assert c.number[2:10] == f"{when:%Y%m%d}"
        assert (c.kind == "投诉") == c.number.startswith("TS")
    with office.engine.connect() as conn:
        counters = dict(
            conn.execute(select(Counter.name, Counter.value).where(Counter.name.like("complaint:%"))).all()
        )
    assert set(counters) == set(serials)
    for name, used in serials.items():  # every serial handed out once, the counter at the last one
        assert used == set(range(1, counters[name] + 1)), name


def test_register_after_demo_hands_out_the_next_number(office: ServiceContext) -> None:
    rows = _rows(office.engine)
    existing = {c.number for c in rows}
    today = [c for c in rows if c.number.startswith(f"TS{NOW:%Y%m%d}-")]
    assert today, "the demo has complaints received today"
    clerk = next(c.handler_id for c in rows if c.handler_role == "clerk" and c.handler_id)
    cctx = _user(office, clerk)
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="演示后新登记", complainant="张三", phone="13812345678", category="其他", received_at=NOW
        ),
    )
    assert d.number not in existing
    assert d.number == f"TS{NOW:%Y%m%d}-{len(today) + 1:03d}"
    z = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="保修期多久",
            kind="咨询",
            complainant="李四",
            phone="13912345678",
            received_at="2025-06-03 10:00",
        ),
    )
    assert z.number not in existing and z.number.startswith("ZX20250603-")


# --- deadlines and the register views ---------------------------------------------------------------------


def test_demo_deadlines_are_the_services_deadlines(office: ServiceContext) -> None:
    policy, cal = cs.load_policy(office), office_policy.work_calendar(office)
    converted_at = {
        e.complaint_id: e.at for es in _events(office.engine).values() for e in es if e.action == "转为投诉"
    }
    rows = _rows(office.engine)
    for c in rows:
        start = converted_at.get(c.id, c.received_at)
        dl = deadlines(start, c.kind, c.severity, policy, cal, special=c.special)
        assert (c.first_reply_due, c.handling_due) == (dl.first_reply, dl.handling), c.number
        visit_due = datetime.combine(c.visit_due, policy.workday_end) if c.visit_due else None
        assert c.deadline == current_deadline(
            ComplaintState(c.state), Deadlines(dl.first_reply, dl.handling), visit_due
        ), c.number
    # the program's start finds nothing new to escalate: the demo already did what it would have done
    assert cs.escalate_overdue(office).escalated == ()


def test_register_views_work_on_demo_rows(office: ServiceContext) -> None:
    rows = _rows(office.engine)
    counts = cs.state_counts(office)
    assert sum(counts[s.value] for s in ComplaintState) == len(rows) == cs.count_complaints(office)
    overdue = [c for c in rows if c.state in ("待受理", "处理中", "待回访") and c.deadline < NOW]
    assert counts["逾期"] == len(overdue) > 0
    listed = cs.list_complaints(office, limit=len(rows))
    assert {r.id for r in listed[: len(overdue)]} == {c.id for c in overdue}  # overdue first
    assert all(r.overdue for r in listed[: len(overdue)]) and not any(
        r.overdue for r in listed[len(overdue) :]
    )
    by_subject = cs.list_complaints(office, cs.ComplaintFilter(text=rows[0].subject), limit=len(rows))
    assert rows[0].id in {r.id for r in by_subject}
    assert {r.id for r in cs.list_complaints(office, cs.ComplaintFilter(states=frozenset({"已撤销"})))} == {
        c.id for c in rows if c.state == "已撤销"
    }
    for c in rows[::25]:
        d = cs.get_complaint(office, c.id)
        assert d.number == c.number and d.events and len(d.occurrences) == c.occurrences
        assert d.row.overdue == (d.state in ("待受理", "处理中", "待回访") and c.deadline < NOW)
    assert any(r.chase_count for r in cs.list_complaints(office, cs.ComplaintFilter(overdue_only=True)))


# --- closing visits, plans, records, attachments ----------------------------------------------------------


def test_demo_closing_visits_link_plans_and_records_both_ways(office: ServiceContext) -> None:
    rows = _rows(office.engine)
    with office.sessions() as s:
        plans = {p.id: p for p in s.execute(select(VisitPlan)).scalars()}
        records = {r.id: r for r in s.execute(select(VisitRecord)).scalars()}
        counters = dict(
            s.execute(select(Counter.name, Counter.value).where(Counter.name.like("visit:%"))).all()
        )
    assert plans and records
    by_complaint: dict[int, list[VisitPlan]] = defaultdict(list)
    for p in plans.values():
        cid = cs.complaint_id_for_plan(p.source_key)
        assert cid is not None and p.rule_key == cs.CLOSING_RULE and p.visit_type == "投诉"
        by_complaint[cid].append(p)
        if p.state == "已回访":
            r = records[p.record_id]  # type: ignore[index]
            assert r.plan_id == p.id and r.customer_id == p.customer_id
            assert p.done_on == r.visited_at.date()
        else:
            assert p.record_id is None
    for r in records.values():
        assert plans[r.plan_id].record_id == r.id  # type: ignore[index]
    for c in rows:
        mine = by_complaint.get(c.id, [])
        if c.visit_plan_id:
            assert plans[c.visit_plan_id] in mine and plans[c.visit_plan_id].customer_id == c.customer_id
        if c.visit_record_id:
            assert plans[records[c.visit_record_id].plan_id].id in {p.id for p in mine}  # type: ignore[index]
        if c.customer_id is None or c.anonymous or c.reply_only:
            assert not mine
        if c.state == "已关闭" and c.kind == "投诉" and c.customer_id and not (c.anonymous or c.reply_only):
            assert c.visit_satisfied and c.visit_record_id and records[c.visit_record_id].result == "成功"
        if c.state == "待回访" and c.customer_id and any(p.state == "待回访" for p in mine):
            assert plans[c.visit_plan_id].state == "待回访"  # type: ignore[index]
        if c.state == "已撤销":
            assert all(p.state != "待回访" for p in mine)
    assert any(p.attempt == 2 for p in plans.values())  # not reached / not satisfied: the next attempt
    assert any(p.state == "已取消" for p in plans.values())  # withdrawn while waiting for the visit
    # 回访记录表 numbers: unique, HF + visit date + serial, the day's counter at the last serial
    numbers = [r.number for r in records.values()]
    assert len(set(numbers)) == len(numbers)
    per_day: dict[str, set[int]] = defaultdict(set)
    for r in records.values():
        m = VISIT_NUMBER.match(r.number)
        assert m and m.group(1) == f"{r.visited_at:%Y%m%d}"
        per_day[f"visit:{m.group(1)}"].add(int(m.group(2)))
    assert counters == {name: max(used) for name, used in per_day.items()}
    assert all(used == set(range(1, max(used) + 1)) for used in per_day.values())


def test_demo_reply_letters_and_a_shared_public_letter(office: ServiceContext) -> None:
    rows = {c.id: c for c in _rows(office.engine)}
    with office.sessions() as s:
        links = s.execute(
            select(ComplaintAttachment.complaint_id, Attachment.kind, Attachment.id).join(
                Attachment, Attachment.id == ComplaintAttachment.attachment_id
            )
        ).all()
        files = list(s.execute(select(Attachment)).scalars())
    kinds: dict[int, set[str]] = defaultdict(set)
    for cid, kind, _aid in links:
        kinds[cid].add(kind)
    for c in rows.values():
        if c.state == "已关闭" and c.kind == "投诉" and (c.anonymous or c.reply_only):
            assert kinds[c.id] & {"答复函", "公开信"}, c.number
    shared = Tally(aid for _cid, kind, aid in links if kind == "公开信")
    assert shared and max(shared.values()) >= 2
    public = next(aid for aid, n in shared.items() if n >= 2)
    members = [rows[cid] for cid, _k, aid in links if aid == public]
    assert all(m.anonymous and m.subject == members[0].subject for m in members)
    detail = cs.get_complaint(office, members[0].id)
    assert [a.shared for a in detail.attachments if a.kind == "公开信"] == [len(members)]
    for f in files:
        assert f.data.startswith(b"%PDF-") and f.data.rstrip().endswith(b"%%EOF")
        assert f.size == len(f.data) and f.sha256 == hashlib.sha256(f.data).hexdigest()
    name, data = cs.attachment_data(office, files[0].id)
    assert name == files[0].name and data == files[0].data


def _integrity(kind: ReviewKind, row: Any, values: dict[str, Any]) -> Integrity:
    stored = StoredSignature(
        row.review_status if kind is ReviewKind.COMPLAINT else row.status,
        row.content_hash,
        row.signature_hash,
        SignOff(row.signed_by_id, row.signed_role, row.signed_at, row.supervisor_comment, row.revision),
    )
    return check_integrity(kind, values, stored)


def test_demo_review_signs_older_closed_complaints_and_records(office: ServiceContext) -> None:
    with office.sessions() as s:
        complaints = list(s.execute(select(Complaint)).scalars())
        records = list(s.execute(select(VisitRecord)).scalars())
        files: dict[int, list[list[str]]] = defaultdict(list)
        for cid, sha, name, kind in s.execute(
            select(
                ComplaintAttachment.complaint_id, Attachment.sha256, Attachment.name, Attachment.kind
            ).join(Attachment, Attachment.id == ComplaintAttachment.attachment_id)
        ):
            files[cid].append([sha, name, kind])
        reviewed = [c for c in complaints if c.kind == "投诉" and c.state == "已关闭"]
        assert {"待审阅", "已签字"} <= {c.review_status for c in reviewed} <= {"待审阅", "已签字", "退回"}
        assert all(c.review_status == "" for c in complaints if c not in reviewed)
        signed = [c for c in reviewed if c.review_status == "已签字"]
        assert len(signed) > 0.8 * len(reviewed)
        for c in signed:  # never by its handler, but the office's only manager on his own 重大 file
            assert c.signed_by_id != c.handler_id or (c.severity == "重大" and c.signed_role == "manager")
            assert c.signed_role in ("supervisor", "manager")
            assert c.closed_at < c.signed_at <= NOW  # type: ignore[operator]
            values = {name: getattr(c, name) for name in COMPLAINT_FIELDS if name != "attachments"}
            values["attachments"] = sorted(files[c.id])
            assert _integrity(ReviewKind.COMPLAINT, c, values) is Integrity.INTACT, c.number
        assert all(c.supervisor_comment for c in reviewed if c.review_status == "退回")
        assert {"待审阅", "已签字"} <= {r.status for r in records} <= {"待审阅", "已签字", "退回"}
        for r in records:
            if r.status == "已签字":
                assert r.signed_by_id != r.visitor_id
                assert r.created_at < r.signed_at <= NOW  # type: ignore[operator]
                values = {name: getattr(r, name) for name in RECORD_FIELDS}
                assert _integrity(ReviewKind.RECORD, r, values) is Integrity.INTACT, r.number
            else:
                assert not r.content_hash and not r.signature_hash


# --- the workflow continues from demo rows ----------------------------------------------------------------


def test_workflow_continues_from_demo_rows(office: ServiceContext) -> None:
    rows = _rows(office.engine)
    with office.sessions() as s:
        pending_plans = {
            p.id for p in s.execute(select(VisitPlan).where(VisitPlan.state == "待回访")).scalars()
        }
        before = set(s.execute(select(VisitRecord.number)).scalars())
    visitors = {p.id: p.owner_id for p in _plans(office) if p.id in pending_plans}
    waiting = next(
        c
        for c in rows
        if c.state == "待回访"
        and c.visit_plan_id in pending_plans
        and not c.visit_satisfied
        and visitors[c.visit_plan_id] != c.handler_id
    )
    # the closing visit is made in the calendar by the planned visitor: neither the handler nor the
    # customer's 业务员 (001 篇11); the handler then closes the complaint
    vctx = _user(office, visitors[waiting.visit_plan_id])  # type: ignore[arg-type,index]
    workflow.record_visit(
        vctx,
        v.prefill_record(vctx, waiting.visit_plan_id).to_draft(
            result="成功", satisfaction="满意", content="客户认可"
        ),
    )
    hctx = _user(office, waiting.handler_id)  # type: ignore[arg-type]
    d = cs.get_complaint(hctx, waiting.id)
    if d.state != "已关闭":  # the visitor is below the complaint's level: the handler closes it
        d = cs.close(hctx, waiting.id)
    assert d.state == "已关闭" and d.visit_record_id is not None
    rec = v.get_record(hctx, d.visit_record_id)
    assert rec.number not in before and rec.plan_id == waiting.visit_plan_id
    assert v.get_plan(hctx, waiting.visit_plan_id).state == "已回访"  # type: ignore[arg-type]

    to_close = next(c for c in rows if c.state == "待回访" and c.visit_satisfied)
    assert cs.close(_user(office, to_close.handler_id), to_close.id).state == "已关闭"  # type: ignore[arg-type]
    pending = next(c for c in rows if c.state == "待受理" and c.kind == "投诉")
    assert cs.accept(_user(office, pending.handler_id), pending.id).state == "处理中"  # type: ignore[arg-type]
    question = next(c for c in rows if c.state == "待受理" and c.kind == "咨询")
    answered = cs.reply_message(
        _user(office, question.handler_id),
        question.id,  # type: ignore[arg-type]
        "整车保修三年",
        "电话",
    )
    assert answered.state == "已关闭"
    closed = next(c for c in rows if c.state == "已关闭" and c.kind == "投诉" and not c.anonymous)
    reopened = cs.reopen_linked(_user(office, closed.handler_id), closed.id)  # type: ignore[arg-type]
    assert reopened.linked_to_id == closed.id and reopened.number not in {c.number for c in rows}


# --- determinism, continuation, stopping, refusal ---------------------------------------------------------


def _fingerprint(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        complaints = [
            tuple(r)
            for r in conn.execute(
                select(
                    Complaint.number,
                    Complaint.state,
                    Complaint.received_at,
                    Complaint.handler_id,
                    Complaint.subject,
                    Complaint.customer_id,
                    Complaint.deadline,
                    Complaint.escalation_level,
                ).order_by(Complaint.id)
            )
        ]
        events = [
            tuple(r)
            for r in conn.execute(
                select(
                    ComplaintEvent.complaint_id, ComplaintEvent.at, ComplaintEvent.action, ComplaintEvent.note
                ).order_by(ComplaintEvent.id)
            )
        ]
        records = [
            tuple(r)
            for r in conn.execute(select(VisitRecord.number, VisitRecord.visited_at).order_by(VisitRecord.id))
        ]
    return [*complaints, *events, *records]


def test_demo_complaints_are_reproducible_per_seed(template: Path, tmp_path: Path) -> None:
    same, _ = _office(tmp_path / "same.db")
    other, _ = _office(tmp_path / "other.db", seed=2)
    first = _open(template)
    try:
        assert _fingerprint(same.engine) == _fingerprint(first.engine)
        assert _fingerprint(other.engine) != _fingerprint(first.engine)
    finally:
        for ctx in (same, other, first):
            ctx.engine.dispose()


def test_second_run_continues_ids_numbers_and_counters(office: ServiceContext) -> None:
    before = {c.number for c in _rows(office.engine)}
    assert generate_complaints(office, 150, seed=7) == 150
    rows = _rows(office.engine)
    assert len(rows) == COMPLAINTS + 150
    assert len({c.number for c in rows}) == len(rows) and before < {c.number for c in rows}
    with office.engine.connect() as conn:
        records = conn.execute(select(VisitRecord.number)).scalars().all()
    assert len(set(records)) == len(records)
    test_demo_complaint_numbers_are_unique_and_counters_continue_them(office)


def test_demo_complaints_after_demo_visits_continue_their_record_numbers(tmp_path: Path) -> None:
    """The visit history (demo_visits) comes first (it refuses an office with visits); the closing visits
    continue its 回访编号 per day, and record_visit continues after both."""
    ctx = _open(tmp_path / "visits.db", migrate=True)
    generate_demo(ctx, customers=150, visits=1500, seed=1)
    with ctx.engine.connect() as conn:
        before = dict(conn.execute(select(VisitRecord.id, VisitRecord.number)).all())
    assert len(before) > 500
    assert generate_complaints(ctx, 400, seed=1) == 400
    with ctx.engine.connect() as conn:
        records = conn.execute(select(VisitRecord.id, VisitRecord.number, VisitRecord.visited_at)).all()
        counters = dict(
            conn.execute(select(Counter.name, Counter.value).where(Counter.name.like("visit:%"))).all()
        )
    assert {r.id: r.number for r in records if r.id in before} == before  # untouched
    assert len(records) > len(before)
    per_day: dict[str, list[int]] = defaultdict(list)
    for r in records:
        m = VISIT_NUMBER.match(r.number)
        assert m and m.group(1) == f"{r.visited_at:%Y%m%d}"
        per_day[f"visit:{m.group(1)}"].append(int(m.group(2)))
    for name, used in per_day.items():  # one number each, no gap, the counter at the last one
        assert sorted(used) == list(range(1, len(used) + 1)) and counters[name] == len(used), name
    visitors = {p.id: p.owner_id for p in _plans(ctx) if p.state == "待回访"}
    waiting = next(
        c
        for c in _rows(ctx.engine)
        if c.state == "待回访" and c.visit_plan_id in visitors and visitors[c.visit_plan_id] != c.handler_id
    )
    vctx = _user(ctx, visitors[waiting.visit_plan_id])  # type: ignore[arg-type,index]  # independent
    rec = workflow.record_visit(
        vctx, v.prefill_record(vctx, waiting.visit_plan_id).to_draft(result="成功", satisfaction="满意")
    )
    d = cs.get_complaint(ctx, waiting.id)
    if d.state != "已关闭":  # the visitor is below the complaint's level: the handler closes it
        d = cs.close(_user(ctx, waiting.handler_id), waiting.id)  # type: ignore[arg-type]
    assert d.state == "已关闭" and d.visit_record_id == rec.id
    number = v.get_record(ctx, d.visit_record_id).number  # type: ignore[arg-type]
    assert number == f"HF{NOW:%Y%m%d}-{counters.get(f'visit:{NOW:%Y%m%d}', 0) + 1:03d}"
    ctx.engine.dispose()


def test_progress_can_stop_after_a_batch(tmp_path: Path) -> None:
    ctx = _open(tmp_path / "stop.db", migrate=True)
    generate_demo(ctx, customers=50, seed=1)
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        calls.append((done, total))
        return done < 100

    written = generate_complaints(
        ctx, 400, seed=1, progress=progress, profile=replace(ComplaintDemoProfile(), batch_size=100)
    )
    assert written == 100 and calls == [(0, 400), (100, 400)]
    assert len(_rows(ctx.engine)) == 100
    test_demo_complaint_numbers_are_unique_and_counters_continue_them(ctx)
    ctx.engine.dispose()


def test_demo_complaints_without_customer_files(tmp_path: Path) -> None:
    ctx = _open(tmp_path / "nocust.db", migrate=True)
    generate_demo(ctx, customers=0, seed=1)
    assert generate_complaints(ctx, 120, seed=3) == 120
    rows = _rows(ctx.engine)
    assert all(c.customer_id is None and c.visit_plan_id is None for c in rows)
    closed = [
        c for c in rows if c.state == "已关闭" and c.kind == "投诉" and not (c.anonymous or c.reply_only)
    ]
    assert closed and all(c.visit_satisfied and c.visited_at and c.visit_record_id is None for c in closed)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(VisitPlan)).scalar_one() == 0
    ctx.engine.dispose()


def test_demo_complaints_need_users_and_a_valid_count(tmp_path: Path) -> None:
    ctx = _open(tmp_path / "empty.db", migrate=True)
    with pytest.raises(ServiceError, match="没有可处理投诉的用户"):
        generate_complaints(ctx, 10)
    generate_demo(ctx, customers=10, seed=1)
    with pytest.raises(ValidationError, match="不能为负数"):
        generate_complaints(ctx, -1)
    assert generate_complaints(ctx, 0) == 0
    ctx.engine.dispose()


def test_demo_5000_complaints_timing(tmp_path: Path) -> None:
    """5,000 complaints on a 1,000-customer office; the time is printed (run with -s), not asserted."""
    ctx = _open(tmp_path / "big.db", migrate=True)
    generate_demo(ctx, customers=1000, seed=1)
    started = time.perf_counter()
    written = generate_complaints(ctx, 5000, seed=1)
    seconds = time.perf_counter() - started
    print(f"\n5,000 demo complaints in {seconds:.2f} s")
    assert written == 5000 and len(_rows(ctx.engine)) == 5000
    assert cs.escalate_overdue(ctx).escalated == ()
    ctx.engine.dispose()
