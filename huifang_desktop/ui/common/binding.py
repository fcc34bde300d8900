"""Model-to-widget binding for the big forms: each field named once, with its widget and its converters.

A form declares a :class:`Binder` over a list of bindings — ``line("name", self.name)``,
``combo_data("owner_id", self.owner)``, ``line("birthday", self.birthday, to_text=iso_date)`` … — in the
order its widgets are laid out. The binder then

* fills the widgets from any object with those attribute names (a service dataclass: :meth:`Binder.fill`),
* reads them back into a dict keyed by field name, ready for the draft: ``Draft(**binder.values(), …)``,
* tells which fields changed since :meth:`Binder.snapshot` (what 关闭 asks about before discarding),
* gives the widget of a field a refusal names (:meth:`Binder.widget`, :meth:`Binder.widgets` for
  :func:`~huifang_desktop.ui.common.feedback.mark_fields`).

The converters are plain functions: value → text to show (``to_text``), typed text → value (``from_text``).
A binding without ``show`` is not filled (a field shown some other way), one without ``read`` is not read (a
widget that is only marked when the field is refused, e.g. a table of contacts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDoubleSpinBox,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from huifang_desktop.ui.common.forms import picked_date, picked_datetime, qdate, qdatetime


@dataclass(frozen=True, slots=True)
class Binding:
    """One field of a form: its name (as the draft and the refusals name it), the widget that shows it, how
    the widget's value is read (``None``: not read) and how a value is shown in it (``None``: not filled)."""

    name: str
    widget: QWidget
    read: Callable[[], Any] | None = None
    show: Callable[[Any], None] | None = None


# --- converters --------------------------------------------------------------------------------------------
def as_text(value: object) -> str:
    """The default shown text: ``None`` as empty, anything else as ``str`` (a Decimal's digits)."""
    return "" if value is None else str(value)


def iso_date(value: date | str | None) -> str:
    """A day as ``2026-11-24`` (empty for none); text passes through."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else value


def blank_none(text: str) -> str | None:
    """Typed text, an empty field as ``None`` (an optional date the service parses)."""
    return text or None


def _same(text: str) -> str:
    return text


# --- one binding per widget kind --------------------------------------------------------------------------
def line(
    name: str,
    edit: QLineEdit,
    *,
    to_text: Callable[[Any], str] = as_text,
    from_text: Callable[[str], Any] = _same,
) -> Binding:
    """A one-line text field; ``to_text`` / ``from_text`` convert (a date as ISO text, a formatted phone)."""
    return Binding(name, edit, lambda: from_text(edit.text()), lambda value: edit.setText(to_text(value)))


def plain(name: str, box: QPlainTextEdit, *, to_text: Callable[[Any], str] = as_text) -> Binding:
    """A text box of several lines."""
    return Binding(name, box, box.toPlainText, lambda value: box.setPlainText(to_text(value)))


def select_text(combo: QComboBox, text: str, *, add_unknown: bool = False) -> None:
    """Pick ``text`` in ``combo``: an editable box takes any text; ``add_unknown`` adds a value the list no
    longer offers (a value from before the office changed its list); otherwise an unknown text changes
    nothing."""
    at = combo.findText(text)
    if at < 0 and combo.isEditable():
        combo.setEditText(text)
        return
    if at < 0 and add_unknown and text:
        combo.addItem(text)
        at = combo.findText(text)
    if at >= 0:
        combo.setCurrentIndex(at)


def select_data(combo: QComboBox, value: object) -> None:
    """Pick the item whose data is ``value``; an unknown value changes nothing."""
    at = combo.findData(value)
    if at >= 0:
        combo.setCurrentIndex(at)


def combo_text(
    name: str,
    combo: QComboBox,
    *,
    add_unknown: bool = False,
    to_text: Callable[[Any], str] = as_text,
) -> Binding:
    """A choice read and shown by its text (an editable box: whatever is typed); see :func:`select_text`."""
    return Binding(
        name,
        combo,
        combo.currentText,
        lambda value: select_text(combo, to_text(value), add_unknown=add_unknown),
    )


def combo_data(name: str, combo: QComboBox) -> Binding:
    """A choice read and shown by its item data (an id behind a person's name)."""
    return Binding(name, combo, combo.currentData, lambda value: select_data(combo, value))


def check(name: str, box: QCheckBox) -> Binding:
    return Binding(name, box, box.isChecked, lambda value: box.setChecked(bool(value)))


def spin(name: str, box: QSpinBox | QDoubleSpinBox) -> Binding:
    """A number box; a whole-number box takes ``int(value)``, a decimal one ``float(value)``."""
    if isinstance(box, QDoubleSpinBox):
        double = box
        return Binding(name, box, box.value, lambda value: double.setValue(float(value or 0)))
    whole = box
    return Binding(name, box, box.value, lambda value: whole.setValue(int(value or 0)))


def day(name: str, edit: QDateEdit) -> Binding:
    """A date picker, read as a ``date``; ``None`` leaves the shown day as it is."""

    def show(value: date | None) -> None:
        if value is not None:
            edit.setDate(qdate(value))

    return Binding(name, edit, lambda: picked_date(edit), show)


def moment(name: str, edit: QDateTimeEdit) -> Binding:
    """A date-and-time picker, read as a naive ``datetime``; ``None`` leaves it as it is."""

    def show(value: datetime | None) -> None:
        if value is not None:
            edit.setDateTime(qdatetime(value))

    return Binding(name, edit, lambda: picked_datetime(edit), show)


def marks(name: str, widget: QWidget) -> Binding:
    """A widget that is only marked when a refusal names ``name`` (neither filled nor read here)."""
    return Binding(name, widget)


# --- the binder -------------------------------------------------------------------------------------------
_MISSING = object()


class Binder:
    """The bindings of one form, in their layout order (the first refused field in that order gets focus)."""

    def __init__(self, bindings: Iterable[Binding]) -> None:
        self._bindings: dict[str, Binding] = {}
        for b in bindings:
            if b.name in self._bindings:
                raise ValueError(f"field {b.name!r} bound twice")
            self._bindings[b.name] = b
        self._snapshot: dict[str, Any] = {}

    def names(self) -> tuple[str, ...]:
        return tuple(self._bindings)

    def fill(self, source: object, **overrides: Any) -> None:
        """Show ``source``'s attributes (or a mapping's keys) of the bound names; ``overrides`` win. A field
        the source does not have, or a binding without ``show``, keeps what the widget shows."""
        for name, b in self._bindings.items():
            if b.show is None:
                continue
            if name in overrides:
                value = overrides[name]
            elif isinstance(source, Mapping):
                value = source.get(name, _MISSING)
            else:
                value = getattr(source, name, _MISSING)
            if value is not _MISSING:
                b.show(value)

    def values(self) -> dict[str, Any]:
        """What the widgets hold now, by field name (bindings that are read only)."""
        return {name: b.read() for name, b in self._bindings.items() if b.read is not None}

    def snapshot(self) -> None:
        """Remember the values as they are now (after filling): what :meth:`changed` compares with."""
        self._snapshot = self.values()

    def changed(self) -> tuple[str, ...]:
        """The fields whose value differs from the last :meth:`snapshot`, in layout order."""
        now = self.values()
        return tuple(name for name, value in now.items() if self._snapshot.get(name, _MISSING) != value)

    def widget(self, field: str) -> QWidget | None:
        """The widget of a field a refusal names; ``contacts[1].phone`` finds the widget of ``contacts``."""
        b = self._bindings.get(field) or self._bindings.get(field.split("[")[0].split(".")[0])
        return b.widget if b is not None else None

    def widgets(self) -> dict[str, QWidget]:
        """Field name → widget, in layout order (for :func:`~huifang_desktop.ui.common.feedback.mark_fields`)."""
        return {name: b.widget for name, b in self._bindings.items()}


__all__ = [
    "Binder",
    "Binding",
    "as_text",
    "blank_none",
    "check",
    "combo_data",
    "combo_text",
    "day",
    "iso_date",
    "line",
    "marks",
    "moment",
    "plain",
    "select_data",
    "select_text",
    "spin",
]
