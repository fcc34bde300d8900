"""Issue 20 on the demo office: ``export complaints`` has 首问责任人 and 查办 columns; every complaint whose
关闭时间 is after its 处理期限 reads 逾期办结 and has a 查办 record (002 制度3 第十三条), and a realistic share of
them are late; overdue complaints were chased, never taken from their handler."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from huifang_desktop.demo import generate_demo
from huifang_desktop.demo.complaints import generate_complaints
from huifang_desktop.domain.roles import Role
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.ledgers.export import export_complaints
from huifang_desktop.storage.db import make_engine, make_session_factory, sqlite_url, upgrade
from huifang_desktop.storage.models import Complaint, ComplaintEvent, ComplaintInquiry, User

NOW = datetime(2026, 11, 24, 10, 0)


def test_demo_export_has_first_responder_and_inquiry_and_late_closed_cases_are_inquired(
    tmp_path: Path,
) -> None:
    engine = make_engine(sqlite_url(tmp_path / "office.db"))
    upgrade(engine)
    ctx = ServiceContext(engine, make_session_factory(engine), clock=lambda: NOW)
    generate_demo(ctx, customers=200, seed=3)
    generate_complaints(ctx, 400, seed=3)
    with ctx.sessions() as s:
        manager = s.execute(select(User).where(User.role == Role.MANAGER.value)).scalars().first()
        assert manager is not None
        mctx = ctx.as_user(
            UserInfo(manager.id, manager.username, manager.display_name, Role.MANAGER, manager.department_id)
        )
        rows = s.execute(select(Complaint).where(Complaint.kind == "投诉")).scalars().all()
        inquired = set(s.execute(select(ComplaintInquiry.complaint_id)).scalars())
        escalations = s.execute(select(ComplaintEvent).where(ComplaintEvent.action == "逾期升级")).all()
    late_closed = {c.number for c in rows if c.closed_at is not None and c.closed_at > c.handling_due}
    closed = [c for c in rows if c.closed_at is not None]
    assert all(c.first_responder_id is not None for c in rows)
    assert 0.05 <= len(late_closed) / len(closed) <= 0.35  # a realistic share, not none and not most
    assert {c.id for c in rows if c.number in late_closed} <= inquired
    assert not escalations  # overdue cases are chased (逾期催办), no longer moved up a level

    out = tmp_path / "complaints.xlsx"
    export_complaints(mctx, out)
    book = load_workbook(out, read_only=True)
    sheet = book.active
    assert sheet is not None
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()  # a read-only workbook keeps its file open until closed
    head_at = next(i for i, r in enumerate(table) if "投诉编号" in r)
    head = table[head_at]
    assert "首问责任人" in head and "查办" in head and "处理期限" in head and "关闭时间" in head
    number, late, inquiry, first = (head.index(k) for k in ("投诉编号", "是否逾期", "查办", "首问责任人"))
    body = [r for r in table[head_at + 1 :] if r[number] and str(r[number]).startswith("TS")]
    by_number = {r[number]: r for r in body}
    for n in late_closed:
        assert by_number[n][late] == "逾期办结"
        assert by_number[n][inquiry] == "已查办"
    assert all(r[first] for r in body)
    assert {r[late] for r in body} <= {"否", "逾期办结", "逾期未办"}
