"""The table of event-triggered visit rules (回访规则) being edited, and how a rule's windows read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from huifang_desktop.domain.schedule import (
    ANCHOR_LABELS,
    ASSIGNEE_LABELS,
    TRIGGER_LABELS,
    UNIT_LABELS,
    Anchor,
    Assignee,
    TriggerKind,
    Unit,
)
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated

_Index = QModelIndex | QPersistentModelIndex


def _label(mapping: Mapping[Any, str], enum: type, value: Any) -> str:
    try:
        return mapping[enum(value)]
    except (ValueError, KeyError):
        return str(value)


def _num(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def describe_window(window: Mapping[str, Any], anchor: str = Anchor.DAY.value) -> str:
    """One window in words: ``1–5 天``, ``1 个月内``, ``首保日期前 14–7 天``, ``客户生日前 3 天至当天``."""
    e, d = _num(window.get("earliest")), _num(window.get("due"))
    unit = _label(UNIT_LABELS, Unit, window.get("unit", Unit.DAY.value))
    if e is None or d is None:
        return f"{window.get('earliest')}–{window.get('due')} {unit}"
    on_day = anchor == Anchor.DAY.value
    base = _label(ANCHOR_LABELS, Anchor, anchor)
    if e >= 0:
        if on_day and e == 0:
            return f"{d} {unit}内"
        span = f"{e} {unit}" if e == d else f"{e}–{d} {unit}"
        return span if on_day else f"{base}后 {span}"
    if d < 0:
        span = f"{-e} {unit}" if e == d else f"{-e}–{-d} {unit}"
        return f"{base}前 {span}"
    if d == 0:
        return f"{base}前 {-e} {unit}至当天"
    return f"{base}前 {-e} {unit}至后 {d} {unit}"


def describe_windows(rule: Mapping[str, Any]) -> str:
    """All windows of a rule (as a plain dict), with its repetition: ``1 个月，每 1 个月重复，至质保到期日``."""
    anchor = str(rule.get("anchor") or Anchor.DAY.value)
    text = "；".join(describe_window(w, anchor) for w in rule.get("windows", ()))
    every = _num(rule.get("repeat_every")) or 0
    if every > 0:
        text += f"，每 {every} {_label(UNIT_LABELS, Unit, rule.get('repeat_unit', Unit.MONTH.value))}重复"
        if rule.get("until"):
            text += f"，至{_label(ANCHOR_LABELS, Anchor, rule['until'])}"
    return text


def format_rate(value: Any) -> str:
    try:
        return f"{float(value) * 100:g} %"
    except (TypeError, ValueError):
        return str(value)


class RuleTableModel(QAbstractTableModel):
    """The office's rules as plain dicts (:meth:`VisitRule.to_dict`), so a half-edited rule can be shown.

    Validation happens when the page collects the rules (``VisitRule.from_dict``), not here.
    """

    COL_ENABLED, COL_NAME, COL_TRIGGER, COL_WINDOWS, COL_METHOD, COL_TYPE, COL_WHO, COL_SAMPLE, COL_TARGET = (
        range(9)
    )
    HEADERS = (
        QT_TRANSLATE_NOOP("Column", "启用"),
        QT_TRANSLATE_NOOP("Column", "规则名称"),
        QT_TRANSLATE_NOOP("Column", "触发事件"),
        QT_TRANSLATE_NOOP("Column", "回访时限"),
        QT_TRANSLATE_NOOP("Column", "回访方式"),
        QT_TRANSLATE_NOOP("Column", "回访类型"),
        QT_TRANSLATE_NOOP("Column", "回访人"),
        QT_TRANSLATE_NOOP("Column", "抽样比例"),
        QT_TRANSLATE_NOOP("Column", "目标回访率"),
    )
    KeyRole = Qt.ItemDataRole.UserRole + 1

    #: (row, enabled) when the 启用 box in the table was ticked or cleared
    enabled_toggled = Signal(int, bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self.read_only = False

    # --- the rows ----------------------------------------------------------------------------------------
    def set_rules(self, rules: Sequence[Mapping[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = [dict(r) for r in rules]
        self.endResetModel()

    def rules(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows]

    def rule_at(self, row: int) -> dict[str, Any]:
        return dict(self._rows[row])

    def row_of(self, key: str) -> int:
        for row, r in enumerate(self._rows):
            if r.get("key") == key:
                return row
        return -1

    def update_rule(self, row: int, rule: Mapping[str, Any]) -> None:
        self._rows[row] = dict(rule)
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    def insert_rule(self, row: int, rule: Mapping[str, Any]) -> None:
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, dict(rule))
        self.endInsertRows()

    def remove_rule(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self.endRemoveRows()

    # --- Qt model ----------------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.HEADERS)
        ):
            return translated("Column", self.HEADERS[section])
        return None

    def _text(self, rule: Mapping[str, Any], col: int) -> str:
        if col == self.COL_NAME:
            return str(rule.get("name", ""))
        if col == self.COL_TRIGGER:
            return _label(TRIGGER_LABELS, TriggerKind, rule.get("trigger"))
        if col == self.COL_WINDOWS:
            return describe_windows(rule)
        if col == self.COL_METHOD:
            return str(rule.get("method", ""))
        if col == self.COL_TYPE:
            return str(rule.get("visit_type", ""))
        if col == self.COL_WHO:
            return _label(ASSIGNEE_LABELS, Assignee, rule.get("who"))
        if col == self.COL_SAMPLE:
            return format_rate(rule.get("sample_rate", 1.0))
        if col == self.COL_TARGET:
            return format_rate(rule.get("target_rate", 1.0))
        return ""

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        rule = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(rule, col)
        if role == Qt.ItemDataRole.CheckStateRole and col == self.COL_ENABLED:
            return Qt.CheckState.Checked if rule.get("enabled", True) else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole and col in (self.COL_NAME, self.COL_WINDOWS):
            return self._text(rule, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.COL_SAMPLE, self.COL_TARGET):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and not rule.get("enabled", True):
            return QColor("#888888")  # a switched-off rule reads grey
        if role == self.KeyRole:
            return rule.get("key")
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == self.COL_ENABLED and not self.read_only:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (
            role != Qt.ItemDataRole.CheckStateRole
            or not index.isValid()
            or self.read_only
            or index.column() != self.COL_ENABLED
        ):
            return False
        enabled = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
        self._rows[index.row()]["enabled"] = enabled
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), self.columnCount() - 1))
        self.enabled_toggled.emit(index.row(), enabled)
        return True
