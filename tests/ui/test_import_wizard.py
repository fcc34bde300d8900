"""pytest-qt: the import wizard end to end (file → sheet → mapping → report → retry → import → summary),
cancelling, a broken file, the models, and the menu action. Set ``HUIFANG_SCREENSHOTS=DIR`` to save a PNG of
every page (with the bundled CJK font) for a look."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard
from sqlalchemy import func, select

from huifang_desktop.config import AppPaths
from huifang_desktop.services import importing
from huifang_desktop.services.importing import ImportTarget
from huifang_desktop.services.settings import get_value, set_value
from huifang_desktop.storage.models import AuditLog, Customer
from huifang_desktop.ui.importing import ImportWizard
from huifang_desktop.ui.importing.models import HEADER_ROW_COLOR, IssueModel, PreviewModel
from huifang_desktop.ui.main_window import MainWindow
from tests.conftest import HANG_GUARD_S
from tests.services.test_importing import existing, ugly_customer_workbook  # noqa: F401  (fixture)

SHOTS = os.environ.get("HUIFANG_SCREENSHOTS")


def _shot(widget, name: str) -> None:
    image = widget.grab()
    assert not image.isNull() and image.width() > 400
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        assert image.save(str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture
def make_wizard(qtbot, ctx):
    if SHOTS:
        from PySide6.QtGui import QFont
        from PySide6.QtWidgets import QApplication

        from huifang_desktop.ui.application import register_fonts

        family = register_fonts()
        if family:
            QApplication.instance().setFont(QFont(family, 10))  # type: ignore[union-attr]
    made: list[ImportWizard] = []

    def _make(user, path: Path, **kw) -> ImportWizard:
        wizard = ImportWizard(
            ctx.as_user(user), choose_file=lambda _parent: str(path), progress_after_ms=10_000, **kw
        )
        qtbot.addWidget(wizard)
        wizard.show()
        made.append(wizard)
        return wizard

    yield _make
    for w in made:
        w.wait_idle()


def _idle(qtbot, wizard: ImportWizard, page_id: int) -> None:
    qtbot.waitUntil(lambda: wizard.currentId() == page_id and not wizard.busy)


def _to_report(qtbot, wizard: ImportWizard, path: Path) -> None:
    """Open ``path``, keep the first sheet and the remembered mapping, and wait for the checked report."""
    wizard.file_page.path_edit.setText(str(path))
    _next(qtbot, wizard)
    _idle(qtbot, wizard, ImportWizard.PAGE_SHEET)
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    _idle(qtbot, wizard, ImportWizard.PAGE_REPORT)
    qtbot.waitUntil(lambda: wizard.report is not None)


def _next(qtbot, wizard: ImportWizard) -> None:
    button = wizard.button(
        QWizard.WizardButton.CommitButton
        if wizard.currentPage().isCommitPage()
        else QWizard.WizardButton.NextButton
    )
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _count(ctx) -> int:
    with ctx.sessions() as s:
        return int(s.execute(select(func.count()).select_from(Customer)).scalar() or 0)


def test_import_wizard_end_to_end_with_retry(qtbot, ctx, clerk, existing, tmp_path, make_wizard):  # noqa: F811
    path = ugly_customer_workbook(tmp_path / "客户台账.xlsx")
    wizard = make_wizard(clerk, path)
    page = wizard.file_page
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # no file yet
    qtbot.mouseClick(page.browse, Qt.MouseButton.LeftButton)
    assert page.path_edit.text() == str(path) and page.target() is ImportTarget.CUSTOMERS
    _shot(wizard, "1_file")
    _next(qtbot, wizard)

    # sheet page: the first rows as Excel numbers them, the header row (4) highlighted and editable
    _idle(qtbot, wizard, ImportWizard.PAGE_SHEET)
    sheet = wizard.sheet_page
    assert sheet.sheet_combo.currentText() == "客户台账" and sheet.header_spin.value() == 4
    model = sheet.model
    assert model.headerData(3, Qt.Orientation.Vertical) == "4"
    assert model.data(model.index(3, 1)) == "客户名称"
    assert model.data(model.index(3, 1), Qt.ItemDataRole.BackgroundRole).color() == HEADER_ROW_COLOR
    assert model.data(model.index(4, 1), Qt.ItemDataRole.BackgroundRole) is None
    _shot(wizard, "2_sheet")
    sheet.header_spin.setValue(5)  # the user tries another row …
    qtbot.waitUntil(lambda: not wizard.busy and wizard.preview.header_row == 5)
    assert wizard.mapping.get("name") != 1
    sheet.header_spin.setValue(4)  # … and goes back
    qtbot.waitUntil(lambda: not wizard.busy and wizard.preview.header_row == 4)
    _next(qtbot, wizard)

    # mapping page: suggested from the header names, required fields marked
    _idle(qtbot, wizard, ImportWizard.PAGE_MAPPING)
    mp = wizard.mapping_page
    assert mp.combos["name"].currentData() == 1 and mp.combos["phone"].currentData() == 3
    assert mp.combos["grade"].currentText() == "F · 客户等级" and mp.combos["email"].currentData() == -1
    assert mp.labels["name"].text() == "客户名称 *"
    mp.combos["name"].setCurrentIndex(0)  # (不导入)
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert "“客户名称”" in mp.message.text()
    mp.combos["name"].setCurrentIndex(mp.combos["name"].findData(1))
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled() and mp.message.text() == ""
    _shot(wizard, "3_mapping")
    _next(qtbot, wizard)
    assert get_value(ctx, "import_mapping.customers")["name"] == "客户名称"  # remembered for next time

    # report page: bad rows by sheet row number and column, duplicates, counts; nothing written yet
    _idle(qtbot, wizard, ImportWizard.PAGE_REPORT)
    report_page = wizard.report_page
    qtbot.waitUntil(lambda: wizard.report is not None)
    issues = report_page.model
    got = [
        (issues.data(issues.index(r, 0)), issues.data(issues.index(r, 1)), issues.data(issues.index(r, 3)))
        for r in range(issues.rowCount())
    ]
    assert got == [
        (7, "D列（联系电话）", "错误"),
        (7, "G列（建档日期）", "错误"),
        (9, "D列（联系电话）", "重复"),
        (10, "D列（联系电话）", "重复"),
    ]
    assert "可导入 3 行，有问题 1 行，重复 2 行" in report_page.summary.text()
    assert wizard.button(QWizard.WizardButton.CommitButton).text() == "导入有效行"
    assert _count(ctx) == 1
    _shot(wizard, "4_report")

    # the clerk fixes row 7 in Excel and presses 修改后重试
    ugly_customer_workbook(path, fix=True)
    qtbot.mouseClick(report_page.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.report is not None and not wizard.busy)
    assert [i.row for i in wizard.report.issues] == [9, 10] and wizard.report.valid_count == 4
    assert "可导入 4 行" in report_page.summary.text()

    with qtbot.waitSignal(wizard.imported) as imported:
        _next(qtbot, wizard)
    _idle(qtbot, wizard, ImportWizard.PAGE_SUMMARY)
    assert imported.args[0].imported == 4
    assert _count(ctx) == 5
    text = wizard.summary_page.text.text()
    assert "已从“客户台账.xlsx”导入 4 行到客户台账" in text and "重复 2 行" in text
    assert wizard.summary_page.title() == "导入完成"
    assert not wizard.button(QWizard.WizardButton.BackButton).isVisible()
    _shot(wizard, "6_summary")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    assert not wizard.isVisible()
    with ctx.sessions() as s:
        assert s.execute(select(AuditLog.note).where(AuditLog.action == "导入Excel")).scalars().all() == [
            "客户台账.xlsx"
        ]


def test_import_wizard_cancel_during_the_import_writes_nothing(
    qtbot, ctx, clerk, tmp_path, make_wizard, monkeypatch
):
    set_value(ctx, "import_rules", {"batch_size": 1}, what="导入设置")
    path = ugly_customer_workbook(tmp_path / "c.xlsx", fix=True)
    gate = threading.Event()
    real = importing.run_import

    def held(*args, **kwargs):  # the write waits until the test has pressed 取消导入
        gate.wait(HANG_GUARD_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "run_import", held)
    wizard = make_wizard(clerk, path)
    _to_report(qtbot, wizard, path)
    _next(qtbot, wizard)
    assert wizard.currentId() == ImportWizard.PAGE_IMPORT and wizard.importing_now()
    _shot(wizard, "5_importing")
    wizard.reject()  # the wizard's 取消 while writing asks the import to stop instead of closing
    assert wizard.isVisible() and wizard.task.is_cancelled()
    gate.set()
    _idle(qtbot, wizard, ImportWizard.PAGE_SUMMARY)
    assert wizard.summary_page.title() == "已取消"
    assert "没有写入任何数据" in wizard.summary_page.text.text()
    assert _count(ctx) == 0


def test_import_wizard_undoes_the_import_it_just_made(qtbot, ctx, clerk, tmp_path, make_wizard):
    path = ugly_customer_workbook(tmp_path / "c.xlsx", fix=True)
    wizard = make_wizard(clerk, path)
    _to_report(qtbot, wizard, path)
    with qtbot.waitSignal(wizard.imported):
        _next(qtbot, wizard)
    _idle(qtbot, wizard, ImportWizard.PAGE_SUMMARY)
    page = wizard.summary_page
    assert _count(ctx) == 5 and page.undo_button.isVisible()
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)  # first click only asks
    assert page.undo_button.text() == "确认撤销：删除刚导入的 5 行" and _count(ctx) == 5
    with qtbot.waitSignal(wizard.undone) as undone:
        qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    assert undone.args[0].removed == 5 and _count(ctx) == 0
    assert page.title() == "已撤销导入" and "删除客户台账记录 5 条" in page.text.text()
    assert not page.undo_button.isVisible()
    _shot(wizard, "7_undone")


def test_import_wizard_broken_file_stays_on_the_first_page_with_a_message(
    qtbot, ctx, clerk, tmp_path, make_wizard
):
    bad = tmp_path / "坏的.xlsx"
    bad.write_bytes(os.urandom(4096))
    wizard = make_wizard(clerk, bad)
    wizard.file_page.path_edit.setText(str(bad))
    _next(qtbot, wizard)
    qtbot.waitUntil(lambda: not wizard.busy and "不是有效的 Excel 文件" in wizard.file_page.message.text())
    assert wizard.currentId() == ImportWizard.PAGE_FILE and "坏的.xlsx" in wizard.file_page.message.text()
    _shot(wizard, "0_broken")


def test_import_wizard_sheet_without_header_asks_for_the_row(qtbot, ctx, clerk, tmp_path, make_wizard):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["一些说明"])
    ws.append(["甲", "乙"])
    ws.append(["张三", "13812345678"])
    wb.save(tmp_path / "x.xlsx")
    wizard = make_wizard(clerk, tmp_path / "x.xlsx")
    wizard.file_page.path_edit.setText(str(tmp_path / "x.xlsx"))
    _next(qtbot, wizard)
    _idle(qtbot, wizard, ImportWizard.PAGE_SHEET)
    assert "没有找到表头行" in wizard.sheet_page.message.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.sheet_page.header_spin.setValue(2)
    qtbot.waitUntil(lambda: not wizard.busy and wizard.preview.header_row == 2)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    _next(qtbot, wizard)
    _idle(qtbot, wizard, ImportWizard.PAGE_MAPPING)
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # 客户名称 not mapped yet
    combo = wizard.mapping_page.combos["name"]
    combo.setCurrentIndex(combo.findData(0))
    wizard.mapping_page.combos["mobile"].setCurrentIndex(wizard.mapping_page.combos["mobile"].findData(1))
    _next(qtbot, wizard)
    _idle(qtbot, wizard, ImportWizard.PAGE_REPORT)
    qtbot.waitUntil(lambda: wizard.report is not None)
    assert wizard.report.valid_count == 1 and wizard.report.clean


def test_import_models_pass_the_model_tester(qtmodeltester, ctx, clerk, tmp_path):
    path = ugly_customer_workbook(tmp_path / "c.xlsx")
    p = importing.preview(ctx.as_user(clerk), path)
    preview = PreviewModel()
    preview.set_rows(p.rows, p.width, p.header_row)
    qtmodeltester.check(preview)
    report = importing.validate(
        ctx.as_user(clerk),
        path,
        None,
        ImportTarget.CUSTOMERS,
        importing.ColumnMapping(p.header_row, p.mapping),
    )
    issues = IssueModel()
    issues.set_issues(report.issues)
    qtmodeltester.check(issues)
    assert issues.headerData(0, Qt.Orientation.Horizontal) == "行号"


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen: raising the open wizard
def test_main_window_import_action_only_for_users_who_edit_customers(qtbot, ctx, clerk, admin, tmp_path):
    window = MainWindow(ctx.as_user(clerk), AppPaths(tmp_path))
    qtbot.addWidget(window)
    assert window.import_action.isVisible() and window.import_action.shortcut().toString() == "Ctrl+I"
    assert window.import_action.text() == "导入 Excel…"
    window.import_action.trigger()
    assert isinstance(window.import_wizard, ImportWizard) and window.import_wizard.isVisible()
    first = window.import_wizard
    window.import_action.trigger()  # a second Ctrl+I raises the open one
    assert window.import_wizard is first
    first.reject()
    admin_window = MainWindow(ctx.as_user(admin), AppPaths(tmp_path))
    qtbot.addWidget(admin_window)
    assert not admin_window.import_action.isVisible() and not admin_window.import_action.isEnabled()


def _import(cctx, path: Path):
    p = importing.preview(cctx, path, None, ImportTarget.CUSTOMERS)
    report = importing.validate(
        cctx, path, p.sheet, ImportTarget.CUSTOMERS, importing.ColumnMapping(p.header_row, p.mapping)
    )
    return importing.run_import(cctx, report)


def test_import_runs_dialog_lists_the_imports_and_undoes_one_from_the_menu(
    qtbot, qtmodeltester, ctx, clerk, supervisor, tmp_path
):
    from openpyxl import Workbook

    from huifang_desktop.services import customers as customer_service
    from huifang_desktop.ui.importing.runs_dialog import ImportRunsDialog

    cctx = ctx.as_user(clerk)
    first = _import(cctx, ugly_customer_workbook(tmp_path / "客户台账.xlsx", fix=True))
    customer = customer_service.get_customer_by_code(cctx, first.first_number)
    customer_service.pin_grade(ctx.as_user(supervisor), customer.id, "B", "年度重点客户")  # later work
    wb = Workbook()
    wb.active.append(["客户名称", "手机"])
    wb.active.append(["甲公司", "13800000001"])
    wb.active.append(["乙公司", "13800000002"])
    wb.save(tmp_path / "补充.xlsx")
    second = _import(cctx, tmp_path / "补充.xlsx")
    assert _count(ctx) == 7

    window = MainWindow(cctx, AppPaths(tmp_path))
    qtbot.addWidget(window)
    assert window.import_runs_action.isVisible() and window.import_runs_action.text() == "导入记录…"
    window.import_runs_action.trigger()
    dialog = window.import_runs_dialog
    assert isinstance(dialog, ImportRunsDialog) and dialog.isVisible()
    qtmodeltester.check(dialog.model)
    model = dialog.model
    assert [model.data(model.index(1, c)) for c in range(8)] == [
        str(first.run_id),
        f"{model.runs[1].created_at:%Y-%m-%d %H:%M}",
        "客户台账",
        "客户台账.xlsx",
        "客户台账",
        "5",
        "小王",
        "有效",
    ]
    assert model.data(model.index(0, 3)) == "补充.xlsx"  # newest first
    assert not dialog.undo_button.isEnabled()  # nothing selected yet

    dialog.table.selectRow(1)  # the first import: refused, a file was edited since
    qtbot.mouseClick(dialog.undo_button, Qt.MouseButton.LeftButton)
    assert dialog.undo_button.text() == f"确认撤销：删除第 {first.run_id} 次导入的 5 行"
    qtbot.mouseClick(dialog.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy and "不能撤销" in dialog.message.text())
    assert f"客户 {first.first_number} 导入后已修改" in dialog.message.text() and _count(ctx) == 7
    assert dialog.undo_button.text() == "撤销所选导入…"

    dialog.table.selectRow(0)  # the second: undone, and the list says so
    qtbot.mouseClick(dialog.undo_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.undone):
        qtbot.mouseClick(dialog.undo_button, Qt.MouseButton.LeftButton)
    assert _count(ctx) == 5 and "删除客户台账记录 2 条" in dialog.message.text()
    assert model.data(model.index(0, 7)).startswith("已撤销（小王") and model.runs[0].id == second.run_id
    dialog.table.selectRow(0)
    assert not dialog.undo_button.isEnabled()  # an undone import cannot be undone again
    _shot(dialog, "8_runs")
    dialog.reject()
    assert not dialog.isVisible()


def test_import_wizard_reports_by_kind_lists_what_is_left_out_and_offers_hidden_rows_and_owners(
    qtbot, ctx, clerk, tmp_path, make_wizard
):
    """Issue 21: the report page groups the problems (count, first rows, how to fix), lists the unused
    columns, the other sheet, the hidden row and the 负责人 who are no users; 包括隐藏行 checks again."""
    from tests.services.test_import_onboarding import messy_office_ledger

    path = messy_office_ledger(tmp_path / "台账.xlsx")
    wizard = make_wizard(clerk, path)
    wizard.file_page.path_edit.setText(str(path))
    _next(qtbot, wizard)
    _idle(qtbot, wizard, ImportWizard.PAGE_SHEET)
    assert [
        wizard.sheet_page.sheet_combo.itemText(i) for i in range(wizard.sheet_page.sheet_combo.count())
    ] == ["2025年", "2024年"]
    _next(qtbot, wizard)
    _next(qtbot, wizard)
    _idle(qtbot, wizard, ImportWizard.PAGE_REPORT)
    qtbot.waitUntil(lambda: wizard.report is not None and not wizard.busy, timeout=20_000)
    page = wizard.report_page
    text = page.groups.toPlainText()
    assert "【重复】C列（手机号码）：与第 N 行重复 — 1 行（第 7 行）" in text and "怎么改：" in text
    assert "未导入的列：A列“序号”" in text and "2024年" in text and "隐藏的行已跳过：第 9 行" in text
    assert "老刘（2 行）" in text
    assert wizard.report.valid_count == 3
    assert not page.owners.model().item(1).isEnabled()  # a clerk may not create accounts
    page.include_hidden.setChecked(True)
    qtbot.waitUntil(
        lambda: wizard.report is not None and not wizard.busy and wizard.report.valid_count == 4,
        timeout=20_000,
    )
    assert "隐藏的行已跳过" not in page.groups.toPlainText()
    _shot(wizard, "import-report-grouped")
