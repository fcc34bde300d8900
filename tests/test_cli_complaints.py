"""``export complaints`` run in-process through ``huifang_desktop.app.main``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints, users
from huifang_desktop.services.context import ServiceContext
from tests.test_cli_visits import run  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 24, 10, 0)
REQUIRED = (
    "投诉编号",
    "投诉日期",
    "投诉主题",
    "投诉内容",
    "投诉人",
    "联系方式",
    "类别",
    "严重程度",
    "负责人",
    "处理期限",
    "处理状态",
    "是否逾期",
    "回访结果",
)


def _office(data: Path) -> list[str]:
    base = app.open_context(AppPaths(data))
    try:
        ctx = ServiceContext(base.engine, base.sessions, clock=lambda: NOW)
        clerk = users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
        cctx = ctx.as_user(clerk)
        numbers = []
        for subject, day in (("送货延误", "2026-11-02 09:00"), ("发票开错", "2026-11-20 15:00")):
            d = complaints.register(
                cctx,
                complaints.IntakeDraft(
                    subject=subject,
                    received_at=day,
                    complainant="张经理",
                    phone="13812345678",
                    category="交付物流",
                ),
            )
            numbers.append(d.number)
        complaints.accept(cctx, complaints.list_complaints(cctx)[-1].id)
        return numbers
    finally:
        base.engine.dispose()


def test_cli_export_complaints_writes_the_ledger(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    numbers = _office(data)
    out = tmp_path / "投诉台账.xlsx"
    code, stdout, _err = run(["--data-dir", str(data), "export", "complaints", str(out)])
    assert code == 0 and "2 行" in stdout
    ws = load_workbook(out).active
    header = [c.value for c in ws[2]]
    assert set(REQUIRED) <= set(header)
    got = [dict(zip(header, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=3, max_row=4)]
    assert [g["投诉编号"] for g in got] == numbers
    totals = dict(zip(header, [c.value for c in ws[5]], strict=True))
    assert (totals["投诉编号"], totals["重复次数"], totals["升级次数"]) == ("合计", 2, 0)


def test_cli_export_complaints_filters_by_date_and_state(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    numbers = _office(data)
    out = tmp_path / "x.xlsx"
    code, stdout, _ = run(["--data-dir", str(data), "export", "complaints", str(out), "--from", "2026-11-10"])
    assert code == 0 and "1 行" in stdout
    assert load_workbook(out).active["A3"].value == numbers[1]
    code, _out, err = run(["--data-dir", str(data), "export", "complaints", str(out), "--state", "乱写"])
    assert code != 0 and "未知状态" in err
