"""考核规则: the office's assessment table (domain.md §9; *001 §3.1–3.5* by default) — per kind of event: on or
off, 元 per event, performance points, its window and how much a repeat within the month costs — the repeat
doubling of *002 制度1*, the month's 台账上交 day ("每月十日前") and the graded kinds of *002 制度9*.

Declarative: :data:`RULE_COLUMNS` (one spec per column of the per-kind table) and :data:`OPTIONS` (one spec
per office-wide option) build the page, load it and collect it; nothing else names a field.

A manager's decision (:func:`services.stats.save_assessment_rules` refuses anyone else): for other users the
page is shown read-only with a note saying so. What is not shown (which visit rules count as 到货回访, 例行回访
and 终端客户回访, whose events are assessed) is kept as stored. The graded kinds are a table of their own
(:class:`GradedKindsEditor`: add, remove, name, amount range, points).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.assessment_rules import RULED_KINDS, WINDOW_SPECS, GradedKind
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.stats import AssessmentRule, AssessmentRules, EventKind
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.stats import load_assessment_rules, save_assessment_rules
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated
from huifang_desktop.ui.settings.page import SettingsPage, set_widgets_read_only, watch


@dataclass(frozen=True)
class OptionSpec:
    """One field: its key in :class:`AssessmentRule`/:class:`AssessmentRules`, its header or label, and for a
    number its range and suffix (``check``: a check box)."""

    key: str
    label: str
    maximum: int = 0
    suffix: str = ""
    minimum: int = 0
    check: bool = False
    tip: str = ""


RULE_COLUMNS: tuple[OptionSpec, ...] = (
    OptionSpec("enabled", QT_TRANSLATE_NOOP("AssessmentPage", "考核事项"), check=True),
    OptionSpec(
        "amount",
        QT_TRANSLATE_NOOP("AssessmentPage", "金额（每次）"),
        100_000,
        QT_TRANSLATE_NOOP("AssessmentPage", " 元"),
    ),
    OptionSpec(
        "points",
        QT_TRANSLATE_NOOP("AssessmentPage", "绩效分（每次）"),
        1_000,
        QT_TRANSLATE_NOOP("AssessmentPage", " 分"),
    ),
    OptionSpec(
        "window",
        QT_TRANSLATE_NOOP("AssessmentPage", "期限"),
        1_000,
        "",
        tip=QT_TRANSLATE_NOOP("AssessmentPage", "到期后的宽限天数；问题回传为小时；终端客户台帐为购车后天数"),
    ),
    OptionSpec(
        "repeat_multiplier",
        QT_TRANSLATE_NOOP("AssessmentPage", "月内重复时"),
        10,
        QT_TRANSLATE_NOOP("AssessmentPage", " 倍"),
        minimum=1,
        tip=QT_TRANSLATE_NOOP(
            "AssessmentPage", "1 倍：按下方“重复违反加倍”；2 倍及以上：同月第二次起按此倍数"
        ),
    ),
)

OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "repeats_double",
        QT_TRANSLATE_NOOP("AssessmentPage", "重复违反加倍（制度：第二次违反相同规定双倍处罚）"),
        check=True,
    ),
    OptionSpec(
        "monthly_due_day",
        QT_TRANSLATE_NOOP("AssessmentPage", "月度回访台账须在次月几日前上交（之后经理才能审定考核）"),
        28,
        QT_TRANSLATE_NOOP("AssessmentPage", " 日"),
        minimum=1,
    ),
)


# The domain's window labels (domain/assessment_rules.WINDOW_SPECS), marked for translation here.
_WINDOW_LABELS = (
    QT_TRANSLATE_NOOP("AssessmentWindow", "宽限天数"),
    QT_TRANSLATE_NOOP("AssessmentWindow", "回传时限（小时）"),
    QT_TRANSLATE_NOOP("AssessmentWindow", "建台帐期限（天）"),
)


def _tr(text: str) -> str:
    return translated("AssessmentPage", text)


def _widget(spec: OptionSpec, label: str | None = None) -> QCheckBox | QSpinBox:
    box: QCheckBox | QSpinBox
    if spec.check:
        box = QCheckBox(label if label is not None else _tr(spec.label))
    else:
        spin = QSpinBox()
        spin.setRange(spec.minimum, spec.maximum)
        spin.setSuffix(_tr(spec.suffix) if spec.suffix else "")
        spin.setMinimumWidth(100)
        box = spin
    if spec.tip:
        box.setToolTip(_tr(spec.tip))
    return box


def _get(w: QCheckBox | QSpinBox) -> Any:
    return w.isChecked() if isinstance(w, QCheckBox) else w.value()


def _set(w: QCheckBox | QSpinBox, value: Any) -> None:
    w.blockSignals(True)
    if isinstance(w, QCheckBox):
        w.setChecked(bool(value))
    else:
        w.setValue(int(value))
    w.blockSignals(False)


GRADED_COLUMNS = (
    QT_TRANSLATE_NOOP("AssessmentPage", "考核项目"),
    QT_TRANSLATE_NOOP("AssessmentPage", "最低金额"),
    QT_TRANSLATE_NOOP("AssessmentPage", "最高金额"),
    QT_TRANSLATE_NOOP("AssessmentPage", "绩效扣分"),
)
AMOUNT_MAX = 100_000


class GradedKindsEditor(QWidget):
    """The graded kinds the manager charges by hand (*002 制度9*): one row each — name, lowest and highest
    amount (equal: a fixed amount), points deducted; 添加 / 删除. A kind keeps its code; a new one gets the
    first free ``graded_N``. The domain checks the values (:class:`GradedKind`) when the page is saved."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keys: list[str] = []
        self.table = QTableWidget(0, len(GRADED_COLUMNS))
        self.table.setObjectName("graded")
        self.table.setHorizontalHeaderLabels([_tr(c) for c in GRADED_COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(GRADED_COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(80)
        self.add_button = QPushButton(self.tr("添加项目"))
        self.add_button.clicked.connect(self.add_kind)
        self.remove_button = QPushButton(self.tr("删除所选项目"))
        self.remove_button.clicked.connect(self.remove_kind)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel(self.tr("最低与最高金额相同即为固定金额；删除项目不影响已登记的考核。")), 1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def _spin(self, value: int, suffix: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(0, AMOUNT_MAX)
        spin.setSuffix(suffix)
        spin.setValue(value)
        spin.valueChanged.connect(lambda *_: self.changed.emit())
        return spin

    def _append(self, kind: GradedKind) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        name = QLineEdit(kind.label)
        name.setMaxLength(60)
        name.setPlaceholderText(self.tr("项目名称，如 服务态度不佳"))
        name.textChanged.connect(lambda *_: self.changed.emit())
        self.table.setCellWidget(row, 0, name)
        self.table.setCellWidget(row, 1, self._spin(kind.min_amount, self.tr(" 元")))
        self.table.setCellWidget(row, 2, self._spin(kind.max_amount, self.tr(" 元")))
        self.table.setCellWidget(row, 3, self._spin(kind.points, self.tr(" 分")))
        self.keys.append(kind.key)
        return row

    def set_kinds(self, kinds: tuple[GradedKind, ...]) -> None:
        self.table.setRowCount(0)
        self.keys = []
        for kind in kinds:
            self._append(kind)

    def _free_key(self) -> str:
        n = 1
        while f"graded_{n}" in self.keys:
            n += 1
        return f"graded_{n}"

    def add_kind(self) -> None:
        row = self._append(GradedKind(self._free_key(), "—", 0, 0))
        name = self.table.cellWidget(row, 0)
        assert isinstance(name, QLineEdit)
        name.clear()
        name.setFocus()
        self.table.selectRow(row)
        self.changed.emit()

    def remove_kind(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].row() if rows else self.table.currentRow()
        if not 0 <= row < self.table.rowCount():
            return
        self.table.removeRow(row)
        del self.keys[row]
        self.changed.emit()

    def kinds(self) -> tuple[GradedKind, ...]:
        """The rows as kinds (a ValidationError names a bad row: empty name, highest below lowest)."""
        out = []
        for row, key in enumerate(self.keys):
            name, low, high, points = (self.table.cellWidget(row, col) for col in range(4))
            assert isinstance(name, QLineEdit)
            assert isinstance(low, QSpinBox) and isinstance(high, QSpinBox) and isinstance(points, QSpinBox)
            out.append(GradedKind(key, name.text().strip(), low.value(), high.value(), points.value()))
        return tuple(out)

    def set_read_only(self, read_only: bool) -> None:
        self.add_button.setEnabled(not read_only)
        self.remove_button.setEnabled(not read_only)


class AssessmentPage(SettingsPage):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.baseline = AssessmentRules()
        self.may_edit = ctx.may(Permission.CONFIRM_ASSESSMENT)
        self.fields: dict[EventKind, dict[str, QCheckBox | QSpinBox]] = {}
        grid, opts, graded_box = self._build_rules(), self._build_options(), self._build_graded()
        self._lay_out(grid, opts, graded_box)
        self._connect()

    def _build_rules(self) -> QGridLayout:
        """One row per ruled event: 启用, 金额, 绩效分, 重复倍数 and (some) the time limit."""
        grid = QGridLayout()
        for col, spec in enumerate(RULE_COLUMNS):
            grid.addWidget(QLabel(f"<b>{_tr(spec.label)}</b>"), 0, col)
        for row, kind in enumerate(RULED_KINDS, start=1):
            widgets: dict[str, QCheckBox | QSpinBox] = {}
            for col, spec in enumerate(RULE_COLUMNS):
                if spec.key == "window" and kind not in WINDOW_SPECS:
                    continue
                w = _widget(spec, translated("Assessment", kind.value) if spec.check else None)
                if spec.key == "window":
                    w.setToolTip(translated("AssessmentWindow", WINDOW_SPECS[kind][0]))
                    suffix = self.tr(" 小时") if kind is EventKind.PROBLEM_NOT_PASSED else self.tr(" 天")
                    cast(QSpinBox, w).setSuffix(suffix)  # the window is a number (not a check spec)
                w.setObjectName(f"{kind.key}.{spec.key}")
                grid.addWidget(w, row, col)
                widgets[spec.key] = w
            self.fields[kind] = widgets
        return grid

    def _build_options(self) -> QGridLayout:
        self.options: dict[str, QCheckBox | QSpinBox] = {}
        opts = QGridLayout()
        for row, spec in enumerate(OPTIONS):
            w = _widget(spec)
            w.setObjectName(spec.key)
            if spec.check:
                opts.addWidget(w, row, 0, 1, 2)
            else:
                opts.addWidget(QLabel(_tr(spec.label)), row, 0)
                opts.addWidget(w, row, 1)
            self.options[spec.key] = w
        opts.setColumnStretch(2, 1)
        return opts

    def _build_graded(self) -> QGroupBox:
        """经理登记的考核项目, and the note for those who may only look."""
        self.graded = GradedKindsEditor()
        graded_box = QGroupBox(self.tr("经理登记的考核项目（制度9；在“统计 → 考核”中登记）"))
        QVBoxLayout(graded_box).addWidget(self.graded)
        self.note = QLabel(self.tr("考核规则只能由公司经理修改；您可以查看。"))
        self.note.setStyleSheet("background: #e6f4ff; border: 1px solid #91caff; padding: 6px;")
        self.note.setVisible(not self.may_edit)
        return graded_box

    def _connect(self) -> None:
        for widgets in self.fields.values():
            others = [w for key, w in widgets.items() if key != "enabled"]
            switch = widgets["enabled"]
            assert isinstance(switch, QCheckBox)
            switch.toggled.connect(lambda on, ws=others: [w.setEnabled(on) for w in ws])
            watch(tuple(widgets.values()), self.content_changed.emit)
        for w in self.options.values():
            watch((w,), self.content_changed.emit)
        self.graded.changed.connect(self.content_changed.emit)

    def _lay_out(self, grid: QGridLayout, opts: QGridLayout, graded_box: QGroupBox) -> None:
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "默认为回访制度的五项考核（各 50 元/次）：交货 1–5 天内未回访、A/B/C/D 类例行回访未按期、回访信息未在 24 小时内"
                "回传、终端客户信息台帐未建、终端客户未按时回访。每一项考核都列出引起它的回访计划或记录。经理审定某月考核后，"
                "该月冻结：此后的修改、导入、重新排计划或等级变化都不再改变它，也不能撤回；更正须另行登记“考核更正”（写明原因，记入下月）。"
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.note)
        layout.addLayout(grid)
        layout.addLayout(opts)
        layout.addWidget(graded_box, 1)

    @property
    def rows(self) -> dict[EventKind, tuple[QCheckBox | QSpinBox, ...]]:
        """Each kind's (启用, 金额, 绩效分, 重复倍数) widgets."""
        return {
            k: (f["enabled"], f["amount"], f["points"], f["repeat_multiplier"])
            for k, f in self.fields.items()
        }

    @property
    def monthly_due(self) -> QSpinBox:
        w = self.options["monthly_due_day"]
        assert isinstance(w, QSpinBox)
        return w

    def load(self) -> None:
        self.baseline = load_assessment_rules(self.ctx)
        for kind, widgets in self.fields.items():
            rule = self.baseline.rule(kind)
            for key, w in widgets.items():
                _set(w, getattr(rule, key))
                if key != "enabled":
                    w.setEnabled(rule.enabled and self.may_edit)
        for key, w in self.options.items():
            _set(w, getattr(self.baseline, key))
        self.graded.set_kinds(self.baseline.graded)
        if not self.may_edit:
            set_widgets_read_only(self, True)

    def collect(self) -> AssessmentRules:
        rules = tuple(
            AssessmentRule(kind, **{key: _get(w) for key, w in widgets.items()})
            for kind, widgets in self.fields.items()
        )
        return replace(
            self.baseline,
            rules=rules,
            graded=self.graded.kinds(),
            **{key: _get(w) for key, w in self.options.items()},
        )

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
        self.graded.set_read_only(read_only or not self.may_edit)

    def field_widgets(self) -> dict[str, QWidget]:
        out: dict[str, QWidget] = {**self.options, "graded": self.graded.table}
        for widgets in self.fields.values():
            out.update(widgets)
        return out


__all__ = ["OPTIONS", "RULE_COLUMNS", "AssessmentPage", "OptionSpec"]
