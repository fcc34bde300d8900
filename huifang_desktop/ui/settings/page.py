"""The contract of one Settings page and small widgets the pages share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.errors import FieldError, ValidationError


class SettingsPage(QWidget):
    """One page of :class:`~huifang_desktop.ui.settings.dialog.SettingsDialog`.

    A page edits a working copy of some settings and writes them only when asked:

    * :meth:`load` reads the stored values through the services and fills the widgets (also the
      baseline :meth:`save` compares with);
    * :meth:`collect` turns the widgets into the value to store, raising the domain's
      :class:`ValidationError` (fields named as in :meth:`field_widgets`) and writing nothing;
    * :meth:`save` stores what :meth:`collect` gives through the services when it differs from the
      baseline, and returns whether it wrote anything;
    * :meth:`set_read_only` shows everything but lets nothing be changed (users without the right);
    * :meth:`field_widgets` maps error field names to the widgets to mark.

    A page that only shows information keeps the defaults (nothing to collect or save).
    """

    #: emitted when the user changes something on the page (the dialog enables 应用)
    content_changed = Signal()

    def load(self) -> None:
        """Fill the widgets from the stored settings."""

    def collect(self) -> Any:
        """The value the widgets describe; raises ValidationError naming the field, writes nothing."""
        return None

    def save(self) -> bool:
        """Store the collected value when it changed; True when something was written."""
        return False

    def set_read_only(self, read_only: bool) -> None:
        set_widgets_read_only(self, read_only)

    def field_widgets(self) -> dict[str, QWidget]:
        return {}


def set_widgets_read_only(root: QWidget, read_only: bool) -> None:
    """Make every input below ``root`` read-only (text stays selectable, lists and tabs stay browsable)."""
    for w in root.findChildren(QWidget):
        if isinstance(w, QLineEdit | QPlainTextEdit | QAbstractSpinBox):
            w.setReadOnly(read_only)
            if isinstance(w, QAbstractSpinBox):
                w.setButtonSymbols(
                    QAbstractSpinBox.ButtonSymbols.NoButtons
                    if read_only
                    else QAbstractSpinBox.ButtonSymbols.UpDownArrows
                )
        elif isinstance(w, QComboBox | QCheckBox | QPushButton):
            if w.property("keep_enabled"):
                continue
            w.setEnabled(not read_only)
        elif isinstance(w, QAbstractItemView):
            if read_only and w.property("editable_triggers") is None:
                w.setProperty("editable_triggers", w.editTriggers())
                w.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            elif not read_only and w.property("editable_triggers") is not None:
                w.setEditTriggers(w.property("editable_triggers"))
                w.setProperty("editable_triggers", None)


def reveal(widget: QWidget) -> None:
    """Bring every tab that holds ``widget`` to the front (so a marked field can be seen)."""
    chain: list[QWidget] = []
    node: QWidget | None = widget
    while node is not None:
        chain.append(node)
        node = node.parentWidget()
    for ancestor in chain:
        if isinstance(ancestor, QTabWidget):
            for item in chain:
                index = ancestor.indexOf(item)
                if index >= 0:
                    ancestor.setCurrentIndex(index)
                    break


def select_data(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


def fill_combo(combo: QComboBox, items: Iterable[tuple[str, object]]) -> QComboBox:
    for label, value in items:
        combo.addItem(label, value)
    return combo


class StringListEditor(QWidget):
    """An ordered list of short texts (customer categories, regions…): edit in place, add, remove, move.

    :meth:`values` gives the cleaned entries; blanks are dropped, a repeated entry raises ValidationError
    naming ``field``.
    """

    changed = Signal()

    def __init__(self, field: str, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.label = label
        self.list = QListWidget()
        self.list.setObjectName(field)
        self.list.setMaximumHeight(120)
        self.list.itemChanged.connect(lambda _item: self.changed.emit())
        self.add_button = QPushButton(self.tr("添加"))
        self.remove_button = QPushButton(self.tr("删除"))
        self.up_button = QPushButton(self.tr("上移"))
        self.down_button = QPushButton(self.tr("下移"))
        # clicked(bool) would pass its 'checked' flag as the text
        self.add_button.clicked.connect(lambda: self.add_entry())
        self.remove_button.clicked.connect(self.remove_current)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        buttons = QVBoxLayout()
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            b.setAutoDefault(False)
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def _item(self, text: str) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        return item

    def set_read_only(self, read_only: bool) -> None:
        set_widgets_read_only(self, read_only)
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            b.setVisible(not read_only)

    def set_values(self, values: Sequence[str]) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for v in values:
            self.list.addItem(self._item(v))
        self.list.blockSignals(False)

    def add_entry(self, text: str = "") -> None:
        item = self._item(text)
        self.list.addItem(item)
        self.list.setCurrentItem(item)
        if not text:
            self.list.editItem(item)
        self.changed.emit()

    def remove_current(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            self.changed.emit()

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)
        self.changed.emit()

    def values(self) -> tuple[str, ...]:
        out: list[str] = []
        for i in range(self.list.count()):
            text = self.list.item(i).text().strip()
            if not text:
                continue
            if text in out:
                raise ValidationError(FieldError(self.field, self.label, self.tr("“{0}”重复").format(text)))
            out.append(text)
        return tuple(out)


def watch(widgets: Iterable[QWidget], callback: Callable[[], object]) -> None:
    """Call ``callback()`` whenever the user changes one of ``widgets`` (text, number, choice, tick)."""
    for w in widgets:
        if isinstance(w, QLineEdit):
            w.textChanged.connect(lambda *_: callback())
        elif isinstance(w, QSpinBox | QDoubleSpinBox):  # the settings' number fields (no date edits here)
            w.valueChanged.connect(lambda *_: callback())
        elif isinstance(w, QComboBox):
            w.currentIndexChanged.connect(lambda *_: callback())
        elif isinstance(w, QCheckBox):
            w.toggled.connect(lambda *_: callback())
        elif isinstance(w, StringListEditor):
            w.changed.connect(callback)
