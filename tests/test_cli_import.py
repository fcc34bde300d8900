"""``import customers FILE.xlsx`` run in-process through ``huifang_desktop.app.main``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import users
from huifang_desktop.storage.models import AuditLog, Customer, User
from tests.services.test_importing import ugly_customer_workbook
from tests.test_cli_visits import run  # noqa: F401  (fixture)


def _office(data: Path) -> None:
    ctx = app.open_context(AppPaths(data))
    try:
        users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
    finally:
        ctx.engine.dispose()


def _customers(data: Path) -> list[tuple[str, str, str | None]]:
    ctx = app.open_context(AppPaths(data))
    try:
        with ctx.sessions() as s:
            rows = s.execute(
                select(Customer.code, Customer.name, User.username)
                .outerjoin(User, User.id == Customer.owner_id)
                .order_by(Customer.code)
            ).all()
            return [tuple(r) for r in rows]  # type: ignore[misc]
    finally:
        ctx.engine.dispose()


def _clean_sheet(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["客户台账"])
    ws.append(["全称", "手机", "级别"])  # 全称 is no known header name: the mapping file names it
    ws.append(["甲公司", "13800000001", "甲类"])
    ws.append(["乙公司", "１３８０００００００２", "b"])
    wb.save(path)
    return path


def test_cli_import_dry_run_prints_the_report_and_writes_nothing(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    _office(data)
    path = ugly_customer_workbook(tmp_path / "客户台账.xlsx")
    code, out, _err = run(["--data-dir", str(data), "import", "customers", str(path), "--dry-run"])
    assert code == 1
    assert "文件：客户台账.xlsx  工作表：客户台账  表头：第 4 行" in out
    assert "客户名称 ← B列“客户名称”" in out and "电话 ← D列“联系电话”" in out
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("[")]
    assert lines == [  # by kind, each with its count and first rows
        "[错误] D列（联系电话）：“…”不是有效的手机号码（应为 11 位，以 13–19 开头） — 1 行（第 7 行）",
        "[错误] G列（建档日期）：“…”不是存在的日期 — 1 行（第 7 行）",
        "[重复] D列（联系电话）：与第 N 行重复 — 1 行（第 9 行）",
    ]
    assert "例：第 7 行 D列（联系电话）：“12345”不是有效的手机号码（应为 11 位，以 13–19 开头）" in out
    assert (
        "怎么改：在 Excel 中改正号码" in out
        and "例：第 9 行 D列（联系电话）：与第 5 行重复（电话 138 1234 5678 相同）" in out
    )
    assert "未导入的列：A列“序号”、J列“备注”" not in out  # 备注 is imported
    assert "未导入的列：A列“序号”" in out
    assert "共 6 行数据：可导入 4 行，有问题 1 行，重复 1 行。" in out and "试运行：没有写入任何数据。" in out
    assert _customers(data) == []


def test_cli_import_refuses_a_sheet_with_problems_unless_accept_valid(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    _office(data)
    path = ugly_customer_workbook(tmp_path / "客户台账.xlsx")
    code, out, err = run(["--data-dir", str(data), "import", "customers", str(path)])
    assert code == 1 and "没有写入任何数据：有 2 行未通过检查" in err and "--accept-valid" in err
    assert "第 7 行" in out and _customers(data) == []
    code, out, _err = run(["--data-dir", str(data), "import", "customers", str(path), "--accept-valid"])
    assert code == 0 and "已从“客户台账.xlsx”导入 4 行到客户台账（编号 KH000001–KH000004）" in out
    assert _customers(data) == [
        ("KH000001", "张三", "xiaowang"),
        ("KH000002", "杭州宏达物流有限公司", None),
        ("KH000003", "老客户车队", None),
        ("KH000004", "赵六", None),
    ]
    code, out, _err = run(["--data-dir", str(data), "import", "customers", str(path), "--dry-run"])
    assert code == 1 and "可导入 0 行" in out and "与已有客户 KH000001 张三 重复" in out


def test_cli_import_clean_sheet_as_a_user_with_a_mapping_file(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    _office(data)
    path = _clean_sheet(tmp_path / "clean.xlsx")
    code, _out, err = run(["--data-dir", str(data), "import", "customers", str(path)])
    assert code == 1 and "客户名称：请选择对应的列" in err  # 全称 is not recognised by itself
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps({"客户名称": "全称", "mobile": "手机"}, ensure_ascii=False), encoding="utf-8"
    )
    code, out, err = run(
        [
            "--data-dir",
            str(data),
            "--user",
            "xiaowang",
            "import",
            "customers",
            str(path),
            "--mapping",
            str(mapping),
        ]
    )
    assert code == 0, err
    assert "客户名称 ← A列“全称”" in out and "共 2 行数据：可导入 2 行。" in out
    assert _customers(data) == [("KH000001", "甲公司", "xiaowang"), ("KH000002", "乙公司", "xiaowang")]
    ctx = app.open_context(AppPaths(data))
    try:
        with ctx.sessions() as s:
            log = s.execute(select(AuditLog).where(AuditLog.action == "导入Excel")).scalar_one()
        assert (log.username, log.note) == ("xiaowang", "clean.xlsx")
    finally:
        ctx.engine.dispose()


def test_cli_import_bad_file_sheet_header_or_mapping_say_why(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    bad = tmp_path / "坏的.xlsx"
    bad.write_bytes(os.urandom(1000))
    code, _out, err = run(["--data-dir", str(data), "import", "customers", str(bad)])
    assert code == 1 and "错误：“坏的.xlsx”不是有效的 Excel 文件" in err and "Traceback" not in err
    path = _clean_sheet(tmp_path / "c.xlsx")
    code, _out, err = run(["--data-dir", str(data), "import", "customers", str(path), "--sheet", "没有"])
    assert code == 1 and "没有名为“没有”的工作表（有：客户）" in err
    wb = Workbook()
    wb.active.append(["随便", "写写"])
    wb.save(tmp_path / "nohead.xlsx")
    code, _out, err = run(["--data-dir", str(data), "import", "customers", str(tmp_path / "nohead.xlsx")])
    assert code == 1 and "没有找到表头行" in err
    (tmp_path / "m.json").write_text("[1, 2]", encoding="utf-8")
    code, _out, err = run(
        ["--data-dir", str(data), "import", "customers", str(path), "--mapping", str(tmp_path / "m.json")]
    )
    assert code == 1 and "列对应文件" in err
    assert _customers(data) == []


def test_cli_imports_lists_the_runs_and_undoes_one(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    _office(data)
    code, out, _err = run(["--data-dir", str(data), "imports"])
    assert code == 0 and "还没有导入过 Excel 台账。" in out
    path = _clean_sheet(tmp_path / "clean.xlsx")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"客户名称": "全称"}, ensure_ascii=False), encoding="utf-8")
    code, out, err = run(
        [
            "--data-dir",
            str(data),
            "--user",
            "xiaowang",
            "import",
            "customers",
            str(path),
            "--mapping",
            str(mapping),
        ]
    )
    assert code == 0, err
    assert "这是第 1 次导入；如需整体撤销：huifang-desktop imports undo 1" in out
    code, out, _err = run(["--data-dir", str(data), "--user", "xiaowang", "imports", "list"])
    assert code == 0 and "第 1 次" in out and "客户台账  “clean.xlsx”（客户）  2 行  小王  有效" in out
    code, _out, err = run(["--data-dir", str(data), "--user", "xiaowang", "imports", "undo"])
    assert code == 1 and "请给出要撤销的导入序号" in err
    code, out, err = run(["--data-dir", str(data), "--user", "xiaowang", "imports", "undo", "1"])
    assert code == 0, err
    assert "已撤销第 1 次导入（“clean.xlsx”）：删除客户台账记录 2 条" in out and _customers(data) == []
    code, _out, err = run(["--data-dir", str(data), "--user", "xiaowang", "imports", "undo", "1"])
    assert code == 1 and "撤销过" in err


def test_cli_import_services_reports_the_sheet_rows(run: Any, tmp_path: Path) -> None:  # noqa: F811
    from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
    from huifang_desktop.services.customers import register_customer
    from tests.services.test_importing import _service_sheet

    data = tmp_path / "data"
    _office(data)
    ctx = app.open_context(AppPaths(data))
    try:
        register_customer(
            ctx,
            CustomerDraft(
                name="老客户车队（旧档）",
                created_on="2026-01-01",
                contacts=(ContactDraft(name="王队长", mobile="13900000001"),),
            ),
        )
    finally:
        ctx.engine.dispose()
    path = _service_sheet(tmp_path / "售后.xlsx")
    code, out, err = run(
        ["--data-dir", str(data), "import", "services", str(path), "--accept-valid", "--details"]
    )
    assert code == 0, err
    assert "[错误] 第 6 行 B列（客户名称）" in out and "[错误] 第 7 行 D列（服务项目）" in out
    assert "已从“售后.xlsx”导入 2 行到售后服务台账（编号 FW20260305-001–FW20260310-007）" in out


# --- issue 21: the first real import of an office ledger ---------------------------------------------------


def _user_names(data: Path) -> list[str]:
    ctx = app.open_context(AppPaths(data))
    try:
        with ctx.sessions() as s:
            return list(s.execute(select(User.username).order_by(User.username)).scalars())
    finally:
        ctx.engine.dispose()


def test_cli_messy_ledger_dry_run_reports_every_problem_in_one_run(run: Any, tmp_path: Path) -> None:  # noqa: F811
    from tests.services.test_import_onboarding import messy_office_ledger

    data = tmp_path / "data"
    _office(data)
    path = messy_office_ledger(tmp_path / "台账.xlsx")
    code, out, _err = run(["--data-dir", str(data), "import", "customers", str(path), "--dry-run"])
    assert code == 1
    assert "等级 ← E列“客户类别”" in out and "购买日期 ← G列“交车日期”" in out
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("[")]
    assert lines == [
        "[错误] C列（手机号码）：“…”不是有效的手机号码（应为 11 位，以 13–19 开头） — 1 行（第 8 行）",
        "[错误] G列（交车日期）：“…”不是存在的日期 — 1 行（第 8 行）",
        "[重复] C列（手机号码）：与第 N 行重复 — 1 行（第 7 行）",
    ]
    assert "例：第 7 行 C列（手机号码）：与第 4 行重复（电话 138 0531 0001 相同）" in out
    assert "不在类别列表中" not in out and "不是本系统的用户，请先" not in out
    assert (
        "共 5 行数据：可导入 3 行，有问题 1 行，重复 1 行。已跳过空行 2 行、合计行 1 行、隐藏行 1 行。" in out
    )
    assert "未导入的列：A列“序号”" in out
    assert "本文件还有其他工作表：2024年" in out and "隐藏的行已跳过：第 9 行" in out
    assert "以下负责人不是本系统用户：老刘（2 行）、张姐（1 行）" in out and "暂不指定负责人" in out
    assert "2 位客户没有负责人" in out and "导入后将生成回访计划" in out
    assert "试运行：没有写入任何数据。" in out and _customers(data) == []


def test_cli_messy_ledger_accept_valid_imports_every_valid_row_without_users_or_mapping(
    run: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    from tests.services.test_import_onboarding import messy_office_ledger

    data = tmp_path / "data"
    _office(data)
    path = messy_office_ledger(tmp_path / "台账.xlsx")
    code, out, err = run(["--data-dir", str(data), "import", "customers", str(path), "--accept-valid"])
    assert code == 0, err
    assert (
        "已从“台账.xlsx”导入 3 行到客户台账（编号 KH000001–KH000003）" in out and "记入购买记录 3 条" in out
    )
    assert _customers(data) == [
        ("KH000001", "王\u3000芳", None),
        ("KH000002", "济南宏达物流有限公司", None),
        ("KH000003", "李四", "xiaowang"),
    ]
    assert _user_names(data) == ["xiaowang"]  # nobody created


def test_cli_all_sheets_include_hidden_and_create_owners(run: Any, tmp_path: Path) -> None:  # noqa: F811
    from tests.services.test_import_onboarding import messy_office_ledger

    data = tmp_path / "data"
    _office(data)
    path = messy_office_ledger(tmp_path / "台账.xlsx")
    code, out, err = run(
        [
            "--data-dir",
            str(data),
            "import",
            "customers",
            str(path),
            "--all-sheets",
            "--include-hidden",
            "--owners",
            "create",
            "--owner",
            "王工=xiaowang",
            "--accept-valid",
        ]
    )
    assert code == 0, err
    assert "工作表：2025年" in out and "工作表：2024年" in out and "本文件还有其他工作表" not in out
    assert "已创建负责人账号：老刘（用户名 ll，临时密码" in out and "已创建负责人账号：张姐（用户名 zj" in out
    assert "王工" not in out.split("已创建负责人账号")[-1]
    assert "已从“台账.xlsx”导入 4 行" in out and "已从“台账.xlsx”导入 2 行" in out
    rows = {name: owner for _code, name, owner in _customers(data)}
    assert rows == {
        "王\u3000芳": "ll",
        "济南宏达物流有限公司": "zj",
        "李四": "xiaowang",
        "周八": "ll",
        "钱九": "xiaowang",
        "吴十": "xiaowang",
    }
    assert _user_names(data) == ["ll", "xiaowang", "zj"]
    code, _out, err = run(
        ["--data-dir", str(data), "import", "customers", str(path), "--sheet", "2024年", "--all-sheets"]
    )
    assert code != 0 and "--sheet 和 --all-sheets 只能选一个" in err
