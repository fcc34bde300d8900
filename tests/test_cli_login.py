"""No password-free entry, checked on the real program (``python -m huifang_desktop`` in a subprocess):
``--screenshot``, ``--demo`` and ``--user`` open only an example office; on any other office they save
nothing and exit non-zero with a message. Plus ``users unlock`` and a generated first password."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.services import users
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.storage.models import AuditLog
from tests.conftest import MainRunner

ROOT = Path(__file__).resolve().parents[1]


def _program(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "huifang_desktop", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )  # no terminal, as in a scheduled task


def _logins(data: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(data / "huifang.db") as conn:
        return conn.execute(
            "SELECT username, note FROM audit_log WHERE action = '登录' ORDER BY id"
        ).fetchall()


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """A real office (not an example): its first user made with ``users add``."""
    data = tmp_path / "office"
    result = _program(
        "--data-dir",
        data,
        "users",
        "add",
        "boss",
        "--name",
        "老板",
        "--role",
        "supervisor",
        "--password",
        "secret-123",
    )
    assert result.returncode == 0, result.stderr
    return data


@pytest.mark.parametrize("extra", [[], ["--demo"], ["--user", "boss"]], ids=["screenshot", "demo", "user"])
def test_screenshots_of_an_office_that_is_not_an_example_are_refused(
    office: Path, tmp_path: Path, extra: list[str]
) -> None:
    shots = tmp_path / "shots"
    result = _program("--data-dir", office, "--screenshot", shots, *extra)
    assert result.returncode == 1
    assert "不是示例办公室" in result.stderr and "Traceback" not in result.stderr
    assert not shots.exists() or not list(shots.glob("*.png"))
    assert _logins(office) == []


def test_demo_with_a_database_url_of_an_office_is_refused(office: Path, tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    url = f"sqlite:///{office / 'huifang.db'}"
    result = _program(
        "--data-dir", tmp_path / "elsewhere", "--database-url", url, "--demo", "--screenshot", shots
    )
    assert result.returncode == 1 and "不是示例办公室" in result.stderr
    assert not shots.exists() or not list(shots.glob("*.png"))
    assert _logins(office) == []


def test_an_example_office_opens_without_a_password_and_the_log_in_is_audited(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    made = _program("--data-dir", data, "demo", "--customers", "5", "--seed", "2")
    assert made.returncode == 0, made.stderr
    shots = tmp_path / "shots"
    result = _program("--data-dir", data, "--demo", "--screenshot", shots)
    assert result.returncode == 0, result.stderr
    assert len(list(shots.glob("*.png"))) >= 12  # the six tabs and the main dialogs
    result = _program("--data-dir", data, "--screenshot", tmp_path / "as-manager", "--user", "manager")
    assert result.returncode == 0, result.stderr
    assert [(name, note.split("（")[0]) for name, note in _logins(data)] == [
        ("supervisor", "示例办公室免密码登录"),
        ("manager", "示例办公室免密码登录"),
    ]


def test_the_gui_demo_start_on_an_office_is_refused_in_process(
    office: Path, run_main: MainRunner, qapp: object
) -> None:
    code, _out, err = run_main(["--data-dir", str(office), "--demo"])
    assert code == 1 and "不是示例办公室" in err
    assert _logins(office) == []


def test_users_unlock_lifts_a_lock_out(office: Path) -> None:
    ctx = app.open_context(AppPaths(office))
    try:
        for _ in range(5):
            with pytest.raises(users.LoginFailed):
                users.authenticate(ctx, "boss", "wrong-pass")
        with pytest.raises(users.AccountLocked):
            users.authenticate(ctx, "boss", "secret-123")
    finally:
        ctx.engine.dispose()
    listed = _program("--data-dir", office, "users", "list")
    assert "已锁定至" in listed.stdout
    result = _program("--data-dir", office, "users", "unlock", "boss")
    assert result.returncode == 0 and "已解锁用户 boss" in result.stdout
    assert _program("--data-dir", office, "users", "unlock", "nobody").returncode == 1
    ctx = app.open_context(AppPaths(office))
    try:
        assert users.authenticate(ctx, "boss", "secret-123").username == "boss"
    finally:
        ctx.engine.dispose()


def test_a_user_added_without_a_password_gets_a_generated_one_to_change(office: Path) -> None:
    result = _program("--data-dir", office, "users", "add", "newbie", "--name", "新人", "--role", "clerk")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("初始密码："))
    password = line.removeprefix("初始密码：").split("（")[0]
    ctx = app.open_context(AppPaths(office))
    try:
        info = users.authenticate(ctx, "newbie", password)
        assert users.must_change_password(ctx, info.id) is True
    finally:
        ctx.engine.dispose()


@pytest.mark.parametrize("extra", [["--demo"], []], ids=["demo", "screenshot"])
def test_an_office_given_by_database_url_is_not_opened_without_a_password(
    ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, tmp_path: Path, extra: list[str]
) -> None:
    """The office of the ``engine`` fixture: SQLite, or PostgreSQL with ``HUIFANG_TEST_DB=postgres``."""
    url = ctx.engine.url.render_as_string(hide_password=False)
    shots = tmp_path / "shots"
    result = _program("--data-dir", tmp_path / "data", "--database-url", url, *extra, "--screenshot", shots)
    assert result.returncode == 1 and "不是示例办公室" in result.stderr
    assert not shots.exists() or not list(shots.glob("*.png"))
    with ctx.sessions() as s:
        assert s.execute(select(AuditLog.id).where(AuditLog.action == "登录")).first() is None


def test_the_smoke_test_of_an_office_logs_nobody_in_and_takes_no_user(office: Path) -> None:
    """The smoke test (always offscreen, prints only its verdict) checks any database, as the system;
    ``--user`` with it, like with ``--screenshot``, is for example offices only."""
    result = _program("--data-dir", office, "--smoke-test")
    assert result.returncode == 0 and "smoke test ok" in result.stdout, result.stderr
    result = _program("--data-dir", office, "--smoke-test", "--user", "boss")
    assert result.returncode == 1 and "不是示例办公室" in result.stderr
    assert _logins(office) == []


def test_an_unmarked_database_in_the_demo_folder_is_refused_with_how_to_make_it_again(
    run_main: MainRunner, qapp: object
) -> None:
    """A sample office made by an older version has no mark: ``--demo`` says how to make it again."""
    from huifang_desktop.config import default_data_dir

    folder = default_data_dir() / "demo"  # HOME and XDG folders are the test session's own (conftest)
    code, _out, err = run_main(
        [
            "--data-dir",
            str(folder),
            "users",
            "add",
            "supervisor",
            "--name",
            "主管",
            "--role",
            "supervisor",
            "--password",
            "secret-123",
        ]
    )
    assert code == 0, err
    try:
        code, _out, err = run_main(["--demo"])
        assert code == 1
        assert "不是示例办公室" in err and f"删除文件夹 {folder.resolve()}" in err
        assert _logins(folder) == []
    finally:
        for ctx in run_main.opened:
            ctx.engine.dispose()
        shutil.rmtree(folder)
