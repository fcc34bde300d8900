"""操作日志: who did what, when, to which record, old and new values; filters, pages, export to Excel. The list
shows readable values only; a row's stored JSON, its chain position and hashes are in its detail dialog."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QThread
from PySide6.QtGui import QFontDatabase, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import review as review_service
from huifang_desktop.services import users as user_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.ui.common.export_target import ask_export_path, say_exported
from huifang_desktop.ui.common.forms import OptionalDateEdit
from huifang_desktop.ui.common.tables import record_table
from huifang_desktop.ui.common.worker import start_worker
from huifang_desktop.ui.review.models import AuditTableModel


class AuditLogPage(QWidget):
    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page = 0
        self.pages = 1
        self.export_thread: QThread | None = None
        self.verify_thread: QThread | None = None
        self.detail_dialog: AuditEntryDialog | None = None
        self._build_filters()
        self._build_table()
        self._lay_out()
        self._connect()
        self._load_users()
        self._loaded = False  # the actions and the first page are read when the page is first shown

    # --- layout: the widgets, named and placed -------------------------------------------------------------
    def _build_filters(self) -> None:
        """The filter bar, the buttons and the pager's labels (the users are added by _load_users)."""
        self.user = QComboBox()
        self.user.setObjectName("auditUser")
        self.user.addItem(self.tr("全部用户"), None)
        self.entity = QComboBox()
        self.entity.addItem(self.tr("全部对象"), "")
        for key, label in review_service.ENTITY_LABELS.items():
            self.entity.addItem(label, key)
        self.text = QLineEdit()
        self.text.setObjectName("auditText")
        self.text.setPlaceholderText(self.tr("编号或名称，如 HF20261124-003"))
        self.text.setClearButtonEnabled(True)
        self.action = QComboBox()
        self.action.setObjectName("auditAction")
        self.action.setEditable(True)
        self.action.setMinimumWidth(120)
        self.start = OptionalDateEdit()
        self.end = OptionalDateEdit()
        self.search_button = QPushButton(self.tr("查询(&Q)"))
        self.export_button = QPushButton(self.tr("导出 Excel(&E)…"))
        self.verify_button = QPushButton(self.tr("全面校验(&V)"))
        self.verify_button.setObjectName("auditVerify")
        self.verify_button.setToolTip(
            self.tr(
                "校验整个审计链、全部签字和用户（与 huifang-desktop verify 相同，"
                "备份中的审计链记录由命令校验）"
            )
        )
        self.prev_button = QPushButton("◀")
        self.next_button = QPushButton("▶")
        self.page_label = QLabel()
        self.status = QLabel()
        self.status.setObjectName("auditStatus")
        self.status.setWordWrap(True)

    def _build_table(self) -> None:
        self.model = AuditTableModel(self)
        self.table = record_table(self.model, "auditTable", multi=True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((140, 64, 90, 250, 260, 200, 260)):
            self.table.setColumnWidth(col, width)
        self.table.setToolTip(self.tr("双击一行查看详情（原始数据、审计链位置和校验值）"))
        self.detail_button = QPushButton(self.tr("详情(&D)…"))
        self.detail_button.setObjectName("auditDetail")

    def _lay_out(self) -> None:
        filters = QHBoxLayout()
        fields = (
            (None, self.user),
            (None, self.entity),
            (None, self.text),
            (self.tr("操作"), self.action),
            (self.tr("从"), self.start),
            (self.tr("到"), self.end),
        )
        for caption, widget in fields:
            if caption:
                filters.addWidget(QLabel(caption))
            filters.addWidget(widget)
        filters.addWidget(self.search_button)
        filters.addStretch(1)
        filters.addWidget(self.detail_button)
        filters.addWidget(self.verify_button)
        filters.addWidget(self.export_button)
        pager = QHBoxLayout()
        pager.addWidget(self.status, 1)
        pager.addWidget(self.prev_button)
        pager.addWidget(self.page_label)
        pager.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(pager)

    # --- behaviour ---------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.search_button.clicked.connect(self.search)
        self.text.returnPressed.connect(self.search)
        action_line = self.action.lineEdit()
        assert action_line is not None  # the box is editable (above)
        action_line.returnPressed.connect(self.search)
        self.user.activated.connect(lambda _i: self.search())
        self.entity.activated.connect(lambda _i: self.search())
        self.prev_button.clicked.connect(lambda: self.go(self.page - 1))
        self.next_button.clicked.connect(lambda: self.go(self.page + 1))
        self.export_button.clicked.connect(self.ask_export)
        self.verify_button.clicked.connect(self.verify)
        self.table.doubleClicked.connect(self.show_detail)
        self.detail_button.clicked.connect(lambda: self.show_detail(self.table.currentIndex()))

    def _load_users(self) -> None:
        """Every user who ever was (the inactive too: their entries stay in the log)."""
        for u in user_service.list_users(self.ctx, include_inactive=True):
            self.user.addItem(f"{u.display_name}（{u.username}）", u.id)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded:
            self.reload_actions()
            self.search()

    def reload_actions(self) -> None:
        current = self.action.currentText()
        self.action.clear()
        self.action.addItem("")
        try:
            self.action.addItems(review_service.audit_actions(self.ctx))
        except ServiceError as exc:
            self.status.setText(str(exc))
        self.action.setCurrentText(current)

    def current_filter(self) -> review_service.AuditFilter:
        return review_service.AuditFilter(
            user_id=self.user.currentData(),
            entity=self.entity.currentData() or "",
            text=self.text.text(),
            action=self.action.currentText().strip(),
            start=self.start.day(),
            end=self.end.day(),
        )

    def search(self) -> None:
        self.go(0)

    def go(self, page: int) -> None:
        self._loaded = True
        try:
            page = max(0, min(page, self.pages - 1))
            result = review_service.audit_log(self.ctx, self.current_filter(), page)
        except (ValidationError, ServiceError) as exc:
            self.status.setText(str(exc))
            self.status.setStyleSheet("color: #d9363e;")
            return
        self.status.setStyleSheet("")
        self.page, self.pages = result.page, result.pages
        self.model.set_rows(list(result.rows))
        self.page_label.setText(self.tr("第 {0}/{1} 页").format(self.page + 1, self.pages))
        self.status.setText(self.tr("共 {0} 条操作记录").format(result.total))
        self.prev_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page + 1 < self.pages)

    def show_detail(self, index: QModelIndex) -> None:
        """The row's detail: readable values, the stored JSON pretty-printed, its chain position and hashes."""
        row = self.model.row_at(index) if index.isValid() else None
        if row is None:
            self.status.setText(self.tr("请先选择一条操作记录"))
            return
        self.detail_dialog = AuditEntryDialog(row, self)
        self.detail_dialog.open()

    # --- the full tamper check ------------------------------------------------------------------------
    def verify(self) -> None:
        """The whole chain, every signature and the users, in the background (half a minute on a large office)."""
        from huifang_desktop.services import tamper

        self.verify_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText(self.tr("正在全面校验（操作日志、签字、用户）…"))
        self.verify_thread = start_worker(
            self, lambda: tamper.verify_all(self.ctx), self._verified, self._export_failed
        )

    def _verified(self, report: object) -> None:
        self.verify_button.setEnabled(True)
        findings = list(getattr(report, "findings", []))
        summary = report.summary() if hasattr(report, "summary") else ""
        self.status.setStyleSheet("color: #d9363e;" if findings else "")
        shown = findings[:10] + ([self.tr("……共 {0} 处").format(len(findings))] if len(findings) > 10 else [])
        self.status.setText("\n".join([*shown, summary + "。"]))
        if not findings:
            window = self.window()
            if hasattr(window, "show_chain_break"):
                window.show_chain_break("")

    # --- export -----------------------------------------------------------------------------------------
    def ask_export(self) -> None:
        name = ask_export_path(
            self, self.tr("导出操作日志"), "操作日志.xlsx", ".xlsx", self.tr("Excel 工作簿 (*.xlsx)")
        )
        if name:
            self.export_to(Path(name))

    def export_to(self, path: Path) -> None:
        """Export the filtered log in the background; the page says when it is done."""
        f = self.current_filter()
        self.export_button.setEnabled(False)
        self.status.setText(self.tr("正在导出到 {0}…").format(path))
        self.export_thread = start_worker(
            self,
            lambda: review_service.export_audit(self.ctx, path, f),
            lambda n: self._exported(path, n),
            self._export_failed,
        )

    def _exported(self, path: Path, count: object) -> None:
        self.export_button.setEnabled(True)
        self.status.setStyleSheet("")
        say_exported(self.status, self.tr("已导出 {0} 条到 {1}").format(count, path), path)

    def _export_failed(self, exc: Exception) -> None:
        self.export_button.setEnabled(True)
        self.verify_button.setEnabled(True)
        self.status.setStyleSheet("color: #d9363e;")
        self.status.setText(str(exc))


def _pretty(raw: str) -> str:
    if not raw:
        return ""
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        return raw


class AuditEntryDialog(QDialog):
    """One 操作日志 row in full: what the list shows, then the stored original and new values as JSON, the
    row's position in the audit chain and its hashes (for checking by hand against ``verify``)."""

    def __init__(self, row: review_service.AuditRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditEntryDialog")
        self.setWindowTitle(self.tr("操作记录详情"))
        self.resize(760, 620)
        form = QFormLayout()
        user = row.user if row.user == row.username else f"{row.user}（{row.username}）"
        fields = (
            (self.tr("时间"), f"{row.at:%Y-%m-%d %H:%M:%S}"),
            (self.tr("用户"), user),
            (self.tr("操作"), row.action),
            (self.tr("对象"), row.object_text),
            (self.tr("变更"), row.change),
            (self.tr("原值"), row.old),
            (self.tr("新值"), row.new),
            (self.tr("备注"), row.note),
            (self.tr("审计链序号"), "" if row.seq is None else str(row.seq)),
            (self.tr("上一行校验值"), row.prev_hash),
            (self.tr("本行校验值"), row.row_hash),
        )
        self.labels: dict[str, QLabel] = {}
        for title, value in fields:
            label = QLabel(value or "—")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[title] = label
            form.addRow(title + "：", label)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.raw = QPlainTextEdit()
        self.raw.setObjectName("auditRaw")
        self.raw.setReadOnly(True)
        self.raw.setFont(mono)
        parts = []
        if row.raw_old:
            parts.append(self.tr("原值（原始数据）：") + "\n" + _pretty(row.raw_old))
        if row.raw_new:
            parts.append(self.tr("新值（原始数据）：") + "\n" + _pretty(row.raw_new))
        self.raw.setPlainText("\n\n".join(parts) or self.tr("（无）"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("关闭"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("原始数据")))
        layout.addWidget(self.raw, 1)
        layout.addWidget(buttons)


__all__ = ["AuditEntryDialog", "AuditLogPage"]
