"""``huifang-desktop --data-dir D customers find TEXT``: the matches for scripts, one per line (客户编号, 名称,
电话, tab-separated), exit 0 when found; exit 1 with 未找到匹配的客户 on stderr when not. A real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import customers, users
from huifang_desktop.services.context import ServiceContext

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.sqlite_only  # the office is a data folder with its SQLite file


def _office(data: Path) -> list[str]:
    base = app.open_context(AppPaths(data))
    try:
        ctx = ServiceContext(base.engine, base.sessions)
        users.create_user(ctx, "admin", "管理员", Role.ADMIN, "secret-123", first_admin=True)
        clerk = users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
        cctx = ctx.as_user(clerk)
        made = [
            customers.register_customer(cctx, CustomerDraft(name=name, contacts=(contact,)))
            for name, contact in (
                ("杭州明达贸易", ContactDraft(name="张三", mobile="13812345678")),
                ("济南恒通机械", ContactDraft(name="李四", phone="0531-26485794")),
                ("宁波顺通物流", ContactDraft(name="王五", mobile="13900005678")),
            )
        ]
        return [c.code for c in made]
    finally:
        base.engine.dispose()


def _find(data: Path, text: str, *more: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "huifang_desktop", "--data-dir", str(data), "customers", "find", text, *more],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_customers_find_prints_the_matches_tab_separated(tmp_path: Path) -> None:
    data = tmp_path / "data"
    codes = _office(data)

    found = _find(data, "5678")
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == [
        f"{codes[0]}\t杭州明达贸易\t138 1234 5678",
        f"{codes[2]}\t宁波顺通物流\t139 0000 5678",
    ]

    landline = _find(data, "26485794")
    assert (landline.returncode, landline.stdout) == (0, f"{codes[1]}\t济南恒通机械\t0531-26485794\n")
    assert _find(data, "恒通").stdout == landline.stdout


def test_customers_find_without_a_match_exits_1_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _office(data)
    missing = _find(data, "4321")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert "未找到匹配的客户" in missing.stderr
    blank = _find(data, "  ")
    assert blank.returncode == 1 and "查找内容不能为空" in blank.stderr
