"""计入哪些计划 (issue 19 item 1, *001 §3.2*): which visit types complete a routine or technical plan — one row
per visit type, a tick per periodic plan. By default only 例行 completes a routine plan and 技术 the A-class
technical plan; greetings, reminders and SMS never do. Part of 设置 → 回访规则
(:attr:`~huifang_desktop.domain.schedule.RuleSet.satisfies`)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from huifang_desktop.domain.visits import VisitType

PLAN_KEYS = ("routine", "technical")  # the periodic plans a visit type may complete, one column each


class SatisfiesEditor(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.types = tuple(t.value for t in VisitType)
        self.table = QTableWidget(len(self.types), 1 + len(PLAN_KEYS))
        self.table.setObjectName("satisfies")
        self.table.setHorizontalHeaderLabels(
            [self.tr("回访类型"), self.tr("算作完成例行回访计划"), self.tr("算作完成技术回访计划")]
        )
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(False)
        for row, vtype in enumerate(self.types):
            name = QTableWidgetItem(vtype)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(row, 0, name)
            for col in range(1, 1 + len(PLAN_KEYS)):
                tick = QTableWidgetItem()
                tick.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                tick.setCheckState(Qt.CheckState.Unchecked)
                self.table.setItem(row, col, tick)
        self.table.itemChanged.connect(lambda _item: self.changed.emit())
        hint = QLabel(
            self.tr(
                "一次成功的回访完成哪些定期计划，并从这次回访起重新计算下一次。按回访制度（001 §3.2），只有例行回访算作"
                "完成例行回访计划，技术回访算作完成 A 类的技术回访计划；生日、节日问候、短信和首保/年检/续保提醒都不算，"
                "例行回访计划到期未做照常考核。其他回访只完成登记时所对应的那一项计划。"
            )
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666;")
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)

    def checkbox(self, vtype: str, plan_key: str) -> QTableWidgetItem:
        item = self.table.item(self.types.index(vtype), 1 + PLAN_KEYS.index(plan_key))
        assert item is not None
        return item

    def set_value(self, satisfies: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
        chosen = dict(satisfies)
        self.table.blockSignals(True)
        for vtype in self.types:
            for key in PLAN_KEYS:
                on = key in chosen.get(vtype, ())
                self.checkbox(vtype, key).setCheckState(
                    Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
                )
        self.table.blockSignals(False)

    def value(self) -> dict[str, list[str]]:
        """Visit type → the plans it completes (types completing none are left out), as ``RuleSet.to_dict``."""
        out: dict[str, list[str]] = {}
        for vtype in self.types:
            keys = [k for k in PLAN_KEYS if self.checkbox(vtype, k).checkState() == Qt.CheckState.Checked]
            if keys:
                out[vtype] = keys
        return out

    def set_read_only(self, read_only: bool) -> None:
        flags = Qt.ItemFlag.ItemIsEnabled | (
            Qt.ItemFlag.NoItemFlags if read_only else Qt.ItemFlag.ItemIsUserCheckable
        )
        for vtype in self.types:
            for key in PLAN_KEYS:
                self.checkbox(vtype, key).setFlags(flags)


__all__ = ["PLAN_KEYS", "SatisfiesEditor"]
