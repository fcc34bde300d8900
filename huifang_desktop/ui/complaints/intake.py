"""投诉登记 intake form: fast and keyboard-first, with likely repeats shown beside it while typing.

The dialog is shown with ``show()`` (never ``exec()``): the clerk can keep the register open behind it, and
tests drive it directly. ``registered`` / ``attached`` carry the resulting :class:`ComplaintDetail`.
"""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.complaints import Channel, MessageKind, Severity
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services import customers as customer_service
from huifang_desktop.services import policy as office_policy
from huifang_desktop.services.complaints import ComplaintDetail, IntakeDraft, RepeatRow
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import CustomerRow
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.storage.queries import CustomerFilter
from huifang_desktop.ui.common.binding import (
    Binder,
    Binding,
    check,
    combo_data,
    combo_text,
    day,
    line,
    marks,
    moment,
    plain,
)
from huifang_desktop.ui.common.feedback import mark_fields, report_in_form
from huifang_desktop.ui.common.fit import fit_to_screen
from huifang_desktop.ui.common.forms import picked_date, picked_datetime, qdate, qdatetime
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.complaints.model import RepeatTableModel

REPEAT_DELAY_MS = 300
CUSTOMER_DELAY_MS = 200
CUSTOMER_SUGGESTIONS = 12
CustomerIdRole = Qt.ItemDataRole.UserRole + 1
_TYPED = frozenset({"complainant", "phone", "customer_id", "subject", "content"})  # what 取消 asks about


class IntakeDialog(QDialog):
    """新建登记: 投诉, 咨询 or 建议. Saving registers a new record; 作为重复投诉附加 adds an occurrence instead."""

    registered = Signal(object)  # ComplaintDetail of the new record
    attached = Signal(object)  # ComplaintDetail of the complaint that got another occurrence

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result_detail: ComplaintDetail | None = None
        self.customer_id: int | None = None
        self._customers: list[CustomerRow] = []
        self._load_office()
        self.setWindowTitle(self.tr("新建登记 — 投诉、咨询、建议"))
        fit_to_screen(self, QSize(1040, 600))
        self._build_ui()
        self._connect()
        self._show_routing(self.severity.currentText())
        self._show_customer_status(None)
        self._show_repeats([])
        self._kind_changed(self.kind.currentText())
        self._show_origin()
        self.binder.snapshot()  # the form as opened: what 取消 compares with
        self.complainant.setFocus()

    # --- layout: the widgets, named and placed; nothing connected ------------------------------------------
    def _load_office(self) -> None:
        """What the form offers comes from the office: its complaint policy and rules, its work calendar and
        the people who may be 首问责任人."""
        self.policy = complaint_service.load_policy(self.ctx)
        self.rules = complaint_service.load_complaint_rules(self.ctx)
        self.calendar = office_policy.work_calendar(self.ctx)
        self._handlers = complaint_service.handlers(self.ctx)

    def _build_ui(self) -> None:
        self._build_fields()
        self._build_follow_fields()
        self._build_lookups()
        self._build_buttons()
        self._lay_out()
        self._bind()
        self._set_tab_order()

    def _build_fields(self) -> None:
        """The record's own fields: kind, channel, time, complainant, customer, subject … 其他."""
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        self.kind.addItems([k.value for k in MessageKind])
        self.received_at = QDateTimeEdit(qdatetime(self.ctx.now()))
        self.received_at.setObjectName("received_at")
        self.received_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.received_at.setCalendarPopup(True)
        self.channel = QComboBox()
        self.channel.setObjectName("channel")
        self.channel.addItems([c.value for c in Channel])
        self.complainant = QLineEdit()
        self.complainant.setObjectName("complainant")
        self.complainant.setPlaceholderText(self.tr("姓名"))
        self.anonymous = QCheckBox(self.tr("匿名"))
        self.anonymous.setObjectName("anonymous")
        self.phone = QLineEdit()
        self.phone.setObjectName("phone")
        self.phone.setPlaceholderText(self.tr("手机或座机"))
        self.customer_edit = QLineEdit()
        self.customer_edit.setObjectName("customer")
        self.customer_edit.setPlaceholderText(
            self.tr("可选：输入客户名称、电话或拼音首字母（如 hzmd）查找并关联")
        )
        self.customer_clear = QPushButton(self.tr("取消关联"))
        self.customer_clear.setEnabled(False)
        self.customer_status = QLabel(self.tr("未关联"))
        self.customer_status.setObjectName("customerStatus")
        self.customer_status.setStyleSheet("color: #8c8c8c;")
        self.subject = QLineEdit()
        self.subject.setObjectName("subject")
        self.subject.setPlaceholderText(self.tr("一句话概括，如“送货延误三天”"))
        self.content = QPlainTextEdit()
        self.content.setObjectName("content")
        self.content.setTabChangesFocus(True)
        self.content.setMinimumHeight(90)
        self.category = QComboBox()
        self.category.setObjectName("category")
        self.category.addItem(self.tr("（请选择）"), "")
        for c in self.policy.categories:
            self.category.addItem(c, c)
        self.severity = QComboBox()
        self.severity.setObjectName("severity")
        self.severity.addItems([s.value for s in Severity])
        self.routing = QLabel()
        self.routing.setStyleSheet("color: #595959;")
        self.special = QCheckBox(
            self.tr("特殊情况（处理期限 {0} 个工作日）").format(self.policy.special_handling_workdays)
        )
        self.special.setObjectName("special")
        self.reply_only = QCheckBox(self.tr("只需书面答复（上级转办，不做回访）"))
        self.reply_only.setObjectName("reply_only")

    def _build_lookups(self) -> None:
        """The customer search popup and the likely repeats beside the form, each with its typing delay."""
        self.customer_model = QStandardItemModel(self)
        self.completer = QCompleter(self.customer_model, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setMaxVisibleItems(CUSTOMER_SUGGESTIONS)
        self.completer.setWidget(self.customer_edit)
        self._customer_timer = QTimer(self)
        self._customer_timer.setSingleShot(True)
        self._customer_timer.setInterval(CUSTOMER_DELAY_MS)

        self.repeats = RepeatTableModel(self)
        self.repeat_view = record_table(self.repeats, "repeats")
        header = self.repeat_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.repeat_title = QLabel()
        self.repeat_title.setWordWrap(True)
        self.attach_button = QPushButton(self.tr("作为重复投诉附加(&A)"))
        self.attach_button.setObjectName("attachRepeat")
        self.attach_button.setToolTip(self.tr("不新建记录：把这次来电/来访作为所选投诉的又一次投诉记下"))
        self.attach_button.setEnabled(False)
        self._repeat_timer = QTimer(self)
        self._repeat_timer.setSingleShot(True)
        self._repeat_timer.setInterval(REPEAT_DELAY_MS)

    def _build_buttons(self) -> None:
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d9363e;")
        self.save_button = QPushButton(self.tr("保存登记(&S)"))
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Ctrl+S / Ctrl+Enter")
        self.cancel_button = QPushButton(self.tr("取消"))

    def _lay_out(self) -> None:
        form = self._lay_out_form()
        self.side = side = QGroupBox()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.repeat_title)
        side_layout.addWidget(self.repeat_view, 1)
        side_layout.addWidget(self.attach_button)
        side.setMinimumWidth(380)

        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addLayout(form)
        left.addStretch(1)
        body.addLayout(left, 3)
        body.addWidget(side, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)

    def _lay_out_form(self) -> QFormLayout:
        """The form on the left; remembers the 承诺答复日期 row (shown for a 建议 only)."""
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        row1 = QHBoxLayout()
        row1.addWidget(self.kind)
        row1.addSpacing(12)
        row1.addWidget(QLabel(self.tr("渠道")))
        row1.addWidget(self.channel)
        row1.addSpacing(12)
        row1.addWidget(QLabel(self.tr("受理时间")))
        row1.addWidget(self.received_at)
        row1.addStretch(1)
        form.addRow(self.tr("类型"), row1)
        row2 = QHBoxLayout()
        row2.addWidget(self.complainant, 1)
        row2.addWidget(self.anonymous)
        row2.addSpacing(12)
        row2.addWidget(QLabel(self.tr("联系方式")))
        row2.addWidget(self.phone, 1)
        self.complainant_label = QLabel()
        form.addRow(self.complainant_label, row2)
        row3 = QHBoxLayout()
        row3.addWidget(self.customer_edit, 1)
        row3.addWidget(self.customer_clear)
        form.addRow(self.tr("客户档案"), row3)
        form.addRow("", self.customer_status)
        form.addRow(self.tr("主题*"), self.subject)
        form.addRow(self.tr("内容"), self.content)
        row4 = QHBoxLayout()
        row4.addWidget(self.category)
        row4.addSpacing(12)
        row4.addWidget(QLabel(self.tr("严重程度")))
        row4.addWidget(self.severity)
        row4.addWidget(self.routing)
        row4.addStretch(1)
        form.addRow(self.tr("类别"), row4)
        row_first = QHBoxLayout()
        row_first.addWidget(self.first_responder, 1)
        row_first.addWidget(self.origin_label)
        row_first.addWidget(self.origin)
        row_first.addWidget(self.origin_hint)
        row_first.addStretch(1)
        form.addRow(self.first_responder_label, row_first)
        row_promise = QHBoxLayout()
        row_promise.addWidget(self.promised_on)
        row_promise.addWidget(self.promised_hint, 1)
        self._promise_row = form.rowCount()
        form.addRow(self.promised_label, row_promise)
        self._form = form
        row5 = QVBoxLayout()
        row5.setSpacing(2)
        row5.addWidget(self.urgent)
        row5.addWidget(self.special)
        row5.addWidget(self.reply_only)
        form.addRow(self.tr("其他"), row5)
        return form

    def _bind(self) -> None:
        """Each field of the draft once, with its widget, in the order refusals are marked (the first refused
        one gets focus). The customer is read from the link (the name box is a search); 处理人 and 部门
        refusals mark the boxes they follow from. What the kind or 匿名 leaves out is dropped in :meth:`draft`."""
        self.binder = Binder(
            [
                combo_text("kind", self.kind),
                moment("received_at", self.received_at),
                combo_text("channel", self.channel),
                line("complainant", self.complainant),
                check("anonymous", self.anonymous),
                line("phone", self.phone),
                Binding("customer_id", self.customer_edit, read=lambda: self.customer_id),
                line("subject", self.subject),
                plain("content", self.content),
                combo_data("category", self.category),
                combo_text("severity", self.severity),
                marks("handler_id", self.severity),
                marks("department_id", self.customer_edit),
                combo_data("first_responder_id", self.first_responder),
                day("promised_reply_on", self.promised_on),
                combo_data("origin", self.origin),
                check("urgent", self.urgent),
                check("special", self.special),
                check("reply_only", self.reply_only),
            ]
        )

    def _set_tab_order(self) -> None:
        chain = [
            self.kind,
            self.channel,
            self.received_at,
            self.complainant,
            self.anonymous,
            self.phone,
            self.customer_edit,
            self.subject,
            self.content,
            self.category,
            self.severity,
            self.first_responder,
            self.origin,
            self.promised_on,
            self.urgent,
            self.special,
            self.reply_only,
            self.save_button,
            self.cancel_button,
            self.repeat_view,
            self.attach_button,
        ]
        for a, b in pairwise(chain):
            QWidget.setTabOrder(a, b)

    def _build_follow_fields(self) -> None:
        """首问责任人 (default: me), the 建议's promised reply date, the customer origin when the office sets
        handling limits by origin (issue 20: 002 制度5 §8, 制度3 第十条)."""
        self.first_responder = QComboBox()
        self.first_responder.setObjectName("first_responder")
        self.first_responder.setToolTip(self.tr("首先接待客户的人：跟进本件投诉，每一步处理都会通知他"))
        me = self.ctx.user.id or None
        people = list(self._handlers)
        if me is not None and all(uid != me for uid, _n, _r in people):
            people.insert(
                0, (me, self.ctx.user.display_name or self.ctx.user.username, self.ctx.user.role.label)
            )
        for uid, name, role in people:
            label = self.tr("{0}（{1}，我）").format(name, role) if uid == me else f"{name}（{role}）"
            self.first_responder.addItem(label, uid)
        self.first_responder.setCurrentIndex(max(0, self.first_responder.findData(me)))
        self.first_responder_label = QLabel(self.tr("首问责任人(&R)"))
        self.first_responder_label.setBuddy(self.first_responder)

        self.origin = QComboBox()
        self.origin.setObjectName("origin")
        self.origin.addItem(self.tr("（一般）"), "")
        for name, days in self.rules.origin_days.items():
            self.origin.addItem(name, name)
            self.origin.setItemData(
                self.origin.count() - 1, self.tr("处理期限 {0} 天").format(days), Qt.ItemDataRole.ToolTipRole
            )
        self.origin_label = QLabel(self.tr("客户来源(&G)"))
        self.origin_label.setBuddy(self.origin)
        self.origin_hint = QLabel()
        self.origin_hint.setObjectName("originHint")
        self.origin_hint.setStyleSheet("color: #595959;")
        has_origins = bool(self.rules.origin_days)
        for w in (self.origin_label, self.origin, self.origin_hint):
            w.setVisible(has_origins)
        # 紧急: only where the office's rules set urgent timings (the property preset, 002 制度5 §2, §5)
        timings = self.rules.urgent
        self.urgent = QCheckBox(
            self.tr("紧急（{0} 小时内派工，处理后 {1} 小时内反馈）").format(
                timings.dispatch_hours if timings else 0, timings.report_back_hours if timings else 0
            )
        )
        self.urgent.setObjectName("urgent")
        self.urgent.setVisible(timings is not None)

        self.promised_on = QDateEdit()
        self.promised_on.setObjectName("promised_reply_on")
        self.promised_on.setDisplayFormat("yyyy-MM-dd")
        self.promised_on.setCalendarPopup(True)
        self.promised_on.setDate(
            qdate(self.calendar.add_workdays(self.ctx.today(), self.policy.suggestion_reply_workdays))
        )
        self.promised_on.setToolTip(self.tr("答复建议人的日期：须为工作日，不早于受理日期"))
        self.promised_label = QLabel(self.tr("承诺答复日期(&D)"))
        self.promised_label.setBuddy(self.promised_on)
        self.promised_hint = QLabel()
        self.promised_hint.setObjectName("promisedHint")
        self.promised_hint.setWordWrap(True)

    # --- behaviour --------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.anonymous.toggled.connect(self._anonymous_toggled)
        self.kind.currentTextChanged.connect(self._kind_changed)
        self.severity.currentTextChanged.connect(self._show_routing)
        self.customer_edit.textEdited.connect(self._customer_edited)
        self._customer_timer.timeout.connect(self.refresh_customer_suggestions)
        # the QModelIndex overload of the signal (PySide's stubs do not type the overload subscript)
        self.completer.activated[QModelIndex].connect(  # type: ignore[index]
            lambda index: self.choose_customer(index.row())
        )
        self.customer_clear.clicked.connect(self.clear_customer)
        for edit in (self.subject, self.phone):
            edit.textEdited.connect(self._repeat_timer.start)
        self._repeat_timer.timeout.connect(self.refresh_repeats)
        self.repeat_view.selectionModel().selectionChanged.connect(self._repeat_selection_changed)
        self.repeat_view.doubleClicked.connect(lambda _i: self.attach_to_selected())
        self.attach_button.clicked.connect(self.attach_to_selected)
        self.promised_on.dateChanged.connect(lambda _d: self._check_promised())
        self.received_at.dateTimeChanged.connect(lambda _d: self._check_promised())
        self.origin.currentIndexChanged.connect(lambda _i: self._show_origin())
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        for keys in (QKeySequence.StandardKey.Save, QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")):
            QShortcut(keys, self, self.save)

    def _check_promised(self) -> None:
        """Say at once when the promised date cannot be kept as chosen (the service refuses it too)."""
        day, received = picked_date(self.promised_on), picked_datetime(self.received_at).date()
        if day < received:
            text, bad = self.tr("答复日期不能早于受理日期 {0}").format(received.isoformat()), True
        elif not self.calendar.is_workday(day):
            text = self.tr("{0} 不是工作日，请另选（下一个工作日 {1}）").format(
                day.isoformat(), self.calendar.next_workday(day).isoformat()
            )
            bad = True
        else:
            text, bad = self.tr("将于 {0} 下班前答复建议人").format(day.isoformat()), False
        self.promised_hint.setText(text)
        self.promised_hint.setStyleSheet("color: #d9363e;" if bad else "color: #595959;")

    def _show_origin(self) -> None:
        name = self.origin.currentData() or ""
        days = self.rules.origin_days.get(name)
        self.origin_hint.setText(self.tr("处理期限 {0} 天").format(days) if days else "")

    def promised_visible(self) -> bool:
        return self._form.isRowVisible(self._promise_row)

    # --- small reactions -----------------------------------------------------------------------------------
    def _anonymous_toggled(self, on: bool) -> None:
        self.complainant.setEnabled(not on)
        self.phone.setEnabled(not on)
        if on:
            mark_fields({"complainant": self.complainant, "phone": self.phone}, None)
        self._repeat_timer.start()

    def _kind_changed(self, kind: str) -> None:
        is_complaint = kind == MessageKind.COMPLAINT.value
        self._word_for_kind(kind)
        self.severity.setEnabled(is_complaint)
        self.reply_only.setEnabled(is_complaint)
        self.origin.setEnabled(is_complaint)
        self.urgent.setEnabled(is_complaint)
        self._form.setRowVisible(self._promise_row, kind == MessageKind.SUGGESTION.value)
        self._check_promised()
        self._show_routing(self.severity.currentText())
        if is_complaint:
            self._repeat_timer.start()
        else:  # nothing to look up: say so at once
            self.refresh_repeats()

    def _word_for_kind(self, kind: str) -> None:
        """The texts that name the message: a 建议 is not a 投诉 (only complaints are checked for repeats)."""
        if kind == MessageKind.SUGGESTION.value:
            who, content = self.tr("建议人"), self.tr("建议内容：建议什么、为什么（Tab 跳到下一项）")
            side = self.tr("重复检查（只查投诉）")
        elif kind == MessageKind.CONSULTATION.value:
            who, content = self.tr("咨询人"), self.tr("咨询内容：想了解什么（Tab 跳到下一项）")
            side = self.tr("重复检查（只查投诉）")
        else:
            who, content = self.tr("投诉人"), self.tr("投诉内容：经过、诉求（Tab 跳到下一项）")
            side = self.tr("可能的重复投诉")
        self.complainant_label.setText(who)
        self.content.setPlaceholderText(content)
        self.side.setTitle(side)

    def _show_routing(self, severity: str) -> None:
        if self.kind.currentText() != MessageKind.COMPLAINT.value:
            self.routing.setText(self.tr("由客服专员答复"))
            return
        role = self.policy.handler_roles[Severity(severity)]
        self.routing.setText(self.tr("→ {0}负责").format(role.label))

    # --- customer link -------------------------------------------------------------------------------------
    def _customer_edited(self, _text: str) -> None:
        if self.customer_id is not None:  # typing again drops the link until a customer is picked
            self.customer_id = None
            self._show_customer_status(None)
            self._repeat_timer.start()
        self._customer_timer.start()

    def refresh_customer_suggestions(self) -> None:
        """Search the customer files (name, phone, pinyin initials) and pop the matches up under the field."""
        self._customer_timer.stop()
        text = self.customer_edit.text().strip()
        self.customer_model.clear()
        self._customers = []
        if not text:
            self._hide_suggestions()
            return
        try:
            self._customers = customer_service.list_customers(
                self.ctx, CustomerFilter(text=text), None, CUSTOMER_SUGGESTIONS
            )
        except ServiceError as exc:
            self.message.setText(str(exc))
            return
        for c in self._customers:
            extra = "　".join(p for p in (c.contact, c.phone) if p)
            item = QStandardItem(f"{c.name}　{c.code}" + (f"　{extra}" if extra else ""))
            item.setData(c.id, CustomerIdRole)
            self.customer_model.appendRow(item)
        if self._customers and self.customer_edit.hasFocus():
            self.completer.complete()
        elif not self._customers:
            self._hide_suggestions()

    def _hide_suggestions(self) -> None:
        popup = self.completer.popup()  # typed optional; Qt makes the default list on first use
        if popup is not None:
            popup.hide()

    def suggestions(self) -> list[str]:
        return [self.customer_model.item(r).text() for r in range(self.customer_model.rowCount())]

    def choose_customer(self, row: int) -> None:
        if not 0 <= row < len(self._customers):
            return
        c = self._customers[row]
        self.customer_id = c.id
        self.customer_edit.setText(c.name)
        if not self.anonymous.isChecked():
            if not self.complainant.text().strip() and c.contact:
                self.complainant.setText(c.contact)
            if not self.phone.text().strip() and c.phone:
                self.phone.setText(c.phone)
        self._hide_suggestions()
        self._show_customer_status(c)
        self.refresh_repeats()

    def clear_customer(self) -> None:
        self.customer_id = None
        self.customer_edit.clear()
        self._show_customer_status(None)
        self.refresh_repeats()

    def _show_customer_status(self, c: CustomerRow | None) -> None:
        self.customer_clear.setEnabled(c is not None)
        if c is None:
            self.customer_status.setText(self.tr("未关联（投诉人不一定是客户，可不关联）"))
            self.customer_status.setStyleSheet("color: #8c8c8c;")
        else:
            self.customer_status.setText(
                self.tr("已关联：{0}　{1}　负责人 {2}").format(c.name, c.code, c.owner)
            )
            self.customer_status.setStyleSheet("color: #237804;")

    # --- repeats -------------------------------------------------------------------------------------------
    def refresh_repeats(self) -> None:
        """Likely repeats of what is typed so far (same customer or phone, similar subject, recent/open)."""
        self._repeat_timer.stop()
        if self.kind.currentText() != MessageKind.COMPLAINT.value:
            self._show_repeats([])
            return
        phone = "" if self.anonymous.isChecked() else self.phone.text()
        try:
            rows = complaint_service.find_repeats(
                self.ctx, customer_id=self.customer_id, phone=phone, subject=self.subject.text()
            )
        except (ServiceError, ValidationError):
            rows = []  # a half-typed phone number is not an error while typing
        self._show_repeats(rows)

    def _show_repeats(self, rows: list[RepeatRow]) -> None:
        self.repeats.set_rows(rows)
        if not rows and self.kind.currentText() != MessageKind.COMPLAINT.value:
            self.repeat_title.setText(
                self.tr("{0}不查重复，直接保存登记即可；只有投诉会在这里列出 90 天内相似的投诉。").format(
                    self.kind.currentText()
                )
            )
            self.repeat_title.setStyleSheet("color: #8c8c8c;")
        elif rows:
            top = rows[0]
            lines = [
                self.tr("可能重复：{0}（{1}）　相似度 {2:.0f}%").format(
                    top.number, top.subject, top.similarity * 100
                )
            ]
            if len(rows) > 1:
                lines.append(self.tr("另有 {0} 件相似，见下表。").format(len(rows) - 1))
            lines.append(self.tr("若是同一事项，点“附加”记为又一次投诉，不要重复登记。"))
            self.repeat_title.setText("\n".join(lines))
            self.repeat_title.setStyleSheet("color: #d46b08; font-weight: bold;")
            self.repeat_view.selectRow(0)
        else:
            self.repeat_title.setText(
                self.tr("填写联系方式或关联客户、再填主题后，这里会列出 90 天内相似的投诉。")
            )
            self.repeat_title.setStyleSheet("color: #8c8c8c;")
        self._repeat_selection_changed()

    def _repeat_selection_changed(self, *_args: object) -> None:
        rows = self.repeat_view.selectionModel().selectedRows()
        picked = self.repeats.repeat(rows[0].row()) if rows else None
        self.attach_button.setEnabled(picked is not None)
        self.attach_button.setText(
            self.tr("附加到 {0}（相似度 {1:.0f}%）(&A)").format(picked.number, picked.similarity * 100)
            if picked is not None
            else self.tr("作为重复投诉附加(&A)")
        )

    def selected_repeat_id(self) -> int | None:
        rows = self.repeat_view.selectionModel().selectedRows()
        r = self.repeats.repeat(rows[0].row()) if rows else None
        return r.id if r is not None else None

    def attach_to_selected(self) -> None:
        target = self.selected_repeat_id()
        if target is None:
            return
        d = self.draft()
        note = "：".join(p for p in (d.subject.strip(), d.content.strip()) if p)
        try:
            detail = complaint_service.add_occurrence(
                self.ctx,
                target,
                received_at=d.received_at,
                channel=d.channel,
                complainant=d.complainant,
                phone=d.phone,
                note=note,
            )
        except (ValidationError, ServiceError) as exc:
            report_in_form(self.binder.widgets(), self.message, exc)
            return
        self.result_detail = detail
        self.attached.emit(detail)
        self.accept()

    # --- closing -------------------------------------------------------------------------------------------
    def edited_fields(self) -> tuple[str, ...]:
        """The typed fields that closing would lose, in form order: text (not blanks) or a linked customer.
        The preset kind, channel, time and the choices do not count."""
        values = self.binder.values()
        return tuple(
            name
            for name in self.binder.changed()
            if name in _TYPED and (name == "customer_id" or str(values[name]).strip())
        )

    def has_input(self) -> bool:
        """Anything typed or picked that closing would lose (a customer searched for but not linked too)."""
        return bool(self.edited_fields()) or bool(self.customer_edit.text().strip())

    def reject(self) -> None:
        """取消, Esc or the window's close box: what was typed is not dropped without asking."""
        if self.has_input():
            answer = QMessageBox.question(
                self,
                self.tr("放弃登记"),
                self.tr("放弃已填写的内容？"),
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Discard:
                return
        super().reject()

    # --- save ----------------------------------------------------------------------------------------------
    def draft(self) -> IntakeDraft:
        """The form's fields, less what the kind leaves out (a 投诉's severity, 书面答复, origin and 紧急; a
        建议's promised day) and the caller's name and phone when 匿名."""
        values = self.binder.values()
        kind = values["kind"]
        is_complaint = kind == MessageKind.COMPLAINT.value
        if values["anonymous"]:
            values["complainant"] = values["phone"] = ""
        if not is_complaint:
            values.update(severity=Severity.NORMAL.value, reply_only=False, origin="")
        values["urgent"] = values["urgent"] and is_complaint and self.rules.urgent is not None
        if kind != MessageKind.SUGGESTION.value:
            values["promised_reply_on"] = None
        return IntakeDraft(**values)

    def save(self) -> None:
        mark_fields(self.binder.widgets(), None)
        self.message.clear()
        try:
            detail = complaint_service.register(self.ctx, self.draft())
        except (ValidationError, ServiceError) as exc:
            report_in_form(self.binder.widgets(), self.message, exc)
            return
        self.result_detail = detail
        self.registered.emit(detail)
        self.accept()
