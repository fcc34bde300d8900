"""核决权限 of complaint files (issue #20 item 4; 002 制度3 第一条/第九条 6 “依据核决权限送…经理…审批”).

Measured before: 重大 TS20240116-001, handled by the 公司经理, was signed off by a 部门主管 and the printed form's
经理 box was blank. Now the level that must sign follows the severity (一般/重要 → 主管, 重大 → 经理) in the
service layer, in what the review pane offers (sign disabled, with the reason) and on paper."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from huifang_desktop.domain.complaint_rules import OWN_TOP_LEVEL_NOTE, ComplaintRules
from huifang_desktop.domain.complaints import BySeverity
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import printing as p
from huifang_desktop.services import review as rv
from huifang_desktop.services import users as users_service
from huifang_desktop.services.complaints.rules import load_complaint_rules, save_complaint_rules
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import PermissionDenied
from tests.conftest import PASSWORD

# this checkout's forms/ (an editable install elsewhere may resolve huifang_desktop.forms to another checkout)
FORMS = Path(__file__).resolve().parents[2] / "forms"


def _pdf(c: ServiceContext, complaint_id: int) -> bytes:
    return p.complaint_pdf(c, complaint_id, forms_dir=FORMS).pdf


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _closed(hctx: ServiceContext, severity: str, subject: str = "空调主机烧毁停用三天") -> int:
    """An anonymous complaint of ``severity`` handled and closed (with its reply letter) by ``hctx``."""
    d = cs.register(
        hctx,
        cs.IntakeDraft(
            subject=subject,
            anonymous=True,
            severity=severity,
            content="机房停用",
            category="维修",
            received_at="2026-11-24 09:00",
        ),
    )
    cs.accept(hctx, d.id)
    cs.save_handling(
        hctx,
        d.id,
        cs.HandlingDraft(
            investigation="主机老化", result="更换主机并赔偿", replied_at="2026-11-24 09:30", reply_way="书面"
        ),
    )
    cs.attach(hctx, [d.id], "答复函.pdf", b"%PDF-1.4 reply", "答复函")
    return cs.close(hctx, d.id).id


@pytest.fixture
def manager2(ctx: ServiceContext, admin: UserInfo) -> UserInfo:
    return users_service.create_user(
        ctx.as_user(admin), "zongjingli", "钱总经理", Role.MANAGER, PASSWORD, "经理室"
    )


def test_a_major_complaint_handled_by_the_manager_is_not_signed_by_a_supervisor(
    mctx: ServiceContext, sctx: ServiceContext, ctx: ServiceContext, manager2: UserInfo
) -> None:
    cid = _closed(mctx, "重大")
    detail = rv.detail(sctx, "投诉处理表", cid)
    assert "sign" not in detail.actions and "return" in detail.actions  # may still send it back
    assert "重大投诉须由公司经理或更高级别签字" in detail.sign_blocked
    with pytest.raises(PermissionDenied, match="核决权限"):
        rv.sign(sctx, "投诉处理表", cid, "同意", password=PASSWORD)
    item = rv.sign(ctx.as_user(manager2), "投诉处理表", cid, "同意结案", password=PASSWORD)
    assert item.signer == "钱总经理"


def test_batch_sign_refuses_a_major_file_among_others(
    mctx: ServiceContext, sctx: ServiceContext, cctx: ServiceContext
) -> None:
    major = _closed(mctx, "重大")
    normal = _closed(cctx, "一般", "保洁不到位")
    refs = [rv.ItemRef(rv.ReviewKind.COMPLAINT, normal), rv.ItemRef(rv.ReviewKind.COMPLAINT, major)]
    with pytest.raises(PermissionDenied, match="核决权限"):
        rv.batch_sign(sctx, refs, password=PASSWORD)
    assert rv.detail(sctx, "投诉处理表", normal).item.status == "待审阅"  # all or none
    assert "sign" in rv.detail(sctx, "投诉处理表", normal).actions  # 一般 → 主管 signs


def test_the_printed_form_has_the_box_the_authority_table_asks(
    mctx: ServiceContext, cctx: ServiceContext, ctx: ServiceContext, manager2: UserInfo
) -> None:
    major = _closed(mctx, "重大")
    text = _text(_pdf(mctx, major))
    assert "公司经理" in text and "部门主管" not in text  # the 经理 box, empty until the manager signs
    rv.sign(ctx.as_user(manager2), "投诉处理表", major, "同意", password=PASSWORD)
    assert "钱总经理" in _text(_pdf(mctx, major))
    normal = _text(_pdf(cctx, _closed(cctx, "一般", "保洁不到位")))
    assert "部门主管" in normal and "公司经理" not in normal


def test_the_table_is_a_setting_that_only_a_manager_may_lower(
    ctx: ServiceContext, sctx: ServiceContext, mctx: ServiceContext, admin: UserInfo
) -> None:
    lowered = ComplaintRules(sign_roles=BySeverity(Role.SUPERVISOR, Role.SUPERVISOR, Role.SUPERVISOR))
    with pytest.raises(PermissionDenied):
        save_complaint_rules(sctx, lowered)
    save_complaint_rules(mctx, lowered)
    assert load_complaint_rules(sctx).sign_roles["重大"] is Role.SUPERVISOR  # type: ignore[index]


def _sign_notes(ctx: ServiceContext, complaint_id: int) -> list[str]:
    from sqlalchemy import select

    from huifang_desktop.storage.models import AuditLog

    with ctx.sessions() as s:
        q = select(AuditLog.note).where(
            AuditLog.entity == "complaint", AuditLog.entity_id == complaint_id, AuditLog.action == "签字"
        )
        return list(s.execute(q).scalars())


def test_the_only_manager_signs_his_own_major_file(mctx: ServiceContext, sctx: ServiceContext) -> None:
    """重大 is handled by the 公司经理 (domain.md §7) and signed at 经理 level: with nobody else at the top of
    the ladder only he can sign it (it once waited in the queue for good, hidden from him as his own)."""
    cid = _closed(mctx, "重大")
    assert cid in {i.id for i in rv.review_queue(mctx).items() if i.kind is rv.ReviewKind.COMPLAINT}
    detail = rv.detail(mctx, "投诉处理表", cid)
    assert "sign" in detail.actions and "return" not in detail.actions  # not sent back to himself
    with pytest.raises(PermissionDenied, match="核决权限"):
        rv.sign(sctx, "投诉处理表", cid, "同意", password=PASSWORD)
    item = rv.sign(mctx, "投诉处理表", cid, "同意结案", password=PASSWORD)
    assert item.status == "已签字" and item.integrity is rv.Integrity.INTACT
    assert _sign_notes(mctx, cid) == [OWN_TOP_LEVEL_NOTE]  # the log says why he signed his own


def test_with_a_second_manager_the_other_one_signs(
    mctx: ServiceContext, ctx: ServiceContext, manager2: UserInfo
) -> None:
    cid = _closed(mctx, "重大")
    assert cid not in {i.id for i in rv.review_queue(mctx).items() if i.kind is rv.ReviewKind.COMPLAINT}
    assert "sign" not in rv.detail(mctx, "投诉处理表", cid).actions
    with pytest.raises(PermissionDenied, match="自己的"):
        rv.sign(mctx, "投诉处理表", cid, "同意", password=PASSWORD)
    rv.sign(ctx.as_user(manager2), "投诉处理表", cid, "同意结案", password=PASSWORD)
    assert _sign_notes(ctx, cid) == [""]


def test_a_supervisor_still_does_not_sign_his_own_file(sctx: ServiceContext, mctx: ServiceContext) -> None:
    cid = _closed(sctx, "重要", "电梯困人")
    assert "sign" not in rv.detail(sctx, "投诉处理表", cid).actions
    with pytest.raises(PermissionDenied, match="自己的"):
        rv.sign(sctx, "投诉处理表", cid, "同意", password=PASSWORD)
    rv.sign(mctx, "投诉处理表", cid, "同意", password=PASSWORD)  # the manager, above him
