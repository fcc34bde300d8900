"""``huifang-desktop verify``: the office's tamper check on the command line (issue 23 item 4), and two
processes appending to the audit chain at once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from itertools import pairwise
from pathlib import Path
from typing import Any

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import users
from huifang_desktop.services.context import ServiceContext
from tests.test_cli_visits import run  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


def _demo(run: Any, data: Path) -> None:  # noqa: F811
    code, out, err = run(
        ["--data-dir", str(data), "demo", "--customers", "60", "--visits", "600", "--complaints", "60"]
    )
    assert code == 0, err
    assert "审阅历史：签字" in out


def test_verify_an_untouched_demo_office_exits_0_with_a_summary(run: Any, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    _demo(run, data)
    assert run(["--data-dir", str(data), "backup"])[0] == 0
    code, out, err = run(["--data-dir", str(data), "verify"])
    assert (code, err) == (0, ""), out
    assert out.startswith("已检查 ") and out.strip().endswith("未发现问题。")
    assert "个签字" in out and "个备份的审计链记录" in out
    sidecars = list((data / "backups").glob("*.chain.json"))
    assert len(sidecars) == 1


def test_verify_names_a_deleted_audit_row_a_promoted_clerk_and_a_replaced_password_hash(
    run: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    _demo(run, data)
    db = sqlite3.connect(data / "huifang.db")
    with db:
        gone = db.execute(
            "SELECT seq FROM audit_log WHERE entity != 'user' ORDER BY seq LIMIT 1 OFFSET 2"
        ).fetchone()[0]
        db.execute("DELETE FROM audit_log WHERE seq = ?", (gone,))
        db.execute("UPDATE user_account SET role = 'admin' WHERE username = 'clerk1'")
        other = db.execute("SELECT password_hash FROM user_account WHERE username = 'admin'").fetchone()[0]
        db.execute("UPDATE user_account SET password_hash = ? WHERE username = 'clerk2'", (other,))
    db.close()
    code, out, _err = run(["--data-dir", str(data), "verify"])
    assert code == 1
    lines = out.strip().splitlines()
    assert f"操作日志第 {gone} 条缺失（被删除）。" in lines
    assert any(
        line.startswith("用户 clerk1（") and "角色在程序之外被修改（记录为 clerk，现为 admin）" in line
        for line in lines
    )
    assert any(line.startswith("用户 clerk2（") and "密码在程序之外被修改" in line for line in lines)
    assert lines[-1].startswith("已检查 ") and "发现 3 处问题" in lines[-1]


_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from huifang_desktop.services.context import ServiceContext, audit
    from huifang_desktop.storage.db import make_engine, make_session_factory, sqlite_url
    db, folder, name, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    engine = make_engine(sqlite_url(db))
    ctx = ServiceContext(engine, make_session_factory(engine))
    (folder / f"ready-{name}").write_text("ready")
    while not (folder / "go").exists():  # both start appending together
        time.sleep(0.001)
    for i in range(count):
        with ctx.sessions() as s, s.begin():
            audit(s, ctx, "并发测试", "test", i, f"{name}-{i}")
    engine.dispose()
    print("done")
""")


def test_two_processes_appending_at_once_do_not_fork_the_chain(tmp_path: Path) -> None:
    data = tmp_path / "data"
    base = app.open_context(AppPaths(data))
    ctx = ServiceContext(base.engine, base.sessions)
    users.create_user(ctx, "admin", "管理员", Role.ADMIN, "secret-123", first_admin=True)
    base.engine.dispose()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(data / "huifang.db"), str(tmp_path), name, "60"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    while not all((tmp_path / f"ready-{n}").exists() for n in ("a", "b")):
        for p in procs:
            assert p.poll() is None, p.communicate()
    (tmp_path / "go").write_text("go")
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "done", err
    db = sqlite3.connect(data / "huifang.db")
    rows = db.execute("SELECT seq, prev_hash, row_hash, label FROM audit_log ORDER BY seq").fetchall()
    db.close()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert all(b[1] == a[2] for a, b in pairwise(rows))  # one chain, no fork
    labels = [r[3] for r in rows]
    assert {f"a-{i}" for i in range(60)} | {f"b-{i}" for i in range(60)} <= set(labels)
    base = app.open_context(AppPaths(data))
    try:
        from huifang_desktop.services import tamper

        assert tamper.verify_all(ServiceContext(base.engine, base.sessions)).ok
    finally:
        base.engine.dispose()
