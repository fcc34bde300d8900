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


def test_backup_now_then_restore_in_two_steps(
    qtbot: QtBot, ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, tmp_path: Path
) -> None:
    actx = ctx.as_user(admin)
    register_customer(
        ctx.as_user(clerk),
        CustomerDraft(name="甲公司", contacts=(ContactDraft(name="张", mobile="13900000001"),)),
    )
    dialog = BackupDialog(actx, AppPaths(tmp_path / "data"))
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 0
    dialog.start_backup()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    assert "已校验" in dialog.message.text()
    assert "客户 1" in dialog.details.text()

    register_customer(
        ctx.as_user(clerk),
        CustomerDraft(name="乙公司", contacts=(ContactDraft(name="李", mobile="13900000002"),)),
    )
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


def test_clerk_sees_the_dialog_read_only(
    qtbot: QtBot, ctx: ServiceContext, clerk: UserInfo, tmp_path: Path
) -> None:
    dialog = BackupDialog(ctx.as_user(clerk), AppPaths(tmp_path / "data"))
    qtbot.addWidget(dialog)
    assert not dialog.backup_now.isEnabled() and not dialog.restore_button.isEnabled()
    assert "系统管理员" in dialog.message.text()


def test_unwritable_folder_choice_is_reported_in_the_dialog(
    qtbot: QtBot, ctx: ServiceContext, admin: UserInfo, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    dialog = BackupDialog(
        ctx.as_user(admin), AppPaths(tmp_path / "data"), choose_folder=lambda _w: str(blocker / "sub")
    )
    qtbot.addWidget(dialog)
    dialog._change_folder()
    assert "无法写入" in dialog.message.text()


def test_restore_from_the_running_window_is_refused_while_another_program_has_the_office_open(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The window holds the office itself (its own registration does not block its restore), but a second
    program that has the office open — a real writer process — makes the dialog refuse, naming it."""
    from huifang_desktop import app
    from huifang_desktop.domain.roles import Role
    from huifang_desktop.services import users
    from tests.reliability.test_restore_exclusive import Writer

    paths = AppPaths(tmp_path / "data")
    wctx = app.open_context(paths)  # as the window does
    try:
        admin = users.create_user(wctx, "admin", "管理员", Role.ADMIN, "secret-123", first_admin=True)
        actx = wctx.as_user(admin)
        cctx = wctx.as_user(users.create_user(actx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部"))
        register_customer(
            cctx, CustomerDraft(name="甲公司", contacts=(ContactDraft(name="张", mobile="13900000001"),))
        )
        backups.make_backup(actx, paths.backups)
        register_customer(
            cctx, CustomerDraft(name="乙公司", contacts=(ContactDraft(name="李", mobile="13900000002"),))
        )
        dialog = BackupDialog(actx, paths)
        qtbot.addWidget(dialog)
        restored: list[bool] = []
        dialog.restored.connect(lambda: restored.append(True))

        writer = Writer(paths.data_dir)
        try:
            assert writer.save().startswith("saved ")
            dialog.ask_restore()
            dialog.confirm_restore()
            assert restored == []
            assert (
                "不能恢复" in dialog.message.text() and f"进程号 {writer.proc.pid}" in dialog.message.text()
            )
            assert writer.save().startswith("saved ")  # the other program goes on, nothing of it lost
        finally:
            assert writer.close() == 0
        assert len(_names(wctx)) == 4

        dialog.reload()
        row = next(i for i, info in enumerate(dialog.items) if info.reason == "manual")
        dialog.table.selectRow(row)
        dialog.ask_restore()
        dialog.confirm_restore()  # now the window is alone: its own restore goes through
        assert restored == [True], dialog.message.text()
        assert _names(wctx) == ["甲公司"]
        register_customer(
            cctx, CustomerDraft(name="丙公司", contacts=(ContactDraft(name="王", mobile="13900000003"),))
        )
        assert _names(wctx) == ["甲公司", "丙公司"]  # the window writes on, into the restored file
    finally:
        wctx.engine.dispose()
