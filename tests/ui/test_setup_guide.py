"""初始设置向导 (issue 18 item 2): a walk through the guide as the new office's administrator, applying the
after-sales preset, and what it left in the database; 跳过 keeps the pages already saved; the first start opens
it after the administrator's log-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication
from sqlalchemy import select

from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints, tamper, users, visits
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.settings import load_settings
from huifang_desktop.storage.models import AuditLog
from huifang_desktop.ui.admin.setup_guide import SetupGuide
from huifang_desktop.ui.main_window import MainWindow


def _guide(qtbot: Any, ctx: ServiceContext) -> SetupGuide:
    guide = SetupGuide(ctx)
    qtbot.addWidget(guide)
    guide.show()
    return guide


def test_walk_through_the_guide_with_the_after_sales_preset(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo
) -> None:
    actx = ctx.as_user(admin)
    guide = _guide(qtbot, actx)
    assert guide.currentPage() is guide.office_page
    guide.office_page.company.setText("明达汽车销售服务有限公司")
    guide.next()
    assert guide.currentPage() is guide.preset_page
    guide.preset_page.choose("after_sales")
    guide.next()
    guide.departments_page.set_names(["客服部", "售后部"])
    guide.next()
    assert guide.currentPage() is guide.users_page
    guide.users_page.fill_row(0, "liuzhuguan", "刘主管", Role.SUPERVISOR, "客服部")
    guide.users_page.fill_row(1, "xiaozhou", "小周", Role.CLERK, "售后部")
    guide.next()
    assert guide.currentPage() is guide.lists_page
    guide.lists_page.regions.set_values(["城东", "城西"])
    guide.next()
    assert guide.currentPage() is guide.calendar_page
    assert "2027 年的放假安排须在国务院公布后" in guide.calendar_page.next_year.text()
    guide.next()
    assert guide.currentPage() is guide.finish_page

    # what the guide saved, through the services
    assert load_settings(ctx).company == "明达汽车销售服务有限公司"
    assert load_settings(ctx).regions == ("城东", "城西")
    rules = visits.load_rules(ctx)
    assert rules.rule("repair_done").sample_rate == 1.0  # 001 篇3 §3 (7) 维修回访率为100%
    assert not rules.rule("account_opened").enabled
    assert complaints.load_policy(ctx).categories[0] == "质量异常"  # 002 制度3 第五条 (after-sales preset)
    assert {name for _id, name in users.list_departments(ctx)} == {"客服部", "售后部"}
    made = {u.username: u for u in users.list_users(ctx)}
    assert (made["liuzhuguan"].role, made["liuzhuguan"].department) == (Role.SUPERVISOR, "客服部")
    assert (made["xiaozhou"].role, made["xiaozhou"].department) == (Role.CLERK, "售后部")

    # the passwords, on the last page only, each works once and must be changed
    table = guide.finish_page.passwords
    shown = {table.item(r, 0).text(): table.item(r, 2).text() for r in range(table.rowCount())}
    assert set(shown) == {"liuzhuguan", "xiaozhou"}
    for login, password in shown.items():
        info = users.authenticate(ctx, login, password)
        assert users.must_change_password(ctx, info.id)
    guide.finish_page.copy_button.click()
    assert (
        QGuiApplication.clipboard().text().count("\n") == 1
        and shown["xiaozhou"] in QGuiApplication.clipboard().text()
    )
    assert not guide.finish_page.import_button.isEnabled()  # an administrator does not import business data
    assert "Ctrl+I" in guide.finish_page.import_note.text()
    with ctx.sessions() as s:
        actions = list(s.execute(select(AuditLog.action).where(AuditLog.user_id == admin.id)).scalars())
    assert {"修改设置", "新建部门", "新建用户"} <= set(actions)
    assert tamper.verify_all(ctx).ok
    guide.accept()
    assert table.rowCount() == 0  # shown once: gone with the guide


def test_a_refused_user_row_keeps_the_page_with_the_row_named(
    qtbot: Any, ctx: ServiceContext, admin: UserInfo
) -> None:
    guide = _guide(qtbot, ctx.as_user(admin))
    guide.next()
    guide.next()
    guide.next()
    guide.users_page.fill_row(0, "ok_user", "好人", Role.CLERK, "")
    guide.users_page.fill_row(1, "张三", "张三", Role.CLERK, "")
    guide.next()
    assert guide.currentPage() is guide.users_page
    assert "第 2 行 用户名" in guide.users_page.message.text()
    guide.users_page.fill_row(1, "zhangsan", "张三", Role.CLERK, "")
    guide.next()  # the first row is not made twice
    assert guide.currentPage() is guide.lists_page
    assert sorted(guide.users_page.created) == ["ok_user", "zhangsan"]


def test_skip_keeps_what_was_saved(qtbot: Any, ctx: ServiceContext, admin: UserInfo) -> None:
    guide = _guide(qtbot, ctx.as_user(admin))
    guide.office_page.company.setText("安居物业")
    guide.next()
    guide.preset_page.choose("property")
    guide.next()
    assert guide.button(guide.WizardButton.CancelButton).text() == "跳过"
    guide.reject()
    assert load_settings(ctx).company == "安居物业"
    assert visits.load_rules(ctx).rule("repair_done").sample_rate == 0.3  # 000 §1.4: 30 %


def test_main_window_opens_the_import_wizard_after_the_guide_when_asked(
    qtbot: Any, ctx: ServiceContext, supervisor: UserInfo, admin: UserInfo, tmp_path: Path
) -> None:
    window = MainWindow(ctx.as_user(admin), AppPaths(tmp_path))
    qtbot.addWidget(window)
    window.guide_action.trigger()
    assert window.setup_guide.isVisible()
    window.setup_guide.reject()
    assert getattr(window, "import_wizard", None) is None
    # the button works for someone who may import (a business user reopening the guide's last page)
    business = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(business)
    business.open_setup_guide()
    finish = business.setup_guide.finish_page
    assert finish.import_button.isEnabled()
    finish.import_button.click()
    assert business.setup_guide.open_import
    qtbot.waitUntil(lambda: getattr(business, "import_wizard", None) is not None)
    business.import_wizard.close()


def test_the_first_start_opens_the_guide_after_the_administrators_log_in(
    qapp: Any, monkeypatch: Any, tmp_path: Path, ctx: ServiceContext
) -> None:
    from PySide6.QtWidgets import QApplication

    from huifang_desktop.ui.login import FirstAdminDialog, LoginDialog
    from tests.ui.test_startup import _args, _run

    seen: dict[str, Any] = {}

    def first_admin(_window: Any) -> bool:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, FirstAdminDialog):
            return False
        seen["intro"] = dialog.findChildren(type(dialog.message))[0].text()
        dialog.password.setText("admin-pass-1")
        dialog.password2.setText("admin-pass-1")
        dialog.create()
        return True

    def log_in(_window: Any) -> bool:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, LoginDialog):
            return False
        dialog.username.setText("admin")
        dialog.password.setText("admin-pass-1")
        dialog.try_login()
        return True

    def guide_shown(window: Any) -> bool:
        if window.ctx is None:  # attached, then the guide opened in the same step of the start
            return False
        guide = getattr(window, "setup_guide", None)
        assert guide is not None and guide.isVisible(), (
            "no setup guide after the first administrator's log-in"
        )
        seen["guide user"] = guide.ctx.user.username
        guide.reject()
        return True

    code, _script = _run(
        qapp, monkeypatch, tmp_path, _args(), lambda: ctx, [lambda _w: True, first_admin, log_in, guide_shown]
    )
    assert code == 0
    assert seen["guide user"] == "admin"
    assert "初始设置向导" in seen["intro"]
