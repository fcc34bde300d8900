"""Printed forms from the database (services/printing.py): every PDF is read back with pypdf."""

from __future__ import annotations

import errno
import io
import json
import os
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.printing.templates import forms_dir
from huifang_desktop.services import ledgers, policy, workflow
from huifang_desktop.services import printing as p
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.services.printing.record_form import _blank_values
from huifang_desktop.services.settings import load_settings, save_settings
from huifang_desktop.storage.models import AuditLog, VisitPlan, VisitRecord, VisitReport
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _visitor_independence_off(ctx: ServiceContext) -> None:
    """The forms printed here are of visits the customer's own clerk made; independence (on by default,
    001 篇11) is tested in tests/services/test_visit_rules.py."""
    from huifang_desktop.services.settings import set_value

    set_value(ctx, "independent_visitor", False, what="回访人独立性检查")


DAY = date(2026, 11, 24)


def pages_text(pdf: bytes) -> list[str]:
    """The text of each page, whitespace removed (CJK strings come back whole through ToUnicode)."""
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(pg.mediabox.width), float(pg.mediabox.height)) for pg in PdfReader(io.BytesIO(pdf)).pages]


def audit_rows(ctx: ServiceContext) -> list[AuditLog]:
    with ctx.sessions() as s:
        q = select(AuditLog).where(AuditLog.action == "打印").order_by(AuditLog.id)
        return list(s.execute(q).scalars())


@pytest.fixture
def office(cctx: ServiceContext) -> dict[str, Any]:
    """Two customers with a plan each on DAY; the second visit (上门) is recorded."""
    a = register_customer(
        cctx,
        CustomerDraft(
            name="杭州远纳运输有限公司",
            address="杭州市西湖区文三路 388 号",
            contacts=(ContactDraft(name="张倩", mobile="15199743456"),),
        ),
    )
    b = register_customer(
        cctx,
        CustomerDraft(
            name="上海宏达机械制造有限公司",
            address="上海市闵行区",
            contacts=(ContactDraft(name="王建国", mobile="13812345678"),),
        ),
    )
    plan_a = v.add_manual_plan(cctx, a.id, "例行", "电话", DAY)
    plan_b = v.add_manual_plan(cctx, b.id, "使用", "上门", DAY)
    record = v.record_visit(
        cctx,
        v.prefill_record(cctx, plan_b.id).to_draft(
            result="成功",
            method="上门",
            visited_at="2026-11-24 09:30",
            satisfaction="满意",
            customer_signed=True,
            feedback="设备运行稳定，夜班冷却系统偶有异响。",
            problems="冷却泵异响",
            transfer_department="售后服务部",
        ),
    )
    return {"a": a, "b": b, "plan_a": plan_a, "plan_b": plan_b, "record": record}


def _sign(ctx: ServiceContext, record_id: int, signer: UserInfo) -> None:
    from huifang_desktop.services import review

    review.sign(ctx.as_user(signer), "回访记录表", record_id, "处理及时，请跟进到结案。", password=PASSWORD)


# --- 回访记录表 -------------------------------------------------------------------------------------------


def test_printing_visit_record_prints_the_filled_record_as_a_draft_until_signed(
    cctx: ServiceContext, office: dict[str, Any]
) -> None:
    record = office["record"]
    doc = p.visit_record_pdf(cctx, record.id)
    assert doc.pdf.startswith(b"%PDF")
    assert doc.pages == 1 and len(page_sizes(doc.pdf)) == 1
    (text,) = pages_text(doc.pdf)
    for value in (
        "回访记录表",
        record.number,
        "上海宏达机械制造有限公司",
        "KH000002",
        "王建国",
        "1381234",
        "5678",
        "2026-11-2409:30",
        "小王",
        "设备运行稳定，夜班冷却系统偶有异响。",
        "冷却泵异响",
        "售后服务部",
        "已签字",
    ):
        assert value in text, value
    assert "草稿" in text  # not signed off yet: the watermark
    assert (doc.form, doc.entity, doc.entity_id) == ("回访记录表", "visit_record", record.id)
    assert doc.file_name == f"回访记录表_{record.number}.pdf"


def test_printing_signed_record_prints_signer_and_date_without_watermark(
    ctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo, office: dict[str, Any]
) -> None:
    _sign(ctx, office["record"].id, supervisor)
    (text,) = pages_text(p.visit_record_pdf(cctx, office["record"].id).pdf)
    assert "草稿" not in text
    assert "已审阅" in text  # the stamp in the header
    assert text.count("李主管") == 2 and "李主管2026-11-24" in text  # stamp, and the sign-off line
    assert "处理及时，请跟进到结案。" in text


def test_printouts_keep_the_signers_keys_but_never_miss_a_new_key_pair(
    ctx: ServiceContext,
    cctx: ServiceContext,
    supervisor: UserInfo,
    office: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from huifang_desktop.services import review, signing, users

    reads: list[int] = []
    read = signing._read_key_rows
    monkeypatch.setattr(signing, "_read_key_rows", lambda db, uid: reads.append(uid) or read(db, uid))
    old_id = office["record"].id
    _sign(ctx, old_id, supervisor)
    for _ in range(3):  # one session per printout: the keys are read for the first only
        assert "签字后被修改" not in pages_text(p.visit_record_pdf(cctx, old_id).pdf)[0]
    assert reads == [supervisor.id]
    # a reset gives the supervisor a new key pair, registered later in the chain; a form signed with it is
    # checked against the new key (the kept keys are read again), the old one still against the old key
    users.reset_password(ctx, supervisor.username, "another-pass-2026")
    plan = v.add_manual_plan(cctx, office["a"].id, "满意度", "电话", DAY)
    new = v.record_visit(
        cctx,
        v.prefill_record(cctx, plan.id).to_draft(
            result="成功", satisfaction="满意", visited_at="2026-11-24 10:00", feedback="很好"
        ),
    )
    review.sign(ctx.as_user(supervisor), "回访记录表", new.id, "同意", password="another-pass-2026")
    assert "签字后被修改" not in pages_text(p.visit_record_pdf(cctx, new.id).pdf)[0]
    assert "签字后被修改" not in pages_text(p.visit_record_pdf(cctx, old_id).pdf)[0]
    assert reads == [supervisor.id, supervisor.id]


def test_printing_a_record_changed_after_signing_says_so_alone_and_in_a_batch(
    ctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo, office: dict[str, Any]
) -> None:
    record_id = office["record"].id
    _sign(ctx, record_id, supervisor)
    plan = v.add_manual_plan(cctx, office["a"].id, "满意度", "电话", DAY)
    other = v.record_visit(
        cctx, v.prefill_record(cctx, plan.id).to_draft(result="未接通", visited_at="2026-11-24 09:00")
    )
    assert "签字后被修改" not in pages_text(p.visit_record_pdf(cctx, record_id).pdf)[0]
    with ctx.sessions() as s, s.begin():  # outside the program, straight into the table
        s.execute(update(VisitRecord).where(VisitRecord.id == record_id).values(feedback="悄悄改过"))
    alone = pages_text(p.visit_record_pdf(cctx, record_id).pdf)
    assert "签字无效" in alone[0] and "签字后被修改" in alone[0] and "悄悄改过" in "".join(alone)
    batch = pages_text(p.visit_records_pdf(cctx, [record_id, other.id]).pdf)
    assert batch[: len(alone)] == alone and len(batch) == len(alone) + 1
    assert "签字后被修改" not in batch[-1] and "草稿" in batch[-1] and "未接通" in batch[-1]


def test_printing_settings_read_together_and_a_damaged_row_is_refused(
    ctx: ServiceContext, cctx: ServiceContext, office: dict[str, Any]
) -> None:
    from huifang_desktop.services.errors import ServiceError
    from huifang_desktop.services.settings import values_in
    from huifang_desktop.storage.models import Setting

    with ctx.sessions() as s:
        assert values_in(s, ["print_options", "no_such_key"]) == {}  # never saved: missing, not None
    with ctx.sessions() as s, s.begin():  # damaged outside the program: a list, not a set of settings
        row = s.get(Setting, "office")
        if row is None:
            s.add(Setting(key="office", value="[1, 2]"))
        else:
            row.value = "[1, 2]"
    with pytest.raises(ServiceError, match="办公设置已损坏"):  # not printed under the default visibility
        p.visit_record_pdf(cctx, office["record"].id)


def test_printing_reads_the_company_and_print_options_stored_now(
    ctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo, office: dict[str, Any]
) -> None:
    boss = ctx.as_user(supervisor)
    save_settings(boss, replace(load_settings(ctx), company="宁波甬江精工有限公司"))
    p.save_print_options(boss, p.PrintOptions(watermark_unsigned=False))
    (text,) = pages_text(p.visit_record_pdf(cctx, office["record"].id).pdf)
    assert "宁波甬江精工有限公司" in text and "草稿" not in text


def test_printing_phone_visit_prints_phone_instead_of_a_customer_signature(
    cctx: ServiceContext, office: dict[str, Any]
) -> None:
    plan = v.add_manual_plan(cctx, office["a"].id, "满意度", "电话", DAY)
    draft = v.prefill_record(cctx, plan.id).to_draft(result="未接通", visited_at="2026-11-24 09:00")
    rec = v.record_visit(cctx, draft)
    (text,) = pages_text(p.visit_record_pdf(cctx, rec.id).pdf)
    assert "电话回访" in text and "已签字" not in text


def test_printing_blank_form_pre_prints_customer_and_contact_and_no_result(
    cctx: ServiceContext, office: dict[str, Any], layouts: list[Any]
) -> None:
    doc = p.blank_visit_record_pdf(cctx, office["plan_a"].id)
    assert doc.pages == 1
    (text,) = pages_text(doc.pdf)
    for value in ("杭州远纳运输有限公司", "KH000001", "张倩", "1519974", "3456"):
        assert value in text, value
    assert "HF2026" not in text and "草稿" not in text  # no number, no watermark
    assert "回访人小王" in text  # the plan's owner is pre-printed as 回访人 …
    assert "回访人签字签名：日期：" in text  # … but not on the signature line: that is signed by hand
    assert "年月日时分" in text  # 回访时间 left to fill in by hand
    (layout,) = layouts
    assert _box(layout, "visitor").texts == ("小王",) and _box(layout, "method").ticked == ("电话",)
    values = _blank_values(*_plan_and_customer(cctx, office["plan_a"].id), owner="小王")
    assert values["visit_type"] == "例行" and values["planned_on"] == DAY
    assert values["visitor"] == "小王" and values["method"] == "电话"
    assert values["customer_address"] == "杭州市西湖区文三路 388 号"
    for field in ("result", "satisfaction", "visited_at", "content", "feedback", "customer_signed"):
        assert values.get(field) is None, field
    assert doc.file_name == "回访记录表_空白_KH000001_20261124.pdf"


@pytest.fixture
def layouts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every form layout the renderer makes while the test runs (what each field printed, what is ticked)."""
    from huifang_desktop.printing import render

    made: list[Any] = []
    real = render.layout_form

    def watched(*args: Any, **kwargs: Any) -> Any:
        layout = real(*args, **kwargs)
        made.append(layout)
        return layout

    monkeypatch.setattr(render, "layout_form", watched)
    return made


def _box(layout: Any, name: str) -> Any:
    return next(f for page in layout.pages for f in page.fields if f.field == name)


def _plan_and_customer(ctx: ServiceContext, plan_id: int) -> tuple[Any, Any]:
    from huifang_desktop.storage.models import Customer

    with ctx.sessions() as s:
        plan = s.get(VisitPlan, plan_id)
        assert plan is not None
        return plan, s.get(Customer, plan.customer_id)


def test_printing_blank_form_of_a_cancelled_plan_is_refused(
    cctx: ServiceContext, office: dict[str, Any]
) -> None:
    v.cancel_plan(cctx, office["plan_a"].id, "客户停业")
    with pytest.raises(ValidationError, match="已取消"):
        p.blank_visit_record_pdf(cctx, office["plan_a"].id)


def test_printing_plan_form_is_the_record_once_visited(cctx: ServiceContext, office: dict[str, Any]) -> None:
    assert office["record"].number in pages_text(p.plan_form_pdf(cctx, office["plan_b"].id).pdf)[0]
    assert "HF2026" not in pages_text(p.plan_form_pdf(cctx, office["plan_a"].id).pdf)[0]


def test_printing_other_departments_records_are_refused_when_visibility_is_limited(
    ctx: ServiceContext, cctx: ServiceContext, clerk2: UserInfo, supervisor: UserInfo, office: dict[str, Any]
) -> None:
    save_settings(ctx, replace(load_settings(ctx), visibility="department"))
    other = ctx.as_user(clerk2)  # 销售部; the customers belong to 客服部
    with pytest.raises(PermissionDenied):
        p.visit_record_pdf(other, office["record"].id)
    with pytest.raises(PermissionDenied):
        p.blank_visit_record_pdf(other, office["plan_a"].id)
    with pytest.raises(PermissionDenied):  # in a batch too
        p.visit_records_pdf(other, [office["record"].id])
    assert p.visit_record_pdf(cctx, office["record"].id).pages == 1


def test_printing_numbers_of_another_department_read_as_not_found(
    ctx: ServiceContext, cctx: ServiceContext, clerk2: UserInfo, office: dict[str, Any]
) -> None:
    from huifang_desktop.services.errors import NotFound

    record = office["record"]
    report = v.save_report(cctx, v.draft_report(cctx, cctx.user.id, DAY, DAY), "按计划完成。", "", "")
    assert p.record_id_of(cctx, record.number) == record.id == p.record_id_of(cctx, str(record.id))
    assert p.report_id_of(cctx, f" {report.number.lower()} ") == report.id
    save_settings(ctx, replace(load_settings(ctx), visibility="department"))
    other = ctx.as_user(clerk2)  # 销售部; the customers and the report belong to 客服部
    messages = []
    for resolve, asked in (
        (p.record_id_of, record.number),
        (p.record_id_of, "HF19990101-001"),
        (p.record_id_of, str(record.id)),
        (p.report_id_of, report.number),
        (p.report_id_of, "BG19990101-001"),
    ):
        with pytest.raises(NotFound) as caught:
            resolve(other, asked)
        messages.append(str(caught.value).replace(asked, "#"))
    assert messages == ["没有编号为 # 的回访记录。"] * 3 + ["没有编号为 # 的回访报告。"] * 2
    assert p.record_id_of(cctx, record.number) == record.id


# --- audit and files ---------------------------------------------------------------------------------------


def test_printing_a_preview_is_not_logged_but_each_output_is(
    cctx: ServiceContext, office: dict[str, Any], tmp_path: Path
) -> None:
    doc = p.visit_record_pdf(cctx, office["record"].id)
    assert audit_rows(cctx) == []
    target = p.save_pdf(cctx, doc, tmp_path / "记录.pdf")
    assert target.read_bytes() == doc.pdf
    p.log_output(cctx, doc, p.OUTPUT_PRINTER, "HP LaserJet")
    p.blank_visit_record_pdf(cctx, office["plan_a"].id, tmp_path / "空白.pdf")  # out=: written and logged
    rows = audit_rows(cctx)
    assert [(r.username, r.entity, r.entity_id) for r in rows] == [
        ("xiaowang", "visit_record", office["record"].id),
        ("xiaowang", "visit_record", office["record"].id),
        ("xiaowang", "visit_plan", office["plan_a"].id),
    ]
    assert rows[0].label == f"{office['record'].number} KH000002 上海宏达机械制造有限公司"
    first, second, third = (json.loads(r.new or "{}") for r in rows)
    assert first == {
        "form": "回访记录表",
        "pages": 1,
        "output": "PDF 文件",
        "target": str(tmp_path / "记录.pdf"),
    }
    assert (second["output"], second["target"]) == ("打印机", "HP LaserJet")
    assert third["form"] == "回访记录表" and third["pages"] == 1
    assert PdfReader(tmp_path / "空白.pdf").pages[0].extract_text()


def test_printing_write_errors_name_the_file_and_leave_nothing(
    cctx: ServiceContext, office: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = p.visit_record_pdf(cctx, office["record"].id)
    missing = tmp_path / "没有这个文件夹" / "记录.pdf"
    with pytest.raises(p.PrintError, match="文件夹不存在") as err:
        p.save_pdf(cctx, doc, missing)
    assert str(missing) in str(err.value)
    with pytest.raises(p.PrintError, match="这是一个文件夹"):
        p.save_pdf(cctx, doc, tmp_path)

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(p.PrintError, match="磁盘空间不足"):
        p.save_pdf(cctx, doc, out / "记录.pdf")
    assert list(out.iterdir()) == []  # neither the file nor its .part
    assert audit_rows(cctx) == []


def test_printing_uses_the_offices_template_override(
    cctx: ServiceContext, office: dict[str, Any], tmp_path: Path
) -> None:
    text = (forms_dir() / "visit_record.toml").read_text(encoding="utf-8")
    (tmp_path / "visit_record.toml").write_text(
        text.replace('title = "回访记录表"', 'title = "客户回访单"'), encoding="utf-8"
    )
    doc = p.visit_record_pdf(cctx, office["record"].id, forms_dir=tmp_path)
    assert "客户回访单" in pages_text(doc.pdf)[0] and doc.form == "客户回访单"
    (tmp_path / "visit_record.toml").write_text("[form]\ntitle = 3\n", encoding="utf-8")
    with pytest.raises(p.PrintError, match="visit_record.toml"):
        p.visit_record_pdf(cctx, office["record"].id, forms_dir=tmp_path)


# --- the day's batch ---------------------------------------------------------------------------------------


def test_printing_day_batch_prints_one_form_per_plan_filled_or_blank(
    cctx: ServiceContext, office: dict[str, Any]
) -> None:
    cancelled = v.add_manual_plan(cctx, office["a"].id, "节日", "短信", DAY)
    v.cancel_plan(cctx, cancelled.id, "重复安排")
    v.add_manual_plan(cctx, office["a"].id, "到货", "上门", DAY + timedelta(days=1))  # another day
    steps: list[tuple[int, int]] = []
    doc = p.day_plans_pdf(cctx, DAY, progress=lambda done, total: steps.append((done, total)))
    assert doc.pages == 3 and steps == [(0, 3), (1, 3), (2, 3), (3, 3)]  # a cover sheet, then the forms
    cover, blank, filled = pages_text(doc.pdf)
    assert "回访任务单" in cover and "小王" in cover and "2份" in cover
    assert "杭州远纳运输有限公司" in blank and "HF2026" not in blank and "草稿" not in blank
    assert office["record"].number in filled and "上海宏达机械制造有限公司" in filled and "草稿" in filled
    assert doc.detail == {
        "day": "2026-11-24",
        "plans": [office["plan_a"].id, office["plan_b"].id],
        "records": [office["record"].id],
        "blank": 1,
        "clerks": 1,
    }
    assert doc.file_name == "回访记录表_20261124.pdf"
    with pytest.raises(ValidationError, match="没有要打印的回访计划"):
        p.day_plans_pdf(cctx, DAY + timedelta(days=3))


def test_printing_day_batch_cancel_stops_early_and_writes_nothing(
    cctx: ServiceContext, office: dict[str, Any], tmp_path: Path
) -> None:
    steps: list[int] = []
    with pytest.raises(p.PrintCancelled):
        p.day_plans_pdf(
            cctx,
            DAY,
            progress=lambda done, _total: steps.append(done),
            cancelled=lambda: bool(steps) and steps[-1] >= 1,
            out=tmp_path / "batch.pdf",
        )
    assert steps == [0, 1]
    assert not (tmp_path / "batch.pdf").exists() and audit_rows(cctx) == []


def test_printing_day_batch_follows_the_owner_filter(
    cctx: ServiceContext, ctx: ServiceContext, clerk2: UserInfo, office: dict[str, Any]
) -> None:
    assert p.day_plans_pdf(cctx, DAY, cctx.user.id).pages == 3
    with pytest.raises(ValidationError):
        p.day_plans_pdf(cctx, DAY, clerk2.id)


def test_printing_day_batch_is_a_stack_per_clerk_with_a_cover_sheet(
    ctx: ServiceContext,
    cctx: ServiceContext,
    supervisor: UserInfo,
    clerk2: UserInfo,
    office: dict[str, Any],
    layouts: list[Any],
) -> None:
    """Plans of three clerks made in mixed order print grouped by clerk (小李 before 小王 by pinyin, the
    unassigned last), each group after a cover sheet listing its visits; each blank form pre-prints its
    plan's owner as 回访人 and ticks the planned method."""
    sup = ctx.as_user(supervisor)
    c = register_customer(
        cctx,
        CustomerDraft(
            name="宁波港联物流有限公司", contacts=(ContactDraft(name="陈静", mobile="13700001111"),)
        ),
    )
    li_1 = v.add_manual_plan(sup, c.id, "满意度", "上门", DAY, owner_id=clerk2.id)
    nobody = v.add_manual_plan(sup, c.id, "节日", "短信", DAY)
    with ctx.sessions() as s, s.begin():
        s.execute(update(VisitPlan).where(VisitPlan.id == nobody.id).values(owner_id=None))
    li_2 = v.add_manual_plan(sup, office["a"].id, "到货", "微信", DAY, owner_id=clerk2.id)
    doc = p.day_plans_pdf(sup, DAY)
    assert doc.detail["plans"] == [li_2.id, li_1.id, office["plan_a"].id, office["plan_b"].id, nobody.id]
    assert doc.detail["clerks"] == 3
    texts = pages_text(doc.pdf)
    covers = [i for i, t in enumerate(texts) if "回访任务单" in t]
    assert covers == [0, 3, 6]
    assert "小李" in texts[0] and "2份" in texts[0]
    assert texts[0].index("杭州远纳运输有限公司") < texts[0].index("宁波港联物流有限公司")  # by customer code
    assert "陈静" in texts[0] and "1370000" in texts[0] and "满意度" in texts[0] and "上门" in texts[0]
    assert "小王" in texts[3] and "（未指定回访人）" in texts[6]
    forms = [lo for lo in layouts if lo.template.name == "visit_record"]
    blank = [lo for lo in forms if not lo.number]
    assert [(_box(lo, "visitor").texts, _box(lo, "method").ticked) for lo in blank] == [
        (("小李",), ("微信",)),
        (("小李",), ("上门",)),
        (("小王",), ("电话",)),
        ((), ("短信",)),
    ]


# --- 回访报告表 -------------------------------------------------------------------------------------------


def test_printing_report_counts_visits_by_type_and_result(
    cctx: ServiceContext, office: dict[str, Any]
) -> None:
    draft = v.draft_report(cctx, cctx.user.id, DAY, DAY)
    report = v.save_report(cctx, draft, "按计划完成。", draft.problems_text, "转售后服务部处理")
    doc = p.visit_report_pdf(cctx, report.id)
    (text,) = pages_text(doc.pdf)
    for value in (
        "回访报告表",
        report.number,
        "小王",
        "2026-11-24",
        "回访统计",
        "例行回访",
        "使用回访",
        "冷却泵异响",
        "转售后服务部处理",
        "按计划完成。",
        "满意1次",
        "满意率100.0%",
        "草稿",
    ):
        assert value in text, value
    # rows: type, planned, done, success, no answer, refused/unreachable, again; then the totals row
    assert "例行回访100000" in text and "使用回访111000" in text and "合计211000" in text
    assert (doc.entity, doc.entity_id) == ("visit_report", report.id)
    assert doc.file_name == f"回访报告表_{report.number}.pdf"


def test_printing_signed_report_and_a_draft_report(
    ctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo, clerk2: UserInfo, office: dict[str, Any]
) -> None:
    draft = v.draft_report(cctx, cctx.user.id, DAY, DAY)
    unsaved = p.report_draft_pdf(cctx, draft, "草拟的评价")
    (text,) = pages_text(unsaved.pdf)
    assert "草稿" in text and "草拟的评价" in text and "BG2026" not in text
    report = v.save_report(cctx, draft, "按计划完成。", "", "")
    from huifang_desktop.services import review

    review.sign(
        ctx.as_user(supervisor), "回访报告表", report.id, "未接通的客户换个时段再拨。", password=PASSWORD
    )
    (text,) = pages_text(p.visit_report_pdf(ctx.as_user(supervisor), report.id).pdf)
    assert "草稿" not in text and "已审阅" in text and "李主管2026-11-24" in text
    assert "未接通的客户换个时段再拨。" in text and "签字无效" not in text
    # changed after signing, even outside the program: the printout says so
    with ctx.sessions() as s, s.begin():
        s.execute(update(VisitReport).where(VisitReport.id == report.id).values(evaluation="悄悄改过"))
    (text,) = pages_text(p.visit_report_pdf(ctx.as_user(supervisor), report.id).pdf)
    assert "签字无效" in text and "签字后被修改" in text
    with pytest.raises(PermissionDenied):
        p.visit_report_pdf(ctx.as_user(clerk2), report.id)


# --- the ledger --------------------------------------------------------------------------------------------


def test_printing_ledger_is_landscape_with_headers_and_totals_on_every_page(
    cctx: ServiceContext, office: dict[str, Any]
) -> None:
    with cctx.sessions() as s, s.begin():  # 80 more plans in November: several pages
        for k in range(80):
            due = date(2026, 11, 2) + timedelta(days=k % 25)
            s.add(
                VisitPlan(
                    customer_id=office["a"].id,
                    source_key=f"test:{k}",
                    rule_key="manual",
                    visit_type="例行",
                    method="电话",
                    earliest=due,
                    due=due,
                    owner_id=cctx.user.id,
                    attempt=1,
                    state="待回访",
                    cancel_reason="",
                    manual=True,
                    created_at=datetime(2026, 11, 1),
                )
            )
    doc = ledgers.visit_ledger_pdf(cctx, date(2026, 11, 1), date(2026, 11, 30))
    sizes = page_sizes(doc.pdf)
    assert doc.pages == len(sizes) >= 3
    assert all(w > h for w, h in sizes)  # landscape A4
    texts = pages_text(doc.pdf)
    for text in texts:
        assert "编号客户编号客户名称" in text and "已回访" in text and "本页合计" in text
    assert sum("本页合计1" in t for t in texts) == 1  # the one visit made; the other pages count 0
    assert sum("本页合计0" in t for t in texts) == len(texts) - 1
    assert texts[-1].endswith("总计1") or "总计1" in texts[-1].replace("本页合计", "")
    assert "共82条，已回访1条" in texts[0]
    assert sum("HF20261124-001" in t for t in texts) == 1
    assert doc.file_name == "回访台账_20261101_20261130.pdf" and doc.detail["rows"] == 82
    with cctx.sessions() as s:
        printed = select(func.count()).select_from(AuditLog).where(AuditLog.action == "打印")
        assert s.execute(printed).scalar() == 0


def test_printing_ledger_needs_business_rights_and_sane_dates(
    ctx: ServiceContext, cctx: ServiceContext, admin: UserInfo, office: dict[str, Any]
) -> None:
    with pytest.raises(PermissionDenied):
        ledgers.visit_ledger_pdf(ctx.as_user(admin))
    with pytest.raises(ValidationError, match="不能早于开始日期"):
        ledgers.visit_ledger_pdf(cctx, date(2026, 11, 30), date(2026, 11, 1))
    with pytest.raises(p.PrintCancelled):
        ledgers.visit_ledger_pdf(cctx, progress=None, cancelled=lambda: True)


def test_printing_options_round_trip_and_limit_the_ledger(
    ctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo, office: dict[str, Any]
) -> None:
    options = p.PrintOptions(watermark_unsigned=False, ledger_max_rows=1)
    assert p.PrintOptions.from_dict(options.to_dict()) == options
    with pytest.raises(PermissionDenied):
        p.save_print_options(cctx, options)
    p.save_print_options(ctx.as_user(supervisor), options)
    assert p.load_print_options(cctx) == options
    assert "草稿" not in pages_text(p.visit_record_pdf(cctx, office["record"].id).pdf)[0]
    with pytest.raises(ValidationError, match="超过 1 行"):
        ledgers.visit_ledger_pdf(cctx, DAY, DAY)
    with pytest.raises(ValidationError):
        p.PrintOptions(ledger_max_rows=0)


# --- 投诉处理表 -------------------------------------------------------------------------------------------


def test_printing_complaint_form_with_history_and_signatures(
    ctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo, office: dict[str, Any]
) -> None:
    from huifang_desktop.services import complaints as cs
    from huifang_desktop.services import review

    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="冷却泵异响",
            complainant="王建国",
            phone="13812345678",
            category="维修",
            customer_id=office["b"].id,
            content="夜班异响",
        ),
    )
    cs.accept(cctx, d.id)
    assert "草稿" in "".join(pages_text(p.complaint_pdf(cctx, d.id).pdf))  # open, not signed off
    cs.save_handling(cctx, d.id, cs.HandlingDraft(investigation="轴承磨损", result="已更换轴承"))
    cs.finish_handling(cctx, d.id)
    workflow.record_closing_visit(cctx, d.id, cs.ClosingVisitDraft(satisfaction="满意"))
    text = "".join(pages_text(p.complaint_pdf(cctx, d.id).pdf))
    for value in (
        "投诉处理表",
        d.number,
        "冷却泵异响",
        "王建国",
        "轴承磨损",
        "已更换轴承",
        "办结转回访",
        "关闭",
        "满意",
    ):
        assert value in text, value
    assert "草稿" not in text  # closed: the form is final, signed off or not
    review.sign(ctx.as_user(supervisor), "投诉处理表", d.id, "处理得当", password=PASSWORD)
    doc = p.complaint_pdf(cctx, d.id, out=None)
    text = "".join(pages_text(doc.pdf))
    assert "草稿" not in text and "李主管" in text and "已审阅" in text
    assert doc.file_name == f"投诉处理表_{d.number}.pdf"


# --- form details (issue 22) ---------------------------------------------------------------------------------


def test_printing_onsite_customer_signature_is_blank_to_sign_unless_the_record_says_signed(
    cctx: ServiceContext, office: dict[str, Any], layouts: list[Any]
) -> None:
    p.visit_record_pdf(cctx, office["record"].id)  # 上门, the customer signed
    signed = layouts[-1]
    assert _box(signed, "customer_signed").texts == ("已签字",)
    assert _box(signed, "customer_signed_on").texts == ("2026-11-24",)  # with the date, not 年 月 日
    # not signed yet (the form as typed, before the customer signs): a blank line and 年 月 日 to fill in
    draft = v.prefill_record(cctx, office["plan_a"].id).to_draft(
        result="成功",
        method="上门",
        visited_at="2026-11-24 09:00",
        satisfaction="满意",
        customer_signed=False,
    )
    doc = p.draft_visit_record_pdf(cctx, draft)
    layout = layouts[-1]
    assert _box(layout, "customer_signed").texts == ()
    assert not [f for page in layout.pages for f in page.fields if f.field == "customer_signed_on"]
    (text,) = pages_text(doc.pdf)
    assert "客户签字签名：日期：年月日" in text and "已签字" not in text


def test_printing_returned_record_prints_its_return_reason(
    ctx: ServiceContext, cctx: ServiceContext, supervisor: UserInfo, office: dict[str, Any]
) -> None:
    from huifang_desktop.services import review

    review.return_for_rework(
        ctx.as_user(supervisor), "回访记录表", office["record"].id, "请补充客户的具体意见"
    )
    (text,) = pages_text(p.visit_record_pdf(cctx, office["record"].id).pdf)
    assert "主管审阅意见退回修改：请补充客户的具体意见" in text and "草稿" in text


def test_printing_report_has_a_line_for_the_clerks_signature(
    cctx: ServiceContext, office: dict[str, Any]
) -> None:
    report = v.save_report(cctx, v.draft_report(cctx, cctx.user.id, DAY, DAY), "按计划完成。", "", "")
    text = "".join(pages_text(p.visit_report_pdf(cctx, report.id).pdf))
    assert "回访人签字签名：日期：年月日" in text


def test_printing_complaint_prints_the_reply_and_the_offices_satisfaction_scale(
    ctx: ServiceContext, cctx: ServiceContext, office: dict[str, Any], layouts: list[Any]
) -> None:
    from huifang_desktop.services import complaints as cs

    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="送货延误",
            complainant="王建国",
            phone="13812345678",
            category="交付物流",
            customer_id=office["b"].id,
        ),
    )
    cs.accept(cctx, d.id)
    cs.save_handling(
        cctx,
        d.id,
        cs.HandlingDraft(
            result="补发到货",
            reply_way="电话",
            replied_at="2026-11-24 10:00",
            reply_text="已向客户致歉，承诺下批货提前两天发出。",
        ),
    )
    text = "".join(pages_text(p.complaint_pdf(cctx, d.id).pdf))
    assert "答复内容已向客户致歉，承诺下批货提前两天发出。" in text
    assert "客户满意度很满意满意一般不满意很不满意" in text  # five levels, as configured by default
    policy.save_scale(ctx, "ten_point")
    p.complaint_pdf(cctx, d.id)
    p.visit_record_pdf(cctx, office["record"].id)
    complaint, record = layouts[-2:]
    for layout, field in ((complaint, "satisfaction"), (record, "satisfaction")):
        page_text = "".join(t[2] for page in layout.pages for t in page.texts)
        assert "10987654321" in page_text.replace(" ", ""), field


def test_printing_record_qr_code_reads_back_as_its_number(
    cctx: ServiceContext, office: dict[str, Any], tmp_path: Path
) -> None:
    """A printed record's QR code (page 1 at 150 dpi, zxing-cpp) gives its 编号 back, its check verified."""
    import subprocess

    from PIL import Image

    from huifang_desktop.domain import formcode

    zxingcpp = pytest.importorskip("zxingcpp")
    (tmp_path / "r.pdf").write_bytes(p.visit_record_pdf(cctx, office["record"].id).pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "r.pdf"), str(tmp_path / "r")],
        check=True,
    )
    with Image.open(tmp_path / "r.png") as image:
        (code,) = [r.text for r in zxingcpp.read_barcodes(image)]
    assert formcode.parse(code) == office["record"].number
