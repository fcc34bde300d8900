"""pytest-qt: with visitor independence on (the default, 001 篇11) a complaint's closing visit is planned for
somebody other than the handler; in 投诉登记 that person's 登记结案回访 is enabled and records it, while the
handler's is disabled with the reason (issue 19 item 7)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import users as users_service
from huifang_desktop.services import visits as v
from huifang_desktop.ui.complaints.tab import ComplaintsTab
from tests.conftest import PASSWORD
from tests.services.test_owner_at_close import closing_case


def _finished_complaint(ctx, cctx, admin, clerk):
    """戊公司 (业务员 小张), a complaint handled by 小王, finished: the closing visit goes to 小李."""
    zhang = users_service.create_user(ctx.as_user(admin), "xiaozhang", "小张", Role.CLERK, PASSWORD, "客服部")
    return closing_case(ctx, cctx, zhang, clerk)


def test_the_planned_visitor_records_the_closing_visit_in_the_complaints_tab(
    qtbot, ctx, admin, cctx, c2ctx, clerk, clerk2
):
    d = _finished_complaint(ctx, cctx, admin, clerk)
    assert v.get_plan(ctx, d.visit_plan_id).owner == "小李"

    handler_tab = ComplaintsTab(cctx)
    qtbot.addWidget(handler_tab)
    button = handler_tab.detail.buttons["visit"]
    assert handler_tab.detail.detail.id == d.id
    assert button.isVisibleTo(handler_tab.detail) and not button.isEnabled()
    assert "回访独立性" in button.toolTip()

    tab = ComplaintsTab(c2ctx)  # 小李, the planned visitor
    qtbot.addWidget(tab)
    pane = tab.detail
    assert pane.detail.id == d.id
    assert pane.buttons["visit"].isEnabled()
    qtbot.mouseClick(pane.buttons["visit"], Qt.MouseButton.LeftButton)
    assert pane.form_stack.currentWidget() is pane.forms["visit"]
    pane.visit_satisfaction.setCurrentText("满意")
    pane.visit_note.setText("客户认可")
    qtbot.mouseClick(pane.forms["visit"].ok, Qt.MouseButton.LeftButton)

    done = cs.get_complaint(ctx, d.id)
    assert done.state == "已关闭" and done.visit_record_id is not None
    assert v.get_record(ctx, done.visit_record_id).visitor == "小李"
    assert pane.detail.state == "已关闭" and "已关闭" in pane.message.text()
