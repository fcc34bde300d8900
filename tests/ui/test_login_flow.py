"""The log-in dialog's lock-out message and the forced password change after a reset: the main window
opens only once the user has set their own password."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication

from huifang_desktop.services import users
from huifang_desktop.ui.login import ChangePasswordDialog, LoginDialog
from huifang_desktop.ui.main_window import MainWindow
from tests.conftest import PASSWORD
from tests.ui.test_startup import _args, _run


def test_the_log_in_dialog_says_when_a_locked_account_may_try_again(qtbot, ctx, clerk) -> None:
    dialog = LoginDialog(ctx, username="xiaowang")
    qtbot.addWidget(dialog)
    messages = []
    for _ in range(6):
        dialog.password.setText("wrong-pass")
        dialog.try_login()
        messages.append(dialog.message.text())
    assert messages[:4] == ["用户名或密码不正确。"] * 4
    assert messages[4:] == ["账户已锁定，请于 10:15 后再试或联系管理员解锁。"] * 2
    dialog.password.setText(PASSWORD)
    dialog.try_login()
    assert dialog.user is None and dialog.result() != LoginDialog.DialogCode.Accepted


def _log_in_with(password: str, seen: dict[str, Any]):  # type: ignore[no-untyped-def]
    def step(window: Any) -> bool:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, LoginDialog):
            return False
        dialog.username.setText("xiaowang")
        dialog.password.setText(password)
        dialog.try_login()
        seen["logged in"] = dialog.user is not None
        return True

    return step


def _change_dialog(window: Any) -> ChangePasswordDialog | None:
    if window.ctx is not None:
        raise AssertionError("the main window opened before the reset password was changed")
    dialog = QApplication.activeModalWidget()
    return dialog if isinstance(dialog, ChangePasswordDialog) else None


def test_after_a_reset_the_user_sets_a_new_password_before_the_main_window_opens(
    qapp, monkeypatch, tmp_path, ctx, admin, clerk
) -> None:
    generated = users.reset_password(ctx.as_user(admin), "xiaowang")
    seen: dict[str, Any] = {}

    def change(window: Any) -> bool:
        dialog = _change_dialog(window)
        if dialog is None:
            return False
        seen["title"] = dialog.windowTitle()
        dialog.old_password.setText(generated)
        dialog.new_password.setText("my-own-pass")
        dialog.repeat_password.setText("my-own-pasz")
        dialog.change()
        seen["mismatch"] = dialog.message.text()
        dialog.old_password.setText("not-the-old-one")
        dialog.repeat_password.setText("my-own-pass")
        dialog.change()
        seen["wrong old"] = dialog.message.text()
        dialog.old_password.setText(generated)
        dialog.change()
        return True

    def attached(window: Any) -> bool:
        if window.ctx is None:
            return False
        seen["user"] = window.user_label.text()
        return True

    code, _script = _run(
        qapp,
        monkeypatch,
        tmp_path,
        _args(),
        lambda: ctx,
        [lambda _w: True, _log_in_with(generated, seen), change, attached],
    )
    assert code == 0
    assert seen["logged in"] is True
    assert seen["title"] == "修改密码 — 小王"
    assert seen["mismatch"] == "两次输入的新密码不一致。"
    assert "原密码：不正确" in seen["wrong old"]
    assert "小王" in seen["user"]
    assert users.must_change_password(ctx, clerk.id) is False
    assert users.authenticate(ctx, "xiaowang", "my-own-pass").id == clerk.id


def test_leaving_the_forced_change_ends_the_program_without_the_main_window(
    qapp, monkeypatch, tmp_path, ctx, admin, clerk
) -> None:
    generated = users.reset_password(ctx.as_user(admin), "xiaowang")
    seen: dict[str, Any] = {}
    attached: list[object] = []
    real_attach = MainWindow.attach

    def attach(self: MainWindow, ctx_: Any) -> None:
        attached.append(ctx_.user)
        real_attach(self, ctx_)

    monkeypatch.setattr(MainWindow, "attach", attach)

    def leave(window: Any) -> bool:
        dialog = _change_dialog(window)
        if dialog is None:
            return False
        dialog.reject()
        return True

    code, _script = _run(
        qapp,
        monkeypatch,
        tmp_path,
        _args(),
        lambda: ctx,
        [lambda _w: True, _log_in_with(generated, seen), leave],
    )
    assert code == 0
    assert seen["logged in"] is True and attached == []
    assert users.must_change_password(ctx, clerk.id) is True


def test_every_user_changes_their_own_password_from_the_tools_menu(qtbot, ctx, clerk, tmp_path) -> None:
    from huifang_desktop.config import AppPaths

    window = MainWindow(ctx.as_user(clerk), AppPaths(tmp_path))
    qtbot.addWidget(window)
    assert window.password_action.isEnabled() and window.password_action.text() == "修改密码…"
    window.password_action.trigger()
    dialog = window.password_dialog
    assert dialog.isVisible()
    dialog.old_password.setText(PASSWORD)
    dialog.new_password.setText("12345")
    dialog.repeat_password.setText("12345")
    dialog.change()
    assert "至少 6 位" in dialog.message.text() and dialog.isVisible()
    dialog.new_password.setText("clerk-own-pass")
    dialog.repeat_password.setText("clerk-own-pass")
    with qtbot.waitSignal(dialog.accepted):
        dialog.change()
    assert window.statusBar().currentMessage() == "密码已修改。"
    assert users.authenticate(ctx, "xiaowang", "clerk-own-pass").id == clerk.id
