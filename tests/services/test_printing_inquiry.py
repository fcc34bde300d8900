"""The 投诉查办单 (002 制度3 第十三条: 处理时效逾期案件 → 开具“查办单”送有关部门追查逾期原因) and the 首问责任人 on the
printed 投诉处理表 (002 制度5 §8), fixed clock."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from pypdf import PdfReader

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import printing as p
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.printing.inquiry_form import inquiry_values


def _at(ctx: ServiceContext, when: datetime) -> ServiceContext:
    return ServiceContext(ctx.engine, ctx.sessions, ctx.user, lambda: when)


def _text(pdf: bytes) -> str:
    return "".join(re.sub(r"\s+", "", pg.extract_text() or "") for pg in PdfReader(io.BytesIO(pdf)).pages)


def _late_closed(cctx: ServiceContext, sctx: ServiceContext) -> int:
    """An anonymous complaint received Tue 2026-11-24 09:00 (处理期限 11-27 17:30), answered in writing and
    closed on 12-04: 逾期办结."""
    d = cs.register(
        cctx,
        cs.IntakeDraft(subject="空调漏水", anonymous=True, category="维修", received_at="2026-11-24 09:00"),
    )
    late = _at(cctx, datetime(2026, 12, 4, 10, 0))
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
    cs.close(_at(sctx, datetime(2026, 12, 4, 11, 0)), d.id)
    return d.id


def test_inquiry_form_prints_the_late_case_then_its_inquiry(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, clerk: UserInfo
) -> None:
    cid = _late_closed(cctx, sctx)
    now = _at(sctx, datetime(2026, 12, 4, 12, 0))
    pending = inquiry_values(now, cid)
    assert pending["inquiry_state"] == "待查办" and pending["reason"] == ""
    assert pending["closed"] == "2026-12-04 11:00 关闭"
    assert pending["overdue_days"] == "4 个工作日"  # Fri 11-27 17:30 → Thu 12-03 17:30, then part of Fri
    cs.record_inquiry(now, cid, cs.InquiryDraft("处理人请假未移交", "请假前移交在办投诉", "小王"))
    doc = p.inquiry_pdf(_at(cctx, datetime(2026, 12, 4, 13, 0)), cid)  # the clerk may print what he sees
    text = _text(doc.pdf)
    for value in (
        "投诉查办单",
        "空调漏水",
        "处理人请假未移交",
        "请假前移交在办投诉",
        "小王",
        "已查办",
        "首问责任人",
        clerk.display_name,
        "逾期原因",
        "改进措施",
        "查办决定",
        "决定人",
    ):
        assert value in text, value
    assert doc.file_name.startswith("投诉查办单_TS") and doc.pages == 1


def test_inquiry_form_is_refused_for_a_case_on_time(cctx: ServiceContext) -> None:
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="空调漏水",
            complainant="张先生",
            phone="13812345678",
            category="维修",
            received_at="2026-11-24 09:00",
        ),
    )
    with pytest.raises(ValidationError, match="未逾期"):
        p.inquiry_pdf(_at(cctx, datetime(2026, 11, 24, 10, 0)), d.id)


def test_blank_inquiry_form_prints_its_boxes_empty(cctx: ServiceContext) -> None:
    doc = p.empty_form_pdf(cctx, "inquiry")
    text = _text(doc.pdf)
    assert "投诉查办单" in text and "逾期原因" in text and "决定人" in text and doc.pages == 1


def test_complaint_form_prints_the_first_responder(
    cctx: ServiceContext, sctx: ServiceContext, supervisor: UserInfo
) -> None:
    """002 制度5 §8: the 首问责任人 follows the case; the printed 投诉处理表 names him."""
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="空调漏水",
            complainant="张先生",
            phone="13812345678",
            category="维修",
            first_responder_id=supervisor.id,
        ),
    )
    text = _text(p.complaint_pdf(cctx, d.id).pdf)
    assert "首问责任人" in text and supervisor.display_name in text
