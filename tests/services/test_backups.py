"""Backups: verified copies, rotation, listing, restore round trip, refusals that keep the data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import backups as b
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.storage.db import sqlite_path
from huifang_desktop.storage.models import AuditLog, Customer
from tests.conftest import BACKEND

pytestmark = pytest.mark.sqlite_only  # the file itself; PostgreSQL: see the last test


def _customer(ctx: ServiceContext, name: str, mobile: str) -> None:
    register_customer(ctx, CustomerDraft(name=name, contacts=(ContactDraft(name="张", mobile=mobile),)))


def _names(ctx: ServiceContext) -> list[str]:
    with ctx.sessions() as s:
        return list(s.execute(select(Customer.name).order_by(Customer.id)).scalars())


def test_backup_change_restore_gives_back_exactly_the_backed_up_records(
    ctx: ServiceContext, clerk: UserInfo, admin: UserInfo, tmp_path: Path
) -> None:
    cctx, actx = ctx.as_user(clerk), ctx.as_user(admin)
    _customer(cctx, "甲公司", "13900000001")
    _customer(cctx, "乙公司", "13900000002")
    info = b.make_backup(actx, tmp_path / "bk")
    assert info.path.exists() and info.reason == "manual" and info.size > 0
    check = b.check_backup(info.path)
    assert check.ok and ("客户", 2) in check.counts

    _customer(cctx, "丙公司", "13900000003")
    with ctx.sessions() as s, s.begin():
        s.get(Customer, 1).name = "被改坏的名字"  # type: ignore[union-attr]
    assert _names(ctx) == ["被改坏的名字", "乙公司", "丙公司"]

    _check, aside = b.restore(actx, info.path, tmp_path / "bk")
    assert _names(ctx) == ["甲公司", "乙公司"]
    assert aside is not None and b.check_backup(aside).counts[0] == ("客户", 3)  # the replaced file is kept
    with ctx.sessions() as s:
        assert (
            s.execute(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "恢复备份")
            ).scalar()
            == 1
        )


def test_clerk_cannot_back_up_or_restore(ctx: ServiceContext, clerk: UserInfo, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        b.make_backup(ctx.as_user(clerk), tmp_path)
    with pytest.raises(PermissionDenied):
        b.restore(ctx.as_user(clerk), tmp_path / "x.db", tmp_path)


def test_restore_refuses_a_broken_file_and_keeps_the_database(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, tmp_path: Path
) -> None:
    _customer(ctx.as_user(clerk), "甲公司", "13900000001")
    bad = tmp_path / "huifang-20261124-090000-000000-manual.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(b.BackupError, match="不是数据库文件或已损坏"):
        b.restore(ctx.as_user(admin), bad, tmp_path / "aside")
    assert _names(ctx) == ["甲公司"]


def test_daily_backup_once_a_day_and_rotation(ctx: ServiceContext, tmp_path: Path) -> None:
    folder = tmp_path / "bk"
    first = b.ensure_daily_backup(ctx, folder)
    assert first is not None and first.reason == "daily"
    assert b.ensure_daily_backup(ctx, folder) is None  # already one today
    # old files from earlier years are rotated away, pre-migration ones stay
    for name in (
        "huifang-20200101-090000-000000-daily.db",
        "huifang-20200101-090000-000000-pre-migrate-0001.db",
    ):
        (folder / name).write_bytes(b"x")
    b.rotate(folder, datetime(2026, 11, 24, 12, 0))
    left = {p.name for p in folder.iterdir()}
    assert "huifang-20200101-090000-000000-daily.db" not in left
    assert "huifang-20200101-090000-000000-pre-migrate-0001.db" in left
    assert next(i.reason for i in b.list_backups(folder)) == "daily"


def test_backup_into_unwritable_folder_is_a_clear_error(ctx: ServiceContext, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(b.BackupError, match="无法写入备份文件夹"):
        b.make_backup(ctx, blocker / "sub")
    assert sqlite_path(ctx.engine) is not None


def test_set_backup_folder_checks_it_is_writable(
    ctx: ServiceContext, admin: UserInfo, tmp_path: Path
) -> None:
    actx = ctx.as_user(admin)
    target = b.set_backup_folder(actx, tmp_path / "share" / "huifang")
    assert b.backup_folder(actx, tmp_path / "default") == target.resolve()
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(b.BackupError, match="无法写入"):
        b.set_backup_folder(actx, blocker / "x")


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL only")
def test_postgres_backup_uses_pg_dump(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """On PostgreSQL the program backs up with pg_dump (or says plainly that it cannot)."""
    import shutil

    from huifang_desktop.storage.db import make_engine, make_session_factory

    server = request.getfixturevalue("pg_server")
    eng = make_engine(server.url("huifang_template"))  # type: ignore[attr-defined]
    try:
        pctx = ServiceContext(eng, make_session_factory(eng))
        if shutil.which("pg_dump") is None:
            with pytest.raises(b.BackupError, match="服务器自己的备份"):
                b.make_backup(pctx, tmp_path)
        else:
            info = b.make_backup(pctx, tmp_path)
            assert info.path.suffix == ".dump" and info.size > 0
    finally:
        eng.dispose()
