"""The manager's 考核 entries from 统计 → 考核: 登记考核 (a graded event of *002 制度9* — kind, amount within its
range, the kind's points, the day, a reason) and 考核更正 (a correction of a confirmed month: amount, points,
reason; entered onto the next month that is not confirmed). The services check the rights and the values;
a refusal is shown in the dialog, which stays open."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.assessment_rules import GradedKind
from huifang_desktop.domain.stats import Period
from huifang_desktop.services import stats as stats_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError

ERROR_STYLE = "color: #d9363e;"
AMOUNT_LIMIT = 100_000


def _clerk_box(clerks: Sequence[tuple[int, str]], chosen: int | None) -> QComboBox:
    box = QComboBox()
    box.setObjectName("clerk")
    for clerk_id, name in clerks:
        box.addItem(name, clerk_id)
    if chosen is not None:
        box.setCurrentIndex(max(box.findData(chosen), 0))
    return box


class _EntryDialog(QDialog):
    """The frame both dialogs share: a form, the error line, OK/Cancel; ``saved`` is the stored entry."""

    def __init__(self, ctx: ServiceContext, month: Period, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx, self.month = ctx, month
        self.saved: stats_service.EntryRow | None = None
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setMaxLength(500)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def store(self) -> stats_service.EntryRow:
        raise NotImplementedError

    def save(self) -> None:
        try:
            self.saved = self.store()
        except (ServiceError, ValidationError) as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class GradedEventDialog(_EntryDialog):
    """登记考核: a graded event of ``month`` against a person."""

    def __init__(
        self,
        ctx: ServiceContext,
        month: Period,
        kinds: Sequence[GradedKind],
        clerks: Sequence[tuple[int, str]],
        chosen: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, month, "", parent)
        self.setWindowTitle(self.tr("登记{0}考核").format(month.label))
        self.kinds = tuple(kinds)
        self.clerk = _clerk_box(clerks, chosen)
        self.kind = QComboBox()
        self.kind.setObjectName("graded")
        for k in self.kinds:
            self.kind.addItem(k.label, k.key)
        self.amount = QSpinBox()
        self.amount.setObjectName("amount")
        self.amount.setSuffix(self.tr(" 元"))
        self.points = QLabel()
        self.day = QDateEdit()
        self.day.setObjectName("day")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.setDateRange(_qdate(month.start), _qdate(month.end))
        today = ctx.today()
        self.day.setDate(_qdate(today if month.start <= today <= month.end else month.end))
        self.reason.setPlaceholderText(self.tr("必填：事实经过，如客户投诉的内容"))
        self.form.addRow(self.tr("被考核人"), self.clerk)
        self.form.addRow(self.tr("考核项目"), self.kind)
        self.form.addRow(self.tr("金额"), self.amount)
        self.form.addRow(self.tr("绩效扣分"), self.points)
        self.form.addRow(self.tr("日期"), self.day)
        self.form.addRow(self.tr("原因"), self.reason)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()

    def current_kind(self) -> GradedKind | None:
        i = self.kind.currentIndex()
        return self.kinds[i] if 0 <= i < len(self.kinds) else None

    def _kind_changed(self) -> None:
        kind = self.current_kind()
        if kind is None:
            self.amount.setRange(0, 0)
            self.points.setText("—")
            return
        self.amount.setRange(kind.min_amount, kind.max_amount)
        self.amount.setValue(kind.min_amount)
        self.amount.setToolTip(self.tr("{0}–{1} 元").format(kind.min_amount, kind.max_amount))
        self.points.setText(self.tr("{0} 分").format(kind.points) if kind.points else self.tr("不扣分"))

    def save(self) -> None:
        if self.current_kind() is None:
            self.error.setText(self.tr("没有可登记的考核项目：请先在“设置 → 考核规则”中添加。"))
            return
        super().save()

    def store(self) -> stats_service.EntryRow:
        kind = self.current_kind()
        assert kind is not None
        d = self.day.date()
        return stats_service.add_graded_event(
            self.ctx,
            int(self.clerk.currentData()),
            kind.key,
            self.amount.value(),
            date(d.year(), d.month(), d.day()),
            self.reason.text(),
        )


class AdjustmentDialog(_EntryDialog):
    """考核更正 of the confirmed ``month``: shown on the next month that is not confirmed."""

    def __init__(
        self,
        ctx: ServiceContext,
        month: Period,
        clerks: Sequence[tuple[int, str]],
        chosen: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, month, "", parent)
        self.setWindowTitle(self.tr("{0}考核更正").format(month.label))
        self.clerk = _clerk_box(clerks, chosen)
        self.amount = QSpinBox()
        self.amount.setObjectName("amount")
        self.amount.setRange(-AMOUNT_LIMIT, AMOUNT_LIMIT)
        self.amount.setSuffix(self.tr(" 元"))
        self.amount.setToolTip(self.tr("负数表示退回（少扣）"))
        self.points = QSpinBox()
        self.points.setObjectName("points")
        self.points.setRange(-1000, 1000)
        self.points.setSuffix(self.tr(" 分"))
        self.reason.setPlaceholderText(self.tr("必填：为什么更正"))
        note = QLabel(
            self.tr("{0}的考核已审定，不再改变；本更正记入下一个未审定月份的考核，并记入操作日志。").format(
                month.label
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #595959;")
        self.form.addRow(note)
        self.form.addRow(self.tr("被考核人"), self.clerk)
        self.form.addRow(self.tr("更正金额"), self.amount)
        self.form.addRow(self.tr("更正绩效分"), self.points)
        self.form.addRow(self.tr("原因"), self.reason)

    def store(self) -> stats_service.EntryRow:
        return stats_service.add_adjustment(
            self.ctx,
            self.month,
            int(self.clerk.currentData()),
            self.amount.value(),
            self.reason.text(),
            self.points.value(),
        )


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


__all__ = ["AdjustmentDialog", "GradedEventDialog"]
