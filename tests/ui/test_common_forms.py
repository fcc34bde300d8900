"""pytest-qt tests of the shared form blocks: the optional filter date and the form row."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from huifang_desktop.ui.common.forms import OptionalDateEdit, form_row


def test_optional_date_reads_none_until_set_and_shows_unlimited(qtbot):
    edit = OptionalDateEdit("startFilter")
    qtbot.addWidget(edit)
    assert edit.objectName() == "startFilter"
    assert edit.day() is None and edit.text() == "不限"
    edit.set_day(date(2026, 11, 24))
    assert edit.day() == date(2026, 11, 24) and edit.text() == "2026-11-24"
    edit.setDate(edit.minimumDate())  # the user scrolls back to the start
    assert edit.day() is None
    edit.set_day(None)
    assert edit.day() is None


def test_form_row_puts_labels_between_the_fields(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    a, b = QLineEdit(), QLineEdit()
    row = form_row((a, 2), "电话", b, stretch=True)
    host.setLayout(row)
    widgets = [row.itemAt(i).widget() for i in range(row.count())]
    assert widgets[0] is a and isinstance(widgets[1], QLabel) and widgets[1].text() == "电话"
    assert widgets[2] is b and widgets[3] is None  # the stretch at the end
    assert row.stretch(0) == 2
