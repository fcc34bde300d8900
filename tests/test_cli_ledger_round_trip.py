"""The ledgers' round trip through the command line: export every ledger of a demo office, import the
customer ledger into an empty database (same users), export it again: the same cells."""

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
    header = next(i for i, r in enumerate(rows) if r and r[0] in ("客户编号", "回访日期", "受理时间", "服务单号",
                                                               "终端客户", "计划日期", "投诉编号"))
    about = [[c.value for c in r] for r in second.iter_rows()
             if r[0].value not in ("导出时间", "导出人")]
    return rows[header:], about


def _copy_users(source: Path, target: Path) -> None:
    a, b = app.open_context(AppPaths(source)), app.open_context(AppPaths(target))
    try:
        with a.sessions() as s:
            people = s.execute(select(User.username, User.display_name, User.role, Department.name)
                               .outerjoin(Department, Department.id == User.department_id)
                               .order_by(User.id)).all()
        for username, name, role, department in people:
            users.create_user(b, username, name, Role(role), "secret-123", department or "")
    finally:
        a.engine.dispose()
        b.engine.dispose()


def test_export_every_ledger_import_the_customers_and_export_the_same_cells(
        run: Any, tmp_path: Path) -> None:  # noqa: F811
    office, empty = tmp_path / "office", tmp_path / "empty"
    code, _out, err = run(["--data-dir", str(office), "demo", "--customers", "80", "--seed", "5",
                           "--visits", "300", "--complaints", "20"])
    assert code == 0, err
    for ledger in LEDGERS:
        out = tmp_path / f"{ledger}.xlsx"
        code, stdout, err = run(["--data-dir", str(office), "export", ledger, str(out)])
        assert code == 0, err
        assert out.exists() and "行到" in stdout
    rows, _about = _cells(tmp_path / "customers.xlsx")
    assert rows[0][:2] == ["客户编号", "客户名称"] and len(rows) > 60  # header, every file, totals
    assert "已归档" in [r[rows[0].index("状态")] for r in rows]  # 全部 holds the archived files (issue 21)

    # the round trip is of the files in use (未归档): an import refuses 状态 已归档, it makes files in use
    in_use = tmp_path / "in_use.xlsx"
    code, _stdout, err = run(["--data-dir", str(office), "export", "customers", str(in_use), "--state", "未归档"])
    assert code == 0, err
    _copy_users(office, empty)
    code, stdout, err = run(["--data-dir", str(empty), "import", "customers", str(in_use)])
    assert code == 0, stdout + err
    again = tmp_path / "again.xlsx"
    code, _stdout, err = run(["--data-dir", str(empty), "export", "customers", str(again), "--state", "未归档"])
    assert code == 0, err
    assert _cells(again) == _cells(in_use)
