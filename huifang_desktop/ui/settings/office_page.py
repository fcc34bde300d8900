"""单位信息: the office settings (:class:`~huifang_desktop.services.settings.OfficeSettings`)."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

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
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP
from huifang_desktop.ui.settings.options import Kind, Option, OptionForm
from huifang_desktop.ui.settings.page import SettingsPage, StringListEditor, watch

_BIG = 10_000_000

# The options of the page, in the order shown: one line each (see ui/settings/options.py).
OFFICE_OPTIONS = (
    Option("company", QT_TRANSLATE_NOOP("Option", "单位名称"), Kind.TEXT),
    Option(
        "visibility",
        QT_TRANSLATE_NOOP("Option", "客户档案可见范围"),
        Kind.CHOICE,
        choices=(
            (QT_TRANSLATE_NOOP("Option", "全公司：所有员工可查看全部客户档案"), VISIBILITY_OFFICE),
            (QT_TRANSLATE_NOOP("Option", "本部门：只能查看本部门的客户档案"), VISIBILITY_DEPARTMENT),
        ),
    ),
    Option(
        "customer_code_prefix",
        QT_TRANSLATE_NOOP("Option", "客户编号前缀"),
        Kind.TEXT,
        placeholder=QT_TRANSLATE_NOOP("Option", "如 KH，编号为 KH000123"),
        max_length=10,
    ),
    Option(
        "retention_years",
        QT_TRANSLATE_NOOP("Option", "档案保存年限"),
        maximum=100,
        suffix=QT_TRANSLATE_NOOP("Option", " 年"),
    ),
    Option(
        "require_visit_text",
        QT_TRANSLATE_NOOP("Option", "回访成功时必须填写回访内容和客户意见/反馈"),
        Kind.FLAG,
        row=QT_TRANSLATE_NOOP("Option", "回访记录表"),
    ),
    Option(
        "signed_form_days",
        QT_TRANSLATE_NOOP("Option", "上门签字单"),
        minimum=1,
        maximum=365,
        suffix=QT_TRANSLATE_NOOP("Option", " 天后未回收时提醒"),
        help=QT_TRANSLATE_NOOP(
            "Option", "上门回访的纸质签字单在回访后这么多天仍未扫描导入时，启动提醒中列出"
        ),
    ),
)
GRADE_OPTIONS = (
    Option(
        "grade_a",
        QT_TRANSLATE_NOOP("Option", "A 类不少于"),
        maximum=_BIG,
        suffix=QT_TRANSLATE_NOOP("Option", " 台/件"),
    ),
    Option(
        "grade_b",
        QT_TRANSLATE_NOOP("Option", "B 类不少于"),
        maximum=_BIG,
        suffix=QT_TRANSLATE_NOOP("Option", " 台/件"),
    ),
    Option(
        "grade_c",
        QT_TRANSLATE_NOOP("Option", "C 类不少于"),
        maximum=_BIG,
        suffix=QT_TRANSLATE_NOOP("Option", " 台/件"),
    ),
    Option(
        "grading_window_days",
        QT_TRANSLATE_NOOP("Option", "统计最近"),
        minimum=1,
        maximum=3650,
        suffix=QT_TRANSLATE_NOOP("Option", " 天"),
    ),
)
# How the class is computed (issue 19 item 2; services/classes.py): the period, the scheme, the VIP share.
CLASS_OPTIONS = (
    Option(
        "grading_period",
        QT_TRANSLATE_NOOP("Option", "统计期间"),
        Kind.CHOICE,
        choices=(
            (QT_TRANSLATE_NOOP("Option", "滚动 12 个月（按上面的天数）"), "rolling"),
            (QT_TRANSLATE_NOOP("Option", "自然年（今年 1 月 1 日起）"), "calendar"),
        ),
        help=QT_TRANSLATE_NOOP("Option", "等级按这段时间的采购量（或金额）计算，每月和登记购货时重新计算"),
    ),
    Option(
        "class_scheme",
        QT_TRANSLATE_NOOP("Option", "分级方式"),
        Kind.CHOICE,
        choices=(
            (QT_TRANSLATE_NOOP("Option", "A/B/C/D：按采购量（001）"), "ABCD"),
            (QT_TRANSLATE_NOOP("Option", "VIP/普通/小客户：按金额排名（004）"), "VIP"),
        ),
    ),
    Option(
        "vip_share_percent",
        QT_TRANSLATE_NOOP("Option", "VIP 客户比例"),
        minimum=1,
        maximum=100,
        suffix=QT_TRANSLATE_NOOP("Option", " %（金额排名靠前者）"),
        help=QT_TRANSLATE_NOOP(
            "Option", "按 VIP 分级时，金额排名前这么多的客户为 VIP（004：识别 20% 的大客户）"
        ),
    ),
)


class OfficePage(SettingsPage):
    """Company name, who sees which customer files, grade thresholds, the office's lists, numbering."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.baseline = OfficeSettings()

        office, grades = self._build_forms()
        self._name_fields()
        self.may_set_policy = ctx.may(Permission.MANAGE_POLICY)  # a manager's grant (domain.md §1, 002)
        if not self.may_set_policy:
            self.visibility.setEnabled(False)
            self.visibility.setToolTip(self.tr("客户档案可见范围只能由公司经理或系统管理员修改"))
        self._lay_out(office, grades, self._build_lists())
        self._connect()

    def _build_forms(self) -> tuple[QGroupBox, QGroupBox]:
        """单位 and 客户分级: the option forms (see options.py) in their boxes."""
        office = QGroupBox(self.tr("单位"))
        self.office_form = OptionForm(OFFICE_OPTIONS, QFormLayout(office))
        grades = QGroupBox(self.tr("客户分级（按年采购量/提车量）"))
        grade_layout = QFormLayout(grades)
        self.grade_form = OptionForm(GRADE_OPTIONS, grade_layout)
        self.class_form = OptionForm(CLASS_OPTIONS, grade_layout)
        hint = QLabel(
            self.tr(
                "少于 C 类标准的为 D 类。等级在登记购货时和每月第一次启动（或命令行补排）时按最近一年的采购量重新计算，"
                "所以一年没有采购的 A 类客户会逐级下降；Excel 导入的等级在导入后 12 个月内有效（采购更多则升级）。"
                "统计期间可改为自然年；分级方式可改为 004 的 VIP / 普通 / 小客户（按金额排名，前“VIP 客户比例”为 VIP，"
                "默认 20 %）。"
                "主管可在客户档案中手动指定等级（须写原因），指定后不再自动调整；每次变化记入“等级记录”。"
                "等级变化后，新的例行回访周期从变化当天起算，不会倒算到以前；变化前已逾期的回访照常考核。\n"
                "计入哪些计划：只有例行回访算作完成例行回访计划，技术回访算作完成 A 类的技术回访计划；"
                "生日、节日问候、短信和首保/年检/续保提醒都不算（001 §3.2）。可在“回访规则”中调整。"
            )
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666;")
        grade_layout.addRow(hint)
        return office, grades

    def _name_fields(self) -> None:
        """The option forms' widgets under the names the page and its tests use."""
        w = {**self.office_form.widgets, **self.grade_form.widgets, **self.class_form.widgets}
        self.company, self.code_prefix = (
            cast(QLineEdit, w["company"]),
            cast(QLineEdit, w["customer_code_prefix"]),
        )
        self.visibility = cast(QComboBox, w["visibility"])
        self.require_visit_text = cast(QCheckBox, w["require_visit_text"])
        self.retention_years, self.signed_form_days, self.grade_a, self.grade_b, self.grade_c = (
            cast(QSpinBox, w[k])
            for k in ("retention_years", "signed_form_days", "grade_a", "grade_b", "grade_c")
        )
        self.grading_window_days = cast(QSpinBox, w["grading_window_days"])
        self.grading_period, self.class_scheme = (
            cast(QComboBox, w["grading_period"]),
            cast(QComboBox, w["class_scheme"]),
        )
        self.vip_share_percent = cast(QSpinBox, w["vip_share_percent"])

    def _build_lists(self) -> QGroupBox:
        self.categories = StringListEditor("categories", self.tr("客户类别"))
        self.sources = StringListEditor("sources", self.tr("客户来源"))
        self.regions = StringListEditor("regions", self.tr("区域"))
        self.lists = lists = QGroupBox(self.tr("可选列表（双击修改）"))
        grid = QGridLayout(lists)
        for col, (label, editor) in enumerate(
            (
                (self.tr("客户类别"), self.categories),
                (self.tr("客户来源"), self.sources),
                (self.tr("区域"), self.regions),
            )
        ):
            grid.addWidget(QLabel(label), 0, col)
            grid.addWidget(editor, 1, col)
        return lists

    def _lay_out(self, office: QGroupBox, grades: QGroupBox, lists: QGroupBox) -> None:
        top = QHBoxLayout()
        # half and half: the class box's long explanation wraps to fewer lines and is not cut off at 150 %
        top.addWidget(office, 1)
        top.addWidget(grades, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(lists)
        layout.addStretch(1)

    def _connect(self) -> None:
        self.class_scheme.currentIndexChanged.connect(self._scheme_changed)
        w = {**self.office_form.widgets, **self.grade_form.widgets, **self.class_form.widgets}
        watch((*w.values(), self.categories, self.sources, self.regions), self.content_changed.emit)

    def _scheme_changed(self) -> None:
        """The VIP share counts only for the VIP scheme; the volume thresholds only for A/B/C/D."""
        vip = self.class_scheme.currentData() == "VIP"
        self.vip_share_percent.setEnabled(vip)
        for box in (self.grade_a, self.grade_b, self.grade_c):
            box.setEnabled(not vip)

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.visibility.setEnabled(not read_only and self.may_set_policy)
        for editor in (self.categories, self.sources, self.regions):
            editor.set_read_only(read_only)
        self.lists.setTitle(self.tr("可选列表") if read_only else self.tr("可选列表（双击修改）"))

    def field_widgets(self) -> dict[str, QWidget]:
        return {
            **self.office_form.widgets,
            **self.grade_form.widgets,
            **self.class_form.widgets,
            "categories": self.categories.list,
            "sources": self.sources.list,
            "regions": self.regions.list,
        }

    def load(self) -> None:
        self.baseline = load_settings(self.ctx)
        self.fill(self.baseline)

    def fill(self, s: OfficeSettings) -> None:
        self.office_form.fill(s)
        self.grade_form.fill(s)
        self.class_form.fill(s)
        self._scheme_changed()
        self.categories.set_values(s.categories)
        self.sources.set_values(s.sources)
        self.regions.set_values(s.regions)

    def collect(self) -> OfficeSettings:
        new = replace(
            self.baseline,  # keeps what this page does not show (the admin-entered holiday years)
            **self.office_form.values(),
            **self.grade_form.values(),
            **self.class_form.values(),
            categories=self.categories.values(),
            sources=self.sources.values(),
            regions=self.regions.values(),
        )
        new.validate()
        return new

    def save(self) -> bool:
        new = self.collect()
        if new == self.baseline:
            return False
        save_settings(self.ctx, new)
        self.baseline = new
        return True
