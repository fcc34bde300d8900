"""No password-free entry, checked on the real program (``python -m huifang_desktop`` in a subprocess):
``--screenshot``, ``--demo`` and ``--user`` open only an example office; on any other office they save
nothing and exit non-zero with a message. Plus ``users unlock`` and a generated first password."""

from __future__ import annotations

import os
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

ROOT = Path(__file__).resolve().parents[1]


def _program(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "huifang_desktop", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)  # no terminal, as in a scheduled task


def _logins(data: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(data / "huifang.db") as conn:
        return conn.execute("SELECT username, note FROM audit_log WHERE action = '登录' ORDER BY id").fetchall()


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """A real office (not an example): its first user made with ``users add``."""
    data = tmp_path / "office"
    result = _program("--data-dir", data, "users", "add", "boss", "--name", "老板", "--role", "supervisor",
                      "--password", "secret-123")
    assert result.returncode == 0, result.stderr
    return data


@pytest.mark.parametrize("extra", [[], ["--demo"], ["--user", "boss"]], ids=["screenshot", "demo", "user"])
def test_screenshots_of_an_office_that_is_not_an_example_are_refused(office: Path, tmp_path: Path,
                                                                     extra: list[str]) -> None:
    shots = tmp_path / "shots"
    result = _program("--data-dir", office, "--screenshot", shots, *extra)
    assert result.returncode == 1
    assert "不是示例办公室" in result.stderr and "Traceback" not in result.stderr
    assert not shots.exists() or not list(shots.glob("*.png"))
    assert _logins(office) == []


def test_demo_with_a_database_url_of_an_office_is_refused(office: Path, tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    url = f"sqlite:///{office / 'huifang.db'}"
    result = _program("--data-dir", tmp_path / "elsewhere", "--database-url", url, "--demo", "--screenshot", shots)
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
    assert len(list(shots.glob("*.png"))) == 6
    result = _program("--data-dir", data, "--screenshot", tmp_path / "as-manager", "--user", "manager")
    assert result.returncode == 0, result.stderr
    assert [(name, note.split("（")[0]) for name, note in _logins(data)] == [
        ("supervisor", "示例办公室免密码登录"), ("manager", "示例办公室免密码登录")]


def test_the_gui_demo_start_on_an_office_is_refused_in_process(office: Path, capsys: pytest.CaptureFixture[str],
                                                               qapp: object) -> None:
    assert app.main(["--data-dir", str(office), "--demo"]) == 1
    assert "不是示例办公室" in capsys.readouterr().err
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
        ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, tmp_path: Path, extra: list[str]) -> None:
    """The office of the ``engine`` fixture: SQLite, or PostgreSQL with ``HUIFANG_TEST_DB=postgres``."""
    url = ctx.engine.url.render_as_string(hide_password=False)
    shots = tmp_path / "shots"
    result = _program("--data-dir", tmp_path / "data", "--database-url", url, *extra, "--screenshot", shots)
    assert result.returncode == 1 and "不是示例办公室" in result.stderr
    assert not shots.exists() or not list(shots.glob("*.png"))
    with ctx.sessions() as s:
        assert s.execute(select(AuditLog.id).where(AuditLog.action == "登录")).first() is None
