"""售后服务记录 entry (domain.md §6): the service record form and its follow-ups (跟进).

The dialog is window-modal but never ``exec()``-ed: the tab ``open()``s it and listens to ``saved``. It calls
the services only; a refused save (missing fields, someone else saved first) shows inside the form.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import customers as customer_service
from huifang_desktop.services import service_records as service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.services.service_records import ServiceDraft, ServiceRecordDetail, ServiceStatus
from huifang_desktop.storage.queries import CustomerFilter
from huifang_desktop.ui.common.binding import (
    Binder,
    Binding,
    combo_data,
    combo_text,
    day,
    line,
    moment,
    plain,
    spin,
)
from huifang_desktop.ui.common.feedback import mark_fields, report_in_form
from huifang_desktop.ui.common.fit import fit_to_screen
from huifang_desktop.ui.common.forms import form_row, qdate, qdatetime

SEARCH_DELAY_MS = 200
CUSTOMER_MATCHES = 30


def _text_box(height: int = 52) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)
    box.setFixedHeight(height)
    return box


class CustomerPicker(QWidget):
    """Search by name, 编号, phone or pinyin initials; pick one of the matches (customer id as item data)."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("输入客户名称、编号、电话或拼音首字母"))
        self.search.setClearButtonEnabled(True)
        self.matches = QComboBox()
        self.matches.setMinimumWidth(300)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.search, 1)
        row.addWidget(self.matches, 2)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.find)
        self.search.textChanged.connect(self._timer.start)
        self.search.returnPressed.connect(self.find)

    def find(self) -> None:  # type: ignore[override]  # hides QWidget.find(WId), which no caller wants here
        self._timer.stop()
        text = self.search.text().strip()
        keep = self.customer_id()
        self.matches.clear()
        if not text:
            return
        found = customer_service.list_customers(self.ctx, CustomerFilter(text=text), None, CUSTOMER_MATCHES)
        for row in found:
            self.matches.addItem(f"{row.code} {row.name}" + (f"（{row.phone}）" if row.phone else ""), row.id)
        if keep is not None:
            at = self.matches.findData(keep)
            if at >= 0:
                self.matches.setCurrentIndex(at)

    def set_customer(self, customer_id: int, code: str, name: str) -> None:
        self.matches.clear()
        self.matches.addItem(f"{code} {name}", customer_id)

    def customer_id(self) -> int | None:
        data = self.matches.currentData()
        return int(data) if data is not None else None


class ServiceRecordDialog(QDialog):
    """New (``record_id`` None) or existing service record; emits ``saved`` with the saved detail."""

    saved = Signal(object)
    # The 服务结果 field, named as the record's field (error marking goes by that name); it hides
    # QDialog.result(), which nothing here reads.
    result: QLineEdit  # type: ignore[assignment]

    def __init__(
        self,
        ctx: ServiceContext,
        record_id: int | None = None,
        parent: QWidget | None = None,
        *,
        customer: tuple[int, str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail: ServiceRecordDetail | None = (
            service.get_service_record(ctx, record_id) if record_id is not None else None
        )
        self.choices = service.choices(ctx)
        self.setWindowTitle(
            self.tr("售后服务记录 — {0}").format(self.detail.number)
            if self.detail
            else self.tr("新增售后服务记录")
        )
        fit_to_screen(
            self, QSize(900, 720 if self.detail is not None else 540)
        )  # a new record has no follow-ups yet

        buttons = self._build_ui()
        self._bind()
        self.follow_button.clicked.connect(self.add_follow_up)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.save)
        self.status.currentTextChanged.connect(self._status_changed)
        if self.detail is not None:
            self._show(self.detail)
        else:
            self.follow_box.setVisible(False)
            if customer is not None:
                self.customer.set_customer(*customer)
            self._status_changed(self.status.currentText())

    def _build_ui(self) -> QDialogButtonBox:
        """The widgets and their layout (no signals); returns the button box."""
        self._build_record_fields()
        form = self._build_record_form()
        self._build_follow_box()
        buttons = self._build_messages_and_buttons()

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.follow_box)
        layout.addStretch(1)  # spare height below the form, not into its rows
        layout.addWidget(self.visit_label)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        return buttons

    def _build_record_fields(self) -> None:
        """The record's own fields, 客户 to 备注 (laid out by :meth:`_build_record_form`)."""
        c = self.choices
        self.customer = CustomerPicker(self.ctx)
        self.served_on = QDateEdit()
        self.completed_on = QDateEdit()
        for edit in (self.served_on, self.completed_on):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(qdate(self.ctx.today()))
        self.kind = QComboBox()
        self.kind.addItems(list(c.kinds))
        self.status = QComboBox()
        self.status.addItems(list(c.statuses))
        self.place = QLineEdit()
        self.product = QLineEdit()
        self.serial_no = QLineEdit()
        self.problem = _text_box()
        self.content = _text_box()
        self.parts = QLineEdit()
        self.parts_quantity = QSpinBox()
        self.parts_quantity.setRange(0, 99_999)
        self.parts_amount = QLineEdit()
        self.cost = QLineEdit()
        for money in (self.parts_amount, self.cost):
            money.setPlaceholderText(self.tr("元，如 1200.50"))
            money.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.result = QLineEdit()
        self.feedback = QLineEdit()
        self.satisfaction = QComboBox()
        self.satisfaction.addItems([""] + list(c.satisfaction_levels))
        self.technician = QLineEdit()
        self.handler = QComboBox()
        self.handler.addItem(self.tr("（本人）"), None)
        for uid, name in c.handlers:
            self.handler.addItem(name, uid)
        self.notes = _text_box(40)

    def _build_record_form(self) -> QFormLayout:
        """The record's form: one labelled row per line of the paper form."""
        form = QFormLayout()
        form.addRow(self.tr("客户"), self.customer)
        form.addRow(
            self.tr("服务日期"),
            form_row(
                self.served_on,
                self.tr("服务类型"),
                self.kind,
                self.tr("状态"),
                self.status,
                self.tr("完成日期"),
                self.completed_on,
                stretch=True,
            ),
        )
        form.addRow(self.tr("服务地点/项目"), self.place)
        form.addRow(self.tr("产品"), form_row((self.product, 2), self.tr("序列号"), (self.serial_no, 1)))
        form.addRow(self.tr("故障/问题"), self.problem)
        form.addRow(self.tr("服务内容"), self.content)
        form.addRow(
            self.tr("更换配件"),
            form_row(
                (self.parts, 2),
                self.tr("数量"),
                self.parts_quantity,
                self.tr("配件金额"),
                self.parts_amount,
                self.tr("服务费用"),
                self.cost,
            ),
        )
        form.addRow(self.tr("服务结果"), form_row((self.result, 2), self.tr("满意度"), self.satisfaction))
        form.addRow(self.tr("客户反馈"), self.feedback)
        form.addRow(
            self.tr("服务人员"), form_row(self.technician, self.tr("负责人"), self.handler, stretch=True)
        )
        form.addRow(self.tr("备注"), self.notes)
        return form

    def _build_follow_box(self) -> None:
        """跟进 (follow-ups): the history and one line to add another (an existing record only)."""
        c = self.choices
        self.follow_box = QGroupBox(self.tr("跟进记录"))
        self.follow_table = QTableWidget(0, 4)
        self.follow_table.setHorizontalHeaderLabels(
            [self.tr("跟进时间"), self.tr("跟进人员"), self.tr("跟进结果"), self.tr("备注")]
        )
        self.follow_table.verticalHeader().setVisible(False)
        self.follow_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.follow_table.horizontalHeader().setStretchLastSection(True)
        self.follow_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.follow_table.setFixedHeight(110)
        self.follow_at = QDateTimeEdit(qdatetime(self.ctx.now()))
        self.follow_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.follow_at.setCalendarPopup(True)
        self.follow_person = QLineEdit()
        self.follow_person.setPlaceholderText(self.ctx.user.display_name)
        self.follow_result = QComboBox()
        self.follow_result.addItems(list(c.follow_up_results))
        self.follow_note = QLineEdit()
        self.follow_note.setPlaceholderText(self.tr("备注"))
        self.follow_button = QPushButton(self.tr("添加跟进"))
        add = QHBoxLayout()
        for w in (self.follow_at, self.follow_person, self.follow_result):
            add.addWidget(w)
        add.addWidget(self.follow_note, 1)
        add.addWidget(self.follow_button)
        follow_layout = QVBoxLayout(self.follow_box)
        follow_layout.addWidget(self.follow_table)
        follow_layout.addLayout(add)

    def _build_messages_and_buttons(self) -> QDialogButtonBox:
        """The repair-visit note, the error line and 保存 / 关闭; returns the button box."""
        self.visit_label = QLabel()
        self.visit_label.setWordWrap(True)
        self.visit_label.setStyleSheet("color: #237804;")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d9363e;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.tr("保存(&S)"))
        self.save_button.setToolTip(self.tr("保存（Ctrl+S）"))
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("关闭"))
        return buttons

    def _bind(self) -> None:
        """Each field of the record once, in form order, and the follow-up line's fields. The customer is
        read from the picker and shown by :meth:`CustomerPicker.set_customer` (it needs the code and name)."""
        self.binder = Binder(
            [
                Binding("customer_id", self.customer.search, read=self.customer.customer_id),
                day("served_on", self.served_on),
                combo_text("kind", self.kind, add_unknown=True),
                combo_text("status", self.status, add_unknown=True),
                day("completed_on", self.completed_on),
                line("place", self.place),
                line("product", self.product),
                line("serial_no", self.serial_no),
                plain("problem", self.problem),
                plain("content", self.content),
                line("parts", self.parts),
                spin("parts_quantity", self.parts_quantity),
                line("parts_amount", self.parts_amount),
                line("cost", self.cost),
                line("result", self.result),
                line("feedback", self.feedback),
                combo_text("satisfaction", self.satisfaction, add_unknown=True),
                line("technician", self.technician),
                combo_data("handler_id", self.handler),
                plain("notes", self.notes),
            ]
        )
        self.follow_binder = Binder(
            [
                moment("at", self.follow_at),
                line("person", self.follow_person),
                combo_text("result", self.follow_result),
                line("note", self.follow_note),
            ]
        )

    # --- showing -------------------------------------------------------------------------------------
    def _show(self, d: ServiceRecordDetail) -> None:
        self.customer.set_customer(d.customer_id, d.customer_code, d.customer_name)
        self.binder.fill(d, completed_on=d.completed_on or d.served_on)
        self.follow_table.setRowCount(len(d.follow_ups))
        for i, f in enumerate(d.follow_ups):
            for j, text in enumerate((f"{f.at:%Y-%m-%d %H:%M}", f.person, f.result, f.note)):
                self.follow_table.setItem(i, j, QTableWidgetItem(text))
        self.follow_box.setVisible(True)
        visit = ""
        if d.visit_state:
            visit = self.tr("维修回访：{0}（计划 {1}）").format(d.visit_state, f"{d.visit_due:%Y-%m-%d}")
        self.visit_label.setText("　".join(t for t in (visit, d.visit_note) if t))
        self._status_changed(d.status)

    def _status_changed(self, status: str) -> None:
        self.completed_on.setEnabled(status == ServiceStatus.DONE.value)

    # --- saving --------------------------------------------------------------------------------------
    def draft(self) -> ServiceDraft:
        values = self.binder.values()
        if values["status"] != ServiceStatus.DONE.value:
            values["completed_on"] = None  # the date shown only counts for a finished service
        return ServiceDraft(**values)

    def save(self) -> None:
        mark_fields(self.binder.widgets(), None)
        self.message.setStyleSheet("color: #d9363e;")
        self.message.clear()
        try:
            if self.detail is None:
                saved = service.add_service_record(self.ctx, self.draft())
            else:
                saved = service.update_service_record(
                    self.ctx, self.detail.id, self.draft(), self.detail.version
                )
        except (ServiceError, ValidationError) as exc:
            report_in_form(self.binder.widgets(), self.message, exc)
            return
        self.detail = saved
        self.setWindowTitle(self.tr("售后服务记录 — {0}").format(saved.number))
        self._show(saved)
        self.message.setStyleSheet("color: #237804;")
        self.message.setText(self.tr("已保存 {0}。").format(saved.number))
        self.saved.emit(saved)

    def add_follow_up(self) -> None:
        if self.detail is None:
            return
        mark_fields(self.follow_binder.widgets(), None)
        self.message.setStyleSheet("color: #d9363e;")
        self.message.clear()
        try:
            saved = service.add_follow_up(
                self.ctx,
                self.detail.id,
                **self.follow_binder.values(),
                expected_version=self.detail.version,
            )
        except (ServiceError, ValidationError) as exc:
            report_in_form(self.follow_binder.widgets(), self.message, exc)
            return
        self.detail = saved
        self._show(saved)
        self.follow_note.clear()
        self.message.setStyleSheet("color: #237804;")
        self.message.setText(self.tr("已添加跟进。"))
        self.saved.emit(saved)


__all__ = ["CustomerPicker", "ServiceRecordDialog"]
