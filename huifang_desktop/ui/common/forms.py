"""Form building blocks: several fields on one form row; the optional date of a filter (不限); dates to and
from Qt's date edits."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtWidgets import QComboBox, QDateEdit, QDateTimeEdit, QHBoxLayout, QLabel, QWidget

Part = QWidget | str | tuple[QWidget, int]


def fit_popup(combo: QComboBox) -> QComboBox:
    """The box as wide as its longest choice, and its popup list never narrower than that (a narrow combo in
    a form row otherwise opens a list that cuts "很不满意" short). Call after the items are added."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    view = combo.view()
    view.setMinimumWidth(
        view.sizeHintForColumn(0) + view.verticalScrollBar().sizeHint().width() + 2 * view.frameWidth()
    )
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


def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def qdatetime(at: datetime) -> QDateTime:
    """A naive (local) ``at`` as Qt's local date and time, to the millisecond: what ``QDateTime(at)`` gives,
    spelled so that the type checker sees it (PySide's stubs take no datetime)."""
    return QDateTime(qdate(at), QTime(at.hour, at.minute, at.second, at.microsecond // 1000))


def picked_date(edit: QDateEdit) -> date:
    """The day shown in ``edit`` (``QDate.toPython`` returns a date; the stubs say object)."""
    return cast(date, edit.date().toPython())


def picked_datetime(edit: QDateTimeEdit) -> datetime:
    """The date and time shown in ``edit`` (``QDateTime.toPython`` returns a datetime; the stubs say object)."""
    return cast(datetime, edit.dateTime().toPython())


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
        return None if self.date() == self.UNSET else picked_date(self)

    def set_day(self, day: date | None) -> None:
        self.setDate(self.UNSET if day is None else qdate(day))


__all__ = ["OptionalDateEdit", "form_row", "picked_date", "picked_datetime", "qdate", "qdatetime"]
