"""pytest-qt: under department visibility, the closing visit of 客服部's complaint planned for 小李 of
销售部 (the independence rule keeps it from the handler and the 业务员): in 投诉登记 小李 finds the complaint
in the register and by its number, reads the detail, its attachments and history, has no handling button
but 登记结案回访, and records the visit there; 小赵 of 销售部 without the plan finds nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt

from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import users as users_service
from huifang_desktop.services import visits as v
from huifang_desktop.ui.complaints.detail_layout import PAGE_ATTACHMENTS
from huifang_desktop.ui.complaints.tab import ComplaintsTab
from tests.conftest import PASSWORD
from tests.services.test_complaint_visitor import department_only, finished_cross_department_complaint


def test_the_planned_visitor_of_another_department_opens_and_visits_the_complaint(
    qtbot, ctx, admin, mctx, cctx, c2ctx
) -> None:
    d = finished_cross_department_complaint(ctx, admin, cctx)
    department_only(mctx)
    assert v.get_plan(ctx, d.visit_plan_id).owner == "小李"

    tab = ComplaintsTab(c2ctx)
    qtbot.addWidget(tab)
    tab.search.setText(d.row.number)  # the register's search by number
    qtbot.keyClick(tab.search, Qt.Key.Key_Return)
    assert tab.model.rowCount() == 1 and tab.model.complaint_id(0) == d.id
    tab.select_complaint(d.id)
    pane = tab.detail
    assert pane.detail is not None and pane.detail.id == d.id
    assert pane.detail.actions == frozenset({"visit"})
    enabled = {key for key, b in pane.buttons.items() if b.isEnabled()}
    assert enabled == {"visit"}
    assert not pane.save_handling_button.isEnabled() and not pane.add_attachment_button.isEnabled()
    pane.pages.setCurrentIndex(PAGE_ATTACHMENTS)
    assert [a.name for a in pane.detail.attachments] == ["送货单.txt"]

    qtbot.mouseClick(pane.buttons["visit"], Qt.MouseButton.LeftButton)
    assert pane.form_stack.currentWidget() is pane.forms["visit"]
    pane.visit_satisfaction.setCurrentText("满意")
    pane.visit_note.setText("客户认可")
    qtbot.mouseClick(pane.forms["visit"].ok, Qt.MouseButton.LeftButton)
    done = cs.get_complaint(ctx, d.id)
    assert done.row.state == "已关闭" and v.get_record(ctx, done.visit_record_id).visitor == "小李"
    assert pane.detail.row.state == "已关闭" and "已关闭" in pane.message.text()

    zhao = users_service.create_user(ctx.as_user(admin), "xiaozhao", "小赵", Role.CLERK, PASSWORD, "销售部")
    other = ComplaintsTab(ctx.as_user(zhao))
    qtbot.addWidget(other)
    other.search.setText(d.row.number)
    qtbot.keyClick(other.search, Qt.Key.Key_Return)
    assert other.model.rowCount() == 0 and other.detail.detail is None
