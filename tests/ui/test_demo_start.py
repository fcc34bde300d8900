"""The demo explains itself in the window: progress while the example office is made, and its accounts
with their passwords on its log-in dialog (only there)."""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any

from huifang_desktop import app as program
from huifang_desktop.config import AppPaths
from huifang_desktop.demo import generate_demo
from huifang_desktop.services import users
from huifang_desktop.ui.login import LoginDialog
from tests.ui.test_startup import _run


def test_the_log_in_dialog_of_a_demo_office_lists_its_accounts_and_fills_one_in(qtbot, ctx):
    generate_demo(ctx, customers=5, seed=2)
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    assert dialog.demo_box is not None
    table = dialog.demo_table
    rows = [tuple(table.item(r, c).text() for c in range(3)) for r in range(table.rowCount())]
    accounts = users.demo_accounts(ctx)
    assert rows == [(a.username, a.role.label, a.password) for a in accounts]
    supervisor = next(r for r, a in enumerate(accounts) if a.username == "supervisor")
    table.cellDoubleClicked.emit(supervisor, 0)
    assert dialog.username.text() == "supervisor"
    dialog.try_login()
    assert dialog.user is not None and dialog.user.username == "supervisor"


def test_the_log_in_dialog_of_a_real_office_shows_no_accounts(qtbot, ctx, admin):
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    assert dialog.demo_box is None and dialog.findChild(object, "demo_accounts") is None


def test_the_window_shows_the_progress_while_the_example_office_is_made(qapp, monkeypatch, tmp_path):
    monkeypatch.setattr(
        program,
        "ensure_demo_office",
        partial(program.ensure_demo_office, customers=800, visits=100, complaints=4),
    )
    args = argparse.Namespace(
        smoke_test=False,
        screenshot=None,
        demo=True,
        user=None,
        database_url=None,
        data_dir=tmp_path,
        screen_size=None,
    )
    paths = AppPaths(tmp_path)
    messages: list[str] = []
    pages: list[str] = []

    def watch(window: Any) -> bool:
        if not messages:
            window.statusBar().messageChanged.connect(messages.append)
        pages.append(window._pages["customers"].waiting_label.text())
        return window.ctx is not None  # attached: the office is made and open

    code, _script = _run(
        qapp, monkeypatch, tmp_path, args, lambda: program._open_for_gui(paths, args), [watch]
    )
    assert code == 0
    assert "正在生成示例办公室：客户 400/800…" in messages
    assert "正在生成示例办公室：客户 800/800…" in messages
    assert any(m.startswith("正在生成示例办公室：回访历史") for m in messages)
    assert any(p.startswith("正在生成示例办公室") for p in pages)


def _label_texts(dialog) -> str:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in dialog.findChildren(QLabel))


def test_signing_in_a_demo_office_says_the_sample_password(qtbot, ctx):
    """`--demo` logs in without the dialog; signing then asks for the password (issue 23): the 签字确认 dialog
    of an example office names the sample password."""
    from huifang_desktop.ui.review.dialogs import PasswordDialog

    generate_demo(ctx, customers=5, seed=2)
    account = next(a for a in users.demo_accounts(ctx) if a.username == "supervisor")
    dialog = PasswordDialog(None, "签字通过 1 项", ctx=ctx.as_user(users.find_user(ctx, "supervisor")))
    qtbot.addWidget(dialog)
    assert f"supervisor 的密码是 {account.password}" in _label_texts(dialog)


def test_signing_in_a_real_office_shows_no_password(qtbot, ctx, admin):
    from huifang_desktop.ui.review.dialogs import PasswordDialog

    dialog = PasswordDialog(None, "签字通过 1 项", ctx=ctx.as_user(admin))
    qtbot.addWidget(dialog)
    assert "示例办公室" not in _label_texts(dialog) and "密码是" not in _label_texts(dialog)
