"""The form for one visit rule (every field of :class:`~huifang_desktop.domain.schedule.VisitRule`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.schedule import ASSIGNEE_LABELS, TRIGGER_LABELS, UNIT_LABELS, Anchor, Unit
from huifang_desktop.domain.visits import VisitMethod, VisitType
from huifang_desktop.ui.settings.page import fill_combo, select_data, set_widgets_read_only, watch
from huifang_desktop.ui.settings.rule_model import ANCHOR_LABELS

_OFFSET = 3650  # spin box range for window offsets (days are the longest unit in practice)


def spin(minimum: int, maximum: int, suffix: str = "", special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    if suffix:
        box.setSuffix(suffix)
    if special:
        box.setSpecialValueText(special)
    return box


def method_combo() -> QComboBox:
    return fill_combo(QComboBox(), ((m.value, m.value) for m in VisitMethod))


def type_combo() -> QComboBox:
    return fill_combo(QComboBox(), ((t.value, t.value) for t in VisitType))


def unit_combo(units: Sequence[Unit] = tuple(Unit)) -> QComboBox:
    return fill_combo(QComboBox(), ((UNIT_LABELS[u], u.value) for u in units))


def percent(value: Any) -> int:
    try:
        return round(float(value) * 100)
    except (TypeError, ValueError):
        return 0


def rate_from_percent(shown: int, original: Any) -> Any:
    """The rate for a percentage box: the stored value when the box still shows it (no rounding drift)."""
    return original if percent(original) == shown else shown / 100


class WindowRow(QWidget):
    """One (earliest, due, unit) window: ``从 [1] 至 [5] [天]``, with an optional 删除 button."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, removable: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.earliest = spin(-_OFFSET, _OFFSET)
        self.due = spin(-_OFFSET, _OFFSET)
        self.unit = unit_combo()
        self.earliest.setToolTip(self.tr("最早可回访：起算日期后多少（负数为之前）"))
        self.due.setToolTip(self.tr("最迟应回访（到期）：起算日期后多少（负数为之前）"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(self.tr("从")))
        layout.addWidget(self.earliest)
        layout.addWidget(QLabel(self.tr("至")))
        layout.addWidget(self.due)
        layout.addWidget(self.unit)
        self.remove_button: QPushButton | None = None
        if removable:
            self.remove_button = QPushButton(self.tr("删除"))
            self.remove_button.setAutoDefault(False)
            self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))
            layout.addWidget(self.remove_button)
        layout.addStretch(1)
        watch((self.earliest, self.due, self.unit), self.changed.emit)

    def set_value(self, window: Mapping[str, Any]) -> None:
        for w in (self.earliest, self.due, self.unit):
            w.blockSignals(True)
        self.earliest.setValue(int(window.get("earliest", 0)))
        self.due.setValue(int(window.get("due", 0)))
        select_data(self.unit, str(window.get("unit", Unit.DAY.value)))
        for w in (self.earliest, self.due, self.unit):
            w.blockSignals(False)

    def value(self) -> dict[str, Any]:
        return {"earliest": self.earliest.value(), "due": self.due.value(), "unit": self.unit.currentData()}


class WindowsEditor(QWidget):
    """The windows of a rule: one per visit of a fixed series (months 1, 3 and 6), add and remove."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("windows")
        self.rows: list[WindowRow] = []
        self.read_only = False
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(2)
        self.add_button = QPushButton(self.tr("添加时限"))
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self._add_clicked)
        add_line = QHBoxLayout()
        add_line.addWidget(self.add_button)
        add_line.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.rows_layout)
        layout.addLayout(add_line)

    def _add_row(self, window: Mapping[str, Any]) -> WindowRow:
        row = WindowRow()
        row.set_value(window)
        row.changed.connect(self.changed.emit)
        row.remove_requested.connect(self._remove)
        if self.read_only:
            set_widgets_read_only(row, True)
        self.rows.append(row)
        self.rows_layout.addWidget(row)
        return row

    def _add_clicked(self) -> None:
        last = self.rows[-1].value() if self.rows else {"earliest": 0, "due": 1, "unit": Unit.MONTH.value}
        self._add_row(last).due.setFocus()
        self.changed.emit()

    def _remove(self, row: WindowRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.changed.emit()

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        set_widgets_read_only(self, read_only)

    def set_windows(self, windows: Sequence[Mapping[str, Any]]) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        for w in windows:
            self._add_row(w)

    def windows(self) -> list[dict[str, Any]]:
        return [row.value() for row in self.rows]


class RuleEditor(QWidget):
    """Edits one rule held as a plain dict (:meth:`VisitRule.to_dict`); ``changed`` on every user edit.

    The rule's key is neither edited (plans already made carry it in their keys) nor shown: an internal name
    such as ``delivery_arrival`` means nothing to the office; it is in the 规则名称 label's tooltip only.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._original: dict[str, Any] = {}
        self._loading = False

        self._build_fields()
        self._lay_out()
        self._connect()

    def _build_fields(self) -> None:
        self.name = QLineEdit()
        self.name.setObjectName("rule_name")
        self.trigger = fill_combo(QComboBox(), ((label, k.value) for k, label in TRIGGER_LABELS.items()))
        self.visit_type = type_combo()
        self.method = method_combo()
        self.who = fill_combo(QComboBox(), ((label, who.value) for who, label in ASSIGNEE_LABELS.items()))
        self.enabled = QCheckBox(self.tr("启用此规则"))
        self.shift = QCheckBox(self.tr("到期日遇节假日顺延到下一个工作日"))

        self.windows = WindowsEditor()
        self.anchor = fill_combo(QComboBox(), ((label, a.value) for a, label in ANCHOR_LABELS.items()))
        self.fallback_months = spin(0, 600, self.tr(" 个月"), self.tr("不安排回访"))
        self.fallback_months.setToolTip(self.tr("记录里没有起算日期（或截止日期）时，按触发后多少个月推算"))
        self.repeat_every = spin(0, 1000, "", self.tr("不重复"))
        self.repeat_every.setMinimumWidth(90)
        self.repeat_unit = unit_combo((Unit.DAY, Unit.WEEK, Unit.MONTH, Unit.YEAR))
        self.until = fill_combo(
            QComboBox(),
            [(self.tr("不限（到计划范围为止）"), "")]
            + [(label, a.value) for a, label in ANCHOR_LABELS.items() if a is not Anchor.DAY],
        )

        self.sample_rate = spin(0, 999, " %")
        self.target_rate = spin(0, 999, " %")
        self.min_units = spin(0, 10_000_000, "", self.tr("不限"))
        self.below_units = spin(0, 10_000_000, "", self.tr("不限"))

    def _lay_out(self) -> None:
        """Three columns: what and who, when (and how often), how many."""
        left = QFormLayout()
        self.name_label = QLabel(self.tr("规则名称"))  # its tooltip names the internal key
        self.name_label.setBuddy(self.name)
        left.addRow(self.name_label, self.name)
        left.addRow(self.tr("触发事件"), self.trigger)
        left.addRow(self.tr("回访类型"), self.visit_type)
        left.addRow(self.tr("回访方式"), self.method)
        left.addRow(self.tr("回访人"), self.who)

        middle = QFormLayout()
        middle.addRow(self.tr("起算日期"), self.anchor)
        middle.addRow(self.tr("回访时限"), self.windows)
        repeat = QHBoxLayout()
        repeat.addWidget(QLabel(self.tr("每")))
        repeat.addWidget(self.repeat_every)
        repeat.addWidget(self.repeat_unit)
        repeat.addStretch(1)
        middle.addRow(self.tr("重复"), repeat)
        middle.addRow(self.tr("重复截止"), self.until)
        middle.addRow(self.tr("无日期时推算"), self.fallback_months)

        right = QFormLayout()
        right.addRow(self.tr("抽样比例"), self.sample_rate)
        right.addRow(self.tr("目标回访率"), self.target_rate)
        right.addRow(self.tr("数量不少于"), self.min_units)
        right.addRow(self.tr("数量少于"), self.below_units)
        right.addRow(self.enabled)
        right.addRow(self.shift)

        for form in (left, middle, right):
            form.setVerticalSpacing(6)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 5)
        layout.addSpacing(12)
        layout.addLayout(middle, 5)
        layout.addSpacing(12)
        layout.addLayout(right, 3)

    def _connect(self) -> None:
        watch(
            (
                self.name,
                self.trigger,
                self.visit_type,
                self.method,
                self.who,
                self.enabled,
                self.shift,
                self.anchor,
                self.fallback_months,
                self.repeat_every,
                self.repeat_unit,
                self.until,
                self.sample_rate,
                self.target_rate,
                self.min_units,
                self.below_units,
            ),
            self._edited,
        )
        self.windows.changed.connect(self._edited)

    def _edited(self) -> None:
        if not self._loading:
            self.changed.emit()

    def field_widgets(self) -> dict[str, QWidget]:
        """Error field names (``rule.<VisitRule field>``) → widgets."""
        return {
            f"rule.{name}": w
            for name, w in (
                ("name", self.name),
                ("trigger", self.trigger),
                ("visit_type", self.visit_type),
                ("method", self.method),
                ("who", self.who),
                ("windows", self.windows),
                ("anchor", self.anchor),
                ("fallback_months", self.fallback_months),
                ("repeat_every", self.repeat_every),
                ("repeat_unit", self.repeat_unit),
                ("until", self.until),
                ("sample_rate", self.sample_rate),
                ("target_rate", self.target_rate),
                ("min_units", self.min_units),
                ("below_units", self.below_units),
            )
        }

    def set_rule(self, rule: Mapping[str, Any]) -> None:
        self._loading = True
        try:
            self._original = dict(rule)
            key = str(rule.get("key", ""))
            self.name_label.setToolTip(
                self.tr("内部规则编号：{0}（已生成的回访计划按它识别规则，不能修改）").format(key)
                if key
                else ""
            )
            self.name.setText(str(rule.get("name", "")))
            select_data(self.trigger, rule.get("trigger"))
            select_data(self.visit_type, rule.get("visit_type"))
            select_data(self.method, rule.get("method", VisitMethod.PHONE.value))
            select_data(self.who, rule.get("who"))
            self.enabled.setChecked(bool(rule.get("enabled", True)))
            self.shift.setChecked(bool(rule.get("shift_to_workday", True)))
            self.windows.set_windows(rule.get("windows", ()))
            select_data(self.anchor, rule.get("anchor", Anchor.DAY.value))
            self.fallback_months.setValue(int(rule.get("fallback_months") or 0))
            self.repeat_every.setValue(int(rule.get("repeat_every") or 0))
            select_data(self.repeat_unit, rule.get("repeat_unit", Unit.MONTH.value))
            select_data(self.until, rule.get("until") or "")
            self.sample_rate.setValue(percent(rule.get("sample_rate", 1.0)))
            self.target_rate.setValue(percent(rule.get("target_rate", 1.0)))
            self.min_units.setValue(int(rule.get("min_units") or 0))
            self.below_units.setValue(int(rule.get("below_units") or 0))
        finally:
            self._loading = False

    def rule_key(self) -> str:
        """The internal key of the rule being edited (not shown; in the 规则名称 label's tooltip)."""
        return str(self._original.get("key", ""))

    def set_enabled_quietly(self, enabled: bool) -> None:
        """Follow the 启用 box of the table without reporting an edit."""
        self._loading = True
        self.enabled.setChecked(enabled)
        self._original["enabled"] = enabled
        self._loading = False

    def rule_dict(self) -> dict[str, Any]:
        """The rule as the widgets show it (a plain dict; checked when the page collects the rules)."""
        rule = dict(self._original)
        rule.update(
            name=self.name.text().strip(),
            trigger=self.trigger.currentData(),
            visit_type=self.visit_type.currentData(),
            method=self.method.currentData(),
            who=self.who.currentData(),
            enabled=self.enabled.isChecked(),
            shift_to_workday=self.shift.isChecked(),
            windows=self.windows.windows(),
            anchor=self.anchor.currentData(),
            fallback_months=self.fallback_months.value(),
            repeat_every=self.repeat_every.value(),
            repeat_unit=self.repeat_unit.currentData(),
            until=self.until.currentData() or None,
            sample_rate=rate_from_percent(self.sample_rate.value(), self._original.get("sample_rate", 1.0)),
            target_rate=rate_from_percent(self.target_rate.value(), self._original.get("target_rate", 1.0)),
            min_units=self.min_units.value() or None,
            below_units=self.below_units.value() or None,
        )
        return rule
