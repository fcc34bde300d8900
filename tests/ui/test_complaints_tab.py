"""pytest-qt tests of the 投诉登记 tab: register, intake with repeats, detail pane workflow, filters, export."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import customers as customer_service
from huifang_desktop.storage.models import Complaint
from huifang_desktop.ui.common.feedback import ERROR_STYLE
from huifang_desktop.ui.complaints.model import OVERDUE_BACKGROUND, ComplaintTableModel
from huifang_desktop.ui.complaints.tab import ComplaintsTab


@pytest.fixture(autouse=True)
def _visitor_independence_off(ctx) -> None:
    """One clerk handles and visits here; independence (on by default) is tested in test_visit_rules.py."""
    from huifang_desktop.services.settings import set_value

    set_value(ctx, "independent_visitor", False, what="回访人独立性检查")


@pytest.fixture
def customer(cctx):
    return customer_service.register_customer(
        cctx,
        CustomerDraft(
            name="杭州明达贸易有限公司",
            kind="单位",
            category="经销商",
            created_on="2026-01-05",
            contacts=(ContactDraft(name="张经理", mobile="13812345678"),),
        ),
    )


def _intake(**kw: object) -> cs.IntakeDraft:
    base: dict[str, object] = {
        "subject": "送货延误三天",
        "complainant": "张经理",
        "phone": "13812345678",
        "category": "交付物流",
        "content": "货车晚到三天，影响开工。",
    }
    base.update(kw)
    return cs.IntakeDraft(**base)  # type: ignore[arg-type]


def _tab(qtbot, c) -> ComplaintsTab:
    tab = ComplaintsTab(c)
    qtbot.addWidget(tab)
    return tab


def _numbers(tab: ComplaintsTab) -> list[str]:
    m = tab.model
    return [m.data(m.index(r, ComplaintTableModel.COL_NUMBER)) for r in range(m.rowCount())]


def test_complaint_model_passes_the_model_tester_and_fetches_pages(qtmodeltester, cctx):
    for i in range(7):
        cs.register(cctx, _intake(subject=f"问题{i}", phone=f"1390000{i:04d}"))
    model = ComplaintTableModel(cctx, page_size=3)
    model.set_filter(cs.ComplaintFilter())
    assert model.rowCount() == 3 and model.canFetchMore()
    assert model.total() == 7  # counted in SQL while pages are missing
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 7
    assert len({model.complaint_id(r) for r in range(7)}) == 7
    model.reload()
    qtmodeltester.check(model, force_py=True)


def test_intake_registers_and_the_register_shows_it_with_its_ts_number(qtbot, cctx, clerk):
    tab = _tab(qtbot, cctx)
    assert tab.model.rowCount() == 0
    dialog = tab.new_complaint()
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.received_at.dateTime().toPython() == datetime(2026, 11, 24, 10, 0)
    dialog.complainant.setText("刘女士")
    dialog.phone.setText("139 0000 1111")
    dialog.subject.setText("安装师傅态度差")
    dialog.content.setPlainText("师傅迟到两小时且态度恶劣。")
    dialog.category.setCurrentText("服务态度")
    dialog.save()
    assert dialog.result_detail is not None and not dialog.isVisible()
    number = dialog.result_detail.number
    assert number == "TS20261124-001"
    assert _numbers(tab) == [number]
    assert tab.detail.detail is not None and tab.detail.detail.number == number
    assert number in tab.notice.text() and "小王" in tab.notice.text()
    assert tab.count_of("待受理") == 1 and tab.count_of("") == 1
    assert tab.detail.buttons["accept"].isEnabled()


def test_intake_validation_marks_the_fields_and_keeps_the_input(qtbot, cctx):
    tab = _tab(qtbot, cctx)
    dialog = tab.new_complaint()
    dialog.complainant.setText("刘女士")
    dialog.phone.setText("139 0000 1111")
    dialog.subject.setText("安装师傅态度差")
    dialog.save()  # no category
    assert dialog.result_detail is None and dialog.isVisible()
    assert dialog.category.styleSheet() == ERROR_STYLE
    assert dialog.subject.styleSheet() == ""
    assert "类别" in dialog.message.text()
    assert dialog.subject.text() == "安装师傅态度差"
    assert cs.count_complaints(cctx) == 0
    dialog.anonymous.setChecked(True)
    assert not dialog.complainant.isEnabled() and not dialog.phone.isEnabled()
    dialog.category.setCurrentText("服务态度")
    dialog.save()
    assert dialog.result_detail is not None and dialog.result_detail.row.anonymous


def test_repeat_suggestion_appears_while_typing_and_attaching_adds_an_occurrence(qtbot, cctx):
    first = cs.register(cctx, _intake(received_at="2026-11-20 09:00"))
    tab = _tab(qtbot, cctx)
    dialog = tab.new_complaint()
    qtbot.keyClicks(dialog.phone, "13812345678")
    dialog.subject.insert("送货延误")  # typed (QTest cannot type Chinese): emits textEdited like the keyboard
    qtbot.waitUntil(lambda: dialog.repeats.rowCount() == 1)
    assert dialog.repeats.repeat(0).number == first.number
    sim = dialog.repeats.repeat(0).similarity
    assert f"可能重复：{first.number}" in dialog.repeat_title.text()
    assert f"相似度 {sim * 100:.0f}%" in dialog.repeat_title.text()
    assert dialog.attach_button.isEnabled() and first.number in dialog.attach_button.text()
    dialog.channel.setCurrentText("来访")
    qtbot.mouseClick(dialog.attach_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    d = cs.get_complaint(cctx, first.id)
    assert d.row.occurrences == 2
    assert [o.channel for o in d.occurrences] == ["电话", "来访"]
    assert cs.count_complaints(cctx) == 1  # no second record
    assert "第 2 次" in tab.notice.text()
    assert tab.detail.detail.id == first.id and tab.detail.occurrences.rowCount() == 2


def test_intake_links_a_customer_found_by_pinyin_initials(qtbot, cctx, customer):
    tab = _tab(qtbot, cctx)
    dialog = tab.new_complaint()
    qtbot.keyClicks(dialog.customer_edit, "hzmd")
    qtbot.waitUntil(lambda: len(dialog.suggestions()) == 1)
    assert "杭州明达贸易有限公司" in dialog.suggestions()[0]
    dialog.choose_customer(0)
    assert dialog.customer_id == customer.id
    assert dialog.complainant.text() == "张经理"  # prefilled from the customer's contact
    assert "已关联" in dialog.customer_status.text()
    qtbot.keyClicks(dialog.customer_edit, "x")  # typing again drops the link
    assert dialog.customer_id is None


def test_intake_handling_closing_visit_closes_the_complaint(qtbot, cctx, customer):
    tab = _tab(qtbot, cctx)
    dialog = tab.new_complaint()
    dialog.customer_edit.setText("明达")
    dialog.refresh_customer_suggestions()
    dialog.choose_customer(0)
    dialog.subject.setText("送货延误三天")
    dialog.category.setCurrentText("交付物流")
    dialog.save()
    pane = tab.detail
    cid = pane.detail.id

    qtbot.mouseClick(pane.buttons["accept"], Qt.MouseButton.LeftButton)
    assert pane.detail.state == "处理中" and "已受理" in pane.message.text()
    pane.investigation.setPlainText("司机绕路")
    pane.cause.setPlainText("调度失误")
    pane.measures.setPlainText("调整线路")
    pane.result.setPlainText("已赔偿运费并致歉")
    pane.replied.setChecked(True)
    pane.reply_way.setCurrentText("电话")
    qtbot.mouseClick(pane.save_handling_button, Qt.MouseButton.LeftButton)
    assert cs.get_complaint(cctx, cid).result == "已赔偿运费并致歉"
    assert pane.buttons["finish"].isEnabled()

    qtbot.mouseClick(pane.buttons["finish"], Qt.MouseButton.LeftButton)
    assert pane.detail.state == "待回访" and "2026-11-27" in pane.message.text()
    assert not pane.buttons["close"].isEnabled()
    qtbot.mouseClick(pane.buttons["visit"], Qt.MouseButton.LeftButton)
    assert pane.form_box.isVisibleTo(pane) and pane.form_stack.currentWidget() is pane.forms["visit"]
    pane.visit_satisfaction.setCurrentText("满意")
    pane.visit_note.setText("客户认可赔偿")
    qtbot.mouseClick(pane.forms["visit"].ok, Qt.MouseButton.LeftButton)

    d = cs.get_complaint(cctx, cid)
    assert d.state == "已关闭" and d.row.satisfaction == "满意" and d.visit_record_id is not None
    assert pane.detail.state == "已关闭" and "已关闭" in pane.message.text()
    assert not pane.form_box.isVisibleTo(pane)
    assert tab.count_of("已关闭") == 1 and tab.count_of("待受理") == 0
    m = tab.model
    assert m.data(m.index(0, ComplaintTableModel.COL_STATE)) == "已关闭"
    assert [pane.events.data(pane.events.index(r, 2)) for r in range(pane.events.rowCount())][-2:] == [
        "结案回访",
        "关闭",
    ]
    assert pane.buttons["reopen_linked"].isVisibleTo(pane) and pane.buttons["reopen_linked"].isEnabled()


def test_unsatisfied_closing_visit_form_refuses_a_missing_satisfaction_then_sends_it_back(qtbot, cctx):
    d = cs.register(cctx, _intake())  # no customer file: the visit is kept on the complaint
    cs.accept(cctx, d.id)
    cs.save_handling(cctx, d.id, cs.HandlingDraft(result="已道歉"))
    cs.finish_handling(cctx, d.id)
    tab = _tab(qtbot, cctx)
    pane = tab.detail
    assert pane.detail.id == d.id
    pane.open_form("visit")
    pane.submit_visit()  # 成功 without 满意度
    assert "满意度" in pane.message.text()
    assert pane.visit_satisfaction.styleSheet() == ERROR_STYLE
    pane.visit_satisfaction.setCurrentText("不满意")
    pane.submit_visit()
    assert cs.get_complaint(cctx, d.id).state == "处理中"
    assert "退回处理中" in pane.message.text()


def test_finish_uses_the_handling_typed_on_screen(qtbot, cctx):
    """Issue 18: 办结转回访 refused "填写处理结果后才能转入待回访" while 处理结果 was visibly filled but not saved."""
    d = cs.register(cctx, _intake())
    cs.accept(cctx, d.id)
    tab = _tab(qtbot, cctx)
    pane = tab.detail
    assert pane.detail.id == d.id
    pane.result.setPlainText("已上门更换滤网，客户确认不再漏水")
    pane.finish_handling()
    stored = cs.get_complaint(cctx, d.id)
    assert stored.state == "待回访", pane.message.text()
    assert stored.result == "已上门更换滤网，客户确认不再漏水"
    assert "转入待回访" in pane.message.text()


def test_clerk_sees_close_disabled_for_a_major_complaint(qtbot, ctx, cctx, clerk, manager):
    mctx = ctx.as_user(manager)
    d = cs.register(cctx, _intake(severity="重大", category="产品质量", subject="产品外壳开裂"))
    cs.accept(mctx, d.id)
    cs.save_handling(mctx, d.id, cs.HandlingDraft(result="已更换"))
    cs.finish_handling(mctx, d.id)
    with ctx.sessions() as s, s.begin():  # the clerk made the satisfied visit and holds the file
        c = s.get(Complaint, d.id)
        c.handler_id, c.visit_satisfied, c.satisfaction = clerk.id, True, "满意"
    tab = _tab(qtbot, cctx)
    pane = tab.detail
    assert pane.detail.id == d.id
    close = pane.buttons["close"]
    assert close.isVisibleTo(pane) and not close.isEnabled()
    assert "公司经理" in close.toolTip()
    pane.close_complaint()  # even when called: refused, shown in the pane, nothing changes
    assert "公司经理" in pane.message.text()
    assert cs.get_complaint(cctx, d.id).state == "待回访"

    manager_tab = _tab(qtbot, mctx)
    assert manager_tab.detail.buttons["close"].isEnabled()
    qtbot.mouseClick(manager_tab.detail.buttons["close"], Qt.MouseButton.LeftButton)
    assert cs.get_complaint(mctx, d.id).state == "已关闭"


def test_filters_by_state_count_and_overdue_with_overdue_rows_on_top(qtbot, cctx):
    late = cs.register(
        cctx,
        _intake(
            subject="安装师傅态度差", phone="13900001111", category="服务态度", received_at="2026-11-18 14:20"
        ),
    )
    fresh = cs.register(cctx, _intake(subject="维修收费不透明", phone="13900002222", category="收费"))
    taken = cs.register(cctx, _intake(subject="发票开错抬头", phone="13900003333", category="收费"))
    cs.accept(cctx, taken.id)
    tab = _tab(qtbot, cctx)
    assert _numbers(tab)[0] == late.number
    m = tab.model
    assert m.data(m.index(0, ComplaintTableModel.COL_OVERDUE)) == "逾期未办"
    assert m.data(m.index(0, 0), Qt.ItemDataRole.BackgroundRole) == OVERDUE_BACKGROUND
    assert m.data(m.index(1, 0), Qt.ItemDataRole.BackgroundRole) is None
    assert (tab.count_of(""), tab.count_of("待受理"), tab.count_of("处理中"), tab.count_of("逾期")) == (
        3,
        2,
        1,
        1,
    )

    qtbot.mouseClick(tab.count_buttons["逾期"], Qt.MouseButton.LeftButton)
    assert tab.overdue.isChecked() and _numbers(tab) == [late.number]
    assert tab.count_buttons["逾期"].isChecked()
    qtbot.mouseClick(tab.count_buttons["处理中"], Qt.MouseButton.LeftButton)
    assert not tab.overdue.isChecked() and _numbers(tab) == [taken.number]
    assert tab.state.currentData() == "处理中"
    tab.state.setCurrentIndex(tab.state.findData("待受理"))
    assert set(_numbers(tab)) == {late.number, fresh.number}
    assert tab.count_buttons["待受理"].isChecked()
    tab.category.setCurrentText("收费")
    assert _numbers(tab) == [fresh.number]
    assert tab.count_of("") == 2  # counts follow the other filters
    qtbot.mouseClick(tab.count_buttons[""], Qt.MouseButton.LeftButton)
    assert set(_numbers(tab)) == {fresh.number, taken.number}
    tab.category.setCurrentIndex(0)
    tab.start.setDate(date(2026, 11, 20))  # received on or after: the overdue one (11-18) drops out
    assert set(_numbers(tab)) == {fresh.number, taken.number} and tab.count_of("逾期") == 0
    tab.start.setDate(tab.start.minimumDate())  # 不限
    tab.end.setDate(date(2026, 11, 19))
    assert _numbers(tab) == [late.number]


def test_search_filters_as_you_type(qtbot, cctx):
    cs.register(cctx, _intake(subject="安装师傅态度差", phone="13900001111", category="服务态度"))
    wanted = cs.register(cctx, _intake(subject="维修收费不透明", phone="13900002222", category="收费"))
    tab = _tab(qtbot, cctx)
    tab.search.setText("收费")
    assert tab.model.rowCount() == 2  # not yet: the search waits for a pause in typing
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)
    assert _numbers(tab) == [wanted.number]
    assert tab.count_label.text() == "共 1 件"


def test_export_writes_the_ledger_off_the_gui_thread(qtbot, cctx, tmp_path):
    cs.register(cctx, _intake())
    tab = _tab(qtbot, cctx)
    target = tmp_path / "投诉台账.xlsx"
    tab.ask_export_path = lambda: str(target)
    qtbot.mouseClick(tab.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已导出" in tab.notice.text())
    qtbot.waitUntil(lambda: tab.export_thread is not None and tab.export_thread.isFinished())
    assert "1 条" in tab.notice.text() and tab.export_button.isEnabled()
    wb = load_workbook(target, read_only=True)
    try:
        values = [c for row in wb.active.iter_rows(values_only=True) for c in row if c is not None]
    finally:
        wb.close()  # read-only workbooks keep the file open until closed
    assert "TS20261124-001" in values and "送货延误三天" in values

    tab.ask_export_path = lambda: str(tmp_path / "no-such-folder" / "x.xlsx")
    tab.export_ledger()
    qtbot.waitUntil(lambda: "导出失败" in tab.notice.text())
    qtbot.waitUntil(lambda: tab.export_thread.isFinished())
    assert "文件夹不存在" in tab.notice.text()


def test_attachments_add_open_and_delete_without_dialogs(qtbot, cctx, tmp_path):
    d = cs.register(cctx, _intake(anonymous=True, complainant="", phone=""))
    cs.accept(cctx, d.id)
    letter = tmp_path / "答复函.pdf"
    letter.write_bytes(b"%PDF-1.4 reply letter")
    tab = _tab(qtbot, cctx)
    pane = tab.detail
    assert not pane.buttons["close"].isEnabled() and "答复函" in pane.buttons["close"].toolTip()
    pane.choose_files = lambda: [str(letter)]
    opened = []
    pane.open_url = lambda url: opened.append(url.toLocalFile()) or True
    pane.attachment_kind.setCurrentText("答复函")
    qtbot.mouseClick(pane.add_attachment_button, Qt.MouseButton.LeftButton)
    assert pane.attachments.rowCount() == 1 and "答复函.pdf" in pane.message.text()
    assert pane.buttons["close"].isEnabled()  # anonymous: closes with the reply letter
    pane.attachment_view.selectRow(0)
    pane.open_attachment()
    assert opened and Path(opened[0]).read_bytes() == b"%PDF-1.4 reply letter"
    saved = tmp_path / "copy.pdf"
    pane.choose_save_path = lambda name: str(saved)
    pane.save_attachment()
    assert saved.read_bytes() == b"%PDF-1.4 reply letter"
    pane.remove_attachment()
    assert pane.attachments.rowCount() == 0
    assert cs.get_complaint(cctx, d.id).attachments == ()


def test_stale_version_says_so_and_reloads(qtbot, cctx):
    d = cs.register(cctx, _intake())
    tab = _tab(qtbot, cctx)
    pane = tab.detail
    cs.save_handling(
        cctx, d.id, cs.HandlingDraft(investigation="另一台电脑上填写")
    )  # now 处理中, new version
    pane.accept_complaint()
    assert "其他人修改" in pane.message.text() and "重新载入" in pane.message.text()
    assert pane.detail.state == "处理中"
    assert pane.investigation.toPlainText() == "另一台电脑上填写"


def test_consultation_is_answered_inline_and_closed(qtbot, cctx):
    tab = _tab(qtbot, cctx)
    dialog = tab.new_complaint()
    dialog.kind.setCurrentText("咨询")
    assert not dialog.severity.isEnabled()
    dialog.complainant.setText("周先生")
    dialog.phone.setText("13511112222")
    dialog.subject.setText("保修期多长")
    dialog.save()
    assert dialog.result_detail is not None and dialog.result_detail.number.startswith("ZX")
    pane = tab.detail
    assert pane.buttons["reply"].isVisibleTo(pane) and not pane.buttons["accept"].isVisibleTo(pane)
    qtbot.mouseClick(pane.buttons["reply"], Qt.MouseButton.LeftButton)
    pane.submit_reply()  # empty reply
    assert pane.reply_message_text.styleSheet() == ERROR_STYLE
    pane.reply_message_text.setPlainText("整机保修一年。")
    pane.submit_reply()
    assert pane.detail.state == "已关闭"
    assert tab.count_of("已关闭") == 1


def test_main_window_escalates_at_start_reminds_and_marks_notices_seen(
    qtbot, ctx, cctx, supervisor, tmp_path
):
    from huifang_desktop.config import AppPaths
    from huifang_desktop.ui.main_window import MainWindow

    late = cs.register(cctx, _intake(received_at="2026-11-18 14:20"))
    sctx = ctx.as_user(supervisor)
    window = MainWindow(sctx, AppPaths(tmp_path))
    qtbot.addWidget(window)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.on_started()
    qtbot.waitUntil(lambda: any("投诉提醒" in m for m in messages))
    qtbot.waitUntil(lambda: window._catch_up.isFinished())
    backup = getattr(window, "_backup_thread", None)  # started after the catch-up; let it end with the test
    qtbot.waitUntil(lambda: backup is None or backup.isFinished())
    message = next(m for m in messages if "投诉提醒" in m)
    assert "今日待回访" in message and "投诉提醒 2 条" in message  # 催办 as the head, 上报 as the next level
    assert cs.get_complaint(sctx, late.id).row.handler == "小王"  # issue 20: the handler keeps the case
    window.show()
    window.show_tab("complaints")
    assert cs.notices(sctx).follow_unseen == 0
    assert "投诉提醒 2 条" in window.complaints_tab.notice.text()
    window._new_customer()  # Ctrl+N on this tab: 新建登记
    assert window.complaints_tab.intake is not None and window.complaints_tab.intake.isVisible()
    window.complaints_tab.intake.close()


def test_print_button_previews_the_complaint_form(qtbot, cctx, tmp_path):
    d = cs.register(cctx, _intake(subject="发票抬头开错"))
    tab = _tab(qtbot, cctx)
    pane = tab.detail
    assert pane.detail.id == d.id and pane.print_button.isEnabled()
    qtbot.mouseClick(pane.print_button, Qt.MouseButton.LeftButton)
    dialog = pane.preview
    assert dialog is not None and dialog.isVisible()
    target = tmp_path / "投诉处理表.pdf"
    dialog.save_to(target)  # 另存为 PDF, logged as a print
    assert target.read_bytes().startswith(b"%PDF")
    dialog.close()
    with cctx.sessions() as s:
        from huifang_desktop.storage.models import AuditLog

        row = s.query(AuditLog).filter(AuditLog.action == "打印").one()
    assert (row.entity, row.entity_id) == ("complaint", d.id)
