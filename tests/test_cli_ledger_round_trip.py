"""The ledgers' round trip through the command line: export every ledger of a demo office, import the
customer ledger (全部: the archived files too, 状态 已归档) into an empty database (same users), export it
again: the same cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import users
from huifang_desktop.storage.models import Department, User
from tests.test_cli_visits import run  # noqa: F401  (fixture)

LEDGERS = ("customers", "visits", "complaints", "services", "endcustomers")


def _cells(path: Path) -> tuple[list[list[Any]], list[list[Any]]]:
    """(the ledger sheet from its header row on, the second sheet's filter rows without the export time)."""
    wb = load_workbook(path)
    first, second = wb.worksheets[0], wb.worksheets[1]
    rows = [[c.value for c in r] for r in first.iter_rows()]
    header = next(
        i
        for i, r in enumerate(rows)
        if r and r[0] in ("客户编号", "回访日期", "受理时间", "服务单号", "终端客户", "计划日期", "投诉编号")
    )
    about = [[c.value for c in r] for r in second.iter_rows() if r[0].value not in ("导出时间", "导出人")]
    return rows[header:], about


def _copy_users(source: Path, target: Path) -> None:
    a, b = app.open_context(AppPaths(source)), app.open_context(AppPaths(target))
    try:
        with a.sessions() as s:
            people = s.execute(
                select(User.username, User.display_name, User.role, Department.name)
                .outerjoin(Department, Department.id == User.department_id)
                .order_by(User.id)
            ).all()
        for username, name, role, department in people:
            users.create_user(b, username, name, Role(role), "secret-123", department or "")
    finally:
        a.engine.dispose()
        b.engine.dispose()


def test_export_every_ledger_import_the_customers_and_export_the_same_cells(run: Any, tmp_path: Path) -> None:  # noqa: F811
    office, empty = tmp_path / "office", tmp_path / "empty"
    code, _out, err = run(
        [
            "--data-dir",
            str(office),
            "demo",
            "--customers",
            "80",
            "--seed",
            "5",
            "--visits",
            "300",
            "--complaints",
            "20",
        ]
    )
    assert code == 0, err
    for ledger in LEDGERS:
        out = tmp_path / f"{ledger}.xlsx"
        code, stdout, err = run(["--data-dir", str(office), "export", ledger, str(out)])
        assert code == 0, err
        assert out.exists() and "行到" in stdout
    rows, _about = _cells(tmp_path / "customers.xlsx")
    assert rows[0][:2] == ["客户编号", "客户名称"] and len(rows) > 60  # header, every file, totals
    states = [r[rows[0].index("状态")] for r in rows]
    assert "已归档" in states  # 全部 holds the archived files (issue 21)

    # 客户台账（全部） imported into an empty office: every file, the archived ones archived
    _copy_users(office, empty)
    code, stdout, err = run(
        ["--data-dir", str(empty), "import", "customers", str(tmp_path / "customers.xlsx")]
    )
    assert code == 0, stdout + err
    assert f"{states.count('已归档')} 行状态为“已归档”：导入为已归档的客户档案" in stdout
    again = tmp_path / "again.xlsx"
    code, _stdout, err = run(["--data-dir", str(empty), "export", "customers", str(again)])
    assert code == 0, err
    assert _cells(again) == _cells(tmp_path / "customers.xlsx")
