"""``export audit`` run in-process through ``huifang_desktop.app.main``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import review, users, visits
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from tests.test_cli_visits import run  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 24, 10, 0)


def _office(data: Path) -> list[str]:
    """A clerk's two visit records: one signed, one returned by the supervisor. Returns the record numbers."""
    base = app.open_context(AppPaths(data))
    try:
        ctx = ServiceContext(base.engine, base.sessions, clock=lambda: NOW)
        clerk = users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
        boss = users.create_user(ctx, "zhuguan", "李主管", Role.SUPERVISOR, "secret-123", "客服部")
        cctx, sctx = ctx.as_user(clerk), ctx.as_user(boss)
        c = register_customer(
            cctx,
            CustomerDraft(
                name="杭州远纳运输有限公司",
                created_on="2026-11-01",
                contacts=(ContactDraft(name="张倩", mobile="15199743456"),),
            ),
        )
        rows = [
            visits.record_visit(
                cctx,
                visits.VisitRecordDraft(
                    customer_id=c.id, result="成功", satisfaction="满意", visited_at=f"2026-11-2{d} 09:00"
                ),
            )
            for d in (3, 4)
        ]
        review.sign(sctx, "record", rows[0].id, "同意", password="secret-123")
        review.return_for_rework(sctx, "record", rows[1].id, "请补充客户意见")
        return [r.number for r in rows]
    finally:
        base.engine.dispose()


def _sheet(out: Path) -> list[dict[str, Any]]:
    ws = load_workbook(out).active
    header = [c.value for c in ws[2]]
    assert header[:6] == ["时间", "用户", "操作", "对象", "原值", "新值"]
    return [dict(zip(header, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=3)]


def test_cli_export_audit_writes_every_action_with_old_and_new_values(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    numbers = _office(data)
    out = tmp_path / "操作日志.xlsx"
    code, stdout, _err = run(["--data-dir", str(data), "export", "audit", str(out)])
    assert code == 0 and "已导出操作日志" in stdout
    rows = _sheet(out)
    actions = [r["操作"] for r in rows]
    assert {"新建用户", "新建客户", "填写回访记录", "签字", "退回修改"} <= set(actions)
    signed = next(r for r in rows if r["操作"] == "签字")
    assert (signed["用户"], signed["时间"], signed["原值"]) == ("李主管", NOW, "状态：待审阅")
    assert signed["对象"].startswith(f"回访记录 {numbers[0]}") and "签字人：李主管" in signed["新值"]
    assert f"{len(rows)} 行" in stdout


def test_cli_export_audit_filters_by_user_action_and_date(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    numbers = _office(data)
    out = tmp_path / "a.xlsx"
    code, stdout, _err = run(
        [
            "--data-dir",
            str(data),
            "export",
            "audit",
            str(out),
            "--user",
            "zhuguan",
            "--action",
            "退回修改",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-24",
        ]
    )
    assert code == 0 and "1 行" in stdout
    [row] = _sheet(out)
    assert (row["操作"], row["用户"], row["新值"]) == (
        "退回修改",
        "李主管",
        "原因：请补充客户意见；状态：退回",
    )
    assert numbers[1] in row["对象"]
    # (the export itself is logged under today's real date, so the empty range is asked of the supervisor)
    code, stdout, _err = run(
        ["--data-dir", str(data), "export", "audit", str(out), "--user", "zhuguan", "--from", "2026-11-25"]
    )
    assert code == 0 and "0 行" in stdout


def test_cli_export_audit_refuses_bad_input(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    _office(data)
    code, _out, err = run(
        ["--data-dir", str(data), "export", "audit", str(tmp_path / "x.xlsx"), "--user", "nobody"]
    )
    assert code == 1 and "不存在" in err
    code, _out, err = run(
        [
            "--data-dir",
            str(data),
            "export",
            "audit",
            str(tmp_path / "x.xlsx"),
            "--from",
            "2026-11-25",
            "--to",
            "2026-11-01",
        ]
    )
    assert code == 1 and "不能早于开始日期" in err
    code, _out, err = run(["--data-dir", str(data), "export", "audit", str(tmp_path / "no" / "x.xlsx")])
    assert code == 1 and "文件夹不存在" in err
    assert not (tmp_path / "x.xlsx").exists()
