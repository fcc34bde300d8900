"""The detail pane beside the register: one complaint's header, actions, handling, attachments and history.

Three layers, OpenLP's split of layout from behaviour: ``detail_layout.py`` builds the widgets,
``detail_view.py`` shows a complaint in them (and which actions apply), and :class:`ComplaintDetailPane` here
connects them and runs the actions.

Buttons are enabled from ``ComplaintDetail.actions`` (what the acting user may do now; the services check
again). Actions that need input open a small form inline, above the pages: nothing here is modal. Every
service error is shown in the pane; a stale version (ConflictError) reloads the complaint and says so.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QSizePolicy, QWidget

from huifang_desktop.domain.complaints import Severity
from huifang_desktop.domain.errors import FieldError
from huifang_desktop.domain.visits import VisitMethod, VisitResult
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services import review as review_service
from huifang_desktop.services import workflow
from huifang_desktop.services.complaints import (
    ClosingVisitDraft,
    ComplaintDetail,
    HandlingDraft,
    InquiryDraft,
)
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ConflictError, ServiceError, ValidationError
from huifang_desktop.ui.common.feedback import mark_fields, report_in_form
from huifang_desktop.ui.common.forms import picked_datetime, qdatetime
from huifang_desktop.ui.complaints.detail_layout import PAGE_HANDLING, PAGE_INQUIRY
from huifang_desktop.ui.complaints.detail_view import ComplaintDetailView
from huifang_desktop.ui.complaints.model import full_time

ERROR_COLOR = "color: #d9363e;"
INFO_COLOR = "color: #237804;"


class ComplaintDetailPane(ComplaintDetailView):
    """Shows one complaint (``load``); ``changed`` is emitted with its id after every successful action,
    ``open_complaint`` when another complaint should be shown (the new linked one)."""

    changed = Signal(int)
    open_complaint = Signal(int)

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        # injectable for tests: file pickers and the desktop's "open this file"
        self.choose_files: Callable[[], list[str]] = self._ask_files
        self.choose_save_path: Callable[[str], str] = self._ask_save_path
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.last_opened: Path | None = None
        self.preview: Any = None
        self._connect()
        self.load(None)

    def _connect(self) -> None:
        """What the widgets do: the action buttons, the print shortcut, the inline forms' 确定/取消, the
        handling page and the attachment buttons."""
        self.print_button.clicked.connect(self.print_preview)
        QShortcut(QKeySequence.StandardKey.Print, self, self.print_preview)
        submits: dict[str, Callable[[], None]] = {
            "visit": self.submit_visit,
            "withdraw": self.submit_withdraw,
            "reply": self.submit_reply,
            "convert": self.submit_convert,
            "chase": self.submit_chase,
            "reassign": self.submit_reassign,
            "reopen_linked": self.submit_reopen,
            "supervise": self.submit_supervise,
        }
        for key, form in self.forms.items():
            form.ok.clicked.connect(submits[key])
            form.cancel.clicked.connect(self.close_form)
        self.visit_result.currentTextChanged.connect(
            lambda t: self.visit_satisfaction.setEnabled(t == VisitResult.SUCCESS.value)
        )
        self.replied.toggled.connect(self._replied_toggled)
        self.save_handling_button.clicked.connect(self.save_handling)
        self.save_inquiry_button.clicked.connect(self.save_inquiry)
        self.resubmit_button.clicked.connect(self.resubmit_returned)
        self.add_attachment_button.clicked.connect(self.add_attachments)
        self.open_attachment_button.clicked.connect(self.open_attachment)
        self.save_attachment_button.clicked.connect(self.save_attachment)
        self.remove_attachment_button.clicked.connect(self.remove_attachment)
        self.attachment_view.doubleClicked.connect(lambda _i: self.open_attachment())
        self.attachment_view.selectionModel().selectionChanged.connect(lambda *_: self._attachment_buttons())
        handlers: dict[str, Callable[[], None]] = {
            "accept": self.accept_complaint,
            "finish": self.finish_handling,
            "close": self.close_complaint,
        }
        for key, b in self.buttons.items():
            if key in handlers:
                b.clicked.connect(handlers[key])
            else:
                b.clicked.connect(lambda _=False, k=key: self.open_form(k))

    def print_preview(self) -> None:
        """The 投诉处理表 of the shown complaint in the print preview (打印 / 另存为 PDF, audited)."""
        if self.detail is None:
            return
        from huifang_desktop.services import printing
        from huifang_desktop.ui.common.print_preview import preview_document

        try:
            doc = printing.complaint_pdf(self.ctx, self.detail.id)
        except (ValidationError, ServiceError) as exc:
            self.message.setText(str(exc))
            return
        self.preview = preview_document(self, self.ctx, doc)

    # --- inline forms ---------------------------------------------------------------------------------------
    def open_form(self, key: str) -> None:
        d = self.detail
        if d is None:
            return
        form = self.forms[key]
        now = qdatetime(self.ctx.now())
        if key == "visit":
            self.visit_time.setDateTime(now)
            self.visit_result.setCurrentIndex(0)
            self.visit_satisfaction.setCurrentIndex(0)
            self.visit_method.setCurrentText(VisitMethod.PHONE.value)  # 上门 needs the customer's signature
            self.visit_note.clear()
        elif key == "reply":
            self.reply_message_time.setDateTime(now)
            self.reply_message_text.clear()
        elif key == "withdraw":
            self.withdraw_reason.clear()
        elif key == "chase":
            self.chase_note.clear()
        elif key == "supervise":
            self.supervise_note.clear()
        elif key == "convert":
            self.convert_category.setCurrentIndex(0)
        elif key == "reopen_linked":
            self.reopen_content.clear()
        elif key == "reassign":
            self.reassign_handler.clear()
            for uid, name, role in complaint_service.handlers(self.ctx):
                if uid != d.row.handler_id:
                    self.reassign_handler.addItem(f"{name}（{role}）", uid)
        mark_fields(form.fields, None)
        self.message.clear()
        for other in self.forms.values():  # the box takes the height of this form, not of the tallest
            policy = QSizePolicy.Policy.Preferred if other is form else QSizePolicy.Policy.Ignored
            other.setSizePolicy(policy, policy)
        self.form_stack.setCurrentWidget(form)
        self.form_box.setVisible(True)
        first = form.first_field()
        if first is not None:
            first.setFocus()

    # --- feedback -------------------------------------------------------------------------------------------
    def _info(self, text: str) -> None:
        self.message.setStyleSheet(INFO_COLOR)
        self.message.setText(text)

    def _error(self, exc: Exception, fields: dict[str, QWidget] | None = None) -> None:
        self.message.setStyleSheet(ERROR_COLOR)
        if fields is not None:
            report_in_form(fields, self.message, exc)
        else:
            self.message.setText(str(exc))

    def _run(
        self, call: Callable[[], ComplaintDetail], done: str, fields: dict[str, QWidget] | None = None
    ) -> ComplaintDetail | None:
        """Call a service; show the result, or its error in the pane. A stale version reloads."""
        try:
            d = call()
        except ConflictError as exc:
            self.reload()
            self.message.setStyleSheet(ERROR_COLOR)
            self.message.setText(self.tr("{0}已重新载入最新内容。").format(str(exc)))
            if self.detail is not None:
                self.changed.emit(self.detail.id)
            return None
        except (ValidationError, ServiceError) as exc:
            self._error(exc, fields)
            return None
        if fields is not None:
            mark_fields(fields, None)
        self.show_detail(d)
        self._info(done)
        self.changed.emit(d.id)
        return d

    # --- simple actions -------------------------------------------------------------------------------------
    def accept_complaint(self) -> None:
        d = self.detail
        if d is not None:
            self._run(
                lambda: complaint_service.accept(self.ctx, d.id, d.version),
                self.tr("已受理 {0}，处理期限 {1}。").format(d.number, full_time(d.handling_due)),
            )

    def finish_handling(self) -> None:
        d = self.detail
        if d is None:
            return
        if "edit" in d.actions and self._handling_draft() != self._handling_shown:
            # what is on screen counts: save the typed handling first, then move on with its new version
            shown = d
            saved = self._run(
                lambda: complaint_service.save_handling(
                    self.ctx, shown.id, self._handling_draft(), shown.version
                ),
                "",
                self.handling_fields,
            )
            if saved is None:
                return
            d = saved
        done = self._run(lambda: complaint_service.finish_handling(self.ctx, d.id, d.version), "")
        if done is not None:
            due = done.visit_due.isoformat() if done.visit_due else "—"
            self._info(self.tr("已办结，转入待回访：请在 {0} 前完成结案回访。").format(due))

    def close_complaint(self) -> None:
        d = self.detail
        if d is not None:
            self._run(
                lambda: complaint_service.close(self.ctx, d.id, d.version),
                self.tr("{0} 已关闭。").format(d.number),
            )

    def save_handling(self) -> None:
        d = self.detail
        if d is None:
            return
        draft = self._handling_draft()
        self._run(
            lambda: complaint_service.save_handling(self.ctx, d.id, draft, d.version),
            self.tr("处理情况已保存。"),
            self.handling_fields,
        )

    # --- actions with a form --------------------------------------------------------------------------------
    def submit_visit(self) -> None:
        d = self.detail
        if d is None:
            return
        draft = ClosingVisitDraft(
            result=self.visit_result.currentText(),
            satisfaction=(self.visit_satisfaction.currentData() or "")
            if self.visit_satisfaction.isEnabled()
            else "",
            method=self.visit_method.currentText(),
            visited_at=picked_datetime(self.visit_time),
            note=self.visit_note.text(),
        )
        done = self._run(
            lambda: workflow.record_closing_visit(self.ctx, d.id, draft), "", self.forms["visit"].fields
        )
        if done is None:
            return
        self.close_form()
        if done.state == "已关闭":
            self._info(self.tr("结案回访已登记：客户满意，{0} 已关闭。").format(done.number))
        elif done.state == "处理中":
            self._info(self.tr("客户不满意：已退回处理中，并已安排再次回访。"))
        elif done.visit_satisfied:
            needed = self.policy.handler_roles[Severity(done.row.severity)].label
            self._info(self.tr("回访满意，已登记；{0}投诉待{1}审核关闭。").format(done.row.severity, needed))
        else:
            self._info(self.tr("未能联系上客户，仍待回访，请再次回访。"))

    def submit_withdraw(self) -> None:
        d = self.detail
        if (
            d is not None
            and self._run(
                lambda: complaint_service.withdraw(self.ctx, d.id, self.withdraw_reason.text(), d.version),
                self.tr("{0} 已撤销。").format(d.number),
                self.forms["withdraw"].fields,
            )
            is not None
        ):
            self.close_form()

    def submit_reply(self) -> None:
        d = self.detail
        if (
            d is not None
            and self._run(
                lambda: complaint_service.reply_message(
                    self.ctx,
                    d.id,
                    self.reply_message_text.toPlainText(),
                    self.reply_message_way.currentText(),
                    self.reply_message_time.dateTime().toPython(),
                    d.version,
                ),
                self.tr("已答复，{0} 已关闭。").format(d.number),
                self.forms["reply"].fields,
            )
            is not None
        ):
            self.close_form()

    def submit_convert(self) -> None:
        d = self.detail
        if d is None:
            return
        done = self._run(
            lambda: complaint_service.convert_to_complaint(
                self.ctx,
                d.id,
                severity=self.convert_severity.currentText(),
                category=self.convert_category.currentData() or "",
                expected_version=d.version,
            ),
            "",
            self.forms["convert"].fields,
        )
        if done is not None:
            self.close_form()
            self._info(
                self.tr("{0} 已转为投诉 {1}，负责人 {2}。").format(d.number, done.number, done.row.handler)
            )

    def submit_chase(self) -> None:
        d = self.detail
        if (
            d is not None
            and self._run(
                lambda: complaint_service.chase(self.ctx, d.id, self.chase_note.text()),
                self.tr("已催办 {0}。").format(d.number),
                self.forms["chase"].fields,
            )
            is not None
        ):
            self.close_form()

    def submit_supervise(self) -> None:
        d = self.detail
        if (
            d is not None
            and self._run(
                lambda: complaint_service.supervise(self.ctx, d.id, self.supervise_note.text()),
                self.tr("已督办 {0}：负责人 {1} 与首问责任人已收到通知。").format(d.number, d.row.handler),
                self.forms["supervise"].fields,
            )
            is not None
        ):
            self.close_form()

    # --- 查办 and the returned file ------------------------------------------------------------------------
    def save_inquiry(self) -> None:
        """Enter (or correct) the 查办 of the shown late complaint; the supervisor saving it decided."""
        d = self.detail
        if d is None:
            return
        draft = InquiryDraft(
            reason=self.inquiry_reason.toPlainText(),
            measures=self.inquiry_measures.toPlainText(),
            responsible=self.inquiry_responsible.text(),
        )
        version = self.inquiry.version if self.inquiry is not None and self.inquiry.decided_at else None
        done = self._run(
            lambda: self._record_inquiry(d.id, draft, version),
            self.tr("{0} 的查办已保存，负责人与首问责任人已收到通知。").format(d.number),
            self.inquiry_fields,
        )
        if done is not None:
            self.pages.setCurrentIndex(PAGE_INQUIRY)

    def _record_inquiry(self, complaint_id: int, draft: InquiryDraft, version: int | None) -> ComplaintDetail:
        complaint_service.record_inquiry(self.ctx, complaint_id, draft, version)
        return complaint_service.get_complaint(self.ctx, complaint_id)

    def resubmit_returned(self) -> None:
        """修改后重新提交: save the corrected handling (when changed), then send the file back to review —
        the same service calls as 审阅's 我的退回."""
        d, rv = self.detail, self.review
        if d is None or rv is None or "resubmit" not in rv.actions:
            return
        draft = self._handling_draft()
        changed = "edit" in rv.actions and draft != self._handling_shown
        done = self._run(
            lambda: self._save_and_resubmit(d, draft, changed),
            self.tr("已修改并重新提交 {0}，等待主管审阅。").format(d.number),
            self.handling_fields,
        )
        if done is None:
            self.pages.setCurrentIndex(PAGE_HANDLING)

    def _save_and_resubmit(self, d: ComplaintDetail, draft: HandlingDraft, changed: bool) -> ComplaintDetail:
        version = d.version
        if changed:
            version = complaint_service.save_handling(self.ctx, d.id, draft, d.version).version
        review_service.resubmit(self.ctx, review_service.ReviewKind.COMPLAINT, d.id, "", version)
        return complaint_service.get_complaint(self.ctx, d.id)

    def submit_reassign(self) -> None:
        d = self.detail
        if d is None:
            return
        uid = self.reassign_handler.currentData()
        if uid is None:
            self._error(
                ValidationError(FieldError("handler_id", "负责人", "请选择新负责人")),
                self.forms["reassign"].fields,
            )
            return
        done = self._run(
            lambda: complaint_service.reassign(self.ctx, d.id, int(uid), d.version),
            "",
            self.forms["reassign"].fields,
        )
        if done is not None:
            self.close_form()
            self._info(self.tr("已转交给 {0}。").format(done.row.handler))

    def submit_reopen(self) -> None:
        d = self.detail
        if d is None:
            return
        try:
            new = complaint_service.reopen_linked(
                self.ctx, d.id, content=self.reopen_content.text(), channel=self.reopen_channel.currentText()
            )
        except (ValidationError, ServiceError) as exc:
            self._error(exc, self.forms["reopen_linked"].fields)
            return
        self.close_form()
        self.changed.emit(d.id)
        self.open_complaint.emit(new.id)
        self.show_detail(new)
        self._info(self.tr("已新建关联投诉 {0}（原投诉 {1}）。").format(new.number, d.number))

    # --- attachments ----------------------------------------------------------------------------------------
    def _ask_files(self) -> list[str]:
        files, _filter = QFileDialog.getOpenFileNames(
            self,
            self.tr("添加附件"),
            "",
            self.tr("所有文件 (*);;PDF (*.pdf);;图片 (*.jpg *.jpeg *.png);;Word (*.doc *.docx)"),
        )
        return list(files)

    def _ask_save_path(self, name: str) -> str:
        path, _filter = QFileDialog.getSaveFileName(self, self.tr("附件另存为"), str(Path.home() / name))
        return path

    def add_attachments(self) -> None:
        d = self.detail
        if d is None:
            return
        files = self.choose_files()
        if not files:
            return
        kind = self.attachment_kind.currentText()
        added = []
        for path in files:
            try:
                complaint_service.attach_file(self.ctx, [d.id], path, kind)
            except (ValidationError, ServiceError) as exc:
                self.reload()
                self._error(exc)
                return
            added.append(Path(path).name)
        self.reload()
        self.pages.setCurrentIndex(2)
        self._info(self.tr("已添加{0}：{1}").format(kind, "、".join(added)))
        self.changed.emit(d.id)

    def _attachment_bytes(self) -> tuple[int, str, bytes] | None:
        a = self.selected_attachment()
        if a is None:
            return None
        try:
            name, data = complaint_service.attachment_data(self.ctx, a.id)
        except ServiceError as exc:
            self._error(exc)
            return None
        return a.id, name, data

    def open_attachment(self) -> None:
        got = self._attachment_bytes()
        if got is None:
            return
        aid, name, data = got
        folder = Path(tempfile.gettempdir()) / "huifang-attachments"
        target = folder / f"{aid}-{Path(name).name}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as exc:
            self._error(
                ServiceError(self.tr("无法写出临时文件 {0}：{1}").format(target, exc.strerror or exc))
            )
            return
        self.last_opened = target
        if not self.open_url(QUrl.fromLocalFile(str(target))):
            self._error(
                ServiceError(self.tr("没有能打开“{0}”的程序；可用“另存为…”保存后再打开。").format(name))
            )
            return
        self._info(self.tr("已打开 {0}（临时副本，修改不会存回）。").format(name))

    def save_attachment(self) -> None:
        got = self._attachment_bytes()
        if got is None:
            return
        _aid, name, data = got
        path = self.choose_save_path(name)
        if not path:
            return
        try:
            Path(path).write_bytes(data)
        except OSError as exc:
            self._error(ServiceError(self.tr("无法保存到 {0}：{1}").format(path, exc.strerror or exc)))
            return
        self._info(self.tr("已保存到 {0}").format(path))

    def remove_attachment(self) -> None:
        d, a = self.detail, self.selected_attachment()
        if d is None or a is None:
            return
        self._run(
            lambda: complaint_service.detach(self.ctx, d.id, a.id), self.tr("已删除附件 {0}。").format(a.name)
        )
