"""工具 → 用户与部门 → 停用 of a user who still holds work asks for the successor(s) (issue 19 item 8): the
hand-over dialog lists the work, the chosen successor gets the customers, and the account is disabled."""

from __future__ import annotations

from typing import Any

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import users
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.storage.models import Customer
from huifang_desktop.ui.admin.handover_dialog import HandoverDialog
from huifang_desktop.ui.admin.users_dialog import UsersDialog


def test_disabling_a_user_with_work_asks_for_successors(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, clerk2: UserInfo, monkeypatch: Any
) -> None:
    c = register_customer(
        ctx.as_user(clerk),
        CustomerDraft(name="杭州明达贸易", contacts=(ContactDraft(name="张三", mobile="13812345678"),)),
    )
    dialog = UsersDialog(ctx.as_user(admin))
    qtbot.addWidget(dialog)
    dialog.show()
    asked: list[dict[str, int]] = []

    def answer(r: Any, work: dict[str, int]) -> tuple[list[int], str] | None:
        asked.append(work)
        box = HandoverDialog(r.display_name, work, [u for u in users.clerks(dialog.ctx) if u.id != r.id])
        qtbot.addWidget(box)
        assert "客户 1 个" in box.work.text() and box.people.count() == 1  # 小李, not the leaver
        box.check(clerk2.id)
        box.note.setText("离职")
        return box.successors(), box.note.text()

    monkeypatch.setattr(dialog, "ask_successors", answer)
    row = next(i for i, r in enumerate(dialog.rows) if r.username == "xiaowang")
    dialog.user_table.selectRow(row)
    dialog.active_button.click()
    assert asked == [{"customers": 1, "plans": 0, "complaints": 0, "drafts": 0}]
    assert "完成交接" in dialog.message.text()
    with ctx.sessions() as s:
        moved = s.get(Customer, c.id)
        assert moved is not None and moved.owner_id == clerk2.id
    assert [r.active for r in users.list_users(ctx, include_inactive=True) if r.username == "xiaowang"] == [
        False
    ]


def test_cancelling_the_hand_over_keeps_the_user(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, monkeypatch: Any
) -> None:
    register_customer(
        ctx.as_user(clerk),
        CustomerDraft(name="济南恒通机械", contacts=(ContactDraft(name="李四", mobile="13812345679"),)),
    )
    dialog = UsersDialog(ctx.as_user(admin))
    qtbot.addWidget(dialog)
    monkeypatch.setattr(dialog, "ask_successors", lambda r, work: None)
    row = next(i for i, r in enumerate(dialog.rows) if r.username == "xiaowang")
    dialog.user_table.selectRow(row)
    dialog.active_button.click()
    assert [r.active for r in users.list_users(ctx, include_inactive=True) if r.username == "xiaowang"] == [
        True
    ]


def test_the_start_up_reminder_lists_unregistered_new_files(
    qapp: Any, ctx: ServiceContext, clerk: UserInfo
) -> None:
    # 002 §1.4: a new file (建档 2026-11-13) still without its address on 2026-11-24 (due 11-20)
    from huifang_desktop.ui import reminders

    cctx = ctx.as_user(clerk)
    register_customer(
        cctx,
        CustomerDraft(
            name="宁波顺通物流",
            created_on="2026-11-13",
            contacts=(ContactDraft(name="王五", mobile="13900005678"),),
        ),
    )
    r = reminders.collect(cctx)
    assert r.unregistered == 1
    assert "新客户档案超过5个工作日未完成备案 1 个" in reminders.reminder_text(r)


def test_unregistered_files_open_from_the_reminder_and_the_customers_tab(
    qtbot: Any, ctx: ServiceContext, clerk: UserInfo, monkeypatch: Any
) -> None:
    """002 §1.4 客户备案 (5 working days after 建档): the reminder's count is a link to the list of those
    files, the 客户档案 tab has the same list, and a file completed from it leaves the list."""
    from PySide6.QtWidgets import QLabel, QMainWindow

    from huifang_desktop.ui import reminders
    from huifang_desktop.ui.customers import unregistered as unregistered_ui
    from huifang_desktop.ui.customers.tab import CustomersTab
    from huifang_desktop.ui.customers.unregistered import UnregisteredDialog

    cctx = ctx.as_user(clerk)
    late = register_customer(
        cctx,
        CustomerDraft(
            name="宁波顺通物流",
            created_on="2026-11-13",
            contacts=(ContactDraft(name="王五", mobile="13900005678"),),
        ),
    )
    register_customer(
        cctx,
        CustomerDraft(
            name="杭州新到客户",
            created_on="2026-11-23",  # still within 5 days
            contacts=(ContactDraft(name="赵六", mobile="13900005679"),),
        ),
    )
    tab = CustomersTab(cctx)
    qtbot.addWidget(tab)
    assert tab.unregistered_button.text() == "未完成备案 1"
    window = QMainWindow()
    qtbot.addWidget(window)
    reminders.show_unregistered(window, cctx, reminders.collect(cctx).unregistered)
    link = window.findChild(QLabel, "unregisteredLink")
    assert link is not None and link.isVisibleTo(window) and "未完成备案 1" in link.text()
    link.linkActivated.emit("unregistered")
    dialog = window.findChild(UnregisteredDialog)
    assert dialog is not None and dialog.table.rowCount() == 1
    assert dialog.table.item(0, 1).text() == "宁波顺通物流"
    assert dialog.table.item(0, 4).text() == "2026-11-20"  # 5 working days after 11-13
    assert "地址" in dialog.table.item(0, 5).text()

    opened: list[int] = []

    class FakeFile:  # the customer file: the clerk fills in the address and saves
        def __init__(self, c: ServiceContext, cid: int, parent: Any) -> None:
            opened.append(cid)
            self.changed = True

        def exec(self) -> int:
            from huifang_desktop.storage.models import Customer

            with ctx.sessions() as s, s.begin():
                row = s.get(Customer, late.id)
                assert row is not None
                row.address, row.category = "宁波市北仑区", row.category or "普通客户"
            return 1

    monkeypatch.setattr(unregistered_ui, "CustomerDialog", FakeFile)
    dialog.open_button.click()
    assert opened == [late.id]
    assert dialog.table.rowCount() == 0 and not dialog.open_button.isEnabled()
    dialog.done(0)
    assert not link.isVisibleTo(window)  # nothing left: the link goes
    monkeypatch.setattr(UnregisteredDialog, "exec", lambda self: 0)
    tab.unregistered_button.click()  # the tab's list, then its count read again
    assert tab.unregistered_button.text() == "未完成备案 0"
