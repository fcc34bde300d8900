"""The widgets of the complaint detail pane, built and laid out; what they do is in ``detail.py``.

OpenLP's split of a dialog's layout (``*dialog.py``) from its behaviour (``*form.py``): :class:`ComplaintDetailLayout`
makes every widget the pane shows (the header, the action buttons in two rows, the inline action forms, the
four pages) as an attribute and lays them out, and connects nothing; :class:`ComplaintDetailPane` (a
subclass) connects them, fills them from a complaint and runs the actions. The choices that come from the
office (its satisfaction scale, its complaint categories) are passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.complaints import Channel, Severity
from huifang_desktop.domain.visits import VisitMethod, VisitResult
from huifang_desktop.services.complaints import ATTACHMENT_KINDS, REPLY_WAYS
from huifang_desktop.ui.common.forms import fit_popup
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.complaints.model import AttachmentTableModel, EventTableModel, OccurrenceTableModel

# action key (ComplaintDetail.actions) -> button label; the order is the order on screen
ACTIONS: tuple[tuple[str, str], ...] = (
    ("accept", QT_TRANSLATE_NOOP("ComplaintDetail", "受理")),
    ("finish", QT_TRANSLATE_NOOP("ComplaintDetail", "办结转回访")),
    ("visit", QT_TRANSLATE_NOOP("ComplaintDetail", "登记结案回访…")),
    ("close", QT_TRANSLATE_NOOP("ComplaintDetail", "关闭")),
    ("reply", QT_TRANSLATE_NOOP("ComplaintDetail", "答复…")),
    ("convert", QT_TRANSLATE_NOOP("ComplaintDetail", "转为投诉…")),
    ("withdraw", QT_TRANSLATE_NOOP("ComplaintDetail", "撤销…")),
    ("chase", QT_TRANSLATE_NOOP("ComplaintDetail", "催办…")),
    ("reassign", QT_TRANSLATE_NOOP("ComplaintDetail", "转交…")),
    ("supervise", QT_TRANSLATE_NOOP("ComplaintDetail", "督办…")),
    ("reopen_linked", QT_TRANSLATE_NOOP("ComplaintDetail", "客户不认可…")),
)
SECOND_ROW = frozenset({"withdraw", "chase", "reassign", "supervise", "reopen_linked"})
PAGE_CONTENT, PAGE_HANDLING, PAGE_ATTACHMENTS, PAGE_HISTORY, PAGE_INQUIRY = range(5)


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


class ComplaintDetailLayout(QWidget):
    """The pane's widgets and their places (see the module docstring); :meth:`setup_ui` builds them."""

    def setup_ui(self, satisfaction_levels: Sequence[str], categories: Sequence[str]) -> None:
        """Build every widget and lay the pane out: the placeholder, or the complaint's header, action buttons,
        inline forms (hidden), message line and pages. ``satisfaction_levels``: the office's scale (结案回访);
        ``categories``: its complaint categories (转为投诉)."""
        self._build_placeholder()
        self._build_header()
        self._build_review_banner()
        row1, row2 = self._build_action_buttons()
        self._build_form_box(satisfaction_levels, categories)
        self._build_message()
        self._build_pages()

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.review_banner)
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

    def _build_placeholder(self) -> None:
        """What the pane shows while no complaint is selected."""
        self.placeholder = QLabel(self.tr("在左侧选择一件投诉查看详情。\n\n新建登记：Ctrl+N　搜索：Ctrl+F"))
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #8c8c8c;")
        self.placeholder.setWordWrap(True)

    def _build_header(self) -> None:
        """The complaint's title line and its facts below it."""
        self.title = QLabel()
        self.title.setObjectName("title")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts = QLabel()
        self.facts.setObjectName("facts")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _build_review_banner(self) -> None:
        """The 已退回 banner (审阅 returned the closed file): the reason and 修改后重新提交, where the clerk works."""
        self.review_banner = QFrame()
        self.review_banner.setObjectName("reviewBanner")
        self.review_banner.setStyleSheet("#reviewBanner { background: #fff7e6; border: 1px solid #ffa940; }")
        self.review_text = QLabel()
        self.review_text.setObjectName("reviewText")
        self.review_text.setWordWrap(True)
        self.review_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.resubmit_button = QPushButton(self.tr("修改后重新提交(&U)"))
        self.resubmit_button.setObjectName("resubmit")
        self.resubmit_button.setAutoDefault(False)
        self.resubmit_button.setToolTip(
            self.tr("保存“处理情况”页的修改，并把投诉处理表重新提交主管审阅（Alt+U）")
        )
        banner = QHBoxLayout(self.review_banner)
        banner.setContentsMargins(8, 4, 8, 4)
        banner.addWidget(self.review_text, 1)
        banner.addWidget(self.resubmit_button)
        self.review_banner.setVisible(False)

    def _build_action_buttons(self) -> tuple[QHBoxLayout, QHBoxLayout]:
        """The action buttons in two rows (打印 at the end of the second); returns the rows."""
        self.buttons: dict[str, QPushButton] = {}
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        for key, label in ACTIONS:
            b = QPushButton(translated("ComplaintDetail", label))
            b.setObjectName(f"action_{key}")
            b.setAutoDefault(False)
            self.buttons[key] = b
            (row2 if key in SECOND_ROW else row1).addWidget(b)
        row1.addStretch(1)
        row2.addStretch(1)
        self.print_button = QPushButton(self.tr("打印投诉处理表…"))
        self.print_button.setToolTip(
            self.tr("打印预览投诉处理表（含处理经过和签字），可打印或另存为 PDF（Ctrl+P）")
        )
        self.print_button.setAutoDefault(False)
        row2.addWidget(self.print_button)
        return row1, row2

    def _build_form_box(self, satisfaction_levels: Sequence[str], categories: Sequence[str]) -> None:
        """The frame above the pages that shows one inline action form at a time (hidden until asked)."""
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
        self._build_forms(satisfaction_levels, categories)

    def _build_message(self) -> None:
        """The line for what an action did or why it was refused."""
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _build_pages(self) -> None:
        """The pages: 投诉内容, 处理情况, 附件, 处理记录, 查办."""
        self.pages = QTabWidget()
        self.pages.setObjectName("pages")
        self.pages.addTab(self._build_content_page(), self.tr("投诉内容"))
        self.pages.addTab(self._build_handling_page(), self.tr("处理情况"))
        self.pages.addTab(self._build_attachment_page(), self.tr("附件"))
        self.pages.addTab(self._build_history_page(), self.tr("处理记录"))
        self.pages.addTab(self._build_inquiry_page(), self.tr("查办"))

    def _build_forms(self, satisfaction_levels: Sequence[str], categories: Sequence[str]) -> None:
        """The inline action forms, in the form stack's order."""
        self._build_visit_form(satisfaction_levels)
        self._build_withdraw_form()
        self._build_reply_form()
        self._build_convert_form(categories)
        self._build_escalation_forms()
        self._build_reopen_form()

    def _build_visit_form(self, satisfaction_levels: Sequence[str]) -> None:
        """登记结案回访: result, satisfaction (the office's scale), method, time and a note."""
        f = self._form("visit", self.tr("登记结案回访"), self.tr("保存回访"))
        self.visit_result = QComboBox()
        self.visit_result.addItems([r.value for r in VisitResult])
        self.visit_satisfaction = QComboBox()
        self.visit_satisfaction.addItem(self.tr("（请选择）"), "")
        for level in satisfaction_levels:
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
        f.fields = {
            "satisfaction": self.visit_satisfaction,
            "result": self.visit_result,  # focus: 满意度
            "method": self.visit_method,
            **f.fields,
        }

    def _build_withdraw_form(self) -> None:
        """撤销: the reason."""
        f = self._form("withdraw", self.tr("撤销（须说明原因）"), self.tr("撤销"))
        self.withdraw_reason = QLineEdit()
        self.withdraw_reason.setPlaceholderText(self.tr("如：投诉人撤回、重复登记"))
        f.add(self.tr("撤销原因"), self.withdraw_reason, "withdraw_reason")

    def _build_reply_form(self) -> None:
        """答复: the reply, its way and time."""
        f = self._form("reply", self.tr("答复"), self.tr("答复并关闭"))
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

    def _build_convert_form(self, categories: Sequence[str]) -> None:
        """转为投诉: severity and the office's category."""
        f = self._form("convert", self.tr("转为投诉（重新编号，按严重程度分派）"), self.tr("转为投诉"))
        self.convert_severity = QComboBox()
        self.convert_severity.addItems([s.value for s in Severity])
        self.convert_category = QComboBox()
        self.convert_category.addItem(self.tr("（请选择）"), "")
        for c in categories:
            self.convert_category.addItem(c, c)
        f.add(self.tr("严重程度"), self.convert_severity, "severity")
        f.add(self.tr("类别"), self.convert_category, "category")

    def _build_escalation_forms(self) -> None:
        """催办, 转交 and 督办: a note or the new handler."""
        f = self._form("chase", self.tr("催办（记入处理记录，负责人下次启动时看到）"), self.tr("催办"))
        self.chase_note = QLineEdit()
        self.chase_note.setPlaceholderText(self.tr("可空"))
        f.add(self.tr("催办说明"), self.chase_note, "note")

        f = self._form("reassign", self.tr("转交给"), self.tr("转交"))
        self.reassign_handler = QComboBox()
        f.add(self.tr("新负责人"), self.reassign_handler, "handler_id")

        f = self._form(
            "supervise", self.tr("督办（负责人与首问责任人收到通知，负责人不变）"), self.tr("督办")
        )
        self.supervise_note = QLineEdit()
        self.supervise_note.setPlaceholderText(self.tr("督办要求，如“每日报进度”（可空）"))
        f.add(self.tr("督办要求"), self.supervise_note, "note")

    def _build_reopen_form(self) -> None:
        """客户不认可: a new linked complaint's content and channel."""
        f = self._form(
            "reopen_linked", self.tr("客户不认可处理结果：新建一件关联投诉"), self.tr("新建关联投诉")
        )
        self.reopen_content = QLineEdit()
        self.reopen_content.setPlaceholderText(self.tr("客户不认可的原因（可空）"))
        self.reopen_channel = QComboBox()
        self.reopen_channel.addItems([c.value for c in Channel])
        f.add(self.tr("内容"), self.reopen_content, "content")
        f.add(self.tr("渠道"), self.reopen_channel, "channel")

    def _form(self, key: str, title: str, ok_text: str) -> _InlineForm:
        form = _InlineForm(title, ok_text)
        form.setObjectName(f"form_{key}")
        self.forms[key] = form
        self.form_stack.addWidget(form)
        return form

    def _build_content_page(self) -> QWidget:
        self.info = QGridLayout()
        self.info.setHorizontalSpacing(10)
        self.info.setVerticalSpacing(4)
        self.info_labels: dict[str, QLabel] = {}
        self.info_names: dict[str, QLabel] = {}
        cells = (
            ("subject", QT_TRANSLATE_NOOP("ComplaintDetail", "主题"), 0, 0, 3),
            ("complainant", QT_TRANSLATE_NOOP("ComplaintDetail", "投诉人"), 1, 0, 1),
            ("phone", QT_TRANSLATE_NOOP("ComplaintDetail", "联系方式"), 1, 2, 1),
            ("customer", QT_TRANSLATE_NOOP("ComplaintDetail", "客户档案"), 2, 0, 1),
            ("channel", QT_TRANSLATE_NOOP("ComplaintDetail", "渠道"), 2, 2, 1),
            ("category", QT_TRANSLATE_NOOP("ComplaintDetail", "类别"), 3, 0, 1),
            ("department", QT_TRANSLATE_NOOP("ComplaintDetail", "责任部门"), 3, 2, 1),
            ("first_reply_due", QT_TRANSLATE_NOOP("ComplaintDetail", "首次答复"), 4, 0, 1),
            ("handling_due", QT_TRANSLATE_NOOP("ComplaintDetail", "处理期限"), 4, 2, 1),
            ("first_responder", QT_TRANSLATE_NOOP("ComplaintDetail", "首问责任人"), 5, 0, 1),
            ("lateness", QT_TRANSLATE_NOOP("ComplaintDetail", "是否逾期"), 5, 2, 1),
            ("urgent", QT_TRANSLATE_NOOP("ComplaintDetail", "紧急"), 6, 0, 3),
            ("link", QT_TRANSLATE_NOOP("ComplaintDetail", "关联"), 7, 0, 3),
        )
        for key, label, r, c, span in cells:
            name = QLabel(translated("ComplaintDetail", label))
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
        self.content_text.setMinimumHeight(36)  # the pane fits a 1280×640 screen with 首问责任人 added
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
            "investigation": self.investigation,
            "cause": self.cause,
            "measures": self.measures,
            "result": self.result,
            "replied_at": self.replied_at,
            "reply_way": self.reply_way,
            "reply_text": self.reply_text,
        }
        return scroll

    def _build_inquiry_page(self) -> QWidget:
        """查办 (002 制度3 第十三条): why the case was late, the measures, who is responsible; entered by a
        supervisor, read-only for everyone else."""
        self.inquiry_state = QLabel()
        self.inquiry_state.setObjectName("inquiryState")
        self.inquiry_state.setWordWrap(True)
        self.inquiry_reason = _text_box(60, "inquiryReason")
        self.inquiry_reason.setPlaceholderText(self.tr("为什么逾期：如处理人请假未移交、等待配件"))
        self.inquiry_measures = _text_box(60, "inquiryMeasures")
        self.inquiry_measures.setPlaceholderText(self.tr("改进措施、处理意见（对责任人的处理决定）"))
        self.inquiry_responsible = QLineEdit()
        self.inquiry_responsible.setObjectName("inquiryResponsible")
        self.inquiry_responsible.setPlaceholderText(self.tr("责任人或责任部门（可空）"))
        self.inquiry_decided = QLabel()
        self.inquiry_decided.setObjectName("inquiryDecided")
        self.inquiry_decided.setStyleSheet("color: #595959;")
        self.save_inquiry_button = QPushButton(self.tr("保存查办(&Q)"))
        self.save_inquiry_button.setObjectName("saveInquiry")
        self.save_inquiry_button.setAutoDefault(False)
        self.inquiry_hint = QLabel()
        self.inquiry_hint.setObjectName("inquiryHint")
        self.inquiry_hint.setWordWrap(True)
        self.inquiry_hint.setStyleSheet("color: #8c8c8c;")
        labels = []
        for text, buddy in (
            (self.tr("逾期原因(&Y)"), self.inquiry_reason),
            (self.tr("改进措施(&M)"), self.inquiry_measures),
            (self.tr("责任人(&E)"), self.inquiry_responsible),
        ):
            label = QLabel(text)
            label.setBuddy(buddy)
            labels.append(label)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.tr("状态"), self.inquiry_state)
        form.addRow(labels[0], self.inquiry_reason)
        form.addRow(labels[1], self.inquiry_measures)
        form.addRow(labels[2], self.inquiry_responsible)
        form.addRow(self.tr("决定人"), self.inquiry_decided)
        buttons = QHBoxLayout()
        buttons.addWidget(self.inquiry_hint, 1)
        buttons.addWidget(self.save_inquiry_button)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.inquiry_fields: dict[str, QWidget] = {
            "reason": self.inquiry_reason,
            "measures": self.inquiry_measures,
            "responsible": self.inquiry_responsible,
        }
        return _scrolling(inner)

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
        self.attachment_hint = QLabel(
            self.tr("附件存于数据库内，数据文件夹搬家也不会丢失；每个不超过 20 MB。")
        )
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

    # --- the inline form box --------------------------------------------------------------------------------
    def close_form(self) -> None:
        self.form_box.setVisible(False)

    def _current_form_key(self) -> str | None:
        """The key of the form the box shows (whether it is open or not)."""
        current = self.form_stack.currentWidget()
        return next((k for k, f in self.forms.items() if f is current), None)
