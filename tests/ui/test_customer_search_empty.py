"""Issue 18 item 5: a search that finds nothing says 未找到匹配的客户 and offers 新建客户档案, which opens the
new-customer dialog with the number (or the name) typed already filled in."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import customers as customer_service
from huifang_desktop.ui.customers.dialog import CustomerDialog
from huifang_desktop.ui.customers.tab import CustomersTab


@pytest.fixture
def tab(qtbot, ctx, clerk):
    c = ctx.as_user(clerk)
    customer_service.register_customer(
        c, CustomerDraft(name="杭州明达贸易", contacts=(ContactDraft(name="张三", mobile="13812345678"),))
    )
    widget = CustomersTab(c)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _type(qtbot, tab: CustomersTab, text: str) -> None:
    tab.search.setText(text)  # as typed (QTest cannot type Chinese characters)
    assert tab._timer.isActive()
    qtbot.waitUntil(lambda: not tab._timer.isActive())  # the search runs once typing pauses


def test_an_empty_search_result_says_so_and_a_found_one_does_not(qtbot, tab: CustomersTab) -> None:
    _type(qtbot, tab, "5678")  # the last four digits
    assert tab.model.rowCount() == 1 and tab.empty_panel.isHidden()
    _type(qtbot, tab, "4321")
    assert tab.model.rowCount() == 0
    assert tab.empty_panel.isVisible() and tab.empty_label.text() == "未找到匹配的客户"
    assert tab.empty_new_button.text() == "新建客户档案" and tab.empty_new_button.isEnabled()
    tab.search.clear()
    tab.apply_filter()
    assert tab.empty_panel.isHidden()  # no search: the table, not the message


def test_the_new_file_button_prefills_the_phone_and_saves_a_file_the_search_then_finds(
    qtbot, tab: CustomersTab, monkeypatch
) -> None:
    seen: list[tuple[str, str, str]] = []

    def fake_exec(dialog: CustomerDialog) -> int:
        seen.append((dialog.name.text(), dialog._cell(0, 1), dialog._cell(0, 2)))
        dialog.name.setText("宁波顺通物流")
        dialog.contacts.item(0, 0).setText("王五")
        dialog.save()
        return dialog.result()

    monkeypatch.setattr(CustomerDialog, "exec", fake_exec)
    _type(qtbot, tab, "139 0000 2468")
    assert tab.empty_panel.isVisible()
    qtbot.mouseClick(tab.empty_new_button, Qt.MouseButton.LeftButton)
    assert seen == [("", "", "139 0000 2468")]  # a mobile number goes to 手机
    assert tab.model.rowCount() == 1 and tab.empty_panel.isHidden()  # the new file is shown
    _type(qtbot, tab, "2468")
    assert [tab.model.data(tab.model.index(r, 1)) for r in range(tab.model.rowCount())] == ["宁波顺通物流"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0531-26485794", ("", "0531-26485794", "")),  # a landline goes to 电话
        ("顺通", ("顺通", "", "")),  # not digits: the name
    ],
)
def test_the_new_file_button_prefills_a_landline_or_the_name(
    qtbot, tab: CustomersTab, monkeypatch, typed, expected
) -> None:
    seen: list[tuple[str, str, str]] = []

    def fake_exec(dialog: CustomerDialog) -> int:
        seen.append((dialog.name.text(), dialog._cell(0, 1), dialog._cell(0, 2)))
        return CustomerDialog.DialogCode.Rejected.value

    monkeypatch.setattr(CustomerDialog, "exec", fake_exec)
    _type(qtbot, tab, typed)
    assert tab.empty_panel.isVisible()
    qtbot.mouseClick(tab.empty_new_button, Qt.MouseButton.LeftButton)
    assert seen == [expected]
