"""pytest-qt tests of the customer files tab: model contract, search, editor validation, paging."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import customers as customer_service
from huifang_desktop.storage.queries import CustomerFilter
from huifang_desktop.ui.customers.dialog import CustomerDialog
from huifang_desktop.ui.customers.model import CustomerTableModel, IdRole
from huifang_desktop.ui.customers.tab import CustomersTab

NAMES = ["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十"]


@pytest.fixture
def office(ctx, clerk):
    c = ctx.as_user(clerk)
    made = []
    for i in range(23):
        name = f"{NAMES[i % len(NAMES)]}{i:02d}贸易公司"
        made.append(
            customer_service.register_customer(
                c,
                CustomerDraft(
                    name=name,
                    address=f"杭州市{i}号",
                    contacts=(ContactDraft(name="经办人", mobile=f"139{i:08d}"),),
                ),
            )
        )
    return c, made


def test_customer_model_passes_qabstractitemmodeltester(qtmodeltester, office):
    c, _ = office
    model = CustomerTableModel(c, page_size=5)
    model.set_filter(CustomerFilter())
    qtmodeltester.check(model, force_py=True)


def test_customer_model_fetches_pages_lazily_until_every_row_is_loaded(office):
    c, made = office
    model = CustomerTableModel(c, page_size=5)
    model.set_filter(CustomerFilter())
    assert model.rowCount() == 5
    assert model.canFetchMore()
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == len(made)
    ids = [model.data(model.index(r, 0), IdRole) for r in range(model.rowCount())]
    assert sorted(ids) == sorted(m.id for m in made)
    assert model.total() == len(made)


def test_customer_model_sorts_in_sql_descending(office):
    c, made = office
    model = CustomerTableModel(c, page_size=100)
    model.sort(CustomerTableModel.COL_CODE, Qt.SortOrder.DescendingOrder)
    codes = [model.data(model.index(r, CustomerTableModel.COL_CODE)) for r in range(model.rowCount())]
    assert codes == sorted((m.code for m in made), reverse=True)


def test_customers_tab_search_by_pinyin_initials_and_phone(qtbot, office):
    c, made = office
    tab = CustomersTab(c)
    qtbot.addWidget(tab)
    tab.search.setText("zs")  # 张三…
    tab.apply_filter()
    names = {tab.model.data(tab.model.index(r, 1)) for r in range(tab.model.rowCount())}
    assert names and all(n.startswith("张三") for n in names)
    tab.search.setText("13900000007")
    tab.apply_filter()
    assert tab.model.rowCount() == 1
    assert tab.model.data(tab.model.index(0, 0)) == made[7].code
    assert tab.count_label.text() == "共 1 位客户"


def test_customers_tab_double_click_or_enter_opens_the_file_once(qtbot, office, monkeypatch):
    """Issue 18: a double-click opened the file twice (doubleClicked and activated both opened it)."""
    c, _made = office
    tab = CustomersTab(c)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    opened: list[int] = []

    def fake_exec(dialog: CustomerDialog) -> int:
        opened.append(dialog.detail.id)
        return CustomerDialog.DialogCode.Rejected.value

    monkeypatch.setattr(CustomerDialog, "exec", fake_exec)
    tab.table.selectRow(2)
    rect = tab.table.visualRect(tab.model.index(2, 1))
    assert rect.isValid()
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == [tab.selected_id()]
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    assert len(opened) == 2 and opened[1] == opened[0]


@pytest.mark.parametrize("answer", ["Cancel", "Discard", "Save"])
def test_closing_an_edited_customer_file_asks_first(qtbot, office, monkeypatch, answer):
    """Issue 18: 关闭 on an edited file discarded the edits without a word."""
    from PySide6.QtWidgets import QMessageBox

    c, made = office
    dialog = CustomerDialog(c, made[0].id)
    qtbot.addWidget(dialog)
    dialog.show()
    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: asked.append(a[2]) or getattr(QMessageBox.StandardButton, answer),
    )
    dialog.reject()  # nothing typed: closes without asking
    assert asked == [] and not dialog.isVisible()

    dialog = CustomerDialog(c, made[0].id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.address.setText("宁波市新地址 1 号")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert len(asked) == 1 and "未保存" in asked[0]
    stored = customer_service.get_customer(c, made[0].id).address
    if answer == "Cancel":
        assert dialog.isVisible() and dialog.address.text() == "宁波市新地址 1 号"
        assert stored == made[0].address
    elif answer == "Discard":
        assert not dialog.isVisible() and stored == made[0].address
    else:
        assert not dialog.isVisible() and stored == "宁波市新地址 1 号" and dialog.changed


def test_customer_dialog_marks_bad_phone_and_saves_nothing(qtbot, office):
    c, made = office
    dialog = CustomerDialog(c, None)
    qtbot.addWidget(dialog)
    dialog.name.setText("新客户有限公司")
    dialog.contacts.item(0, 0).setText("刘经理")
    dialog.contacts.item(0, 2).setText("1381234")  # too short
    dialog.save()
    assert dialog.saved is None
    assert "联系人1手机" in dialog.message.text()
    assert dialog.contacts.styleSheet() != ""
    assert customer_service.count_customers(c, CustomerFilter()) == len(made)


def test_customer_dialog_creates_customer_with_next_code(qtbot, office):
    c, made = office
    dialog = CustomerDialog(c, None)
    qtbot.addWidget(dialog)
    dialog.name.setText("新客户有限公司")
    dialog.address.setText("宁波市")
    dialog.contacts.item(0, 0).setText("刘经理")
    dialog.contacts.item(0, 1).setText("0574-87654321 转 8")
    dialog.save()
    assert dialog.saved is not None
    assert dialog.saved.code == f"KH{len(made) + 1:06d}"
    detail = customer_service.get_customer(c, dialog.saved.id)
    assert detail.contacts[0].phone == "057487654321x8"


def test_customer_dialog_edit_records_history(qtbot, office):
    c, made = office
    dialog = CustomerDialog(c, made[0].id)
    qtbot.addWidget(dialog)
    dialog.address.setText("杭州市西湖区文三路 1 号")
    dialog.save()
    assert dialog.changed
    rows = customer_service.history(c, made[0].id)
    assert rows[0].action == "修改客户"
    assert "文三路" in rows[0].new


def test_customer_model_keeps_a_few_pages_in_memory_and_reads_the_others_again(office, monkeypatch):
    from huifang_desktop.ui.customers import model as model_module

    c, made = office
    monkeypatch.setattr(model_module, "KEEP_PAGES", 2)
    model = CustomerTableModel(c, page_size=3)
    model.set_filter(CustomerFilter())
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == len(made)
    assert len(model._pages) == 2  # scrolled to the end: only the last two pages are kept
    ids = [model.data(model.index(r, 0), IdRole) for r in range(model.rowCount())]  # back to the top
    assert sorted(ids) == sorted(m.id for m in made)
    assert ids == [model.customer_id(r) for r in range(model.rowCount())]
    assert len(model._pages) == 2
    assert model.row_of(ids[-1]) == len(made) - 1 and model.row_of(ids[0]) is None  # only pages in memory


def test_customer_dialog_shows_the_class_history_and_a_supervisor_pins_a_class(
    qtbot, office, ctx, supervisor, monkeypatch
):
    """Issue 19 item 2: the dialog lists the classes a customer had (等级记录) and a supervisor's pin lands in it."""
    from PySide6.QtWidgets import QInputDialog

    c, made = office
    s = ctx.as_user(supervisor)
    dialog = CustomerDialog(s, made[0].id)
    qtbot.addWidget(dialog)
    assert dialog.pin_button.isVisibleTo(dialog)
    assert dialog.classes.rowCount() == 0
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("A", True))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("集团战略客户", True))
    dialog._pin_grade()
    texts = [
        [dialog.classes.item(r, col).text() for col in range(4)] for r in range(dialog.classes.rowCount())
    ]
    assert texts[0] == ["2026-11-24", "A", "指定", "集团战略客户"]
    assert texts[-1][1:3] == ["D", "建档"]
    clerk_dialog = CustomerDialog(c, made[0].id)
    qtbot.addWidget(clerk_dialog)
    assert not clerk_dialog.pin_button.isVisibleTo(clerk_dialog)
