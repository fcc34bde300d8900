"""pytest-qt tests of the 回访日历 tab and the 回访记录表 entry."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import customers as customer_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.ui.calendar.models import PLAN_MIME, DayGridModel, PlanTableModel
from huifang_desktop.ui.calendar.record_dialog import VisitRecordDialog
from huifang_desktop.ui.calendar.tab import CalendarTab


@pytest.fixture
def planned(ctx, clerk):
    c = ctx.as_user(clerk)
    customer = customer_service.register_customer(
        c,
        CustomerDraft(
            name="杭州远纳运输有限公司",
            address="杭州市西湖区",
            contacts=(ContactDraft(name="张倩", mobile="15199743456"),),
        ),
    )
    plan = visit_service.add_manual_plan(c, customer.id, "例行", "电话", date(2026, 11, 24), clerk.id)
    return c, customer, plan


def test_plan_and_grid_models_pass_the_model_tester(qtmodeltester, planned):
    c, _customer, _plan = planned
    plans = PlanTableModel()
    plans.set_rows(visit_service.list_plans(c, start=date(2026, 11, 1), end=date(2026, 11, 30)))
    qtmodeltester.check(plans, force_py=True)
    grid = DayGridModel()
    grid.set_days(
        date(2026, 10, 26),
        6,
        11,
        visit_service.day_counts(c, date(2026, 10, 26), date(2026, 12, 6)),
        date(2026, 11, 24),
    )
    qtmodeltester.check(grid, force_py=True)


def test_calendar_shows_todays_plan_and_counts_in_the_grid(qtbot, planned):
    c, customer, _plan = planned
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    assert tab.plans.rowCount() == 1
    assert tab.plans.plan(0).customer_code == customer.code
    assert tab.list_title.text() == "今日待回访 1，逾期 0"
    cell = tab.grid_model.index_of(date(2026, 11, 24))
    assert "计划 1" in tab.grid_model.data(cell)
    assert tab.period_label.text() == "2026年11月"


def test_dropping_a_plan_on_another_day_moves_it(qtbot, planned):
    c, _customer, plan = planned
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    mime = tab.plans.mimeData([tab.plans.index(0, 0)])
    assert mime.hasFormat(PLAN_MIME)
    target = tab.grid_model.index_of(date(2026, 11, 27))
    tab.grid_model.dropMimeData(mime, tab.grid_model.supportedDropActions(), -1, -1, target)
    moved = visit_service.get_plan(c, plan.id)
    assert moved.due == date(2026, 11, 27)
    assert moved.manual


def test_record_dialog_requires_signature_for_on_site_visit_then_saves(qtbot, planned):
    c, _customer, plan = planned
    dialog = VisitRecordDialog(c, plan.id)
    qtbot.addWidget(dialog)
    assert dialog.contact_name.text() == "张倩"
    assert dialog.script_label.text()  # the 回访话术 for the visit type
    dialog.method.setCurrentText("上门")
    dialog.result.setCurrentText("成功")
    dialog.satisfaction.setCurrentText("满意")
    dialog.save()
    assert dialog.saved is None
    assert "签字" in dialog.message.text()
    dialog.customer_signed.setChecked(True)
    dialog.save()
    assert dialog.saved is not None
    assert dialog.saved.number.startswith("HF2026")
    assert visit_service.get_plan(c, plan.id).state == "已回访"


def test_dropping_on_a_holiday_moves_to_the_next_working_day_and_says_so(qtbot, planned):
    c, _customer, plan = planned
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    mime = tab.plans.mimeData([tab.plans.index(0, 0)])
    target = tab.grid_model.index_of(date(2026, 11, 28))  # a Saturday
    tab.grid_model.dropMimeData(mime, tab.grid_model.supportedDropActions(), -1, -1, target)
    assert visit_service.get_plan(c, plan.id).due == date(2026, 11, 30)
    assert tab.notice.text()


def test_customer_file_shows_the_visit_history(qtbot, planned):
    from huifang_desktop.ui.customers.dialog import CustomerDialog

    c, customer, plan = planned
    record = VisitRecordDialog(c, plan.id)
    qtbot.addWidget(record)
    record.result.setCurrentText("成功")
    record.satisfaction.setCurrentText("很满意")
    record.feedback.setPlainText("车辆使用正常")
    record.save()
    assert record.saved is not None
    dialog = CustomerDialog(c, customer.id)
    qtbot.addWidget(dialog)
    table = dialog.findChild(type(dialog.contacts), "visits")
    assert table.rowCount() == 1
    assert table.item(0, 0).text() == record.saved.number
    assert table.item(0, 7).text() == "车辆使用正常"


def test_report_dialog_drafts_from_the_records_and_submits(qtbot, planned):
    from huifang_desktop.ui.calendar.report_dialog import VisitReportDialog

    c, _customer, plan = planned
    record = VisitRecordDialog(c, plan.id)
    qtbot.addWidget(record)
    record.result.setCurrentText("成功")
    record.satisfaction.setCurrentText("不满意")
    record.problems.setPlainText("配件到货慢")
    record.save()
    assert record.saved is not None
    dialog = VisitReportDialog(c)
    qtbot.addWidget(dialog)
    dialog.start.setDate(date(2026, 11, 24))
    dialog.end.setDate(date(2026, 11, 24))
    dialog.make_draft()
    assert "共回访 1 次" in dialog.summary.text()
    assert "配件到货慢" in dialog.problems.toPlainText()
    dialog.save()  # no evaluation yet
    assert dialog.saved is None
    assert "评价" in dialog.message.text()
    dialog.evaluation.setPlainText("按计划完成，配件问题已转交售后。")
    dialog.save()
    assert dialog.saved is not None
    assert dialog.saved.status == "待审阅"


def _pdf_text(data: bytes) -> str:
    import io
    import re

    from pypdf import PdfReader

    return "".join(re.sub(r"\s+", "", pg.extract_text() or "") for pg in PdfReader(io.BytesIO(data)).pages)


def test_record_form_preview_shows_what_is_typed_before_saving(qtbot, planned, monkeypatch):
    """Issue 18: 打印预览 of an unsaved record printed the blank form, not what the clerk had typed."""
    from huifang_desktop.ui.calendar import record_dialog

    c, customer, plan = planned
    shown = []
    monkeypatch.setattr(record_dialog, "preview_document", lambda _parent, _ctx, doc: shown.append(doc))
    dialog = VisitRecordDialog(c, plan.id)
    qtbot.addWidget(dialog)
    dialog.print_preview()  # nothing typed yet: the blank form to take on site
    assert "空白" in shown[-1].title
    dialog.result.setCurrentText("成功")
    dialog.satisfaction.setCurrentText("很满意")
    dialog.feedback.setPlainText("刹车片更换后异响消失")
    dialog.print_preview()
    text = _pdf_text(shown[-1].pdf)
    assert "刹车片更换后异响消失" in text and customer.name in text
    assert "未保存" in shown[-1].title
    assert dialog.saved is None and visit_service.get_plan(c, plan.id).state == "待回访"  # nothing stored


def test_satisfaction_list_is_wide_enough_for_its_longest_choice(qtbot, planned):
    """Issue 18: the 满意度 popup opened as narrow as its box, narrower than its choices ("很不满意")."""
    c, _customer, plan = planned
    dialog = VisitRecordDialog(c, plan.id)
    qtbot.addWidget(dialog)
    dialog.show()
    combo = dialog.satisfaction
    needed = combo.view().sizeHintForColumn(0)  # the list's widest item as its delegate draws it
    # the popup opens as wide as the box or the list's minimum, whichever is wider (QComboBox::showPopup)
    assert max(combo.view().minimumWidth(), combo.width()) >= needed


def test_record_form_tab_reaches_save_before_cancel(qtbot, planned):
    """Issue 18: Tab from the last field reached 取消 before 保存."""
    from PySide6.QtCore import Qt as _Qt
    from PySide6.QtWidgets import QDialogButtonBox

    c, _customer, plan = planned
    dialog = VisitRecordDialog(c, plan.id)
    qtbot.addWidget(dialog)
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    cancel = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Cancel)
    order = []
    w = dialog.next_visit_on.nextInFocusChain()
    while w is not dialog.next_visit_on and len(order) < 200:
        if w.focusPolicy() & _Qt.FocusPolicy.TabFocus and w in (save, cancel, dialog.print_button):
            order.append(w)
        w = w.nextInFocusChain()
    assert order[:3] == [save, dialog.print_button, cancel]


def test_unsatisfied_visit_plans_a_follow_up_and_says_so(qtbot, planned):
    c, _customer, plan = planned
    dialog = VisitRecordDialog(c, plan.id)
    qtbot.addWidget(dialog)
    dialog.result.setCurrentText("成功")
    dialog.satisfaction.setCurrentText("很不满意")
    dialog.save()
    assert dialog.saved is not None and dialog.saved.follow_up_plan_id is not None
    assert any("再次回访" in n for n in dialog.notes)
    assert any("投诉" in n for n in dialog.notes)


def _visited(c, plan):
    """The planned phone visit made: a record waiting for review."""
    draft = visit_service.prefill_record(c, plan.id).to_draft(
        result="成功", satisfaction="满意", visited_at="2026-11-24 09:00"
    )
    return visit_service.record_visit(c, draft)


def test_a_returned_record_is_listed_and_opens_for_correction(qtbot, ctx, planned, supervisor):
    from huifang_desktop.domain.signoff import ReviewKind
    from huifang_desktop.services import review as review_service
    from huifang_desktop.ui.review.dialogs import RecordCorrectionDialog

    c, _customer, plan = planned
    rec = _visited(c, plan)
    review_service.return_for_rework(
        ctx.as_user(supervisor), ReviewKind.RECORD, rec.id, "客户意见记录过于简单"
    )
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    assert tab.list_title.text() == "今日待回访 0，逾期 0，退回待修改 1"
    assert tab.plans.rowCount() == 1
    state = tab.plans.index(0, PlanTableModel.COL_STATE)
    assert state.data() == "已退回" and "被主管退回" in tab.plans.index(0, 0).data(
        Qt.ItemDataRole.ToolTipRole
    )

    tab.list.selectRow(0)
    tab.record_current()  # Enter / double-click
    dialog = tab.dialog
    assert isinstance(dialog, RecordCorrectionDialog) and dialog.isVisible()
    assert "客户意见记录过于简单" in dialog.message.text()
    dialog.feedback.setPlainText("设备运行稳定，希望周末也能送货")
    dialog.save()
    assert not dialog.isVisible()
    assert visit_service.get_record(c, rec.id).status == "待审阅"
    assert tab.list_title.text() == "今日待回访 0，逾期 0" and tab.plans.rowCount() == 0
    assert rec.number in tab.notice.text()


def test_returned_counts_agree_between_calendar_status_bar_and_review(
    qtbot, ctx, planned, supervisor, clerk2
):
    """Issue 18: the calendar (6), the status bar (8) and 审阅 (9) gave three counts of returned items. A
    returned record is its visitor's to correct however old its plan; the status bar says what it counts."""
    from huifang_desktop.domain.signoff import ReviewKind
    from huifang_desktop.services import review as review_service
    from huifang_desktop.ui.reminders import review_text

    c, customer, plan = planned
    sup = ctx.as_user(supervisor)
    from huifang_desktop.storage.models import VisitPlan

    old_plan = visit_service.add_manual_plan(c, customer.id, "例行", "电话", date(2026, 11, 25), c.user.id)
    with ctx.sessions() as s, s.begin():  # a plan of last year's spring (the service refuses past days)
        row = s.get(VisitPlan, old_plan.id)
        row.due = row.earliest = date(2025, 3, 3)
    old = visit_service.record_visit(
        c,
        visit_service.prefill_record(c, old_plan.id).to_draft(
            result="成功", satisfaction="满意", visited_at="2025-03-03 10:00"
        ),
    )
    recent = _visited(c, plan)
    c2 = ctx.as_user(clerk2)
    other_customer = customer_service.register_customer(
        c2,
        CustomerDraft(
            name="宁波甬达物流有限公司",
            address="宁波市",
            contacts=(ContactDraft(name="李娜", mobile="15199743457"),),
        ),
    )
    others_plan = visit_service.add_manual_plan(
        c2, other_customer.id, "例行", "电话", date(2026, 11, 24), clerk2.id
    )
    others = _visited(c2, others_plan)
    for rec in (old, recent, others):
        review_service.return_for_rework(sup, ReviewKind.RECORD, rec.id, "请补充客户意见")
    report = visit_service.save_report(
        c,
        visit_service.draft_report(c, c.user.id, date(2026, 11, 24), date(2026, 11, 24)),
        "按计划完成。",
        "",
        "",
    )
    review_service.return_for_rework(sup, ReviewKind.REPORT, report.id, "评价太简单")

    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    assert tab.list_title.text() == "今日待回访 0，逾期 0，退回待修改 2"
    listed = {tab.plans.plan(r).record_id for r in range(tab.plans.rowCount())}
    assert listed == {old.id, recent.id}
    counts = review_service.pending_counts(c)
    mine = list(review_service.returned_queue(c, mine=True).items())
    assert counts.returned_to_me == len(mine) == 3
    assert dict(counts.returned_by_kind) == {ReviewKind.RECORD: 2, ReviewKind.REPORT: 1}
    assert review_text(counts, signer=False) == "退回待修改 3 件（回访记录 2、回访报告 1，见“审阅”）"
    other_tab = CalendarTab(c2)
    qtbot.addWidget(other_tab)
    assert [other_tab.plans.plan(r).record_id for r in range(other_tab.plans.rowCount())] == [others.id]


def test_a_visited_plan_opens_its_filled_form_and_others_cannot_correct_it(
    qtbot, ctx, planned, supervisor, clerk2
):
    from huifang_desktop.domain.signoff import ReviewKind
    from huifang_desktop.services import review as review_service

    c, _customer, plan = planned
    rec = _visited(c, plan)
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    tab.selected = date(2026, 11, 24)
    tab.refresh()
    assert tab.plans.plan(0).record_id == rec.id and tab.plans.index(0, 1).data() == "已回访"
    tab.list.selectRow(0)
    tab.record_current()
    assert tab.dialog is None and tab.preview is not None  # the filled 回访记录表, read-only
    assert rec.number in tab.preview.windowTitle()
    tab.preview.close()

    review_service.return_for_rework(ctx.as_user(supervisor), ReviewKind.RECORD, rec.id, "请补充")
    other = CalendarTab(ctx.as_user(clerk2))  # not the visitor: sees the form, cannot correct it
    qtbot.addWidget(other)
    other.scope.setCurrentIndex(other.scope.findText(tab.plans.plan(0).owner))
    other.selected = date(2026, 11, 24)
    other.refresh()
    assert other.plans.rowCount() == 1 and other.plans.index(0, 1).data() == "已退回"
    other.list.selectRow(0)
    other.record_current()
    assert other.dialog is None and other.preview is not None
    other.preview.close()


def test_move_and_cancel_follow_the_plan_rule_a_miss_stands(qtbot, ctx, planned, supervisor):
    """domain.md §9: past its due day a plan is re-dated or cancelled only by a supervisor — the buttons
    follow domain.visits.can_change_plan, the rule the service refuses by."""
    from sqlalchemy import update

    from huifang_desktop.storage.models import VisitPlan

    c, _customer, plan = planned
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    assert tab.move_button.isEnabled() and tab.cancel_button.isEnabled()  # due today: still the clerk's
    with ctx.sessions() as s, s.begin():
        s.execute(update(VisitPlan).where(VisitPlan.id == plan.id).values(due=date(2026, 11, 20)))
    tab.refresh()
    assert tab.list_title.text() == "今日待回访 0，逾期 1"
    assert not tab.move_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert "只有主管" in tab.move_button.toolTip()
    boss = CalendarTab(ctx.as_user(supervisor))
    qtbot.addWidget(boss)
    assert boss.current_plan().id == plan.id
    assert boss.move_button.isEnabled() and "须说明原因" in boss.move_button.toolTip()


def test_a_supervisor_ends_a_follow_up_chain_from_the_calendar(qtbot, ctx, planned, supervisor, monkeypatch):
    """000 §1.9 / 001 §47 (issue 19 item 6): a follow-up goes on until the customer is reached or a
    supervisor ends the chain with a reason — 结束再次回访 on the calendar, disabled with a reason for a clerk
    and for a first visit."""
    from PySide6.QtWidgets import QInputDialog
    from sqlalchemy import select

    from huifang_desktop.storage.models import AuditLog

    c, _customer, plan = planned
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    assert not tab.close_chain_button.isEnabled() and "只有主管" in tab.close_chain_button.toolTip()
    boss = CalendarTab(ctx.as_user(supervisor))
    qtbot.addWidget(boss)
    assert boss.current_plan().id == plan.id  # a first visit: cancelled as a plan, not ended as a chain
    assert not boss.close_chain_button.isEnabled() and "取消计划" in boss.close_chain_button.toolTip()
    draft = visit_service.prefill_record(c, plan.id).to_draft(result="未接通", visited_at="2026-11-24 09:00")
    second = visit_service.record_visit(c, draft).follow_up_plan_id
    assert second is not None
    boss.selected = visit_service.get_plan(ctx, second).due
    boss._load_list()
    row = next(i for i in range(boss.plans.rowCount()) if boss.plans.plan(i).id == second)
    boss.list.selectRow(row)
    assert boss.current_plan().attempt == 2
    assert boss.close_chain_button.isEnabled()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    boss.close_chain_button.click()  # cancelled: nothing changes
    assert visit_service.get_plan(ctx, second).state == "待回访"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("客户已出国半年", True))
    boss.close_chain_button.click()
    assert visit_service.get_plan(ctx, second).state == "已取消"
    assert "已结束" in boss.notice.text()
    with ctx.sessions() as s:
        audit = s.execute(select(AuditLog).where(AuditLog.action == "结束再次回访")).scalar_one()
    assert audit.entity_id == second and "客户已出国半年" in audit.note
