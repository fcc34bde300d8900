"""The 紧急 flag at intake (002 制度5 §2 “于12小时内向相关部门传递”, §5 “处理妥善后，须于2小时内反馈客户中心”):
offered by a property office (whose preset sets the urgent timings), not by an after-sales one; an urgent
complaint shows its dispatch deadline in the detail pane. Fixed clock (2026-11-24 10:00, a Tuesday)."""

from __future__ import annotations

from huifang_desktop.services import presets
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.ui.complaints.tab import ComplaintsTab


def _tab(qtbot, c: ServiceContext) -> ComplaintsTab:
    tab = ComplaintsTab(c)
    qtbot.addWidget(tab)
    return tab


def test_property_office_offers_the_urgent_flag_and_shows_the_deadlines(
    qtbot, ctx: ServiceContext, cctx: ServiceContext, admin: UserInfo
) -> None:
    presets.apply_preset(ctx.as_user(admin), "property")
    tab = _tab(qtbot, cctx)
    dialog = tab.new_complaint()
    assert dialog.urgent.isVisibleTo(dialog)
    assert "12 小时内派工" in dialog.urgent.text() and "2 小时内反馈" in dialog.urgent.text()
    dialog.urgent.setChecked(True)
    dialog.complainant.setText("刘女士")
    dialog.phone.setText("139 0000 1111")
    dialog.subject.setText("楼道水管爆裂")
    dialog.category.setCurrentText("维修")
    assert dialog.draft().urgent
    dialog.save()
    d = dialog.result_detail
    assert d is not None and d.urgent and d.dispatch_due is not None
    tab.detail.show_detail(d)
    shown = tab.detail.info_labels["urgent"]
    assert shown.isVisibleTo(tab.detail)
    assert "派工期限 2026-11-24 22:00" in shown.text() and "填写处理结果后起算" in shown.text()


def test_after_sales_office_has_no_urgent_flag(
    qtbot, ctx: ServiceContext, cctx: ServiceContext, admin: UserInfo
) -> None:
    presets.apply_preset(ctx.as_user(admin), "after_sales")
    dialog = _tab(qtbot, cctx).new_complaint()
    assert not dialog.urgent.isVisibleTo(dialog)
    dialog.urgent.setChecked(True)  # even if set somehow, the draft does not ask for it
    assert not dialog.draft().urgent
