"""pytest-qt tests of the form binding (ui/common/binding.py): each widget kind filled and read, the
converters, what changed since a snapshot, the widget of a refused field; and the customer editor on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pytest
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDoubleSpinBox,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTableWidget,
    QWidget,
)

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.validation import format_phone
from huifang_desktop.services import customers as customer_service
from huifang_desktop.ui.common.binding import (
    Binder,
    Binding,
    blank_none,
    check,
    combo_data,
    combo_text,
    day,
    iso_date,
    line,
    marks,
    moment,
    plain,
    spin,
)
from huifang_desktop.ui.common.feedback import ERROR_STYLE, mark_fields
from huifang_desktop.ui.customers.dialog import CustomerDialog


@dataclass(frozen=True)
class Record:
    name: str = "杭州明达"
    phone: str = "13912345678"
    birthday: date | None = date(1980, 5, 20)
    notes: str = "第一行\n第二行"
    kind: str = "个人"
    region: str = "西湖区"
    owner_id: int | None = 7
    signed: bool = True
    quantity: int = 3
    rate: Decimal = Decimal("2.5")
    served_on: date = date(2026, 11, 24)
    visited_at: datetime = datetime(2026, 11, 24, 9, 30)


@dataclass(frozen=True)
class Draft:
    name: str
    phone: str
    birthday: str | None
    notes: str
    kind: str
    region: str
    owner_id: int | None
    signed: bool
    quantity: int
    rate: float
    served_on: date
    visited_at: datetime
    contacts: tuple[str, ...] = field(default_factory=tuple)


class Form(QWidget):
    """One widget of each kind the big forms use, bound as a form binds them."""

    def __init__(self) -> None:
        super().__init__()
        self.name = QLineEdit()
        self.phone = QLineEdit()
        self.birthday = QLineEdit()
        self.notes = QPlainTextEdit()
        self.kind = QComboBox()
        self.kind.addItems(["单位", "个人"])
        self.region = QComboBox()
        self.region.setEditable(True)
        self.region.addItems(["", "上城区", "西湖区"])
        self.owner = QComboBox()
        for uid, person in ((None, "（本人）"), (5, "王芳"), (7, "李明")):
            self.owner.addItem(person, uid)
        self.signed = QCheckBox()
        self.quantity = QSpinBox()
        self.quantity.setRange(0, 100)
        self.rate = QDoubleSpinBox()
        self.served_on = QDateEdit()
        self.visited_at = QDateTimeEdit()
        self.contacts = QTableWidget(1, 2)
        self.binder = Binder(
            [
                line("name", self.name),
                line("phone", self.phone, to_text=format_phone, from_text=lambda t: t.replace(" ", "")),
                line("birthday", self.birthday, to_text=iso_date, from_text=blank_none),
                plain("notes", self.notes),
                combo_text("kind", self.kind),
                combo_text("region", self.region),
                combo_data("owner_id", self.owner),
                check("signed", self.signed),
                spin("quantity", self.quantity),
                spin("rate", self.rate),
                day("served_on", self.served_on),
                moment("visited_at", self.visited_at),
                marks("contacts", self.contacts),
            ]
        )


@pytest.fixture
def form(qtbot) -> Form:
    f = Form()
    qtbot.addWidget(f)
    return f


def test_fill_shows_each_kind_of_widget_and_values_read_them_back(form):
    form.binder.fill(Record())
    assert form.name.text() == "杭州明达"
    assert form.phone.text() == "139 1234 5678"  # shown formatted
    assert form.birthday.text() == "1980-05-20"
    assert form.notes.toPlainText() == "第一行\n第二行"
    assert form.kind.currentText() == "个人"
    assert form.region.currentIndex() == 2
    assert form.owner.currentText() == "李明"
    assert form.signed.isChecked()
    assert form.quantity.value() == 3 and form.rate.value() == 2.5
    values = form.binder.values()
    assert values == {
        "name": "杭州明达",
        "phone": "13912345678",  # read back through from_text
        "birthday": "1980-05-20",
        "notes": "第一行\n第二行",
        "kind": "个人",
        "region": "西湖区",
        "owner_id": 7,
        "signed": True,
        "quantity": 3,
        "rate": 2.5,
        "served_on": date(2026, 11, 24),
        "visited_at": datetime(2026, 11, 24, 9, 30),
    }
    assert "contacts" not in values  # a widget that is only marked is not read
    draft = Draft(**values, contacts=("刘经理",))
    assert draft.owner_id == 7 and draft.contacts == ("刘经理",)


def test_converters_none_and_empty(form):
    form.binder.fill(Record(birthday=None, owner_id=None))
    assert form.birthday.text() == ""
    assert form.binder.values()["birthday"] is None  # blank_none: an empty field reads as None
    assert form.owner.currentText() == "（本人）" and form.binder.values()["owner_id"] is None
    assert (
        iso_date(None) == ""
        and iso_date(date(2026, 1, 2)) == "2026-01-02"
        and iso_date("2026-1-2") == "2026-1-2"
    )
    assert blank_none("") is None and blank_none("x") == "x"


def test_combo_by_text_by_data_and_editable(form, qtbot):
    form.binder.fill({"kind": "已撤销", "region": "滨江区", "owner_id": 99})
    assert form.kind.currentText() == "单位"  # an unknown choice changes nothing
    assert form.kind.count() == 2
    assert form.region.currentText() == "滨江区"  # an editable box takes any text
    assert form.owner.currentText() == "（本人）"  # an unknown id changes nothing
    keeps = QComboBox()
    qtbot.addWidget(keeps)
    keeps.addItems(["普通", "重点"])
    binder = Binder([combo_text("category", keeps, add_unknown=True)])
    binder.fill({"category": "老类别"})  # a value from before the office changed its list
    assert keeps.count() == 3 and binder.values() == {"category": "老类别"}
    binder.fill({"category": ""})  # nothing to add
    assert keeps.count() == 3 and keeps.currentText() == "老类别"


def test_dates_keep_what_they_show_for_none(form):
    form.binder.fill(Record())
    form.binder.fill({"served_on": None, "visited_at": None})
    assert form.binder.values()["served_on"] == date(2026, 11, 24)
    assert form.binder.values()["visited_at"] == datetime(2026, 11, 24, 9, 30)


def test_fill_takes_overrides_and_keeps_fields_the_source_lacks(form):
    form.name.setText("手填")
    form.binder.fill({"kind": "个人"}, notes="改过")
    assert form.name.text() == "手填"  # the source has no name: kept
    assert form.kind.currentText() == "个人" and form.notes.toPlainText() == "改过"
    form.binder.fill(Record(), name="覆盖")
    assert form.name.text() == "覆盖"


def test_changed_since_snapshot(form):
    form.binder.fill(Record())
    form.binder.snapshot()
    assert form.binder.changed() == ()
    form.notes.setPlainText("新的备注")
    form.signed.setChecked(False)
    form.region.setEditText("滨江区")
    assert form.binder.changed() == ("notes", "region", "signed")  # in layout order
    form.notes.setPlainText("第一行\n第二行")
    form.signed.setChecked(True)
    form.region.setEditText("西湖区")
    assert form.binder.changed() == ()  # changed back: nothing to lose
    form.quantity.setValue(4)
    form.binder.snapshot()
    assert form.binder.changed() == ()


def test_widget_for_a_field_name_and_marking(form):
    assert form.binder.widget("owner_id") is form.owner
    assert form.binder.widget("contacts[0].mobile") is form.contacts
    assert form.binder.widget("nothing") is None
    widgets = form.binder.widgets()
    assert list(widgets)[:3] == ["name", "phone", "birthday"] and widgets["contacts"] is form.contacts
    exc = ValidationError(
        [FieldError("kind", "类型", "应为 单位/个人"), FieldError("contacts[0].mobile", "手机", "太短")]
    )
    first = mark_fields(widgets, exc)
    assert first is form.kind
    assert form.kind.styleSheet() == ERROR_STYLE and form.contacts.styleSheet() == ERROR_STYLE
    assert form.name.styleSheet() == ""


def test_a_widget_showing_two_fields_stays_marked_when_either_is_refused(qtbot):
    """The intake's 严重程度 box also marks the 处理人 it decides (``handler_id`` after ``severity``): a refusal
    of the first field alone must not be cleared by the second, unrefused one."""
    severity, other = QLineEdit(), QLineEdit()
    qtbot.addWidget(severity)
    qtbot.addWidget(other)
    widgets = {"severity": severity, "other": other, "handler_id": severity}
    first = mark_fields(widgets, ValidationError([FieldError("severity", "严重程度", "请选择")]))
    assert first is severity and severity.styleSheet() == ERROR_STYLE and other.styleSheet() == ""
    assert severity.toolTip() == "请选择"
    both = [FieldError("severity", "严重程度", "请选择"), FieldError("handler_id", "处理人", "无人可派")]
    mark_fields(widgets, ValidationError(both))
    assert severity.toolTip() == "请选择；无人可派"
    assert mark_fields(widgets, None) is None and severity.styleSheet() == "" and severity.toolTip() == ""


def test_a_field_is_bound_once(qtbot):
    edit = QLineEdit()
    qtbot.addWidget(edit)
    with pytest.raises(ValueError, match="bound twice"):
        Binder([line("name", edit), Binding("name", edit)])


# --- the customer editor on the binder -------------------------------------------------------------------
@pytest.fixture
def customer(ctx, clerk):
    c = ctx.as_user(clerk)
    made = customer_service.register_customer(
        c,
        CustomerDraft(
            name="杭州明达贸易公司",
            address="杭州市文三路 1 号",
            region="西湖区",
            birthday="1980-05-20",
            notes="老客户",
            contacts=(ContactDraft(name="刘经理", mobile="13912345678", is_primary=True),),
        ),
    )
    return c, made


def test_customer_opened_and_saved_without_edits_reports_no_changes(qtbot, customer, monkeypatch):
    c, made = customer
    dialog = CustomerDialog(c, made.id)
    qtbot.addWidget(dialog)
    assert dialog.edited_fields() == () and not dialog.has_edits()
    sent: list[CustomerDraft] = []
    real = customer_service.update_customer

    def update(ctx, customer_id, draft, *args, **kwargs):
        sent.append(draft)
        return real(ctx, customer_id, draft, *args, **kwargs)

    monkeypatch.setattr(customer_service, "update_customer", update)
    dialog.save()
    assert dialog.saved is not None and dialog.changed
    draft = sent[0]
    assert (draft.name, draft.address, draft.region, draft.birthday, draft.notes, draft.owner_id) == (
        "杭州明达贸易公司",
        "杭州市文三路 1 号",
        "西湖区",
        "1980-05-20",
        "老客户",
        c.user.id,
    )
    assert [h.action for h in customer_service.history(c, made.id)].count("修改客户") == 0


def test_customer_edit_of_one_field_is_reported(qtbot, customer):
    c, made = customer
    dialog = CustomerDialog(c, made.id)
    qtbot.addWidget(dialog)
    dialog.industry.setText("纺织")
    assert dialog.edited_fields() == ("industry",) and dialog.has_edits()
    dialog.contacts.item(0, 4).setText("采购经理")
    assert dialog.edited_fields() == ("industry", "contacts")
    dialog.save()
    assert dialog.saved is not None and dialog.saved.industry == "纺织"
    reopened = CustomerDialog(c, made.id)
    qtbot.addWidget(reopened)
    assert reopened.edited_fields() == ()
