"""Issue 20 scenarios, fixed clock: 首问责任人 (002 制度5 §8), 催办 ladder across the National Day holiday and
督办 (002 制度3 第十三条), 查办 of a late complaint and the 投诉台账's 是否逾期 / 查办 columns."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from huifang_desktop.domain.complaint_follow import FollowPolicy, Lateness, lateness, overdue_workdays
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.services import complaints as cs
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.services.ledgers.complaint_ledger import ComplaintLedger
from huifang_desktop.storage.models import ComplaintNotice


def _at(ctx: ServiceContext, when: datetime) -> ServiceContext:
    return ServiceContext(ctx.engine, ctx.sessions, ctx.user, lambda: when)


def _intake(**kw: object) -> cs.IntakeDraft:
    base: dict[str, object] = {
        "subject": "空调漏水",
        "complainant": "张先生",
        "phone": "13812345678",
        "category": "交付物流",
        "received_at": "2026-11-24 09:00",
    }
    base.update(kw)
    return cs.IntakeDraft(**base)  # type: ignore[arg-type]


def _notices(ctx: ServiceContext, user_id: int) -> list[ComplaintNotice]:
    with ctx.sessions() as s:
        return list(
            s.execute(
                select(ComplaintNotice).where(ComplaintNotice.user_id == user_id).order_by(ComplaintNotice.id)
            ).scalars()
        )


def test_first_responder_is_the_registrar_and_hears_of_every_step_within_two_hours(
    ctx: ServiceContext, sctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo, clerk: UserInfo
) -> None:
    """002 制度5 §8: 首问人 follows the case; 处理完毕 须于2小时内反馈首问责任人."""
    d = cs.register(sctx, _intake(handler_id=clerk.id))
    with ctx.sessions() as s:
        from huifang_desktop.storage.models import Complaint

        row = s.get(Complaint, d.id)
        assert row is not None and row.first_responder_id == supervisor.id
    cs.accept(cctx, d.id)
    cs.save_handling(
        cctx,
        d.id,
        cs.HandlingDraft(
            investigation="排水管脱落",
            cause="安装不规范",
            measures="重新安装",
            result="已修好",
            replied_at="2026-11-24 10:00",
            reply_way="电话",
        ),
    )
    got = _notices(ctx, supervisor.id)
    assert [n.kind for n in got] == ["进度反馈", "进度反馈"]
    assert "已受理" in got[0].note and "已答复客户" in got[1].note
    assert all(n.due_at is not None and (n.due_at - n.created_at).total_seconds() == 2 * 3600 for n in got)
    assert cs.notices(sctx).follow_unseen == 2
    assert not _notices(ctx, clerk.id)  # nobody is told of his own steps


def test_first_responder_can_be_chosen_and_shows_in_the_ledger(
    ctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo
) -> None:
    d = cs.register(cctx, _intake(first_responder_id=supervisor.id))
    spec = ComplaintLedger()
    (src,) = spec.register_sources(cctx, cs.ComplaintFilter())
    with ctx.engine.connect() as conn:
        (row,) = [src.convert(r) for r in conn.execute(src.query)]
    cols = [c.key for c in spec.columns]
    assert row.values[cols.index("first_responder")] == supervisor.display_name
    assert row.values[cols.index("inquiry")] == "无需" and row.values[cols.index("overdue")] == "否"
    with pytest.raises(ValidationError, match="首问责任人"):
        cs.register(cctx, _intake(first_responder_id=999))
    assert d.number


def test_ladder_counts_working_days_over_the_national_day_holiday() -> None:
    """A deadline on 2026-09-30 17:30: 10-01..10-07 are holidays, so 10-08 is still day 0 of 催办."""
    cal = WorkCalendar.china()
    deadline = datetime(2026, 9, 30, 17, 30)
    assert overdue_workdays(deadline, datetime(2026, 10, 5, 9, 0), cal) == 0
    assert overdue_workdays(deadline, datetime(2026, 10, 8, 18, 0), cal) == 1
    assert overdue_workdays(deadline, datetime(2026, 9, 30, 17, 0), cal) == -1


def test_ladder_reports_upwards_after_a_working_day_without_moving_the_case(
    ctx: ServiceContext,
    cctx: ServiceContext,
    mctx: ServiceContext,
    clerk: UserInfo,
    supervisor: UserInfo,
    manager: UserInfo,
) -> None:
    """002 制度3 第十三条: 催办 to the department, 上报 upwards; the handler keeps the case."""
    d = cs.register(cctx, _intake())
    first = cs.escalate_overdue(_at(ctx, datetime(2026, 11, 26, 9, 0)))  # due 11-25 17:30
    assert [k for _n, k, _w in first.escalated] == ["催办"]
    later = cs.escalate_overdue(_at(ctx, datetime(2026, 11, 27, 9, 0)))  # a whole working day: 上报
    assert [k for _n, k, _w in later.escalated] == ["上报"]
    much_later = cs.escalate_overdue(_at(ctx, datetime(2026, 12, 1, 9, 0)))  # 3 working days: the manager
    assert [(k, w) for _n, k, w in much_later.escalated] == [("上报", manager.display_name)]
    d = cs.get_complaint(ctx, d.id)
    assert d.row.handler_id == clerk.id and d.handler_role == "clerk"
    assert (d.row.chase_count, d.row.escalation_level) == (1, 2)
    assert [n.kind for n in _notices(ctx, manager.id)] == ["上报"]


def test_supervise_is_for_a_manager_on_a_major_case(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, mctx: ServiceContext, manager: UserInfo
) -> None:
    minor = cs.register(cctx, _intake())
    with pytest.raises(PermissionDenied):
        cs.supervise(sctx, minor.id)
    with pytest.raises(ValidationError, match="重大"):
        cs.supervise(mctx, minor.id)
    major = cs.register(cctx, _intake(subject="电梯困人", severity="重大", handler_id=manager.id))
    d = cs.supervise(mctx, major.id, "每日报进度")
    assert d.events[-1].action == "督办" and d.row.handler_id == manager.id


def test_late_closed_complaint_needs_an_inquiry_entered_by_a_supervisor(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    """002 制度3 第十三条: 处理时效逾期案件 → 查办单; the ledger reads 逾期办结 / 待查办 → 已查办."""
    d = cs.register(cctx, _intake(anonymous=True, complainant="", phone="", reply_only=False))
    late = _at(cctx, datetime(2026, 12, 4, 10, 0))  # handling was due 11-27 17:30
    cs.accept(late, d.id)
    cs.save_handling(
        late,
        d.id,
        cs.HandlingDraft(
            investigation="查明",
            cause="拖延",
            measures="修复",
            result="已修复",
            replied_at="2026-12-04 10:00",
            reply_way="书面",
        ),
    )
    cs.attach(late, [d.id], "答复函.pdf", b"%PDF-1.4 reply", "答复函")
    closed = cs.close(_at(sctx, datetime(2026, 12, 4, 11, 0)), d.id)
    assert closed.state == "已关闭"
    now = _at(sctx, datetime(2026, 12, 4, 12, 0))
    (pending,) = cs.inquiries(now, pending_only=True)
    assert pending.number == d.number and pending.inquiry.value == "待查办"
    assert cs.pending_inquiry_count(now) == 1  # the 待查办 button's count
    with pytest.raises(PermissionDenied):
        cs.record_inquiry(_at(cctx, datetime(2026, 12, 4, 12, 0)), d.id, cs.InquiryDraft("忘了", "加强"))
    with pytest.raises(ValidationError):
        cs.record_inquiry(now, d.id, cs.InquiryDraft("", ""))
    row = cs.record_inquiry(now, d.id, cs.InquiryDraft("处理人请假未移交", "请假前移交在办投诉", "小王"))
    assert row.inquiry.value == "已查办" and row.decided_by
    assert cs.inquiries(now, pending_only=True) == []
    assert cs.pending_inquiry_count(now) == 0
    assert (
        lateness(
            "投诉",
            "已关闭",
            None,
            datetime(2026, 11, 27, 17, 30),
            datetime(2026, 12, 4, 11, 0),
            datetime(2026, 12, 4, 12, 0),
        )
        is Lateness.CLOSED_LATE
    )


def test_open_case_needs_inquiry_only_n_working_days_past_its_deadline(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    d = cs.register(cctx, _intake())  # handling due 2026-11-27 17:30
    assert cs.inquiries(_at(sctx, datetime(2026, 12, 1, 18, 0))) == []  # 2 working days past
    (row,) = cs.inquiries(_at(sctx, datetime(2026, 12, 2, 18, 0)))  # 3 working days past (default)
    assert row.complaint_id == d.id and row.inquiry.value == "待查办"
    cs.save_follow_policy(sctx, FollowPolicy(inquiry_open_workdays=5))
    assert cs.inquiries(_at(sctx, datetime(2026, 12, 2, 18, 0))) == []
    with pytest.raises(ValidationError, match="催办规则"):
        FollowPolicy.from_dict({"ladder": [{"after_workdays": -1, "notify": ["handler"]}]})
