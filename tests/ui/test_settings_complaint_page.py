"""设置 → 投诉规则: the authority table (核决权限, 002 制度3 第一条) changed only by a manager, the satisfying
reply days (002 制度9 五) and the 催办 ladder (002 制度3 第十三条) edited and stored through the services."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox

from huifang_desktop.domain.complaint_follow import NoticeKind, Recipient
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.ui.settings import SettingsDialog


def _open(qtbot, ctx, user) -> SettingsDialog:
    dialog = SettingsDialog(ctx.as_user(user))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_page(dialog.complaint_page)
    return dialog


def test_supervisor_edits_deadlines_and_ladder_but_not_the_authority_table(qtbot, ctx, supervisor) -> None:
    dialog = _open(qtbot, ctx, supervisor)
    page = dialog.complaint_page
    major = page.authority_form.widgets["sign_major"]
    assert isinstance(major, QComboBox) and not major.isEnabled() and major.currentData() == "manager"
    reply = page.deadline_form.widgets["satisfying_reply_workdays"]
    assert isinstance(reply, QSpinBox) and reply.value() == 2
    reply.setValue(3)
    page.deadline_form.widgets["origin_foreign"].setValue(20)  # 002 制度15: 国外 20 days
    rows = page.ladder.rowCount()
    page._add_rung()
    last = page.ladder.rowCount() - 1
    page.ladder.cellWidget(last, 1).setCurrentIndex(1)  # 上报
    page.ladder.cellWidget(last, 5).findChild(QCheckBox).setChecked(True)  # 公司经理
    assert dialog.apply_button.isEnabled()
    dialog.apply()
    rules, follow = cs.load_complaint_rules(ctx), cs.load_follow_policy(ctx)
    assert rules.satisfying_reply_workdays == 3 and rules.origin_days == {"国外": 20}
    assert len(follow.ladder) == rows + 1
    assert follow.ladder[-1].kind is NoticeKind.REPORT
    assert set(follow.ladder[-1].notify) == {Recipient.HANDLER, Recipient.MANAGER}
    assert rules.sign_roles.major is Role.MANAGER


def test_manager_changes_the_authority_table(qtbot, ctx, manager) -> None:
    dialog = _open(qtbot, ctx, manager)
    page = dialog.complaint_page
    important = page.authority_form.widgets["sign_important"]
    assert important.isEnabled()
    important.setCurrentIndex(important.findData("manager"))
    dialog.apply()
    assert cs.load_complaint_rules(ctx).sign_roles.important is Role.MANAGER


def test_clerk_sees_the_rules_read_only(qtbot, ctx, clerk) -> None:
    dialog = _open(qtbot, ctx, clerk)
    page = dialog.complaint_page
    assert not page.authority_form.widgets["sign_normal"].isEnabled()
    assert page.deadline_form.widgets["satisfying_reply_workdays"].isReadOnly()
    assert not page.ladder.cellWidget(0, 2).findChild(QCheckBox).isEnabled()
