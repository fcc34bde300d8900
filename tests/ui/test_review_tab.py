"""pytest-qt tests of the 审阅 tab: keyboard-driven sign-off, return with a reason, the clerk's correction and
resubmission, batch sign-off of read records, the tamper mark, reopen, the 操作日志 page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from sqlalchemy import insert, text

from huifang_desktop.domain.signoff import Integrity, ReviewKind
from huifang_desktop.services import review as review_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.storage.models import VisitRecord
from huifang_desktop.ui.review.dialogs import HandlingDialog, RecordCorrectionDialog
from huifang_desktop.ui.review.models import GROUP_PAGE, SIGNED_MODE, ReviewTreeModel
from huifang_desktop.ui.review.tab import ReviewTab
from tests.conftest import PASSWORD
from tests.services.test_review import closed_complaint, customer, record

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def office(ctx, clerk, supervisor):
    """Three visit records of 小王 waiting for review (oldest first: 11-19, 11-20, 11-23)."""
    cctx, sctx = ctx.as_user(clerk), ctx.as_user(supervisor)
    c = customer(cctx)
    rows = [record(cctx, c, at) for at in ("2026-11-19 09:00", "2026-11-20 09:00", "2026-11-23 09:00")]
    return cctx, sctx, rows


def _open(qtbot, ctx) -> ReviewTab:
    tab = ReviewTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1280, 720)
    tab.show()
    qtbot.waitExposed(tab)
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow)
    page = tab.review_page
    qtbot.waitUntil(lambda: not page.scanning)
    return tab


def _password(qtbot, page, password: str = PASSWORD) -> None:
    """签字确认: the first sign-off of the session asks for the signer's password (typed, Enter)."""
    qtbot.waitUntil(lambda: page.password_dialog is not None and page.password_dialog.isVisible())
    dialog = page.password_dialog
    qtbot.keyClicks(dialog.password, password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)


def _status(ctx, row_id: int) -> str:
    return visit_service.get_record(ctx, row_id).status


def test_keyboard_driven_sign_off_moves_on_to_the_next_item(qtbot, ctx, office):
    _cctx, sctx, rows = office
    tab = _open(qtbot, sctx)
    page = tab.review_page
    assert page.summary.text() == "待审阅 3 件，逾期 1 件"
    assert page.current is not None and page.current.item.id == rows[0].id  # the oldest is shown first
    assert "送货及时" in page.view.toPlainText()
    page.tree.setFocus()
    qtbot.keyClick(page.tree, Qt.Key.Key_Down)
    assert page.current.item.id == rows[1].id
    qtbot.keyClick(page.tree, Qt.Key.Key_Up)
    assert page.current.item.id == rows[0].id

    qtbot.keyClick(page.tree, Qt.Key.Key_Tab)  # to the 指导意见 box
    assert page.comment.hasFocus()
    page.comment.insertPlainText("记录完整")  # typed (QTest types ASCII only)
    qtbot.keyClick(page.comment, Qt.Key.Key_Return, CTRL)
    _password(qtbot, page, "wrong-password")
    assert _status(ctx, rows[0].id) == "待审阅" and "密码不正确" in page.message.text()
    page.comment.setFocus()
    qtbot.keyClick(page.comment, Qt.Key.Key_Return, CTRL)
    _password(qtbot, page)

    assert _status(ctx, rows[0].id) == "已签字"
    assert review_service.detail(ctx, ReviewKind.RECORD, rows[0].id).item.comment == "记录完整"
    assert page.current is not None and page.current.item.id == rows[1].id  # on to the next one
    assert page.tree.hasFocus()
    assert "已签字" in page.message.text()
    assert page.summary.text() == "待审阅 2 件，逾期 0 件"
    qtbot.keyClick(page.tree, Qt.Key.Key_Enter, CTRL)  # Ctrl+Enter works from the queue too
    assert page.password_dialog is None  # asked once a session: the key stays unlocked in memory
    assert _status(ctx, rows[1].id) == "已签字"
    assert page.current.item.id == rows[2].id


def test_return_needs_a_reason_then_the_clerk_corrects_resubmits_and_it_is_signed(qtbot, ctx, office):
    cctx, sctx, rows = office
    tab = _open(qtbot, sctx)
    page = tab.review_page
    qtbot.keyClick(page.tree, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # 退回修改 without a reason
    assert _status(ctx, rows[0].id) == "待审阅"
    assert "退回原因" in page.message.text() and page.comment.hasFocus()
    page.comment.insertPlainText("客户意见记录过于简单，请补充。")  # typed (QTest types ASCII only)
    qtbot.keyClick(page.comment, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)
    assert _status(ctx, rows[0].id) == "退回"
    assert page.current.item.id == rows[1].id

    clerk_tab = _open(qtbot, cctx)
    mine = clerk_tab.review_page
    assert clerk_tab.pages.tabText(0) == "我的退回" and clerk_tab.audit_page is None
    assert mine.summary.text().startswith("退回给您的 1 件")
    assert mine.current is not None and mine.current.item.id == rows[0].id
    assert "客户意见记录过于简单，请补充。" in mine.view.toPlainText()
    assert "退回待修改 1 件" in clerk_tab.reminder_text()
    assert not mine.sign_button.isVisible() and mine.edit_button.isEnabled()

    mine.edit_current()
    dialog = mine.dialog
    assert isinstance(dialog, RecordCorrectionDialog) and dialog.isVisible()
    assert dialog.feedback.toPlainText() == "送货及时"
    assert "客户意见记录过于简单" in dialog.message.text()
    dialog.feedback.setPlainText("送货及时；希望周末也能配送")
    dialog.save()
    assert not dialog.isVisible()
    assert _status(ctx, rows[0].id) == "待审阅"
    assert mine.summary.text() == "没有退回给您的表单"

    tab.activateWindow()  # back at the supervisor's window
    qtbot.waitUntil(tab.isActiveWindow)
    page.reload()
    assert rows[0].id in [key[1] for key in page.model.keys()]  # noqa: SIM118  (the model's method, no dict)
    index = page.model.index_of((ReviewKind.RECORD, rows[0].id))
    page.tree.setCurrentIndex(index)
    assert "希望周末也能配送" in page.view.toPlainText()
    page.tree.setFocus()
    qtbot.keyClick(page.tree, Qt.Key.Key_Return, CTRL)
    _password(qtbot, page)
    assert _status(ctx, rows[0].id) == "已签字"


def test_a_returned_complaint_is_corrected_and_resubmitted_from_the_clerks_list(
    qtbot, ctx, clerk, supervisor
):
    cctx, sctx = ctx.as_user(clerk), ctx.as_user(supervisor)
    cid = closed_complaint(cctx)
    review_service.return_for_rework(sctx, ReviewKind.COMPLAINT, cid, "原因写得不清楚")
    tab = _open(qtbot, cctx)
    page = tab.review_page
    assert page.current.item.kind is ReviewKind.COMPLAINT
    page.edit_current()
    dialog = page.dialog
    assert isinstance(dialog, HandlingDialog) and dialog.cause.toPlainText() == "调度失误"
    dialog.cause.setPlainText("调度员未按线路派车")
    dialog.save()
    assert dialog.saved
    detail = review_service.detail(sctx, ReviewKind.COMPLAINT, cid)
    assert detail.item.status == "待审阅" and ("原因", "调度员未按线路派车") in detail.fields


def test_batch_sign_only_after_reading_each_record(qtbot, ctx, office):
    _cctx, sctx, rows = office
    tab = _open(qtbot, sctx)
    page = tab.review_page
    page.tree.setFocus()
    assert not page.batch_button.isEnabled()
    second = page.model.index_of((ReviewKind.RECORD, rows[1].id))
    assert not page.model.setData(second, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert "请先打开阅读" in page.message.text() and rows[1].number in page.message.text()

    qtbot.keyClick(page.tree, Qt.Key.Key_Space)  # the first one is open: ticked
    for _ in range(2):
        qtbot.keyClick(page.tree, Qt.Key.Key_Down)  # open (read) the next one …
        qtbot.keyClick(page.tree, Qt.Key.Key_Space)  # … and tick it
    assert len(page.model.checked) == 3
    assert page.batch_button.isEnabled() and "3" in page.batch_button.text()
    page.comment.insertPlainText("已阅")  # typed (QTest types ASCII only)
    qtbot.keyClick(page.tree, Qt.Key.Key_B, CTRL)
    _password(qtbot, page)
    assert [_status(ctx, r.id) for r in rows] == ["已签字"] * 3
    assert page.summary.text() == "待审阅 0 件，逾期 0 件"
    assert "已批量签字 3 份" in page.message.text()


def test_tamper_is_marked_in_the_tab_and_reopen_needs_a_reason(qtbot, ctx, office, manager):
    _cctx, sctx, rows = office
    review_service.sign(sctx, ReviewKind.RECORD, rows[0].id, "同意", password=PASSWORD)
    review_service.sign(sctx, ReviewKind.RECORD, rows[1].id, "同意", password=PASSWORD)
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE visit_record SET feedback = '改过了' WHERE id = :id"), {"id": rows[0].id})

    tab = _open(qtbot, ctx.as_user(manager))
    page = tab.review_page
    assert page.tamper_label.isVisible()
    assert "签字后被修改 1 件" in page.tamper_label.text() and rows[0].number in page.tamper_label.text()
    page.mode.setCurrentIndex(page.mode.findData(SIGNED_MODE))
    assert "签字后被修改 1 件" in page.summary.text()
    index = page.model.index_of((ReviewKind.RECORD, rows[0].id))
    assert page.model.data(index.siblingAtColumn(2)) == "⚠ 签字后被修改"
    assert page.model.data(index, Qt.ItemDataRole.DecorationRole) is not None
    page.tree.setCurrentIndex(index)
    assert page.warning.isVisible() and "签字后被修改" in page.warning.text()
    intact = page.model.index_of((ReviewKind.RECORD, rows[1].id))
    assert page.model.data(intact.siblingAtColumn(2)) == "李主管 11-24"

    assert page.reopen_button.isVisible() and page.reopen_button.isEnabled()
    page.reopen_current()  # no reason yet
    assert review_service.verify(ctx, ReviewKind.RECORD, rows[0].id) is Integrity.TAMPERED
    assert "撤回原因" in page.message.text()
    page.comment.setFocus()
    page.comment.insertPlainText("核实后更正")  # typed (QTest types ASCII only)
    qtbot.keyClick(page.comment, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    assert _status(ctx, rows[0].id) == "退回"
    assert review_service.detail(ctx, ReviewKind.RECORD, rows[0].id).item.revision == 1


def test_audit_page_filters_pages_and_exports(qtbot, ctx, office, supervisor, tmp_path: Path):
    _cctx, sctx, rows = office
    review_service.sign(sctx, ReviewKind.RECORD, rows[0].id, "同意", password=PASSWORD)
    review_service.return_for_rework(sctx, ReviewKind.RECORD, rows[1].id, "请补充")
    tab = _open(qtbot, sctx)
    tab.pages.setCurrentIndex(1)
    audit = tab.audit_page
    assert audit is not None and audit.model.rowCount() >= 6
    assert audit.model.index(0, 2).data() == "退回修改"  # newest first
    audit.user.setCurrentIndex(audit.user.findData(supervisor.id))
    audit.search()
    assert [audit.model.index(r, 2).data() for r in range(audit.model.rowCount())] == ["退回修改", "签字"]
    audit.user.setCurrentIndex(0)
    audit.text.setText(rows[2].number)
    audit.search()
    assert audit.model.rowCount() == 1 and audit.model.index(0, 2).data() == "填写回访记录"
    assert audit.status.text() == "共 1 条操作记录"

    audit.text.clear()
    audit.action.setCurrentText("签字")
    out = tmp_path / "log.xlsx"
    audit.export_to(out)
    qtbot.waitUntil(lambda: "已导出" in audit.status.text())
    qtbot.waitUntil(lambda: audit.export_thread is not None and audit.export_thread.isFinished())
    ws = load_workbook(out).active
    assert [c.value for c in ws[2]][:6] == ["时间", "用户", "操作", "对象", "原值", "新值"]
    assert ws.cell(3, 3).value == "签字" and ws.max_row == 3


def test_queue_model_passes_the_model_tester(qapp, qtmodeltester, ctx, office, clerk2):
    _cctx, sctx, _rows = office
    c2 = ctx.as_user(clerk2)
    record(c2, customer(c2, "宁波甬达物流"))
    closed_complaint(_cctx)
    model = ReviewTreeModel()
    model.set_queue(review_service.review_queue(sctx), "pending")
    assert model.rowCount() == 2 and model.rowCount(model.index(0, 0)) == 2
    qtmodeltester.check(model, force_py=True)
    lazy = ReviewTreeModel()  # counts first, items paged in by the loader

    def loader(g, offset, limit):
        return review_service.queue_group(sctx, g.owner_id, g.kind, offset=offset, limit=limit)

    lazy.set_queue(review_service.queue_summary(sctx), "pending", loader)
    group = lazy.index(0, 0, lazy.index(0, 0))
    assert lazy.rowCount(group) == 0 and lazy.hasChildren(group) and lazy.can_load_more(group)
    lazy.load_more(group)
    assert lazy.rowCount(group) == 3 and not lazy.can_load_more(group)
    qtmodeltester.check(lazy, force_py=True)


def test_a_long_queue_shows_counts_first_and_pages_items_in(qtbot, ctx, clerk, clerk2, supervisor):
    """10,000 records waiting: the tab paints the counts per clerk and type and loads 500 items of the first
    group; more come in as the reader moves down; signing takes the item out in place. (First paint measured
    separately: about 0.1 s; see the report — timings are not asserted in tests.)"""
    cctx = ctx.as_user(clerk)
    c = customer(cctx)
    base = {
        "customer_id": c,
        "contact_name": "",
        "contact_phone": "",
        "visit_type": "例行",
        "method": "电话",
        "content": "",
        "feedback": "",
        "problems": "",
        "measures": "",
        "satisfaction": "满意",
        "handling": "",
        "transfer_department": "",
        "transfer_answer": "",
        "result": "成功",
        "customer_signed": False,
        "status": "待审阅",
        "supervisor_comment": "",
        "signed_role": "",
        "content_hash": "",
        "signature_hash": "",
        "revision": 0,
        "created_at": datetime(2026, 11, 1),
        "version": 1,
    }
    with ctx.engine.begin() as conn:
        conn.execute(
            insert(VisitRecord),
            [
                {
                    **base,
                    "visitor_id": clerk2.id if i < 6000 else clerk.id,
                    "number": f"HF202611{i % 20 + 1:02d}-{i:05d}",
                    "visited_at": datetime(2026, 11, i % 20 + 1, 9, 0),
                }
                for i in range(10_000)
            ],
        )
    tab = _open(qtbot, ctx.as_user(supervisor))
    page, model = tab.review_page, tab.review_page.model
    assert page.summary.text() == "待审阅 10000 件，逾期 9500 件"  # 11-20's are due today
    (first, n1), (second, n2) = model.group_indexes()
    assert (n1, n2) == (6000, 4000)  # 小李 before 小王: same oldest day, then by name
    assert model.rowCount(first) == GROUP_PAGE and page.tree.isExpanded(first)
    assert model.rowCount(second) == 0 and not page.tree.isExpanded(second)
    assert model.data(first) == "回访记录表（6000，逾期 5700）"

    page.tree.setCurrentIndex(model.index(GROUP_PAGE - 5, 0, first))  # moving down near the end …
    assert model.rowCount(first) == 2 * GROUP_PAGE  # … brings the next page
    page.tree.expand(second)
    assert model.rowCount(second) == GROUP_PAGE

    current = page.current.item
    page.tree.setFocus()
    qtbot.keyClick(page.tree, Qt.Key.Key_Return, CTRL)
    _password(qtbot, page)
    assert _status(ctx, current.id) == "已签字"
    assert page.summary.text().startswith("待审阅 9999 件")
    assert model.rowCount(first) == 2 * GROUP_PAGE - 1 and page.current.item.id != current.id


def test_the_tamper_scan_takes_steps_the_window_does_not_wait_for() -> None:
    """Each step checks as many signed rows as fit in SCAN_STEP_MS at the last step's pace: 200 rows a step
    once held the window for 114 ms at a time, for a minute, on the 10,000-customer office."""
    from huifang_desktop.ui.review.tab import SCAN_ROWS_RANGE, SCAN_STEP_MS, scan_rows_next

    assert scan_rows_next(200, 114.0) == int(200 * SCAN_STEP_MS / 114.0)  # slow rows: fewer
    assert scan_rows_next(25, 1.0) == 50  # fast rows: at most twice as many …
    assert scan_rows_next(400, 1.0) == SCAN_ROWS_RANGE[1]  # … up to the ceiling
    assert scan_rows_next(10, 0.0) == 20
    assert scan_rows_next(5, 500.0) == SCAN_ROWS_RANGE[0]  # never stalls
