"""备份与恢复 dialog: list, back up now (in the background), two-step restore, refusals shown inside."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import backups
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.storage.models import Customer
from huifang_desktop.ui.admin.backup_dialog import BackupDialog


def _names(ctx: ServiceContext) -> list[str]:
    with ctx.sessions() as s:
        return list(s.execute(select(Customer.name).order_by(Customer.id)).scalars())


def test_backup_now_then_restore_in_two_steps(qtbot: QtBot, ctx: ServiceContext, admin: UserInfo,
                                              clerk: UserInfo, tmp_path: Path) -> None:
    actx = ctx.as_user(admin)
    register_customer(ctx.as_user(clerk), CustomerDraft(name="甲公司", contacts=(ContactDraft(name="张", mobile="13900000001"),)))
    dialog = BackupDialog(actx, AppPaths(tmp_path / "data"))
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 0
    dialog.start_backup()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    assert "已校验" in dialog.message.text()
    assert "客户 1" in dialog.details.text()

    register_customer(ctx.as_user(clerk), CustomerDraft(name="乙公司", contacts=(ContactDraft(name="李", mobile="13900000002"),)))
    restored: list[bool] = []
    dialog.restored.connect(lambda: restored.append(True))
    dialog.ask_restore()
    assert not dialog.confirm_button.isHidden()
    assert _names(ctx) == ["甲公司", "乙公司"]  # nothing happens before the confirmation
    dialog.confirm_restore()
    assert restored == [True]
    assert _names(ctx) == ["甲公司"]
    assert "恢复前的数据库另存为" in dialog.message.text()
    assert any(i.reason == "pre-restore" for i in backups.list_backups(dialog.folder()))


def test_clerk_sees_the_dialog_read_only(qtbot: QtBot, ctx: ServiceContext, clerk: UserInfo,
                                         tmp_path: Path) -> None:
    dialog = BackupDialog(ctx.as_user(clerk), AppPaths(tmp_path / "data"))
    qtbot.addWidget(dialog)
    assert not dialog.backup_now.isEnabled() and not dialog.restore_button.isEnabled()
    assert "系统管理员" in dialog.message.text()


def test_unwritable_folder_choice_is_reported_in_the_dialog(qtbot: QtBot, ctx: ServiceContext, admin: UserInfo,
                                                            tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    dialog = BackupDialog(ctx.as_user(admin), AppPaths(tmp_path / "data"),
                          choose_folder=lambda _w: str(blocker / "sub"))
    qtbot.addWidget(dialog)
    dialog._change_folder()
    assert "无法写入" in dialog.message.text()
