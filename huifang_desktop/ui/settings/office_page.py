"""单位信息: the office settings (:class:`~huifang_desktop.services.settings.OfficeSettings`)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.settings import (
    VISIBILITY_DEPARTMENT,
    VISIBILITY_OFFICE,
    OfficeSettings,
    load_settings,
    save_settings,
)
from huifang_desktop.ui.settings.page import SettingsPage, StringListEditor, fill_combo, select_data, watch

_BIG = 10_000_000


def _spin(maximum: int, suffix: str, minimum: int = 0) -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setSuffix(suffix)
    box.setMinimumWidth(110)
    return box


class OfficePage(SettingsPage):
    """Company name, who sees which customer files, grade thresholds, the office's lists, numbering."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.baseline = OfficeSettings()

        self.company = QLineEdit()
        self.company.setObjectName("company")
        self.visibility = fill_combo(QComboBox(), [
            (self.tr("全公司：所有员工可查看全部客户档案"), VISIBILITY_OFFICE),
            (self.tr("本部门：只能查看本部门的客户档案"), VISIBILITY_DEPARTMENT)])
        self.visibility.setObjectName("visibility")
        self.may_set_policy = ctx.may(Permission.MANAGE_POLICY)  # a manager's grant (domain.md §1, 002)
        if not self.may_set_policy:
            self.visibility.setEnabled(False)
            self.visibility.setToolTip(self.tr("客户档案可见范围只能由公司经理或系统管理员修改"))
        self.code_prefix = QLineEdit()
        self.code_prefix.setPlaceholderText(self.tr("如 KH，编号为 KH000123"))
        self.code_prefix.setMaxLength(10)
        self.retention_years = _spin(100, self.tr(" 年"))
        self.require_visit_text = QCheckBox(self.tr("回访成功时必须填写回访内容和客户意见/反馈"))
        self.signed_form_days = _spin(365, self.tr(" 天后未回收时提醒"), minimum=1)
        self.signed_form_days.setToolTip(self.tr("上门回访的纸质签字单在回访后这么多天仍未扫描导入时，启动提醒中列出"))

        self.grade_a = _spin(_BIG, self.tr(" 台/件"))
        self.grade_b = _spin(_BIG, self.tr(" 台/件"))
        self.grade_c = _spin(_BIG, self.tr(" 台/件"))
        self.grading_window_days = _spin(3650, self.tr(" 天"), minimum=1)

        self.categories = StringListEditor("categories", "客户类别")
        self.sources = StringListEditor("sources", "客户来源")
        self.regions = StringListEditor("regions", "区域")

        office = QGroupBox(self.tr("单位"))
        office_form = QFormLayout(office)
        office_form.addRow(self.tr("单位名称"), self.company)
        office_form.addRow(self.tr("客户档案可见范围"), self.visibility)
        office_form.addRow(self.tr("客户编号前缀"), self.code_prefix)
        office_form.addRow(self.tr("档案保存年限"), self.retention_years)
        office_form.addRow(self.tr("回访记录表"), self.require_visit_text)
        office_form.addRow(self.tr("上门签字单"), self.signed_form_days)

        grades = QGroupBox(self.tr("客户分级（按年采购量/提车量）"))
        grade_form = QFormLayout(grades)
        grade_form.addRow(self.tr("A 类不少于"), self.grade_a)
        grade_form.addRow(self.tr("B 类不少于"), self.grade_b)
        grade_form.addRow(self.tr("C 类不少于"), self.grade_c)
        grade_form.addRow(self.tr("统计最近"), self.grading_window_days)
        hint = QLabel(self.tr(
            "少于 C 类标准的为 D 类。等级在登记购货时和每月第一次启动（或运行 plan）时按最近一年的采购量重新计算，"
            "所以一年没有采购的 A 类客户会逐级下降；Excel 导入的等级在导入后 12 个月内有效（采购更多则升级）。"
            "也可改为按自然年统计（grading_period = calendar），或按 004 的 VIP / 普通 / 小客户分级"
            "（class_scheme = VIP：按金额排名前 vip_share_percent %，默认 20 %，为 VIP）。"
            "主管可在客户档案中手动指定等级（须写原因），指定后不再自动调整；每次变化记入“等级记录”。"
            "等级变化后，新的例行回访周期从变化当天起算，不会倒算到以前；变化前已逾期的回访照常考核。\n"
            "计入哪些计划：只有例行回访算作完成例行回访计划，技术回访算作完成 A 类的技术回访计划；"
            "生日、节日问候、短信和首保/年检/续保提醒都不算（001 §3.2）。可在“回访规则”中调整。"))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666;")
        grade_form.addRow(hint)

        top = QHBoxLayout()
        top.addWidget(office, 3)
        top.addWidget(grades, 2)

        self.lists = lists = QGroupBox(self.tr("可选列表（双击修改）"))
        grid = QGridLayout(lists)
        for col, (label, editor) in enumerate(((self.tr("客户类别"), self.categories),
                                               (self.tr("客户来源"), self.sources),
                                               (self.tr("区域"), self.regions))):
            grid.addWidget(QLabel(label), 0, col)
            grid.addWidget(editor, 1, col)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(lists)
        layout.addStretch(1)

        watch((self.company, self.visibility, self.code_prefix, self.retention_years, self.grade_a,
               self.grade_b, self.grade_c, self.grading_window_days, self.categories, self.sources,
               self.regions, self.require_visit_text, self.signed_form_days), self.content_changed.emit)

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.visibility.setEnabled(not read_only and self.may_set_policy)
        for editor in (self.categories, self.sources, self.regions):
            editor.set_read_only(read_only)
        self.lists.setTitle(self.tr("可选列表") if read_only else self.tr("可选列表（双击修改）"))

    def field_widgets(self) -> dict[str, QWidget]:
        return {
            "company": self.company, "visibility": self.visibility, "grade_a": self.grade_a,
            "grade_b": self.grade_b, "grade_c": self.grade_c, "grading_window_days": self.grading_window_days,
            "categories": self.categories.list, "sources": self.sources.list, "regions": self.regions.list,
            "customer_code_prefix": self.code_prefix, "retention_years": self.retention_years,
            "require_visit_text": self.require_visit_text, "signed_form_days": self.signed_form_days,
        }

    def load(self) -> None:
        self.baseline = load_settings(self.ctx)
        self.fill(self.baseline)

    def fill(self, s: OfficeSettings) -> None:
        self.company.setText(s.company)
        select_data(self.visibility, s.visibility)
        self.code_prefix.setText(s.customer_code_prefix)
        self.retention_years.setValue(s.retention_years)
        self.require_visit_text.setChecked(s.require_visit_text)
        self.signed_form_days.setValue(s.signed_form_days)
        self.grade_a.setValue(s.grade_a)
        self.grade_b.setValue(s.grade_b)
        self.grade_c.setValue(s.grade_c)
        self.grading_window_days.setValue(s.grading_window_days)
        self.categories.set_values(s.categories)
        self.sources.set_values(s.sources)
        self.regions.set_values(s.regions)

    def collect(self) -> OfficeSettings:
        new = replace(
            self.baseline,  # keeps what this page does not show (the admin-entered holiday years)
            company=self.company.text().strip(), visibility=str(self.visibility.currentData()),
            customer_code_prefix=self.code_prefix.text().strip(),
            retention_years=self.retention_years.value(),
            require_visit_text=self.require_visit_text.isChecked(),
            signed_form_days=self.signed_form_days.value(),
            grade_a=self.grade_a.value(), grade_b=self.grade_b.value(), grade_c=self.grade_c.value(),
            grading_window_days=self.grading_window_days.value(), categories=self.categories.values(),
            sources=self.sources.values(), regions=self.regions.values())
        new.validate()
        return new

    def save(self) -> bool:
        new = self.collect()
        if new == self.baseline:
            return False
        save_settings(self.ctx, new)
        self.baseline = new
        return True
