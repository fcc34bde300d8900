"""The satisfying reply (满意答复) of 002 制度9 五: “一個工作日內展開調查…二個工作日內給予客戶滿意回覆”. Stored on
the complaint at intake (``reply_due``), shown in the 投诉台账 (满意答复期限 / 满意答复), and a complaint not
answered by then gets one 催办 — fixed clock, the National Day holidays of 2026."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from huifang_desktop.domain.complaint_rules import ComplaintRules
from huifang_desktop.services import complaints as cs
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.ledgers.complaint_ledger import ComplaintLedger
from huifang_desktop.storage.models import Complaint, ComplaintNotice


def _at(ctx: ServiceContext, when: datetime) -> ServiceContext:
    return ServiceContext(ctx.engine, ctx.sessions, ctx.user, lambda: when)


def _intake(**kw: object) -> cs.IntakeDraft:
    base: dict[str, object] = {
        "subject": "空调漏水",
        "complainant": "张先生",
        "phone": "13812345678",
        "category": "维修",
        "received_at": "2026-11-24 09:00",
    }
    base.update(kw)
    return cs.IntakeDraft(**base)  # type: ignore[arg-type]


def _reply_due(ctx: ServiceContext, complaint_id: int) -> datetime | None:
    with ctx.sessions() as s:
        c = s.get(Complaint, complaint_id)
        assert c is not None
        return c.reply_due


def _ledger(ctx: ServiceContext, at: datetime) -> dict[str, dict[str, object]]:
    spec = ComplaintLedger()
    (src,) = spec.register_sources(_at(ctx, at), cs.ComplaintFilter())
    cols = [c.key for c in spec.columns]
    with ctx.engine.connect() as conn:
        rows = [src.convert(r) for r in conn.execute(src.query)]
    return {str(r.values[cols.index("number")]): dict(zip(cols, r.values, strict=True)) for r in rows}


def test_reply_is_due_two_working_days_after_intake(ctx: ServiceContext, cctx: ServiceContext) -> None:
    """002 制度9 五: received Tue 11-24 → a satisfying reply by Thu 11-26 at the end of the working day."""
    d = cs.register(cctx, _intake())
    assert _reply_due(ctx, d.id) == datetime(2026, 11, 26, 17, 30)
    consult = cs.register(cctx, _intake(kind="咨询", subject="保修期多久", category=""))
    assert _reply_due(ctx, consult.id) is None  # 制度9 speaks of complaints only


def test_reply_due_skips_the_national_day_holiday(ctx: ServiceContext, cctx: ServiceContext) -> None:
    """Received Wed 09-30 19:00, after hours, with 10-01..10-07 off: it counts from Thu 10-08, so the reply is
    due two working days later, Sat 10-10 — a 调休 working day in the 2026 calendar."""
    clock = _at(cctx, datetime(2026, 10, 12, 9, 0))
    d = cs.register(clock, _intake(received_at="2026-09-30 19:00"))
    assert _reply_due(ctx, d.id) == datetime(2026, 10, 10, 17, 30)


def test_reply_rule_can_be_switched_off_and_special_cases_have_none(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    special = cs.register(cctx, _intake(special=True))
    assert _reply_due(ctx, special.id) is None
    cs.save_complaint_rules(sctx, ComplaintRules(satisfying_reply_workdays=0))
    off = cs.register(cctx, _intake(subject="门锁坏了"))
    assert _reply_due(ctx, off.id) is None


def test_ledger_shows_the_reply_due_and_whether_it_was_met(ctx: ServiceContext, cctx: ServiceContext) -> None:
    on_time = cs.register(cctx, _intake())
    late = cs.register(cctx, _intake(subject="门锁坏了", complainant="李女士", phone="13912345678"))
    later = _at(cctx, datetime(2026, 11, 27, 10, 0))
    for d in (on_time, late):
        cs.accept(cctx, d.id)
    cs.save_handling(
        _at(cctx, datetime(2026, 11, 25, 16, 0)),
        on_time.id,
        cs.HandlingDraft(
            investigation="排水管脱落", replied_at="2026-11-25 15:00", reply_way="电话", reply_text="明天上门"
        ),
    )
    rows = _ledger(ctx, datetime(2026, 11, 26, 10, 0))
    assert rows[on_time.number]["reply"] == "按时" and rows[late.number]["reply"] == "待答复"
    assert rows[late.number]["reply_due"] == datetime(2026, 11, 26, 17, 30)
    assert _ledger(ctx, datetime(2026, 11, 27, 10, 0))[late.number]["reply"] == "逾期未答"
    cs.save_handling(
        later,
        late.id,
        cs.HandlingDraft(investigation="锁芯损坏", replied_at="2026-11-27 09:30", reply_way="电话"),
    )
    assert _ledger(ctx, datetime(2026, 11, 27, 10, 0))[late.number]["reply"] == "逾期答复"


def test_a_reply_not_given_in_time_is_chased_once(
    ctx: ServiceContext, cctx: ServiceContext, clerk: UserInfo, supervisor: UserInfo
) -> None:
    """002 制度9 五 with 制度3 第十三条's 催办: past the reply due (11-26 17:30) and before the 处理期限
    (11-27 17:30) the handler and the department head are chased once; the handler keeps the case."""
    d = cs.register(cctx, _intake())
    cs.accept(cctx, d.id)
    assert cs.escalate_overdue(_at(ctx, datetime(2026, 11, 26, 17, 0))).escalated == ()
    first = cs.escalate_overdue(_at(ctx, datetime(2026, 11, 27, 9, 0)))
    assert [(n, k) for n, k, _w in first.escalated] == [(d.number, "催办")]
    assert cs.escalate_overdue(_at(ctx, datetime(2026, 11, 27, 11, 0))).escalated == ()  # once
    with ctx.sessions() as s:
        told = {n.user_id for n in s.execute(select(ComplaintNotice)).scalars()}
    assert told == {clerk.id, supervisor.id}
    detail = cs.get_complaint(ctx, d.id)
    assert detail.row.handler_id == clerk.id and detail.row.chase_count == 1
    assert detail.events[-1].action == "答复逾期催办"


def test_a_reply_given_in_time_is_not_chased(ctx: ServiceContext, cctx: ServiceContext) -> None:
    d = cs.register(cctx, _intake())
    cs.accept(cctx, d.id)
    cs.save_handling(
        _at(cctx, datetime(2026, 11, 25, 16, 0)),
        d.id,
        cs.HandlingDraft(investigation="查明", replied_at="2026-11-25 15:00", reply_way="电话"),
    )
    assert cs.escalate_overdue(_at(ctx, datetime(2026, 11, 27, 9, 0))).escalated == ()
