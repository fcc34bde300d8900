"""设置 → 投诉规则: the authority table (核决权限, 002 制度3 第一条) changed only by a manager, the satisfying
reply days (002 制度9 五) and the 催办 ladder (002 制度3 第十三条) edited and stored through the services; no
independence switch of its own (the one on 回访规则 governs the closing visit, 001 篇11)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox

from huifang_desktop.domain.complaint_follow import NoticeKind, Recipient
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import visits as vs
from huifang_desktop.services.settings import get_value, set_value
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


def test_one_independence_switch_on_the_rules_page_governs_the_closing_visit(qtbot, ctx, supervisor) -> None:
    """001 篇11 is one setting: the complaint page has no switch of its own and says where it is; the rules
    page's switch names both things it covers, and switching it off there stores the one setting."""
    dialog = _open(qtbot, ctx, supervisor)
    page = dialog.complaint_page
    assert "independent_closing_visit" not in page.field_widgets()
    assert not [b for b in page.findChildren(QCheckBox) if b.objectName() == "independent_closing_visit"]
    texts = [b.text() for b in page.findChildren(QCheckBox)]
    assert not [t for t in texts if "处理人以外" in t or "独立" in t]
    assert "回访规则" in page.independence_note.text() and "回访人独立性" in page.independence_note.text()
    assert page.independence_note.isVisible()

    rules_page = dialog.rules_page
    box = rules_page.independent
    assert "回访记录与投诉结案回访" in box.text() and box.isChecked()
    dialog.show_page(rules_page)
    box.setChecked(False)
    dialog.apply()
    assert vs.independence_on(ctx) is False
    assert not vs.independence_covers(ctx, "投诉")
    assert "independent_closing_visit" not in cs.load_complaint_rules(ctx).to_dict()


def test_the_complaint_page_saves_an_older_stored_dict_without_the_retired_key(
    qtbot, ctx, supervisor
) -> None:
    set_value(
        ctx.as_user(supervisor),
        cs.RULES_KEY,
        {**cs.load_complaint_rules(ctx).to_dict(), "independent_closing_visit": False},
        what="投诉核决权限与时限",
    )
    dialog = _open(qtbot, ctx, supervisor)
    page = dialog.complaint_page
    page.deadline_form.widgets["satisfying_reply_workdays"].setValue(4)
    dialog.apply()
    stored = get_value(ctx, cs.RULES_KEY)
    assert stored["satisfying_reply_workdays"] == 4 and "independent_closing_visit" not in stored
