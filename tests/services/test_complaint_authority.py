"""核决权限 of complaint files (issue #20 item 4; 002 制度3 第一条/第九条 6 “依据核决权限送…经理…审批”).

Measured before: 重大 TS20240116-001, handled by the 公司经理, was signed off by a 部门主管 and the printed form's
经理 box was blank. Now the level that must sign follows the severity (一般/重要 → 主管, 重大 → 经理) in the
service layer, in what the review pane offers (sign disabled, with the reason) and on paper."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from huifang_desktop.domain.complaint_rules import ComplaintRules
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
