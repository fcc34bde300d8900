"""The access leaks of issue 23 item 5, each closed in the service layer: the 绝密 rule covers print and
preview, the duplicate warning, transfers, complaint numbers and the audit log respect visibility and
rights, and the limits a supervisor is held to (visibility, 允许本人签字) are set by a manager or admin."""

from __future__ import annotations

from dataclasses import replace

import pytest

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import PERMISSIONS, Permission, Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import printing
from huifang_desktop.services import review as rv
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import DuplicateWarning, NotFound, PermissionDenied
from huifang_desktop.services.ledgers import Ledger, choices, print_document
from huifang_desktop.services.settings import load_settings, save_settings, set_value
from tests.conftest import PASSWORD


def _customer(ctx: ServiceContext, name: str, mobile: str) -> int:
    return register_customer(
        ctx,
        CustomerDraft(
            name=name, address=f"{name}路 1 号", contacts=(ContactDraft(name="张经理", mobile=mobile),)
        ),
    ).id


def _department_only(mctx: ServiceContext) -> None:
    save_settings(mctx, replace(load_settings(mctx), visibility="department"))


# --- 绝密: print and preview are output like export --------------------------------------------------


def test_clerk_may_not_print_the_top_secret_customer_ledger(
    cctx: ServiceContext, sctx: ServiceContext, tmp_path
) -> None:
    _customer(cctx, "甲公司", "13800000001")
    assert not choices(cctx, Ledger.CUSTOMERS).can_export  # export was refused already
    with pytest.raises(PermissionDenied, match="绝密"):
        print_document(cctx, Ledger.CUSTOMERS)
    with pytest.raises(PermissionDenied, match="绝密"):
        print_document(cctx, Ledger.END_CUSTOMERS)
    print_document(cctx, Ledger.VISITS)  # not 绝密: a clerk prints it

    doc = print_document(sctx, Ledger.CUSTOMERS)  # a supervisor may
    assert doc.top_secret and doc.pages >= 1
    assert printing.may_output(sctx, doc) and not printing.may_output(cctx, doc)
    # the preview's 打印 / 另存为 PDF log through these: a clerk handed the document cannot output it
    with pytest.raises(PermissionDenied, match="绝密"):
        printing.save_pdf(cctx, doc, tmp_path / "x.pdf")
    with pytest.raises(PermissionDenied, match="绝密"):
        printing.log_output(cctx, doc, printing.OUTPUT_FILE, "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
    assert printing.save_pdf(sctx, doc, tmp_path / "y.pdf").exists()


# --- department-only visibility: nothing leaks around it ---------------------------------------------


def test_duplicate_phone_warning_does_not_reveal_another_departments_customer(
    ctx: ServiceContext, mctx: ServiceContext, cctx: ServiceContext, c2ctx: ServiceContext
) -> None:
    _customer(c2ctx, "销售部的秘密客户", "13900000009")  # 小李, 销售部
    _department_only(mctx)
    with pytest.raises(DuplicateWarning) as info:
        _customer(cctx, "新客户", "139 0000 0009")  # 小王, 客服部, types the same number
    text = str(info.value)
    assert "其他部门" in text and "139 0000 0009" in text
    assert "销售部的秘密客户" not in text and "KH000001" not in text
    assert [(h.id, h.code, h.name) for h in info.value.hits] == [(0, "", "")]
    # the same number in one's own department is named as before
    with pytest.raises(DuplicateWarning) as own:
        _customer(c2ctx, "又一个", "13900000009")
    assert "KH000001 销售部的秘密客户" in str(own.value)
    # office-wide visibility: everyone sees every file, so the warning names it
    save_settings(mctx, replace(load_settings(mctx), visibility="office"))
    with pytest.raises(DuplicateWarning, match="销售部的秘密客户"):
        _customer(cctx, "新客户", "13900000009")


def test_import_check_does_not_reveal_another_departments_customer(
    mctx: ServiceContext, cctx: ServiceContext, c2ctx: ServiceContext, tmp_path
) -> None:
    from tests.services.test_importing import _validate, ugly_customer_workbook

    register_customer(
        c2ctx,
        CustomerDraft(
            name="老客户车队（旧档）",
            address="别处",
            contacts=(ContactDraft(name="陈师傅", mobile="13700001111"),),
        ),
    )  # 销售部; the sheet's row 10 has this phone
    _department_only(mctx)
    _preview, report = _validate(cctx, ugly_customer_workbook(tmp_path / "c.xlsx"))
    [issue] = [i for i in report.issues if i.row == 10]
    assert "其他部门" in issue.message and "137 0000 1111" in issue.message
    assert "老客户车队（旧档）" not in issue.message and "KH000001" not in issue.message
    _preview, own = _validate(c2ctx, tmp_path / "c.xlsx")  # their own department's file is named
    assert "KH000001 老客户车队（旧档）" in next(i.message for i in own.issues if i.row == 10)


def test_clerk_cannot_answer_another_departments_transfer(
    mctx: ServiceContext, cctx: ServiceContext, c2ctx: ServiceContext
) -> None:
    theirs = _customer(c2ctx, "销售部客户", "13900000008")
    row = v.record_visit(
        c2ctx,
        v.VisitRecordDraft(
            customer_id=theirs,
            result="成功",
            satisfaction="满意",
            visited_at="2026-11-24 09:00",
            problems="漏水",
            transfer_department="售后服务部",
        ),
    )
    _department_only(mctx)
    with pytest.raises(PermissionDenied, match="其他部门"):
        v.mark_transfer_answered(cctx, row.id, "已处理")
    assert v.get_record(c2ctx, row.id).transfer_answer in ("", None)
    assert v.mark_transfer_answered(c2ctx, row.id, "已派工").transfer_answer == "已派工"


def test_complaint_numbers_of_other_departments_cannot_be_probed(
    mctx: ServiceContext, cctx: ServiceContext, c2ctx: ServiceContext
) -> None:
    theirs = cs.register(
        c2ctx,
        cs.IntakeDraft(
            subject="送货延误",
            complainant="张经理",
            phone="13812345678",
            category="交付物流",
            content="晚到三天",
        ),
    )
    _department_only(mctx)
    with pytest.raises(NotFound) as hidden:
        cs.find_id(cctx, theirs.number)
    missing_number = theirs.number[:-3] + "999"
    with pytest.raises(NotFound) as missing:
        cs.find_id(cctx, missing_number)
    assert str(hidden.value) == str(missing.value).replace(missing_number, theirs.number)
    with pytest.raises(NotFound):
        cs.find_id(cctx, str(theirs.id))
    assert cs.find_id(c2ctx, theirs.number) == theirs.id
    assert cs.find_id(mctx, theirs.number) == theirs.id


def test_the_audit_log_needs_view_audit(cctx: ServiceContext, sctx: ServiceContext, tmp_path) -> None:
    _customer(cctx, "甲公司", "13800000001")
    with pytest.raises(PermissionDenied):
        rv.audit_rows(cctx)  # refused at the call, before any row is read
    with pytest.raises(PermissionDenied):
        rv.export_audit(cctx, tmp_path / "log.xlsx")
    assert len(list(rv.audit_rows(sctx))) >= 1


# --- a supervisor's limits are a manager's (or admin's) setting ---------------------------------------


def test_supervisor_cannot_lift_department_visibility(
    ctx: ServiceContext, sctx: ServiceContext, mctx: ServiceContext, admin
) -> None:
    _department_only(mctx)
    with pytest.raises(PermissionDenied, match="可见范围"):
        save_settings(sctx, replace(load_settings(sctx), visibility="office"))
    with pytest.raises(PermissionDenied, match="可见范围"):
        set_value(sctx, "office", {"visibility": "office"}, what="办公设置")  # not around save_settings
    assert load_settings(ctx).visibility == "department"
    save_settings(sctx, replace(load_settings(sctx), company="某某公司"))  # the rest stays theirs
    save_settings(ctx.as_user(admin), replace(load_settings(ctx), visibility="office"))
    assert load_settings(ctx).visibility == "office"


def test_supervisor_cannot_allow_self_sign_and_sign_own_record(
    ctx: ServiceContext, sctx: ServiceContext, mctx: ServiceContext
) -> None:
    c = _customer(sctx, "主管自己的客户", "13700000001")
    own = v.record_visit(
        sctx,
        v.VisitRecordDraft(customer_id=c, result="成功", satisfaction="满意", visited_at="2026-11-24 09:00"),
    )
    with pytest.raises(PermissionDenied, match="本人签字"):
        rv.save_review_rules(sctx, replace(rv.load_review_rules(sctx), allow_self_sign=True))
    with pytest.raises(PermissionDenied, match="本人签字"):
        set_value(sctx, rv.RULES_KEY, {"allow_self_sign": True}, what="审阅设置")
    assert rv.load_review_rules(ctx).allow_self_sign is False
    with pytest.raises(PermissionDenied, match="自己的"):
        rv.sign(sctx, rv.ReviewKind.RECORD, own.id, password=PASSWORD)
    rv.save_review_rules(sctx, replace(rv.load_review_rules(sctx), record_workdays=3))  # other rules: theirs
    # the manager decides; then (the existing meaning of the setting) one may sign one's own
    rv.save_review_rules(mctx, replace(rv.load_review_rules(mctx), allow_self_sign=True))
    assert rv.sign(sctx, rv.ReviewKind.RECORD, own.id, password=PASSWORD).status == "已签字"


def test_the_new_rights_are_held_by_whom_the_brief_says() -> None:
    from huifang_desktop.domain.roles import rights_table

    assert {r for r in Role if Permission("manage_policy") in PERMISSIONS[r]} == {Role.MANAGER, Role.ADMIN}
    assert {r for r in Role if Permission("confirm_assessment") in PERMISSIONS[r]} == {Role.MANAGER}
    assert {r for r in Role if Permission("work_for_others") in PERMISSIONS[r]} == {
        Role.SUPERVISOR,
        Role.MANAGER,
    }
    assert Permission.MANAGE_SETTINGS in PERMISSIONS[Role.SUPERVISOR]
    assert [label for label, _ in rights_table()] == [r.label for r in Role]
