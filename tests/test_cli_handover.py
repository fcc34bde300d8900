"""``users disable USER --to SUCCESSOR``: a user who still holds work is not disabled without a successor
(exit 1, what they hold on stderr); with ``--to`` their customers move in one audited step (issue 19 item 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import customers, users
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage.models import Customer
from tests.conftest import MainRunner

pytestmark = pytest.mark.sqlite_only  # the office is a data folder with its SQLite file


def test_disable_asks_for_a_successor_and_hands_over(run_main: MainRunner, tmp_path: Path) -> None:
    folder = tmp_path / "office"
    base = app.open_context(AppPaths(folder))
    try:
        ctx = ServiceContext(base.engine, base.sessions)
        users.create_user(ctx, "admin", "管理员", Role.ADMIN, "secret-123", first_admin=True)
        wang = users.create_user(ctx, "wang", "小王", Role.CLERK, "secret-123", "客服部")
        users.create_user(ctx, "li", "小李", Role.CLERK, "secret-123", "客服部")
        made = customers.register_customer(
            ctx.as_user(wang),
            CustomerDraft(name="杭州明达贸易", contacts=(ContactDraft(name="张三", mobile="13812345678"),)),
        )
    finally:
        base.engine.dispose()
    data = ["--data-dir", str(folder)]
    code, _out, err = run_main(data + ["users", "disable", "wang"])
    assert code == 1 and "客户 1 个" in err and "--to" in err
    code, out, err = run_main(data + ["users", "disable", "wang", "--to", "li", "--note", "离职"])
    assert code == 0, err
    assert "已停用用户 wang" in out and "客户 1 个" in out
    base = app.open_context(AppPaths(folder))
    try:
        with base.sessions() as s:
            c = s.get(Customer, made.id)
            assert c is not None and c.owner is not None and c.owner.username == "li"
            assert "工作交接：由 小王 移交给 小李（离职）" in c.notes
    finally:
        base.engine.dispose()
