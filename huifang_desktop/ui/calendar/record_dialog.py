"""回访记录表 entry: every field of domain.md §5, pre-filled from the plan, phone script beside it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import printing as printing_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services import workflow
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.services.settings import load_settings
from huifang_desktop.services.visits import RecordDraftData, VisitRecordDraft, VisitRecordRow
from huifang_desktop.ui.common.binding import (
    Binder,
    blank_none,
    check,
    combo_text,
    iso_date,
    line,
    marks,
    moment,
    plain,
)
from huifang_desktop.ui.common.feedback import report_in_form
from huifang_desktop.ui.common.fit import fit_to_screen, scrolling
from huifang_desktop.ui.common.forms import form_row
from huifang_desktop.ui.common.print_preview import (
    PrintPreviewDialog,
    add_print_button,
    preview_document,
)


def _text_box(height: int = 60) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)
    box.setFixedHeight(height)
    return box


class VisitRecordDialog(QDialog):
    """Fill in a 回访记录表 for a plan (or for a customer without a plan). ``saved`` holds the result."""

    # The 结果 field, named as the record's field (error marking goes by that name); it hides
    # QDialog.result(), which nothing here reads.
    result: QComboBox  # type: ignore[assignment]

    def __init__(
        self,
        ctx: ServiceContext,
        plan_id: int | None,
        customer_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.saved: VisitRecordRow | None = None
        self.notes: list[str] = []  # what the caller shows after saving (follow-up planned, complaint offer)
        self.pre: RecordDraftData = visit_service.prefill_record(ctx, plan_id, customer_id)
        pre = self.pre
        self.setWindowTitle(self.tr("回访记录表 — {0} {1}").format(pre.customer_code, pre.customer_name))
        fit_to_screen(self, QSize(980, 680))

        required = "*" if load_settings(ctx).require_visit_text else ""  # marked as the service will ask
        buttons = self._build_ui(pre, required)
        self._bind()
        self.binder.fill(pre, content="\n".join(pre.script))  # the plan's contact, type, method and time
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.method.currentTextChanged.connect(self._method_changed)
        self.visit_type.currentTextChanged.connect(self._type_changed)
        self._method_changed(self.method.currentText())
        # Tab from the last field reaches 保存 first, then 打印预览, then 取消 (the button box's own order put
        # 取消 before 保存 on some platforms' button layouts)
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        QWidget.setTabOrder(self.customer_signed, save)
        QWidget.setTabOrder(save, self.print_button)
        QWidget.setTabOrder(self.print_button, buttons.button(QDialogButtonBox.StandardButton.Cancel))
        # what the preview compares with (nothing typed → the blank form); the base form, as subclasses that
        # fill in a saved record set their own fields after this
        self._prefilled = VisitRecordDialog.draft(self)
        self.feedback.setFocus()

    def _build_ui(self, pre: RecordDraftData, required: str) -> QDialogButtonBox:
        """The widgets and their layout (no signals, no service calls); returns the button box."""
        head = self._build_head(pre)
        self._build_record_fields(pre)
        form = self._build_record_form(required)
        script = self._build_script_box(pre)
        buttons = self._build_message_and_buttons()

        form_part = QWidget()
        left = QVBoxLayout(form_part)
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(form)
        left.addStretch(1)  # spare height goes below the form, not into its rows
        body = QHBoxLayout()
        body.addWidget(scrolling(form_part), 1)  # the form scrolls on a low screen; the buttons stay below
        body.addWidget(script)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(body, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

        return buttons

    def _build_head(self, pre: RecordDraftData) -> QLabel:
        """The line above the form: the customer, its 编号, grade, owner and which attempt this is."""
        return QLabel(
            self.tr("<b>{0}</b>　{1}　等级 {2}　负责人 {3}{4}").format(
                pre.customer_name,
                pre.customer_code,
                pre.grade,
                pre.owner,
                self.tr("　第 {0} 次回访").format(pre.attempt) if pre.attempt > 1 else "",
            )
        )

    def _build_record_fields(self, pre: RecordDraftData) -> None:
        """The fields of the 回访记录表, 联系人 to 客户签字 (laid out by :meth:`_build_record_form`)."""
        self.contact_name = QLineEdit()
        self.contact_phone = QLineEdit()
        self.visit_type = QComboBox()
        self.visit_type.addItems(list(pre.visit_types))
        self.method = QComboBox()
        self.method.addItems(list(pre.methods))
        self.visited_at = QDateTimeEdit()
        self.visited_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.visited_at.setCalendarPopup(True)
        self.visitor = QLabel(pre.visitor)
        self.content = _text_box()
        self.feedback = _text_box()
        self.problems = _text_box(48)
        self.measures = _text_box(48)
        self.result = QComboBox()
        self.result.addItems(list(pre.results))
        self.satisfaction = QComboBox()
        self.satisfaction.addItems([""] + list(pre.satisfaction_levels))
        self.handling = _text_box(40)
        self.transfer_department = QLineEdit()
        self.transfer_department.setPlaceholderText(self.tr("有问题需转交时填写，24 小时内转交"))
        self.next_visit_on = QLineEdit()
        self.next_visit_on.setPlaceholderText(self.tr("如 2026-12-05，可空"))
        self.customer_signed = QCheckBox(self.tr("客户已签字（纸质表已签或附扫描件）"))

    def _build_record_form(self, required: str) -> QFormLayout:
        """The form, one labelled row per line of the paper 回访记录表 (``required`` marks the texts)."""
        form = QFormLayout()
        form.addRow(self.tr("联系人"), form_row(self.contact_name, self.tr("电话"), self.contact_phone))
        form.addRow(
            self.tr("回访类型"),
            form_row(
                self.visit_type,
                self.tr("方式"),
                self.method,
                self.tr("时间"),
                self.visited_at,
                self.tr("回访人"),
                self.visitor,
            ),
        )
        form.addRow(self.tr("回访内容") + required, self.content)
        form.addRow(self.tr("客户意见/反馈") + required, self.feedback)
        form.addRow(self.tr("问题点"), self.problems)
        form.addRow(self.tr("改善对策"), self.measures)
        form.addRow(
            self.tr("结果"), form_row(self.result, self.tr("满意度"), self.satisfaction, stretch=True)
        )
        form.addRow(self.tr("处理情况"), self.handling)
        form.addRow(self.tr("转交部门"), self.transfer_department)
        form.addRow(self.tr("下次回访时间"), self.next_visit_on)
        form.addRow(self.tr("客户签字"), self.customer_signed)
        return form

    def _build_script_box(self, pre: RecordDraftData) -> QGroupBox:
        """The phone script of the plan's visit type, beside the form."""
        script = QGroupBox(self.tr("回访话术（{0}）").format(pre.visit_type))
        self.script_label = QLabel("\n".join(f"· {line}" for line in pre.script))
        self.script_label.setWordWrap(True)
        self.script_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        script_layout = QVBoxLayout(script)
        script_layout.addWidget(self.script_label)
        script_layout.addStretch(1)
        script.setFixedWidth(260)
        return script

    def _build_message_and_buttons(self) -> QDialogButtonBox:
        """The error line and 保存 / 打印预览 / 取消; returns the button box."""
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d9363e;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("保存(&S)"))
        self.print_button = add_print_button(
            self,
            buttons,
            self.tr(
                "保存前：未填写时打印空白回访记录表（预印客户、联系人），上门时请客户签字；已填写时预览所填内容（Ctrl+P）"
            ),
            self.print_preview,
        )
        self.preview: PrintPreviewDialog | None = None
        return buttons

    def _bind(self) -> None:
        """Each field of the 回访记录表 once, in form order. The visitor is shown as a name (the plan's or the
        saved record's); a refusal about ``visitor_id`` marks that name."""
        self.binder = Binder(
            [
                line("contact_name", self.contact_name),
                line("contact_phone", self.contact_phone),
                combo_text("visit_type", self.visit_type),
                combo_text("method", self.method),
                moment("visited_at", self.visited_at),
                plain("content", self.content),
                plain("feedback", self.feedback),
                plain("problems", self.problems),
                plain("measures", self.measures),
                combo_text("result", self.result),
                combo_text("satisfaction", self.satisfaction),
                plain("handling", self.handling),
                line("transfer_department", self.transfer_department),
                line("next_visit_on", self.next_visit_on, to_text=iso_date, from_text=blank_none),
                check("customer_signed", self.customer_signed),
                marks("visitor_id", self.visitor),
            ]
        )

    def _method_changed(self, method: str) -> None:
        needs = method == "上门"
        self.customer_signed.setEnabled(needs)
        self.customer_signed.setText(
            self.tr("客户已签字（纸质表已签或附扫描件）")
            if needs
            else self.tr("{0}回访，无需客户签字").format(method)
        )
        if not needs:
            self.customer_signed.setChecked(False)

    def _type_changed(self, visit_type: str) -> None:
        from huifang_desktop.domain.visits import phone_script

        try:
            lines = phone_script(visit_type)
        except (KeyError, ValueError):
            lines = ()
        self.script_label.setText("\n".join(f"· {line}" for line in lines))

    def draft(self) -> VisitRecordDraft:
        return VisitRecordDraft(
            customer_id=self.pre.customer_id, plan_id=self.pre.plan_id, **self.binder.values()
        )

    def print_preview(self) -> None:
        """The saved record's 回访记录表; before saving, what is typed (草稿, unnumbered) or, while nothing is
        typed yet, the blank form of the plan (or customer) to take on site."""
        try:
            if self.saved is not None:
                doc = printing_service.visit_record_pdf(self.ctx, self.saved.id)
            elif self.draft() != self._prefilled:
                doc = printing_service.draft_visit_record_pdf(self.ctx, self.draft())
            else:
                doc = printing_service.blank_visit_record_pdf(
                    self.ctx, self.pre.plan_id, customer_id=self.pre.customer_id
                )
        except (ValidationError, ServiceError) as exc:
            self.message.setText(str(exc))
            return
        self.preview = preview_document(self, self.ctx, doc)

    def save(self) -> None:
        try:
            self.saved = workflow.record_visit(self.ctx, self.draft())
        except (ValidationError, ServiceError) as exc:
            report_in_form(self.binder.widgets(), self.message, exc)
            return
        self.notes = [self.tr("已保存 {0}。").format(self.saved.number)]
        if self.saved.follow_up_plan_id:
            self.notes.append(self.tr("已自动安排再次回访。"))
        if self.saved.offer_complaint:
            self.notes.append(self.tr("客户不满意：如需投诉处理，请在“投诉登记”中登记。"))
        self.accept()
