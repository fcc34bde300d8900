"""Issue 20 where the users work (投诉登记 tab): 首问责任人 and the promised reply date at intake, 是否逾期 /
查办 in the register, the 查办 list and entry (supervisor; read-only and refused for a clerk), 督办, and a
returned file corrected and resubmitted from the register. Fixed clock (2026-11-24 10:00, a Tuesday).

Rule sources: 002 制度5 §8 (首问责任人), 002 制度3 第十三条 (催办单 / 查办单 for late cases), 002 制度3 §6
(重大 → 经理), seeds/002 制度9 (建议: reply date promised per case)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from PySide6.QtCore import QDate, Qt

from huifang_desktop.services import complaints as cs
from huifang_desktop.services import review as review_service
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.ui.common.feedback import ERROR_STYLE
from huifang_desktop.ui.complaints.detail_layout import PAGE_INQUIRY
from huifang_desktop.ui.complaints.inquiries import DONE, PENDING
from huifang_desktop.ui.complaints.model import ComplaintTableModel
from huifang_desktop.ui.complaints.tab import ComplaintsTab


def _at(ctx: ServiceContext, when: datetime) -> ServiceContext:
    return ServiceContext(ctx.engine, ctx.sessions, ctx.user, lambda: when)


def _tab(qtbot, c: ServiceContext) -> ComplaintsTab:
    tab = ComplaintsTab(c)
    qtbot.addWidget(tab)
    return tab


def _late_closed(cctx: ServiceContext, sctx: ServiceContext) -> int:
    """An anonymous complaint received 11-24, due 11-27 17:30, handled and closed on 12-04: 逾期办结."""
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="空调漏水", anonymous=True, category="交付物流", received_at="2026-11-24 09:00"
        ),
    )
    late = _at(cctx, datetime(2026, 12, 4, 10, 0))
    cs.accept(late, d.id)
    cs.save_handling(
        late,
        d.id,
        cs.HandlingDraft(
            investigation="查明",
            cause="拖延",
            measures="修复",
            result="已修复",
            replied_at="2026-12-04 10:00",
            reply_way="书面",
        ),
    )
    cs.attach(late, [d.id], "答复函.pdf", b"%PDF-1.4 reply", "答复函")
    cs.close(_at(sctx, datetime(2026, 12, 4, 11, 0)), d.id)
    return d.id


# --- intake ---------------------------------------------------------------------------------------------


def test_intake_records_the_chosen_first_responder_shown_in_register_and_detail(qtbot, cctx, supervisor):
    tab = _tab(qtbot, cctx)
    dialog = tab.new_complaint()
    assert dialog.first_responder.currentData() == cctx.user.id  # default: me
    assert "我" in dialog.first_responder.currentText()
    assert not dialog.promised_visible()  # only a 建议 promises a reply date
    assert not dialog.origin.isVisibleTo(dialog)  # no origin-dependent limits in this office
    dialog.first_responder.setCurrentIndex(dialog.first_responder.findData(supervisor.id))
    dialog.complainant.setText("刘女士")
    dialog.phone.setText("139 0000 1111")
    dialog.subject.setText("安装师傅态度差")
    dialog.category.setCurrentText("服务态度")
    dialog.save()
    d = dialog.result_detail
    assert d is not None and d.row.first_responder_id == supervisor.id
    m = tab.model
    assert m.headerData(ComplaintTableModel.COL_FIRST_RESPONDER, Qt.Orientation.Horizontal) == "首问责任人"
    assert m.data(m.index(0, ComplaintTableModel.COL_FIRST_RESPONDER)) == "李主管"
    assert m.data(m.index(0, ComplaintTableModel.COL_OVERDUE)) == "否"
    assert tab.detail.info_labels["first_responder"].text() == "李主管"
    assert "首问责任人：李主管" in tab.detail.facts.text()


def test_suggestion_asks_a_promised_working_day_and_names_the_field_when_refused(qtbot, cctx):
    tab = _tab(qtbot, cctx)
    dialog = tab.new_complaint()
    dialog.kind.setCurrentText("建议")
    assert dialog.promised_visible()
    assert dialog.promised_on.date().toPython() == date(2026, 12, 1)  # 5 working days after 11-24
    dialog.promised_on.setDate(QDate(2026, 11, 28))  # a Saturday
    assert "不是工作日" in dialog.promised_hint.text() and "2026-11-30" in dialog.promised_hint.text()
    dialog.subject.setText("希望增加晚间热线")
    dialog.save()
    assert dialog.isVisible() and dialog.result_detail is None
    assert "答复日期" in dialog.message.text() and "不是工作日" in dialog.message.text()
    assert dialog.promised_on.styleSheet() == ERROR_STYLE
    dialog.promised_on.setDate(QDate(2026, 11, 30))
    assert "不是工作日" not in dialog.promised_hint.text()
    dialog.save()
    d = dialog.result_detail
    assert d is not None and d.row.kind == "建议"
    assert d.row.deadline is not None and d.row.deadline.date() == date(2026, 11, 30)


def test_origin_choice_appears_when_the_office_sets_limits_by_origin(qtbot, cctx, sctx):
    rules = cs.load_complaint_rules(sctx)
    cs.save_complaint_rules(sctx, type(rules).from_dict({**rules.to_dict(), "origin_days": {"国外": 21}}))
    dialog = _tab(qtbot, cctx).new_complaint()
    assert dialog.origin.isVisibleTo(dialog)
    dialog.origin.setCurrentIndex(dialog.origin.findData("国外"))
    assert "21 天" in dialog.origin_hint.text()
    assert dialog.draft().origin == "国外"


# --- 查办 -------------------------------------------------------------------------------------------------


def test_supervisor_enters_the_inquiry_from_the_inquiry_list(qtbot, cctx, sctx):
    cid = _late_closed(cctx, sctx)
    now = _at(sctx, datetime(2026, 12, 4, 12, 0))
    tab = _tab(qtbot, now)
    m = tab.model
    assert m.data(m.index(0, ComplaintTableModel.COL_OVERDUE)) == "逾期办结"
    assert m.data(m.index(0, ComplaintTableModel.COL_INQUIRY)) == "待查办"
    assert tab.inquiry_button.text().split()[-1] == "1"
    qtbot.mouseClick(tab.inquiry_button, Qt.MouseButton.LeftButton)
    assert tab.showing_inquiries() and tab.inquiry_list.model.rowCount() == 1
    pane = tab.detail
    assert pane.detail.id == cid and pane.pages.currentIndex() == PAGE_INQUIRY
    assert "逾期办结" in pane.title.text() and "待查办" in pane.title.text()
    assert not pane.inquiry_reason.isReadOnly() and pane.save_inquiry_button.isVisibleTo(pane)
    qtbot.mouseClick(pane.save_inquiry_button, Qt.MouseButton.LeftButton)  # empty: refused, fields named
    assert "逾期原因" in pane.message.text() and pane.inquiry_reason.styleSheet() == ERROR_STYLE
    pane.inquiry_reason.setPlainText("处理人请假未移交")
    pane.inquiry_measures.setPlainText("请假前移交在办投诉")
    pane.inquiry_responsible.setText("小王")
    qtbot.mouseClick(pane.save_inquiry_button, Qt.MouseButton.LeftButton)
    row = cs.get_inquiry(now, cid)
    assert row.inquiry.value == "已查办" and row.decided_by == "李主管" and row.responsible == "小王"
    assert "查办已保存" in pane.message.text() and "李主管" in pane.inquiry_decided.text()
    assert tab.inquiry_list.model.rowCount() == 0  # nothing 待查办 any more
    tab.inquiry_list.set_mode(DONE)
    assert tab.inquiry_list.model.rowCount() == 1
    tab.show_inquiries(None)
    assert m.data(m.index(0, ComplaintTableModel.COL_INQUIRY)) == "已查办"


def test_clerk_sees_the_inquiry_read_only_and_is_refused(qtbot, cctx, sctx):
    cid = _late_closed(cctx, sctx)
    clerk_now = _at(cctx, datetime(2026, 12, 4, 12, 0))
    tab = _tab(qtbot, clerk_now)
    tab.show_inquiries(PENDING)
    pane = tab.detail
    assert pane.detail.id == cid and pane.pages.currentIndex() == PAGE_INQUIRY
    assert pane.inquiry_reason.isReadOnly() and not pane.save_inquiry_button.isVisibleTo(pane)
    assert "主管填写" in pane.inquiry_hint.text()
    pane.inquiry_reason.setPlainText("忘了")  # even if typed and saved some other way: the service refuses
    pane.inquiry_measures.setPlainText("加强")
    pane.save_inquiry()
    assert "查办" in pane.message.text() and cs.get_inquiry(clerk_now, cid).inquiry.value == "待查办"
    with pytest.raises(PermissionDenied):
        cs.record_inquiry(clerk_now, cid, cs.InquiryDraft("忘了", "加强"))


def test_manager_supervises_an_open_major_case_and_the_clerk_cannot(qtbot, cctx, mctx, manager: UserInfo):
    major = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="电梯困人",
            severity="重大",
            category="维修",
            complainant="张先生",
            phone="13812345678",
            handler_id=manager.id,
        ),
    )
    clerk_pane = _tab(qtbot, cctx).detail
    clerk_pane.load(major.id)
    assert clerk_pane.buttons["supervise"].isVisibleTo(clerk_pane)
    assert not clerk_pane.buttons["supervise"].isEnabled()
    pane = _tab(qtbot, mctx).detail
    pane.load(major.id)
    assert pane.buttons["supervise"].isEnabled()
    qtbot.mouseClick(pane.buttons["supervise"], Qt.MouseButton.LeftButton)
    assert pane.form_stack.currentWidget() is pane.forms["supervise"]
    pane.supervise_note.setText("每日报进度")
    qtbot.mouseClick(pane.forms["supervise"].ok, Qt.MouseButton.LeftButton)
    d = cs.get_complaint(mctx, major.id)
    assert (
        d.events[-1].action == "督办" and d.events[-1].note == "每日报进度" and d.row.handler_id == manager.id
    )
    assert "已督办" in pane.message.text()


# --- 退回 fixed from the register (item 10) --------------------------------------------------------------


def test_returned_complaint_is_corrected_and_resubmitted_from_the_register(qtbot, cctx, sctx):
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="送货延误三天", anonymous=True, category="交付物流", received_at="2026-11-24 09:00"
        ),
    )
    cs.accept(cctx, d.id)
    cs.save_handling(
        cctx,
        d.id,
        cs.HandlingDraft(
            investigation="司机绕路",
            cause="调度失误",
            measures="调整线路",
            result="已书面致歉",
            replied_at="2026-11-24 09:30",
            reply_way="书面",
        ),
    )
    cs.attach(cctx, [d.id], "答复函.pdf", b"%PDF-1.4 reply", "答复函")
    cs.close(cctx, d.id)
    review_service.return_for_rework(sctx, review_service.ReviewKind.COMPLAINT, d.id, "处理结果写得不清楚")
    tab = _tab(qtbot, cctx)
    pane = tab.detail
    assert pane.detail.id == d.id and pane.detail.state == "已关闭"
    assert pane.review_banner.isVisibleTo(pane)
    assert "已退回：" in pane.review_text.text() and "处理结果写得不清楚" in pane.review_text.text()
    assert pane.resubmit_button.isEnabled() and "修改后重新提交" in pane.resubmit_button.text()
    assert not pane.result.isReadOnly()  # the handling page opens for correction
    pane.result.setPlainText("已书面致歉，并退还运费 50 元")
    qtbot.mouseClick(pane.resubmit_button, Qt.MouseButton.LeftButton)
    after = cs.get_complaint(cctx, d.id)
    assert after.result == "已书面致歉，并退还运费 50 元" and after.review_status == "待审阅"
    assert not pane.review_banner.isVisibleTo(pane) and "重新提交" in pane.message.text()
    assert pane.result.isReadOnly()
