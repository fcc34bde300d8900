"""工具 → 用户与部门 (issue 18 item 1): administrators manage users and departments in the GUI; supervisors see
their department read-only; clerks get no menu entry and the services refuse them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import users
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.ui.admin.users_dialog import UsersDialog
from huifang_desktop.ui.main_window import MainWindow
from tests.conftest import PASSWORD


def _dialog(qtbot: Any, ctx: ServiceContext) -> UsersDialog:
    dialog = UsersDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _select(dialog: UsersDialog, username: str) -> None:
    row = next(i for i, r in enumerate(dialog.rows) if r.username == username)
    dialog.user_table.selectRow(row)
    assert dialog.selected_user() is not None and dialog.selected_user().username == username


def _state(dialog: UsersDialog, username: str) -> str:
    row = next(i for i, r in enumerate(dialog.rows) if r.username == username)
    return dialog.user_table.item(row, 4).text()


def test_add_user_with_generated_password_shown_once(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo
) -> None:
    dialog = _dialog(qtbot, ctx.as_user(admin))
    dialog.new_username.setText("xiaozhao")
    dialog.new_display_name.setText("小赵")
    dialog.new_role.setCurrentIndex(dialog.new_role.findData(Role.SUPERVISOR.value))
    dialog.new_department.setCurrentText("售后部")
    dialog.add_button.click()

    shown = dialog.one_time.password.text()
    assert dialog.one_time.isVisible() and len(shown) >= users.MIN_PASSWORD
    info = users.authenticate(ctx, "xiaozhao", shown)
    assert (info.role, info.department) == (Role.SUPERVISOR, "售后部")
    assert users.must_change_password(ctx, info.id)
    assert "首次登录须改密码" in _state(dialog, "xiaozhao")
    dialog.one_time.copy_button.click()
    assert QGuiApplication.clipboard().text() == shown
    # shown once: the next action hides it, and it is nowhere else in the dialog
    _select(dialog, "xiaozhao")
    dialog.unlock_button.setEnabled(True)
    dialog.unlock_selected()
    assert not dialog.one_time.isVisible() and dialog.one_time.password.text() == ""


def test_add_user_refused_shows_the_field(qtbot: Any, ctx: ServiceContext, admin: UserInfo) -> None:
    dialog = _dialog(qtbot, ctx.as_user(admin))
    dialog.new_username.setText("张三")  # not ASCII
    dialog.new_display_name.setText("张三")
    dialog.add_button.click()
    assert "用户名" in dialog.message.text() and dialog.new_username.styleSheet()
    assert not dialog.one_time.isVisible()
    assert [r.username for r in users.list_users(ctx)] == ["admin"]


def test_disable_enable_reset_and_role_change(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo, clerk: UserInfo
) -> None:
    dialog = _dialog(qtbot, ctx.as_user(admin))
    _select(dialog, "xiaowang")
    assert dialog.active_button.text() == "停用"
    dialog.active_button.click()
    assert _state(dialog, "xiaowang") == "已停用"
    with pytest.raises(users.LoginFailed):
        users.authenticate(ctx, "xiaowang", PASSWORD)
    _select(dialog, "xiaowang")
    assert dialog.active_button.text() == "启用"
    dialog.active_button.click()
    assert _state(dialog, "xiaowang") == "启用"

    _select(dialog, "xiaowang")
    dialog.reset_button.click()
    new_password = dialog.one_time.password.text()
    assert dialog.one_time.isVisible() and users.authenticate(ctx, "xiaowang", new_password).id == clerk.id
    assert users.must_change_password(ctx, clerk.id)

    _select(dialog, "xiaowang")
    dialog.sel_role.setCurrentIndex(dialog.sel_role.findData(Role.SUPERVISOR.value))
    dialog.sel_department.setCurrentText("销售部")
    dialog.save_user_button.click()
    changed = users.get_user(ctx, clerk.id)
    assert (changed.role, changed.department) == (Role.SUPERVISOR, "销售部")
    assert "已保存" in dialog.message.text()


def test_the_last_administrator_cannot_disable_themselves(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo
) -> None:
    dialog = _dialog(qtbot, ctx.as_user(admin))
    _select(dialog, "admin")
    dialog.active_button.click()
    assert "不能停用自己" in dialog.message.text()
    assert _state(dialog, "admin") == "启用"


def test_unlock_a_locked_account(qtbot: Any, ctx: ServiceContext, admin: UserInfo, clerk: UserInfo) -> None:
    for _ in range(5):
        with pytest.raises(users.LoginFailed):
            users.authenticate(ctx, "xiaowang", "wrong-password")
    dialog = _dialog(qtbot, ctx.as_user(admin))
    assert _state(dialog, "xiaowang").startswith("已锁定")
    _select(dialog, "xiaowang")
    assert dialog.unlock_button.isEnabled()
    dialog.unlock_button.click()
    assert _state(dialog, "xiaowang") == "启用"
    assert users.authenticate(ctx, "xiaowang", PASSWORD).id == clerk.id


def test_department_add_rename_and_head(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo
) -> None:
    dialog = _dialog(qtbot, ctx.as_user(admin))
    dialog.tabs.setCurrentIndex(1)
    dialog.dep_name.setText("工程部")
    dialog.dep_head.setCurrentIndex(dialog.dep_head.findData("zhuguan"))
    dialog.add_dep_button.click()
    rows = {r.name: r for r in users.department_rows(ctx)}
    assert rows["工程部"].head_id == supervisor.id
    names = [dialog.dep_table.item(i, 0).text() for i in range(dialog.dep_table.rowCount())]
    assert "工程部" in names

    dialog.dep_table.selectRow(names.index("客服部"))
    assert dialog.dep_name.text() == "客服部"
    dialog.dep_name.setText("客户服务部")
    dialog.rename_dep_button.click()
    assert users.get_user(ctx, supervisor.id).department == "客户服务部"
    names = [dialog.dep_table.item(i, 0).text() for i in range(dialog.dep_table.rowCount())]
    assert "客户服务部" in names and "客服部" not in names

    dialog.dep_table.selectRow(names.index("工程部"))
    dialog.dep_head.setCurrentIndex(0)  # （无）
    dialog.head_button.click()
    assert {r.name: r for r in users.department_rows(ctx)}["工程部"].head_id is None


def test_supervisor_sees_their_department_read_only(
    qtbot: Any, ctx: ServiceContext, supervisor: UserInfo, clerk: UserInfo, clerk2: UserInfo
) -> None:
    dialog = _dialog(qtbot, ctx.as_user(supervisor))
    assert {r.username for r in dialog.rows} == {"zhuguan", "xiaowang"}  # not 小李 of 销售部
    assert dialog.findChild(type(dialog.message), "read_only_note") is not None
    for widget in (dialog.add_button, dialog.save_user_button, dialog.reset_button, dialog.add_dep_button):
        assert not widget.isVisible()
    assert [dialog.dep_table.item(i, 0).text() for i in range(dialog.dep_table.rowCount())] == ["客服部"]


def test_clerk_has_no_menu_entry_and_the_service_refuses(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, clerk: UserInfo, tmp_path: Path
) -> None:
    shown = {}
    for who in (admin, supervisor, clerk):
        window = MainWindow(ctx.as_user(who), AppPaths(tmp_path))
        qtbot.addWidget(window)
        shown[who.username] = (window.users_action.isVisible(), window.guide_action.isVisible())
    assert shown == {"admin": (True, True), "zhuguan": (True, False), "xiaowang": (False, False)}
    assert window.users_action.shortcut().toString() == "Ctrl+Shift+U"
    window.open_users()  # the shortcut reaching the slot anyway: nothing opens for a clerk
    assert getattr(window, "users_dialog", None) is None
    with pytest.raises(PermissionDenied):
        users.add_user(ctx.as_user(clerk), "x2", "某人", "clerk")


def test_menu_opens_the_dialog_for_an_administrator(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo, tmp_path: Path
) -> None:
    window = MainWindow(ctx.as_user(admin), AppPaths(tmp_path))
    qtbot.addWidget(window)
    window.users_action.trigger()
    assert window.users_dialog.isVisible() and window.users_dialog.manage
    window.users_dialog.close()
