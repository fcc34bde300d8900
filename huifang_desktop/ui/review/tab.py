"""审阅 tab: the supervisor's queue beside the item being read, 指导意见, 签字通过 / 退回修改 / 撤回签字, batch
sign-off of read visit records, the clerk's returned items, and the 操作日志 page. Keyboard driven:

* ↑ / ↓ move through the queue and show the item (which counts as read); Tab goes to the 指导意见 box;
* Ctrl+Enter 签字通过; Alt+B 退回修改 (the 指导意见 is the reason); Alt+W 撤回签字 (reason in the same box);
* Alt+E 修改 / Alt+R 重新提交 (the clerk's returned items);
* Space ticks / unticks a read visit record; Ctrl+B signs the ticked ones; F5 reloads.

The shortcuts are the page's own (QShortcut), not button mnemonics, so they work from the queue and from the
指导意见 box alike.
"""

from __future__ import annotations

import html
import time
from dataclasses import replace
from itertools import pairwise
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.signoff import Integrity, ReviewKind
from huifang_desktop.services import complaints as complaint_service
from huifang_desktop.services import review as review_service
from huifang_desktop.services import signing
from huifang_desktop.services import visits as visit_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.services.review import QueueGroup, ReviewDetail, ReviewItem, ReviewQueue
from huifang_desktop.ui.review.models import (
    MINE_MODE,
    PENDING_MODE,
    RETURNED_MODE,
    SIGNED_MODE,
    Key,
    ReviewTreeModel,
    key_of,
)

ERROR_STYLE = "color: #d9363e;"
EXPAND_ROWS = 400  # item rows opened at once when the queue is shown
SCAN_DELAY_MS = 400  # the tamper scan starts after the first paint
SCAN_STEP_ROWS = 25  # signed rows checked by the scan's first step …
SCAN_STEP_MS = 12.0  # … then as many as take about this long: the GUI never waits longer for its turn
SCAN_ROWS_RANGE = (5, 400)  # (each row's content hash and Ed25519 signature cost 0.3–0.6 ms on a 2-core PC;
# 200 rows a step once held the window for 114 ms at a time, for a minute, on a 10,000-customer office)
NOTE_STYLE = "color: #389e0d;"
WARN_STYLE = "color: #d9363e; font-weight: bold;"


def scan_rows_next(rows: int, took_ms: float) -> int:
    """How many signed rows the tamper scan's next step checks: as many as fit in ``SCAN_STEP_MS`` at the
    pace of the last step (``rows`` took ``took_ms``), within ``SCAN_ROWS_RANGE``, growing at most twofold."""
    low, high = SCAN_ROWS_RANGE
    fitting = int(rows * SCAN_STEP_MS / took_ms) if took_ms > 0 else high
    return max(low, min(high, 2 * rows, fitting))


class QueueView(QTreeView):
    """The queue tree: Space ticks the current visit record (only once it was read)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            model = self.model()
            if isinstance(model, ReviewTreeModel):
                model.toggle(self.currentIndex())
                event.accept()
                return
        super().keyPressEvent(event)


class ReviewPage(QWidget):
    """The queue (left) and the item being read with the sign-off controls (right)."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.signer = can(ctx.user.role, Permission.SIGN_OFF)
        self.current: ReviewDetail | None = None
        self.tampered: list[ReviewItem] = []
        self.scan_cursor: review_service.ScanCursor | None = None
        self.scan_rows = SCAN_STEP_ROWS
        self.scan_timer = QTimer(self)
        self.scan_timer.setSingleShot(True)
        self.dialog: Any = None  # the correction dialog, while open
        self.password_dialog: Any = None  # 签字确认, while open
        self._key: signing.UnlockedKey | None = None  # the signing key, unlocked once, in memory only
        self._loaded = False
        self._build_queue()
        self._build_item()
        self._lay_out()
        self._connect()
        self._show(None)
        self._checks_changed(0)

    def _build_queue(self) -> None:
        """The mode (待审阅 / 已签字 / 已退回 / 我的退回), the summary, the queue tree and its buttons."""
        self.mode = QComboBox()
        self.mode.setObjectName("reviewMode")
        if self.signer:
            self.mode.addItem(self.tr("待审阅"), PENDING_MODE)
            rules = review_service.load_review_rules(self.ctx)
            self.mode.addItem(self.tr("已签字（近 {0} 天）").format(rules.signed_days), SIGNED_MODE)
            self.mode.addItem(self.tr("已退回（等待修改）"), RETURNED_MODE)
        self.mode.addItem(self.tr("我的退回"), MINE_MODE)
        self.summary = QLabel()
        self.summary.setObjectName("reviewSummary")
        self.tamper_label = QLabel()
        self.tamper_label.setObjectName("tamperWarning")
        self.tamper_label.setStyleSheet(WARN_STYLE)
        self.tamper_label.setWordWrap(True)
        self.tamper_label.hide()

        self.model = ReviewTreeModel(self)
        self.tree = QueueView()
        self.tree.setObjectName("reviewQueue")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(1, 82)
        self.tree.setColumnWidth(2, 138)
        self.batch_button = QPushButton(self.tr("批量签字 (Ctrl+B)"))
        self.batch_button.setObjectName("batchSign")
        self.batch_button.setToolTip(
            self.tr("签署已勾选的回访记录：每一份须先打开阅读，再按空格勾选（Ctrl+B）")
        )
        self.reload_button = QPushButton(self.tr("刷新 (F5)"))

    def _build_item(self) -> None:
        """The item being read: heading, warning, the form, 指导意见 and the sign-off buttons."""
        self.head = QLabel()
        self.head.setObjectName("itemHead")
        self.head.setWordWrap(True)
        self.head.setTextFormat(Qt.TextFormat.RichText)
        self.warning = QLabel()
        self.warning.setObjectName("itemWarning")
        self.warning.setStyleSheet(WARN_STYLE)
        self.warning.setWordWrap(True)
        self.warning.hide()
        self.view = QTextBrowser()
        self.view.setObjectName("itemView")
        self.view.setOpenLinks(False)
        self.comment_label = QLabel(self.tr("指导意见"))
        self.comment = QPlainTextEdit()
        self.comment.setObjectName("comment")
        self.comment.setTabChangesFocus(True)
        self.comment.setFixedHeight(72)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.sign_button = QPushButton(self.tr("签字通过 (Ctrl+Enter)"))
        self.sign_button.setObjectName("signButton")
        self.return_button = QPushButton(self.tr("退回修改 (Alt+B)"))
        self.reopen_button = QPushButton(self.tr("撤回签字 (Alt+W)"))
        self.edit_button = QPushButton(self.tr("修改… (Alt+E)"))
        self.resubmit_button = QPushButton(self.tr("重新提交 (Alt+R)"))

    def _lay_out(self) -> None:
        """The queue on the left, the item on the right (a splitter); Tab from the queue goes to 指导意见."""
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.mode)
        top.addWidget(self.summary, 1)
        left_layout.addLayout(top)
        left_layout.addWidget(self.tamper_label)
        left_layout.addWidget(self.tree, 1)
        below = QHBoxLayout()
        below.addWidget(self.batch_button)
        below.addStretch(1)
        below.addWidget(self.reload_button)
        left_layout.addLayout(below)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.head)
        right_layout.addWidget(self.warning)
        right_layout.addWidget(self.view, 1)
        right_layout.addWidget(self.comment_label)
        right_layout.addWidget(self.comment)
        right_layout.addWidget(self.message)
        buttons = QHBoxLayout()
        for b in (
            self.sign_button,
            self.return_button,
            self.reopen_button,
            self.edit_button,
            self.resubmit_button,
        ):
            buttons.addWidget(b)
        buttons.addStretch(1)
        right_layout.addLayout(buttons)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 6)
        self.splitter.setSizes([640, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        order = (
            self.tree,
            self.comment,
            self.sign_button,
            self.return_button,
            self.reopen_button,
            self.edit_button,
            self.resubmit_button,
            self.view,
            self.batch_button,
            self.reload_button,
            self.mode,
        )
        for first, second in pairwise(order):  # Tab from the queue goes to 指导意见
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        """The behaviour: the mode, the queue's scrolling and selection, the buttons and their keys."""
        self.scan_timer.timeout.connect(self._scan_step)
        self.mode.currentIndexChanged.connect(lambda _i: self.reload())
        self.tree.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.tree.expanded.connect(self._opened)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.model.check_refused.connect(self._check_refused)
        self.model.checks_changed.connect(self._checks_changed)
        self.sign_button.clicked.connect(self.sign_current)
        self.return_button.clicked.connect(self.return_current)
        self.reopen_button.clicked.connect(self.reopen_current)
        self.edit_button.clicked.connect(self.edit_current)
        self.resubmit_button.clicked.connect(self.resubmit_current)
        self.batch_button.clicked.connect(self.batch_sign)
        self.reload_button.clicked.connect(self.reload)
        for keys, slot in (
            ((QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")), self.sign_current),
            ((QKeySequence("Alt+B"),), self.return_current),
            ((QKeySequence("Alt+W"),), self.reopen_current),
            ((QKeySequence("Alt+E"),), self.edit_current),
            ((QKeySequence("Alt+R"),), self.resubmit_current),
            ((QKeySequence("Ctrl+B"),), self.batch_sign),
            ((QKeySequence("F5"),), self.reload),
        ):
            for key in keys:
                shortcut = QShortcut(key, self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)

    # --- loading ---------------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded:
            self.reload()
            if self.signer:
                self.scan()
            self.tree.setFocus()  # ready for ↑ / ↓
        elif not event.spontaneous():  # back on this tab: what others did meanwhile shows
            self.reload()

    def current_mode(self) -> str:
        return str(self.mode.currentData())

    def load_queue(self) -> ReviewQueue:
        mode = self.current_mode()
        if mode == PENDING_MODE:  # counts first; a group's items when it is opened
            return review_service.queue_summary(self.ctx)
        if mode == SIGNED_MODE:
            signed = review_service.signed_queue(self.ctx)
            shown = {key_of(i) for i in signed.items()}
            extra = [i for i in self.tampered if key_of(i) not in shown and i.status == "已签字"]
            return review_service.group_items([*signed.items(), *extra]) if extra else signed
        if mode == RETURNED_MODE:
            return review_service.returned_queue(self.ctx, mine=False)
        return review_service.returned_queue(self.ctx, mine=True)

    def _load_group(self, group: QueueGroup, offset: int, limit: int) -> QueueGroup:
        try:
            return review_service.queue_group(
                self.ctx, group.owner_id, group.kind, offset=offset, limit=limit
            )
        except (ValidationError, ServiceError) as exc:
            self._say(str(exc), ERROR_STYLE)
            return replace(group, items=())

    def _opened(self, index: QModelIndex) -> None:
        """A type row was opened: its first page of items comes in."""
        if self.model.rowCount(index) == 0 and self.model.can_load_more(index):
            self.model.load_more(index)

    def _scrolled(self, value: int) -> None:
        """Scrolled to the bottom: the next page of the group shown there comes in."""
        bar = self.tree.verticalScrollBar()
        if value < bar.maximum() - bar.pageStep():
            return
        bottom = self.tree.indexAt(self.tree.viewport().rect().bottomLeft())
        parent = bottom.parent() if self.model.item_at(bottom) is not None else bottom
        if parent.isValid() and self.model.can_load_more(parent):
            self.model.load_more(parent)

    def _find(self, key: Key | None, group: tuple[int | None, ReviewKind] | None) -> QModelIndex:
        """The item's index, paging its group in until it shows up (a long group after a reload)."""
        if key is None:
            return QModelIndex()
        index = self.model.index_of(key)
        if index.isValid() or group is None:
            return index
        for parent, _count in self.model.group_indexes():
            if self.model.group_key(parent) == group:
                while not index.isValid() and self.model.can_load_more(parent):
                    self.model.load_more(parent)
                    index = self.model.index_of(key)
        return index

    def reload(self, keep: Key | None = None) -> None:
        """Read the queue again; keep the current item selected (or the one after it, ``keep``) and the
        types that were open."""
        self._loaded = True
        before = keep or (key_of(self.current.item) if self.current is not None else None)
        known = {key_of(i): (i.owner_id, i.kind) for i in self.model.items({before})} if before else {}
        opened = {
            k
            for index, _n in self.model.group_indexes()
            if self.tree.isExpanded(index) and (k := self.model.group_key(index)) is not None
        }
        if before in known:
            opened.add(known[before])
        try:
            queue = self.load_queue()
        except (ValidationError, ServiceError) as exc:
            self.model.set_queue(ReviewQueue(()), self.current_mode())
            self._say(str(exc), ERROR_STYLE)
            return
        mode = self.current_mode()
        self.model.set_queue(queue, mode, self._load_group if mode == PENDING_MODE else None)
        self.summary.setText(self._summary_text(queue))
        self._expand(opened)
        index = self._find(before, known.get(before) if before is not None else None)
        if not index.isValid():
            index = self.model.first_item()
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
        else:
            self._show(None)
        self.batch_button.setVisible(self.current_mode() == PENDING_MODE)

    def _expand(self, opened: set[tuple[int | None, ReviewKind]]) -> None:
        """Open every clerk; open (and so load) the types that were open, the first one, and others while the
        shown rows stay within ``EXPAND_ROWS`` — a long list stays closed until → opens it."""
        for row in range(self.model.rowCount()):
            self.tree.expand(self.model.index(row, 0))
        budget = EXPAND_ROWS
        for n, (index, count) in enumerate(self.model.group_indexes()):
            if n == 0 or self.model.group_key(index) in opened or count <= budget:
                self.tree.expand(index)  # _opened loads its first page
                budget -= min(count, budget)

    def _pending_text(self, total: int, overdue: int) -> str:
        return self.tr("待审阅 {0} 件，逾期 {1} 件").format(total, overdue)

    def _summary_text(self, queue: ReviewQueue) -> str:
        mode = self.current_mode()
        if mode == PENDING_MODE:
            return self._pending_text(queue.total, queue.overdue)
        if mode == SIGNED_MODE:
            extra = self.tr("，签字后被修改 {0} 件").format(queue.tampered) if queue.tampered else ""
            return self.tr("已签字 {0} 件{1}").format(queue.total, extra)
        if mode == RETURNED_MODE:
            return self.tr("退回等待修改 {0} 件").format(queue.total)
        if queue.total == 0:
            return self.tr("没有退回给您的表单")
        return self.tr("退回给您的 {0} 件：请按主管意见修改后重新提交").format(queue.total)

    def scan(self) -> None:
        """Check every signed item against its hashes (签字后被修改), a few hundred rows per step on a timer of
        this page: the GUI stays responsive and nothing outlives the page."""
        self.tampered = []
        self.scan_cursor = review_service.ScanCursor()
        self.scan_rows = SCAN_STEP_ROWS
        self.scan_timer.start(SCAN_DELAY_MS)

    def _scan_step(self) -> None:
        if self.scan_cursor is None:
            return
        started = time.perf_counter()
        try:
            found, self.scan_cursor = review_service.scan_tampered(self.ctx, self.scan_cursor, self.scan_rows)
        except (ValidationError, ServiceError) as exc:
            self.scan_cursor = None
            self.tamper_label.setText(str(exc))
            self.tamper_label.show()
            return
        self.tampered += found
        self.scan_rows = scan_rows_next(self.scan_rows, (time.perf_counter() - started) * 1000)
        if self.scan_cursor is not None:
            self.scan_timer.start(0)
        else:
            self._scanned(self.tampered)

    @property
    def scanning(self) -> bool:
        return self.scan_cursor is not None

    def _scanned(self, items: object) -> None:
        self.tampered = list(items) if isinstance(items, list) else []
        if self.tampered:
            numbers = "、".join(i.number for i in self.tampered[:5]) + ("…" if len(self.tampered) > 5 else "")
            self.tamper_label.setText(
                self.tr("⚠ 签字后被修改 {0} 件：{1}（在“已签字”中查看，核实后撤回签字）").format(
                    len(self.tampered), numbers
                )
            )
            self.tamper_label.show()
            if self.current_mode() == SIGNED_MODE:
                self.reload()
        else:
            self.tamper_label.hide()

    # --- the item being read -------------------------------------------------------------------------------
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = self.model.item_at(current)
        if item is None:
            self._show(None, current)
            return
        parent = current.parent()
        if current.row() >= self.model.rowCount(parent) - 20 and self.model.can_load_more(parent):
            self.model.load_more(parent)  # ↓ through a long group: the next page comes in before its end
        try:
            detail = review_service.detail(self.ctx, item.kind, item.id)
        except (ValidationError, ServiceError) as exc:
            self._show(None, current)
            self._say(str(exc), ERROR_STYLE)
            return
        self.model.mark_read(item)
        self._show(detail)

    def _show(self, detail: ReviewDetail | None, index: QModelIndex | None = None) -> None:
        """Show ``detail`` (None: the group or clerk at ``index``, or nothing) with the buttons and comment
        box its actions allow in the current mode."""
        self.current = detail
        self.message.clear()
        self.comment.setStyleSheet("")
        actions = detail.actions if detail is not None else frozenset()
        mode = self.current_mode()
        self._show_buttons(detail, actions, mode)
        if detail is None:
            self._show_group(index, mode)
            return
        item = detail.item
        self._show_comment(item, actions)
        self._show_head(item)
        self._show_warning(item)
        self.view.setHtml(self._item_html(detail))

    def _show_buttons(self, detail: ReviewDetail | None, actions: frozenset[str], mode: str) -> None:
        """签字 / 退回 / 撤回签字 / 修改 / 重新提交: shown in the modes they belong to, enabled as ``actions``
        allow; why this level cannot sign is the 签字 button's tooltip (and the message line's)."""
        self.sign_button.setVisible(self.signer and mode == PENDING_MODE)
        self.return_button.setVisible(self.signer and mode == PENDING_MODE)
        self.reopen_button.setVisible(can(self.ctx.user.role, Permission.REOPEN) and mode == SIGNED_MODE)
        self.sign_button.setEnabled("sign" in actions)
        blocked = detail.sign_blocked if detail is not None else ""
        self.sign_button.setToolTip(blocked)  # 核决权限: why this level cannot sign the complaint file
        if blocked and self.signer:
            self._say(blocked)
        self.return_button.setEnabled("return" in actions)
        self.reopen_button.setEnabled("reopen" in actions)
        self.edit_button.setEnabled("edit" in actions)
        self.resubmit_button.setEnabled("resubmit" in actions)
        self.edit_button.setVisible(mode in (MINE_MODE, RETURNED_MODE))
        self.resubmit_button.setVisible(mode in (MINE_MODE, RETURNED_MODE))

    def _show_group(self, index: QModelIndex | None, mode: str) -> None:
        """No item: the group's or clerk's summary at ``index``, the comment box empty and disabled."""
        self.comment_label.setText(
            self.tr("说明")
            if mode in (MINE_MODE, RETURNED_MODE)
            else self.tr("撤回原因")
            if mode == SIGNED_MODE
            else self.tr("指导意见")
        )
        self.head.setText(self._group_text(index))
        self.warning.hide()
        self.view.setHtml(self._group_html(index))
        self.comment.clear()
        self.comment.setEnabled(False)

    def _show_comment(self, item: ReviewItem, actions: frozenset[str]) -> None:
        """The comment box as the item's actions need it: 撤回原因, 说明 for a resubmission or 指导意见."""
        self.comment.setEnabled(bool(actions & {"sign", "return", "reopen", "resubmit"}))
        if "reopen" in actions:
            self.comment_label.setText(self.tr("撤回原因"))
            self.comment.setPlaceholderText(self.tr("撤回签字须写明原因，例如：客户来电补充了意见"))
            self.comment.clear()
        elif "resubmit" in actions:
            self.comment_label.setText(self.tr("说明"))
            self.comment.setPlaceholderText(self.tr("给主管的说明（可空）"))
            self.comment.clear()
        else:
            self.comment_label.setText(self.tr("指导意见"))
            self.comment.setPlaceholderText(
                self.tr("写给回访人的指导意见；退回修改时写明原因。Ctrl+Enter 签字通过")
            )
            self.comment.setPlainText(item.comment if item.status == "待审阅" else "")

    def _show_head(self, item: ReviewItem) -> None:
        """The item's title: kind, number, clerk, status, review deadline and revision."""
        status = item.status
        if item.due is not None:
            due = self.tr("，审阅期限 {0}").format(item.due.isoformat())
            if item.overdue:
                due += self.tr("（已逾期）")
        else:
            due = ""
        revision = self.tr("　第 {0} 次修订").format(item.revision) if item.revision else ""
        self.head.setText(
            self.tr("<b>{0} {1}</b>　{2}<br>状态：{3}{4}{5}").format(
                html.escape(item.kind.value),
                html.escape(item.number),
                html.escape(item.owner),
                html.escape(status),
                html.escape(due),
                html.escape(revision),
            )
        )

    def _show_warning(self, item: ReviewItem) -> None:
        """The warning over a signed form that was changed after signing."""
        if item.integrity is Integrity.TAMPERED:
            self.warning.setText(
                self.tr(
                    "⚠ 签字后被修改：这份表单在签字后被改动过（包括在程序外直接修改数据库），"
                    "内容与签字时不符。请核实，并撤回签字后重新审阅。"
                )
            )
            self.warning.show()
        else:
            self.warning.hide()

    def _group_text(self, index: QModelIndex | None) -> str:
        group = self.model.group_at(index) if index is not None else None
        owner = self.model.owner_at(index) if index is not None else None
        if group is not None:
            return self.tr("<b>{0}</b> 的{1}").format(html.escape(group.owner), html.escape(group.kind.value))
        if owner is not None:
            return self.tr("<b>{0}</b>").format(html.escape(owner[1]))
        return ""

    def _group_html(self, index: QModelIndex | None) -> str:
        group = self.model.group_at(index) if index is not None else None
        owner = self.model.owner_at(index) if index is not None else None
        groups = (group,) if group is not None else owner[2] if owner is not None else ()
        if not groups:
            return self.tr("<p style='color:#8c8c8c'>没有要显示的表单。</p>")
        rows = "".join(
            f"<tr><td>{html.escape(g.kind.value)}</td><td align=right>{g.count}</td>"
            f"<td align=right style='color:#d9363e'>{g.overdue or ''}</td></tr>"
            for g in groups
        )
        return self.tr(
            "<table cellpadding=4><tr><th align=left>表单</th><th>件数</th><th>逾期</th></tr>"
            "{0}</table><p style='color:#8c8c8c'>用 ↓ 键逐份阅读。</p>"
        ).format(rows)

    def _item_html(self, d: ReviewDetail) -> str:
        def cell(text: str) -> str:
            return html.escape(text).replace("\n", "<br>") or "<span style='color:#bfbfbf'>—</span>"

        rows = "".join(
            f"<tr><th align=left valign=top width=96 style='background:#fafafa'>"
            f"{html.escape(label)}</th><td>{cell(value)}</td></tr>"
            for label, value in d.fields
        )
        item = d.item
        sign = ""
        if item.signer:
            stamp = f"{item.signed_at:%Y-%m-%d %H:%M}" if item.signed_at else ""
            sign = self.tr("<p><b>主管审阅</b>：{0}（{1}）{2} 签字　指导意见：{3}</p>").format(
                html.escape(item.signer), html.escape(d.signer_role), stamp, cell(item.comment)
            )
        elif item.status == "退回" and item.comment:
            when = f"{item.returned_at:%Y-%m-%d %H:%M}" if item.returned_at else ""
            by = self.tr("（{0} {1}）").format(html.escape(item.returned_by), when)
            sign = self.tr("<p style='color:#d46b08'><b>退回原因</b>{0}：{1}</p>").format(
                by, cell(item.comment)
            )
        trail = "".join(
            f"<tr><td>{r.at:%m-%d %H:%M}</td><td>{html.escape(r.user)}</td>"
            f"<td>{html.escape(r.action)}</td><td>{cell(self._short(r.note or r.new))}</td></tr>"
            for r in d.history
        )
        return (
            "<table border=1 cellspacing=0 cellpadding=4 width='100%' style='border-color:#d9d9d9'>"
            f"{rows}</table>"
            f"{sign}"
            + self.tr("<p><b>审阅与修改记录</b></p>")
            + f"<table cellpadding=2 style='color:#595959'>{trail}</table>"
        )

    @staticmethod
    def _short(text: str, limit: int = 90) -> str:
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def _say(self, text: str, style: str = "") -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text)

    # --- actions -------------------------------------------------------------------------------------------
    def _next_key(self, key: Key) -> Key | None:
        keys = self.model.keys()
        if key not in keys:
            return None
        i = keys.index(key)
        rest = keys[i + 1 :] or keys[:i][-1:]
        return rest[0] if rest else None

    def _after_action(self, text: str, acted: Key, *, local: bool = False) -> None:
        """After sign / return: take the item out of the queue in place (no re-query of a long queue) and show
        the next one; otherwise (or when its group is now empty) read the queue again."""
        nxt = self._next_key(acted)
        self.current = None
        index = self.model.remove(acted) if local and self.current_mode() == PENDING_MODE else QModelIndex()
        if index.isValid():
            self.tree.setCurrentIndex(index)
            if self.current is None or key_of(self.current.item) != key_of(self.model.item_at(index)):
                self._current_changed(index, QModelIndex())
            self.summary.setText(self._pending_text(*self.model.totals()))
        else:
            self.reload(keep=nxt)
        self._say(text, NOTE_STYLE)
        self.tree.setFocus()

    def _fail(self, exc: Exception) -> None:
        self._say(str(exc), ERROR_STYLE)
        if isinstance(exc, ValidationError) and set(exc.fields) & {"reason", "comment", "note"}:
            self.comment.setStyleSheet("border: 1px solid #d9363e; background: #fff1f0;")
            self.comment.setFocus()

    def _with_key(self, what: str, then: Any) -> None:
        """Run ``then(key)`` with the signing key: asks for the password the first time (签字确认), keeps the
        unlocked key in memory for the rest of this session (one Argon2id derivation, not one per item)."""
        if self._key is not None:
            then(self._key)
            return
        from huifang_desktop.ui.review.dialogs import PasswordDialog

        dialog = self.password_dialog = PasswordDialog(self, what, ctx=self.ctx)

        def accepted() -> None:
            self.password_dialog = None
            try:
                self._key = signing.unlock(self.ctx, dialog.password.text())
            except (ValidationError, ServiceError) as exc:
                self._fail(exc)
                return
            finally:
                dialog.deleteLater()
            then(self._key)

        def rejected() -> None:
            self.password_dialog = None
            dialog.deleteLater()
            self._say(self.tr("未签字（没有输入密码）。"), NOTE_STYLE)

        dialog.accepted.connect(accepted)
        dialog.rejected.connect(rejected)
        dialog.open()

    def sign_current(self) -> None:
        d = self.current
        if d is None or "sign" not in d.actions:
            return
        comment = self.comment.toPlainText()

        def sign(key: signing.UnlockedKey) -> None:
            try:
                review_service.sign(self.ctx, d.item.kind, d.item.id, comment, d.item.version, key=key)
            except (ValidationError, ServiceError) as exc:
                self._fail(exc)
                return
            self._after_action(self.tr("已签字：{0}").format(d.item.number), key_of(d.item), local=True)

        self._with_key(self.tr("签字：{0} {1}").format(d.item.kind.short, d.item.number), sign)

    def return_current(self) -> None:
        d = self.current
        if d is None or "return" not in d.actions:
            return
        try:
            review_service.return_for_rework(
                self.ctx, d.item.kind, d.item.id, self.comment.toPlainText(), d.item.version
            )
        except (ValidationError, ServiceError) as exc:
            self._fail(exc)
            return
        self._after_action(
            self.tr("已退回 {0} 给 {1}").format(d.item.number, d.item.owner), key_of(d.item), local=True
        )

    def reopen_current(self) -> None:
        d = self.current
        if d is None or "reopen" not in d.actions:
            return
        try:
            review_service.reopen(
                self.ctx, d.item.kind, d.item.id, self.comment.toPlainText(), d.item.version
            )
        except (ValidationError, ServiceError) as exc:
            self._fail(exc)
            return
        self._after_action(
            self.tr("已撤回 {0} 的签字，退回 {1} 修改").format(d.item.number, d.item.owner), key_of(d.item)
        )

    def resubmit_current(self) -> None:
        d = self.current
        if d is None or "resubmit" not in d.actions:
            return
        try:
            review_service.resubmit(
                self.ctx, d.item.kind, d.item.id, self.comment.toPlainText(), d.item.version
            )
        except (ValidationError, ServiceError) as exc:
            self._fail(exc)
            return
        self._after_action(self.tr("已重新提交 {0}").format(d.item.number), key_of(d.item))

    def edit_current(self) -> None:
        """Open the item's form to correct it (``open()``, not a blocking ``exec()``)."""
        from huifang_desktop.ui.review.dialogs import (
            HandlingDialog,
            RecordCorrectionDialog,
            ReportCorrectionDialog,
        )

        d = self.current
        if d is None or "edit" not in d.actions:
            return
        item = d.item
        try:
            if item.kind is ReviewKind.RECORD:
                dialog: Any = RecordCorrectionDialog(
                    self.ctx, visit_service.get_record(self.ctx, item.id), item.comment, self
                )
            elif item.kind is ReviewKind.REPORT:
                dialog = ReportCorrectionDialog(
                    self.ctx, review_service.get_report(self.ctx, item.id), item.comment, self
                )
            else:
                detail = complaint_service.get_complaint(self.ctx, item.id)
                dialog = HandlingDialog(self.ctx, detail, item.comment, self)
        except (ValidationError, ServiceError) as exc:
            self._fail(exc)
            return
        self.dialog = dialog
        dialog.accepted.connect(
            lambda: self._after_action(self.tr("已修改并重新提交 {0}").format(item.number), key_of(item))
        )
        dialog.open()

    # --- batch sign-off ------------------------------------------------------------------------------------
    def _check_refused(self, item: ReviewItem) -> None:
        self._say(self.tr("请先打开阅读 {0}，再勾选批量签字。").format(item.number), ERROR_STYLE)

    def _checks_changed(self, count: int) -> None:
        self.batch_button.setText(
            self.tr("批量签字 {0} 份 (Ctrl+B)").format(count) if count else self.tr("批量签字 (Ctrl+B)")
        )
        self.batch_button.setEnabled(count > 0)

    def batch_sign(self) -> None:
        if self.current_mode() != PENDING_MODE or not self.model.checked:
            return
        items = self.model.items(self.model.checked)
        unread = [i.number for i in items if key_of(i) not in self.model.read]
        if unread:  # the model refuses to tick unread items; this guards anything ticked another way
            self._say(self.tr("以下记录尚未阅读，不能批量签字：{0}").format("、".join(unread)), ERROR_STYLE)
            return
        comment = self.comment.toPlainText()
        self._with_key(
            self.tr("批量签字 {0} 份").format(len(items)),
            lambda key: self._batch_sign_with(items, comment, key),
        )

    def _batch_sign_with(self, items: list[ReviewItem], comment: str, key: signing.UnlockedKey) -> None:
        try:
            signed = review_service.batch_sign(self.ctx, [i.ref for i in items], comment, key=key)
        except (ValidationError, ServiceError) as exc:
            self._fail(exc)
            return
        self.model.checked.clear()
        keep = key_of(self.current.item) if self.current is not None else None
        self.current = None
        self.reload(keep=keep)
        self._checks_changed(0)
        self._say(self.tr("已批量签字 {0} 份").format(len(signed)), NOTE_STYLE)
        self.tree.setFocus()


class ReviewTab(QWidget):
    """审阅: the review page and, for supervisors, managers and admins, the 操作日志 page."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from huifang_desktop.ui.review.audit_page import AuditLogPage

        self.ctx = ctx
        self.review_page = ReviewPage(ctx)
        self.audit_page: AuditLogPage | None = None
        self.pages = QTabWidget()
        self.pages.setObjectName("reviewPages")
        self.pages.addTab(
            self.review_page, self.tr("审阅签字") if self.review_page.signer else self.tr("我的退回")
        )
        if can(ctx.user.role, Permission.VIEW_AUDIT):
            self.audit_page = AuditLogPage(ctx)
            self.pages.addTab(self.audit_page, self.tr("操作日志"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

    def show_audit(self) -> bool:
        """Bring the 操作日志 page forward (工具 → 操作日志…); False when the user may not see it."""
        if self.audit_page is None:
            return False
        self.pages.setCurrentWidget(self.audit_page)
        return True

    def reminder_text(self) -> str:
        """For the start-up reminder: what waits for my review, and my items returned to me."""
        from huifang_desktop.ui.reminders import review_text

        try:
            counts = review_service.pending_counts(self.ctx)
        except ServiceError:
            return ""
        return review_text(counts, self.review_page.signer)


__all__ = ["ReviewPage", "ReviewTab"]
