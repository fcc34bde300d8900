"""Bad environments: a locked database, a full disk, a read-only folder, a file that is not a database and
a database from a newer version. Each gives a clear Chinese message, loses nothing already saved, and the
program does not start half-working."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import customers, users
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage import db
from huifang_desktop.storage.models import Customer
from tests.test_cli_visits import run  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]


def _office(data: Path, n: int = 3) -> None:
    ctx = app.open_context(AppPaths(data))
    try:
        clerk = users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
        for i in range(n):
            customers.register_customer(
                ctx.as_user(clerk),
                CustomerDraft(name=f"客户{i}", contacts=(ContactDraft(name="张", mobile=f"1390000{i:04d}"),)),
            )
    finally:
        ctx.engine.dispose()


def _count(data: Path) -> int:
    conn = sqlite3.connect(str(data / "huifang.db"))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(conn.execute("SELECT count(*) FROM customer").fetchone()[0])
    finally:
        conn.close()


def test_locked_database_gives_a_clear_message_and_keeps_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    _office(data)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(str(data / "huifang.db"), timeout=0.1)
    holder.execute("BEGIN IMMEDIATE")  # another PC holds the write lock past the busy timeout
    holder.execute("UPDATE setting SET value = value")
    ctx = app.open_context(AppPaths(data))
    try:
        clerk = users.find_user(ctx, "xiaowang")
        with pytest.raises(db.DatabaseError, match="被其他程序或其他电脑占用") as info:
            customers.register_customer(
                ctx.as_user(clerk),
                CustomerDraft(name="新客户", contacts=(ContactDraft(name="李", mobile="13800000001"),)),
            )
        assert "没有保存" in str(info.value)
    finally:
        holder.rollback()
        holder.close()
        ctx.engine.dispose()
    assert _count(data) == 3


def test_locked_database_on_the_command_line_is_a_chinese_error(
    run: Any,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    _office(data)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(str(data / "huifang.db"), timeout=0.1)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, _out, err = run(["--data-dir", str(data), "settings", "set", "company", "明达"])
    finally:
        holder.rollback()
        holder.close()
    assert code == 1
    assert "占用" in err and "Traceback" not in err
    assert _count(data) == 3


_FULL_DISK = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    from huifang_desktop import app
    from huifang_desktop.config import AppPaths
    from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
    from huifang_desktop.services import customers, users
    from huifang_desktop.storage.db import DatabaseError

    data = Path(sys.argv[1])
    ctx = app.open_context(AppPaths(data))
    clerk = users.find_user(ctx, "xiaowang")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, like a full disk
    size = max(p.stat().st_size for p in data.glob("huifang.db*"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 64 * 1024, size + 64 * 1024))
    saved = 0
    for i in range(100000):
        try:
            customers.register_customer(ctx.as_user(clerk), CustomerDraft(
                name="满盘客户" + str(i), notes="备注" * 400,
                contacts=(ContactDraft(name="张", mobile="137" + format(i, "08d")),)))
        except DatabaseError as exc:
            print("SAVED", saved)
            print("MESSAGE", exc)
            sys.exit(0)
        saved += 1
    print("NEVER FULL")
""")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_full_disk_gives_a_clear_message_and_keeps_what_was_saved(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _office(data)
    script = tmp_path / "full.py"
    script.write_text(_FULL_DISK, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script), str(data)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert "NEVER" not in lines
    assert "磁盘" in lines["MESSAGE"] and "没有保存" in lines["MESSAGE"]
    saved = int(lines["SAVED"])
    # without the limit: the file opens, is intact, and holds every customer saved before the disk filled up
    assert _count(data) == 3 + saved
    ctx = app.open_context(AppPaths(data))
    try:
        with ctx.sessions() as s:
            assert s.execute(select(func.count(Customer.id))).scalar() == 3 + saved
    finally:
        ctx.engine.dispose()


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0,
    reason="root ignores folder permissions; POSIX permissions only",
)
def test_read_only_data_folder_refuses_to_start(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    _office(data)
    os.chmod(data, 0o500)
    try:
        code, _out, err = run(["--data-dir", str(data), "plan"])
    finally:
        os.chmod(data, 0o700)
    assert code == 1 and "无法写入数据文件夹" in err
    assert _count(data) == 3


def test_data_folder_that_is_a_file_refuses_to_start(run: Any, tmp_path: Path) -> None:  # noqa: F811
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    code, _out, err = run(["--data-dir", str(blocker), "plan"])
    assert code == 1 and "无法写入数据文件夹" in err and "Traceback" not in err
    assert blocker.read_text() == "a file where the data folder should be"


def test_file_that_is_not_a_database_refuses_to_start_and_is_left_alone(
    run: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    junk = b"PK\x03\x04 this is an Excel file someone renamed" * 50
    (data / "huifang.db").write_bytes(junk)
    code, _out, err = run(["--data-dir", str(data), "plan"])
    assert code == 1 and "无法打开数据库" in err and "备份" in err
    assert (data / "huifang.db").read_bytes() == junk


def test_database_from_a_newer_version_refuses_to_start(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    _office(data)
    conn = sqlite3.connect(str(data / "huifang.db"))
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()
    code, _out, err = run(["--data-dir", str(data), "plan"])
    assert code == 1 and "比本程序新" in err
    assert _count(data) == 3


def test_explain_db_error_maps_the_common_failures() -> None:
    assert "占用" in (db.explain_db_error(sqlite3.OperationalError("database is locked")) or "")
    assert "磁盘空间已满" in (db.explain_db_error(sqlite3.OperationalError("database or disk is full")) or "")
    assert "只读" in (
        db.explain_db_error(sqlite3.OperationalError("attempt to write a readonly database")) or ""
    )
    assert db.explain_db_error(ValueError("something else")) is None


def test_service_context_is_unchanged_by_translation(ctx: ServiceContext) -> None:
    with ctx.sessions() as s:  # ordinary queries are untouched by the error hook
        assert s.execute(select(func.count(Customer.id))).scalar() == 0
