"""考核规则: the office's assessment table (domain.md §9) — per kind of event: on or off, 元 per event,
performance points, and how much a repeat within the month costs — and the month's 台账上交 deadline.

A manager's decision (:func:`services.stats.save_assessment_rules` refuses anyone else): for other users the
page is shown read-only with a note saying so. What is not in the table here (which visit rules count as
例行回访, which triggers as 交货, whose events are assessed) is kept as stored.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.stats import AssessmentRule, AssessmentRules, EventKind
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.stats import load_assessment_rules, save_assessment_rules
from huifang_desktop.ui.common.i18n import translated
from huifang_desktop.ui.settings.page import SettingsPage, set_widgets_read_only, watch


def _spin(maximum: int, suffix: str, minimum: int = 0) -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setSuffix(suffix)
    box.setMinimumWidth(100)
    return box


class AssessmentPage(SettingsPage):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.baseline = AssessmentRules()
        self.may_edit = ctx.may(Permission.CONFIRM_ASSESSMENT)
        self.rows: dict[EventKind, tuple[QCheckBox, QSpinBox, QSpinBox, QSpinBox]] = {}
        grid = QGridLayout()
        for col, text in enumerate((self.tr("考核事项"), self.tr("金额（每次）"), self.tr("绩效分（每次）"),
                                    self.tr("月内重复时"))):
            grid.addWidget(QLabel(f"<b>{text}</b>"), 0, col)
        for row, kind in enumerate(EventKind, start=1):
            enabled = QCheckBox(translated("Assessment", kind.value))
            enabled.setObjectName(f"{kind.key}.enabled")
            amount = _spin(100_000, self.tr(" 元"))
            amount.setObjectName(f"{kind.key}.amount")
            points = _spin(1_000, self.tr(" 分"))
            points.setObjectName(f"{kind.key}.points")
            multiplier = _spin(10, self.tr(" 倍"), minimum=1)
            multiplier.setObjectName(f"{kind.key}.repeat_multiplier")
            multiplier.setToolTip(self.tr("1 倍：每次相同；2 倍：同月第二次起加倍"))
            for col, w in enumerate((enabled, amount, points, multiplier)):
                grid.addWidget(w, row, col)
            enabled.toggled.connect(lambda on, ws=(amount, points, multiplier): [w.setEnabled(on) for w in ws])
            self.rows[kind] = (enabled, amount, points, multiplier)
            watch((enabled, amount, points, multiplier), self.content_changed.emit)
        self.monthly_due = _spin(20, self.tr(" 个工作日"), minimum=0)
        self.monthly_due.setObjectName("monthly_due_workdays")
        watch((self.monthly_due,), self.content_changed.emit)
        due_row = QGridLayout()
        due_row.addWidget(QLabel(self.tr("月度回访台账须在月末后")), 0, 0)
        due_row.addWidget(self.monthly_due, 0, 1)
        due_row.addWidget(QLabel(self.tr("内上交（否则计“月度台账未上交”）")), 0, 2)
        due_row.setColumnStretch(3, 1)
        self.note = QLabel(self.tr("考核规则只能由公司经理修改；您可以查看。"))
        self.note.setStyleSheet("background: #e6f4ff; border: 1px solid #91caff; padding: 6px;")
        self.note.setVisible(not self.may_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("每月按下表为每位客服专员计考核事项；经理在“统计”标签页确认当月考核后，"
                                        "该月按确认时的规则锁定。")))
        layout.addWidget(self.note)
        layout.addLayout(grid)
        layout.addLayout(due_row)
        layout.addStretch(1)

    def load(self) -> None:
        self.baseline = load_assessment_rules(self.ctx)
        for kind, (enabled, amount, points, multiplier) in self.rows.items():
            rule = self.baseline.rule(kind)
            for w in (enabled, amount, points, multiplier):
                w.blockSignals(True)
            enabled.setChecked(rule.enabled)
            amount.setValue(rule.amount)
            points.setValue(rule.points)
            multiplier.setValue(rule.repeat_multiplier)
            for w in (enabled, amount, points, multiplier):
                w.blockSignals(False)
            for w in (amount, points, multiplier):
                w.setEnabled(rule.enabled and self.may_edit)
        self.monthly_due.setValue(self.baseline.monthly_due_workdays)
        if not self.may_edit:
            set_widgets_read_only(self, True)

    def collect(self) -> AssessmentRules:
        rules = tuple(AssessmentRule(kind, amount=amount.value(), points=points.value(),
                                     repeat_multiplier=multiplier.value(), enabled=enabled.isChecked())
                      for kind, (enabled, amount, points, multiplier) in self.rows.items())
        return replace(self.baseline, rules=rules, monthly_due_workdays=self.monthly_due.value())

    def save(self) -> bool:
        if not self.may_edit:
            return False
        value = self.collect()
        if value.to_dict() == self.baseline.to_dict():
            return False
        save_assessment_rules(self.ctx, value)
        self.baseline = value
        return True

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only or not self.may_edit)

    def field_widgets(self) -> dict[str, QWidget]:
        out: dict[str, QWidget] = {"monthly_due_workdays": self.monthly_due}
        for enabled, amount, points, multiplier in self.rows.values():
            out.update({"amount": amount, "points": points, "repeat_multiplier": multiplier, "enabled": enabled})
        return out


__all__ = ["AssessmentPage"]
