"""pytest-qt tests of the Settings dialog (设置): rule table editor, office page, rights, keyboard, menu."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel
from sqlalchemy import select

from huifang_desktop.config import AppPaths
from huifang_desktop.domain.schedule import Assignee, RuleSet, Unit, Window
from huifang_desktop.services import policy
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.settings import VISIBILITY_DEPARTMENT, get_value, load_settings
from huifang_desktop.storage.models import AuditLog
from huifang_desktop.ui.common.feedback import ERROR_STYLE
from huifang_desktop.ui.main_window import MainWindow
from huifang_desktop.ui.settings import SettingsDialog
from huifang_desktop.ui.settings.rule_model import RuleTableModel, describe_windows


@pytest.fixture
def open_dialog(qtbot, ctx):
    def _open(user):
        dialog = SettingsDialog(ctx.as_user(user))
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return _open


def _select(dialog: SettingsDialog, key: str) -> None:
    page = dialog.rules_page
    dialog.show_page(page)
    row = page.model.row_of(key)
    assert row >= 0
    page.select_rule(row)
    assert page.editor.rule_key() == key
    assert key not in [w.text() for w in page.findChildren(QLabel) if w.isVisible()]  # a tooltip only
    assert key in page.editor.name_label.toolTip()


def _setting_audits(ctx, label: str) -> list[AuditLog]:
    with ctx.sessions() as s:
        return list(
            s.execute(
                select(AuditLog)
                .where(AuditLog.action == "修改设置", AuditLog.label == label)
                .order_by(AuditLog.id)
            ).scalars()
        )


def test_settings_dialog_supervisor_changes_a_rule_window_and_sample_rate_and_saves(
    qtbot, ctx, supervisor, open_dialog
):
    dialog = open_dialog(supervisor)
    _select(dialog, "repair_done")
    editor = dialog.rules_page.editor
    assert editor.sample_rate.value() == 30
    row = editor.windows.rows[0]
    assert (row.earliest.value(), row.due.value(), row.unit.currentData()) == (0, 1, "month")
    row.earliest.setValue(1)
    row.due.setValue(2)
    editor.sample_rate.setValue(50)
    # the table row follows the form as the user types
    model = dialog.rules_page.model
    r = model.row_of("repair_done")
    assert model.data(model.index(r, RuleTableModel.COL_SAMPLE)) == "50 %"
    assert model.data(model.index(r, RuleTableModel.COL_WINDOWS)) == "1–2 个月"

    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert dialog.result() == QDialog.DialogCode.Accepted
    rules = visit_service.load_rules(ctx)
    rule = rules.rule("repair_done")
    assert rule.windows == (Window(1, 2, Unit.MONTH),)
    assert rule.sample_rate == 0.5
    # nothing else moved: the other rules keep their exact defaults (0.1 stays 0.1, no rounding drift)
    defaults = RuleSet()
    assert [r.to_dict() for r in rules.rules if r.key != "repair_done"] == [
        r.to_dict() for r in defaults.rules if r.key != "repair_done"
    ]
    assert rules.routine_days == defaults.routine_days
    [log] = _setting_audits(ctx, "回访规则")
    assert log.username == "zhuguan"
    assert {r["key"]: r["sample_rate"] for r in json.loads(log.new)["rules"]}["repair_done"] == 0.5
    assert _setting_audits(ctx, "office") == []  # the office page did not change, so it was not written


def test_settings_dialog_refuses_a_sample_rate_of_150_percent_naming_the_field_and_saves_nothing(
    qtbot, ctx, supervisor, open_dialog
):
    dialog = open_dialog(supervisor)
    dialog.office_page.company.setText("宁波甬达物流有限公司")
    _select(dialog, "event_held")
    editor = dialog.rules_page.editor
    editor.sample_rate.setValue(150)
    dialog.show_page(0)

    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert "抽样比例" in dialog.message.text() and "活动回访" in dialog.message.text()
    assert "0 %–100 %" in dialog.message.text()
    assert dialog.current_page() is dialog.rules_page
    assert dialog.rules_page.sections.currentIndex() == 0
    assert editor.sample_rate.styleSheet() == ERROR_STYLE
    assert editor.name.styleSheet() == ""
    # nothing stored, neither the rules nor the (valid) office page; the input is still there
    assert get_value(ctx, visit_service.RULES_KEY) is None
    assert load_settings(ctx).company == "本公司"
    assert _setting_audits(ctx, "回访规则") == [] and _setting_audits(ctx, "office") == []
    assert editor.sample_rate.value() == 150
    assert dialog.office_page.company.text() == "宁波甬达物流有限公司"

    editor.sample_rate.setValue(15)
    assert dialog.apply()
    assert editor.sample_rate.styleSheet() == ""
    assert "已保存" in dialog.message.text()
    assert visit_service.load_rules(ctx).rule("event_held").sample_rate == 0.15
    assert load_settings(ctx).company == "宁波甬达物流有限公司"


def test_settings_dialog_names_window_routine_and_follow_up_errors(qtbot, ctx, supervisor, open_dialog):
    dialog = open_dialog(supervisor)
    _select(dialog, "delivery_arrival")
    row = dialog.rules_page.editor.windows.rows[0]
    row.earliest.setValue(9)  # later than the due day (5)
    assert not dialog.apply()
    assert "规则“到货回访”的回访时限" in dialog.message.text()
    assert dialog.rules_page.editor.windows.styleSheet() == ERROR_STYLE
    row.earliest.setValue(1)

    page = dialog.rules_page
    page.routine_table.item(0, 1).setText("十天")
    assert not dialog.apply()
    assert "例行回访间隔" in dialog.message.text() and "十天" in dialog.message.text()
    assert page.sections.currentIndex() == 1  # the routine section was brought to the front
    assert page.routine_table.styleSheet() == ERROR_STYLE
    page.routine_table.item(0, 1).setText("10")

    page.follow_window.earliest.setValue(5)  # follow-up window 5–3 days
    assert not dialog.apply()
    assert "再次回访的回访时限" in dialog.message.text()
    assert page.sections.tabText(page.sections.currentIndex()) == "再次回访"
    assert page.follow_window.styleSheet() == ERROR_STYLE and page.routine_table.styleSheet() == ""
    assert get_value(ctx, visit_service.RULES_KEY) is None


def test_settings_dialog_rules_page_edits_what_counts_for_a_routine_plan(qtbot, ctx, supervisor, open_dialog):
    """Issue 19 item 1 (001 §3.2): by default only 例行 completes a routine plan and 技术 a technical one; the
    office may change it in 设置 → 回访规则 → 计入哪些计划, and the other sections keep it when saved."""
    from PySide6.QtCore import Qt

    dialog = open_dialog(supervisor)
    editor = dialog.rules_page.satisfies
    assert editor.value() == {"例行": ["routine"], "技术": ["technical"]}
    editor.checkbox("技术", "routine").setCheckState(Qt.CheckState.Checked)
    assert dialog.apply()
    assert dict(visit_service.load_rules(ctx).satisfies) == {
        "例行": ("routine",),
        "技术": ("routine", "technical"),
    }
    again = open_dialog(supervisor)
    assert again.rules_page.satisfies.value() == {"例行": ["routine"], "技术": ["routine", "technical"]}
    again.rules_page.horizon_months.setValue(12)  # another section's edit keeps what counts
    assert again.apply()
    assert dict(visit_service.load_rules(ctx).satisfies)["技术"] == ("routine", "technical")
    clerk_view = open_dialog(supervisor)
    clerk_view.rules_page.set_read_only(True)
    assert (
        not clerk_view.rules_page.satisfies.checkbox("节日", "routine").flags()
        & Qt.ItemFlag.ItemIsUserCheckable
    )


def test_settings_dialog_is_read_only_for_a_clerk(qtbot, ctx, clerk, open_dialog):
    dialog = open_dialog(clerk)
    assert dialog.note.isVisible()
    assert dialog.note.text().startswith("只有客服主管、公司经理、系统管理员可以修改设置")
    kinds = [dialog.buttons.standardButton(b) for b in dialog.buttons.buttons()]
    assert kinds == [QDialogButtonBox.StandardButton.Close]
    assert dialog.office_page.company.isReadOnly()
    assert not dialog.office_page.visibility.isEnabled()
    assert not dialog.office_page.categories.add_button.isVisible()
    page = dialog.rules_page
    dialog.show_page(page)
    _select(dialog, "complaint_closed")  # the clerk can still look at every rule
    assert page.editor.name.text() == "投诉回访"
    assert page.editor.name.isReadOnly() and page.editor.sample_rate.isReadOnly()
    assert not page.editor.trigger.isEnabled()
    assert page.editor.windows.rows[0].due.isReadOnly()
    assert not page.restore_button.isVisible() and not page.copy_button.isVisible()
    index = page.model.index(0, RuleTableModel.COL_ENABLED)
    assert not page.model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable
    assert not page.model.setData(index, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    assert not dialog.apply()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert get_value(ctx, visit_service.RULES_KEY) is None


def test_settings_dialog_restore_defaults_asks_first_then_restores(qtbot, ctx, supervisor, open_dialog):
    changed = RuleSet().with_rule(replace(RuleSet().rule("repair_done"), sample_rate=1.0, enabled=False))
    severity = (("一般", Assignee.OWNER), ("重要", Assignee.MANAGER), ("重大", Assignee.MANAGER))
    changed = replace(
        changed,
        routine_days=(("A", 7), ("B", 15)),
        technical_months=6,
        horizon_months=12,
        severity_who=severity,
    )
    visit_service.save_rules(ctx.as_user(supervisor), changed)
    dialog = open_dialog(supervisor)
    page = dialog.rules_page
    dialog.show_page(page)
    assert page.routine_table.rowCount() == 2 and page.technical_months.value() == 6

    qtbot.mouseClick(page.restore_button, Qt.MouseButton.LeftButton)
    assert page.confirm_bar.isVisible()
    qtbot.mouseClick(page.cancel_restore_button, Qt.MouseButton.LeftButton)
    assert not page.confirm_bar.isVisible()
    assert page.technical_months.value() == 6  # cancelled: nothing changed

    qtbot.mouseClick(page.restore_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.confirm_restore_button, Qt.MouseButton.LeftButton)
    assert not page.confirm_bar.isVisible()
    assert page.routine_table.rowCount() == 4 and page.technical_months.value() == 3
    assert "点击“确定”或“应用”后保存" in page.status.text()
    assert visit_service.load_rules(ctx) == changed  # not stored before 确定/应用

    assert dialog.apply()
    assert visit_service.load_rules(ctx).to_dict() == RuleSet().to_dict()
    assert len(_setting_audits(ctx, "回访规则")) == 2


def test_settings_dialog_copies_a_rule_as_a_custom_rule_and_deletes_it_again(
    qtbot, ctx, supervisor, open_dialog
):
    dialog = open_dialog(supervisor)
    page = dialog.rules_page
    _select(dialog, "special_matter")
    assert not page.delete_button.isEnabled()  # built-in rules are switched off, not deleted
    qtbot.mouseClick(page.copy_button, Qt.MouseButton.LeftButton)
    assert page.editor.rule_key() == "custom_1"
    assert page.editor.name.selectedText() == "专项回访（副本）"  # ready to be typed over
    page.editor.name.setText("节日问候")
    page.editor.method.setCurrentText("短信")
    assert dialog.apply()
    rule = visit_service.load_rules(ctx).rule("custom_1")
    assert (rule.name, rule.method.value, rule.trigger.value) == ("节日问候", "短信", "special")

    _select(dialog, "custom_1")
    assert page.delete_button.isEnabled()
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert dialog.apply()
    assert "custom_1" not in {r.key for r in visit_service.load_rules(ctx).rules}


def test_settings_dialog_table_checkbox_switches_a_rule_off(qtbot, ctx, manager, open_dialog):
    dialog = open_dialog(manager)  # a manager may change settings too
    page = dialog.rules_page
    _select(dialog, "car_2h")
    row = page.model.row_of("car_2h")
    assert page.model.setData(
        page.model.index(row, RuleTableModel.COL_ENABLED),
        Qt.CheckState.Unchecked,
        Qt.ItemDataRole.CheckStateRole,
    )
    assert not page.editor.enabled.isChecked()  # the form follows the table
    page.editor.sample_rate.setValue(80)  # a later edit in the form keeps the rule switched off
    dialog.save_and_close()
    assert not dialog.isVisible()
    rule = visit_service.load_rules(ctx).rule("car_2h")
    assert (rule.enabled, rule.sample_rate) == (False, 0.8)


def test_settings_dialog_office_page_sets_how_the_class_is_computed(qtbot, ctx, admin, open_dialog):
    """Issue 19 item 2: the class period (rolling 12 months / calendar year), the scheme (ABCD by volume,
    001; VIP by value rank, 004) and the VIP share are set in 设置 → 办公."""
    dialog = open_dialog(admin)
    office = dialog.office_page
    assert (
        office.grading_period.currentData(),
        office.class_scheme.currentData(),
        office.vip_share_percent.value(),
    ) == ("rolling", "ABCD", 20)  # the defaults
    assert not office.vip_share_percent.isEnabled() and office.grade_a.isEnabled()
    office.grading_period.setCurrentIndex(office.grading_period.findData("calendar"))
    office.class_scheme.setCurrentIndex(office.class_scheme.findData("VIP"))
    assert office.vip_share_percent.isEnabled() and not office.grade_a.isEnabled()
    office.vip_share_percent.setValue(15)
    assert dialog.apply()
    saved = load_settings(ctx)
    assert (saved.grading_period, saved.class_scheme, saved.vip_share_percent) == ("calendar", "VIP", 15)
    again = open_dialog(admin)
    assert (
        again.office_page.class_scheme.currentData() == "VIP"
        and again.office_page.vip_share_percent.value() == 15
    )


def test_settings_dialog_office_page_round_trip(qtbot, ctx, admin, open_dialog):
    dialog = open_dialog(admin)
    office = dialog.office_page
    office.company.setText("宁波甬达物流有限公司")
    office.visibility.setCurrentIndex(office.visibility.findData(VISIBILITY_DEPARTMENT))
    office.grade_a.setValue(120)
    office.grade_b.setValue(60)
    office.grade_c.setValue(12)
    office.grading_window_days.setValue(180)
    office.code_prefix.setText("NB")
    office.retention_years.setValue(5)
    office.regions.add_entry("海曙区")
    office.regions.add_entry("江北区")
    office.categories.list.setCurrentRow(3)  # 普通
    office.categories.remove_current()
    assert dialog.apply()

    saved = load_settings(ctx)
    assert (saved.company, saved.visibility, saved.grade_a, saved.grade_b, saved.grade_c) == (
        "宁波甬达物流有限公司",
        VISIBILITY_DEPARTMENT,
        120,
        60,
        12,
    )
    assert (saved.grading_window_days, saved.customer_code_prefix, saved.retention_years) == (180, "NB", 5)
    assert saved.regions == ("海曙区", "江北区")
    assert saved.categories == ("经销商", "终端客户", "业主")
    assert len(_setting_audits(ctx, "office")) == 1
    assert _setting_audits(ctx, "回访规则") == []

    again = open_dialog(admin)
    assert again.office_page.company.text() == "宁波甬达物流有限公司"
    assert again.office_page.collect() == saved

    again.office_page.grade_b.setValue(200)  # B above A
    again.office_page.regions.add_entry("海曙区")  # twice
    assert not again.apply()
    assert "区域" in again.message.text() and "重复" in again.message.text()
    assert again.office_page.regions.list.styleSheet() == ERROR_STYLE
    again.office_page.regions.remove_current()
    assert not again.apply()
    assert "分级标准" in again.message.text()
    assert again.office_page.grade_a.styleSheet() == ERROR_STYLE
    assert load_settings(ctx) == saved


def test_settings_office_list_add_button_adds_an_editable_entry(qtbot, ctx, admin, open_dialog):
    """Issue 18: 添加 under 可选列表 crashed (clicked(bool) reached QListWidgetItem as its text)."""
    dialog = open_dialog(admin)
    regions = dialog.office_page.regions
    before = regions.list.count()
    qtbot.mouseClick(regions.add_button, Qt.MouseButton.LeftButton)
    assert regions.list.count() == before + 1
    item = regions.list.currentItem()
    assert item.text() == ""
    assert item.flags() & Qt.ItemFlag.ItemIsEditable
    item.setText("鄞州区")
    assert dialog.apply()
    assert "鄞州区" in load_settings(ctx).regions


def test_settings_dialog_holiday_page_says_which_years_are_covered(qtbot, ctx, clerk, open_dialog):
    cal = policy.work_calendar(ctx)
    first, last = cal.covered_range()
    dialog = open_dialog(clerk)
    text = dialog.holidays_page.summary.text()
    assert f"{first}–{last} 年" in text
    table = dialog.holidays_page.years
    states = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert states["2026 年"] == ("程序自带" if cal.covers(2026) else "尚未录入：只按周末计算")
    if not cal.covers(2027):
        assert "2027 年的节假日尚未录入" in text
        assert states["2027 年"] == "尚未录入：只按周末计算"


def test_settings_dialog_keyboard_enter_and_ctrl_s_save_and_close(qtbot, ctx, supervisor, open_dialog):
    dialog = open_dialog(supervisor)
    dialog.office_page.company.setFocus()
    dialog.office_page.company.setText("甬达")
    qtbot.keyClick(dialog.office_page.company, Qt.Key.Key_Return)
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Accepted
    assert load_settings(ctx).company == "甬达"

    dialog = open_dialog(supervisor)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.office_page.company.setText("甬达物流")
    qtbot.keyClick(dialog.office_page.company, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not dialog.isVisible()
    assert load_settings(ctx).company == "甬达物流"


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen platform
def test_settings_dialog_manager_changes_the_assessment_table(qtbot, ctx, manager, open_dialog):
    from huifang_desktop.domain.stats import EventKind
    from huifang_desktop.services.stats import load_assessment_rules

    dialog = open_dialog(manager)
    page = dialog.assessment_page
    dialog.show_page(page)
    assert dialog.titles[-1] == "考核规则" and not page.note.isVisible()
    enabled, amount, points, multiplier = page.rows[EventKind.MISSED_VISIT]
    assert (enabled.isChecked(), amount.value()) == (True, 50)  # the defaults of domain.md §9
    amount.setValue(80)
    points.setValue(2)
    multiplier.setValue(2)
    page.rows[EventKind.END_CUSTOMER_LEDGER][0].setChecked(False)
    assert not page.rows[EventKind.END_CUSTOMER_LEDGER][1].isEnabled()  # its amount greys out
    page.fields[EventKind.PROBLEM_NOT_PASSED]["window"].setValue(48)
    page.options["repeats_double"].setChecked(True)
    page.monthly_due.setValue(5)
    assert dialog.apply()
    assert "考核规则" in dialog.message.text()
    rules = load_assessment_rules(ctx)
    rule = rules.rule(EventKind.MISSED_VISIT)
    assert (rule.amount, rule.points, rule.repeat_multiplier) == (80, 2, 2)
    assert rule.cost(3) == (80 + 160 + 160, 2 + 4 + 4)  # repeats within the month double
    assert not rules.rule(EventKind.END_CUSTOMER_LEDGER).enabled and rules.monthly_due_day == 5
    assert rules.rule(EventKind.PROBLEM_NOT_PASSED).window == 48 and rules.repeats_double
    assert rules.routine_rule_keys == ("routine", "technical")  # what the page does not show is kept
    assert [a.label for a in _setting_audits(ctx, "考核规则")] == ["考核规则"]
    assert dialog.apply() and "没有需要保存的修改" in dialog.message.text()


def test_settings_dialog_assessment_table_is_read_only_for_a_supervisor(qtbot, ctx, supervisor, open_dialog):
    from huifang_desktop.domain.stats import EventKind
    from huifang_desktop.services.stats import load_assessment_rules

    dialog = open_dialog(supervisor)  # may change the visit rules, not the assessment
    page = dialog.assessment_page
    dialog.show_page(page)
    assert page.note.isVisible() and "公司经理" in page.note.text()
    enabled, amount, _points, _multiplier = page.rows[EventKind.MISSED_VISIT]
    assert not enabled.isEnabled() and amount.isReadOnly()
    assert dialog.apply()  # the other pages still save; this one writes nothing
    assert load_assessment_rules(ctx).rule(EventKind.MISSED_VISIT).amount == 50


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen platform
def test_settings_dialog_manager_edits_the_graded_kinds(qtbot, ctx, manager, open_dialog):
    """002 制度9: the graded kinds (name, amount range, points) are the manager's to add, change and remove."""
    from huifang_desktop.services.stats import load_assessment_rules

    dialog = open_dialog(manager)
    page = dialog.assessment_page
    dialog.show_page(page)
    editor = page.graded
    assert editor.table.rowCount() == 4 and editor.table.cellWidget(0, 0).text() == "服务态度不佳、效率低下"
    editor.table.selectRow(3)  # 隐瞒投诉、延误处理
    editor.remove_kind()
    editor.add_kind()
    name, low, high, points = (editor.table.cellWidget(3, col) for col in range(4))
    low.setValue(500)
    high.setValue(400)
    assert not dialog.apply()  # an empty name and the highest below the lowest are refused
    assert "最高金额不能低于最低金额" in dialog.message.text() or "名称" in dialog.message.text()
    name.setText("泄露客户资料")
    high.setValue(800)
    points.setValue(3)
    assert dialog.apply()
    graded = load_assessment_rules(ctx).graded
    assert [(g.key, g.label, g.min_amount, g.max_amount, g.points) for g in graded[2:]] == [
        ("denied_complaint", "对投诉事实拒不承认", 300, 300, 10),
        ("graded_1", "泄露客户资料", 500, 800, 3),
    ]


def test_main_window_tools_menu_opens_the_settings_dialog(qtbot, ctx, supervisor, tmp_path):
    window = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(window)
    menus = [a.text() for a in window.menuBar().actions()]
    assert "工具(&T)" in menus
    assert window.settings_action.shortcut().toString() == "Ctrl+,"
    window.settings_action.trigger()
    dialog = window.settings_dialog
    assert isinstance(dialog, SettingsDialog) and dialog.isVisible()
    window.settings_action.trigger()  # already open: the same dialog comes to the front
    assert window.settings_dialog is dialog
    dialog.reject()
    window.settings_action.trigger()
    assert window.settings_dialog is not dialog and window.settings_dialog.isVisible()
    window.settings_dialog.reject()


def test_rule_table_model_passes_qabstractitemmodeltester(qtmodeltester):
    model = RuleTableModel()
    model.set_rules([r.to_dict() for r in RuleSet().rules])
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == len(RuleSet().rules)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("delivery_arrival", "1–5 天"),
        ("delivery_usage", "1 周"),
        ("end_customer_monthly", "1 个月，每 1 个月重复，至质保到期日"),
        ("end_customer_few", "1 个月；3 个月；6 个月"),
        ("car_first_service", "首保日期前 14–7 天"),
        ("birthday", "客户生日前 3 天至当天，每 1 年重复"),
        ("car_2h", "2 小时内"),
    ],
)
def test_rule_windows_read_as_the_office_says_them(key, text):
    assert describe_windows(RuleSet().rule(key).to_dict()) == text
