"""Form building blocks: several fields on one form row; the optional date of a filter (不限)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QComboBox, QDateEdit, QHBoxLayout, QLabel, QWidget

Part = QWidget | str | tuple[QWidget, int]


def fit_popup(combo: QComboBox) -> QComboBox:
    """The box as wide as its longest choice, and its popup list never narrower than that (a narrow combo in
    a form row otherwise opens a list that cuts "很不满意" short). Call after the items are added."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    view = combo.view()
    view.setMinimumWidth(view.sizeHintForColumn(0) + view.verticalScrollBar().sizeHint().width()
                         + 2 * view.frameWidth())
    return combo


def form_row(*parts: Part, stretch: bool = False) -> QHBoxLayout:
    """A row of ``parts``: a widget, a label's (already translated) text, or ``(widget, stretch factor)``;
    ``stretch``: empty space at the end keeps the fields at their natural width. Choice boxes get
    :func:`fit_popup`."""
    row = QHBoxLayout()
    for part in parts:
        if isinstance(part, str):
            row.addWidget(QLabel(part))
            continue
        widget = part[0] if isinstance(part, tuple) else part
        if isinstance(widget, QComboBox):
            fit_popup(widget)
        if isinstance(part, tuple):
            row.addWidget(*part)
        else:
            row.addWidget(part)
    if stretch:
        row.addStretch(1)
    return row


class OptionalDateEdit(QDateEdit):
    """A filter's date that may be left open: its lowest date shows as 不限 and reads as None."""

    UNSET = QDate(2000, 1, 1)

    def __init__(self, name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(self.UNSET, parent)
        if name:
            self.setObjectName(name)
        self.setMinimumDate(self.UNSET)
        self.setSpecialValueText(self.tr("不限"))
        self.setDisplayFormat("yyyy-MM-dd")
        self.setCalendarPopup(True)

    def day(self) -> date | None:
        return None if self.date() == self.UNSET else self.date().toPython()

    def set_day(self, day: date | None) -> None:
        self.setDate(self.UNSET if day is None else QDate(day.year, day.month, day.day))


__all__ = ["OptionalDateEdit", "form_row"]
