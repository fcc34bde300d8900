"""Settings pages built from a table of options instead of one hand-written widget per setting.

An :class:`Option` names a field of a settings dataclass (``key``, also the field name a ValidationError
reports), its label, its kind (text, whole number, yes/no, one of a list), its range and unit, and a help
text. :class:`OptionForm` builds the widgets into a QFormLayout from a sequence of options, fills them from
the settings value (``getattr(settings, key)``) and reads them back as keyword arguments for
``dataclasses.replace``. A page adds an option by adding one line to its table.

The texts are marked ``QT_TRANSLATE_NOOP("Option", …)`` where the table is written and translated when the
widgets are built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from huifang_desktop.ui.common.i18n import translated


class Kind(Enum):
    TEXT = "text"
    NUMBER = "number"
    FLAG = "flag"  # a check box; its text is ``label``, the form row is titled ``row``
    CHOICE = "choice"  # one of ``choices``: (label, stored value)


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    label: str  # QT_TRANSLATE_NOOP("Option", …)
    kind: Kind = Kind.NUMBER
    minimum: int = 0
    maximum: int = 0
    suffix: str = ""  # the unit after a number, QT_TRANSLATE_NOOP("Option", …)
    help: str = ""  # tooltip, QT_TRANSLATE_NOOP("Option", …)
    placeholder: str = ""  # for TEXT, QT_TRANSLATE_NOOP("Option", …)
    max_length: int = 0  # for TEXT; 0: no limit
    row: str = ""  # for FLAG: the form row's title (the box carries ``label``)
    choices: tuple[tuple[str, str], ...] = ()  # for CHOICE: (QT_TRANSLATE_NOOP label, stored value)


def _tr(text: str) -> str:
    return translated("Option", text) if text else ""


def build_widget(option: Option) -> QWidget:
    """The editing widget of one option (named ``option.key``, as the tests and error marks find it)."""
    widget: QWidget
    if option.kind is Kind.TEXT:
        edit = QLineEdit()
        edit.setPlaceholderText(_tr(option.placeholder))
        if option.max_length:
            edit.setMaxLength(option.max_length)
        widget = edit
    elif option.kind is Kind.NUMBER:
        box = QSpinBox()
        box.setRange(option.minimum, option.maximum)
        box.setSuffix(_tr(option.suffix))
        box.setMinimumWidth(110)
        widget = box
    elif option.kind is Kind.FLAG:
        widget = QCheckBox(_tr(option.label))
    else:
        combo = QComboBox()
        for label, value in option.choices:
            combo.addItem(_tr(label), value)
        widget = combo
    widget.setObjectName(option.key)
    if option.help:
        widget.setToolTip(_tr(option.help))
    return widget


def _value(widget: QWidget) -> Any:
    if isinstance(widget, QLineEdit):
        return widget.text().strip()
    if isinstance(widget, QSpinBox):
        return widget.value()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    assert isinstance(widget, QComboBox)
    return widget.currentData()


def _show(widget: QWidget, value: Any) -> None:
    if isinstance(widget, QLineEdit):
        widget.setText(str(value))
    elif isinstance(widget, QSpinBox):
        widget.setValue(int(value))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    else:
        assert isinstance(widget, QComboBox)
        widget.setCurrentIndex(max(widget.findData(value), 0))


class OptionForm:
    """The widgets of ``options``, laid out in ``form`` in table order."""

    def __init__(self, options: Sequence[Option], form: QFormLayout) -> None:
        self.options = tuple(options)
        self.widgets: dict[str, QWidget] = {}
        for option in self.options:
            widget = build_widget(option)
            self.widgets[option.key] = widget
            form.addRow(_tr(option.row if option.kind is Kind.FLAG else option.label), widget)

    def fill(self, settings: Any) -> None:
        for option in self.options:
            _show(self.widgets[option.key], getattr(settings, option.key))

    def values(self) -> dict[str, Any]:
        """The options' values by key, for ``dataclasses.replace(settings, **values)``."""
        return {option.key: _value(self.widgets[option.key]) for option in self.options}
