"""Importing the office's own Excel ledgers: reading, preview, the validation report, the write (real temp DB).

The workbooks are built here as offices keep them: a title row merged across the sheet, a blank row above
the header, full-width digits, two phones in one cell, dates as Chinese text and Excel serials, 甲类, a 合计
row, an empty row, duplicates within the sheet and against the database, a bad phone, 2026-02-30.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services import importing
from huifang_desktop.services.customers import get_customer_by_code, register_customer
from huifang_desktop.services.errors import PermissionDenied, ServiceError
from huifang_desktop.services.importing import ColumnMapping, ImportTarget, IssueKind, WorkbookError
from huifang_desktop.services.settings import get_value
from huifang_desktop.storage.models import (
    AuditLog,
    Complaint,
    ComplaintEvent,
    Contact,
    Counter,
    Customer,
    VisitPlan,
    VisitRecord,
)

CUSTOMER_HEADER = [
    "序号",
    "客户名称",
    "联系人",
    "联系电话",
    "地址",
    "客户等级",
    "建档日期",
    "负责人",
    "年采购量",
    "备注",
]


def ugly_customer_workbook(path: Path, *, fix: bool = False) -> Path:
    """A 客户台账 as an office keeps it. Data rows (sheet rows): 5 张三 (full-width phone, 甲类, Chinese date),
    6 杭州宏达 (two phones, Excel serial date), 7 李四 (bad phone 12345, 2026-02-30), 8 empty, 9 王五 (same
    phone as row 5), 10 老客户 (phone already in the database), 11 赵六 (十二 units, no grade), 12 合计.
    ``fix=True``: the clerk corrected row 7 in Excel (the retry)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "客户台账"
    ws["A1"] = "杭州某某汽车贸易有限公司 客户台账（2026 年）"
    ws.merge_cells("A1:J1")
    ws["A2"] = "制表：客服部"
    ws.merge_cells("A2:C2")
    # row 3 blank
    for col, name in enumerate(CUSTOMER_HEADER, start=1):
        ws.cell(row=4, column=col, value=name)
    rows: list[list[Any]] = [
        [
            1,
            "张三",
            "",
            "１３８１２３４５６７８",
            "杭州市西湖区文三路 1 号",
            "甲类",
            "2026年3月5日",
            "小王",
            "",
            "老客户",
        ],
        [
            2,
            "杭州宏达物流有限公司",
            "王经理",
            "13912345678/0571-88886666",
            "杭州市滨江区江南大道 8 号",
            "b",
            46086,
            "",
            "",
            "",
        ],
        [
            3,
            "李四",
            "",
            "18712345678" if fix else "12345",
            "",
            "A类",
            "2026-03-01" if fix else "2026-02-30",
            "",
            "",
            "",
        ],
        [],
        [4, "王五", "", "13812345678", "杭州市上城区", "C", "2026/03/05", "", "", ""],
        [5, "老客户车队", "陈师傅", "13700001111", "杭州市萧山区", "D", "26-3-5", "", "", ""],
        [6, "赵六", "", "13600002222", "杭州市余杭区", "", "2026.3.5", "", "十二", ""],
        ["合计", None, None, None, None, None, None, None, None, "6 户"],
    ]
    for offset, values in enumerate(rows):
        for col, value in enumerate(values, start=1):
            ws.cell(row=5 + offset, column=col, value=value)
    wb.save(path)
    return path


@pytest.fixture
def existing(ctx, clerk):
    """One customer already in the database with phone 13700001111."""
    return register_customer(
        ctx.as_user(clerk),
        CustomerDraft(
            name="老客户车队（旧档）",
            address="别处",
            contacts=(ContactDraft(name="陈师傅", mobile="13700001111"),),
        ),
    )


def _validate(ctx, path: Path, target: ImportTarget = ImportTarget.CUSTOMERS, sheet: str | None = None):
    p = importing.preview(ctx, path, sheet, target)
    assert p.header_row is not None, p.message
    return p, importing.validate(ctx, path, p.sheet, target, ColumnMapping(p.header_row, p.mapping))


def _issues(report) -> list[tuple[int, str, str, str]]:
    return [(i.row, i.column, i.kind.value, i.message) for i in report.issues]


# --- reading and preview ------------------------------------------------------------------------------------


def test_preview_finds_the_header_below_title_merged_cells_and_a_blank_row(ctx, clerk, tmp_path):
    path = ugly_customer_workbook(tmp_path / "客户台账.xlsx")
    p = importing.preview(ctx.as_user(clerk), path)
    assert p.sheet_names == ("客户台账",)
    assert p.header_row == 4 and p.detected
    assert p.rows[0][0].startswith("杭州某某汽车贸易有限公司") and p.rows[3][1] == "客户名称"
    assert p.mapping == {
        "name": 1,
        "contact": 2,
        "phone": 3,
        "address": 4,
        "grade": 5,
        "created_on": 6,
        "owner": 7,
        "volume": 8,
        "notes": 9,
    }
    assert p.message == ""


def test_preview_prefers_the_offices_saved_mapping(ctx, clerk, tmp_path):
    cctx = ctx.as_user(clerk)
    path = ugly_customer_workbook(tmp_path / "c.xlsx")
    # this office writes the contact's phone under 备注 (odd, but theirs) and keeps notes nowhere
    importing.save_mapping(cctx, ImportTarget.CUSTOMERS, {"phone": "备注", "name": "客户名称"})
    assert get_value(cctx, "import_mapping.customers") == {"phone": "备注", "name": "客户名称"}
    p = importing.preview(cctx, path)
    assert p.mapping["phone"] == 9 and "notes" not in p.mapping
    assert set(p.from_saved) == {"phone", "name"}
    [log] = [a for a in _audits(ctx) if a.action == "保存导入列对应"]
    assert log.username == "xiaowang"


def test_preview_of_a_sheet_without_a_recognisable_header_says_so(ctx, clerk, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["随便写的", "一些数字"])
    ws.append([1, 2])
    wb.create_sheet("空表")
    wb.save(tmp_path / "x.xlsx")
    p = importing.preview(ctx.as_user(clerk), tmp_path / "x.xlsx")
    assert p.header_row is None and p.mapping == {}
    assert "没有找到表头行" in p.message and "客户名称" in p.message
    empty = importing.preview(ctx.as_user(clerk), tmp_path / "x.xlsx", "空表")
    assert "是空的" in empty.message


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("坏文件.xlsx", os.urandom(2048), "不是有效的 Excel 文件"),
        ("zip.xlsx", b"PK\x03\x04" + os.urandom(500), "不是有效的 Excel 文件"),
        ("加密.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(500), "设置了打开密码"),
        ("旧版.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(500), "另存为"),
        ("文档.docx", b"PK\x03\x04", "不是 Excel 工作簿"),
    ],
)
def test_read_workbook_broken_or_foreign_files_give_a_clear_message_naming_the_file(
    tmp_path, name, content, expected
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WorkbookError) as exc:
        importing.read_workbook(path)
    assert name in str(exc.value) and expected in str(exc.value)


def test_read_workbook_missing_file_and_xls_advice(tmp_path):
    with pytest.raises(WorkbookError, match="找不到文件“无.xlsx”"):
        importing.read_workbook(tmp_path / "无.xlsx")
    (tmp_path / "a.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    with pytest.raises(WorkbookError, match=r"Excel 工作簿 \(\*\.xlsx\)"):
        importing.read_workbook(tmp_path / "a.xls")


def test_validate_refuses_a_sheet_larger_than_the_office_limit(ctx, clerk, tmp_path):
    from huifang_desktop.services.settings import set_value

    set_value(ctx, "import_rules", {"max_rows": 5, "header_scan_rows": 3}, what="导入设置")
    wb = Workbook()
    ws = wb.active
    ws.append(["客户名称", "电话"])
    for i in range(20):
        ws.append([f"客户{i}", f"138000000{i:02d}"])
    wb.save(tmp_path / "big.xlsx")
    p = importing.preview(ctx.as_user(clerk), tmp_path / "big.xlsx")
    with pytest.raises(WorkbookError, match="超过 5 行.*分成几个文件"):
        importing.validate(
            ctx.as_user(clerk),
            tmp_path / "big.xlsx",
            None,
            ImportTarget.CUSTOMERS,
            ColumnMapping(p.header_row, p.mapping),
        )


def test_read_workbook_reads_gbk_csv(ctx, clerk, tmp_path):
    path = tmp_path / "客户.csv"
    path.write_bytes("客户名称,联系电话\n张三,13812345678\n".encode("gb18030"))
    wb = importing.read_workbook(path)
    assert wb.sheets[0].rows == (("客户名称", "联系电话"), ("张三", "13812345678"))
    p = importing.preview(ctx.as_user(clerk), path)
    assert p.header_row == 1 and p.mapping == {"name": 0, "phone": 1}


# --- validation -------------------------------------------------------------------------------------------


def test_validate_names_each_bad_row_by_sheet_row_column_and_reason(ctx, clerk, existing, tmp_path):
    path = ugly_customer_workbook(tmp_path / "c.xlsx")
    _p, report = _validate(ctx.as_user(clerk), path)
    assert _issues(report) == [
        (7, "D", "错误", "“12345”不是有效的手机号码（应为 11 位，以 13–19 开头）"),
        (7, "G", "错误", "“2026-02-30”不是存在的日期"),
        (9, "D", "重复", "与第 5 行重复（电话 138 1234 5678 相同）"),
        (10, "D", "重复", f"与已有客户 {existing.code} 老客户车队（旧档） 重复（电话 137 0000 1111 相同）"),
    ]
    assert (
        str(report.issues[0])
        == "第 7 行 D列（联系电话）：“12345”不是有效的手机号码（应为 11 位，以 13–19 开头）"
    )
    assert [c.row for c in report.valid] == [5, 6, 11]
    assert (report.data_rows, report.error_rows, report.duplicate_rows, report.valid_count) == (6, 1, 2, 3)
    assert (report.skips.empty, report.skips.totals) == (1, 1)
    assert "可导入 3 行，有问题 1 行，重复 2 行" in report.summary() and "合计行 1 行" in report.summary()


def test_validate_normalises_full_width_digits_phones_dates_classes_and_chinese_numbers(ctx, clerk, tmp_path):
    path = ugly_customer_workbook(tmp_path / "c.xlsx")
    _p, report = _validate(ctx.as_user(clerk), path)
    zhang, hongda, _old, zhao = report.valid
    assert zhang.clean.contacts[0].mobile == "13812345678"  # １３８… full width
    assert zhang.grade == "A" and zhang.clean.created_on == date(2026, 3, 5) and zhang.clean.kind == "个人"
    assert zhang.clean.owner_id == clerk.id and zhang.clean.contacts[0].name == "张三"
    assert [(k.mobile, k.phone) for k in hongda.clean.contacts] == [("13912345678", "057188886666")]
    assert hongda.grade == "B" and hongda.clean.created_on == date(2026, 3, 5)  # serial 46086
    assert hongda.clean.kind == "单位" and hongda.clean.contacts[0].name == "王经理"
    assert zhao.annual_volume == 12 and zhao.grade == "C"  # 十二 units → C by the office's thresholds


def test_validate_unknown_owner_is_listed_and_category_is_reported(ctx, clerk, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["客户名称", "电话", "业务员", "客户类别"])
    ws.append(["张三", "13812345678", "离职的老刘", "经销商"])
    ws.append(["李四", "13812345679", "xiaowang", "乱写的类别"])
    wb.save(tmp_path / "c.xlsx")
    _p, report = _validate(ctx.as_user(clerk), tmp_path / "c.xlsx")
    # an unknown 负责人 never blocks the row: listed once, the customer left unassigned (issue 21)
    assert [(i.row, i.column, i.header) for i in report.issues] == [(3, "D", "客户类别")]
    assert "“乱写的类别”不在类别列表中" in report.issues[0].message
    assert report.unknown_owners == (("离职的老刘", 1),) and report.unassigned == 1
    assert [c.row for c in report.valid] == [2]


def test_validate_refuses_an_unmapped_required_field_and_needs_the_right(ctx, clerk, admin, tmp_path):
    path = ugly_customer_workbook(tmp_path / "c.xlsx")
    with pytest.raises(ValidationError, match="客户名称：请选择对应的列"):
        importing.validate(
            ctx.as_user(clerk), path, None, ImportTarget.CUSTOMERS, ColumnMapping(4, {"phone": 3})
        )
    with pytest.raises(PermissionDenied):
        importing.validate(
            ctx.as_user(admin), path, None, ImportTarget.CUSTOMERS, ColumnMapping(4, {"name": 1})
        )


# --- writing ----------------------------------------------------------------------------------------------


def test_run_import_writes_exactly_the_valid_rows_with_contacts_codes_and_one_audit_row_per_batch(
    ctx, clerk, existing, tmp_path
):
    cctx = ctx.as_user(clerk)
    path = ugly_customer_workbook(tmp_path / "客户台账.xlsx")
    _p, report = _validate(cctx, path)
    before = _count(ctx, Customer)
    result = importing.run_import(cctx, report)
    assert (result.imported, result.skipped_errors, result.skipped_duplicates, result.cancelled) == (
        3,
        1,
        2,
        False,
    )
    assert _count(ctx, Customer) == before + 3
    assert (result.first_number, result.last_number) == ("KH000002", "KH000004")
    zhang = get_customer_by_code(cctx, "KH000002")
    assert (zhang.name, zhang.grade, zhang.owner, zhang.notes) == ("张三", "A", "小王", "老客户")
    hongda = get_customer_by_code(cctx, "KH000003")
    assert [(c.mobile, c.phone) for c in hongda.contacts] == [("13912345678", "057188886666")]
    with ctx.sessions() as s:
        names = set(s.execute(select(Customer.name)).scalars())
        initials = s.execute(select(Customer.initials).where(Customer.name == "赵六")).scalar()
        counter = s.execute(select(Counter.value).where(Counter.name == "customer")).scalar()
    assert names == {"老客户车队（旧档）", "张三", "杭州宏达物流有限公司", "赵六"}
    assert initials == "zl" and counter == 4
    [log] = [a for a in _audits(ctx) if a.action == "导入Excel"]
    assert log.note == "客户台账.xlsx" and log.username == "xiaowang"
    assert json.loads(log.new) == {
        "台账": "客户台账",
        "工作表": "客户台账",
        "行数": 3,
        "首行": 5,
        "末行": 11,
        "编号": "KH000002–KH000004",
        "导入批号": result.run_id,
    }
    assert "导入 3 行" in result.summary() and "有问题 1 行、重复 2 行" in result.summary()


def test_run_import_batches_and_reimport_skips_everything_as_duplicates(ctx, clerk, tmp_path):
    cctx = ctx.as_user(clerk)
    path = ugly_customer_workbook(tmp_path / "c.xlsx", fix=True)
    from huifang_desktop.services.settings import set_value

    set_value(ctx, "import_rules", {"batch_size": 2}, what="导入设置")
    _p, report = _validate(cctx, path)
    assert report.valid_count == 5  # 李四 fixed; 王五 still repeats 张三's phone
    seen: list[tuple[int, int]] = []
    result = importing.run_import(cctx, report, progress=lambda d, t: seen.append((d, t)))
    assert result.batches == 3 and seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert len([a for a in _audits(ctx) if a.action == "导入Excel"]) == 3
    _p, again = _validate(cctx, path)
    assert again.valid_count == 0 and again.duplicate_rows == 6


def test_run_import_cancelled_writes_nothing_at_all(ctx, clerk, tmp_path):
    cctx = ctx.as_user(clerk)
    from huifang_desktop.services.settings import set_value

    set_value(ctx, "import_rules", {"batch_size": 1}, what="导入设置")
    _p, report = _validate(cctx, ugly_customer_workbook(tmp_path / "c.xlsx"))
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) >= 3  # two batches written, then the user cancels

    result = importing.run_import(cctx, report, cancelled=cancelled)
    assert result.cancelled and result.imported == 0
    assert _count(ctx, Customer) == 0 and _count(ctx, Contact) == 0
    assert not [a for a in _audits(ctx) if a.action == "导入Excel"]
    with ctx.sessions() as s:
        assert s.execute(select(Counter.value).where(Counter.name == "customer")).scalar() is None
    assert "没有写入任何" in result.summary()


def test_run_import_strict_refuses_a_report_with_problems(ctx, clerk, tmp_path):
    cctx = ctx.as_user(clerk)
    _p, report = _validate(cctx, ugly_customer_workbook(tmp_path / "c.xlsx"))
    with pytest.raises(ServiceError, match="2 行未通过检查"):
        importing.run_import(cctx, report, only_valid=False)
    assert _count(ctx, Customer) == 0


def test_run_import_keeps_sheet_codes_and_moves_the_counter_past_them(ctx, clerk, tmp_path):
    cctx = ctx.as_user(clerk)
    wb = Workbook()
    ws = wb.active
    ws.append(["客户编号", "客户名称", "手机"])
    ws.append(["KH000050", "甲公司", "13800000001"])
    ws.append(["", "乙公司", "13800000002"])
    ws.append(["KH000050", "丙公司", "13800000003"])
    wb.save(tmp_path / "c.xlsx")
    _p, report = _validate(cctx, tmp_path / "c.xlsx")
    assert _issues(report) == [(4, "A", "重复", "与第 2 行重复（客户编号 KH000050 相同）")]
    importing.run_import(cctx, report)
    assert get_customer_by_code(cctx, "KH000050").name == "甲公司"
    assert get_customer_by_code(cctx, "KH000001").name == "乙公司"
    later = register_customer(
        cctx, CustomerDraft(name="丁公司", contacts=(ContactDraft(name="丁", mobile="13800000009"),))
    )
    assert later.code == "KH000051"


def test_import_ten_thousand_customer_rows_in_seconds(ctx, clerk, tmp_path, capsys):
    """Timing: validating and importing 10,000 customer rows (printed; the bound is generous for CI)."""
    cctx = ctx.as_user(clerk)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户台账")
    ws.append(["某公司客户台账"])
    ws.append([])
    ws.append(CUSTOMER_HEADER)
    for i in range(10_000):
        ws.append(
            [
                i + 1,
                f"客户{i:05d}有限公司",
                "王经理",
                f"13{i:09d}" + ("/0571-8" + f"{i:07d}" if i % 3 == 0 else ""),
                f"杭州市{i}号",
                ("A类", "乙类", "c", "D级", "")[i % 5],
                f"2025年{i % 12 + 1}月{i % 28 + 1}日",
                "",
                ("十二", "一百零五", "3", "")[i % 4],
                "",
            ]
        )
    wb.save(tmp_path / "big.xlsx")
    started = time.perf_counter()
    _p, report = _validate(cctx, tmp_path / "big.xlsx")
    validated = time.perf_counter() - started
    result = importing.run_import(cctx, report)
    with capsys.disabled():
        print(f"\n10,000 customer rows: validate {validated:.2f} s, import {result.seconds:.2f} s")
    assert report.valid_count == 10_000 and result.imported == 10_000
    assert _count(ctx, Customer) == 10_000 and _count(ctx, Contact) == 10_000


# --- visits and complaints ---------------------------------------------------------------------------------


def test_import_visit_history_as_history_records_without_plans(ctx, clerk, existing, tmp_path):
    cctx = ctx.as_user(clerk)
    wb = Workbook()
    ws = wb.active
    ws.title = "回访台账"
    ws["A1"] = "2026 年回访台账"
    ws.append([])
    ws.append(["客户名称", "回访日期", "回访方式", "回访人", "回访内容", "满意度", "回访结果"])
    ws.append(["老客户车队（旧档）", "2026.3.5", "电话回访", "小王", "问使用情况", "非常满意", ""])
    ws.append(["老客户车队（旧档）", 46090.5, "上门", "老刘", "送资料", "满意", "已回访"])
    ws.append(["不存在的客户", "2026-3-7", "电话", "", "", "", ""])
    ws.append(["老客户车队（旧档）", "2027-3-7", "电话", "", "", "", ""])
    ws.append(["老客户车队（旧档）", "2026-3-8", "传真", "", "", "", "无人接听"])
    wb.save(tmp_path / "v.xlsx")
    _p, report = _validate(cctx, tmp_path / "v.xlsx", ImportTarget.VISITS)
    assert [(i.row, i.column) for i in report.issues] == [(6, "A"), (7, "B"), (8, "C")]
    assert "请先导入客户台账" in report.issues[0].message and report.issues[1].message == "不能晚于现在"
    plans_before = _count(ctx, VisitPlan)
    result = importing.run_import(cctx, report)
    assert result.imported == 2 and (result.first_number, result.last_number) == (
        "HF20260305-001",
        "HF20260309-001",
    )
    with ctx.sessions() as s:
        recs = s.execute(select(VisitRecord).order_by(VisitRecord.visited_at)).scalars().all()
    assert [
        (r.customer_id, r.method, r.satisfaction, r.result, r.status, r.plan_id, r.visitor_id) for r in recs
    ] == [
        (existing.id, "电话", "很满意", "成功", "历史导入", None, clerk.id),
        (existing.id, "上门", "满意", "成功", "历史导入", None, None),
    ]
    assert recs[1].visited_at == datetime(2026, 3, 9, 12, 0) and "回访人：老刘" in recs[1].handling
    assert _count(ctx, VisitPlan) == plans_before  # history: no plans, no follow-ups


def test_import_complaints_sets_state_directly_and_keeps_unique_sheet_numbers(ctx, clerk, tmp_path):
    cctx = ctx.as_user(clerk)
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "投诉编号",
            "投诉日期",
            "投诉主题",
            "投诉内容",
            "投诉人",
            "联系方式",
            "类别",
            "处理状态",
            "处理结果",
            "结案日期",
            "负责人",
        ]
    )
    ws.append(
        [
            "",
            "2026/10/5",
            "送货延误",
            "货到晚了三天",
            "张经理",
            "13812345678",
            "交付物流",
            "已处理",
            "道歉并补偿",
            "2026-10-08",
            "小王",
        ]
    )
    ws.append(
        [
            "TS20261101-001",
            "2026-11-01 14:30",
            "",
            "维修人员态度差。后来又来了一次",
            "",
            "",
            "服务态度",
            "处理中",
            "",
            "",
            "离职的老刘",
        ]
    )
    ws.append(["", "2026-11-02", "乱写", "", "", "", "奇怪类别", "", "", "", ""])
    wb.save(tmp_path / "t.xlsx")
    _p, report = _validate(cctx, tmp_path / "t.xlsx", ImportTarget.COMPLAINTS)
    assert [(i.row, i.column) for i in report.issues] == [(4, "G")]
    result = importing.run_import(cctx, report)
    assert result.imported == 2
    with ctx.sessions() as s:
        rows = s.execute(select(Complaint).order_by(Complaint.received_at)).scalars().all()
        events = s.execute(select(ComplaintEvent.note).order_by(ComplaintEvent.id)).scalars().all()
    closed, open_ = rows
    assert (closed.number, closed.state, closed.closed_at, closed.deadline, closed.handler_id) == (
        "TS20261005-001",
        "已关闭",
        datetime(2026, 10, 8, 17, 0),
        None,
        clerk.id,
    )
    assert (open_.number, open_.state, open_.subject, open_.anonymous) == (
        "TS20261101-001",
        "处理中",
        "维修人员态度差",
        True,
    )
    assert open_.deadline == open_.handling_due and open_.deadline < datetime(2026, 11, 24)  # overdue now
    assert "原负责人：离职的老刘" in events[1]
    # the kept number moved its counter: a new complaint of that day gets -002
    later = complaint_service.register(
        cctx,
        complaint_service.IntakeDraft(
            subject="又一件",
            received_at="2026-11-01 15:00",
            complainant="甲",
            phone="13800000000",
            category="其他",
        ),
    )
    assert later.number == "TS20261101-002"
    _p, again = _validate(cctx, tmp_path / "t.xlsx", ImportTarget.COMPLAINTS)
    assert again.valid_count == 0 and {i.kind for i in again.issues} == {IssueKind.DUPLICATE, IssueKind.ERROR}


# --- helpers ----------------------------------------------------------------------------------------------


def _count(ctx, model) -> int:
    with ctx.sessions() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar() or 0)


def _audits(ctx) -> list[AuditLog]:
    with ctx.sessions() as s:
        return list(s.execute(select(AuditLog).order_by(AuditLog.id)).scalars())


# --- undo (撤销导入) ------------------------------------------------------------------------------------


def test_undo_import_removes_the_runs_customers_contacts_and_their_pending_plans_in_one_step(
    ctx, clerk, existing, tmp_path
):
    from huifang_desktop.services import visits as visit_service

    cctx = ctx.as_user(clerk)
    before = (_count(ctx, Customer), _count(ctx, Contact))
    _p, report = _validate(cctx, ugly_customer_workbook(tmp_path / "客户台账.xlsx"))
    result = importing.run_import(cctx, report)
    assert result.imported == 3 and result.run_id is not None
    visit_service.daily_catch_up(ctx)  # the A-class customer gets its routine visit planned
    assert _count(ctx, VisitPlan) > 0
    [run] = importing.list_import_runs(cctx)
    assert (run.id, run.target, run.rows, run.created_by, run.state) == (
        result.run_id,
        ImportTarget.CUSTOMERS,
        3,
        "小王",
        "有效",
    )

    undone = importing.undo_import(cctx, result.run_id)
    assert (undone.removed, undone.plans_removed > 0) == (3, True)
    assert "已撤销第" in undone.summary() and "删除客户台账记录 3 条" in undone.summary()
    assert (_count(ctx, Customer), _count(ctx, Contact), _count(ctx, VisitPlan)) == (*before, 0)
    assert get_customer_by_code(cctx, "KH000001").name == "老客户车队（旧档）"  # what was there before stays
    [run] = importing.list_import_runs(cctx)
    assert run.state == "已撤销" and run.undone_by == "小王"
    [log] = [a for a in _audits(ctx) if a.action == "撤销导入"]
    assert json.loads(log.old) == {"台账": "客户台账", "行数": 3} and log.note == "客户台账.xlsx"
    with pytest.raises(ServiceError, match="已在 .* 撤销过"):
        importing.undo_import(cctx, result.run_id)
    with pytest.raises(ServiceError, match="没有第 999 次导入"):
        importing.undo_import(cctx, 999)


def test_undo_import_refuses_when_a_record_had_later_work_and_deletes_nothing(
    ctx, clerk, supervisor, tmp_path
):
    from huifang_desktop.services import customers as customer_service

    cctx = ctx.as_user(clerk)
    _p, report = _validate(cctx, ugly_customer_workbook(tmp_path / "c.xlsx", fix=True))
    result = importing.run_import(cctx, report)
    assert result.run_id is not None
    zhang = get_customer_by_code(cctx, result.first_number)
    customer_service.pin_grade(
        ctx.as_user(supervisor), zhang.id, "B", "年度重点客户"
    )  # edited after the import
    count = _count(ctx, Customer)
    with pytest.raises(ServiceError, match=f"客户 {result.first_number} 导入后已修改.*没有删除任何数据"):
        importing.undo_import(cctx, result.run_id)
    assert _count(ctx, Customer) == count
    assert importing.list_import_runs(cctx)[0].state == "有效"


def test_undo_import_only_by_the_importer_or_a_supervisor(ctx, clerk, supervisor, tmp_path):
    from huifang_desktop.domain.roles import Role
    from huifang_desktop.services import users as user_service

    other = user_service.create_user(ctx, "xiaoli", "小李", Role.CLERK, "secret-123", "客服部")
    _p, report = _validate(ctx.as_user(clerk), ugly_customer_workbook(tmp_path / "c.xlsx", fix=True))
    result = importing.run_import(ctx.as_user(clerk), report)
    assert result.run_id is not None
    with pytest.raises(ServiceError, match="只有导入的人或主管"):
        importing.undo_import(ctx.as_user(other), result.run_id)
    assert importing.undo_import(ctx.as_user(supervisor), result.run_id).removed == result.imported


def test_undo_import_of_complaints_and_of_visit_history(ctx, clerk, existing, tmp_path):
    cctx = ctx.as_user(clerk)
    wb = Workbook()
    ws = wb.active
    ws.append(["投诉日期", "投诉主题", "投诉内容", "投诉人", "联系方式", "类别", "处理状态"])
    ws.append(["2026/10/5", "送货延误", "货到晚了三天", "张经理", "13812345678", "交付物流", "已处理"])
    wb.save(tmp_path / "t.xlsx")
    _p, report = _validate(cctx, tmp_path / "t.xlsx", ImportTarget.COMPLAINTS)
    complaints = importing.run_import(cctx, report)
    wb = Workbook()
    ws = wb.active
    ws.append(["客户名称", "回访日期", "回访方式", "满意度"])
    ws.append(["老客户车队（旧档）", "2026-3-5", "电话", "满意"])
    wb.save(tmp_path / "v.xlsx")
    _p, report = _validate(cctx, tmp_path / "v.xlsx", ImportTarget.VISITS)
    visits = importing.run_import(cctx, report)
    assert (_count(ctx, Complaint), _count(ctx, ComplaintEvent), _count(ctx, VisitRecord)) == (1, 1, 1)
    assert importing.undo_import(cctx, visits.run_id).removed == 1  # type: ignore[arg-type]
    assert importing.undo_import(cctx, complaints.run_id).removed == 1  # type: ignore[arg-type]
    assert (_count(ctx, Complaint), _count(ctx, ComplaintEvent), _count(ctx, VisitRecord)) == (0, 0, 0)
    assert [r.state for r in importing.list_import_runs(cctx)] == ["已撤销", "已撤销"]


# --- 售后服务台账 ------------------------------------------------------------------------------------------


def _service_sheet(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "售后服务"
    ws["A1"] = "2026 年售后服务台账"
    ws.append([])
    ws.append(
        [
            "工单号",
            "客户名称",
            "维修日期",
            "服务项目",
            "机型",
            "机号",
            "故障现象",
            "维修内容",
            "更换配件",
            "配件费",
            "维修费用",
            "维修人员",
            "负责人",
            "完成情况",
            "完工日期",
            "满意度",
        ]
    )
    ws.append(
        [
            "",
            "老客户车队（旧档）",
            "2026.3.5",
            "维修",
            "J6P",
            "lfw123",
            "刹车异响",
            "更换刹车片",
            "刹车片",
            "¥350",
            "一百五",
            "老刘",
            "小王",
            "已修复",
            "2026-3-6",
            "非常满意",
        ]
    )
    ws.append(
        [
            "FW20260310-007",
            "老客户车队（旧档）",
            "2026-03-10",
            "保养服务",
            "J6P",
            "LFW123",
            "",
            "首保",
            "",
            "",
            "0",
            "",
            "离职的老张",
            "",
            "",
            "",
        ]
    )
    ws.append(["", "不存在的客户", "2026-3-7", "维修", "", "", "", "", "", "", "", "", "", "", "", ""])
    ws.append(
        ["", "老客户车队（旧档）", "2026-3-8", "上天", "", "", "", "", "", "-5", "", "", "", "维修中", "", ""]
    )
    ws.append(["", "老客户车队（旧档）", "2027-3-8", "维修", "", "", "", "", "", "", "", "", "", "", "", ""])
    wb.save(path)
    return path


def test_import_service_records_as_history_with_kept_numbers_and_undo(ctx, clerk, existing, tmp_path):
    from huifang_desktop.services import service_records
    from huifang_desktop.storage.models import ServiceRecord

    cctx = ctx.as_user(clerk)
    p, report = _validate(cctx, _service_sheet(tmp_path / "s.xlsx"), ImportTarget.SERVICES)
    assert p.header_row == 3 and {"number", "customer", "served_on", "kind", "cost", "technician"} <= set(
        p.mapping
    )
    assert [(i.row, i.column) for i in report.issues] == [(6, "B"), (7, "D"), (7, "J"), (8, "C")]
    assert "请先导入客户台账" in report.issues[0].message and "不能是负数" in report.issues[2].message
    plans = _count(ctx, VisitPlan)
    result = importing.run_import(cctx, report)
    assert result.imported == 2 and (result.first_number, result.last_number) == (
        "FW20260305-001",
        "FW20260310-007",
    )
    with ctx.sessions() as s:
        recs = s.execute(select(ServiceRecord).order_by(ServiceRecord.served_on)).scalars().all()
    repair, upkeep = recs
    assert (
        repair.kind,
        repair.serial_no,
        repair.parts_amount,
        repair.cost,
        repair.technician,
        repair.handler_id,
        repair.status,
        repair.completed_on,
        repair.satisfaction,
    ) == ("维修", "LFW123", 350, 150, "老刘", clerk.id, "已完成", date(2026, 3, 6), "很满意")
    assert (upkeep.number, upkeep.kind, upkeep.status, upkeep.handler_id) == (
        "FW20260310-007",
        "保养",
        "已完成",
        None,
    )
    assert "原负责人：离职的老张" in upkeep.notes
    assert _count(ctx, VisitPlan) == plans  # history: no repair follow-up visit planned
    # a new record of 03-10 gets the serial after the kept one
    made = service_records.add_service_record(
        cctx, service_records.ServiceDraft(customer_id=existing.id, served_on="2026-03-10", kind="巡检")
    )
    assert made.number == "FW20260310-008"
    _p, again = _validate(cctx, tmp_path / "s.xlsx", ImportTarget.SERVICES)
    assert again.valid_count == 0 and again.duplicate_rows == 2
    assert importing.undo_import(cctx, result.run_id).removed == 2  # type: ignore[arg-type]
    assert [r.number for r in service_records_list(ctx)] == ["FW20260310-008"]


def service_records_list(ctx):
    from huifang_desktop.storage.models import ServiceRecord

    with ctx.sessions() as s:
        return s.execute(select(ServiceRecord).order_by(ServiceRecord.id)).scalars().all()
