"""Backup bookkeeping and file safety (issue 23, items 7 and 8): only verified backups count, a wrong clock
does not stop the daily backup, a damaged database is named as such, leftovers go at the next start, a full
disk cancels a restore, owner-only files, and pg_dump never sees the password on its command line."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import stat
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.backups import RotationPolicy, parse_backup_name
from huifang_desktop.services import backups as b
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage import credentials
from huifang_desktop.storage.db import (
    DatabaseError,
    make_engine,
    make_session_factory,
    sqlite_path,
    sqlite_url,
)
from tests.conftest import NOW

pytestmark = pytest.mark.sqlite_only


def _name(at: datetime, reason: str = "daily") -> str:
    return f"huifang-{at:%Y%m%d-%H%M%S}-000000-{reason}.db"


@pytest.fixture()
def real_backup(ctx: ServiceContext, tmp_path: Path) -> Path:
    """A verified backup of the test database, to copy under other names."""
    if sqlite_path(ctx.engine) is None:
        pytest.skip("SQLite only")
    return b.make_backup(ctx, tmp_path / "made").path


def test_a_future_dated_backup_does_not_stop_the_daily_backup(
    ctx: ServiceContext,
    real_backup: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(b.log, "disabled", False)  # another test's logging.config may have switched it off
    folder = tmp_path / "bk"
    folder.mkdir()
    future = folder / _name(NOW + timedelta(days=200))  # made on a PC whose clock was months ahead
    shutil.copyfile(real_backup, future)
    with caplog.at_level(logging.WARNING):
        made = b.ensure_daily_backup(ctx, folder)
    assert made is not None and made.at.date() == NOW.date()
    assert "晚于现在" in caplog.text and future.name in caplog.text
    assert b.ensure_daily_backup(ctx, folder) is None  # and then, once a day as before
    assert future.exists()


def test_fake_or_cut_short_files_are_not_backups(
    ctx: ServiceContext, real_backup: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "bk"
    folder.mkdir()
    fake = folder / _name(NOW - timedelta(hours=1))
    fake.write_bytes(b"not a backup" * 500)
    cut = folder / _name(NOW - timedelta(hours=2), "manual")
    data = real_backup.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # a copy cut short (a full disk, a kill)
    assert b.list_backups(folder) == []
    made = b.ensure_daily_backup(ctx, folder)  # today's files are no backups: today's backup is still due
    assert made is not None
    assert [i.path for i in b.list_backups(folder)] == [made.path]


def test_a_fake_file_takes_no_place_in_the_rotation(real_backup: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bk"
    folder.mkdir()
    real = folder / _name(NOW - timedelta(days=3))
    shutil.copyfile(real_backup, real)
    fake = folder / _name(NOW - timedelta(days=2))
    fake.write_bytes(b"x" * 4096)
    b.rotate(folder, NOW, RotationPolicy(daily=1, weekly=0, monthly=0))
    assert real.exists(), "the only real backup was rotated away for a fake one"
    assert not fake.exists()


def test_backing_up_a_damaged_database_says_it_is_damaged(tmp_path: Path) -> None:
    db = tmp_path / "huifang.db"
    db.write_bytes(b"garbage, not a database " * 4000)
    eng = make_engine(sqlite_url(db))
    try:
        ctx = ServiceContext(eng, make_session_factory(eng))
        with pytest.raises(b.BackupError) as info:
            b.make_backup(ctx, tmp_path / "bk")
    finally:
        eng.dispose()
    assert "当前数据库已损坏" in str(info.value) and "请从备份恢复" in str(info.value)
    assert "无法写入备份文件夹" not in str(info.value)
    assert not any((tmp_path / "bk").glob("*"))  # no half backup either


def test_leftovers_of_a_killed_backup_or_restore_go_at_the_next_start(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "data")
    app.open_context(paths).engine.dispose()
    part = paths.backups / "huifang-20261124-093000-000000-daily.db.part"
    part.write_bytes(b"\0" * 100_000)  # a kill during the backup
    restore_part = paths.database.with_name("huifang.db.restore-part")
    restore_part.write_bytes(b"\0" * 1000)
    whole = paths.database.read_bytes()
    cut = paths.backups / "huifang-20261124-093100-000000-pre-restore.db"
    cut.write_bytes(whole[: len(whole) // 2])  # a pre-restore copy cut short by a full disk
    damaged_aside = paths.backups / "huifang-20261124-093200-000000-pre-restore.db"
    damaged_aside.write_bytes(b"garbage kept as it was")  # a damaged file set aside on purpose: kept
    app.open_context(paths).engine.dispose()
    assert not part.exists() and not restore_part.exists() and not cut.exists()
    assert damaged_aside.exists()


def test_a_full_disk_while_setting_the_current_file_aside_cancels_the_restore(
    ctx: ServiceContext, real_backup: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite_path(ctx.engine)
    assert db is not None
    ctx.engine.dispose()
    before = db.read_bytes()

    def disk_full(source: Path, target: Path) -> None:
        part = target.with_name(target.name + ".part")
        part.write_bytes(source.read_bytes()[:4096])  # what fitted on the disk
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(b, "copy_sqlite_file", disk_full)
    aside = tmp_path / "aside"
    with pytest.raises(b.BackupError, match="恢复已取消"):
        b.restore_file(real_backup, db, aside)
    assert db.read_bytes() == before
    assert list(aside.iterdir()) == []  # no cut-short copy left behind


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_database_backups_and_logs_are_owner_only(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "data")
    ctx = app.open_context(paths)
    try:
        app.setup_logging(paths)
        logging.getLogger("huifang").info("x")
        info = b.make_backup(ctx, paths.backups)
    finally:
        ctx.engine.dispose()
        for h in logging.getLogger().handlers[:]:
            if getattr(h, "baseFilename", None) == str(paths.log_file):
                logging.getLogger().removeHandler(h)
                h.close()

    def mode(p: Path) -> int:
        return stat.S_IMODE(p.stat().st_mode)

    assert {mode(d) for d in (paths.data_dir, paths.backups, paths.logs)} == {0o700}
    assert mode(paths.database) == 0o600 and mode(info.path) == 0o600 and mode(paths.log_file) == 0o600
    wal = paths.database.with_name("huifang.db-wal")
    assert not wal.exists() or mode(wal) == 0o600


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_existing_files_are_tightened_at_start(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "data")
    app.open_context(paths).engine.dispose()
    os.chmod(paths.database, 0o644)
    os.chmod(paths.data_dir, 0o755)
    app.open_context(paths).engine.dispose()
    assert stat.S_IMODE(paths.database.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.data_dir.stat().st_mode) == 0o700


def _fake_pg_tools(
    monkeypatch: pytest.MonkeyPatch,
    calls: list[tuple[list[str], dict[str, str] | None]],
    listing: str = "; Archive\n1; 0 0 TABLE DATA public customer huifang\n",
) -> None:
    monkeypatch.setattr(b.shutil, "which", lambda name: f"/opt/pg/bin/{name}")

    def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        env = kwargs.get("env")
        calls.append((list(args), dict(env) if isinstance(env, dict) else None))  # type: ignore[arg-type]
        if args[0].endswith("pg_dump"):
            target = next(a.split("=", 1)[1] for a in args if a.startswith("--file="))
            Path(target).write_bytes(b"PGDMP" + b"\0" * 2000)
            return subprocess.CompletedProcess(args, 0, "", "")
        return subprocess.CompletedProcess(
            args, 0 if listing else 1, listing, "" if listing else "bad archive"
        )

    monkeypatch.setattr(b.subprocess, "run", run)


def _pg_ctx(tmp_path: Path) -> ServiceContext:
    """What ``_pg_dump`` reads of the office: its server address (never connected; no PostgreSQL driver
    needed, so this runs where only the README's test extra is installed)."""
    from types import SimpleNamespace

    url = make_url("postgresql+psycopg://huifang:s3cret-pw@192.0.2.10:5433/huifang")
    return SimpleNamespace(engine=SimpleNamespace(url=url))  # type: ignore[return-value]


def test_pg_dump_gets_the_password_in_its_environment_never_on_its_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], dict[str, str] | None]] = []
    _fake_pg_tools(monkeypatch, calls)
    path = b._pg_dump(_pg_ctx(tmp_path), tmp_path / "bk", "manual", NOW)
    dump_args, dump_env = calls[0]
    assert not any("s3cret-pw" in a for a in dump_args), dump_args
    assert dump_env is not None and dump_env["PGPASSWORD"] == "s3cret-pw"
    assert any("192.0.2.10" in a for a in dump_args) and "--no-password" in dump_args
    assert calls[1][0][:2] == ["/opt/pg/bin/pg_restore", "--list"]  # verified
    assert path.suffix == ".dump" and stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    assert [i.path for i in b.list_backups(tmp_path / "bk")] == [path]  # counted (and so rotated)


def test_a_pg_dump_that_pg_restore_cannot_list_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], dict[str, str] | None]] = []
    _fake_pg_tools(monkeypatch, calls, listing="")
    with pytest.raises(b.BackupError, match="备份校验失败"):
        b._pg_dump(_pg_ctx(tmp_path), tmp_path / "bk", "manual", NOW)
    assert list((tmp_path / "bk").iterdir()) == []


def test_pg_dump_backups_are_named_counted_and_rotated_like_sqlite_ones() -> None:
    parsed = parse_backup_name("huifang-20261124-093000-000000-daily.dump")
    assert parsed is not None and parsed.reason == "daily"


def test_the_postgresql_password_comes_from_an_owner_only_passfile(tmp_path: Path) -> None:
    url = "postgresql+psycopg://huifang@192.0.2.10/huifang"
    assert credentials.with_passfile(url, tmp_path) == url  # no file: libpq's own defaults
    passfile = tmp_path / "pgpass"
    passfile.write_text("192.0.2.10:5432:huifang:huifang:s3cret\n", encoding="utf-8")
    os.chmod(passfile, 0o600)
    got = make_url(credentials.with_passfile(url, tmp_path))
    assert got.password is None and got.query["passfile"] == str(passfile)
    with_pw = "postgresql+psycopg://huifang:pw@192.0.2.10/huifang"
    assert credentials.with_passfile(with_pw, tmp_path) == with_pw


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_a_passfile_others_can_read_is_refused_with_what_to_do(tmp_path: Path) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_text("*:*:*:huifang:s3cret\n", encoding="utf-8")
    os.chmod(passfile, 0o644)
    with pytest.raises(DatabaseError, match="其他用户也能读取") as info:
        credentials.with_passfile("postgresql+psycopg://huifang@192.0.2.10/huifang", tmp_path)
    assert "chmod 600" in str(info.value)
    pytest.importorskip("psycopg")  # the program checks the driver first: without it, that is the message
    with pytest.raises(app.UserError, match="其他用户也能读取"):
        app.open_context(AppPaths(tmp_path), "postgresql+psycopg://huifang@192.0.2.10/huifang")
