"""回访规则: the office's rule table (:class:`~huifang_desktop.domain.schedule.RuleSet`, domain.md §3–§4).

Five sections: the event-triggered rules (a table, the selected rule edited below it), routine and technical
visits per class, which visit types complete a routine or technical plan (计入哪些计划), follow-up visits (再次回访), and who makes a complaint's closing visit plus how far ahead
chains are planned. Everything is edited as plain dicts and checked by the domain when collected; errors in
one rule name that rule (``规则“维修回访”的抽样比例：…``) and select it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.schedule import (
    ASSIGNEE_LABELS,
    DEFAULT_RULES,
    Assignee,
    FollowUpPolicy,
    RuleSet,
    VisitRule,
)
from huifang_desktop.domain.visits import VisitResult
from huifang_desktop.services import presets
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.settings import set_value
from huifang_desktop.ui.settings.page import (
    SettingsPage,
    fill_combo,
    select_data,
    set_widgets_read_only,
    watch,
)
from huifang_desktop.ui.settings.rule_editor import (
    RuleEditor,
    WindowRow,
    method_combo,
    spin,
    type_combo,
)
from huifang_desktop.ui.settings.rule_model import RuleTableModel
from huifang_desktop.ui.settings.satisfies_editor import SatisfiesEditor

_BUILT_IN_KEYS = frozenset(r.key for r in DEFAULT_RULES)
_GRADE_SPLIT = re.compile(r"[,，、;；\s]+")


def _prefixed(
    exc: ValidationError, prefix: str, label: str, rename: dict[str, str] | None = None
) -> ValidationError:
    """The same errors, fields under ``prefix`` (renamed by ``rename``) and labels under ``label``, so the
    message says where (``规则“维修回访”的抽样比例：…``)."""
    rename = rename or {}
    return ValidationError(
        [
            FieldError(prefix + rename.get(e.field, e.field), f"{label}的{e.label}", e.message)
            for e in exc.errors
        ]
    )


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #666;")
    return label


class RulesPage(SettingsPage):
    """The rule table editor. ``restore_defaults`` fills in the defaults (saved with 确定/应用 like any edit)."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.baseline = RuleSet()
        self.independent_baseline = True
        self._salt = ""
        self._current = -1
        self._read_only = False

        self._build_sections()
        bottom = self._build_bottom()
        self._build_confirm_bar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sections, 1)
        layout.addWidget(self.confirm_bar)
        layout.addLayout(bottom)
        self._connect()

    def _build_sections(self) -> None:
        """The rules by kind, one tab each."""
        self.sections = QTabWidget()
        self.sections.addTab(self._event_section(), self.tr("事件回访规则"))
        self.sections.addTab(self._routine_section(), self.tr("例行与技术回访"))
        self.satisfies = SatisfiesEditor()
        self.sections.addTab(self.satisfies, self.tr("计入哪些计划"))
        self.sections.addTab(self._follow_up_section(), self.tr("再次回访"))
        self.sections.addTab(self._other_section(), self.tr("投诉回访人与计划范围"))

    def _build_bottom(self) -> QHBoxLayout:
        """办公室类型预设, 恢复默认… and the status line."""
        self.restore_button = QPushButton(self.tr("恢复默认…"))
        self.restore_button.setAutoDefault(False)
        self.status = QLabel()
        self.status.setObjectName("rules_status")
        self.status.setStyleSheet("color: #666;")
        # 办公室类型预设 (issue 19 item 9): applied at once through the services (audited), then reloaded
        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("preset_combo")
        for p in presets.PRESETS:
            self.preset_combo.addItem(p.label, p.key)
            self.preset_combo.setItemData(
                self.preset_combo.count() - 1, p.description, Qt.ItemDataRole.ToolTipRole
            )
        self.preset_button = QPushButton(self.tr("套用办公室类型预设"))
        self.preset_button.setAutoDefault(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.preset_combo)
        bottom.addWidget(self.preset_button)
        bottom.addWidget(self.restore_button)
        bottom.addWidget(self.status, 1)
        return bottom

    def _build_confirm_bar(self) -> None:
        # restoring the defaults asks first, inline (no modal box): a bar with 恢复默认值 / 取消
        self.confirm_bar = QFrame()
        self.confirm_bar.setObjectName("confirm_bar")
        self.confirm_bar.setStyleSheet("#confirm_bar { background: #fffbe6; border: 1px solid #ffe58f; }")
        self.confirm_label = QLabel(
            self.tr(
                "将全部回访规则（含例行、技术、再次回访和投诉回访人）恢复为默认值，本页的修改将被替换。"
                "恢复后点击“确定”或“应用”才会保存。"
            )
        )
        self.confirm_label.setWordWrap(True)
        self.confirm_restore_button = QPushButton(self.tr("恢复默认值"))
        self.cancel_restore_button = QPushButton(self.tr("取消"))
        for b in (self.confirm_restore_button, self.cancel_restore_button):
            b.setAutoDefault(False)
        bar = QHBoxLayout(self.confirm_bar)
        bar.addWidget(self.confirm_label, 1)
        bar.addWidget(self.confirm_restore_button)
        bar.addWidget(self.cancel_restore_button)
        self.confirm_bar.hide()

    def _connect(self) -> None:
        self.satisfies.changed.connect(self.content_changed.emit)
        self.restore_button.clicked.connect(self.ask_restore_defaults)
        self.preset_button.clicked.connect(self.apply_preset)
        self.confirm_restore_button.clicked.connect(self.restore_defaults)
        self.cancel_restore_button.clicked.connect(self.cancel_restore)

    # --- sections ----------------------------------------------------------------------------------------
    def _event_section(self) -> QWidget:
        self.model = RuleTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("rules_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(RuleTableModel.COL_WINDOWS, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.model.enabled_toggled.connect(self._enabled_toggled)

        self.copy_button = QPushButton(self.tr("复制为新规则"))
        self.copy_button.setToolTip(self.tr("以所选规则为样板，新建一条本单位自己的规则"))
        self.delete_button = QPushButton(self.tr("删除规则"))
        for b in (self.copy_button, self.delete_button):
            b.setAutoDefault(False)
        self.copy_button.clicked.connect(self.copy_rule)
        self.delete_button.clicked.connect(self.delete_rule)
        rule_buttons = QHBoxLayout()
        rule_buttons.addWidget(
            _hint(self.tr("勾选“启用”决定规则是否生成回访计划；选中一行后在下方修改。")), 1
        )
        rule_buttons.addWidget(self.copy_button)
        rule_buttons.addWidget(self.delete_button)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(rule_buttons)

        self.editor = RuleEditor()
        self.editor.changed.connect(self._rule_edited)
        self.editor_box = QGroupBox(self.tr("所选规则"))
        scroll = QScrollArea()  # a rule with many windows (a fixed series) scrolls instead of squeezing
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.editor)
        scroll.viewport().setAutoFillBackground(False)
        self.editor.setAutoFillBackground(False)
        box_layout = QVBoxLayout(self.editor_box)
        box_layout.setContentsMargins(6, 4, 6, 4)
        box_layout.addWidget(scroll)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(top)
        splitter.addWidget(self.editor_box)
        splitter.setStretchFactor(0, 1)  # a taller dialog shows more rules; the editor keeps what it needs
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([250, 300])
        self.event_splitter, self._editor_scroll, self._split_placed = splitter, scroll, False
        self.table.setMinimumHeight(140)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(splitter)
        return page

    def _routine_section(self) -> QWidget:
        self.routine_table = QTableWidget(0, 2)
        self.routine_table.setObjectName("routine_days")
        self.routine_table.setHorizontalHeaderLabels([self.tr("客户等级"), self.tr("至少每隔（天）")])
        self.routine_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.routine_table.verticalHeader().hide()
        self.routine_table.setMinimumHeight(150)
        self.routine_table.itemChanged.connect(lambda _item: self.content_changed.emit())
        self.add_grade_button = QPushButton(self.tr("添加等级"))
        self.remove_grade_button = QPushButton(self.tr("删除所选等级"))
        for b in (self.add_grade_button, self.remove_grade_button):
            b.setAutoDefault(False)
        self.add_grade_button.clicked.connect(self.add_grade)
        self.remove_grade_button.clicked.connect(self.remove_grade)
        grade_buttons = QVBoxLayout()
        grade_buttons.setAlignment(Qt.AlignmentFlag.AlignTop)
        grade_buttons.addWidget(self.add_grade_button)
        grade_buttons.addWidget(self.remove_grade_button)
        grade_buttons.addStretch(1)
        self.routine_method = method_combo()

        routine = QGroupBox(self.tr("例行回访（按客户等级）"))
        routine_layout = QVBoxLayout(routine)
        table_line = QHBoxLayout()
        table_line.addWidget(self.routine_table, 1)
        table_line.addLayout(grade_buttons)
        routine_layout.addLayout(table_line)
        method_form = QFormLayout()
        method_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        method_form.addRow(self.tr("回访方式"), self.routine_method)
        routine_layout.addLayout(method_form)
        routine_layout.addWidget(
            _hint(
                self.tr(
                    "未列出的等级（默认为 D、普通、小客户）不自动安排例行回访，由负责人酌情安排，记录照常保存。"
                    "间隔从上次成功回访（没有时从建档或定级之日）算起。"
                )
            )
        )

        self.technical_months = spin(0, 120, self.tr(" 个月"))
        self.technical_grades = QLineEdit()
        self.technical_grades.setObjectName("technical_grades")
        self.technical_grades.setPlaceholderText(self.tr("如 A；多个用逗号分隔"))
        self.technical_method = method_combo()
        technical = QGroupBox(self.tr("技术回访"))
        technical_form = QFormLayout(technical)
        technical_form.addRow(self.tr("每隔"), self.technical_months)
        technical_form.addRow(self.tr("适用等级"), self.technical_grades)
        technical_form.addRow(self.tr("回访方式"), self.technical_method)

        technical_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        page = QWidget()
        layout = QHBoxLayout(page)
        layout.addWidget(routine, 3, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(technical, 2, Qt.AlignmentFlag.AlignTop)
        watch(
            (self.routine_method, self.technical_months, self.technical_grades, self.technical_method),
            self.content_changed.emit,
        )
        return page

    def _follow_up_section(self) -> QWidget:
        """再次回访: when a visit that did not get through (or left the customer unsatisfied) is tried again."""
        self._build_follow_up_fields()
        self._build_retry_results()
        box = self._build_follow_up_box()

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(box)
        layout.addStretch(1)
        watch(
            [
                self.max_attempts,
                self.phone_from_attempt,
                self.phone_method,
                self.retry_unsatisfied,
                self.follow_type,
                self.follow_method,
                self.refused_after_days,
                self.refused_recontacts,
                self.on_site_severities,
                self.independent,
            ]
            + [b for _r, b in self.retry_boxes],
            self.content_changed.emit,
        )
        self.follow_window.changed.connect(self.content_changed.emit)
        return page

    def _build_follow_up_fields(self) -> None:
        """The 再次回访 section's fields (laid out by :meth:`_build_follow_up_box`)."""
        self.max_attempts = spin(0, 20, self.tr(" 次"), self.tr("不限（直到联系上或主管结束）"))
        self.follow_window = WindowRow(removable=False)
        self.follow_window.setObjectName("follow_up_window")
        self.phone_from_attempt = spin(0, 20, "")
        self.phone_from_attempt.setPrefix(self.tr("第 "))
        self.phone_from_attempt.setSuffix(self.tr(" 次起"))
        self.phone_method = method_combo()
        self.retry_boxes: list[tuple[VisitResult, QCheckBox]] = [
            (r, QCheckBox(r.value))
            for r in VisitResult
            if r not in (VisitResult.SUCCESS, VisitResult.REFUSED)
        ]
        self.refused_after_days = spin(0, 365, self.tr(" 天后再联系"), self.tr("不再联系"))
        self.refused_recontacts = spin(0, 10, self.tr(" 次"))
        self.on_site_severities = QLineEdit()
        self.on_site_severities.setObjectName("on_site_severities")
        self.on_site_severities.setPlaceholderText(self.tr("如：重大（多个用顿号分隔）"))
        self.independent = QCheckBox(
            self.tr("回访人独立性（回访记录与投诉结案回访）：回访人不得为客户的业务员或投诉处理人")
        )
        self.independent.setToolTip(
            self.tr(
                "001 独立性原则。开启时：满意度和投诉回访不能由客户的业务员或投诉处理人登记，"
                "投诉的结案回访也安排给处理人以外的人（级别见 投诉规则 → 结案回访人）。关闭后两者都不检查。"
            )
        )
        self.independent.setObjectName("independent_visitor")
        self.retry_unsatisfied = QCheckBox(self.tr("回访成功但客户不满意时，也安排再次回访"))
        self.follow_type = type_combo()
        self.follow_method = method_combo()

    def _build_retry_results(self) -> None:
        """The row of results that ask for another visit, one check box each."""
        retry_line = QHBoxLayout()
        for _r, check in self.retry_boxes:
            retry_line.addWidget(check)
        retry_line.addStretch(1)
        self.retry_widget = QWidget()
        self.retry_widget.setObjectName("retry_results")
        self.retry_widget.setLayout(retry_line)
        retry_line.setContentsMargins(0, 0, 0, 0)

    def _build_follow_up_box(self) -> QGroupBox:
        """The 再次回访 form, with the rules' sources below it."""
        box = QGroupBox(self.tr("再次回访（未接通、不可达或客户不满意时）"))
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow(self.tr("最多回访次数（含第一次）"), self.max_attempts)
        form.addRow(self.tr("再次回访时限（回访后）"), self.follow_window)
        form.addRow(self.tr("结果为以下情况时再次回访"), self.retry_widget)
        form.addRow("", self.retry_unsatisfied)
        form.addRow(self.tr("允许改用电话回访"), self.phone_from_attempt)
        form.addRow(self.tr("改用的方式"), self.phone_method)
        form.addRow(self.tr("无原计划时的回访类型"), self.follow_type)
        form.addRow(self.tr("无原计划时的回访方式"), self.follow_method)
        form.addRow(self.tr("客户拒绝回访时"), self.refused_after_days)
        form.addRow(self.tr("拒绝后最多再联系"), self.refused_recontacts)
        form.addRow(self.tr("投诉回访须上门的严重程度"), self.on_site_severities)
        form.addRow("", self.independent)
        form.addRow(
            _hint(
                self.tr(
                    "第二次回访沿用第一次的方式，第三次起可改用电话（000 §1.9）；重大投诉的回访上门进行。客户拒绝的，"
                    "过几天再联系，仍拒绝视为回访不通过（001 §47）。再次回访沿用原计划的类型和回访人。"
                    "回访人独立性是一个开关，同时管回访记录的登记和投诉结案回访的安排（001 独立性原则）。"
                )
            )
        )
        return box

    def _other_section(self) -> QWidget:
        self.severity_box = QGroupBox(self.tr("投诉结案回访由谁进行（回访人为“按严重程度”的规则）"))
        self.severity_form = QFormLayout(self.severity_box)
        self.severity_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.severity_combos: list[tuple[str, QComboBox]] = []
        self.horizon_months = spin(0, 240, self.tr(" 个月"))
        horizon = QGroupBox(self.tr("计划范围"))
        horizon_form = QFormLayout(horizon)
        horizon_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        horizon_form.addRow(self.tr("重复的回访最多提前安排"), self.horizon_months)
        horizon_form.addRow(
            _hint(self.tr("如终端客户每月回访、续保提醒：从触发之日起最多排到这么多个月以后。"))
        )
        self.horizon_months.valueChanged.connect(lambda *_: self.content_changed.emit())
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.severity_box)
        layout.addWidget(horizon)
        layout.addStretch(1)
        return page

    def _set_severities(self, pairs: Iterable[tuple[str, Assignee]]) -> None:
        while self.severity_form.rowCount():
            self.severity_form.removeRow(0)
        self.severity_combos = []
        for severity, who in pairs:
            combo = fill_combo(
                QComboBox(),
                ((label, a.value) for a, label in ASSIGNEE_LABELS.items() if a is not Assignee.BY_SEVERITY),
            )
            select_data(combo, who.value)
            combo.currentIndexChanged.connect(lambda *_: self.content_changed.emit())
            if self._read_only:
                combo.setEnabled(False)
            self.severity_form.addRow(self.tr("{0}投诉").format(severity), combo)
            self.severity_combos.append((severity, combo))

    # --- the page contract -------------------------------------------------------------------------------
    def field_widgets(self) -> dict[str, QWidget]:
        widgets: dict[str, QWidget] = dict(self.editor.field_widgets())
        widgets.update(
            {
                "rules": self.table,
                "routine_days": self.routine_table,
                "routine_method": self.routine_method,
                "technical_months": self.technical_months,
                "technical_grades": self.technical_grades,
                "technical_method": self.technical_method,
                "horizon_months": self.horizon_months,
                "severity_who": self.severity_box,
                "satisfies": self.satisfies.table,
                "follow_up.max_attempts": self.max_attempts,
                "follow_up.window": self.follow_window,
                "follow_up.phone_from_attempt": self.phone_from_attempt,
                "follow_up.phone_method": self.phone_method,
                "follow_up.retry_results": self.retry_widget,
                "follow_up.visit_type": self.follow_type,
                "follow_up.method": self.follow_method,
            }
        )
        return widgets

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._place_split()

    def _place_split(self) -> None:
        """Once, when first shown with a rule in the editor: the editor as tall as the rule needs (a fixed series
        of many windows scrolls), the rule table the rest."""
        splitter = self.event_splitter
        if self._split_placed or splitter.height() <= 0:
            return
        self._split_placed = True
        chrome = self.editor_box.height() - self._editor_scroll.viewport().height()
        editor = chrome + self.editor.sizeHint().height()
        total = sum(splitter.sizes())
        least = self.table.minimumHeight() + 40
        editor = min(editor, max(total - least, total // 3))
        splitter.setSizes([total - editor, editor])

    def load(self) -> None:
        self.baseline = visit_service.load_rules(self.ctx)
        self.independent_baseline = visit_service.independence_on(self.ctx)
        self.independent.setChecked(self.independent_baseline)
        self.fill(self.baseline)

    def fill(self, rules: RuleSet) -> None:
        """Show ``rules`` in every section (the first rule selected)."""
        self._salt = rules.sampling_salt
        self._current = -1
        self.model.set_rules([r.to_dict() for r in rules.rules])
        self.routine_table.blockSignals(True)
        self.routine_table.setRowCount(0)
        for grade, days in rules.routine_days:
            self._append_grade(grade, str(days))
        self.routine_table.blockSignals(False)
        for combo, value in (
            (self.routine_method, rules.routine_method.value),
            (self.technical_method, rules.technical_method.value),
        ):
            select_data(combo, value)
        self.technical_months.setValue(rules.technical_months)
        self.technical_grades.setText("、".join(rules.technical_grades))
        fu = rules.follow_up
        self.max_attempts.setValue(fu.max_attempts)
        self.follow_window.set_value(fu.window.to_dict())
        self.phone_from_attempt.setValue(fu.phone_from_attempt)
        select_data(self.phone_method, fu.phone_method.value)
        for result, box in self.retry_boxes:
            box.setChecked(result in fu.retry_results)
        self.retry_unsatisfied.setChecked(fu.retry_unsatisfied)
        select_data(self.follow_type, fu.visit_type.value)
        select_data(self.follow_method, fu.method.value)
        self.refused_after_days.setValue(fu.refused_after_days)
        self.refused_recontacts.setValue(fu.refused_recontacts)
        self.on_site_severities.setText("、".join(fu.on_site_severities))
        self._set_severities(rules.severity_who)
        self.horizon_months.setValue(rules.horizon_months)
        self.satisfies.set_value(rules.satisfies)
        if self.model.rowCount():
            self.select_rule(0)

    def collect(self) -> RuleSet:
        rules = self.model.rules()
        for row, rule in enumerate(rules):
            try:
                VisitRule.from_dict(rule)
            except ValidationError as exc:
                self.select_rule(row)
                name = str(rule.get("name") or rule.get("key"))
                raise _prefixed(exc, "rule.", self.tr("规则“{0}”").format(name)) from None
        follow_up = {
            "max_attempts": self.max_attempts.value(),
            "window": self.follow_window.value(),
            "phone_from_attempt": self.phone_from_attempt.value(),
            "phone_method": self.phone_method.currentData(),
            "retry_results": [r.value for r, box in self.retry_boxes if box.isChecked()],
            "retry_unsatisfied": self.retry_unsatisfied.isChecked(),
            "visit_type": self.follow_type.currentData(),
            "method": self.follow_method.currentData(),
            "refused_after_days": self.refused_after_days.value(),
            "refused_recontacts": self.refused_recontacts.value(),
            "on_site_severities": [
                g for g in _GRADE_SPLIT.split(self.on_site_severities.text().strip()) if g
            ],
            "on_site_method": self.baseline.follow_up.on_site_method.value,
        }
        try:
            FollowUpPolicy.from_dict(follow_up)
        except ValidationError as exc:
            # a Window names itself "windows"; the policy has one "window"
            raise _prefixed(exc, "follow_up.", self.tr("再次回访"), {"windows": "window"}) from None
        grades = tuple(g for g in _GRADE_SPLIT.split(self.technical_grades.text().strip()) if g)
        return RuleSet.from_dict(
            {
                "rules": rules,
                "routine_days": dict(self._routine_days()),
                "routine_method": self.routine_method.currentData(),
                "technical_months": self.technical_months.value(),
                "technical_grades": list(grades),
                "technical_method": self.technical_method.currentData(),
                "follow_up": follow_up,
                "severity_who": {sev: combo.currentData() for sev, combo in self.severity_combos},
                "horizon_months": self.horizon_months.value(),
                "sampling_salt": self._salt,
                "satisfies": self.satisfies.value(),
            }
        )

    def save(self) -> bool:
        new = self.collect()
        independent = self.independent.isChecked()
        if new.to_dict() == self.baseline.to_dict() and independent == self.independent_baseline:
            return False
        if independent != self.independent_baseline:
            set_value(self.ctx, visit_service.INDEPENDENT_KEY, independent, what="回访人独立性检查")
            self.independent_baseline = independent
        if new.to_dict() != self.baseline.to_dict():
            visit_service.save_rules(self.ctx, new)
        self.baseline = new
        self.status.clear()
        return True

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        set_widgets_read_only(self, read_only)
        self.editor.windows.set_read_only(read_only)
        self.satisfies.set_read_only(read_only)
        self.model.read_only = read_only
        self.restore_button.setVisible(not read_only)
        self.preset_button.setVisible(not read_only)
        self.preset_combo.setVisible(not read_only)
        self.copy_button.setVisible(not read_only)
        self.delete_button.setVisible(not read_only)
        self.add_grade_button.setVisible(not read_only)
        self.remove_grade_button.setVisible(not read_only)

    # --- the rule table ----------------------------------------------------------------------------------
    def select_rule(self, row: int) -> None:
        index = self.model.index(row, RuleTableModel.COL_NAME)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        self.sections.setCurrentIndex(0)

    def current_rule(self) -> dict[str, Any] | None:
        return self.model.rule_at(self._current) if self._current >= 0 else None

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._current = current.row() if current.isValid() else -1
        self.editor_box.setEnabled(self._current >= 0)
        if self._current < 0:
            return
        rule = self.model.rule_at(self._current)
        self.editor.set_rule(rule)
        self.editor_box.setTitle(self.tr("所选规则：{0}").format(rule.get("name", "")))
        built_in = rule.get("key") in _BUILT_IN_KEYS
        self.delete_button.setEnabled(not built_in and not self._read_only)
        self.delete_button.setToolTip(self.tr("内置规则不能删除，不用时取消“启用”即可") if built_in else "")

    def _rule_edited(self) -> None:
        if self._current < 0:
            return
        self.model.update_rule(self._current, self.editor.rule_dict())
        self.content_changed.emit()

    def _enabled_toggled(self, row: int, enabled: bool) -> None:
        if row == self._current:
            self.editor.set_enabled_quietly(enabled)
        self.content_changed.emit()

    def copy_rule(self) -> None:
        """A new rule of the office's own, copied from the selected one (key ``custom_N``)."""
        rule = self.current_rule()
        if rule is None:
            return
        n = 1
        while self.model.row_of(f"custom_{n}") >= 0:
            n += 1
        rule.update(key=f"custom_{n}", name=self.tr("{0}（副本）").format(rule.get("name", "")))
        row = self._current + 1
        self.model.insert_rule(row, rule)
        self.select_rule(row)
        self.editor.name.setFocus()
        self.editor.name.selectAll()
        self.content_changed.emit()

    def delete_rule(self) -> None:
        rule = self.current_rule()
        if rule is None or rule.get("key") in _BUILT_IN_KEYS:
            return
        row = self._current
        self.model.remove_rule(row)
        if self.model.rowCount():
            self.select_rule(min(row, self.model.rowCount() - 1))
        self.content_changed.emit()

    # --- routine classes ---------------------------------------------------------------------------------
    def _append_grade(self, grade: str, days: str) -> int:
        row = self.routine_table.rowCount()
        self.routine_table.insertRow(row)
        self.routine_table.setItem(row, 0, QTableWidgetItem(grade))
        self.routine_table.setItem(row, 1, QTableWidgetItem(days))
        return row

    def add_grade(self) -> None:
        row = self._append_grade("", "30")
        self.routine_table.setCurrentCell(row, 0)
        item = self.routine_table.item(row, 0)
        if item is not None:  # set just above
            self.routine_table.editItem(item)
        self.content_changed.emit()

    def remove_grade(self) -> None:
        row = self.routine_table.currentRow()
        if row >= 0:
            self.routine_table.removeRow(row)
            self.content_changed.emit()

    def _routine_days(self) -> list[tuple[str, int]]:
        """(class, days) from the table; blank rows are skipped, a missing class or bad number is refused."""
        label = "例行回访间隔"
        out: list[tuple[str, int]] = []
        table = self.routine_table
        for row in range(table.rowCount()):
            grade = (item.text() if (item := table.item(row, 0)) else "").strip()
            text = (item.text() if (item := table.item(row, 1)) else "").strip()
            if not grade and not text:
                continue
            if not grade:
                raise ValidationError(FieldError("routine_days", label, f"第 {row + 1} 行缺少客户等级"))
            if grade.upper() in {g.upper() for g, _d in out}:
                raise ValidationError(FieldError("routine_days", label, f"等级“{grade}”重复"))
            try:
                days = int(text)
            except ValueError:
                raise ValidationError(
                    FieldError("routine_days", label, f"{grade} 类的“{text}”不是整数")
                ) from None
            out.append((grade, days))
        return out

    # --- restore defaults --------------------------------------------------------------------------------
    def ask_restore_defaults(self) -> None:
        """First step: show the inline confirmation bar."""
        self.confirm_bar.show()
        self.confirm_restore_button.setFocus()

    def cancel_restore(self) -> None:
        self.confirm_bar.hide()
        self.restore_button.setFocus()

    def apply_preset(self) -> None:
        """Save the chosen office-type preset (rules, sample rates, follow-ups, complaint categories,
        independence) and show it."""
        key = str(self.preset_combo.currentData())
        try:
            p = presets.apply_preset(self.ctx, key)
        except (ServiceError, ValidationError) as exc:
            self.status.setText(str(exc))
            return
        self.load()
        self.status.setText(self.tr("已套用“{0}”预设并保存。").format(p.label))

    def restore_defaults(self) -> None:
        """Second step: fill in the default rule table (domain.md §3–§4); stored on 确定/应用."""
        self.confirm_bar.hide()
        salt = self._salt  # the sampling stays as it was: restoring the rules does not re-draw samples
        self.fill(RuleSet())
        self._salt = salt
        self.status.setText(self.tr("已恢复为默认规则，点击“确定”或“应用”后保存。"))
        self.content_changed.emit()
