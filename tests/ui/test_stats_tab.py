"""pytest-qt tests of the 统计 tab: period picker, figures and charts of the hand-built office of
tests/services/test_stats.py, grouping, the 考核 page with the manager's confirmation, exports and preview."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QDate, Qt

from huifang_desktop.domain.stats import (
    AssessmentStatus,
    PeriodKind,
    month_period,
    quarter_period,
    year_period,
)
from huifang_desktop.services import stats as stats_service
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.ui.stats.tab import PeriodPicker, StatsTab
from tests.conftest import PASSWORD
from tests.services import test_stats
from tests.services.test_stats import Office

office = test_stats.office  # the services' fixture, found by pytest under this name (no import to redefine)


def _tab(qtbot, ctx: ServiceContext) -> StatsTab:
    tab = StatsTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab.show()
    qtbot.waitUntil(lambda: tab.report is not None or "无法统计" in tab.notice.text())
    qtbot.waitUntil(lambda: not tab.is_loading())
    return tab


def _reload(qtbot, tab: StatsTab) -> None:
    with qtbot.waitSignal(tab.loaded):
        tab.refresh()
    qtbot.waitUntil(lambda: not tab.is_loading())


def _column(tab: StatsTab, page: str, key: str, column: int = 0) -> list[str]:
    model = tab.table_pages[page].models[key]
    return [model.data(model.index(r, column)) for r in range(model.rowCount())]


def _cell(tab: StatsTab, page: str, key: str, label: str, column: int) -> str:
    model = tab.table_pages[page].models[key]
    for r in range(model.rowCount()):
        if model.data(model.index(r, 0)) == label:
            return model.data(model.index(r, column))
    raise KeyError(label)


def test_period_picker_gives_month_quarter_year_and_custom(qtbot) -> None:
    picker = PeriodPicker(date(2026, 11, 24))
    qtbot.addWidget(picker)
    assert picker.period() == month_period(2026, 10)  # the last full month by default
    picker.kind.setCurrentIndex(picker.kind.findData(PeriodKind.QUARTER.value))
    picker.quarter.setCurrentIndex(2)
    assert picker.period() == quarter_period(2026, 3)
    picker.kind.setCurrentIndex(picker.kind.findData(PeriodKind.YEAR.value))
    picker.year.setValue(2025)
    assert picker.period() == year_period(2025)
    picker.kind.setCurrentIndex(picker.kind.findData(PeriodKind.CUSTOM.value))
    picker.start.setDate(QDate(2026, 10, 1))
    picker.end.setDate(QDate(2026, 10, 15))
    p = picker.period()
    assert (p.kind, p.start, p.end) == (PeriodKind.CUSTOM, date(2026, 10, 1), date(2026, 10, 15))
    assert picker.start.isVisibleTo(picker) and not picker.month.isVisibleTo(picker)


def test_stats_tab_shows_the_months_figures_tables_and_charts(
    qtbot, ctx: ServiceContext, office: Office
) -> None:
    tab = _tab(qtbot, ctx.as_user(office.supervisor))
    assert tab.report is not None and tab.report.period == month_period(2026, 10)
    assert "月度回访统计表" in tab.title.text() and "2026年10月" in tab.title.text()
    assert _cell(tab, "summary", "summary", "计划回访（次）", 1) == "7"
    assert _cell(tab, "summary", "summary", "回访率", 1) == "71.4%"
    assert _cell(tab, "summary", "summary", "处理率", 4) == "100.0%"
    assert _column(tab, "visits", "groups") == ["小王", "小李", "合计"]
    assert _cell(tab, "visits", "groups", "小王", 5) == "60.0%"
    assert _cell(tab, "visits", "rules", "维修回访", 8) == "达标"
    assert _column(tab, "complaints", "complaint_categories") == ["产品质量", "服务态度", "交付物流", "合计"]
    assert len(tab.charts_page.charts) == 4
    from PySide6.QtCharts import QChartView

    assert all(isinstance(w, QChartView) for w in tab.charts_page.charts)
    titles = [w.chart().title() for w in tab.charts_page.charts]  # type: ignore[attr-defined]
    assert titles == ["回访率趋势", "满意率趋势", "投诉类别", "各回访人回访情况"]
    clerks = tab.charts_page.charts[3].chart().series()[0]  # type: ignore[attr-defined]
    assert [s.label() for s in clerks.barSets()] == ["计划", "已回访"]
    assert [clerks.barSets()[0].at(i) for i in range(2)] == [5.0, 2.0]
    assert tab.xlsx_button.isEnabled() and tab.pdf_button.isEnabled()


def test_stats_tab_regroups_and_follows_the_period(qtbot, ctx: ServiceContext, office: Office) -> None:
    tab = _tab(qtbot, ctx.as_user(office.supervisor))
    with qtbot.waitSignal(tab.loaded):
        tab.group.setCurrentIndex(tab.group.findData("department"))
    assert _column(tab, "visits", "groups") == ["客服部", "销售部", "合计"]
    with qtbot.waitSignal(tab.loaded):
        tab.picker.kind.setCurrentIndex(tab.picker.kind.findData(PeriodKind.QUARTER.value))
    qtbot.waitUntil(lambda: not tab.is_loading())
    assert tab.report is not None and tab.report.title == "季度客户服务报告"
    assert tab.assessment_page.stack.currentIndex() == 0  # 考核 is monthly: the hint is shown


def test_assessment_page_manager_confirms_and_the_month_stays_frozen(
    qtbot, ctx: ServiceContext, office: Office
) -> None:
    mctx = ctx.as_user(office.manager)
    tab = _tab(qtbot, mctx)
    page = tab.assessment_page
    tab.pages.setCurrentWidget(page)
    assert page.stack.currentIndex() == 1
    names = [page.model.data(page.model.index(r, 0)) for r in range(page.model.rowCount())]
    assert names == ["小李", "小王", "合计"]
    amount_col = page.model.columnCount() - 2
    assert (
        page.model.data(page.model.index(2, amount_col)) == "150"
    )  # 001 §3: the late 1-week 使用回访 is not charged
    assert "未确认" in page.status.text() and page.confirm_button.isEnabled()
    page.comment.setText("同意")
    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.password_dialog is not None and page.password_dialog.isVisible())
    qtbot.keyClicks(page.password_dialog.password, PASSWORD)  # 签字确认: the manager's password
    with qtbot.waitSignal(tab.loaded):
        qtbot.keyClick(page.password_dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not tab.is_loading())
    assert stats_service.assessment(mctx, "2026-10").status is AssessmentStatus.CONFIRMED
    assert "赵经理" in page.status.text()
    assert not page.confirm_button.isEnabled() and not hasattr(page, "reopen_button")  # no 撤回 (issue 19.4)
    assert page.adjust_button.isEnabled() and not page.grade_button.isEnabled()
    assert "已冻结" in page.status.text()


def test_assessment_page_lists_each_persons_events_with_their_source(
    qtbot, ctx: ServiceContext, office: Office
) -> None:
    """Issue 19.3: every charged event viewable from the 考核 table — select a person, see his events."""
    tab = _tab(qtbot, ctx.as_user(office.manager))
    page = tab.assessment_page
    tab.pages.setCurrentWidget(page)
    everyone = page.events_model.rowCount()
    assert everyone == len(page.view.assessment.events) > 0
    assert page.events_model.headerData(3, Qt.Orientation.Horizontal) == "来源"
    assert "全部" in page.events_title.text()
    page.select_clerk("小王")
    wang = [e for e in page.view.assessment.events if e.owner_id == office.wang.id]
    assert page.events_model.rowCount() == len(wang) and "小王" in page.events_title.text()
    names = {
        page.events_model.data(page.events_model.index(r, 0)) for r in range(page.events_model.rowCount())
    }
    assert names == {"小王"}
    assert not page.open_button.isEnabled()  # nothing selected yet
    plan_row = next(r for r, e in enumerate(page.shown_events) if e.source == "visit_plan")
    assert "回访计划 #" in page.events_model.data(page.events_model.index(plan_row, 3))
    page.events.selectRow(plan_row)
    assert page.open_button.isEnabled()
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    dialog = page.source_dialog
    assert dialog is not None and dialog.isVisible()
    assert page.shown_events[plan_row].subject in dialog.windowTitle()  # the plan's customer file
    dialog.reject()
    report = page.assessment_report()
    assert report is not None and [t.key for t in report.tables] == ["assessment", "assessment_events"]
    assert len(report.table("assessment_events").rows) == len(wang)
    doc = stats_service.report_pdf(ctx.as_user(office.manager), report)
    assert doc.pages >= 1


def test_assessment_page_manager_enters_a_graded_event_then_a_correction(
    qtbot, ctx: ServiceContext, office: Office
) -> None:
    """002 制度9 graded events from the window; after 审定 the correction goes onto the next month."""
    mctx = ctx.as_user(office.manager)
    tab = _tab(qtbot, mctx)
    page = tab.assessment_page
    page.select_clerk("小李")
    before = page.view.assessment.amount
    assert page.grade_button.isEnabled() and not page.adjust_button.isEnabled()
    qtbot.mouseClick(page.grade_button, Qt.MouseButton.LeftButton)
    dialog = page.entry_dialog
    assert dialog is not None and dialog.clerk.currentText() == "小李"
    dialog.kind.setCurrentIndex(dialog.kind.findData("skipped_steps"))
    assert (dialog.amount.minimum(), dialog.amount.maximum(), dialog.points.text()) == (200, 200, "5 分")
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()  # no reason: refused, stays open
    assert "原因" in dialog.error.text() and page.entry_dialog is dialog
    dialog.reason.setText("客户投诉：擅自减少交车检查")
    with qtbot.waitSignal(tab.loaded):
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not tab.is_loading())
    assert page.view.assessment.amount == before + 200
    assert any(e.source == "assessment_entry" and e.amount == 200 for e in page.view.assessment.events)
    stats_service.confirm_assessment(mctx, "2026-10", password=PASSWORD)
    _reload(qtbot, tab)
    assert page.view.locked and page.adjust_button.isEnabled() and not page.grade_button.isEnabled()
    qtbot.mouseClick(page.adjust_button, Qt.MouseButton.LeftButton)
    adjust = page.entry_dialog
    adjust.clerk.setCurrentIndex(adjust.clerk.findText("小李"))
    adjust.amount.setValue(-200)
    adjust.points.setValue(-5)
    adjust.reason.setText("复查：客户撤回投诉")
    with qtbot.waitSignal(tab.loaded):
        adjust.buttons.button(adjust.buttons.StandardButton.Ok).click()
    assert "2026-11" in page.message.text()
    entries = stats_service.list_entries(mctx, "2026-11")
    assert [(e.clerk, e.amount, e.points, e.corrects) for e in entries] == [("小李", -200, -5, "2026-10")]
    assert stats_service.assessment(mctx, "2026-10").assessment.amount == before + 200  # frozen


def test_assessment_page_clerk_sees_own_line_without_the_managers_buttons(
    qtbot, ctx: ServiceContext, office: Office
) -> None:
    tab = _tab(qtbot, ctx.as_user(office.wang))
    page = tab.assessment_page
    names = [page.model.data(page.model.index(r, 0)) for r in range(page.model.rowCount())]
    assert names == ["小王", "合计"]
    assert not page.confirm_button.isVisibleTo(tab) and not page.grade_button.isVisibleTo(tab)
    assert not page.adjust_button.isVisibleTo(tab)


def test_stats_tab_exports_excel_and_pdf_in_the_background(
    qtbot, ctx: ServiceContext, office: Office, tmp_path: Path
) -> None:
    tab = _tab(qtbot, ctx.as_user(office.supervisor))
    xlsx = tmp_path / "十月.xlsx"
    tab.ask_export_path = lambda suffix: str(xlsx)
    qtbot.mouseClick(tab.xlsx_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已导出" in tab.notice.text() or "失败" in tab.notice.text())
    assert str(xlsx) in tab.notice.text()
    assert load_workbook(xlsx)["主要指标"]["B5"].value == 7
    pdf = tmp_path / "十月.pdf"
    tab.ask_export_path = lambda suffix: str(pdf)
    qtbot.mouseClick(tab.pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已导出" in tab.notice.text() and str(pdf) in tab.notice.text())
    assert pdf.read_bytes()[:5] == b"%PDF-"
    tab.ask_export_path = lambda suffix: str(tmp_path / "missing" / "x.xlsx")
    qtbot.mouseClick(tab.xlsx_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "导出失败" in tab.notice.text())
    assert tab.xlsx_button.isEnabled()
    tab.wait()


def test_stats_tab_print_preview_opens_the_report(qtbot, ctx: ServiceContext, office: Office) -> None:
    tab = _tab(qtbot, ctx.as_user(office.supervisor))
    qtbot.mouseClick(tab.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.preview is not None)
    assert tab.preview is not None and "月度回访统计表" in tab.preview.windowTitle()
    tab.preview.close()
    tab.wait()


def test_stats_tab_says_why_when_the_role_may_not_see_statistics(
    qtbot, ctx: ServiceContext, admin: UserInfo
) -> None:
    tab = _tab(qtbot, ctx.as_user(admin))
    assert tab.report is None and "无法统计" in tab.notice.text()
    assert not tab.xlsx_button.isEnabled()


@pytest.mark.parametrize("slug", ["stats"])
def test_main_window_lists_the_stats_tab_after_the_ledgers(
    qtbot, ctx: ServiceContext, supervisor: UserInfo, tmp_path: Path, slug: str
) -> None:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.ui.main_window import MainWindow

    window = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(window)
    slugs = window.tab_slugs()
    assert slugs.index(slug) == slugs.index("ledgers") + 1
    assert window.stats_tab.report is None and not window.stats_tab.is_loading()  # loads when first shown
