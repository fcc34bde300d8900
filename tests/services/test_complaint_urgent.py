"""Urgent matters of a property office (紧急, 002 制度5 “客户管理制度5”): §2 “客户中心前台接到投诉信息后…并于
12小时内向相关部门传递”, §5 “相关部门将问题处理妥善后，须于2小时内反馈客户中心，以便跟进验证和回访顾客”. The rule
book counts 小时 — clock hours, through nights and holidays — unlike 制度9's 工作日. An urgent complaint stores
its dispatch and report-back deadlines, the 投诉台账 shows them, and each missed one gets one 催办 to the
handler and the department head; the handler keeps the case. Fixed clock, the National Day holidays of 2026."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from huifang_desktop.domain.complaint_rules import ComplaintRules, UrgentTimings
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.services import complaints as cs
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.ledgers.complaint_ledger import ComplaintLedger
from huifang_desktop.storage.models import ComplaintNotice


def _at(ctx: ServiceContext, when: datetime) -> ServiceContext:
    return ServiceContext(ctx.engine, ctx.sessions, ctx.user, lambda: when)


def _intake(**kw: object) -> cs.IntakeDraft:
    base: dict[str, object] = {
        "subject": "楼道水管爆裂",
        "complainant": "张先生",
        "phone": "13812345678",
        "category": "维修",
        "received_at": "2026-11-24 09:00",
        "urgent": True,
    }
    base.update(kw)
    return cs.IntakeDraft(**base)  # type: ignore[arg-type]


@pytest.fixture
def property_rules(sctx: ServiceContext) -> None:
    """The property preset's timings (002 制度5 §1, §2, §5: 24 h / 12 h / 2 h)."""
    cs.save_complaint_rules(sctx, ComplaintRules(urgent=UrgentTimings()))


def _ledger(ctx: ServiceContext, at: datetime) -> dict[str, dict[str, object]]:
    spec = ComplaintLedger()
    (src,) = spec.register_sources(_at(ctx, at), cs.ComplaintFilter())
    cols = [c.key for c in spec.columns]
    with ctx.engine.connect() as conn:
        rows = [src.convert(r) for r in conn.execute(src.query)]
    return {str(r.values[cols.index("number")]): dict(zip(cols, r.values, strict=True)) for r in rows}


def _told(ctx: ServiceContext) -> set[int]:
    with ctx.sessions() as s:
        return {n.user_id for n in s.execute(select(ComplaintNotice)).scalars()}


@pytest.mark.usefixtures("property_rules")
def test_dispatch_is_due_twelve_clock_hours_later_even_on_a_holiday(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo, supervisor: UserInfo
) -> None:
    """002 制度5 §2: received Wed 09-30 20:00, the eve of National Day — passed on by Thu 10-01 08:00, a
    holiday, because the rule book counts clock hours. Not taken on by then: one 催办, the handler keeps it."""
    d = cs.register(_at(cctx, datetime(2026, 9, 30, 20, 0)), _intake(received_at="2026-09-30 20:00"))
    assert (d.urgent, d.dispatch_due, d.report_back_due) == (True, datetime(2026, 10, 1, 8, 0), None)
    assert cs.escalate_overdue(_at(ctx, datetime(2026, 10, 1, 7, 59))).escalated == ()
    chased = cs.escalate_overdue(_at(ctx, datetime(2026, 10, 1, 9, 0))).escalated
    assert [(n, k) for n, k, _w in chased] == [(d.number, "催办")]
    assert cs.escalate_overdue(_at(ctx, datetime(2026, 10, 1, 11, 0))).escalated == ()  # once
    assert _told(ctx) == {clerk.id, supervisor.id}
    after = cs.get_complaint(ctx, d.id)
    assert after.row.handler_id == clerk.id and after.row.chase_count == 1
    assert after.events[-1].action == "紧急派工催办"


@pytest.mark.usefixtures("property_rules")
def test_a_complaint_taken_on_in_time_is_not_chased_for_dispatch(
    ctx: ServiceContext, cctx: ServiceContext
) -> None:
    d = cs.register(cctx, _intake())
    assert d.dispatch_due == datetime(2026, 11, 24, 21, 0)
    cs.accept(_at(cctx, datetime(2026, 11, 24, 11, 0)), d.id)
    assert cs.escalate_overdue(_at(ctx, datetime(2026, 11, 24, 22, 0))).escalated == ()


@pytest.mark.usefixtures("property_rules")
def test_report_back_is_due_two_clock_hours_after_the_result(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo, supervisor: UserInfo
) -> None:
    """002 制度5 §5: the result written down Tue 11-24 16:30 → 办结 (the report back to the customer centre
    that starts the verification) by 18:30, after office hours — clock hours again. Late: one 催办."""
    d = cs.register(cctx, _intake())
    cs.accept(cctx, d.id)
    cs.save_handling(cctx, d.id, cs.HandlingDraft(investigation="水管老化"))  # no result yet: no clock
    assert cs.get_complaint(ctx, d.id).report_back_due is None
    done = cs.save_handling(
        _at(cctx, datetime(2026, 11, 24, 16, 30)),
        d.id,
        cs.HandlingDraft(investigation="水管老化", result="已更换水管"),
    )
    assert done.report_back_due == datetime(2026, 11, 24, 18, 30)
    again = cs.save_handling(  # a later correction does not move it
        _at(cctx, datetime(2026, 11, 24, 17, 0)),
        d.id,
        cs.HandlingDraft(investigation="水管老化", result="已更换水管并试水"),
    )
    assert again.report_back_due == datetime(2026, 11, 24, 18, 30)
    assert cs.escalate_overdue(_at(ctx, datetime(2026, 11, 24, 18, 0))).escalated == ()
    chased = cs.escalate_overdue(_at(ctx, datetime(2026, 11, 24, 19, 0))).escalated
    assert [(n, k) for n, k, _w in chased] == [(d.number, "催办")]
    assert cs.escalate_overdue(_at(ctx, datetime(2026, 11, 24, 20, 0))).escalated == ()
    assert _told(ctx) == {clerk.id, supervisor.id}
    after = cs.get_complaint(ctx, d.id)
    assert after.row.handler_id == clerk.id and after.events[-1].action == "紧急反馈催办"


@pytest.mark.usefixtures("property_rules")
def test_a_handling_finished_in_time_is_not_chased(ctx: ServiceContext, cctx: ServiceContext) -> None:
    d = cs.register(cctx, _intake())
    cs.accept(cctx, d.id)
    cs.save_handling(cctx, d.id, cs.HandlingDraft(investigation="水管老化", result="已更换水管"))
    cs.finish_handling(_at(cctx, datetime(2026, 11, 24, 11, 0)), d.id)
    assert cs.escalate_overdue(_at(ctx, datetime(2026, 11, 24, 19, 0))).escalated == ()


def test_urgent_needs_the_offices_urgent_timings(cctx: ServiceContext, sctx: ServiceContext) -> None:
    """An after-sales office has no 制度5 timings: nothing can be registered as urgent; a 咨询 never is."""
    with pytest.raises(ValidationError):
        cs.register(cctx, _intake())
    cs.save_complaint_rules(sctx, ComplaintRules(urgent=UrgentTimings()))
    with pytest.raises(ValidationError):
        cs.register(cctx, _intake(kind="咨询", category=""))
    plain = cs.register(cctx, _intake(urgent=False))
    assert (plain.urgent, plain.dispatch_due) == (False, None)


@pytest.mark.usefixtures("property_rules")
def test_ledger_has_the_urgent_columns(ctx: ServiceContext, cctx: ServiceContext) -> None:
    urgent = cs.register(cctx, _intake())
    plain = cs.register(cctx, _intake(urgent=False, subject="物业费发票开错", phone="13912345678"))
    rows = _ledger(ctx, datetime(2026, 11, 24, 12, 0))
    assert (rows[urgent.number]["urgent"], rows[urgent.number]["dispatch_due"]) == (
        "是",
        datetime(2026, 11, 24, 21, 0),
    )
    assert (rows[plain.number]["urgent"], rows[plain.number]["dispatch_due"]) == ("", None)
    assert rows[urgent.number]["report_back_due"] is None
