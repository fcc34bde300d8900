"""回访报告表: the clerk's summary of a day's or period's visits, drafted from the records, then evaluated."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import policy
from huifang_desktop.services import printing as printing_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.services.visits import ReportDraft, ReportRow
from huifang_desktop.ui.common.binding import Binder, day, plain
from huifang_desktop.ui.common.feedback import report_in_form
from huifang_desktop.ui.common.fit import fit_to_screen
from huifang_desktop.ui.common.forms import qdate
from huifang_desktop.ui.common.print_preview import (
    PrintPreviewDialog,
    add_print_button,
    preview_document,
)


def _counts(pairs: tuple[tuple[str, int], ...]) -> str:
    return "，".join(f"{k} {v}" for k, v in pairs) or "—"


class VisitReportDialog(QDialog):
    """Draft (from SQL aggregates over the clerk's records), complete and submit a 回访报告表."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.draft: ReportDraft | None = None
        self.saved: ReportRow | None = None
        self.setWindowTitle(self.tr("回访报告表"))
        fit_to_screen(self, QSize(760, 620))
        self.preview: PrintPreviewDialog | None = None
        self._build_fields(self._default_day())
        self._lay_out()
        self._bind()
        self._connect()
        self.make_draft()

    def _default_day(self) -> date:
        """Filled the day after the visits (domain.md §5): default period is the previous working day."""
        cal = policy.work_calendar(self.ctx)
        day = self.ctx.today() - timedelta(days=1)
        while not cal.is_workday(day):
            day -= timedelta(days=1)
        return day

    def _build_fields(self, day: date) -> None:
        self.start = QDateEdit(qdate(day))
        self.end = QDateEdit(qdate(day))
        for w in (self.start, self.end):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
        self.draft_button = QPushButton(self.tr("汇总(&D)"))
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.problems = QPlainTextEdit()
        self.problems.setTabChangesFocus(True)
        self.actions_box = QPlainTextEdit()  # not "actions": that would hide QWidget.actions()
        self.actions_box.setTabChangesFocus(True)
        self.evaluation = QPlainTextEdit()
        self.evaluation.setTabChangesFocus(True)
        self.evaluation.setPlaceholderText(self.tr("对本期回访工作的评价（必填）"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d9363e;")

    def _lay_out(self) -> None:
        """The period and the report's parts in a form; the buttons with 打印预览 (and its Ctrl+P)."""
        period = QHBoxLayout()
        period.addWidget(self.start)
        period.addWidget(QLabel("—"))
        period.addWidget(self.end)
        period.addWidget(self.draft_button)
        period.addStretch(1)
        form = QFormLayout()
        form.addRow(self.tr("回访人"), QLabel(self.ctx.user.display_name))
        form.addRow(self.tr("报告期间"), period)
        form.addRow(self.tr("回访汇总"), self.summary)
        form.addRow(self.tr("发现的问题"), self.problems)
        form.addRow(self.tr("处理措施"), self.actions_box)
        form.addRow(self.tr("评价"), self.evaluation)
        self.buttons = buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("提交审阅(&S)"))
        self.print_button = add_print_button(
            self, buttons, self.tr("提交前打印的是草稿（Ctrl+P）"), self.print_preview
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _bind(self) -> None:
        """Each part of the report once, as :func:`~huifang_desktop.services.visits.save_report` and its
        refusals name it; in the order a refusal gets focus (the evaluation, which the clerk writes, first)."""
        self.binder = Binder(
            [
                plain("evaluation", self.evaluation),
                plain("problems", self.problems),
                plain("actions", self.actions_box),
                day("period", self.start),
                day("end", self.end),
            ]
        )

    def _connect(self) -> None:
        self.draft_button.clicked.connect(self.make_draft)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

    def period(self) -> tuple[date, date]:
        values = self.binder.values()
        return values["period"], values["end"]

    def _parts(self) -> tuple[str, str, str]:
        """The evaluation, problems and actions as typed, in :func:`save_report`'s order."""
        values = self.binder.values()
        return values["evaluation"], values["problems"], values["actions"]

    def make_draft(self) -> None:
        start, end = self.period()
        try:
            self.draft = visit_service.draft_report(self.ctx, self.ctx.user.id, start, end)
        except (ValidationError, ServiceError) as exc:
            self.draft = None
            self.summary.clear()
            self.message.setText(str(exc))
            return
        d = self.draft
        average = "—" if d.average_score is None else f"{d.average_score:.1f} 分"
        self.summary.setText(
            self.tr("共回访 {0} 次。按类型：{1}。按结果：{2}。满意度：{3}（满意 {4}，平均 {5}）。").format(
                d.total,
                _counts(d.by_type),
                _counts(d.by_result),
                _counts(d.satisfaction),
                d.satisfied,
                average,
            )
        )
        self.binder.fill({"problems": d.problems_text, "actions": d.measures_text})
        self.message.clear()

    def print_preview(self) -> None:
        """The submitted report; before submitting, the current draft (草稿 watermark, no number)."""
        try:
            if self.saved is not None:
                doc = printing_service.visit_report_pdf(self.ctx, self.saved.id)
            else:
                if self.draft is None or self.period() != (self.draft.start, self.draft.end):
                    self.make_draft()
                if self.draft is None:
                    return
                doc = printing_service.report_draft_pdf(self.ctx, self.draft, *self._parts())
        except (ValidationError, ServiceError) as exc:
            self.message.setText(str(exc))
            return
        self.preview = preview_document(self, self.ctx, doc)

    def save(self) -> None:
        if self.draft is None or self.period() != (self.draft.start, self.draft.end):
            self.make_draft()  # the period was changed after the last summary
            if self.draft is None:
                return
        try:
            self.saved = visit_service.save_report(self.ctx, self.draft, *self._parts())
        except (ValidationError, ServiceError) as exc:
            report_in_form(self.binder.widgets(), self.message, exc)
            return
        self.accept()
