"""Correcting a returned item (退回修改): the clerk's record, report or complaint handling, sent back for review.

The record and report forms are the calendar's own dialogs, opened on the saved item; saving a corrected
record or report puts it back into the review queue (the visit services do that). The complaint's handling
is saved and resubmitted in one step. Each dialog is ``open()``ed by the tab, never ``exec()``ed.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.signoff import ReviewKind
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services import review as review_service
from huifang_desktop.services import users as user_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.complaints import ComplaintDetail, HandlingDraft
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.services.visits import ReportRow, VisitRecordDraft, VisitRecordRow
from huifang_desktop.ui.calendar.record_dialog import VisitRecordDialog
from huifang_desktop.ui.calendar.report_dialog import VisitReportDialog
from huifang_desktop.ui.common.feedback import report_in_form
from huifang_desktop.ui.common.fit import fit_to_screen


class RecordCorrectionDialog(VisitRecordDialog):
    """The 回访记录表 of a saved record, filled in; 保存 corrects it (``update_record``) → 待审阅 again."""

    def __init__(
        self, ctx: ServiceContext, row: VisitRecordRow, comment: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, None, row.customer_id, parent)
        self.row = row
        self.setWindowTitle(self.tr("修改回访记录表 {0} — {1}").format(row.number, row.customer_name))
        self.binder.fill(row)
        self.visitor.setText(row.visitor)
        if comment:
            self.message.setStyleSheet("color: #d46b08;")
            self.message.setText(self.tr("主管意见：{0}").format(comment))

    def draft(self) -> VisitRecordDraft:
        return replace(super().draft(), plan_id=self.row.plan_id, visitor_id=self.row.visitor_id)

    def save(self) -> None:
        self.message.setStyleSheet("color: #d9363e;")
        try:
            self.saved = visit_service.update_record(self.ctx, self.row.id, self.draft(), self.row.version)
        except (ValidationError, ServiceError) as exc:
            report_in_form(self.binder.widgets(), self.message, exc)
            return
        self.notes = [self.tr("已修改 {0}，重新提交审阅。").format(self.saved.number)]
        self.accept()


class ReportCorrectionDialog(VisitReportDialog):
    """The returned 回访报告表 of its period, re-summarised from the records; 提交 replaces it (same number)."""

    def __init__(
        self, ctx: ServiceContext, report: ReportRow, comment: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, parent)
        self.report = report
        self.setWindowTitle(self.tr("修改回访报告表 {0}").format(report.number))
        self.binder.fill({"period": report.period_start, "end": report.period_end})
        self.make_draft()
        self.binder.fill(report)  # its evaluation, problems and actions over the fresh summary's
        self.start.setEnabled(False)  # the period is the report's
        self.end.setEnabled(False)
        if comment:
            self.message.setText(self.tr("主管意见：{0}").format(comment))


class HandlingDialog(QDialog):
    """调查情况, 原因, 处理措施, 处理结果 and the reply text of a returned complaint; saved and resubmitted."""

    # The 处理结果 box, named as the complaint's field (error marking goes by that name); it hides
    # QDialog.result(), which nothing here reads.
    result: QPlainTextEdit  # type: ignore[assignment]

    def __init__(
        self, ctx: ServiceContext, detail: ComplaintDetail, comment: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail = detail
        self.saved = False
        self.setWindowTitle(self.tr("修改投诉处理表 {0}").format(detail.number))
        fit_to_screen(self, QSize(640, 560))
        head = QLabel(self.tr("<b>{0}</b>　{1}").format(detail.number, detail.row.subject))
        head.setWordWrap(True)
        note = QLabel(self.tr("主管意见：{0}").format(comment)) if comment else QLabel()
        note.setWordWrap(True)
        note.setStyleSheet("color: #d46b08;")
        self.investigation = self._box(detail.investigation)
        self.cause = self._box(detail.cause)
        self.measures = self._box(detail.measures)
        self.result = self._box(detail.result)
        self.reply_text = self._box(detail.reply_text)
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(44)
        self.note.setPlaceholderText(self.tr("给主管的说明（可空）"))
        form = QFormLayout()
        for label, box in (
            (self.tr("调查情况"), self.investigation),
            (self.tr("原因"), self.cause),
            (self.tr("处理措施"), self.measures),
            (self.tr("处理结果"), self.result),
            (self.tr("答复内容"), self.reply_text),
            (self.tr("说明"), self.note),
        ):
            form.addRow(label, box)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d9363e;")
        save, cancel = QDialogButtonBox.StandardButton.Save, QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(save | cancel)
        buttons.button(save).setText(self.tr("保存并重新提交(&S)"))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(note)
        layout.addLayout(form, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.field_widgets: dict[str, QWidget] = {
            "investigation": self.investigation,
            "cause": self.cause,
            "measures": self.measures,
            "result": self.result,
            "reply_text": self.reply_text,
            "note": self.note,
        }
        self.investigation.setFocus()

    @staticmethod
    def _box(text: str) -> QPlainTextEdit:
        box = QPlainTextEdit(text)
        box.setTabChangesFocus(True)
        return box

    def save(self) -> None:
        d = self.detail
        draft = HandlingDraft(
            investigation=self.investigation.toPlainText(),
            cause=self.cause.toPlainText(),
            measures=self.measures.toPlainText(),
            result=self.result.toPlainText(),
            replied_at=d.replied_at,
            reply_way=d.reply_way,
            reply_text=self.reply_text.toPlainText(),
        )
        try:
            saved = complaint_service.save_handling(self.ctx, d.id, draft, d.version)
            review_service.resubmit(
                self.ctx, ReviewKind.COMPLAINT, d.id, self.note.toPlainText(), saved.version
            )
        except (ValidationError, ServiceError) as exc:
            report_in_form(self.field_widgets, self.message, exc)
            return
        self.saved = True
        self.accept()


__all__ = ["HandlingDialog", "RecordCorrectionDialog", "ReportCorrectionDialog"]


class PasswordDialog(QDialog):
    """签字确认: the signer's log-in password, which unlocks the signing key once for this session (the key
    then stays in memory only, until the program is closed). Enter confirms, Esc cancels."""

    def __init__(
        self, parent: QWidget | None = None, what: str = "", ctx: ServiceContext | None = None
    ) -> None:
        from PySide6.QtWidgets import QLineEdit

        super().__init__(parent)
        self.setWindowTitle(self.tr("签字确认"))
        layout = QVBoxLayout(self)
        hint = self.tr("签字需要您的登录密码（本次运行中只问一次）。")
        # an example office (opened with --demo, no log-in) lists its sample passwords: say this one here too
        sample = (
            next(
                (a.password for a in user_service.demo_accounts(ctx) if a.username == ctx.user.username), None
            )
            if ctx is not None
            else None
        )
        if sample is not None:
            hint += self.tr("\n示例办公室：{0} 的密码是 {1}。").format(
                ctx.user.username if ctx else "", sample
            )
        layout.addWidget(QLabel(f"{what}\n{hint}" if what else hint))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(self.tr("登录密码"))
        form = QFormLayout()
        form.addRow(self.tr("登录密码"), self.password)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("签字"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.password.setFocus()
