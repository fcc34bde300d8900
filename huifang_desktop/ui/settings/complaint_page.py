"""投诉规则: the authority table (核决权限, 002 制度3 第一条), who makes the closing visit (002 制度5 §5, 制度9),
the rule books' deadlines (满意答复 002 制度9 五, 咨询 hours 制度11, limits by customer origin 制度3/6/15)
and the follow-up (首问 feedback, 查办 days, the 催办 ladder, 002 制度3 第十三条).

The plain settings are :class:`~huifang_desktop.ui.settings.options.Option` tables; the pairs that do not map
one to one onto a field (the authority table per severity, origin limits, the ladder) are read and written by
:meth:`ComplaintRulesPage.collect`. Only ``MANAGE_POLICY`` may change the authority table: its boxes are
disabled for other users, and the service refuses them anyway.

Whether the closing visit must be made by somebody other than the handler is not set here: the one
visitor-independence switch (设置 → 回访规则, 001 篇11) decides it for visit records and closing visits
alike; this page says so beside the verifier level.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.complaint_follow import ChaseRung, FollowPolicy, NoticeKind, Recipient
from huifang_desktop.domain.complaint_rules import ComplaintRules
from huifang_desktop.domain.complaints import BySeverity
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role
from huifang_desktop.services.complaints import (
    load_complaint_rules,
    load_follow_policy,
    save_complaint_rules,
    save_follow_policy,
)
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated
from huifang_desktop.ui.settings.options import Kind, Option, OptionForm
from huifang_desktop.ui.settings.page import SettingsPage, watch

_LEVELS = (
    (QT_TRANSLATE_NOOP("Option", "部门主管"), Role.SUPERVISOR.value),
    (QT_TRANSLATE_NOOP("Option", "公司经理"), Role.MANAGER.value),
)

AUTHORITY_OPTIONS = (
    Option("sign_normal", QT_TRANSLATE_NOOP("Option", "一般投诉由"), Kind.CHOICE, choices=_LEVELS),
    Option("sign_important", QT_TRANSLATE_NOOP("Option", "重要投诉由"), Kind.CHOICE, choices=_LEVELS),
    Option(
        "sign_major",
        QT_TRANSLATE_NOOP("Option", "重大投诉由"),
        Kind.CHOICE,
        choices=_LEVELS,
        help=QT_TRANSLATE_NOOP("Option", "该级别或更高级别签字；打印的投诉处理表按此印签字栏"),
    ),
)
VERIFY_OPTIONS = (
    Option(
        "verifier_role",
        QT_TRANSLATE_NOOP("Option", "结案回访人"),
        Kind.CHOICE,
        help=QT_TRANSLATE_NOOP(
            "Option",
            "回访人独立性开启时，结案回访由此级别中处理人以外的人进行；无人时依次找更高级别、客服专员",
        ),
        choices=(
            (QT_TRANSLATE_NOOP("Option", "按严重程度的回访级别"), ""),
            (QT_TRANSLATE_NOOP("Option", "客服专员（客服中心）"), Role.CLERK.value),
            (QT_TRANSLATE_NOOP("Option", "部门主管"), Role.SUPERVISOR.value),
            (QT_TRANSLATE_NOOP("Option", "公司经理"), Role.MANAGER.value),
        ),
    ),
)
DEADLINE_OPTIONS = (
    Option(
        "satisfying_reply_workdays",
        QT_TRANSLATE_NOOP("Option", "满意答复"),
        maximum=30,
        suffix=QT_TRANSLATE_NOOP("Option", " 个工作日内（0：不设）"),
        help=QT_TRANSLATE_NOOP("Option", "002 制度9：二个工作日内给予客户满意回覆；逾期未答复时催办一次"),
    ),
    Option(
        "consultation_workhours",
        QT_TRANSLATE_NOOP("Option", "咨询答复"),
        minimum=1,
        maximum=200,
        suffix=QT_TRANSLATE_NOOP("Option", " 个工作小时内"),
    ),
    Option(
        "origin_domestic",
        QT_TRANSLATE_NOOP("Option", "国内客户处理期限"),
        maximum=365,
        suffix=QT_TRANSLATE_NOOP("Option", " 天（0：按严重程度）"),
    ),
    Option(
        "origin_foreign",
        QT_TRANSLATE_NOOP("Option", "国外客户处理期限"),
        maximum=365,
        suffix=QT_TRANSLATE_NOOP("Option", " 天（0：按严重程度）"),
    ),
)
FOLLOW_OPTIONS = (
    Option(
        "feedback_hours",
        QT_TRANSLATE_NOOP("Option", "反馈首问责任人"),
        minimum=1,
        maximum=72,
        suffix=QT_TRANSLATE_NOOP("Option", " 小时内"),
    ),
    Option(
        "inquiry_open_workdays",
        QT_TRANSLATE_NOOP("Option", "未办结查办"),
        maximum=60,
        suffix=QT_TRANSLATE_NOOP("Option", " 个工作日后（逾期未办）"),
    ),
)
_ORIGINS = {"origin_domestic": "国内", "origin_foreign": "国外"}
# the ladder's columns after 逾期工作日 and 类型: who is told
_RECIPIENTS = (
    (Recipient.HANDLER, QT_TRANSLATE_NOOP("Option", "负责人")),
    (Recipient.DEPARTMENT_HEAD, QT_TRANSLATE_NOOP("Option", "部门主管")),
    (Recipient.NEXT_LEVEL, QT_TRANSLATE_NOOP("Option", "上一级")),
    (Recipient.MANAGER, QT_TRANSLATE_NOOP("Option", "公司经理")),
    (Recipient.FIRST_RESPONDER, QT_TRANSLATE_NOOP("Option", "首问责任人")),
)
_KINDS = (
    (QT_TRANSLATE_NOOP("Option", "催办"), NoticeKind.CHASE.value),
    (QT_TRANSLATE_NOOP("Option", "上报"), NoticeKind.REPORT.value),
)


def _flat(rules: ComplaintRules, follow: FollowPolicy) -> SimpleNamespace:
    """The rules as the option tables' keys."""
    return SimpleNamespace(
        sign_normal=rules.sign_roles.normal.value,
        sign_important=rules.sign_roles.important.value,
        sign_major=rules.sign_roles.major.value,
        verifier_role=rules.verifier_role.value if rules.verifier_role else "",
        satisfying_reply_workdays=rules.satisfying_reply_workdays,
        consultation_workhours=rules.consultation_workhours,
        **{key: rules.origin_days.get(origin, 0) for key, origin in _ORIGINS.items()},
        feedback_hours=follow.feedback_hours,
        inquiry_open_workdays=follow.inquiry_open_workdays,
    )


class LadderTable(QTableWidget):
    """The 催办 ladder: one row per rung — working days overdue, 催办 or 上报, and who is told;
    ``edited`` when the user changes a rung."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__(0, 2 + len(_RECIPIENTS))
        self.setObjectName("ladder")
        self.setHorizontalHeaderLabels(
            [QCoreApplication.translate("Option", "逾期工作日"), QCoreApplication.translate("Option", "类型")]
            + [translated("Option", label) for _r, label in _RECIPIENTS]
        )
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setVisible(False)
        self.setMinimumHeight(150)

    def add_rung(self, rung: ChaseRung) -> None:
        row = self.rowCount()
        self.insertRow(row)
        days = QSpinBox()
        days.setRange(0, 60)
        days.setValue(rung.after_workdays)
        days.valueChanged.connect(self.edited)
        self.setCellWidget(row, 0, days)
        kind = QComboBox()
        for label, value in _KINDS:
            kind.addItem(translated("Option", label), value)
        kind.setCurrentIndex(max(kind.findData(rung.kind.value), 0))
        kind.currentIndexChanged.connect(self.edited)
        self.setCellWidget(row, 1, kind)
        for col, (who, _label) in enumerate(_RECIPIENTS, start=2):
            box = QCheckBox()
            box.setChecked(who in rung.notify)
            box.toggled.connect(self.edited)
            holder = QWidget()
            lay = QHBoxLayout(holder)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lay.addWidget(box)
            self.setCellWidget(row, col, holder)

    def set_ladder(self, ladder: tuple[ChaseRung, ...]) -> None:
        self.setRowCount(0)
        for rung in ladder:
            self.add_rung(rung)

    def ladder(self) -> tuple[ChaseRung, ...]:
        rungs = []
        for row in range(self.rowCount()):
            days = cast(QSpinBox, self.cellWidget(row, 0)).value()
            kind = NoticeKind(cast(QComboBox, self.cellWidget(row, 1)).currentData())
            notify = tuple(
                who
                for col, (who, _l) in enumerate(_RECIPIENTS, start=2)
                if cast(QCheckBox, self.cellWidget(row, col).findChild(QCheckBox)).isChecked()
            )
            if not notify:
                raise ValidationError(FieldError("ladder", "催办规则", f"第 {row + 1} 级没有通知对象"))
            rungs.append(ChaseRung(days, notify, kind))
        return tuple(sorted(rungs, key=lambda r: r.after_workdays))


class ComplaintRulesPage(SettingsPage):
    """投诉规则: authority, verification, deadlines and the follow-up ladder."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rules, self.follow = ComplaintRules(), FollowPolicy()
        self.may_set_policy = ctx.may(Permission.MANAGE_POLICY)

        authority = QGroupBox(self.tr("核决权限（签署投诉处理表的级别）"))
        self.authority_form = OptionForm(AUTHORITY_OPTIONS, QFormLayout(authority))
        verify = QGroupBox(self.tr("结案回访"))
        verify_layout = QFormLayout(verify)
        self.verify_form = OptionForm(VERIFY_OPTIONS, verify_layout)
        self.independence_note = QLabel(
            self.tr(
                "结案回访是否须由处理人以外的人进行，由 设置 → 回访规则 中的“回访人独立性”开关决定"
                "（回访记录与投诉结案回访共用这一个开关，001 独立性原则）。"
            )
        )
        self.independence_note.setObjectName("independence_note")
        self.independence_note.setWordWrap(True)
        self.independence_note.setStyleSheet("color: #666;")
        verify_layout.addRow(self.independence_note)
        deadlines = QGroupBox(self.tr("期限"))
        self.deadline_form = OptionForm(DEADLINE_OPTIONS, QFormLayout(deadlines))
        follow = QGroupBox(self.tr("跟进、催办与查办"))
        follow_layout = QFormLayout(follow)
        self.follow_form = OptionForm(FOLLOW_OPTIONS, follow_layout)
        self.ladder = LadderTable()
        add, remove = QPushButton(self.tr("添加一级")), QPushButton(self.tr("删除所选"))
        add.clicked.connect(self._add_rung)
        remove.clicked.connect(self._remove_rung)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        follow_layout.addRow(self.tr("催办规则"), self.ladder)
        follow_layout.addRow("", buttons)

        for key in ("sign_normal", "sign_important", "sign_major"):
            box = self.authority_form.widgets[key]
            box.setEnabled(self.may_set_policy)
            if not self.may_set_policy:
                box.setToolTip(self.tr("核决权限只能由公司经理或系统管理员修改"))

        left = QVBoxLayout()
        left.addWidget(authority)
        left.addWidget(verify)
        left.addWidget(deadlines)
        left.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 2)
        layout.addWidget(follow, 3)
        watch(tuple(self._option_widgets().values()), self.content_changed.emit)
        self.ladder.edited.connect(self.content_changed)

    def _option_widgets(self) -> dict[str, QWidget]:
        return {
            **self.authority_form.widgets,
            **self.verify_form.widgets,
            **self.deadline_form.widgets,
            **self.follow_form.widgets,
        }

    def _add_rung(self) -> None:
        last = self.ladder.ladder()[-1].after_workdays + 1 if self.ladder.rowCount() else 0
        self.ladder.add_rung(ChaseRung(last, (Recipient.HANDLER,)))
        self.content_changed.emit()

    def _remove_rung(self) -> None:
        row = self.ladder.currentRow()
        if row >= 0:
            self.ladder.removeRow(row)
            self.content_changed.emit()

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        for key in ("sign_normal", "sign_important", "sign_major"):
            self.authority_form.widgets[key].setEnabled(not read_only and self.may_set_policy)

    def field_widgets(self) -> dict[str, QWidget]:
        return {
            **self._option_widgets(),
            "ladder": self.ladder,
            "sign_roles": self.authority_form.widgets["sign_major"],
            "origin_days": self.deadline_form.widgets["origin_domestic"],
        }

    def load(self) -> None:
        self.rules, self.follow = load_complaint_rules(self.ctx), load_follow_policy(self.ctx)
        flat = _flat(self.rules, self.follow)
        for form in (self.authority_form, self.verify_form, self.deadline_form, self.follow_form):
            form.fill(flat)
        self.ladder.set_ladder(self.follow.ladder)

    def collect(self) -> tuple[ComplaintRules, FollowPolicy]:
        v: dict[str, Any] = {
            **self.authority_form.values(),
            **self.verify_form.values(),
            **self.deadline_form.values(),
            **self.follow_form.values(),
        }
        origins = {k: n for k, n in self.rules.origin_days.items() if k not in _ORIGINS.values()}
        origins.update({origin: v[key] for key, origin in _ORIGINS.items() if v[key] > 0})
        rules = ComplaintRules.from_dict(
            {
                **self.rules.to_dict(),
                "sign_roles": BySeverity(
                    Role(v["sign_normal"]), Role(v["sign_important"]), Role(v["sign_major"])
                ).to_dict(str),
                "verifier_role": v["verifier_role"],
                "satisfying_reply_workdays": v["satisfying_reply_workdays"],
                "consultation_workhours": v["consultation_workhours"],
                "origin_days": origins,
            }
        )
        follow = FollowPolicy.from_dict(
            {
                **self.follow.to_dict(),
                "feedback_hours": v["feedback_hours"],
                "inquiry_open_workdays": v["inquiry_open_workdays"],
                "ladder": [r.to_dict() for r in self.ladder.ladder()],
            }
        )
        return rules, follow

    def save(self) -> bool:
        rules, follow = self.collect()
        wrote = False
        if rules != self.rules:
            save_complaint_rules(self.ctx, rules)
            self.rules, wrote = rules, True
        if follow != self.follow:
            save_follow_policy(self.ctx, follow)
            self.follow, wrote = follow, True
        return wrote
