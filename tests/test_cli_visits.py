"""The ``plan`` and ``export visits`` commands, run in-process through ``huifang_desktop.app.main``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import ledgers, users
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.visits import VisitRecordDraft, record_visit
from huifang_desktop.services.workflow import add_purchase
from huifang_desktop.storage.models import AuditLog, Customer, VisitPlan

NOW = datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def run(run_main: Any) -> Any:
    """``run(args) -> (exit code, stdout, stderr)`` (tests/conftest.py ``run_main``)."""
    return run_main


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Path, ServiceContext, dict[str, int]]]:
    """A data folder with one clerk and three customers (B class, a delivery, D class), clock at NOW."""
    data = tmp_path / "data"
    base = app.open_context(AppPaths(data))
    ctx = ServiceContext(base.engine, base.sessions, clock=lambda: NOW)
    clerk = users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
    cctx = ctx.as_user(clerk)
    ids = {}
    for name, mobile, grade in (
        ("甲公司", "13900000001", "B"),
        ("乙公司", "13900000002", "D"),
        ("丙公司", "13900000003", "D"),
    ):
        c = register_customer(
            cctx,
            CustomerDraft(
                name=name, created_on="2026-11-20", contacts=(ContactDraft(name="张经理", mobile=mobile),)
            ),
        )
        with ctx.sessions() as s, s.begin():
            s.execute(update(Customer).where(Customer.id == c.id).values(grade=grade))
        ids[name] = c.id
    add_purchase(cctx, ids["乙公司"], day="2026-11-23", product="货车", quantity=2)  # plans 3 visits at once
    from huifang_desktop.services.classes import RECOMPUTE_MONTH_KEY
    from huifang_desktop.services.settings import set_value

    set_value(
        ctx, RECOMPUTE_MONTH_KEY, "2026-11", what="重新分级月份"
    )  # this month recomputed (hand-set grades stay)
    yield data, cctx, ids
    base.engine.dispose()


def _plan_count(ctx: ServiceContext) -> int:
    with ctx.sessions() as s:
        return int(s.execute(select(func.count()).select_from(VisitPlan)).scalar_one())


def test_cli_plan_runs_the_catch_up_and_prints_what_it_planned(run: Any, office: Any) -> None:
    data, cctx, _ = office
    assert _plan_count(cctx) == 3
    code, out, err = run(["--data-dir", str(data), "plan", "--today", "2026-11-24"])
    assert (code, err) == (0, "")
    assert "2026-11-24 补排完成：新增 1 条回访计划，已有 3 条，调整 0 条" in out
    assert "按规则：\n  例行回访：1\n" in out
    assert "  2026-12-07  KH000001 甲公司  例行回访 电话  小王  待回访" in out  # 12-05 is a Saturday
    assert _plan_count(cctx) == 4
    code, out, _ = run(["--data-dir", str(data), "plan", "--today", "2026-11-24"])
    assert code == 0 and "新增 0 条回访计划，已有 4 条" in out and "按规则" not in out
    assert _plan_count(cctx) == 4


@pytest.mark.parametrize("bad", ["2026-13-45", "明天"])
def test_cli_plan_bad_date_is_a_chinese_error(run: Any, office: Any, bad: str) -> None:
    data, cctx, _ = office
    code, out, err = run(["--data-dir", str(data), "plan", "--today", bad])
    assert (code, out) == (1, "")
    assert err.startswith("错误：补排日期：")
    assert _plan_count(cctx) == 3


def test_cli_export_visits_writes_the_ledger(run: Any, office: Any, tmp_path: Path) -> None:
    data, cctx, ids = office
    with cctx.sessions() as s:
        arrival = s.execute(select(VisitPlan.id).where(VisitPlan.rule_key == "delivery_arrival")).scalar_one()
    record_visit(
        cctx,
        VisitRecordDraft(
            customer_id=ids["乙公司"],
            plan_id=arrival,
            result="成功",
            visit_type="到货",
            visited_at="2026-11-24 09:30",
            satisfaction="很满意",
        ),
    )
    out_file = tmp_path / "回访台账.xlsx"
    code, out, err = run(
        [
            "--data-dir",
            str(data),
            "export",
            "visits",
            str(out_file),
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
        ]
    )
    assert (code, err) == (0, "")
    assert f"已导出回访台账 2 行到 {out_file}" in out
    wb = load_workbook(out_file)
    ws = wb["回访台账"]
    assert ws["A1"].value == "本公司 回访台账（2026-11-01 至 2026-11-30）"
    header = [
        c.label for c in ledgers.columns(ledgers.Ledger.VISITS)
    ]  # the 台账 tab's 回访台账, every column
    assert [c.value for c in ws[2]] == header
    assert header == [
        "编号",
        "客户编号",
        "客户名称",
        "等级",
        "回访类型",
        "回访方式",
        "计划日期",
        "回访时间",
        "回访人",
        "结果",
        "满意度",
        "状态",
        "负责人",
        "问题点",
        "转交部门",
        "签字单",
        "已回访",
    ]
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:Q4"
    assert ws.column_dimensions["C"].width == 8  # fitted to the names (乙公司), at most the column's 28
    row = {h: c.value for h, c in zip(header, ws[3])}
    assert {
        k: row[k]
        for k in (
            "编号",
            "客户编号",
            "客户名称",
            "等级",
            "回访类型",
            "回访方式",
            "计划日期",
            "回访时间",
            "回访人",
            "结果",
            "满意度",
            "状态",
            "负责人",
        )
    } == {
        "编号": "HF20261124-001",
        "客户编号": "KH000002",
        "客户名称": "乙公司",
        "等级": "D",
        "回访类型": "到货",
        "回访方式": "电话",
        "计划日期": datetime(2026, 11, 30),
        "回访时间": datetime(2026, 11, 24, 9, 30),
        "回访人": "小王",
        "结果": "成功",
        "满意度": "很满意",
        "状态": "已回访",
        "负责人": "小王",
    }
    assert row["签字单"] == "无需"  # a phone visit: no signed paper form to collect
    assert ws["G3"].is_date and ws["H3"].is_date
    pending = [c.value for c in ws[4]]
    shown = "逾期" if date.today() > date(2026, 11, 30) else "待回访"  # the command runs on the real clock
    assert (pending[0], pending[4], pending[6], pending[9], pending[11]) == (
        None,
        "使用",
        datetime(2026, 11, 30),
        None,
        shown,
    )
    assert ws.max_row == 5  # the December satisfaction visit is outside the period; row 5 is the 合计
    totals = {h: c.value for h, c in zip(header, ws[5])}
    assert (totals["编号"], totals["已回访"]) == ("合计", 1)  # the visits made are summed
    with cctx.sessions() as s:
        log = s.execute(select(AuditLog).where(AuditLog.action == "导出回访台账")).scalar_one()
    assert (log.username, log.label) == ("system", "回访台账.xlsx")


def test_cli_export_visits_to_an_unwritable_path_fails_cleanly(run: Any, office: Any, tmp_path: Path) -> None:
    data, cctx, _ = office
    missing = tmp_path / "没有这个文件夹" / "台账.xlsx"
    code, out, err = run(["--data-dir", str(data), "export", "visits", str(missing)])
    assert (code, out) == (1, "")
    assert err.startswith("错误：无法写入") and "Traceback" not in err
    code, _, err = run(["--data-dir", str(data), "export", "visits", str(tmp_path)])  # a folder, not a file
    assert code == 1 and err.startswith("错误：无法写入")
    code, _, err = run(
        ["--data-dir", str(data), "export", "visits", str(tmp_path / "a.xlsx"), "--from", "11月"]
    )
    assert code == 1 and err.startswith("错误：开始日期：")
    assert not (tmp_path / "a.xlsx").exists() and not missing.parent.exists()
    with cctx.sessions() as s:
        assert (
            s.execute(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "导出回访台账")
            ).scalar_one()
            == 0
        )
