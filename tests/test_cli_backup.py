"""``backup`` and ``restore`` on the command line (for the office's scheduled task)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import backups, users
from huifang_desktop.services.customers import list_customers, register_customer
from huifang_desktop.storage.queries import CustomerFilter
from tests.test_cli_visits import run  # noqa: F401  (fixture)


def _add(data: Path, name: str, mobile: str) -> None:
    ctx = app.open_context(AppPaths(data))
    try:
        clerk = (
            users.find_user(ctx, "xiaowang")
            if users.has_users(ctx)
            else users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
        )
        register_customer(
            ctx.as_user(clerk), CustomerDraft(name=name, contacts=(ContactDraft(name="张", mobile=mobile),))
        )
    finally:
        ctx.engine.dispose()


def _names(data: Path) -> list[str]:
    ctx = app.open_context(AppPaths(data))
    try:
        return sorted(c.name for c in list_customers(ctx, CustomerFilter()))
    finally:
        ctx.engine.dispose()


def test_cli_backup_then_restore_round_trip(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data, folder = tmp_path / "data", tmp_path / "share"
    _add(data, "甲公司", "13900000001")
    code, out, err = run(["--data-dir", str(data), "backup", str(folder)])
    assert code == 0, err
    assert "已校验" in out
    [backup] = backups.list_backups(folder)
    _add(data, "乙公司", "13900000002")
    assert _names(data) == ["乙公司", "甲公司"]

    code, out, err = run(["--data-dir", str(data), "restore", str(backup.path), "--yes"])
    assert code == 0, err
    assert "客户 1" in out and "另存为" in out
    assert _names(data) == ["甲公司"]


def test_cli_restore_refuses_a_file_that_is_not_a_backup(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    _add(data, "甲公司", "13900000001")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00" * 5000)
    code, _out, err = run(["--data-dir", str(data), "restore", str(junk), "--yes"])
    assert code != 0 and "不能恢复" in err
    assert _names(data) == ["甲公司"]


def test_cli_restore_can_replace_a_database_that_no_longer_opens(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data, folder = tmp_path / "data", tmp_path / "bk"
    _add(data, "甲公司", "13900000001")
    assert run(["--data-dir", str(data), "backup", str(folder)])[0] == 0
    (data / "huifang.db").write_bytes(b"garbage" * 1000)
    for extra in ("huifang.db-wal", "huifang.db-shm"):
        (data / extra).unlink(missing_ok=True)
    [backup] = backups.list_backups(folder)
    code, _out, err = run(["--data-dir", str(data), "restore", str(backup.path), "--yes"])
    assert code == 0, err
    assert _names(data) == ["甲公司"]
