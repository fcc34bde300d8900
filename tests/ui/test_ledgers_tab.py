"""pytest-qt tests of the 台账 tab over the hand-built office of tests/services/test_ledgers.py: the five ledgers,
filters and saved filters, sorting in SQL by a header click, the column chooser remembered per user, the 合计
row, export with progress and cancel, print preview, the service record form, keys, and the models."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication

from huifang_desktop.services import ledgers as ledger_service
from huifang_desktop.services import service_records as sr
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.ledgers import Ledger
from huifang_desktop.ui.ledgers import LedgersTab
from huifang_desktop.ui.ledgers.model import LedgerTableModel, TotalsModel
from huifang_desktop.ui.ledgers.service_dialog import ServiceRecordDialog
from tests.conftest import HANG_GUARD_S
from tests.services import test_ledgers
from tests.services.test_ledgers import Office

office = test_ledgers.office  # the services' fixture, found by pytest under this name (no import to redefine)


@pytest.fixture
def make_tab(qtbot: Any) -> Any:
    tabs: list[LedgersTab] = []

    def make(ctx: ServiceContext) -> LedgersTab:
        tab = LedgersTab(ctx)
        qtbot.addWidget(tab)
        tab.resize(1400, 800)
        tab.show()
        qtbot.waitExposed(tab)
        _settled(qtbot, tab)
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        if tab.task is not None and tab.task.is_running():
            tab.task.cancel()
        assert tab.wait()


def _settled(qtbot: Any, tab: LedgersTab) -> None:
    qtbot.waitUntil(
        lambda: tab.totals is not None or "未能计算" in tab.summary_label.text() or bool(tab.notice.text())
    )


def _pick(qtbot: Any, tab: LedgersTab, ledger: Ledger) -> None:
    tab.picker.setCurrentRow(list(Ledger).index(ledger))
    _settled(qtbot, tab)


def _column(tab: LedgersTab, key: str) -> list[str]:
    col = tab.model.column_index(key)
    return [tab.model.data(tab.model.index(r, col)) for r in range(tab.model.rowCount())]


def _shown_headers(tab: LedgersTab) -> list[str]:
    header = tab.table.horizontalHeader()
    return [
        tab.model.headerData(header.logicalIndex(v), Qt.Orientation.Horizontal)
        for v in range(header.count())
        if not header.isSectionHidden(header.logicalIndex(v))
    ]


def test_ledgers_tab_shows_every_ledger_with_its_filters_and_totals(
    qtbot: Any, make_tab: Any, office: Office
) -> None:
    tab = make_tab(office.supervisor)
    assert [tab.picker.item(i).text() for i in range(tab.picker.count())] == [
        "客户台账",
        "回访台账",
        "投诉台账",
        "售后服务台账",
        "终端客户信息台帐",
    ]
    # 全部 holds the archived file too (远纳运输, 状态 已归档, greyed)
    assert _column(tab, "name") == [
        "杭州明达机械",
        "宁波顺通物流",
        "浙江华成建设",
        "远纳运输",
        "安吉空白农场",
    ]
    assert tab.summary_label.text() == "共 5 位客户（其中已归档 1 位），年采购量合计 21"
    label = tab.totals_model.data(tab.totals_model.index(0, 0))
    assert label == "合计 5 条"
    volume = tab.model.column_index("annual_volume")
    assert tab.totals_model.data(tab.totals_model.index(0, volume)) == "21"
    assert tab.date_label.text() == "建档日期" and tab.state.itemText(0) == "全部状态"
    assert not tab.new_button.isVisibleTo(tab)

    _pick(qtbot, tab, Ledger.SERVICES)
    assert _column(tab, "served_on") == ["2026-11-20", "2026-11-18", "2026-10-30"]  # newest first
    assert _column(tab, "cost") == ["300.00", "1,200.50", ""]
    cost = tab.model.column_index("cost")
    assert tab.totals_model.data(tab.totals_model.index(0, cost)) == "1,500.50"
    assert tab.new_button.isVisibleTo(tab) and tab.new_button.isEnabled()
    assert "服务费用 1,500.50 元" in tab.summary_label.text()

    _pick(qtbot, tab, Ledger.VISITS)
    assert tab.saved_box.currentText() == "本月"  # the 回访台账 opens on this month
    assert tab.start.date() == QDate(2026, 11, 1) and tab.end.date() == QDate(2026, 11, 30)
    assert "计划外" in tab.summary_label.text()

    _pick(qtbot, tab, Ledger.COMPLAINTS)
    assert _column(tab, "subject") == ["维修不及时", "送货延误三天"]
    overdue_row = _column(tab, "subject").index("送货延误三天")
    color = tab.model.data(tab.model.index(overdue_row, 0), Qt.ItemDataRole.ForegroundRole)
    assert color is not None and color.name() == "#cf1322"

    _pick(qtbot, tab, Ledger.END_CUSTOMERS)
    assert _column(tab, "product") == ["装载机", "叉车", "挖掘机", ""]
    assert _column(tab, "amount")[:2] == ["450,000.50", "360,000.00"]
    # back to the 客户台账: the filter it had is kept
    _pick(qtbot, tab, Ledger.CUSTOMERS)
    assert len(_column(tab, "name")) == 5


def test_filters_run_in_sql_and_the_date_fields_say_unlimited(
    qtbot: Any, make_tab: Any, office: Office
) -> None:
    tab = make_tab(office.clerk)
    assert tab.start.text() == "不限"
    tab.search.setText("顺通")
    qtbot.waitUntil(lambda: _column(tab, "name") == ["宁波顺通物流"])
    tab.search.clear()
    tab.apply_filter()
    tab.owner.setCurrentIndex(tab.owner.findData("mine"))
    assert _column(tab, "name") == ["杭州明达机械", "宁波顺通物流", "安吉空白农场"]
    tab.state.setCurrentIndex(tab.state.findData("已归档"))
    assert _column(tab, "name") == []
    tab.clear_filter()
    tab.start.setDate(QDate(2026, 11, 1))
    assert _column(tab, "name") == ["宁波顺通物流", "浙江华成建设"]
    _settled(qtbot, tab)
    assert tab.current_filter().start == date(2026, 11, 1) and tab.current_filter().end is None


def test_header_click_sorts_in_sql_and_unsortable_columns_say_so(
    qtbot: Any, make_tab: Any, office: Office
) -> None:
    tab = make_tab(office.clerk)
    header = tab.table.horizontalHeader()
    name = tab.model.column_index("name")
    header.sectionClicked.emit(name)
    assert tab.model.filter.sort == "name" and tab.model.filter.descending is False
    by_pinyin = ["安吉空白农场", "杭州明达机械", "宁波顺通物流", "远纳运输", "浙江华成建设"]
    assert _column(tab, "name") == by_pinyin
    header.sectionClicked.emit(name)
    assert _column(tab, "name") == by_pinyin[::-1]
    assert (
        header.sortIndicatorSection() == name and header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    )
    phone = tab.model.column_index("phone")
    header.sectionClicked.emit(phone)
    assert "“电话”列不能排序" in tab.notice.text()
    assert header.sortIndicatorSection() == name  # the indicator stays on the real sort column
    _settled(qtbot, tab)


def test_saved_filters_save_apply_and_delete(qtbot: Any, make_tab: Any, office: Office) -> None:
    tab = make_tab(office.clerk)
    _pick(qtbot, tab, Ledger.SERVICES)
    tab.kind.setCurrentIndex(tab.kind.findData("维修"))
    assert _column(tab, "customer_name") == ["杭州明达机械"]
    tab.ask_filter_name = lambda: "维修单"
    tab.save_current_filter()
    assert tab.saved_box.currentText() == "★ 维修单" and "已保存常用筛选“维修单”" in tab.notice.text()
    assert tab.delete_filter_button.isEnabled()

    tab.apply_saved("全部")
    assert len(_column(tab, "customer_name")) == 3 and not tab.delete_filter_button.isEnabled()
    tab.apply_saved("维修单")
    assert _column(tab, "customer_name") == ["杭州明达机械"] and tab.kind.currentData() == "维修"

    tab.ask_filter_name = lambda: "本月"
    tab.save_current_filter()
    assert "内置筛选" in tab.notice.text()

    tab.apply_saved("维修单")
    tab.delete_current_filter()
    assert "★ 维修单" not in [tab.saved_box.itemText(i) for i in range(tab.saved_box.count())]
    assert "维修单" not in {s.name for s in ledger_service.saved_filters(office.clerk, Ledger.SERVICES)}
    _settled(qtbot, tab)


def test_column_chooser_hides_columns_and_remembers_them_per_user(
    qtbot: Any, make_tab: Any, office: Office
) -> None:
    tab = make_tab(office.clerk)
    _pick(qtbot, tab, Ledger.SERVICES)
    assert "备注" not in _shown_headers(tab) and "服务费用" in _shown_headers(tab)
    tab.set_column_visible("notes", True)
    tab.set_column_visible("cost", False)
    shown = _shown_headers(tab)
    assert "备注" in shown and "服务费用" not in shown
    notes = tab.model.column_index("notes")
    assert not tab.totals_view.isColumnHidden(notes) and tab.totals_view.isColumnHidden(
        tab.model.column_index("cost")
    )

    again = make_tab(office.clerk)
    _pick(qtbot, again, Ledger.SERVICES)
    assert _shown_headers(again) == shown
    other = make_tab(office.clerk2)
    _pick(qtbot, other, Ledger.SERVICES)
    assert "服务费用" in _shown_headers(other) and "备注" not in _shown_headers(other)


def test_export_writes_what_is_shown_with_a_progress_dialog(
    qtbot: Any, make_tab: Any, office: Office, tmp_path: Path
) -> None:
    tab = make_tab(office.clerk)
    _pick(qtbot, tab, Ledger.SERVICES)
    tab.set_column_visible("parts_amount", False)
    tab.state.setCurrentIndex(tab.state.findData("处理中"))
    out = tmp_path / "service.xlsx"
    tab.ask_export_path = lambda: str(out)
    tab.export()
    assert tab.task is not None
    qtbot.waitUntil(lambda: not tab.task.is_running())
    assert "已导出 2 行" in tab.notice.text()
    wb = load_workbook(out)
    ws = wb["售后服务台账"]
    headers = [c.value for c in ws[2]]
    assert "配件金额" not in headers and headers[:2] == ["服务单号", "服务日期"]
    assert [ws.cell(r, headers.index("状态") + 1).value for r in (3, 4)] == ["处理中", "处理中"]
    notes = {row[0]: row[1] for row in wb["说明"].iter_rows(min_row=2, values_only=True)}
    assert notes["筛选：状态"] == "处理中" and notes["导出人"].startswith("小王")


def test_export_can_be_cancelled(
    qtbot: Any, make_tab: Any, office: Office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()

    def slow_export(
        ctx: Any, ledger: Any, f: Any, path: Any, progress: Any, cancelled: Any, **kw: Any
    ) -> Any:
        started.set()
        while not cancelled():
            threading.Event().wait(0.01)
        raise ledger_service.ExportCancelled("已取消导出，没有生成文件。")

    monkeypatch.setattr(ledger_service, "export", slow_export)
    tab = make_tab(office.clerk)
    _pick(qtbot, tab, Ledger.VISITS)
    tab.ask_export_path = lambda: str(tmp_path / "v.xlsx")
    tab.export()
    assert started.wait(HANG_GUARD_S)
    assert not tab.export_button.isEnabled()
    tab.task.cancel()
    qtbot.waitUntil(lambda: not tab.task.is_running())
    assert tab.notice.text() == "已取消，没有生成文件。" and tab.export_button.isEnabled()
    assert not (tmp_path / "v.xlsx").exists()


def test_customer_ledger_export_needs_a_supervisor(qtbot: Any, make_tab: Any, office: Office) -> None:
    tab = make_tab(office.clerk)
    assert not tab.export_button.isEnabled() and "绝密" in tab.export_button.toolTip()
    _pick(qtbot, tab, Ledger.VISITS)
    assert tab.export_button.isEnabled()


def test_print_opens_the_preview_of_the_shown_ledger(qtbot: Any, make_tab: Any, office: Office) -> None:
    tab = make_tab(office.supervisor)
    _pick(qtbot, tab, Ledger.SERVICES)
    tab.print_ledger()
    qtbot.waitUntil(lambda: tab.preview is not None)
    assert tab.preview.page_count() == 1
    assert "售后服务台账" in tab.preview.windowTitle()
    tab.preview.close()


def test_new_service_record_form_saves_and_the_ledger_shows_it(
    qtbot: Any, make_tab: Any, office: Office
) -> None:
    tab = make_tab(office.clerk)
    _pick(qtbot, tab, Ledger.SERVICES)
    tab.new_record()
    dialog = tab.dialog
    assert isinstance(dialog, ServiceRecordDialog) and dialog.isVisible()
    assert not dialog.follow_box.isVisibleTo(dialog)  # follow-ups once the record exists

    dialog.save()  # nothing chosen: the form says what is missing
    assert "请选择客户" in dialog.message.text()
    assert dialog.customer.search.styleSheet() != ""

    dialog.customer.search.setText("明达")
    dialog.customer.find()
    assert dialog.customer.matches.currentText().startswith("KH000001 杭州明达机械")
    dialog.served_on.setDate(QDate(2026, 11, 23))
    dialog.kind.setCurrentText("保养")
    dialog.product.setText("叉车 CPD25")
    dialog.problem.setPlainText("例行保养")
    dialog.cost.setText("450")
    dialog.save()
    assert dialog.detail is not None and dialog.detail.number == "FW20261123-001"
    assert "已保存 FW20261123-001" in dialog.message.text()
    assert dialog.follow_box.isVisibleTo(dialog)
    assert _column(tab, "number")[0] == "FW20261123-001"
    assert tab.selected() == ("service_record", dialog.detail.id)

    dialog.follow_result.setCurrentText("已解决")
    dialog.follow_note.setText("客户确认")
    dialog.add_follow_up()
    assert dialog.follow_table.rowCount() == 1 and dialog.follow_table.item(0, 2).text() == "已解决"
    assert _column(tab, "follow_up_result")[0] == "已解决"
    dialog.close()
    _settled(qtbot, tab)


def test_edit_shows_a_refused_save_inside_the_form(qtbot: Any, make_tab: Any, office: Office) -> None:
    tab = make_tab(office.clerk)
    _pick(qtbot, tab, Ledger.SERVICES)
    target = office.services[2]  # 安装, entered by 小王
    row = tab.model.row_of("service_record", target.id)
    assert row is not None
    tab.table.selectRow(row)
    assert tab.edit_button.isEnabled()
    tab.edit_current()
    dialog = tab.dialog
    assert dialog is not None and dialog.detail is not None and dialog.product.text() == "叉车"
    sr.update_service_record(office.supervisor, target.id, target.to_draft(result="主管改过"), target.version)
    dialog.result.setText("我的修改")
    dialog.save()
    assert "已被其他人修改" in dialog.message.text() and "李主管" in dialog.message.text()
    dialog.close()


def test_keys_switch_ledgers_and_open_the_form(qtbot: Any, make_tab: Any, office: Office) -> None:
    tab = make_tab(office.clerk)
    tab.activateWindow()
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    _settled(qtbot, tab)
    assert tab.ledger is Ledger.SERVICES
    qtbot.keyClick(tab.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is tab.search
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_Insert)
    assert isinstance(tab.dialog, ServiceRecordDialog) and tab.dialog.detail is None
    tab.dialog.close()
    tab.table.selectRow(0)
    qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    assert tab.dialog is not None and tab.dialog.detail is not None
    tab.dialog.close()


def test_administrator_sees_a_notice_instead_of_business_data(
    qtbot: Any, make_tab: Any, ctx: ServiceContext, admin: UserInfo
) -> None:
    tab = make_tab(ctx.as_user(admin))
    assert "无权查看客户台账" in tab.notice.text()
    assert tab.model.rowCount() == 0


def test_models_pass_the_model_tester(qtmodeltester: Any, office: Office) -> None:
    model = LedgerTableModel(office.supervisor, page_size=2)
    model.load(Ledger.SERVICES, ledger_service.LedgerFilter())
    assert model.rowCount() == 2 and model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 3 and not model.canFetchMore()
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole + 1) == office.services[1].id
    qtmodeltester.check(model)
    totals = TotalsModel()
    totals.set_columns(model.columns, 0)
    totals.set_totals(ledger_service.totals(office.supervisor, Ledger.SERVICES))
    qtmodeltester.check(totals)
    assert totals.data(totals.index(0, model.column_index("parts_amount"))) == "96.25"
    assert ledger_service.totals(office.supervisor, Ledger.SERVICES).values["cost"] == Decimal("1500.50")
