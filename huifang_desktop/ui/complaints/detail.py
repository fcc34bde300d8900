"""The detail pane beside the register: one complaint's header, actions, handling, attachments and history.

Buttons are enabled from ``ComplaintDetail.actions`` (what the acting user may do now; the services check
again). Actions that need input open a small form inline, above the pages: nothing here is modal. Every
service error is shown in the pane; a stale version (ConflictError) reloads the complaint and says so.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.complaints import Channel, MessageKind, Severity
from huifang_desktop.domain.errors import FieldError
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.validation import already
from huifang_desktop.domain.visits import VisitMethod, VisitResult
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services import policy, workflow
from huifang_desktop.services.complaints import (
    ATTACHMENT_KINDS,
    REPLY_WAYS,
    ClosingVisitDraft,
    ComplaintDetail,
    HandlingDraft,
)
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ConflictError, ServiceError, ValidationError
from huifang_desktop.ui.common.feedback import mark_fields, report_in_form
from huifang_desktop.ui.common.forms import fit_popup
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.complaints.model import (
    AttachmentTableModel,
    EventTableModel,
    OccurrenceTableModel,
    full_time,
)

ERROR_COLOR = "color: #d9363e;"
INFO_COLOR = "color: #237804;"
STATE_BADGE = {"待受理": "#d46b08", "处理中": "#1f6feb", "待回访": "#722ed1", "已关闭": "#389e0d",
               "已撤销": "#8c8c8c"}

# action key (ComplaintDetail.actions) -> button label; the order is the order on screen
ACTIONS: tuple[tuple[str, str], ...] = (
    ("accept", "受理"), ("finish", "办结转回访"), ("visit", "登记结案回访…"), ("close", "关闭"),
    ("reply", "答复…"), ("convert", "转为投诉…"), ("withdraw", "撤销…"), ("chase", "催办…"),
    ("reassign", "转交…"), ("reopen_linked", "客户不认可…"),
)
COMPLAINT_ONLY = frozenset({"accept", "finish", "visit", "close", "reopen_linked"})
MESSAGE_ONLY = frozenset({"reply", "convert"})
SECOND_ROW = frozenset({"withdraw", "chase", "reassign", "reopen_linked"})


def _text_box(height: int, name: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setObjectName(name)
    box.setTabChangesFocus(True)
    box.setFixedHeight(height)
    return box


def _table(model: Any, name: str) -> QTableView:
    view = record_table(model, name)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setMinimumSectionSize(36)
    # the last column (note) takes what is left; long text is in its tooltip, no sideways scrolling
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return view


def _scrolling(page: QWidget) -> QScrollArea:
    """A page that scrolls instead of pushing the window taller when an inline form is open."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(page)
    return scroll


class _InlineForm(QWidget):
    """A small form shown above the pages for an action that needs input (确定 / 取消)."""

    def __init__(self, title: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.form = QFormLayout()
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.ok = QPushButton(ok_text)
        self.ok.setDefault(True)
        self.cancel = QPushButton(self.tr("取消"))
        self.fields: dict[str, QWidget] = {}
        top = QHBoxLayout()  # the buttons beside the title: the form stays short
        top.addWidget(self.title, 1)
        top.addWidget(self.ok)
        top.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(self.form)

    def add(self, label: str, widget: QWidget | QHBoxLayout, name: str | None = None) -> None:
        if isinstance(widget, QHBoxLayout):
            self.form.addRow(label, widget)
        else:
            self.form.addRow(label, widget)
            if name:
                self.fields[name] = widget

    def first_field(self) -> QWidget | None:
        return next(iter(self.fields.values()), None)


class ComplaintDetailPane(QWidget):
    """Shows one complaint (``load``); ``changed`` is emitted with its id after every successful action,
    ``open_complaint`` when another complaint should be shown (the new linked one)."""

    changed = Signal(int)
    open_complaint = Signal(int)

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail: ComplaintDetail | None = None
        self.policy = complaint_service.load_policy(ctx)
        # injectable for tests: file pickers and the desktop's "open this file"
        self.choose_files: Callable[[], list[str]] = self._ask_files
        self.choose_save_path: Callable[[str], str] = self._ask_save_path
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.last_opened: Path | None = None

        self.placeholder = QLabel(self.tr("在左侧选择一件投诉查看详情。\n\n新建登记：Ctrl+N　搜索：Ctrl+F"))
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #8c8c8c;")
        self.placeholder.setWordWrap(True)

        # --- header
        self.title = QLabel()
        self.title.setObjectName("title")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts = QLabel()
        self.facts.setObjectName("facts")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # --- action buttons
        self.buttons: dict[str, QPushButton] = {}
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        for key, label in ACTIONS:
            b = QPushButton(self.tr(label))
            b.setObjectName(f"action_{key}")
            b.setAutoDefault(False)
            self.buttons[key] = b
            (row2 if key in SECOND_ROW else row1).addWidget(b)
        row1.addStretch(1)
        row2.addStretch(1)
        self.print_button = QPushButton(self.tr("打印投诉处理表…"))
        self.print_button.setToolTip(self.tr("打印预览投诉处理表（含处理经过和签字），可打印或另存为 PDF（Ctrl+P）"))
        self.print_button.setAutoDefault(False)
        self.print_button.clicked.connect(self.print_preview)
        row2.addWidget(self.print_button)
        QShortcut(QKeySequence.StandardKey.Print, self, self.print_preview)
        self.preview: Any = None

        # --- inline action forms
        self.forms: dict[str, _InlineForm] = {}
        self.form_stack = QStackedWidget()
        self.form_box = QFrame()
        self.form_box.setObjectName("actionForm")
        self.form_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.form_box.setStyleSheet("#actionForm { background: #f5f8ff; border: 1px solid #adc6ff; }")
        box_layout = QVBoxLayout(self.form_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addWidget(self.form_stack)
        self.form_box.setVisible(False)
        self._build_forms()

        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # --- pages
        self.pages = QTabWidget()
        self.pages.setObjectName("pages")
        self.pages.addTab(self._build_content_page(), self.tr("投诉内容"))
        self.pages.addTab(self._build_handling_page(), self.tr("处理情况"))
        self.pages.addTab(self._build_attachment_page(), self.tr("附件"))
        self.pages.addTab(self._build_history_page(), self.tr("处理记录"))

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addWidget(self.form_box)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        handlers: dict[str, Callable[[], None]] = {
            "accept": self.accept_complaint, "finish": self.finish_handling, "close": self.close_complaint,
        }
        for key, b in self.buttons.items():
            if key in handlers:
                b.clicked.connect(handlers[key])
            else:
                b.clicked.connect(lambda _=False, k=key: self.open_form(k))
        self.load(None)

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

    # --- building -------------------------------------------------------------------------------------------
    def _build_forms(self) -> None:
        f = self._form("visit", self.tr("登记结案回访"), self.tr("保存回访"), self.submit_visit)
        self.visit_result = QComboBox()
        self.visit_result.addItems([r.value for r in VisitResult])
        self.visit_satisfaction = QComboBox()
        self.visit_satisfaction.addItem(self.tr("（请选择）"), "")
        for level in policy.load_scale(self.ctx).levels:
            self.visit_satisfaction.addItem(level, level)
        fit_popup(self.visit_satisfaction)
        self.visit_method = QComboBox()
        self.visit_method.addItems([m.value for m in VisitMethod])
        self.visit_time = QDateTimeEdit()
        self.visit_time.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.visit_time.setCalendarPopup(True)
        self.visit_note = QLineEdit()
        self.visit_note.setPlaceholderText(self.tr("客户意见、回访说明"))
        row = QHBoxLayout()
        row.addWidget(self.visit_result)
        row.addWidget(QLabel(self.tr("满意度")))
        row.addWidget(self.visit_satisfaction)
        row.addWidget(QLabel(self.tr("方式")))
        row.addWidget(self.visit_method)
        row.addStretch(1)
        f.add(self.tr("结果"), row)
        f.add(self.tr("回访时间"), self.visit_time, "visited_at")
        f.add(self.tr("说明"), self.visit_note, "note")
        f.fields = {"satisfaction": self.visit_satisfaction, "result": self.visit_result,  # focus: 满意度
                    "method": self.visit_method, **f.fields}
        self.visit_result.currentTextChanged.connect(
            lambda t: self.visit_satisfaction.setEnabled(t == VisitResult.SUCCESS.value))

        f = self._form("withdraw", self.tr("撤销（须说明原因）"), self.tr("撤销"), self.submit_withdraw)
        self.withdraw_reason = QLineEdit()
        self.withdraw_reason.setPlaceholderText(self.tr("如：投诉人撤回、重复登记"))
        f.add(self.tr("撤销原因"), self.withdraw_reason, "withdraw_reason")

        f = self._form("reply", self.tr("答复"), self.tr("答复并关闭"), self.submit_reply)
        self.reply_message_text = _text_box(54, "replyMessage")
        self.reply_message_way = QComboBox()
        self.reply_message_way.addItems(list(REPLY_WAYS))
        self.reply_message_time = QDateTimeEdit()
        self.reply_message_time.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.reply_message_time.setCalendarPopup(True)
        f.add(self.tr("答复内容"), self.reply_message_text, "reply_text")
        row = QHBoxLayout()
        row.addWidget(self.reply_message_way)
        row.addWidget(QLabel(self.tr("时间")))
        row.addWidget(self.reply_message_time)
        row.addStretch(1)
        f.add(self.tr("答复方式"), row)
        f.fields.update({"reply_way": self.reply_message_way, "replied_at": self.reply_message_time})

        f = self._form("convert", self.tr("转为投诉（重新编号，按严重程度分派）"), self.tr("转为投诉"),
                       self.submit_convert)
        self.convert_severity = QComboBox()
        self.convert_severity.addItems([s.value for s in Severity])
        self.convert_category = QComboBox()
        self.convert_category.addItem(self.tr("（请选择）"), "")
        for c in self.policy.categories:
            self.convert_category.addItem(c, c)
        f.add(self.tr("严重程度"), self.convert_severity, "severity")
        f.add(self.tr("类别"), self.convert_category, "category")

        f = self._form("chase", self.tr("催办（记入处理记录，负责人下次启动时看到）"), self.tr("催办"),
                       self.submit_chase)
        self.chase_note = QLineEdit()
        self.chase_note.setPlaceholderText(self.tr("可空"))
        f.add(self.tr("催办说明"), self.chase_note, "note")

        f = self._form("reassign", self.tr("转交给"), self.tr("转交"), self.submit_reassign)
        self.reassign_handler = QComboBox()
        f.add(self.tr("新负责人"), self.reassign_handler, "handler_id")

        f = self._form("reopen_linked", self.tr("客户不认可处理结果：新建一件关联投诉"), self.tr("新建关联投诉"),
                       self.submit_reopen)
        self.reopen_content = QLineEdit()
        self.reopen_content.setPlaceholderText(self.tr("客户不认可的原因（可空）"))
        self.reopen_channel = QComboBox()
        self.reopen_channel.addItems([c.value for c in Channel])
        f.add(self.tr("内容"), self.reopen_content, "content")
        f.add(self.tr("渠道"), self.reopen_channel, "channel")

    def _form(self, key: str, title: str, ok_text: str, submit: Callable[[], None]) -> _InlineForm:
        form = _InlineForm(title, ok_text)
        form.setObjectName(f"form_{key}")
        form.ok.clicked.connect(submit)
        form.cancel.clicked.connect(self.close_form)
        self.forms[key] = form
        self.form_stack.addWidget(form)
        return form

    def _build_content_page(self) -> QWidget:
        self.info = QGridLayout()
        self.info.setHorizontalSpacing(10)
        self.info.setVerticalSpacing(4)
        self.info_labels: dict[str, QLabel] = {}
        self.info_names: dict[str, QLabel] = {}
        cells = (("subject", "主题", 0, 0, 3), ("complainant", "投诉人", 1, 0, 1), ("phone", "联系方式", 1, 2, 1),
                 ("customer", "客户档案", 2, 0, 1), ("channel", "渠道", 2, 2, 1),
                 ("category", "类别", 3, 0, 1), ("department", "责任部门", 3, 2, 1),
                 ("first_reply_due", "首次答复", 4, 0, 1), ("handling_due", "处理期限", 4, 2, 1),
                 ("link", "关联", 5, 0, 3))
        for key, label, r, c, span in cells:
            name = QLabel(self.tr(label))
            name.setStyleSheet("color: #8c8c8c;")
            value = QLabel()
            value.setObjectName(f"info_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.info.addWidget(name, r, c, Qt.AlignmentFlag.AlignTop)
            self.info.addWidget(value, r, c + 1, 1, span, Qt.AlignmentFlag.AlignTop)
            self.info_labels[key] = value
            self.info_names[key] = name
        self.info.setColumnStretch(1, 1)
        self.info.setColumnStretch(3, 1)
        self.content_text = QPlainTextEdit()
        self.content_text.setObjectName("contentText")
        self.content_text.setReadOnly(True)
        self.content_text.setMaximumHeight(110)
        self.content_text.setMinimumHeight(44)
        self.occurrences = OccurrenceTableModel(self)
        self.occurrence_view = _table(self.occurrences, "occurrences")
        for col, width in ((0, 80), (1, 44), (2, 60), (3, 100), (4, 60)):
            self.occurrence_view.setColumnWidth(col, width)
        self.occurrence_view.setMinimumHeight(60)
        self.occurrence_title = QLabel()
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(self.info)
        layout.addWidget(self.content_text)
        layout.addWidget(self.occurrence_title)
        layout.addWidget(self.occurrence_view, 1)
        return page

    def _build_handling_page(self) -> QWidget:
        self.investigation = _text_box(50, "investigation")
        self.cause = _text_box(42, "cause")
        self.measures = _text_box(50, "measures")
        self.result = _text_box(42, "result")
        self.replied = QCheckBox(self.tr("已答复客户"))
        self.replied.setObjectName("replied")
        self.replied_at = QDateTimeEdit()
        self.replied_at.setObjectName("replied_at")
        self.replied_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.replied_at.setCalendarPopup(True)
        self.reply_way = QComboBox()
        self.reply_way.setObjectName("reply_way")
        self.reply_way.addItems(list(REPLY_WAYS))
        self.reply_text = _text_box(42, "reply_text")
        self.visit_info = QLabel()
        self.visit_info.setObjectName("visitInfo")
        self.visit_info.setWordWrap(True)
        self.save_handling_button = QPushButton(self.tr("保存处理情况(&S)"))
        self.save_handling_button.setObjectName("saveHandling")
        self.handling_hint = QLabel()
        self.handling_hint.setStyleSheet("color: #8c8c8c;")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.tr("调查情况"), self.investigation)
        form.addRow(self.tr("原因"), self.cause)
        form.addRow(self.tr("处理措施"), self.measures)
        form.addRow(self.tr("处理结果"), self.result)
        reply = QHBoxLayout()
        reply.addWidget(self.replied)
        reply.addWidget(self.replied_at)
        reply.addWidget(QLabel(self.tr("方式")))
        reply.addWidget(self.reply_way)
        reply.addStretch(1)
        form.addRow(self.tr("答复客户"), reply)
        form.addRow(self.tr("答复内容"), self.reply_text)
        form.addRow(self.tr("结案回访"), self.visit_info)
        buttons = QHBoxLayout()
        buttons.addWidget(self.handling_hint, 1)
        buttons.addWidget(self.save_handling_button)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addStretch(1)
        scroll = _scrolling(inner)
        self.handling_fields: dict[str, QWidget] = {
            "investigation": self.investigation, "cause": self.cause, "measures": self.measures,
            "result": self.result, "replied_at": self.replied_at, "reply_way": self.reply_way,
            "reply_text": self.reply_text,
        }
        self.replied.toggled.connect(self._replied_toggled)
        self.save_handling_button.clicked.connect(self.save_handling)
        return scroll

    def _build_attachment_page(self) -> QWidget:
        self.attachments = AttachmentTableModel(self)
        self.attachment_view = _table(self.attachments, "attachments")
        for col, width in ((0, 160), (1, 56), (2, 60), (3, 80)):
            self.attachment_view.setColumnWidth(col, width)
        self.attachment_kind = QComboBox()
        self.attachment_kind.setObjectName("attachmentKind")
        self.attachment_kind.addItems(list(ATTACHMENT_KINDS))
        self.attachment_kind.setToolTip(self.tr("附件类型：答复函或公开信可让匿名、只需书面答复的投诉关闭"))
        self.add_attachment_button = QPushButton(self.tr("添加附件…"))
        self.open_attachment_button = QPushButton(self.tr("打开"))
        self.save_attachment_button = QPushButton(self.tr("另存为…"))
        self.remove_attachment_button = QPushButton(self.tr("删除"))
        self.attachment_hint = QLabel(self.tr("附件存于数据库内，数据文件夹搬家也不会丢失；每个不超过 20 MB。"))
        self.attachment_hint.setStyleSheet("color: #8c8c8c;")
        self.attachment_hint.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.attachment_kind)
        buttons.addWidget(self.add_attachment_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_attachment_button)
        buttons.addWidget(self.save_attachment_button)
        buttons.addWidget(self.remove_attachment_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.attachment_view, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.attachment_hint)
        self.add_attachment_button.clicked.connect(self.add_attachments)
        self.open_attachment_button.clicked.connect(self.open_attachment)
        self.save_attachment_button.clicked.connect(self.save_attachment)
        self.remove_attachment_button.clicked.connect(self.remove_attachment)
        self.attachment_view.doubleClicked.connect(lambda _i: self.open_attachment())
        self.attachment_view.selectionModel().selectionChanged.connect(lambda *_: self._attachment_buttons())
        return page

    def _build_history_page(self) -> QWidget:
        self.events = EventTableModel(self)
        self.event_view = _table(self.events, "history")
        for col, width in ((0, 78), (1, 54), (2, 76), (3, 100)):
            self.event_view.setColumnWidth(col, width)
        self.event_view.setWordWrap(True)  # the note (说明) wraps: the history is read in full
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.event_view)
        return page

    # --- loading --------------------------------------------------------------------------------------------
    def load(self, complaint_id: int | None) -> None:
        """Show a complaint (None: the placeholder). A complaint that cannot be read says why."""
        if complaint_id is None:
            self.detail = None
            self.stack.setCurrentWidget(self.placeholder)
            return
        try:
            detail = complaint_service.get_complaint(self.ctx, complaint_id)
        except ServiceError as exc:
            self.detail = None
            self.placeholder.setText(str(exc))
            self.stack.setCurrentWidget(self.placeholder)
            return
        self.present(detail)

    def present(self, detail: ComplaintDetail) -> None:
        """Show a complaint just read; another complaint than the one shown starts with a clean pane."""
        if self.detail is None or self.detail.id != detail.id:
            self.close_form()
            self.message.clear()
            mark_fields(self.handling_fields, None)
        self.show_detail(detail)

    def reload(self) -> None:
        if self.detail is not None:
            self.load(self.detail.id)

    def show_detail(self, d: ComplaintDetail) -> None:
        self.detail = d
        r = d.row
        self.stack.setCurrentIndex(1)
        badge = STATE_BADGE.get(r.state, "#595959")
        overdue = (f"　<span style='color:#fff; background:#d9363e;'>&nbsp;{self.tr('逾期')}&nbsp;</span>"
                   if r.overdue else "")
        severity = f"　{r.severity}" if r.kind == MessageKind.COMPLAINT.value else ""
        self.title.setText(
            f"<span style='font-size:15px; font-weight:bold;'>{r.number}</span>　{r.kind}{severity}　"
            f"<span style='color:{badge}; font-weight:bold;'>{r.state}</span>{overdue}")
        role = Role(d.handler_role).label if d.handler_role else ""
        parts = [self.tr("负责人：{0}（{1}）").format(r.handler or self.tr("未指定"), role)]
        if r.state not in ("已关闭", "已撤销") and r.deadline is not None:
            deadline = full_time(r.deadline)
            parts.append(self.tr("期限：<span style='color:#d9363e;'>{0}</span>").format(deadline) if r.overdue
                         else self.tr("期限：{0}").format(deadline))
        if r.escalation_level:
            parts.append(self.tr("已逾期升级 {0} 级").format(r.escalation_level))
        if r.chase_count:
            parts.append(self.tr("催办 {0} 次").format(r.chase_count))
        if r.occurrences > 1:
            parts.append(self.tr("重复投诉 {0} 次").format(r.occurrences))
        if r.closed_at is not None:
            parts.append(self.tr("关闭于 {0}").format(full_time(r.closed_at)))
        if d.withdraw_reason:
            parts.append(self.tr("撤销原因：{0}").format(d.withdraw_reason))
        self.facts.setText("　·　".join(parts))
        self._fill_content(d)
        self._fill_handling(d)
        self.attachments.set_rows(d.attachments, self.ctx.now())
        self.events.set_rows(d.events, self.ctx.now())
        self.event_view.resizeRowsToContents()
        self.pages.setTabText(2, self.tr("附件（{0}）").format(len(d.attachments)) if d.attachments
                              else self.tr("附件"))
        self.pages.setTabText(3, self.tr("处理记录（{0}）").format(len(d.events)))
        self.event_view.scrollToBottom()
        self._update_buttons(d)

    def _fill_content(self, d: ComplaintDetail) -> None:
        r = d.row
        info = self.info_labels
        info["subject"].setText(r.subject)
        info["complainant"].setText(r.complainant or "—")
        info["phone"].setText(r.phone or "—")
        info["customer"].setText(r.customer_name or self.tr("未关联"))
        info["channel"].setText(f"{r.channel}　{full_time(r.received_at)}")
        severity = r.severity if r.kind == MessageKind.COMPLAINT.value else ""
        info["category"].setText(" · ".join(p for p in (r.category, severity) if p) or "—")
        info["department"].setText(r.department or "—")
        info["first_reply_due"].setText(full_time(d.first_reply_due))
        info["handling_due"].setText(full_time(d.handling_due) + (self.tr("（特殊情况）") if d.special else ""))
        links = []
        if d.linked_to_number:
            links.append(self.tr("客户不认可 {0} 的处理结果").format(d.linked_to_number))
        if d.converted_from:
            links.append(self.tr("由 {0} 转为投诉").format(d.converted_from))
        if d.reply_only:
            links.append(self.tr("只需书面答复"))
        if r.anonymous:
            links.append(self.tr("匿名投诉：附答复函后关闭，不做回访"))
        info["link"].setText("；".join(links))
        info["link"].setVisible(bool(links))
        self.info_names["link"].setVisible(bool(links))
        self.content_text.setPlainText(d.content)
        self.occurrences.set_rows(d.occurrences, self.ctx.now())
        self.occurrence_title.setText(self.tr("投诉经过（共 {0} 次）").format(len(d.occurrences)))

    def _fill_handling(self, d: ComplaintDetail) -> None:
        self.investigation.setPlainText(d.investigation)
        self.cause.setPlainText(d.cause)
        self.measures.setPlainText(d.measures)
        self.result.setPlainText(d.result)
        self.replied.setChecked(d.replied_at is not None)
        self.replied_at.setDateTime(QDateTime(d.replied_at or self.ctx.now()))
        if d.reply_way:
            self.reply_way.setCurrentText(d.reply_way)
        self.reply_text.setPlainText(d.reply_text)
        self._replied_toggled(self.replied.isChecked())
        self._handling_shown = self._handling_draft()  # what 办结转回访 compares with: edits are saved first
        editable = "edit" in d.actions
        for w in (self.investigation, self.cause, self.measures, self.result, self.reply_text):
            w.setReadOnly(not editable)  # type: ignore[attr-defined]
        self.replied.setEnabled(editable)
        self.save_handling_button.setEnabled(editable)
        if editable:
            self.handling_hint.setText(self.tr("待受理的投诉保存处理情况即视为受理。")
                                       if d.state == "待受理" else "")
        elif d.state in ("已关闭", "已撤销"):
            self.handling_hint.setText(self.tr("{0}，处理情况不能再修改。").format(already(d.state)))
        else:
            self.handling_hint.setText(self.tr("由 {0} 负责，您只能查看。").format(d.row.handler or "—"))
        self.visit_info.setText(self._visit_text(d))

    def _visit_text(self, d: ComplaintDetail) -> str:
        if d.row.kind != MessageKind.COMPLAINT.value:
            return self.tr("{0}答复后即关闭，不做回访。").format(d.row.kind)
        if d.row.anonymous or d.reply_only:
            return self.tr("不做回访：附上答复函（或公开信）后由负责人关闭。")
        parts = []
        if d.visit_due is not None:
            parts.append(self.tr("第 {0} 轮，{1} 前完成").format(d.visit_round, d.visit_due.isoformat()))
        if d.visited_at is not None:
            verdict = self.tr("满意") if d.visit_satisfied else self.tr("不满意")
            parts.append(self.tr("{0} 回访：{1}").format(full_time(d.visited_at), d.row.satisfaction or verdict))
        if d.visit_note:
            parts.append(d.visit_note)
        if not parts:
            return self.tr("办结后安排（{0} 天内），客户满意方可关闭。").format(self.policy.closing_visit_days)
        return "；".join(parts)

    def _replied_toggled(self, on: bool) -> None:
        editable = self.detail is not None and "edit" in self.detail.actions
        self.replied_at.setEnabled(on and editable)
        self.reply_way.setEnabled(on and editable)

    def _update_buttons(self, d: ComplaintDetail) -> None:
        is_complaint = d.row.kind == MessageKind.COMPLAINT.value
        for key, b in self.buttons.items():
            visible = key not in (MESSAGE_ONLY if is_complaint else COMPLAINT_ONLY)
            if key == "reopen_linked":
                visible = visible and d.state == "已关闭"
            b.setVisible(visible)
            enabled = key in d.actions
            b.setEnabled(enabled)
            b.setToolTip("" if enabled else self._why_not(key, d))
        if self.form_box.isVisible():
            key = self._current_form_key()
            if key is not None and key not in d.actions:
                self.close_form()
        self.add_attachment_button.setEnabled("attach" in d.actions)
        self.attachment_kind.setEnabled("attach" in d.actions)
        self._attachment_buttons()

    def _why_not(self, key: str, d: ComplaintDetail) -> str:
        """A short reason for a disabled button (the service gives the full one if called anyway)."""
        state = d.state
        if state in ("已关闭", "已撤销") and key != "reopen_linked":
            return already(state)
        if "edit" not in d.actions and key not in ("chase", "reassign", "reopen_linked"):
            return self.tr("由 {0} 负责处理").format(d.row.handler or "—")
        if key == "close":
            needed = self.policy.handler_roles[Severity(d.row.severity)].label
            if d.row.anonymous or d.reply_only:
                return self.tr("须先附上答复函或公开信，并由{0}或更高级别关闭").format(needed)
            if not d.visit_satisfied:
                return self.tr("须先完成结案回访且客户满意")
            return self.tr("{0}投诉须由{1}或更高级别关闭").format(d.row.severity, needed)
        if key == "finish":
            if d.row.anonymous or d.reply_only:
                return self.tr("匿名或只需书面答复的投诉不做回访：附答复函后直接关闭")
            return self.tr("受理后方可办结")
        if key == "visit":
            return self.tr("办结转回访后方可登记")
        if key == "accept":
            return self.tr("只有待受理的投诉需要受理")
        if key == "chase":
            return self.tr("逾期的投诉才需催办（主管及以上）")
        if key == "reassign":
            return self.tr("需主管权限")
        if key == "withdraw":
            return self.tr("须由{0}或更高级别撤销").format(
                self.policy.handler_roles[Severity(d.row.severity)].label)
        return ""

    # --- inline forms ---------------------------------------------------------------------------------------
    def open_form(self, key: str) -> None:
        d = self.detail
        if d is None:
            return
        form = self.forms[key]
        now = QDateTime(self.ctx.now())
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

    def close_form(self) -> None:
        self.form_box.setVisible(False)

    def _current_form_key(self) -> str | None:
        current = self.form_stack.currentWidget()
        return next((k for k, f in self.forms.items() if f is current), None)

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

    def _run(self, call: Callable[[], ComplaintDetail], done: str, fields: dict[str, QWidget] | None = None
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
            self._run(lambda: complaint_service.accept(self.ctx, d.id, d.version),
                      self.tr("已受理 {0}，处理期限 {1}。").format(d.number, full_time(d.handling_due)))

    def finish_handling(self) -> None:
        d = self.detail
        if d is None:
            return
        if "edit" in d.actions and self._handling_draft() != self._handling_shown:
            # what is on screen counts: save the typed handling first, then move on with its new version
            saved = self._run(lambda: complaint_service.save_handling(self.ctx, d.id, self._handling_draft(),
                                                                      d.version), "", self.handling_fields)
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
            self._run(lambda: complaint_service.close(self.ctx, d.id, d.version),
                      self.tr("{0} 已关闭。").format(d.number))

    def save_handling(self) -> None:
        d = self.detail
        if d is None:
            return
        draft = self._handling_draft()
        self._run(lambda: complaint_service.save_handling(self.ctx, d.id, draft, d.version),
                  self.tr("处理情况已保存。"), self.handling_fields)

    def _handling_draft(self) -> HandlingDraft:
        replied = self.replied.isChecked()
        return HandlingDraft(
            investigation=self.investigation.toPlainText(), cause=self.cause.toPlainText(),
            measures=self.measures.toPlainText(), result=self.result.toPlainText(),
            replied_at=self.replied_at.dateTime().toPython() if replied else None,
            reply_way=self.reply_way.currentText() if replied else "",
            reply_text=self.reply_text.toPlainText())

    # --- actions with a form --------------------------------------------------------------------------------
    def submit_visit(self) -> None:
        d = self.detail
        if d is None:
            return
        draft = ClosingVisitDraft(
            result=self.visit_result.currentText(),
            satisfaction=(self.visit_satisfaction.currentData() or "") if self.visit_satisfaction.isEnabled()
            else "", method=self.visit_method.currentText(), visited_at=self.visit_time.dateTime().toPython(),
            note=self.visit_note.text())
        done = self._run(lambda: workflow.record_closing_visit(self.ctx, d.id, draft), "",
                         self.forms["visit"].fields)
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
        if d is not None and self._run(
                lambda: complaint_service.withdraw(self.ctx, d.id, self.withdraw_reason.text(), d.version),
                self.tr("{0} 已撤销。").format(d.number), self.forms["withdraw"].fields) is not None:
            self.close_form()

    def submit_reply(self) -> None:
        d = self.detail
        if d is not None and self._run(
                lambda: complaint_service.reply_message(
                    self.ctx, d.id, self.reply_message_text.toPlainText(),
                    self.reply_message_way.currentText(), self.reply_message_time.dateTime().toPython(),
                    d.version),
                self.tr("已答复，{0} 已关闭。").format(d.number), self.forms["reply"].fields) is not None:
            self.close_form()

    def submit_convert(self) -> None:
        d = self.detail
        if d is None:
            return
        done = self._run(lambda: complaint_service.convert_to_complaint(
            self.ctx, d.id, severity=self.convert_severity.currentText(),
            category=self.convert_category.currentData() or "", expected_version=d.version), "",
            self.forms["convert"].fields)
        if done is not None:
            self.close_form()
            self._info(self.tr("{0} 已转为投诉 {1}，负责人 {2}。").format(d.number, done.number, done.row.handler))

    def submit_chase(self) -> None:
        d = self.detail
        if d is not None and self._run(
                lambda: complaint_service.chase(self.ctx, d.id, self.chase_note.text()),
                self.tr("已催办 {0}。").format(d.number), self.forms["chase"].fields) is not None:
            self.close_form()

    def submit_reassign(self) -> None:
        d = self.detail
        if d is None:
            return
        uid = self.reassign_handler.currentData()
        if uid is None:
            self._error(ValidationError(FieldError("handler_id", "负责人", "请选择新负责人")),
                        self.forms["reassign"].fields)
            return
        done = self._run(lambda: complaint_service.reassign(self.ctx, d.id, int(uid), d.version), "",
                         self.forms["reassign"].fields)
        if done is not None:
            self.close_form()
            self._info(self.tr("已转交给 {0}。").format(done.row.handler))

    def submit_reopen(self) -> None:
        d = self.detail
        if d is None:
            return
        try:
            new = complaint_service.reopen_linked(self.ctx, d.id, content=self.reopen_content.text(),
                                                  channel=self.reopen_channel.currentText())
        except (ValidationError, ServiceError) as exc:
            self._error(exc, self.forms["reopen_linked"].fields)
            return
        self.close_form()
        self.changed.emit(d.id)
        self.open_complaint.emit(new.id)
        self.show_detail(new)
        self._info(self.tr("已新建关联投诉 {0}（原投诉 {1}）。").format(new.number, d.number))

    # --- attachments ----------------------------------------------------------------------------------------
    def selected_attachment(self):  # type: ignore[no-untyped-def]
        rows = self.attachment_view.selectionModel().selectedRows()
        return self.attachments.attachment(rows[0].row()) if rows else None

    def _attachment_buttons(self) -> None:
        picked = self.selected_attachment() is not None
        self.open_attachment_button.setEnabled(picked)
        self.save_attachment_button.setEnabled(picked)
        self.remove_attachment_button.setEnabled(picked and self.detail is not None
                                                 and "attach" in self.detail.actions)

    def _ask_files(self) -> list[str]:
        files, _filter = QFileDialog.getOpenFileNames(
            self, self.tr("添加附件"), "", self.tr("所有文件 (*);;PDF (*.pdf);;图片 (*.jpg *.jpeg *.png);;"
                                                   "Word (*.doc *.docx)"))
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
            self._error(ServiceError(self.tr("无法写出临时文件 {0}：{1}").format(target, exc.strerror or exc)))
            return
        self.last_opened = target
        if not self.open_url(QUrl.fromLocalFile(str(target))):
            self._error(ServiceError(self.tr("没有能打开“{0}”的程序；可用“另存为…”保存后再打开。").format(name)))
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
        self._run(lambda: complaint_service.detach(self.ctx, d.id, a.id),
                  self.tr("已删除附件 {0}。").format(a.name))
